"""RFC 8446 section 4.6.3, KeyUpdate: each client-side MUST, plus the bound on KeyUpdates in
a row (issue 12: 200,000 were accepted, each answered when update_requested). The test server
follows the client's keys with its own derivation (HKDF from `cryptography`)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from inproc_server import SUITE
from proto_helpers import choose
from rfc8446_peer import KEY_UPDATE, OracleServer, handshake, post_handshake, read_flight, refused

from tlsengine.protocol import DataReceived, HandshakeComplete, KeyUpdated
from tlsengine.protocol.record import RecordProtection
from tlsengine.protocol.tls13 import MAX_KEY_UPDATES
from tlsengine.protocol.wire import encode_handshake


def _next_secret(secret: bytes) -> bytes:
    """application_traffic_secret_N+1 (RFC 8446 7.2), independently of the client's code."""
    label = b"tls13 traffic upd"
    info = (32).to_bytes(2, "big") + bytes((len(label),)) + label + b"\x00"
    return HKDFExpand(hashes.SHA256(), 32, info).derive(secret)


def _connected(server_material, client_identity):
    conn, server, events = handshake(server_material, client_identity, select=choose(None))
    assert any(isinstance(e, HandshakeComplete) for e in events)
    conn.data_to_send()
    return conn, server


def test_4_6_3_update_requested_is_answered_before_our_next_application_data(
    server_material, client_identity
):
    """The receiver "MUST send a KeyUpdate of its own with request_update set to
    "update_not_requested" prior to sending its next Application Data record"; it then
    writes under the next secret."""
    conn, server = _connected(server_material, client_identity)
    assert conn.receive_data(server.key_update(requested=True)) == [KeyUpdated(requested=True)]
    conn.send_data(b"after")
    out = conn.data_to_send()
    first_len = 5 + int.from_bytes(out[3:5], "big")
    answer = read_flight(out[:first_len], server.client_app_secret)
    assert answer.messages == [(KEY_UPDATE, b"\x00")]
    protection = RecordProtection(SUITE, _next_secret(server.client_app_secret))
    assert protection.open(out[first_len : first_len + 5], memoryview(out[first_len + 5 :])) == (
        23,
        b"after",
    )


def test_4_6_3_update_not_requested_is_not_answered(server_material, client_identity):
    conn, server = _connected(server_material, client_identity)
    assert conn.receive_data(server.key_update(requested=False)) == [KeyUpdated(requested=False)]
    assert conn.data_to_send() == b""


def test_4_6_3_receiving_keys_move_on(server_material, client_identity):
    """After a KeyUpdate the receiver MUST update its receiving keys: data under the next
    secret reads; a record still under the old one fails authentication."""
    conn, server = _connected(server_material, client_identity)
    old = RecordProtection(SUITE, server.app_secret)
    old.seq = server.app_write.seq + 1  # where the old key would have gone on
    conn.receive_data(server.key_update())
    assert conn.receive_data(server.app(23, b"new keys")) == [DataReceived(b"new keys")]
    refused(lambda: conn.receive_data(old.seal(23, b"old keys")), "bad_record_mac")


@pytest.mark.parametrize("value", [2, 0xFF])
def test_4_6_3_other_request_update_values_are_illegal_parameter(
    server_material, client_identity, value
):
    conn, server = _connected(server_material, client_identity)
    record = post_handshake(server, KEY_UPDATE, bytes((value,)))
    refused(lambda: conn.receive_data(record), "illegal_parameter")


def test_4_6_3_key_update_of_the_wrong_length_is_decode_error(server_material, client_identity):
    conn, server = _connected(server_material, client_identity)
    record = post_handshake(server, KEY_UPDATE, b"\x00\x00")
    refused(lambda: conn.receive_data(record), "decode_error")


def test_4_6_3_key_update_before_finished_is_unexpected_message(server_material):
    """ "Implementations that receive a KeyUpdate message prior to receiving a Finished
    message MUST terminate the connection with an "unexpected_message" alert.\""""
    chain, key = server_material

    def smuggle(index: int, message: bytes) -> bytes:
        return message + encode_handshake(KEY_UPDATE, b"\x00") if message[0] == 15 else message

    server = OracleServer(chain, key, mutate=smuggle)
    refused(lambda: handshake(server_material, server=server), "unexpected_message", "KeyUpdate")


def test_4_6_3_key_update_must_end_its_record(server_material, client_identity):
    """RFC 8446 5.1: handshake messages MUST NOT span a key change."""
    conn, server = _connected(server_material, client_identity)
    two = encode_handshake(KEY_UPDATE, b"\x00") + encode_handshake(KEY_UPDATE, b"\x00")
    refused(lambda: conn.receive_data(server.app(22, two)), "unexpected_message")


def test_key_updates_in_a_row_are_bounded(server_material, client_identity):
    """Issue 12 (found: 200,000 accepted, about 50,000 a second, each answered): at most
    MAX_KEY_UPDATES without application data between them, as BoringSSL and rustls."""
    conn, server = _connected(server_material, client_identity)
    for _ in range(MAX_KEY_UPDATES):
        conn.receive_data(server.key_update(requested=True))
    out, secret, answers = conn.data_to_send(), server.client_app_secret, 0
    while out:  # each answer is the one record under its key; the next key reads the next
        size = 5 + int.from_bytes(out[3:5], "big")
        assert read_flight(out[:size], secret).messages == [(KEY_UPDATE, b"\x00")]
        out, secret, answers = out[size:], _next_secret(secret), answers + 1
    assert answers == MAX_KEY_UPDATES
    refused(
        lambda: conn.receive_data(server.key_update(requested=True)),
        "unexpected_message",
        match=f"more than {MAX_KEY_UPDATES} KeyUpdates",
    )


def test_application_data_between_key_updates_resets_the_bound(server_material, client_identity):
    conn, server = _connected(server_material, client_identity)
    for round_ in range(3):
        for _ in range(MAX_KEY_UPDATES):
            conn.receive_data(server.key_update())
        assert conn.receive_data(server.app(23, b"%d" % round_)) == [DataReceived(b"%d" % round_)]
