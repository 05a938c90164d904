"""RFC 5246 section 7.4.7, Client Key Exchange (with RFC 8422 5.7): where it goes in the
client's flight and what it carries, judged on the bytes the oracle opened."""

from __future__ import annotations

import pytest
from rfc5246_peer import (
    CERTIFICATE,
    CLIENT_KEY_EXCHANGE,
    OracleServer12,
    certificate_request12,
    connect,
    read_client_flight,
)


@pytest.mark.parametrize("requested", [True, False], ids=["after-certificate", "first"])
def test_7_4_7_client_key_exchange_position(server_material, client_identity, requested):
    """ "It MUST immediately follow the client certificate message, if it is sent.
    Otherwise, it MUST be the first message sent by the client after it receives the
    ServerHelloDone message.\""""
    chain, key = server_material
    request = certificate_request12() if requested else None
    srv = OracleServer12(chain, key, request=request)
    conn, srv, _ = connect(server_material, [client_identity], server=srv)
    flight = read_client_flight(srv, conn.data_to_send())
    expected = [CERTIFICATE, CLIENT_KEY_EXCHANGE] if requested else [CLIENT_KEY_EXCHANGE]
    assert flight.types[: len(expected)] == expected


def test_7_4_7_ecdh_public_is_a_point_in_the_servers_group(server_material):
    """RFC 8422 5.7: ClientECDiffieHellmanPublic ``opaque point <1..2^8-1>`` on the curve
    of the ServerKeyExchange (x25519 here: 32 bytes), and the shared secret the oracle
    computes from it is the one the client used (its Finished verifies)."""
    conn, srv, _ = connect(server_material)
    flight = read_client_flight(srv, conn.data_to_send())
    body = flight.body(CLIENT_KEY_EXCHANGE)
    assert body[0] == 32 == len(body) - 1
    assert flight.finished_verifies
