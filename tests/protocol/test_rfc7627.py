"""RFC 7627 (extended master secret): each client-side MUST of sections 4, 5.1, 5.2 and 5.3,
one test each. That the client derives the extended master secret is judged by the oracle
(rfc5246_peer.py), whose own derivation has to open the client's records and match its
Finished; a client using the RFC 5246 master secret would fail both."""

from __future__ import annotations

from rfc5246_peer import (
    CERTIFICATE_VERIFY,
    OracleServer12,
    certificate_request12,
    connect,
    first_flight_refused,
    read_client_flight,
    start,
)
from tlslite.messages import ClientHello
from tlslite.utils.codec import Parser

from tlsengine.protocol.tls12 import Session12

EXTENDED_MASTER_SECRET, SESSION_TICKET = 23, 35


def _client_hello(records: bytes) -> ClientHello:
    return ClientHello().parse(Parser(bytearray(records[6:])))


def test_5_1_client_hello_carries_an_empty_extended_master_secret(server_material):
    """5.1: a client that wants the extended master secret sends the extension, empty
    ("The "extension_data" field of this extension is empty")."""
    conn, _ = start(server_material)
    hello = _client_hello(conn.data_to_send())
    assert hello.getExtension(EXTENDED_MASTER_SECRET).extData == bytearray()


def test_4_master_secret_is_derived_from_the_session_hash(server_material, client_identity):
    """4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash),
    session_hash covering ClientHello up to and including ClientKeyExchange (so not the
    CertificateVerify that follows it). The oracle opens the flight only with that key."""
    chain, key = server_material
    srv = OracleServer12(chain, key, request=certificate_request12())
    conn, srv, _ = connect(server_material, [client_identity], server=srv)
    flight = read_client_flight(srv, conn.data_to_send())
    assert CERTIFICATE_VERIFY in flight.types  # the case where the two transcripts differ
    assert flight.finished_verifies


def test_5_2_server_hello_without_the_extension_is_refused(server_material):
    """5.2: "If the client ... does not wish to interoperate with legacy servers, it SHOULD
    abort the handshake": we always do, with a message that says why."""
    chain, key = server_material
    conn, srv = start(server_material, server=OracleServer12(chain, key, ems=False))
    first_flight_refused(conn, srv, "handshake_failure", match="extended master secret")


def _session(server_material) -> Session12:
    """A TLS 1.2 ticket session from a full handshake (the only kind we make: with EMS)."""
    saved: list[Session12] = []
    chain, key = server_material
    srv = OracleServer12(chain, key, ack_ticket=True, ticket=b"ticket")
    conn, srv, _ = connect(
        server_material, server=srv, save_session=saved.append, clock=lambda: 1.0
    )
    conn.receive_data(srv.second_flight(conn.data_to_send()))
    return saved[0]


def test_5_3_an_abbreviated_handshake_offer_carries_the_extension(server_material):
    """5.3: "When offering an abbreviated handshake, the client MUST send the
    "extended_master_secret" extension in its ClientHello.\""""
    session = _session(server_material)
    conn, _ = start(server_material, session=session, save_session=list.append, clock=lambda: 2.0)
    hello = _client_hello(conn.data_to_send())
    assert hello.getExtension(SESSION_TICKET).extData == bytearray(b"ticket")
    assert hello.getExtension(EXTENDED_MASTER_SECRET).extData == bytearray()


def test_5_3_resumption_without_the_extension_aborts(server_material):
    """5.3: "If the original session used the extension but the new ServerHello does not
    contain the extension, the client MUST abort the handshake.\""""
    session = _session(server_material)
    chain, key = server_material
    srv = OracleServer12(chain, key, ems=False, echo_session_id=True)
    conn, srv = start(
        server_material, server=srv, session=session, save_session=list.append, clock=lambda: 2.0
    )
    first_flight_refused(conn, srv, "handshake_failure", match="extended master secret")
    assert not conn.session_reused
