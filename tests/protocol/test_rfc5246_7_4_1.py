"""RFC 5246 section 7.4.1, hello messages (7.4.1.1 HelloRequest, 7.4.1.2 ClientHello,
7.4.1.3 ServerHello, 7.4.1.4 extensions, 7.4.1.4.1 signature_algorithms): each rule that
binds the client, one test each, judged on the bytes the client sent (opened by the
oracle, rfc5246_peer.py) or on the alert it sent."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from rfc5246_peer import (
    CERTIFICATE,
    CERTIFICATE_VERIFY,
    CLIENT_KEY_EXCHANGE,
    FINISHED,
    SERVER_HELLO,
    OracleServer12,
    certificate_request12,
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

from tlsengine.protocol.wire import encode_handshake

SIGNATURE_ALGORITHMS, EXTENDED_MASTER_SECRET, RENEGOTIATION_INFO = 13, 23, 0xFF01
HELLO_REQUEST = b"\x00\x00\x00\x00"
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


# ----------------------------------------------------------------------------- 7.4.1.1


def test_7_4_1_1_hello_request_during_the_handshake_is_ignored_and_never_hashed(
    server_material, client_identity
):
    """ "This message will be ignored by the client if the client is currently negotiating
    a session"; "This message MUST NOT be included in the message hashes that are
    maintained throughout the handshake and used in the Finished messages and the
    certificate verify message." The oracle hashes without it: the client's CertificateVerify
    and Finished must match that transcript."""

    def mutate(message: bytes) -> bytes:
        return message + HELLO_REQUEST if message[0] == CERTIFICATE else message

    chain, key = server_material
    srv = OracleServer12(chain, key, request=certificate_request12(), mutate=mutate)
    conn, srv, _ = connect(server_material, [client_identity], server=srv)
    data = conn.data_to_send()
    flight = read_client_flight(srv, data)
    assert flight.types == [CERTIFICATE, CLIENT_KEY_EXCHANGE, CERTIFICATE_VERIFY, FINISHED]
    assert flight.finished_verifies and HELLO_REQUEST not in flight.signed
    body = flight.body(CERTIFICATE_VERIFY)
    client_identity.certificate.public_key().verify(
        body[4:], flight.signed, ec.ECDSA(hashes.SHA256())
    )
    assert conn.receive_data(srv.second_flight(data))  # and the handshake completes


def test_7_4_1_1_hello_request_with_a_body_is_decode_error(server_material):
    """``struct { } HelloRequest;``: a body does not decode."""

    def mutate(message: bytes) -> bytes:
        return message + b"\x00\x00\x00\x01\x00" if message[0] == CERTIFICATE else message

    chain, key = server_material
    conn, srv = start(server_material, server=OracleServer12(chain, key, mutate=mutate))
    first_flight_refused(conn, srv, "decode_error", match="HelloRequest has a body")
