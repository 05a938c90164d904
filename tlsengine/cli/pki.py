"""A throwaway PKI made in memory: CAs, intermediates and leaves of every key type we support.

The demo and the test suites both need certificates nobody has to keep on disk; this module
makes them with `cryptography` in a few calls. It lives in the `cli` row because the demo uses
it; `tlsengine.testing` re-exports it for harnesses.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..identity.model import Identity, PrivateKey
from ..selection.oid_filters import KEY_USAGE_BITS

KEY_SPECS = ("rsa2048", "rsa3072", "rsa4096", "p256", "p384", "p521", "ed25519", "ed448")
#: The digests this PKI signs with (None for EdDSA keys, which hash internally).
SigningHash = hashes.SHA256 | hashes.SHA384 | hashes.SHA512


def generate_key(spec: str = "p256") -> PrivateKey:
    """A fresh private key; ``spec`` is one of KEY_SPECS."""
    if spec.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(spec[3:]))
    curves: dict[str, Callable[[], ec.EllipticCurve]] = {
        "p256": ec.SECP256R1,
        "p384": ec.SECP384R1,
        "p521": ec.SECP521R1,
    }
    if spec in curves:
        return ec.generate_private_key(curves[spec]())
    if spec == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if spec == "ed448":
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(f"unknown key spec {spec!r}; pick one of {', '.join(KEY_SPECS)}")


def _hash_for(key: PrivateKey) -> SigningHash | None:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384() if key.curve.key_size == 384 else hashes.SHA512()
    return hashes.SHA256()


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@dataclass
class CA:
    """A certificate authority that can sign intermediates and leaves."""

    certificate: x509.Certificate
    key: PrivateKey = field(repr=False)
    parents: tuple[x509.Certificate, ...] = ()  # issuers above this CA, nearest first

    @property
    def name(self) -> x509.Name:
        return self.certificate.subject

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def root(cls, cn: str = "tlsengine Test Root CA", key: str = "p256", days: int = 3650) -> CA:
        k = generate_key(key)
        name = _name(cn, "tlsengine test PKI")
        now = _now()
        ski = x509.SubjectKeyIdentifier.from_public_key(k.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
            )
            .sign(k, _hash_for(k))
        )
        return cls(cert, k)

    def intermediate(self, cn: str, key: str = "p256", days: int = 1825) -> CA:
        k = generate_key(key)
        now = _now()
        cert = (
            self._builder(_name(cn, "tlsengine test PKI"), k)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .sign(self.key, _hash_for(self.key))
        )
        return CA(cert, k, (self.certificate, *self.parents))

    def issue(
        self,
        cn: str,
        key: str | PrivateKey = "p256",
        *,
        client: bool = True,
        server: bool = False,
        dns: Sequence[str] = (),
        ips: Sequence[str] = (),
        eku: Sequence[x509.ObjectIdentifier] | None = None,
        key_usage: x509.KeyUsage | None = None,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        days: int = 365,
    ) -> tuple[x509.Certificate, PrivateKey]:
        """Sign a leaf. ``eku=[]`` omits the EKU extension; ``None`` derives it from flags."""
        k = generate_key(key) if isinstance(key, str) else key
        now = _now()
        start = not_before or now - datetime.timedelta(days=1)
        end = not_after or now + datetime.timedelta(days=days)
        b = (
            self._builder(_name(cn), k)
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if eku is None:
            eku = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
            if server:
                eku = [*eku, ExtendedKeyUsageOID.SERVER_AUTH]
        if eku:
            b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        b = b.add_extension(key_usage or _leaf_key_usage(k), critical=True)
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return b.sign(self.key, _hash_for(self.key)), k

    def identity(self, cn: str, key: str = "p256", *, alias: str | None = None, **kw) -> Identity:
        """Issue a client leaf and wrap it with its chain (leaf, this CA, its parents)."""
        cert, k = self.issue(cn, key, **kw)
        return Identity.create(cert, k, (cert, self.certificate, *self.parents), alias=alias)

    def _builder(self, subject: x509.Name, key: PrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )


def key_usage_with(**bits: bool) -> x509.KeyUsage:
    """A KeyUsage with only the named bits set (x509.KeyUsage wants all nine spelled out)."""
    unknown = set(bits) - set(KEY_USAGE_BITS)
    if unknown:
        raise TypeError(f"not KeyUsage bits: {sorted(unknown)}")
    return x509.KeyUsage(**{name: bits.get(name, False) for name in KEY_USAGE_BITS})


def _ca_key_usage() -> x509.KeyUsage:
    return key_usage_with(digital_signature=True, key_cert_sign=True, crl_sign=True)


def _leaf_key_usage(key: PrivateKey) -> x509.KeyUsage:
    return key_usage_with(
        digital_signature=True, key_encipherment=isinstance(key, rsa.RSAPrivateKey)
    )


def cert_pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def key_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM, for handing to test peers (tests write it, the library never)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
