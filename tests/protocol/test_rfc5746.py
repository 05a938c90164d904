"""RFC 5746 (TLS renegotiation indication), sections 3.4 and 3.5: each client-side MUST, one
test each, judged on the wire. The verify_data a renegotiation must carry is the oracle's
own (tlslite-ng's PRF over the oracle's transcript, rfc5246_peer.py), not the client's."""

from __future__ import annotations

import pytest
from rfc5246_peer import (
    SERVER_HELLO,
    OracleServer12,
    alert_sent,
    connect,
    ext,
    first_flight_refused,
    read_client_flight,
    replace_server_hello_extensions,
    start,
    vec,
)
from tlslite.messages import ClientHello
from tlslite.utils.codec import Parser

from tlsengine.errors import HandshakeError
from tlsengine.protocol import RenegotiationCompleted

RENEGOTIATION_INFO, EXTENDED_MASTER_SECRET = 0xFF01, 23
EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF


def _client_hello(message: bytes) -> ClientHello:
    assert message[0] == 1, message[:1]
    return ClientHello().parse(Parser(bytearray(message[1:])))


def _server_hello_with(renegotiated_connection: bytes | None):
    """A mutate hook: the ServerHello's renegotiation_info replaced (None: left out)."""
    extensions = ext(EXTENDED_MASTER_SECRET, b"")
    if renegotiated_connection is not None:
        extensions += ext(RENEGOTIATION_INFO, vec(renegotiated_connection, 1))

    def mutate(message: bytes) -> bytes:
        if message[0] != SERVER_HELLO:
            return message
        return replace_server_hello_extensions(message, extensions)

    return mutate


def _connected(server_material):
    """A finished first handshake; the oracle's view of the client's verify_data."""
    conn, srv, _ = connect(server_material)
    data = conn.data_to_send()
    flight = read_client_flight(srv, data)
    assert flight.finished_verifies
    conn.receive_data(srv.second_flight(data))
    return conn, srv, flight.client_verify_data


def _renegotiation_hello(conn, srv) -> bytes:
    """The server asks (HelloRequest); the client's protected answer, still unread."""
    conn.receive_data(srv.hello_request())
    return conn.data_to_send()


# ----------------------------------------------------------------------------- 3.4 initial


def test_3_4_initial_client_hello_carries_an_empty_renegotiation_info(server_material):
    """ "the client MUST include either an empty "renegotiation_info" extension, or the
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV signaling cipher suite value" (both NOT RECOMMENDED)."""
    conn, _ = start(server_material)
    hello = _client_hello(conn.data_to_send()[5:])
    assert hello.getExtension(RENEGOTIATION_INFO).extData == bytearray(b"\x00")
    assert EMPTY_RENEGOTIATION_INFO_SCSV not in hello.cipher_suites


def test_3_4_non_empty_renegotiated_connection_aborts_with_handshake_failure(server_material):
    """ "The client MUST then verify that the length of the "renegotiated_connection" field
    is zero, and if it is not, MUST abort the handshake (by sending a fatal
    handshake_failure alert)."""
    chain, key = server_material
    srv = OracleServer12(chain, key, mutate=_server_hello_with(b"\x01" * 24))
    conn, srv = start(server_material, server=srv)
    first_flight_refused(conn, srv, "handshake_failure", match="renegotiation_info")


def test_3_4_server_without_renegotiation_info_is_refused(server_material):
    """3.4 lets a client go on insecurely ("set secure_renegotiation to FALSE"); 4.1 lets it
    terminate instead. We always terminate, so insecure renegotiation can never happen."""
    chain, key = server_material
    srv = OracleServer12(chain, key, mutate=_server_hello_with(None))
    conn, srv = start(server_material, server=srv)
    first_flight_refused(conn, srv, "handshake_failure", match="secure renegotiation")


# ----------------------------------------------------------------------------- 3.5 renegotiation


def test_3_5_renegotiation_client_hello_carries_the_saved_client_verify_data(server_material):
    """ "The client MUST include the "renegotiation_info" extension in the ClientHello,
    containing the saved client_verify_data. The SCSV MUST NOT be included.\""""
    conn, srv, client_verify_data = _connected(server_material)
    srv.take(_renegotiation_hello(conn, srv))
    hello = _client_hello(srv.client_messages[-1])
    assert hello.getExtension(RENEGOTIATION_INFO).extData == vec(client_verify_data, 1)
    assert EMPTY_RENEGOTIATION_INFO_SCSV not in hello.cipher_suites


def test_3_5_server_hello_with_both_saved_verify_data_completes(server_material):
    """The control: a ServerHello that carries client_verify_data + server_verify_data."""
    conn, srv, _ = _connected(server_material)
    conn.receive_data(srv.first_flight(_renegotiation_hello(conn, srv)))
    events = conn.receive_data(srv.second_flight(conn.data_to_send()))
    assert [type(e) for e in events] == [RenegotiationCompleted]


@pytest.mark.parametrize("broken", ["missing", "client-half", "server-half", "empty"])
def test_3_5_server_hello_renegotiation_info_is_checked_half_by_half(server_material, broken):
    """ "the client MUST verify that the "renegotiation_info" extension is present; if it is
    not, the client MUST abort the handshake"; "The client MUST then verify that the first
    half of the "renegotiated_connection" field is equal to the saved client_verify_data
    value, and the second half is equal to the saved server_verify_data value. If they are
    not, the client MUST abort the handshake" (abort = fatal handshake_failure, section 3)."""
    conn, srv, _ = _connected(server_material)
    if broken == "missing":
        srv.renegotiation_info = False
    elif broken == "client-half":
        srv.client_verify = bytes((srv.client_verify[0] ^ 1,)) + srv.client_verify[1:]
    elif broken == "server-half":  # flip the byte replaced, so it always differs
        srv.server_verify = srv.server_verify[:-1] + bytes((srv.server_verify[-1] ^ 1,))
    else:
        srv.client_verify, srv.server_verify = b"", b""
    hello = _renegotiation_hello(conn, srv)
    with pytest.raises(HandshakeError, match="renegotiation"):
        conn.receive_data(srv.first_flight(hello))
    assert alert_sent(conn, srv) == (2, "handshake_failure")
