"""RFC 5246 section 7.4.1, hello messages (7.4.1.2 ClientHello, 7.4.1.3 ServerHello,
7.4.1.4 extensions, 7.4.1.4.1 signature_algorithms): each rule that binds the client, one
test each, judged on the ClientHello bytes or on the alert the client sent."""

from __future__ import annotations

import pytest
from rfc5246_peer import (
    SERVER_HELLO,
    OracleServer12,
    ext,
    first_flight_refused,
    replace_server_hello_extensions,
    start,
    vec,
)
from tlslite.messages import ClientHello
from tlslite.utils.codec import Parser

from tlsengine.protocol.wire import encode_handshake

SIGNATURE_ALGORITHMS, EXTENDED_MASTER_SECRET, RENEGOTIATION_INFO = 13, 23, 0xFF01
REQUIRED = ext(EXTENDED_MASTER_SECRET, b"") + ext(RENEGOTIATION_INFO, b"\x00")


def _client_hello(server_material) -> ClientHello:
    conn, _ = start(server_material)
    return ClientHello().parse(Parser(bytearray(conn.data_to_send()[6:])))


def _refused_server_hello(server_material, rewrite, alert: str, match: str | None = None):
    def mutate(message: bytes) -> bytes:
        return rewrite(message) if message[0] == SERVER_HELLO else message

    chain, key = server_material
    conn, srv = start(server_material, server=OracleServer12(chain, key, mutate=mutate))
    return first_flight_refused(conn, srv, alert, match)


def _with_fields(message: bytes, *, suite: bytes | None = None, compression: int = 0) -> bytes:
    """The ServerHello with its cipher_suite and/or compression_method replaced."""
    body = bytearray(message[4:])
    at = 2 + 32 + 1 + body[34]
    if suite is not None:
        body[at : at + 2] = suite
    body[at + 2] = compression
    return encode_handshake(SERVER_HELLO, bytes(body))


# ----------------------------------------------------------------------------- 7.4.1.2


def test_7_4_1_2_client_hello_offers_null_compression_only(server_material):
    """ "this vector MUST contain, and all implementations MUST support,
    CompressionMethod.null"; we offer nothing else (compression is refused on purpose)."""
    assert _client_hello(server_material).compression_methods == [0]


def test_7_4_1_2_client_version_is_tls12_and_random_is_32_bytes(server_material):
    hello = _client_hello(server_material)
    assert tuple(hello.client_version) == (3, 3) and len(hello.random) == 32


# ----------------------------------------------------------------------------- 7.4.1.3


def test_7_4_1_3_cipher_suite_must_be_one_we_offered(server_material):
    """cipher_suite: "The single cipher suite selected by the server from the list in
    ClientHello.cipher_suites" - TLS_RSA_WITH_AES_128_GCM_SHA256 was not in ours."""
    _refused_server_hello(
        server_material,
        lambda m: _with_fields(m, suite=b"\x00\x9c"),
        "illegal_parameter",
        match="did not offer",
    )


def test_7_4_1_3_compression_method_must_be_one_we_offered(server_material):
    """compression_method: "The single compression algorithm selected by the server from
    the list in ClientHello.compression_methods" - we listed null only."""
    _refused_server_hello(
        server_material, lambda m: _with_fields(m, compression=1), "illegal_parameter"
    )


# ----------------------------------------------------------------------------- 7.4.1.4


@pytest.mark.parametrize(
    "unsolicited",
    [ext(0xFAFA, b""), ext(16, vec(vec(b"h2", 1), 2)), ext(SIGNATURE_ALGORITHMS, b"")],
    ids=["unknown", "alpn-not-offered", "signature_algorithms"],
)
def test_7_4_1_4_extension_we_did_not_request_is_unsupported_extension(
    server_material, unsolicited
):
    """ "If a client receives an extension type in ServerHello that it did not request in
    the associated ClientHello, it MUST abort the handshake with an unsupported_extension
    fatal alert." (7.4.1.4.1: "Servers MUST NOT send this extension.")"""
    _refused_server_hello(
        server_material,
        lambda m: replace_server_hello_extensions(m, REQUIRED + unsolicited),
        "unsupported_extension",
    )


def test_7_4_1_4_repeated_extension_is_refused(server_material):
    """ "There MUST NOT be more than one extension of the same type.\""""
    twice = REQUIRED + ext(EXTENDED_MASTER_SECRET, b"")
    _refused_server_hello(
        server_material,
        lambda m: replace_server_hello_extensions(m, twice),
        "illegal_parameter",
        match="repeats",
    )


# ----------------------------------------------------------------------------- 7.4.1.4.1


def test_7_4_1_4_1_signature_algorithms_sent_without_md5_or_sha1(server_material):
    """We offer TLS 1.2, so the extension is sent (it "is not meaningful for TLS versions
    prior to 1.2"); RFC 9155 (updating this section): "Clients MUST NOT include MD5 and
    SHA-1 in the signature_algorithms extension.\""""
    body = bytes(_client_hello(server_material).getExtension(SIGNATURE_ALGORITHMS).extData)
    pairs = [body[i : i + 2] for i in range(2, len(body), 2)]
    assert int.from_bytes(body[:2], "big") == len(body) - 2 and pairs
    assert not [p.hex() for p in pairs if p[0] in (1, 2)]  # hash md5 (1) or sha1 (2)
