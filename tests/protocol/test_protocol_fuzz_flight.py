"""Fuzzing behind the AEAD: damaged EncryptedExtensions, CertificateRequest, Certificate,
CertificateVerify and Finished, built and encrypted by an in-process server flight."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inproc_server import SUITE, certificate_request, ext, server_flight, vec
from proto_helpers import choose, connected_in_process

from tlsengine.errors import DecodeError, HandshakeError, TLSError
from tlsengine.protocol import ClientConfig, ClientConnection, HandshakeComplete


def _request(root_ca) -> bytes:
    sigalgs = ext(13, vec(b"\x04\x03\x08\x04\x0a\x0a", 2))
    cas = ext(47, vec(vec(root_ca.name.public_bytes(), 2), 2))
    oids = ext(
        48,
        vec(
            vec(b"\x55\x1d\x25", 1) + vec(b"\x30\x0a\x06\x08\x2b\x06\x01\x05\x05\x07\x03\x02", 2), 2
        ),
    )  # noqa: E501
    return certificate_request(sigalgs + cas + oids)


def _run(server_material, identity, request=None, mutate=None):
    chain, key = server_material
    conn = ClientConnection(ClientConfig(identities=[identity], select=choose(identity)))
    conn.start_handshake()
    flight = server_flight(conn.data_to_send(), chain, key, request=request, mutate=mutate)
    return conn, conn.receive_data(flight)


def test_in_process_flight_completes_and_we_answer_the_request(
    server_material, client_identity, root_ca
):
    conn, events = _run(server_material, client_identity, request=_request(root_ca))
    assert any(isinstance(e, HandshakeComplete) for e in events)
    info = conn.certificate_request
    assert list(info.certificate_authorities) == [root_ca.name]
    assert info.signature_schemes == ("ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "0x0a0a")
    assert info.oid_filters[0][0] == "2.5.29.37"
    assert conn.client_identity is client_identity
    assert conn.data_to_send()[:6] == b"\x14\x03\x03\x00\x01\x01"  # CCS, then our flight


def test_certificate_request_without_signature_algorithms_is_missing_extension(
    server_material, client_identity
):
    with pytest.raises(HandshakeError, match="signature_algorithms") as info:
        _run(server_material, client_identity, request=certificate_request(b""))
    assert info.value.send_alert == "missing_extension"


def test_certificate_request_repeating_an_extension_is_illegal_parameter(
    server_material, client_identity, root_ca
):
    """RFC 8446 section 4.2: no more than one extension of a type in a block; the error
    names the state it came in, like every other handshake error."""
    sigalgs = ext(13, vec(b"\x04\x03", 2))
    cas = ext(47, vec(vec(root_ca.name.public_bytes(), 2), 2))
    request = certificate_request(sigalgs + cas + cas)
    with pytest.raises(HandshakeError, match="repeats extension 47") as info:
        _run(server_material, client_identity, request=request)
    assert info.value.send_alert == "illegal_parameter"
    assert info.value.state == "WAIT_CERT_CR"


def test_malformed_ca_name_is_decode_error(server_material, client_identity):
    sigalgs = ext(13, vec(b"\x04\x03", 2))
    bad = ext(47, vec(vec(b"\x30\x05\x31\x03\x30", 2), 2))
    with pytest.raises(DecodeError):
        _run(server_material, client_identity, request=certificate_request(sigalgs + bad))


def test_ca_name_with_unknown_string_tag_is_decode_error(server_material, client_identity):
    """Found by fuzzing: a DirectoryString tag 0 made cryptography raise KeyError.

    The selection layer now reports it as a DecodeError itself, which the connection answers
    with a decode_error alert (the generic DecodeError mapping in ClientConnection._fail)."""
    sigalgs = ext(13, vec(b"\x04\x03", 2))
    name = bytes.fromhex("300d310b3009060355040300024142")
    with pytest.raises(DecodeError) as info:
        _run(
            server_material,
            client_identity,
            request=certificate_request(sigalgs + ext(47, vec(vec(name, 2), 2))),
        )  # noqa: E501
    assert "X.501 Name" in str(info.value)


def test_certificate_verify_over_a_different_transcript_fails(server_material, client_identity):
    """4.4.3: a signature that does not verify is decrypt_error (and nothing of ours goes out)."""

    def mutate(index: int, message: bytes) -> bytes:
        if message[0] == 15:
            return message[:-1] + bytes((message[-1] ^ 1,))
        return message

    chain, key = server_material
    conn = ClientConnection(
        ClientConfig(identities=[client_identity], select=choose(client_identity))
    )
    conn.start_handshake()
    flight = server_flight(conn.data_to_send(), chain, key, mutate=mutate)
    with pytest.raises(HandshakeError, match="CertificateVerify") as info:
        conn.receive_data(flight)
    assert info.value.send_alert == "decrypt_error"
    out = conn.data_to_send()
    assert out[:6] == b"\x14\x03\x03\x00\x01\x01" and out[6] == 0x17  # CCS + one alert
    assert len(out) == 6 + 5 + 2 + 1 + 16


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_encrypted_messages_raise_only_tls_errors(
    server_material, client_identity, root_ca, data
):
    target = data.draw(st.integers(0, 4), label="message index")
    edits = data.draw(
        st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4)
    )
    cut = data.draw(st.none() | st.integers(0, 600), label="truncate at")

    def mutate(index: int, message: bytes) -> bytes:
        if index != target:
            return message
        raw = bytearray(message)
        for pos, value in edits:
            raw[pos % len(raw)] = value
        return bytes(raw[:cut] if cut is not None else raw)

    try:
        _run(server_material, client_identity, request=_request(root_ca), mutate=mutate)
    except TLSError:
        pass


def test_post_handshake_messages_from_the_in_process_server(server_material, client_identity):
    from tlsengine.protocol import KeyUpdated, SessionTicketReceived
    from tlsengine.protocol.wire import encode_handshake

    conn, server = connected_in_process(server_material, client_identity)
    ticket = encode_handshake(
        4, (3600).to_bytes(4, "big") + bytes(4) + vec(b"n", 1) + vec(b"T", 2) + vec(b"", 2)
    )  # noqa: E501
    events = conn.receive_data(server.seal(22, ticket) + server.seal(22, b"\x18\x00\x00\x01\x01"))
    assert isinstance(events[0], SessionTicketReceived) and events[0].ticket == b"T"
    assert events[1] == KeyUpdated(requested=True)
    assert conn.data_to_send()[:1] == b"\x17"  # our KeyUpdate answer, protected
    too_long = encode_handshake(
        4, (8 * 86400).to_bytes(4, "big") + bytes(4) + vec(b"", 1) + vec(b"T", 2) + vec(b"", 2)
    )  # noqa: E501
    from tlsengine.protocol.keyschedule import next_traffic_secret
    from tlsengine.protocol.record import RecordProtection

    updated = RecordProtection(SUITE, next_traffic_secret(SUITE.hash_name, server.secret))
    with pytest.raises(HandshakeError, match="7 days"):
        conn.receive_data(updated.seal(22, too_long))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg_type=st.sampled_from([4, 13, 24, 11, 20, 8]), body=st.binary(max_size=300))
def test_garbage_post_handshake_messages_raise_only_tls_errors(
    server_material, client_identity, msg_type, body
):
    from tlsengine.protocol.wire import encode_handshake

    conn, server = connected_in_process(server_material, client_identity)
    try:
        conn.receive_data(server.seal(22, encode_handshake(msg_type, body)))
    except TLSError:
        pass


def test_send_data_uses_full_records_of_at_most_2_14_bytes(server_material, client_identity):
    conn, _ = connected_in_process(server_material, client_identity)
    conn.send_data(bytes(40000))
    assert _record_sizes(conn.data_to_send()) == [16384 + 17, 16384 + 17, 40000 - 32768 + 17]


def test_peer_close_notify_ends_reading_but_we_may_still_send(server_material, client_identity):
    from tlsengine.protocol import ConnectionClosed, State

    conn, server = connected_in_process(server_material, client_identity)
    assert conn.receive_data(server.seal(21, b"\x01\x00")) == [ConnectionClosed()]
    assert conn.state is State.CLOSED
    assert conn.receive_data(b"ignored after close") == []
    conn.send_data(b"last words")
    conn.send_close_notify()
    assert _record_sizes(conn.data_to_send()) == [10 + 17, 2 + 17]


def _record_sizes(out: bytes) -> list[int]:
    """Lengths of the protected records in ``out`` (all must be application_data framed)."""
    sizes = []
    while out:
        assert out[:3] == b"\x17\x03\x03"
        length = int.from_bytes(out[3:5], "big")
        sizes.append(length)
        out = out[5 + length :]
    return sizes
