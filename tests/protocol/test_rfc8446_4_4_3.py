"""RFC 8446 section 4.4.3, CertificateVerify: the client-side MUSTs on the server's
signature, and on ours, whose signature the test checks itself with `cryptography` over the
transcript the test server hashed (not the client's own transcript)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import Encoding
from proto_helpers import choose
from rfc8446_peer import (
    CERTIFICATE,
    CERTIFICATE_VERIFY,
    CLIENT_CV_CONTEXT,
    FINISHED,
    OracleServer,
    certificate_request,
    ext,
    handshake,
    read_flight,
    refused,
    transcript_hash,
    vec,
)

from tlsengine.protocol import HandshakeComplete
from tlsengine.protocol.wire import encode_handshake


@pytest.fixture(scope="module")
def rsa_material(root_ca):
    cert, key = root_ca.issue("localhost", "rsa2048", client=False, server=True)
    return [cert.public_bytes(Encoding.DER)], key


@pytest.fixture(scope="module")
def rsa_identity(root_ca):
    return root_ca.identity("rsa client", "rsa2048")


def _signed_with(material, scheme: str, **config):
    chain, key = material
    return handshake(material, server=OracleServer(chain, key, cv_scheme=scheme), **config)


# --------------------------------------------------------------------------- server's signature


def test_4_4_3_server_scheme_must_be_one_we_offered(server_material):
    """The algorithm "MUST be one offered in the client's signature_algorithms extension"."""
    offered = ["rsa_pss_rsae_sha256", "ed25519"]
    refused(
        lambda: _signed_with(server_material, "ecdsa_secp256r1_sha256", signature_schemes=offered),
        "illegal_parameter",
        match="did not offer",
    )


def test_4_4_3_rsa_signatures_must_use_pss(rsa_material):
    """ "RSA signatures MUST use an RSASSA-PSS algorithm", even though we offer PKCS#1 v1.5
    schemes for certificate signatures."""
    refused(lambda: _signed_with(rsa_material, "rsa_pkcs1_sha256"), "illegal_parameter")


def test_4_4_3_sha1_is_never_a_certificate_verify_hash(server_material):
    schemes = ["ecdsa_sha1", "ecdsa_secp256r1_sha256"]
    refused(
        lambda: _signed_with(server_material, "ecdsa_sha1", signature_schemes=schemes),
        "illegal_parameter",
    )


def test_4_4_3_rsa_pss_from_an_rsa_server_is_accepted(rsa_material):
    _, _, events = _signed_with(rsa_material, "rsa_pss_rsae_sha256")
    assert any(isinstance(e, HandshakeComplete) for e in events)


def test_4_4_3_signature_that_does_not_verify_is_decrypt_error(server_material):
    """ "If the verification fails, the receiver MUST terminate the handshake with a
    "decrypt_error" alert.\""""
    chain, key = server_material

    def flip(index: int, message: bytes) -> bytes:
        if message[0] != CERTIFICATE_VERIFY:
            return message
        return message[:-1] + bytes((message[-1] ^ 1,))

    server = OracleServer(chain, key, mutate=flip)
    refused(lambda: handshake(server_material, server=server), "decrypt_error")


# --------------------------------------------------------------------------- our signature


def _our_verify(material, identity, schemes: bytes):
    chain, key = material
    request = certificate_request(ext(13, vec(schemes, 2)))
    server = OracleServer(chain, key, request=request)
    conn, server, _ = handshake(material, identity, select=choose(identity), server=server)
    flight = read_flight(conn.data_to_send(), server.client_hs_secret)
    return server, flight


def test_4_4_3_our_signature_covers_the_transcript_with_the_client_context(
    server_material, client_identity
):
    server, flight = _our_verify(server_material, client_identity, b"\x04\x03")
    certificate = encode_handshake(CERTIFICATE, flight.body(CERTIFICATE))
    verify = flight.body(CERTIFICATE_VERIFY)
    assert verify[:2] == b"\x04\x03"  # ecdsa_secp256r1_sha256, the scheme the server offered
    signature = verify[4 : 4 + int.from_bytes(verify[2:4], "big")]
    content = CLIENT_CV_CONTEXT + transcript_hash([*server.hashed, certificate])
    public = client_identity.certificate.public_key()
    public.verify(signature, content, ec.ECDSA(hashes.SHA256()))  # raises if it does not


def test_4_4_3_our_rsa_signature_is_pss_even_when_pkcs1_is_offered_first(
    server_material, rsa_identity
):
    server, flight = _our_verify(server_material, rsa_identity, b"\x04\x01\x08\x04")
    verify = flight.body(CERTIFICATE_VERIFY)
    assert verify[:2] == b"\x08\x04"  # rsa_pss_rsae_sha256, never rsa_pkcs1_sha256
    certificate = encode_handshake(CERTIFICATE, flight.body(CERTIFICATE))
    content = CLIENT_CV_CONTEXT + transcript_hash([*server.hashed, certificate])
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), hashes.SHA256().digest_size)
    rsa_identity.certificate.public_key().verify(verify[4:], content, pss, hashes.SHA256())


def test_4_4_3_rsa_key_and_only_pkcs1_offered_sends_no_certificate(server_material, rsa_identity):
    """With nothing it may sign a TLS 1.3 CertificateVerify with, the identity is not sent:
    an empty Certificate and no CertificateVerify."""
    _, flight = _our_verify(server_material, rsa_identity, b"\x04\x01")
    assert flight.types == [CERTIFICATE, FINISHED]
