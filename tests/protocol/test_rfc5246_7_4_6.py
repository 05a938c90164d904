"""RFC 5246 section 7.4.6, Client Certificate (with 7.4.2's Certificate structure): each
rule that binds the client, one test each, judged on what the client sent, opened by the
oracle's own key schedule (rfc5246_peer.py)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from rfc5246_peer import (
    CERTIFICATE,
    CLIENT_KEY_EXCHANGE,
    FINISHED,
    OracleServer12,
    certificate_request12,
    connect,
    der_chain,
    read_client_flight,
)

from tlsengine.cli.pki import key_usage_with
from tlsengine.errors import ClientCertificateRejected
from tlsengine.identity.model import Identity

ECDSA_AND_RSA = (0x0403, 0x0401)


def _flight(server_material, identities, request: bytes | None):
    chain, key = server_material
    srv = OracleServer12(chain, key, request=request)
    conn, srv, _ = connect(server_material, identities, server=srv)
    data = conn.data_to_send()
    flight = read_client_flight(srv, data)
    assert flight.finished_verifies
    srv.take(data)
    return flight, conn, srv


def _certificate_list(flight) -> list[bytes]:
    """Decode ``ASN.1Cert certificate_list<0..2^24-1>`` ourselves (not with wire12)."""
    body = flight.body(CERTIFICATE)
    total, rest = int.from_bytes(body[:3], "big"), body[3:]
    assert total == len(rest)
    ders = []
    while rest:
        n = int.from_bytes(rest[:3], "big")
        ders.append(rest[3 : 3 + n])
        rest = rest[3 + n :]
    return ders


def test_7_4_6_certificate_only_sent_if_the_server_requests_one(server_material, client_identity):
    """ "This message is only sent if the server requests a certificate.\""""
    flight, conn, _ = _flight(server_material, [client_identity], None)
    assert flight.types == [CLIENT_KEY_EXCHANGE, FINISHED]
    assert conn.client_identity is None


def test_7_4_6_certificate_is_the_first_message_after_server_hello_done(
    server_material, client_identity
):
    """ "This is the first message the client can send after receiving a ServerHelloDone.\""""
    flight, _, _ = _flight(server_material, [client_identity], certificate_request12())
    assert flight.types[0] == CERTIFICATE and flight.before_ccs == 3


@pytest.mark.parametrize("loaded", ["none", "unsuitable"])
def test_7_4_6_no_suitable_certificate_sends_a_certificate_with_no_certificates(
    server_material, root_ca, loaded
):
    """ "If no suitable certificate is available, the client MUST send a certificate message
    containing no certificates. That is, the certificate_list structure has a length of
    zero.\""""
    identities = [root_ca.identity("rsa", "rsa2048")] if loaded == "unsuitable" else []
    flight, _, _ = _flight(server_material, identities, certificate_request12())
    assert flight.types[0] == CERTIFICATE
    assert flight.body(CERTIFICATE) == b"\x00\x00\x00"


def test_7_4_6_chain_is_x509v3_leaf_first_each_certifying_the_one_before(server_material, root_ca):
    """7.4.2 (which 7.4.6 uses): "The certificate type MUST be X.509v3"; "The sender's
    certificate MUST come first in the list. Each following certificate MUST directly
    certify the one preceding it.\""""
    identity = root_ca.intermediate("tlsengine Test Intermediate").identity("chained")
    flight, _, _ = _flight(server_material, [identity], certificate_request12())
    ders = _certificate_list(flight)
    # leaf, intermediate; the self-signed root "MAY be omitted" (7.4.2) and is by default
    assert ders == der_chain(identity)[:-1] and len(ders) == 2
    certs = [x509.load_der_x509_certificate(d) for d in ders]
    assert all(c.version is x509.Version.v3 for c in certs)
    assert certs[0] == identity.certificate
    for subject, issuer in zip(certs, certs[1:], strict=False):
        subject.verify_directly_issued_by(issuer)


@pytest.mark.parametrize(
    ("types", "key_class"),
    [(b"\x01", rsa.RSAPublicKey), (b"\x40", ec.EllipticCurvePublicKey)],
    ids=["rsa_sign", "ecdsa_sign"],
)
def test_7_4_6_end_entity_key_is_compatible_with_the_certificate_types(
    server_material, root_ca, types, key_class
):
    """ "The end-entity certificate's public key (and associated restrictions) has to be
    compatible with the certificate types listed in CertificateRequest": rsa_sign -> an RSA
    key, ecdsa_sign -> an ECDSA-capable key (RFC 8422 5.6)."""
    identities = [root_ca.identity("ec", "p256"), root_ca.identity("rsa", "rsa2048")]
    request = certificate_request12(types, ECDSA_AND_RSA)
    for order in (identities, identities[::-1]):
        flight, _, _ = _flight(server_material, order, request)
        leaf = x509.load_der_x509_certificate(_certificate_list(flight)[0])
        assert isinstance(leaf.public_key(), key_class)


def test_7_4_6_certificate_that_allows_signing_is_preferred(server_material, root_ca):
    """rsa_sign/ecdsa_sign: "the certificate MUST allow the key to be used for signing":
    a leaf whose Key Usage lacks digitalSignature loses to one that has it. Deviation (see
    spec-notes/selection.md): alone, it is still sent, ranked last, as Java's NewSunX509."""
    usage = key_usage_with(key_agreement=True)
    cert, key = root_ca.issue("no signing", "p256", key_usage=usage)
    no_signing = Identity.create(cert, key, (cert, root_ca.certificate))
    signing = root_ca.identity("signing", "p256")
    flight, conn, _ = _flight(server_material, [no_signing, signing], certificate_request12())
    assert _certificate_list(flight)[0] == der_chain(signing)[0]
    assert conn.selection.verdicts[1].notes == ("key-usage-mismatch",)


def test_7_4_6_server_refusing_an_empty_certificate_is_a_rejection(server_material):
    """ "If the client does not send any certificates, the server MAY ... respond with a
    fatal handshake_failure alert": the user learns that the server wanted a certificate."""
    flight, conn, srv = _flight(server_material, [], certificate_request12())
    assert flight.body(CERTIFICATE) == b"\x00\x00\x00"
    with pytest.raises(ClientCertificateRejected) as info:
        conn.receive_data(b"\x15\x03\x03\x00\x02\x02\x28")  # handshake_failure, plaintext
    assert info.value.alert == "handshake_failure"
    assert info.value.selection is conn.selection and conn.selection.identity is None
