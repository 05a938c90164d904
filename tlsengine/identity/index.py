"""`IdentityIndex`: the facts selection needs, computed once per store generation.

Choosing among 10,000 identities in under a millisecond means no certificate is parsed during
a handshake. The index precomputes, per identity, the raw facts (key type and size, issuer
names in the chain, EKU and key usage, how each chain certificate is signed) and groups
identities whose facts are identical, so selection judges a group once. It stays in the
identity layer and interprets nothing: what the facts mean is selection's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .model import Identity


@dataclass(frozen=True)
class CertSignature:
    """How one chain certificate is signed (algorithm, hash, issuer key algorithm)."""

    algorithm_oid: str
    hash_name: str | None
    issuer_key_oid: str | None  # None when the issuer certificate is not in the chain
    self_signed: bool


@dataclass(frozen=True)
class IdentityFacts:
    """Everything selection judges an identity by, except validity, pins and load order."""

    key_type: str
    curve: str | None
    rsa_bytes: int
    issuers: tuple[bytes, ...]  # issuer DER of every chain cert, then the last cert's subject
    eku: tuple[str, ...] | None  # dotted OIDs; None when the leaf has no EKU extension
    digital_signature: bool | None  # key usage bit 0; None when the leaf has no key usage
    signatures: tuple[CertSignature, ...]  # leaf first


@dataclass(frozen=True)
class IdentityGroup:
    """Identities with identical facts, positions in load order."""

    facts: IdentityFacts
    positions: tuple[int, ...]


@dataclass(eq=False)
class IdentityIndex:
    """Lookup tables over a fixed tuple of identities (one store snapshot)."""

    identities: tuple[Identity, ...]
    groups: tuple[IdentityGroup, ...] = field(init=False)
    group_of: tuple[int, ...] = field(init=False)  # position -> group id
    by_issuer: dict[bytes, tuple[int, ...]] = field(init=False)  # issuer DER -> group ids
    issuer_names: dict[bytes, x509.Name] = field(init=False)  # issuer DER -> parsed name
    by_key_type: dict[str, tuple[int, ...]] = field(init=False)  # key type -> positions
    by_fingerprint: dict[str, tuple[int, ...]] = field(init=False)  # sha256 hex -> positions
    memo: dict[str, Any] = field(init=False, repr=False)  # derived tables of higher layers

    def __post_init__(self) -> None:
        self.identities = tuple(self.identities)
        cert_cache: dict[x509.Certificate, _CertFacts] = {}
        group_ids: dict[IdentityFacts, int] = {}
        members: list[list[int]] = []
        group_of: list[int] = []
        by_key_type: dict[str, list[int]] = {}
        by_fingerprint: dict[str, list[int]] = {}
        self.issuer_names = {}
        for position, identity in enumerate(self.identities):
            facts = self._facts(identity, cert_cache)
            gid = group_ids.setdefault(facts, len(group_ids))
            if gid == len(members):
                members.append([])
            members[gid].append(position)
            group_of.append(gid)
            by_key_type.setdefault(identity.key_type, []).append(position)
            by_fingerprint.setdefault(identity.fingerprint, []).append(position)
        self.groups = tuple(IdentityGroup(f, tuple(members[g])) for f, g in group_ids.items())
        self.group_of = tuple(group_of)
        by_issuer: dict[bytes, list[int]] = {}
        for gid, group in enumerate(self.groups):
            for der in group.facts.issuers:
                by_issuer.setdefault(der, []).append(gid)
        self.by_issuer = {der: tuple(g) for der, g in by_issuer.items()}
        self.by_key_type = {k: tuple(v) for k, v in by_key_type.items()}
        self.by_fingerprint = {k: tuple(v) for k, v in by_fingerprint.items()}
        self.memo = {}

    def __len__(self) -> int:
        return len(self.identities)

    def facts(self, position: int) -> IdentityFacts:
        """The facts of the identity at ``position``."""
        return self.groups[self.group_of[position]].facts

    def _facts(
        self, identity: Identity, cache: dict[x509.Certificate, _CertFacts]
    ) -> IdentityFacts:
        chain = identity.chain
        infos = []
        for cert in chain:
            info = cache.get(cert)
            if info is None:
                info = cache[cert] = _CertFacts.of(cert)
                self.issuer_names.setdefault(info.issuer, cert.issuer)
                self.issuer_names.setdefault(info.subject, cert.subject)
            infos.append(info)
        issuers = list(dict.fromkeys([i.issuer for i in infos] + [infos[-1].subject]))
        signatures = []
        for n, info in enumerate(infos):
            issuer_key = info.key_oid if info.self_signed else None
            for above in infos[n + 1 :]:
                if above.subject == info.issuer:
                    issuer_key = above.key_oid
                    break
            signatures.append(
                CertSignature(info.sig_oid, info.sig_hash, issuer_key, info.self_signed)
            )
        key = identity.private_key
        curve = key.curve.name if isinstance(key, ec.EllipticCurvePrivateKey) else None
        rsa_bytes = (key.key_size + 7) // 8 if isinstance(key, rsa.RSAPrivateKey) else 0
        leaf = infos[0]
        return IdentityFacts(
            key_type=identity.key_type,
            curve=curve,
            rsa_bytes=rsa_bytes,
            issuers=tuple(issuers),
            eku=leaf.eku,
            digital_signature=leaf.digital_signature,
            signatures=tuple(signatures),
        )


@dataclass(frozen=True)
class _CertFacts:
    subject: bytes
    issuer: bytes
    key_oid: str
    sig_oid: str
    sig_hash: str | None
    self_signed: bool
    eku: tuple[str, ...] | None
    digital_signature: bool | None

    @classmethod
    def of(cls, cert: x509.Certificate) -> _CertFacts:
        subject = cert.subject.public_bytes()
        issuer = cert.issuer.public_bytes()
        try:
            algorithm = cert.signature_hash_algorithm
            sig_hash = algorithm.name if algorithm is not None else None
        except UnsupportedAlgorithm:
            sig_hash = None
        eku: tuple[str, ...] | None = None
        digital_signature: bool | None = None
        for ext in _extensions(cert):
            value = ext.value
            if isinstance(value, x509.ExtendedKeyUsage):
                eku = tuple(oid.dotted_string for oid in value)
            elif isinstance(value, x509.KeyUsage):
                digital_signature = value.digital_signature
        return cls(
            subject=subject,
            issuer=issuer,
            key_oid=cert.public_key_algorithm_oid.dotted_string,
            sig_oid=cert.signature_algorithm_oid.dotted_string,
            sig_hash=sig_hash,
            self_signed=subject == issuer,
            eku=eku,
            digital_signature=digital_signature,
        )


def _extensions(cert: x509.Certificate) -> list[x509.Extension[x509.ExtensionType]]:
    """A certificate's extensions; a malformed extension block counts as none (judged later)."""
    try:
        return list(cert.extensions)
    except ValueError:
        return []


__all__ = ["CertSignature", "IdentityFacts", "IdentityGroup", "IdentityIndex"]
