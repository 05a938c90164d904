"""The signature-scheme table: names, code points, which keys can make which scheme.

Selection filters identities by "can this key sign with a scheme the server offered, in this
TLS version", and the protocol signs CertificateVerify with the chosen scheme; both must read
the same table, so it lives here with `sign` and `verify`. The key rules follow Go's
``signatureSchemesForCertificate`` (RFC 8446 sections 4.2.3 and 4.4.3, RFC 5246 7.4.1.4.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

from ..errors import UnsupportedKeyError
from ..identity.model import PrivateKey

Version = Literal["TLSv1.2", "TLSv1.3"]
VERSIONS: tuple[Version, ...] = ("TLSv1.2", "TLSv1.3")

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_DIGEST_SIZE = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
# DigestInfo prefix lengths of PKCS#1 v1.5 (RFC 8017 section 9.2, note 1).
_PKCS1_PREFIX = {"sha1": 15, "sha256": 19, "sha384": 19, "sha512": 19}


@dataclass(frozen=True)
class Scheme:
    """One row of the table: what a scheme needs from a key and where it is allowed."""

    name: str
    code: int
    algorithm: Literal["rsa_pkcs1", "rsa_pss_rsae", "rsa_pss_pss", "ecdsa", "ed25519", "ed448"]
    hash: str | None
    curve: str | None = None  # the curve a TLS 1.3 ECDSA scheme is bound to
    tls13: bool = True  # usable in a TLS 1.3 CertificateVerify

    @property
    def min_rsa_bytes(self) -> int:
        """Smallest modulus that can carry this scheme (Go's rsaSignatureSchemes rule)."""
        if self.hash is None:
            return 0
        if self.algorithm == "rsa_pss_rsae":  # salt = hash length: emLen >= 2*hLen + 2
            return 2 * _DIGEST_SIZE[self.hash] + 2
        if self.algorithm == "rsa_pkcs1":  # emLen >= DigestInfo prefix + hLen + 11
            return _PKCS1_PREFIX[self.hash] + _DIGEST_SIZE[self.hash] + 11
        return 0


_TABLE = (
    Scheme("ecdsa_secp256r1_sha256", 0x0403, "ecdsa", "sha256", "secp256r1"),
    Scheme("ecdsa_secp384r1_sha384", 0x0503, "ecdsa", "sha384", "secp384r1"),
    Scheme("ecdsa_secp521r1_sha512", 0x0603, "ecdsa", "sha512", "secp521r1"),
    Scheme("ed25519", 0x0807, "ed25519", None),
    Scheme("ed448", 0x0808, "ed448", None),
    Scheme("rsa_pss_rsae_sha256", 0x0804, "rsa_pss_rsae", "sha256"),
    Scheme("rsa_pss_rsae_sha384", 0x0805, "rsa_pss_rsae", "sha384"),
    Scheme("rsa_pss_rsae_sha512", 0x0806, "rsa_pss_rsae", "sha512"),
    Scheme("rsa_pss_pss_sha256", 0x0809, "rsa_pss_pss", "sha256"),
    Scheme("rsa_pss_pss_sha384", 0x080A, "rsa_pss_pss", "sha384"),
    Scheme("rsa_pss_pss_sha512", 0x080B, "rsa_pss_pss", "sha512"),
    Scheme("rsa_pkcs1_sha256", 0x0401, "rsa_pkcs1", "sha256", tls13=False),
    Scheme("rsa_pkcs1_sha384", 0x0501, "rsa_pkcs1", "sha384", tls13=False),
    Scheme("rsa_pkcs1_sha512", 0x0601, "rsa_pkcs1", "sha512", tls13=False),
    Scheme("rsa_pkcs1_sha1", 0x0201, "rsa_pkcs1", "sha1", tls13=False),
    Scheme("ecdsa_sha1", 0x0203, "ecdsa", "sha1", tls13=False),
)

#: Every scheme we can sign or verify, by RFC 8446 name.
SCHEMES: dict[str, Scheme] = {s.name: s for s in _TABLE}
#: Code point -> name, including the ones we only display (names from tlslite-ng / IANA).
NAMES: dict[int, str] = {
    0x0301: "rsa_pkcs1_sha224",
    0x0303: "ecdsa_sha224",
    0x0202: "dsa_sha1",
    0x0302: "dsa_sha224",
    0x0402: "dsa_sha256",
    0x0502: "dsa_sha384",
    0x0602: "dsa_sha512",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
    **{s.code: s.name for s in _TABLE},
}
CODES: dict[str, int] = {name: code for code, name in NAMES.items()}


def scheme_name(code: int) -> str:
    """RFC 8446 name of a code point, or ``0xNNNN`` for one we do not know."""
    return NAMES.get(code, f"0x{code:04x}")


def scheme_code(name: str) -> int | None:
    """Code point of a name (or of a ``0xNNNN`` string); None when neither."""
    if name in CODES:
        return CODES[name]
    if name.lower().startswith("0x") and len(name) == 6:
        try:
            return int(name, 16)
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- key profiles

#: What selection needs to know about a key: (key type, curve name, RSA modulus bytes).
KeyProfile = tuple[str, str | None, int]


def key_profile(key: object) -> KeyProfile:
    """Profile of a private or public key (RSA-PSS-only keys do not exist in cryptography)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return ("rsa", None, (key.key_size + 7) // 8)
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return ("ec", key.curve.name, 0)
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return ("ed25519", None, 0)
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return ("ed448", None, 0)
    return ("unsupported", None, 0)


def can_make(profile: KeyProfile, scheme: Scheme, version: str) -> bool:
    """Whether a key of this profile can make ``scheme`` in a CertificateVerify of ``version``.

    TLS 1.3 binds ECDSA schemes to their curve and drops PKCS#1 and SHA-1 (RFC 8446 4.2.3);
    TLS 1.2 lets any ECDSA key use any ECDSA hash. rsa_pss_pss_* needs an RSASSA-PSS key,
    which we never have.
    """
    key_type, curve, rsa_bytes = profile
    if version == "TLSv1.3" and not scheme.tls13:
        return False
    if scheme.algorithm == "ecdsa":
        return key_type == "ec" and (version != "TLSv1.3" or curve == scheme.curve)
    if scheme.algorithm in ("rsa_pss_rsae", "rsa_pkcs1"):
        return key_type == "rsa" and rsa_bytes >= scheme.min_rsa_bytes
    if scheme.algorithm == "rsa_pss_pss":
        return False
    return key_type == scheme.algorithm  # ed25519, ed448


def schemes_for_key(profile: KeyProfile, version: str) -> tuple[str, ...]:
    """Every scheme name a key of this profile can make in ``version``, in table order."""
    return tuple(s.name for s in _TABLE if can_make(profile, s, version))


def usable_schemes(profile: KeyProfile, offered: Iterable[str], version: str) -> list[str]:
    """The offered schemes (server order kept) that a key of this profile can make."""
    out = []
    for name in offered:
        scheme = SCHEMES.get(name)
        if scheme is not None and can_make(profile, scheme, version):
            out.append(name)
    return out


# --------------------------------------------------------------------------- TLS 1.2 types

#: RFC 5246 7.4.4 / RFC 8422 5.5 ClientCertificateType values.
CERTIFICATE_TYPES: dict[int, str] = {
    1: "rsa_sign",
    2: "dss_sign",
    3: "rsa_fixed_dh",
    4: "dss_fixed_dh",
    64: "ecdsa_sign",
    65: "rsa_fixed_ecdh",
    66: "ecdsa_fixed_ecdh",
}
CERTIFICATE_TYPE_CODES = {v: k for k, v in CERTIFICATE_TYPES.items()}


def narrow_by_certificate_types(
    schemes: Iterable[str], certificate_types: Iterable[str]
) -> list[str]:
    """Keep the schemes whose key type the TLS 1.2 ``certificate_types`` allow (as Go does).

    rsa_sign admits RSA (PKCS#1 and PSS); ecdsa_sign admits ECDSA and EdDSA (RFC 8422 5.5).
    """
    types = set(certificate_types)
    rsa_ok = "rsa_sign" in types
    ec_ok = "ecdsa_sign" in types
    out = []
    for name in schemes:
        scheme = SCHEMES.get(name)
        if scheme is None:
            continue
        if scheme.algorithm.startswith("rsa") and rsa_ok:
            out.append(name)
        elif scheme.algorithm in ("ecdsa", "ed25519", "ed448") and ec_ok:
            out.append(name)
    return out


# --------------------------------------------------------------------------- certificates

_RSA_SIG_OIDS = {
    "1.2.840.113549.1.1.5": "rsa_pkcs1_sha1",
    "1.2.840.113549.1.1.11": "rsa_pkcs1_sha256",
    "1.2.840.113549.1.1.12": "rsa_pkcs1_sha384",
    "1.2.840.113549.1.1.13": "rsa_pkcs1_sha512",
}
_ECDSA_SIG_OIDS = {
    "1.2.840.10045.4.1": "ecdsa_sha1",
    "1.2.840.10045.4.3.2": "ecdsa_secp256r1_sha256",
    "1.2.840.10045.4.3.3": "ecdsa_secp384r1_sha384",
    "1.2.840.10045.4.3.4": "ecdsa_secp521r1_sha512",
}
RSASSA_PSS_OID = "1.2.840.113549.1.1.10"
_EDDSA_SIG_OIDS = {"1.3.101.112": "ed25519", "1.3.101.113": "ed448"}


def certificate_signature_scheme(
    signature_oid: str, hash_name: str | None, issuer_key_oid: str | None = None
) -> str | None:
    """The scheme a certificate's signature corresponds to, for signature_algorithms_cert.

    PKCS#1 signatures map to rsa_pkcs1_* (valid in signature_algorithms_cert even in TLS 1.3).
    ECDSA maps by hash alone, as OpenSSL does: the curve belongs to the issuer's key.
    RSASSA-PSS maps to rsa_pss_pss_* when the issuer key is itself RSASSA-PSS, else rsae.
    None means no TLS scheme names this signature (DSA, SHA-224, GOST, ...).
    """
    if signature_oid in _RSA_SIG_OIDS:
        return _RSA_SIG_OIDS[signature_oid]
    if signature_oid in _ECDSA_SIG_OIDS:
        return _ECDSA_SIG_OIDS[signature_oid]
    if signature_oid in _EDDSA_SIG_OIDS:
        return _EDDSA_SIG_OIDS[signature_oid]
    if signature_oid == RSASSA_PSS_OID and hash_name in ("sha256", "sha384", "sha512"):
        kind = "pss" if issuer_key_oid == RSASSA_PSS_OID else "rsae"
        return f"rsa_pss_{kind}_{hash_name}"
    return None


# --------------------------------------------------------------------------- sign / verify


def _scheme(name: str) -> Scheme:
    scheme = SCHEMES.get(name)
    if scheme is None:
        raise UnsupportedKeyError(f"signature scheme {name!r} is not one tlsengine can use")
    return scheme


def _hash(scheme: Scheme) -> hashes.HashAlgorithm:
    assert scheme.hash is not None
    return _HASHES[scheme.hash]()


def _pss(scheme: Scheme) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(_hash(scheme)), salt_length=_DIGEST_SIZE[scheme.hash or ""])


def sign(key: PrivateKey, scheme: str, data: bytes) -> bytes:
    """Sign ``data`` (the CertificateVerify content) with ``key`` under ``scheme``.

    Raises UnsupportedKeyError when the key cannot make the scheme at all; the version
    rules (curve binding, no PKCS#1 in 1.3) are selection's job, checked before this call.
    """
    s = _scheme(scheme)
    kind, _, rsa_bytes = key_profile(key)
    if s.algorithm in ("rsa_pss_rsae", "rsa_pkcs1") and isinstance(key, rsa.RSAPrivateKey):
        if rsa_bytes < s.min_rsa_bytes:
            raise UnsupportedKeyError(f"a {key.key_size}-bit RSA key is too small for {scheme}")
        pad = _pss(s) if s.algorithm == "rsa_pss_rsae" else padding.PKCS1v15()
        return key.sign(data, pad, _hash(s))
    if s.algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(_hash(s)))
    if s.algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if s.algorithm == "ed448" and isinstance(key, ed448.Ed448PrivateKey):
        return key.sign(data)
    raise UnsupportedKeyError(f"a {kind} key cannot sign with {scheme}")


def verify(
    public_key: object, scheme: str, signature: bytes, data: bytes, *, version: str | None = None
) -> None:
    """Check a peer's signature; raise cryptography's InvalidSignature on any mismatch.

    A scheme we do not know, one that does not fit the key, or (with ``version="TLSv1.3"``)
    one TLS 1.3 forbids or an ECDSA curve other than the scheme's, all count as invalid.
    """
    s = SCHEMES.get(scheme)
    if s is None:
        raise InvalidSignature(f"unknown signature scheme {scheme!r}")
    profile = key_profile(public_key)
    check_version = version if version in VERSIONS else "TLSv1.2"
    if s.algorithm == "rsa_pss_pss" or not can_make(profile, s, check_version):
        raise InvalidSignature(f"a {profile[0]} key cannot make {scheme} in {check_version}")
    if isinstance(public_key, rsa.RSAPublicKey):
        pad = _pss(s) if s.algorithm == "rsa_pss_rsae" else padding.PKCS1v15()
        public_key.verify(signature, data, pad, _hash(s))
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(_hash(s)))
    elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        public_key.verify(signature, data)
    else:
        raise InvalidSignature(f"cannot verify with a {type(public_key).__name__}")


__all__ = [
    "CERTIFICATE_TYPES",
    "CODES",
    "NAMES",
    "SCHEMES",
    "KeyProfile",
    "Scheme",
    "can_make",
    "certificate_signature_scheme",
    "key_profile",
    "narrow_by_certificate_types",
    "scheme_code",
    "scheme_name",
    "schemes_for_key",
    "sign",
    "usable_schemes",
    "verify",
]
