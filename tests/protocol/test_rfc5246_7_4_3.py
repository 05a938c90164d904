"""RFC 5246 section 7.4.3, Server Key Exchange (with RFC 8422 5.4), where it binds the
client: each check of the server's signed ECDHE parameters, one test each, with a
ServerKeyExchange the test builds and signs itself."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from rfc5246_peer import OracleServer12, first_flight_refused, start, vec

from tlsengine.protocol.wire import encode_handshake

SERVER_KEY_EXCHANGE = 12


def _refused(
    server_material,
    alert: str,
    match: str,
    *,
    group: int = 0x001D,
    scheme: int = 0x0403,
    digest: hashes.HashAlgorithm | None = None,
    tamper: bytes = b"",
):
    """A ServerKeyExchange for ``group``, labelled ``scheme`` and signed by the server's key
    with ECDSA and ``digest`` (SHA-256 unless given) over client_random + server_random +
    params (``tamper`` appended to what is signed)."""
    chain, key = server_material
    holder: list[OracleServer12] = []

    def mutate(message: bytes) -> bytes:
        if message[0] != SERVER_KEY_EXCHANGE:
            return message
        srv = holder[0]
        public = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
        params = b"\x03" + group.to_bytes(2, "big") + vec(public, 1)
        signed = srv.client_random + srv.server_random + params + tamper
        signature = key.sign(signed, ec.ECDSA(digest or hashes.SHA256()))
        body = params + scheme.to_bytes(2, "big") + vec(signature, 2)
        return encode_handshake(SERVER_KEY_EXCHANGE, body)

    holder.append(OracleServer12(chain, key, mutate=mutate))
    conn, srv = start(server_material, server=holder[0])
    first_flight_refused(conn, srv, alert, match)


def test_7_4_3_a_correctly_signed_server_key_exchange_is_accepted(server_material):
    """The control for the tests below: the same construction, nothing broken."""
    chain, key = server_material
    conn, srv = start(server_material, server=OracleServer12(chain, key))
    conn.receive_data(srv.first_flight(conn.data_to_send()))
    assert conn.data_to_send()[:1] == b"\x16"  # our flight, no alert


@pytest.mark.parametrize(
    ("scheme", "digest"),
    [(0x0203, hashes.SHA1()), (0x0703, hashes.SHA256())],
    ids=["ecdsa_sha1", "unknown-0x0703"],
)
def test_7_4_3_signature_pair_must_be_one_we_listed(server_material, scheme, digest):
    """ "If the client has offered the "signature_algorithms" extension, the signature
    algorithm and hash algorithm MUST be a pair listed in that extension.\""""
    _refused(server_material, "illegal_parameter", "did not offer", scheme=scheme, digest=digest)


def test_7_4_3_signature_must_cover_both_randoms_and_the_params(server_material):
    """signed_params: "digitally-signed struct { client_random, server_random, params }":
    a signature over anything else does not verify (decrypt_error, 7.2.2)."""
    _refused(server_material, "decrypt_error", "does not verify", tamper=b"\x00")


def test_7_4_3_group_must_be_one_we_offered(server_material):
    """RFC 8422 5.4: the server picks a curve from the client's supported_groups; x448
    (0x001e) was not among ours."""
    _refused(server_material, "illegal_parameter", "did not offer", group=0x001E)
