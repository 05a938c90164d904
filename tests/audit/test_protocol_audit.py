"""Audit of the sans-IO TLS 1.3 client against an in-process server (tests/inproc_server.py).

Each xfail(strict) pins a defect found by reading and attacking the code; the plain tests
are regression guards for the security properties that held.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inproc_server import SIMPLE_REQUEST, Server, certificate_request, encode_handshake, ext, vec

from tlsengine.errors import (
    AlertReceived,
    ClientCertificateRejected,
    HandshakeError,
    TLSError,
)
from tlsengine.protocol import ClientConfig, ClientConnection, ConnectionClosed


def _connected(server_material, identity, *, request=None, **config):
    chain, key = server_material
    conn = ClientConnection(ClientConfig(identities=[identity], trace=True, **config))
    conn.start_handshake()
    server = Server(chain, key, request=request)
    conn.receive_data(server.answer(conn.data_to_send()))
    conn.data_to_send()
    return conn, server


# --------------------------------------------------------------------------- defects


PLAIN_CLOSE_NOTIFY = b"\x15\x03\x03\x00\x02\x01\x00"
PLAIN_CERTIFICATE_REQUIRED = b"\x15\x03\x03\x00\x02\x02\x74"


def test_plaintext_close_notify_after_handshake_is_refused(server_material, client_identity):
    conn, _ = _connected(server_material, client_identity)
    with pytest.raises(TLSError) as info:
        events = conn.receive_data(PLAIN_CLOSE_NOTIFY)
        assert not any(isinstance(e, ConnectionClosed) for e in events), "forged EOF accepted"
    assert getattr(info.value, "send_alert", None) == "unexpected_message"


def test_plaintext_rejection_alert_is_not_a_client_certificate_rejection(
    server_material, client_identity
):
    conn, _ = _connected(server_material, client_identity, request=SIMPLE_REQUEST)
    assert conn.client_identity is client_identity
    with pytest.raises(TLSError) as info:
        conn.receive_data(PLAIN_CERTIFICATE_REQUIRED)
    assert not isinstance(info.value, ClientCertificateRejected)
    assert not isinstance(info.value, AlertReceived)


def test_session_tickets_are_bounded(server_material, client_identity):
    conn, server = _connected(server_material, client_identity)
    ticket = encode_handshake(
        4, (60).to_bytes(4, "big") + bytes(4) + vec(b"n", 1) + vec(b"t" * 32, 2) + vec(b"", 2)
    )
    conn.receive_data(b"".join(server.app(22, ticket) for _ in range(500)))
    assert len(conn.session_tickets) <= 16


def test_unknown_inner_content_type_is_unexpected_message(server_material, client_identity):
    conn, server = _connected(server_material, client_identity)
    with pytest.raises(HandshakeError) as info:
        events = conn.receive_data(server.app(99, b"\x01\x00"))
        assert not any(isinstance(e, ConnectionClosed) for e in events)
    assert info.value.send_alert == "unexpected_message"


def test_nothing_is_written_after_our_close_notify_on_key_update(server_material, client_identity):
    conn, server = _connected(server_material, client_identity)
    conn.send_close_notify()
    conn.data_to_send()
    conn.receive_data(server.key_update(requested=True))
    assert conn.data_to_send() == b""


def test_identity_not_sent_after_our_close_notify(server_material, client_identity):
    conn, server = _connected(server_material, client_identity)
    conn.send_close_notify()
    conn.data_to_send()
    request = certificate_request(ext(13, vec(b"\x04\x03", 2)), context=b"\x01")
    try:
        conn.receive_data(server.app(22, request))
    except TLSError:
        pass
    assert conn.data_to_send() == b""
    assert conn.client_identity is None


@pytest.mark.parametrize("name", ["localhost\x00.evil.example", "ex ample.com", "*.example.com"])
def test_invalid_sni_host_names_are_refused(name):
    conn = ClientConnection(ClientConfig(server_name=name))
    with pytest.raises(HandshakeError):
        conn.start_handshake()
    assert b"evil" not in conn.data_to_send()


# --------------------------------------------------------------------------- regressions


def test_identity_is_not_sent_without_a_certificate_request(server_material, client_identity):
    conn, _ = _connected(server_material, client_identity)
    assert conn.client_identity is None and conn.certificate_request is None
    assert "Certificate" not in [t["type"] for t in conn.transcript if t["direction"] == "out"]


def test_identity_is_not_sent_when_server_certificate_verify_fails(
    server_material, client_identity
):
    chain, key = server_material

    def break_cv(index: int, message: bytes) -> bytes:
        return message[:-1] + bytes([message[-1] ^ 1]) if message[0] == 15 else message

    conn = ClientConnection(ClientConfig(identities=[client_identity], trace=True))
    conn.start_handshake()
    flight = Server(chain, key, request=SIMPLE_REQUEST, mutate=break_cv).answer(conn.data_to_send())
    with pytest.raises(TLSError):
        conn.receive_data(flight)
    assert conn.client_identity is None and conn.selection is None
    assert len(conn.data_to_send()) < 64  # only the alert record


def test_identity_is_not_sent_when_chain_verification_fails(server_material, client_identity):
    from tlsengine.errors import CertificateVerificationError

    def refuse(chain: list[bytes]) -> None:
        raise CertificateVerificationError("untrusted", rule="unknown-issuer")

    chain, key = server_material
    conn = ClientConnection(ClientConfig(identities=[client_identity], verify_chain=refuse))
    conn.start_handshake()
    with pytest.raises(CertificateVerificationError):
        conn.receive_data(Server(chain, key, request=SIMPLE_REQUEST).answer(conn.data_to_send()))
    assert conn.client_identity is None and conn.selection is None


@pytest.mark.parametrize("scheme", ["rsa_pkcs1_sha256", "ecdsa_sha1"])
def test_pkcs1_and_sha1_server_certificate_verify_refused(root_ca, scheme):
    kind = "rsa2048" if scheme.startswith("rsa") else "p256"
    cert, key = root_ca.issue("localhost", kind, client=False, server=True, dns=["localhost"])
    conn = ClientConnection(ClientConfig(signature_schemes=(scheme, "ecdsa_secp256r1_sha256")))
    conn.start_handshake()
    server = Server([cert.public_bytes(Encoding.DER)], key, cv_scheme=scheme)
    with pytest.raises(HandshakeError):
        conn.receive_data(server.answer(conn.data_to_send()))


def test_trace_holds_no_key_material(server_material, client_identity):
    conn, _ = _connected(server_material, client_identity, request=SIMPLE_REQUEST)
    key = client_identity.private_key
    secret = key.private_numbers().private_value.to_bytes(32, "big")
    pkcs8 = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    text = repr(conn.transcript) + repr(conn) + repr(conn.selection)
    for blob in (secret, pkcs8):
        assert blob.hex() not in text and repr(blob) not in text
    assert conn.client_identity is client_identity


MESSAGE_TYPES = [0, 1, 2, 4, 5, 8, 11, 13, 15, 20, 24, 254]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    position=st.integers(0, 5),
    msg_type=st.sampled_from(MESSAGE_TYPES),
    body=st.binary(max_size=24),
)
def test_out_of_turn_messages_end_in_tls_errors(
    server_material, client_identity, position, msg_type, body
):
    """A message of any type inserted before any message of the server's flight."""
    chain, key = server_material

    def insert(index: int, message: bytes) -> bytes:
        return encode_handshake(msg_type, body) + message if index == position else message

    conn = ClientConnection(ClientConfig(identities=[client_identity]))
    conn.start_handshake()
    flight = Server(chain, key, request=SIMPLE_REQUEST, mutate=insert).answer(conn.data_to_send())
    try:
        conn.receive_data(flight)
    except TLSError:
        assert conn.client_identity is None
