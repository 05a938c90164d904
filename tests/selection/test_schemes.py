"""The scheme table against Go's signatureSchemesForCertificate, and sign/verify round trips."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tlsengine.errors import UnsupportedKeyError
from tlsengine.identity.index import IdentityIndex
from tlsengine.identity.model import Identity
from tlsengine.selection import schemes
from tlsengine.testing import CA

ECDSA_ALL = (
    "ecdsa_secp256r1_sha256",
    "ecdsa_secp384r1_sha384",
    "ecdsa_secp521r1_sha512",
    "ecdsa_sha1",
)
PSS = ("rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512")
PKCS1 = ("rsa_pkcs1_sha256", "rsa_pkcs1_sha384", "rsa_pkcs1_sha512", "rsa_pkcs1_sha1")

# (key spec, version) -> the schemes Go's signatureSchemesForCertificate allows (plus Ed448,
# which Go lacks). TLS 1.2 ECDSA keys take any ECDSA hash; TLS 1.3 binds the curve.
GO_TABLE = [
    ("p256", "TLSv1.2", set(ECDSA_ALL)),
    ("p384", "TLSv1.2", set(ECDSA_ALL)),
    ("p521", "TLSv1.2", set(ECDSA_ALL)),
    ("p256", "TLSv1.3", {"ecdsa_secp256r1_sha256"}),
    ("p384", "TLSv1.3", {"ecdsa_secp384r1_sha384"}),
    ("p521", "TLSv1.3", {"ecdsa_secp521r1_sha512"}),
    ("rsa2048", "TLSv1.2", set(PSS) | set(PKCS1)),
    ("rsa2048", "TLSv1.3", set(PSS)),
    # 128-byte modulus < 2*64+2: no PSS with SHA-512 (Go's minModulusBytes rule)
    ("rsa1024", "TLSv1.2", {"rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", *PKCS1}),
    ("rsa1024", "TLSv1.3", {"rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384"}),
    ("ed25519", "TLSv1.2", {"ed25519"}),
    ("ed25519", "TLSv1.3", {"ed25519"}),
    ("ed448", "TLSv1.3", {"ed448"}),
]


@pytest.mark.parametrize(("spec", "version", "expected"), GO_TABLE)
def test_schemes_for_key_follow_go(pki, spec, version, expected):
    profile = schemes.key_profile(pki.keys[spec])
    assert set(schemes.schemes_for_key(profile, version)) == expected


def test_rsa_pss_pss_never_made_by_our_keys(pki):
    for spec in ("rsa2048", "rsa1024"):
        for version in schemes.VERSIONS:
            made = schemes.schemes_for_key(schemes.key_profile(pki.keys[spec]), version)
            assert not any(name.startswith("rsa_pss_pss") for name in made)


def test_min_modulus_sizes_match_go():
    assert schemes.SCHEMES["rsa_pss_rsae_sha256"].min_rsa_bytes == 66
    assert schemes.SCHEMES["rsa_pss_rsae_sha512"].min_rsa_bytes == 130
    assert schemes.SCHEMES["rsa_pkcs1_sha512"].min_rsa_bytes == 94
    assert schemes.SCHEMES["rsa_pkcs1_sha1"].min_rsa_bytes == 46


def _every_key_scheme_version(keys):
    for spec in ("p256", "p384", "p521", "ed25519", "ed448", "rsa2048", "rsa1024"):
        for version in schemes.VERSIONS:
            for name in schemes.schemes_for_key(schemes.key_profile(keys[spec]), version):
                yield spec, name, version


def test_sign_verify_round_trip_for_every_scheme(pki):
    seen = set()
    for spec, name, version in _every_key_scheme_version(pki.keys):
        key = pki.keys[spec]
        data = b" " * 64 + b"TLS 1.3, client CertificateVerify\x00" + bytes(32)
        signature = schemes.sign(key, name, data)
        schemes.verify(key.public_key(), name, signature, data, version=version)
        with pytest.raises(InvalidSignature):
            schemes.verify(key.public_key(), name, signature, data + b"x", version=version)
        seen.add(name)
    assert seen == set(schemes.SCHEMES) - {
        "rsa_pss_pss_sha256",
        "rsa_pss_pss_sha384",
        "rsa_pss_pss_sha512",
    }


def test_pss_signature_uses_hash_length_salt(pki):
    key = pki.keys["rsa2048"]
    signature = schemes.sign(key, "rsa_pss_rsae_sha384", b"data")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    key.public_key().verify(signature, b"data", pss, hashes.SHA384())


def test_verify_refuses_what_tls13_forbids(pki):
    rsa_key, p256 = pki.keys["rsa2048"], pki.keys["p256"]
    sig = schemes.sign(rsa_key, "rsa_pkcs1_sha256", b"d")
    schemes.verify(rsa_key.public_key(), "rsa_pkcs1_sha256", sig, b"d", version="TLSv1.2")
    with pytest.raises(InvalidSignature):
        schemes.verify(rsa_key.public_key(), "rsa_pkcs1_sha256", sig, b"d", version="TLSv1.3")
    sig = schemes.sign(p256, "ecdsa_secp384r1_sha384", b"d")  # fine in TLS 1.2
    schemes.verify(p256.public_key(), "ecdsa_secp384r1_sha384", sig, b"d", version="TLSv1.2")
    with pytest.raises(InvalidSignature):
        schemes.verify(p256.public_key(), "ecdsa_secp384r1_sha384", sig, b"d", version="TLSv1.3")
    with pytest.raises(InvalidSignature):
        schemes.verify(p256.public_key(), "rsa_pss_rsae_sha256", sig, b"d")
    with pytest.raises(InvalidSignature):
        schemes.verify(p256.public_key(), "0x1234", sig, b"d")


def test_sign_refuses_a_key_that_cannot_make_the_scheme(pki):
    with pytest.raises(UnsupportedKeyError, match="cannot sign with rsa_pss_rsae_sha256"):
        schemes.sign(pki.keys["p256"], "rsa_pss_rsae_sha256", b"d")
    with pytest.raises(UnsupportedKeyError, match="too small"):
        schemes.sign(pki.keys["rsa1024"], "rsa_pss_rsae_sha512", b"d")
    with pytest.raises(UnsupportedKeyError, match="not one tlsengine can use"):
        schemes.sign(pki.keys["ed25519"], "ed25520", b"d")


def test_names_and_code_points():
    assert schemes.scheme_name(0x0804) == "rsa_pss_rsae_sha256"
    assert schemes.scheme_name(0x081A) == "ecdsa_brainpoolP256r1tls13_sha256"
    assert schemes.scheme_name(0xABCD) == "0xabcd"
    assert schemes.scheme_code("ed448") == 0x0808
    assert schemes.scheme_code("0xABCD") == 0xABCD
    assert schemes.scheme_code("0xzz00") is None
    assert schemes.scheme_code("rsa_pss_sha256") is None  # not an RFC 8446 name


def test_certificate_types_narrow_like_go():
    offered = [
        "rsa_pss_rsae_sha256",
        "ecdsa_secp256r1_sha256",
        "ed25519",
        "rsa_pkcs1_sha1",
        "ed448",
    ]
    assert schemes.narrow_by_certificate_types(offered, ["rsa_sign"]) == [
        "rsa_pss_rsae_sha256",
        "rsa_pkcs1_sha1",
    ]
    assert schemes.narrow_by_certificate_types(offered, ["ecdsa_sign"]) == [
        "ecdsa_secp256r1_sha256",
        "ed25519",
        "ed448",
    ]
    assert schemes.narrow_by_certificate_types(offered, ["dss_sign"]) == []


def _leaf_signature(ca: CA, key) -> str | None:
    cert, k = ca.issue("sig probe", key)
    index = IdentityIndex((Identity.create(cert, k, (cert, ca.certificate)),))
    sig = index.facts(0).signatures[0]
    return schemes.certificate_signature_scheme(
        sig.algorithm_oid, sig.hash_name, sig.issuer_key_oid
    )


def test_certificate_signature_schemes(pki):
    assert _leaf_signature(pki.rsa_root, pki.keys["p256"]) == "rsa_pkcs1_sha256"
    assert _leaf_signature(pki.intermediate, pki.keys["p256"]) == "ecdsa_secp384r1_sha384"
    assert _leaf_signature(pki.ec_root, pki.keys["p256"]) == "ecdsa_secp256r1_sha256"


def test_pss_and_sha1_and_eddsa_certificate_signatures(pki):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=leaf"))
        .issuer_name(pki.rsa_root.name)
        .public_key(pki.keys["p256"].public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    cert = builder.sign(pki.rsa_root.key, hashes.SHA384(), rsa_padding=pss)
    oid, rsa_oid = cert.signature_algorithm_oid.dotted_string, "1.2.840.113549.1.1.1"
    assert schemes.certificate_signature_scheme(oid, "sha384", rsa_oid) == "rsa_pss_rsae_sha384"
    assert (
        schemes.certificate_signature_scheme(oid, "sha384", schemes.RSASSA_PSS_OID)
        == "rsa_pss_pss_sha384"
    )
    assert schemes.certificate_signature_scheme("1.2.840.113549.1.1.5", "sha1") == "rsa_pkcs1_sha1"
    assert schemes.certificate_signature_scheme("1.3.101.113", None) == "ed448"
    assert schemes.certificate_signature_scheme("1.2.840.10040.4.3", "sha1") is None  # DSA
