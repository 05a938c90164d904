"""Bad arguments to CertificateRequestInfo and select_identity end in the documented errors.

CertificateRequestInfo raises DecodeError (it stands for what a server sent); select_identity
raises IdentityError for its own arguments. Each message names the argument at fault.
"""

from __future__ import annotations

import datetime

import pytest

from tlsengine.errors import DecodeError, IdentityError
from tlsengine.selection import CertificateRequestInfo, select_identity

from .conftest import NOW


def request(**kw) -> CertificateRequestInfo:
    kw.setdefault("version", "TLSv1.3")
    kw.setdefault("signature_schemes", ["ecdsa_secp256r1_sha256"])
    return CertificateRequestInfo(**kw)


@pytest.mark.parametrize(
    ("kw", "pattern"),
    [
        ({"signature_schemes": [("a", "b")]}, "pair must be .hash, signature. with two ints"),
        ({"signature_schemes": [(1.5, 2)]}, "two ints 0-255"),
        ({"signature_schemes": [(4, 3, 1)]}, "two ints 0-255"),
        ({"signature_schemes": [(True, 3)]}, "two ints 0-255"),
        # (1, 300) would shift to 0x012c and alias another code point
        ({"signature_schemes": [(1, 300)]}, "two ints 0-255"),
        ({"signature_schemes": [(-1, 3)]}, "two ints 0-255"),
        ({"signature_schemes": 5}, "signature schemes must be a list"),
        ({"signature_schemes": "ed25519"}, "not one str"),
        ({"signature_schemes": b"\x08\x07"}, "not one bytes"),
        ({"signature_schemes_cert": 5}, "signature schemes must be a list"),
        ({"certificate_authorities": 5}, "certificate_authorities must be a list"),
        ({"certificate_authorities": b"\x30\x00"}, "not one bytes"),
        ({"certificate_authorities": [5]}, "x509.Name or its DER"),
        ({"version": "TLSv1.2", "certificate_types": 5}, "certificate_types must be a list"),
        ({"version": "TLSv1.2", "certificate_types": "rsa_sign"}, "not one str"),
        ({"version": "TLSv1.2", "certificate_types": [1.0]}, "unknown certificate type"),
        ({"certificate_authorities_der": 5}, "certificate_authorities_der must be a list"),
        ({"certificate_authorities_der": [5]}, "must hold DER bytes"),
        ({"certificate_authorities_der": [b"\x30\x00"]}, "1 entries for 0"),
    ],
)
def test_request_info_rejects_bad_input_with_decode_error(kw, pattern):
    with pytest.raises(DecodeError, match=pattern):
        request(**kw)


def test_request_info_accepts_wire_shaped_certificate_types():
    info = request(version="TLSv1.2", certificate_types=b"\x01\x40", signature_schemes=[(4, 3)])
    assert info.certificate_types == ("rsa_sign", "ecdsa_sign")
    assert info.signature_schemes == ("ecdsa_secp256r1_sha256",)


def test_request_info_keeps_given_ca_der_when_it_pairs_with_the_names(pki):
    name = pki.ec_root.name
    info = request(
        certificate_authorities=[name], certificate_authorities_der=[name.public_bytes()]
    )
    assert info.certificate_authorities_der == (name.public_bytes(),)


@pytest.fixture(scope="module")
def one(pki):
    return [pki.identity("one")]


@pytest.mark.parametrize(
    ("kw", "pattern"),
    [
        ({"now": "2024-01-01"}, "now must be a datetime.datetime, not str"),
        ({"now": datetime.date(2024, 1, 1)}, "now must be a datetime.datetime, not date"),
        ({"now": 1_700_000_000}, "now must be a datetime.datetime, not int"),
        ({"pins": "h.example"}, "pins must map host names to fingerprints, not str"),
        ({"pins": [("h.example", "00" * 32)]}, "pins must map host names"),
        ({"pins": {5: "00" * 32}}, "pins keys must be host names"),
        ({"pins": {"h.example": 5}}, r"pins\['h.example'\] must be a SHA-256 fingerprint"),
        ({"pins": {"h.example": b"00" * 32}}, r"pins\['h.example'\] must be a SHA-256"),
        (
            {"pins": {"h.example": ["00" * 32, 7]}},
            "holds a value of type int; fingerprints are hex",
        ),
        ({"pins": {"h.example": "ab"}}, "not a SHA-256 fingerprint"),
        ({"pins": {"h.example": "zz" * 32}}, "not a SHA-256 fingerprint"),
        # a bad pin for another host is still a configuration error, not silently ignored
        ({"pins": {"other.example": 5}}, r"pins\['other.example'\]"),
        ({"callback": "first"}, "callback must be callable, not str"),
    ],
)
def test_select_identity_rejects_bad_arguments(one, kw, pattern):
    with pytest.raises(IdentityError, match=pattern):
        select_identity(request(server_name="h.example"), one, **kw)


@pytest.mark.parametrize(
    ("identities", "pattern"),
    [
        (None, "not NoneType"),
        (5, "not int"),
        ("one", "not str"),
        ([5], "needs Identity objects"),
    ],
)
def test_select_identity_rejects_bad_identities(identities, pattern):
    with pytest.raises(IdentityError, match=pattern):
        select_identity(request(), identities)


def test_good_pins_and_naive_now_still_work(pki, one):
    naive = NOW.replace(tzinfo=None)
    fingerprint = one[0].fingerprint.upper()
    pins = {"H.example.": fingerprint, "other.example": {"00" * 32}}
    selection = select_identity(request(server_name="h.example"), one, pins=pins, now=naive)
    assert selection.identity is one[0]
    assert selection.verdicts[0].notes == ("pinned",)
