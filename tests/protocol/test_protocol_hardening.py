"""Regression tests for the audit fixes: unprotected records after the key change, record
content types, writes after our close_notify, bounded tickets and CertificateRequests, SNI
host name checks and ``server_name`` given as bytes."""

from __future__ import annotations

import pickle

import pytest
from inproc_server import SUITE, certificate_request, ext, server_flight, vec
from proto_helpers import connected_in_process
from tlslite.messages import ClientHello
from tlslite.utils.codec import Parser

from tlsengine.errors import HandshakeError, TLSError
from tlsengine.protocol import (
    ClientConfig,
    ClientConnection,
    DataReceived,
    PostHandshakeAuthCompleted,
)
from tlsengine.protocol.keyschedule import next_traffic_secret
from tlsengine.protocol.record import RecordProtection
from tlsengine.protocol.tls13 import (
    MAX_POST_HANDSHAKE_REQUESTS,
    MAX_SESSION_TICKETS,
    SessionTicket,
)
from tlsengine.protocol.wire import encode_handshake

CCS = b"\x14\x03\x03\x00\x01\x01"
REQUEST_BODY = ext(13, vec(b"\x04\x03", 2))  # signature_algorithms: ecdsa_secp256r1_sha256


def _first_record(records: bytes) -> bytes:
    return records[: 5 + int.from_bytes(records[3:5], "big")]


def _sni(server_name) -> bytes:
    conn = ClientConnection(ClientConfig(server_name=server_name))
    conn.start_handshake()
    out = conn.data_to_send()
    return bytes(ClientHello().parse(Parser(bytearray(out[6:]))).server_name)


# --------------------------------------------------------------------------- records


def test_plaintext_alert_after_server_hello_is_unexpected_message(server_material, client_identity):
    """Once the handshake keys are in, a clear-text alert is unauthenticated: refused."""
    chain, key = server_material
    conn = ClientConnection(ClientConfig(identities=[client_identity]))
    conn.start_handshake()
    server_hello = _first_record(server_flight(conn.data_to_send(), chain, key))
    conn.receive_data(server_hello + CCS)
    with pytest.raises(HandshakeError, match="handshake_failure") as info:
        conn.receive_data(b"\x15\x03\x03\x00\x02\x02\x28")
    assert info.value.send_alert == "unexpected_message"
    out = conn.data_to_send()
    assert out[:6] == CCS and out[6:7] == b"\x17"  # our alert is protected (after a CCS)


def test_plaintext_change_cipher_spec_after_the_handshake_is_refused(
    server_material, client_identity
):
    conn, _ = connected_in_process(server_material, client_identity)
    with pytest.raises(HandshakeError) as info:
        conn.receive_data(CCS)
    assert info.value.send_alert == "unexpected_message"


def test_change_cipher_spec_inside_a_fragmented_message_is_refused(
    server_material, client_identity
):
    chain, key = server_material
    conn = ClientConnection(ClientConfig(identities=[client_identity]))
    conn.start_handshake()
    record = _first_record(server_flight(conn.data_to_send(), chain, key))
    half = record[5:20]
    conn.receive_data(b"\x16\x03\x03" + len(half).to_bytes(2, "big") + half)
    with pytest.raises(HandshakeError, match="fragmented") as info:
        conn.receive_data(CCS)
    assert info.value.send_alert == "unexpected_message"


@pytest.mark.parametrize("inner_type", [0x14, 0x18, 0x63, 0xFF])
def test_protected_records_of_other_content_types_are_refused(
    server_material, client_identity, inner_type
):
    conn, server = connected_in_process(server_material, client_identity)
    with pytest.raises(HandshakeError) as info:
        conn.receive_data(server.seal(inner_type, b"\x01\x00"))
    assert info.value.send_alert == "unexpected_message"


# --------------------------------------------------------------------------- after close_notify


def test_reading_goes_on_after_our_close_notify(server_material, client_identity):
    """KeyUpdate and CertificateRequest are read (keys move on) but never answered."""
    conn, server = connected_in_process(server_material, client_identity)
    conn.send_close_notify()
    conn.data_to_send()
    request = certificate_request(REQUEST_BODY, context=b"\x07")
    events = conn.receive_data(server.seal(22, request) + server.seal(22, b"\x18\x00\x00\x01\x01"))
    assert not any(isinstance(e, PostHandshakeAuthCompleted) for e in events)
    updated = RecordProtection(SUITE, next_traffic_secret(SUITE.hash_name, server.secret))
    assert conn.receive_data(updated.seal(23, b"still here")) == [DataReceived(b"still here")]
    assert conn.data_to_send() == b""
    assert conn.client_identity is None and conn.selection is None
    with pytest.raises(TLSError, match="close_notify"):
        conn.request_key_update()


# --------------------------------------------------------------------------- bounds


def test_only_the_newest_session_tickets_are_kept(server_material, client_identity):
    conn, server = connected_in_process(server_material, client_identity)
    tickets = [
        encode_handshake(
            4, (60).to_bytes(4, "big") + bytes(4) + vec(b"n", 1) + vec(b"T%d" % i, 2) + vec(b"", 2)
        )
        for i in range(MAX_SESSION_TICKETS + 5)
    ]
    conn.receive_data(b"".join(server.seal(22, t) for t in tickets))
    kept = [t.ticket for t in conn.session_tickets]
    assert kept == [b"T%d" % i for i in range(5, MAX_SESSION_TICKETS + 5)]


def test_ticket_with_lifetime_zero_is_discarded_at_once(server_material, client_identity):
    """RFC 8446 section 4.6.1: "The value of zero indicates that the ticket should be
    discarded immediately": it is neither kept nor reported for resumption."""
    conn, server = connected_in_process(server_material, client_identity)
    ticket = encode_handshake(
        4, (0).to_bytes(4, "big") + bytes(4) + vec(b"n", 1) + vec(b"T0", 2) + vec(b"", 2)
    )
    assert conn.receive_data(server.seal(22, ticket)) == []
    assert conn.session_tickets == []


def test_session_ticket_does_not_pickle(server_material, client_identity):
    ticket = SessionTicket(b"t", 60, 0, b"n", SUITE.name, None, psk=b"secret psk")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ticket)
    assert "secret psk" not in repr(ticket)


def test_post_handshake_request_context_may_not_repeat(server_material, client_identity):
    conn, server = connected_in_process(server_material, client_identity)
    request = certificate_request(REQUEST_BODY, context=b"\x01")
    events = conn.receive_data(server.seal(22, request))
    assert events == [PostHandshakeAuthCompleted(True)]
    with pytest.raises(HandshakeError, match="repeats") as info:
        conn.receive_data(server.seal(22, request))
    assert info.value.send_alert == "illegal_parameter"


def test_post_handshake_requests_are_bounded(server_material, client_identity):
    conn, server = connected_in_process(server_material, client_identity)
    for n in range(MAX_POST_HANDSHAKE_REQUESTS):
        request = certificate_request(REQUEST_BODY, context=n.to_bytes(2, "big"))
        assert conn.receive_data(server.seal(22, request)) == [PostHandshakeAuthCompleted(True)]
    conn.data_to_send()
    request = certificate_request(REQUEST_BODY, context=b"\xff\xff")
    with pytest.raises(HandshakeError, match="CertificateRequests") as info:
        conn.receive_data(server.seal(22, request))
    assert info.value.send_alert == "unexpected_message"


# --------------------------------------------------------------------------- server_name


@pytest.mark.parametrize(
    ("name", "sni"),
    [
        ("bücher.example", b"xn--bcher-kva.example"),
        ("Example.COM.", b"Example.COM"),
        ("my_host.internal", b"my_host.internal"),
        ("a-b.c" + ".d" * 120, b"a-b.c" + b".d" * 120),
        (b"example.test", b"example.test"),
        (bytearray(b"example.test"), b"example.test"),
        ("127.0.0.1", b""),
        ("[::1]", b""),
    ],
)
def test_host_names_that_go_out_as_sni(name, sni):
    assert _sni(name) == sni


@pytest.mark.parametrize(
    "name",
    [
        "-lead.example",
        "trail-.example",
        "a..b",
        "a" * 64 + ".example",
        ("a" * 63 + ".") * 4 + "com",
        "[example.com]",
        "tab\there.example",
        "slash/path.example",
        "exa%mple.com",
        ".",
        "\udcff.example",
        b"b\xfccher.example",
        42,
    ],
)
def test_names_that_are_not_host_names_are_refused_before_sending(name):
    conn = ClientConnection(ClientConfig(server_name=name))
    with pytest.raises(HandshakeError, match="server_name"):
        conn.start_handshake()
    assert conn.data_to_send() == b""
