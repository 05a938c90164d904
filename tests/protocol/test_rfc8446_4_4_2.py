"""RFC 8446 section 4.4.2, Certificate: each client-side MUST, on the server's Certificate
(one violation per flight, CertificateVerify and Finished still correct over it) and on the
Certificate the client sends back, decrypted by the test server's own key schedule."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from proto_helpers import choose
from rfc8446_peer import (
    CERTIFICATE,
    CERTIFICATE_VERIFY,
    FINISHED,
    SIGALGS_P256,
    OracleServer,
    certificate_request,
    ext,
    handshake,
    read_flight,
    refused,
    vec,
)

from tlsengine.cli.pki import key_usage_with
from tlsengine.errors import CertificateVerificationError, DecodeError
from tlsengine.protocol import HandshakeComplete
from tlsengine.protocol.wire import decode_certificate13, encode_handshake


def _certificate(ders, extensions: bytes = b"", context: bytes = b"") -> bytes:
    entries = b"".join(vec(d, 3) + vec(extensions, 2) for d in ders)
    return encode_handshake(CERTIFICATE, vec(context, 1) + vec(entries, 3))


def _replace_certificate(server_material, message: bytes, **kw):
    chain, key = server_material

    def mutate(index: int, original: bytes) -> bytes:
        return message if original[0] == CERTIFICATE else original

    return handshake(server_material, server=OracleServer(chain, key, mutate=mutate), **kw)


# --------------------------------------------------------------------------- server's Certificate


def test_4_4_2_4_empty_server_certificate_is_decode_error(server_material):
    """ "If the server supplies an empty Certificate message, the client MUST abort the
    handshake with a "decode_error" alert.\""""
    error = refused(lambda: _replace_certificate(server_material, _certificate([])), "decode_error")
    assert isinstance(error, DecodeError)


@pytest.mark.parametrize(
    ("extensions", "alert"),
    [
        (ext(5, b"\x01" + vec(b"ocsp", 3)), "unsupported_extension"),  # found by the audit
        (ext(18, vec(b"sct", 2)), "unsupported_extension"),
        (ext(0xFAFA, b""), "unsupported_extension"),
        (ext(51, b"\x00\x1d"), "illegal_parameter"),  # key_share is not for Certificate
        (b"\x00\x05\x00\x09ab", "decode_error"),  # does not parse: found by the audit
    ],
    ids=["status_request", "sct", "unknown", "key_share", "unparsable"],
)
def test_4_4_2_certificate_entry_extensions_must_answer_our_client_hello(
    server_material, extensions, alert
):
    """ "If an extension applies to the entire chain, it SHOULD be included in the first
    CertificateEntry"; extensions from the server "MUST correspond to ones from the
    ClientHello message". We offer neither status_request nor signed_certificate_timestamp."""
    message = _certificate(server_material[0], extensions)
    refused(lambda: _replace_certificate(server_material, message), alert)


def test_4_4_2_server_certificate_context_must_be_empty(server_material):
    message = _certificate(server_material[0], context=b"\x07")
    refused(lambda: _replace_certificate(server_material, message), "decode_error")


def test_4_4_2_2_leaf_key_usage_without_digital_signature_is_refused(root_ca):
    """ "the digitalSignature bit MUST be set if the Key Usage extension is present"; BoringSSL
    sends illegal_parameter. Found by the audit: such a leaf was accepted."""
    usage = key_usage_with(key_agreement=True, key_encipherment=True)
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, key_usage=usage)
    material = ([cert.public_bytes(Encoding.DER)], key)
    error = refused(lambda: handshake(material), "illegal_parameter", match="digitalSignature")
    assert isinstance(error, CertificateVerificationError)


def test_4_4_2_2_leaf_key_usage_with_digital_signature_is_accepted(root_ca):
    usage = key_usage_with(digital_signature=True, key_agreement=True)
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, key_usage=usage)
    _, _, events = handshake(([cert.public_bytes(Encoding.DER)], key))
    assert any(isinstance(e, HandshakeComplete) for e in events)


# --------------------------------------------------------------------------- our Certificate


def _requested(server_material, identity, select):
    chain, key = server_material
    server = OracleServer(chain, key, request=certificate_request(SIGALGS_P256))
    conn, server, _ = handshake(server_material, identity, select=select, server=server)
    return read_flight(conn.data_to_send(), server.client_hs_secret)


def test_4_4_2_client_sends_its_chain_leaf_first_with_the_request_context(
    server_material, client_identity
):
    flight = _requested(server_material, client_identity, choose(client_identity))
    assert flight.types == [CERTIFICATE, CERTIFICATE_VERIFY, FINISHED]
    context, ders = decode_certificate13(encode_handshake(CERTIFICATE, flight.body(CERTIFICATE)))
    assert context == b""  # echoes the request's (empty) context
    # leaf first; the self-signed root that ends the chain is left out by default (4.4.2
    # lets a trust anchor be omitted; ClientConfig(send_client_root=True) sends it)
    assert ders == [c.public_bytes(Encoding.DER) for c in client_identity.chain[:-1]]


def test_4_4_2_no_suitable_certificate_means_an_empty_certificate_message(
    server_material, client_identity
):
    """ "If the server requests client authentication but no suitable certificate is
    available, the client MUST send a Certificate message containing no certificates"
    (and then no CertificateVerify, section 4.4.3)."""
    flight = _requested(server_material, client_identity, choose(None))
    assert flight.types == [CERTIFICATE, FINISHED]
    assert flight.body(CERTIFICATE) == b"\x00" + b"\x00\x00\x00"  # empty context, no entries
