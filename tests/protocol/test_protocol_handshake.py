"""Real TLS 1.3 handshakes of the sans-IO client against OpenSSL (Python's ``ssl`` server)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from proto_helpers import Client, EchoServer, choose

from tlsengine.errors import (
    CertificateVerificationError,
    ClientCertificateRejected,
    HandshakeError,
)
from tlsengine.protocol import (
    ClientConfig,
    ConnectionClosed,
    KeyUpdated,
    PostHandshakeAuthCompleted,
    SessionTicketReceived,
    State,
)
from tlsengine.protocol.keyschedule import CIPHER_SUITES

pytestmark = pytest.mark.interop


@pytest.fixture(scope="session")
def identities(root_ca):
    """One client identity per key type the issue names, made once per session."""
    return {k: root_ca.identity(f"client {k}", k) for k in ("p256", "p384", "rsa2048", "ed25519")}


def _types(conn, direction: str) -> list[str]:
    return [t["type"] for t in conn.transcript if t["direction"] == direction]


@pytest.mark.parametrize("key", ["p256", "p384", "rsa2048", "ed25519"])
def test_cert_required_server_accepts_our_identity(tmp_path: Path, root_ca, identities, key):
    identity = identities[key]
    with EchoServer(tmp_path, root_ca, verify_mode=ssl.CERT_REQUIRED, client_cas=[root_ca]) as srv:
        config = ClientConfig(
            server_name="localhost", identities=[identity], select=choose(identity), trace=True
        )
        with Client(srv.address, config) as client:
            done = client.handshake()
            assert done.client_certificate_sent
            client.send(b"ping")
            assert client.read_exactly(4) == b"ping"
            assert client.conn.client_identity is identity
            assert client.conn.certificate_request is not None
            assert _types(client.conn, "out")[-3:] == [
                "Certificate",
                "CertificateVerify",
                "Finished",
            ]
        seen = srv.wait()
    assert seen.subject == f"commonName=client {key}"
    assert "CERTIFICATE" in seen.messages and "CERTIFICATE_VERIFY" in seen.messages


def test_no_certificate_request_means_no_certificate_sent(tmp_path, root_ca, identities):
    """An identity goes out only when the server asks; the server sees no Certificate."""
    identity = identities["p256"]
    with EchoServer(tmp_path, root_ca, verify_mode=ssl.CERT_NONE) as srv:
        config = ClientConfig(
            server_name="localhost", identities=[identity], select=choose(identity), trace=True
        )
        with Client(srv.address, config) as client:
            assert not client.handshake().client_certificate_sent
            client.send(b"x")
            assert client.read_exactly(1) == b"x"
            assert client.conn.certificate_request is None
            assert client.conn.client_identity is None
            assert "Certificate" not in _types(client.conn, "out")
            assert "CertificateRequest" not in _types(client.conn, "in")
        seen = srv.wait()
    assert "CERTIFICATE" not in seen.messages
    assert seen.messages[-1] == "FINISHED"


def test_cert_optional_server_gets_empty_certificate_when_nothing_chosen(tmp_path, root_ca):
    with EchoServer(tmp_path, root_ca, verify_mode=ssl.CERT_OPTIONAL, client_cas=[root_ca]) as srv:
        config = ClientConfig(server_name="localhost", select=choose(None), trace=True)
        with Client(srv.address, config) as client:
            assert not client.handshake().client_certificate_sent
            client.send(b"ok")
            assert client.read_exactly(2) == b"ok"
            sent = [t for t in client.conn.transcript if t["type"] == "Certificate"]
            assert sent[-1]["direction"] == "out" and sent[-1]["empty"]
        seen = srv.wait()
    assert seen.subject is None
    assert "CERTIFICATE" in seen.messages and "CERTIFICATE_VERIFY" not in seen.messages


def test_cert_required_without_fitting_identity_raises_rejected(tmp_path, root_ca):
    """The verdict arrives after our Finished, on the first read: ClientCertificateRejected."""
    with EchoServer(tmp_path, root_ca, verify_mode=ssl.CERT_REQUIRED, client_cas=[root_ca]) as srv:
        config = ClientConfig(server_name="localhost", select=choose(None))
        with Client(srv.address, config) as client:
            client.handshake()
            with pytest.raises(ClientCertificateRejected) as info:
                while True:
                    client.pump()
            assert info.value.alert == "certificate_required"
            assert info.value.selection is client.conn.selection is not None
            assert client.conn.state is State.CLOSED


def test_identity_from_untrusted_ca_is_rejected_with_unknown_ca(tmp_path, root_ca, other_root_ca):
    stranger = other_root_ca.identity("stranger", "p256")
    with EchoServer(tmp_path, root_ca, verify_mode=ssl.CERT_REQUIRED, client_cas=[root_ca]) as srv:
        config = ClientConfig(server_name="localhost", select=choose(stranger))
        with Client(srv.address, config) as client:
            client.handshake()
            with pytest.raises(ClientCertificateRejected) as info:
                while True:
                    client.pump()
            assert info.value.alert == "unknown_ca"
            assert client.conn.client_identity is stranger


@pytest.mark.parametrize("suite", sorted(CIPHER_SUITES))
def test_every_cipher_suite(tmp_path, root_ca, suite):
    with EchoServer(tmp_path, root_ca) as srv:
        with Client(srv.address, ClientConfig(cipher_suites=(suite,))) as client:
            assert client.handshake().cipher == suite
            payload = bytes(range(256)) * 600  # several full records both ways
            client.send(payload)
            assert client.read_exactly(len(payload)) == payload


@pytest.mark.parametrize("group", ["x25519", "secp256r1", "secp384r1"])
def test_every_classic_group_as_first_key_share(tmp_path, root_ca, group):
    with EchoServer(tmp_path, root_ca) as srv:
        config = ClientConfig(key_share_groups=(group,), trace=True)
        with Client(srv.address, config) as client:
            client.handshake()
            hello = next(t for t in client.conn.transcript if t["type"] == "ServerHello")
            assert hello["group"] == group
            assert "HelloRetryRequest" not in _types(client.conn, "in")


def test_hello_retry_request_to_the_servers_group(tmp_path, root_ca):
    with EchoServer(tmp_path, root_ca, curve="secp384r1") as srv:
        with Client(srv.address, ClientConfig(trace=True)) as client:
            client.handshake()
            client.send(b"after hrr")
            assert client.read_exactly(9) == b"after hrr"
            types = [(t["direction"], t["type"]) for t in client.conn.transcript]
            assert types[:4] == [
                ("out", "ClientHello"),
                ("in", "HelloRetryRequest"),
                ("out", "ClientHello"),
                ("in", "ServerHello"),
            ]
            assert client.conn.transcript[3]["group"] == "secp384r1"


def test_alpn_is_negotiated(tmp_path, root_ca):
    with EchoServer(tmp_path, root_ca, alpn=["h2", "http/1.1"]) as srv:
        with Client(srv.address, ClientConfig(alpn_protocols=("http/1.1",))) as client:
            assert client.handshake().alpn_protocol == "http/1.1"
            assert client.conn.alpn_protocol == "http/1.1"


def test_server_chain_is_checked_only_after_its_certificate_verify(tmp_path, root_ca, identities):
    """verify_chain sees the DER chain once the CV signature held, before we send anything."""
    calls = []

    def verify_chain(chain: list[bytes]) -> None:
        calls.append((client.conn.state, [t["type"] for t in client.conn.transcript], chain))
        raise CertificateVerificationError("not trusted here", rule="unknown-issuer")

    identity = identities["p256"]
    with EchoServer(tmp_path, root_ca, verify_mode=ssl.CERT_REQUIRED, client_cas=[root_ca]) as srv:
        config = ClientConfig(
            identities=[identity], select=choose(identity), verify_chain=verify_chain, trace=True
        )
        client = Client(srv.address, config)
        with pytest.raises(CertificateVerificationError):
            client.handshake()
        client.sock.close()
        seen = srv.wait()
    state, seen_types, chain = calls[0]
    assert state is State.WAIT_CV and seen_types[-1] == "CertificateVerify"
    assert chain[0] == srv.server_certificate.public_bytes(Encoding.DER)
    assert "Certificate" not in _types(client.conn, "out")
    assert _types(client.conn, "out")[-1] == "Alert"
    assert client.conn.transcript[-1]["description"] == "unknown_ca"
    assert "CERTIFICATE" not in seen.messages
    assert seen.error and "UNKNOWN_CA" in seen.error.upper()


def test_post_handshake_client_authentication(tmp_path, root_ca, identities):
    identity = identities["p384"]
    with EchoServer(
        tmp_path,
        root_ca,
        verify_mode=ssl.CERT_REQUIRED,
        client_cas=[root_ca],
        post_handshake_auth=True,
    ) as srv:
        config = ClientConfig(identities=[identity], select=choose(identity), trace=True)
        with Client(srv.address, config) as client:
            assert not client.handshake().client_certificate_sent
            client.send(b"first")
            while not any(isinstance(e, PostHandshakeAuthCompleted) for e in client.events):
                client.pump()
            assert client.conn.certificate_request.post_handshake
            assert len(client.conn.certificate_request.context) > 0
            client.send(b"second")
            assert client.read_exactly(11) == b"firstsecond"
        seen = srv.wait()
    assert seen.post_handshake_subject == "commonName=client p384"


def test_key_update_both_ways(tmp_path, root_ca):
    """We update with update_requested; OpenSSL answers with its own KeyUpdate."""
    with EchoServer(tmp_path, root_ca) as srv:
        with Client(srv.address, ClientConfig(trace=True)) as client:
            client.handshake()
            client.conn.request_key_update(True)
            client.send(b"after update")
            assert client.read_exactly(12) == b"after update"
            client.send(b"again")
            assert client.read_exactly(5) == b"again"
            updates = [e for e in client.events if isinstance(e, KeyUpdated)]
            assert updates and updates[0].requested is False
            out = [t for t in client.conn.transcript if t["type"] == "KeyUpdate"]
            assert out[0] == {"direction": "out", "type": "KeyUpdate", "update_requested": True}


def test_session_ticket_kept_and_close_notify_seen(tmp_path, root_ca):
    with EchoServer(tmp_path, root_ca) as srv:
        with Client(srv.address, ClientConfig(server_name="localhost")) as client:
            client.handshake()
            client.send(b"close-please")
            while not any(isinstance(e, ConnectionClosed) for e in client.events):
                client.pump()
            assert any(isinstance(e, SessionTicketReceived) for e in client.events)
            ticket = client.conn.session_tickets[0]
            assert ticket.server_name == "localhost" and ticket.ticket
            assert ticket.psk.hex() not in repr(ticket)
            assert client.conn.state is State.CLOSED


def test_bulk_transfer_of_four_mebibytes(tmp_path, root_ca):
    with EchoServer(tmp_path, root_ca) as srv:
        with Client(srv.address, ClientConfig()) as client:
            client.handshake()
            payload = bytes(range(251)) * (4 * 1024 * 1024 // 251)
            for start in range(0, len(payload), 1 << 20):
                client.send(payload[start : start + (1 << 20)])
                chunk = client.read_exactly(min(1 << 20, len(payload) - start))
                assert chunk == payload[start : start + (1 << 20)]


def test_trace_holds_no_bytes_or_secrets(tmp_path, root_ca, identities):
    identity = identities["ed25519"]
    with EchoServer(tmp_path, root_ca, verify_mode=ssl.CERT_REQUIRED, client_cas=[root_ca]) as srv:
        config = ClientConfig(identities=[identity], select=choose(identity), trace=True)
        with Client(srv.address, config) as client:
            client.handshake()
            client.send(b"z")
            client.read_exactly(1)
            secrets = [client.conn._read.secret, client.conn._write.secret]

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                yield from walk(v)
        else:
            yield value

    leaves = list(walk(client.conn.transcript))
    assert not any(isinstance(v, bytes | bytearray | memoryview) for v in leaves)
    text = repr(client.conn.transcript)
    assert not any(s.hex() in text for s in secrets)


def test_buggy_chain_verifier_ends_in_handshake_error_with_internal_error(tmp_path, root_ca):
    def verify_chain(chain: list[bytes]) -> None:
        raise ValueError("verifier bug")

    with EchoServer(tmp_path, root_ca) as srv:
        client = Client(srv.address, ClientConfig(verify_chain=verify_chain, trace=True))
        with pytest.raises(HandshakeError, match="verifier bug"):
            client.handshake()
        client.sock.close()
        srv.wait()
    assert client.conn.transcript[-1]["description"] == "internal_error"
