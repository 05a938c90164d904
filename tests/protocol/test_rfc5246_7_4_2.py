"""RFC 5246 section 7.4.2, Server Certificate, where it binds the client: the server's
Certificate (one violation per flight, everything else correct) and what the client sends
while the server is unverified, judged on the alert and on the bytes the client wrote."""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding
from rfc5246_peer import (
    CERTIFICATE,
    OracleServer12,
    certificate_request12,
    encode_certificate,
    first_flight_refused,
    start,
)

from tlsengine.errors import CertificateVerificationError, DecodeError


def _server_certificate(server_material, message: bytes, **kw) -> OracleServer12:
    chain, key = server_material

    def mutate(original: bytes) -> bytes:
        return message if original[0] == CERTIFICATE else original

    return OracleServer12(chain, key, mutate=mutate, **kw)


def test_7_4_2_server_certificate_must_fit_the_key_exchange(server_material, root_ca):
    """ "The certificate type MUST be appropriate for the selected cipher suite's key
    exchange algorithm": an RSA leaf under TLS_ECDHE_ECDSA_* is refused before its key is
    used (RFC 8422 5.3: ECDHE_ECDSA needs an ECDSA-capable key)."""
    cert, _ = root_ca.issue("localhost", "rsa2048", client=False, server=True, dns=["localhost"])
    message = encode_certificate([cert.public_bytes(Encoding.DER)])
    conn, srv = start(server_material, server=_server_certificate(server_material, message))
    first_flight_refused(conn, srv, "unsupported_certificate", match="does not fit")


def test_7_4_2_server_must_send_a_certificate_for_our_suites(server_material):
    """Every suite we offer authenticates the server ("The server MUST send a Certificate
    message whenever the agreed-upon key exchange method uses certificates"): an empty
    certificate_list is decode_error (as RFC 8446 4.4.2.4 names it)."""
    server = _server_certificate(server_material, encode_certificate([]))
    conn, srv = start(server_material, server=server)
    assert isinstance(first_flight_refused(conn, srv, "decode_error"), DecodeError)


def test_7_4_2_nothing_of_ours_leaves_before_the_server_chain_is_verified(
    server_material, client_identity
):
    """The chain is judged (verify_chain) before the CertificateRequest is read: an untrusted
    server gets only the alert, never our Certificate (issue 9)."""

    def untrusted(chain: list[bytes]) -> None:
        raise CertificateVerificationError("not trusted here", rule="unknown-issuer")

    chain, key = server_material
    srv = OracleServer12(chain, key, request=certificate_request12())
    conn, srv = start(server_material, [client_identity], server=srv, verify_chain=untrusted)
    first_flight_refused(conn, srv, "unknown_ca")
    assert [m[0] for m in srv.client_messages] == [1]  # the ClientHello, then the alert only
    assert conn.selection is None
