"""RFC 5246 section 7.4.9, Finished (with 7.1 ChangeCipherSpec), where it binds the client:
its own Finished opened and checked by the oracle's key schedule (rfc5246_peer.py), and
the server's Finished, which the client MUST verify."""

from __future__ import annotations

import pytest
from rfc5246_peer import FINISHED, alert_sent, connect, read_client_flight

from tlsengine.errors import HandshakeError
from tlsengine.protocol import HandshakeComplete
from tlsengine.protocol.wire import encode_handshake


def _after_our_flight(server_material):
    conn, srv, _ = connect(server_material)
    data = conn.data_to_send()
    flight = read_client_flight(srv, data)
    srv.take(data)
    return conn, srv, flight


def test_7_4_9_finished_immediately_follows_change_cipher_spec(server_material):
    """ "A Finished message is always sent immediately after a change cipher spec message":
    the only message after our ChangeCipherSpec, and the first one under the new keys."""
    _, _, flight = _after_our_flight(server_material)
    assert flight.types[flight.before_ccs :] == [FINISHED]


def test_7_4_9_client_verify_data_is_the_prf_over_every_handshake_message(server_material):
    """verify_data = PRF(master_secret, "client finished", Hash(handshake_messages))[0..11],
    handshake_messages being everything before it, HelloRequest excluded."""
    _, _, flight = _after_our_flight(server_material)
    assert len(flight.body(FINISHED)) == 12 and flight.finished_verifies


def test_7_4_9_server_finished_that_does_not_verify_is_decrypt_error(server_material):
    """ "Recipients of Finished messages MUST verify that the contents are correct.\""""
    conn, srv, _ = _after_our_flight(server_material)
    srv.messages += b"\x00"  # the server hashes one byte more than was sent
    with pytest.raises(HandshakeError, match="Finished does not verify"):
        conn.receive_data(srv.second_flight(b""))
    assert alert_sent(conn, srv) == (2, "decrypt_error")
    assert not conn.handshake_complete


def test_7_4_9_server_finished_without_change_cipher_spec_is_unexpected(server_material):
    """ "It is a fatal error if a Finished message is not preceded by a ChangeCipherSpec
    message at the appropriate point in the handshake" (7.1)."""
    conn, srv, _ = _after_our_flight(server_material)
    plain_finished = srv.records(22, encode_handshake(FINISHED, bytes(12)))
    with pytest.raises(HandshakeError, match="unexpected Finished"):
        conn.receive_data(plain_finished)
    assert alert_sent(conn, srv) == (2, "unexpected_message")


def test_7_4_9_correct_server_finished_completes_the_handshake(server_material):
    """The control: the same server, nothing tampered."""
    conn, srv, _ = _after_our_flight(server_material)
    events = conn.receive_data(srv.second_flight(b""))
    assert [type(e) for e in events] == [HandshakeComplete]
