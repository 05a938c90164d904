"""RFC 5280 7.1 name matching, CA names from DER, and CertificateRequestInfo's normalisation."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsengine.errors import DecodeError
from tlsengine.selection import CertificateRequestInfo
from tlsengine.selection.names import name_from_der, name_key, names_match, prepare


def name(*pairs, kind=_ASN1Type.UTF8String) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value, kind) for oid, value in pairs])


CN, ORG = NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Root CA", "acme root ca"),  # case folding
        ("Acme  Root\tCA", " Acme Root CA "),  # insignificant space (RFC 4518 2.6.1)
        ("Acme\u00adRoot", "AcmeRoot"),  # soft hyphen maps to nothing (RFC 4518 2.2)
        ("ＡＣＭＥ", "acme"),  # NFKC (RFC 4518 2.3)
        ("Straße", "STRASSE"),  # full case folding
    ],
)
def test_string_preparation_matches(a, b):
    assert names_match(name((CN, a)), name((CN, b), kind=_ASN1Type.PrintableString))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (name((CN, "Acme")), name((CN, "Acme2"))),
        (name((ORG, "x"), (CN, "Acme")), name((CN, "Acme"), (ORG, "x"))),  # RDN order matters
        (name((CN, "Acme")), name((ORG, "Acme"))),  # attribute types must match
        (name((ORG, "x"), (CN, "Acme")), name((CN, "Acme"))),  # RDN count
    ],
)
def test_names_that_differ(a, b):
    assert not names_match(a, b)


def test_multi_valued_rdn_compares_as_a_set():
    a = x509.Name(
        [
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(CN, "A"), x509.NameAttribute(ORG, "B")]
            )
        ]
    )
    b = x509.Name(
        [
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(ORG, "b"), x509.NameAttribute(CN, "a")]
            )
        ]
    )
    assert names_match(a, b)


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(codec="latin-1"), max_size=40))
def test_prepare_is_idempotent(text):
    assert prepare(prepare(text)) == prepare(text)


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=30))
def test_case_and_padding_never_matter(text):
    padded = f"  {text.swapcase()}  "
    assert name_key(name((CN, text))) == name_key(name((CN, padded[:64])))


def test_name_from_der_round_trips_and_tolerates_odd_countries(pki):
    der = pki.intermediate.name.public_bytes()
    assert name_from_der(der) == pki.intermediate.name
    # a three-letter country code exists in the wild: parse it, as certificate parsing does
    odd = b"\x30\x0e\x31\x0c\x30\x0a\x06\x03\x55\x04\x06\x13\x03USA"
    assert name_from_der(odd).rfc4514_string() == "C=USA"


@pytest.mark.parametrize(
    "der", [b"", b"\x30", b"\x31\x00", b"\x30\x05ab", b"\x30\x03\x02\x01\x00", b"\x30\x00\x00"]
)
def test_malformed_ca_names_raise_decode_error(der):
    with pytest.raises(DecodeError):
        name_from_der(der)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_only_ever_raise_decode_error(data):
    try:
        name_from_der(data)
    except DecodeError:
        pass


def test_request_normalises_inputs(pki):
    info = CertificateRequestInfo.from_tls12(
        certificate_types=[1, 64, 99],
        signature_schemes=[(4, 3), 0x0804, (2, 1), 0xABCD],
        certificate_authorities=[pki.ec_root.name.public_bytes()],
        server_name="h",
    )
    assert info.version == "TLSv1.2"
    assert info.signature_schemes == (
        "ecdsa_secp256r1_sha256",
        "rsa_pss_rsae_sha256",
        "rsa_pkcs1_sha1",
        "0xabcd",
    )
    assert info.certificate_types == ("rsa_sign", "ecdsa_sign", "0x63")
    assert info.certificate_authorities == (pki.ec_root.name,)
    assert info.certificate_authorities_der == (pki.ec_root.name.public_bytes(),)
    assert info.signature_schemes_cert is None and info.oid_filters == () and info.context == b""


def test_tls13_request_with_wire_oids():
    info = CertificateRequestInfo.from_tls13(
        signature_schemes=[0x0807],
        signature_schemes_cert=[0x0401],
        oid_filters={bytes.fromhex("551d25"): b"", "2.5.29.15": b"\x03\x02\x07\x80"},
        context=b"\x01\x02",
        post_handshake=True,
    )
    assert info.signature_schemes_cert == ("rsa_pkcs1_sha256",)
    assert info.oid_filters == (("2.5.29.37", b""), ("2.5.29.15", b"\x03\x02\x07\x80"))
    assert info.context == b"\x01\x02" and info.post_handshake
    assert info.to_dict()["oid_filters"] == [["2.5.29.37", ""], ["2.5.29.15", "03020780"]]


@pytest.mark.parametrize(
    "kw",
    [
        {"version": "TLSv1.1"},
        {"version": "TLSv1.3", "signature_schemes": ["ecdsa_p256"]},
        {"version": "TLSv1.3", "signature_schemes": "ed25519"},
        {"version": "TLSv1.3", "signature_schemes": [0x10000]},
        {"version": "TLSv1.3", "certificate_types": ["rsa_sign"]},
        {"version": "TLSv1.2", "oid_filters": [("2.5.29.37", b"")]},
        {"version": "TLSv1.2", "certificate_types": ["rsa_signing"]},
        {"version": "TLSv1.3", "oid_filters": [("not an oid", b"")]},
        {"version": "TLSv1.3", "oid_filters": [("2.5.29.37", "text")]},
        {"version": "TLSv1.3", "certificate_authorities": ["CN=x"]},
        {"version": "TLSv1.3", "certificate_authorities": [b"\x30\x01"]},
        {"version": "TLSv1.3", "server_name": 5},
        {"version": "TLSv1.3", "context": "abc"},
    ],
)
def test_bad_requests_raise_decode_error(kw):
    with pytest.raises(DecodeError):
        CertificateRequestInfo(**kw)


def test_malformed_wire_oid():
    with pytest.raises(DecodeError, match="malformed OBJECT IDENTIFIER"):
        CertificateRequestInfo.from_tls13(signature_schemes=[], oid_filters=[(b"\x81", b"")])


def test_request_is_frozen_and_comparable(pki):
    a = CertificateRequestInfo(version="TLSv1.3", signature_schemes=[0x0807])
    b = CertificateRequestInfo(version="TLSv1.3", signature_schemes=["ed25519"])
    assert a == b
    with pytest.raises(AttributeError):
        a.version = "TLSv1.2"  # type: ignore[misc]


def test_ca_name_with_string_tag_zero_is_a_decode_error() -> None:
    """Found by fuzzing the protocol: cryptography raises KeyError for an ASN.1 tag of 0."""
    with pytest.raises(DecodeError, match="does not parse as an X.501 Name"):
        name_from_der(bytes.fromhex("300d310b3009060355040300024142"))
