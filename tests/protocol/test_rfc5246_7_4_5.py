"""RFC 5246 section 7.4.5, Server Hello Done: ``struct { } ServerHelloDone;`` ends the
server's flight and is what the client answers; a body is a decoding error."""

from __future__ import annotations

from rfc5246_peer import OracleServer12, first_flight_refused, start

from tlsengine.errors import DecodeError

SERVER_HELLO_DONE = 14


def test_7_4_5_server_hello_done_with_a_body_is_decode_error(server_material):
    chain, key = server_material

    def mutate(message: bytes) -> bytes:
        return b"\x0e\x00\x00\x01\x00" if message[0] == SERVER_HELLO_DONE else message

    conn, srv = start(server_material, server=OracleServer12(chain, key, mutate=mutate))
    assert isinstance(first_flight_refused(conn, srv, "decode_error"), DecodeError)
    assert [m[0] for m in srv.client_messages] == [1]  # no flight of ours went out


def test_7_4_5_nothing_is_answered_before_server_hello_done(server_material):
    """ "the client ... waits for" ServerHelloDone: the same flight without it gets no reply."""
    chain, key = server_material

    def mutate(message: bytes) -> bytes | None:
        return None if message[0] == SERVER_HELLO_DONE else message

    conn, srv = start(server_material, server=OracleServer12(chain, key, mutate=mutate))
    assert conn.receive_data(srv.first_flight(conn.data_to_send())) == []
    assert conn.data_to_send() == b""
