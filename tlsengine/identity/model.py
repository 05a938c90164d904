"""`Identity`: one client certificate chain with its private key.

Frozen so a handshake can hold a snapshot of the store without locks; the private key is
kept out of ``repr``/``str`` so an identity can be logged or traced safely.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Literal, NoReturn

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from ..errors import UnsupportedKeyError

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)
KeyType = Literal["rsa", "ec", "ed25519", "ed448"]

#: Curves we can sign with in TLS (RFC 8446 section 4.2.3 names exactly these).
SUPPORTED_CURVES = {"secp256r1", "secp384r1", "secp521r1"}


def key_type_of(key: object) -> KeyType:
    """Classify a private or public key; anything TLS client auth cannot use is refused."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.name not in SUPPORTED_CURVES:
            raise UnsupportedKeyError(
                f"EC key on curve {key.curve.name} cannot sign TLS handshakes; "
                "use P-256, P-384 or P-521"
            )
        return "ec"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "ed448"
    raise UnsupportedKeyError(
        f"{type(key).__name__.lstrip('_')} keys are not supported for TLS client "
        "authentication; use RSA, EC (P-256/384/521), Ed25519 or Ed448"
    )


def public_key_der(key: PrivateKey | PublicKeyTypes) -> bytes:
    """SubjectPublicKeyInfo DER of a private or public key, used to pair keys with certs."""
    pub = key.public_key() if isinstance(key, PrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def normalise_fingerprint(text: str) -> str | None:
    """``text`` spelled as `Identity.fingerprint` (64 lower-case hex), or None if it is not one.

    Users paste fingerprints as tools print them (colon-separated, upper case), so the store
    and selection's pins accept those spellings too, through this one rule.
    """
    value = text.replace(":", "").replace(" ", "").lower()
    if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value
    return None


def private_key_of(key: object) -> PrivateKey:
    """``key`` as a private key TLS client auth can sign with, else UnsupportedKeyError."""
    key_type_of(key)  # refuses unusable algorithms and curves with an actionable message
    if not isinstance(key, PrivateKey):
        raise UnsupportedKeyError(f"a {type(key).__name__.lstrip('_')} is not a private key")
    return key


@dataclass(frozen=True, eq=False)
class Identity:
    """A leaf certificate, its chain (leaf first) and the matching private key."""

    alias: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    private_key: PrivateKey = field(repr=False)
    key_type: KeyType
    fingerprint: str
    subject: str
    issuer: str
    not_before: datetime.datetime
    not_after: datetime.datetime

    @classmethod
    def create(
        cls,
        certificate: x509.Certificate,
        private_key: PrivateKey,
        chain: tuple[x509.Certificate, ...] | list[x509.Certificate] = (),
        alias: str | None = None,
    ) -> Identity:
        """Build an identity, deriving every descriptive field from the leaf.

        ``chain`` may or may not start with the leaf; the stored chain always does.
        """
        key_type = key_type_of(private_key)
        full = tuple(chain)
        if not full or full[0] != certificate:
            full = (certificate, *full)
        fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        if alias is None:
            alias = default_alias(certificate)
        return cls(
            alias=alias,
            certificate=certificate,
            chain=full,
            private_key=private_key,
            key_type=key_type,
            fingerprint=fingerprint,
            subject=certificate.subject.rfc4514_string(),
            issuer=certificate.issuer.rfc4514_string(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )

    def __repr__(self) -> str:
        return (
            f"Identity(alias={self.alias!r}, key_type={self.key_type!r}, "
            f"subject={self.subject!r}, issuer={self.issuer!r}, "
            f"fingerprint={self.fingerprint[:16]}…, not_after={self.not_after.isoformat()})"
        )

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identity):
            return NotImplemented
        return self.fingerprint == other.fingerprint and self.alias == other.alias

    def __hash__(self) -> int:
        return hash((self.fingerprint, self.alias))

    def __reduce__(self) -> NoReturn:  # never let pickle carry the key to disk
        raise TypeError("Identity objects hold a private key and cannot be pickled")


def default_alias(certificate: x509.Certificate) -> str:
    """The leaf's subject CN, else its SHA-256 fingerprint (friendlyName wins upstream)."""
    cns = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if cns and isinstance(cns[0].value, str) and cns[0].value:
        return cns[0].value
    return certificate.fingerprint(hashes.SHA256()).hex()
