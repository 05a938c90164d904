"""Server chain and name verification on `cryptography.x509.verification`.

Two profiles, chosen explicitly by the caller and never silently:

``"webpki"`` (default)
    cryptography's CA/Browser-Forum profile as is: AKI on every non-root, SAN on the leaf,
    critical basicConstraints on CAs, serverAuth EKU, no weak keys or SHA-1.

``"relaxed"``
    For private PKIs whose certificates break Web PKI rules without being unsafe. It still
    builds a path to a trusted root, checks every signature and validity period, requires
    ``basicConstraints cA=TRUE`` (any criticality) on each issuer and a subjectAltName
    matching the server name on the leaf, and rejects a leaf whose EKU excludes serverAuth.
    It no longer requires AKI/SKI, keyUsage, EKU presence or particular extension
    criticality. Hostnames are never matched against the subject CN (RFC 9525), and
    cryptography insists on basicConstraints even on a trust anchor, so v1-style roots
    without it still fail (rule ``not-a-ca``).

Failures raise `CertificateVerificationError` whose ``rule`` names the broken check, so a
user can tell an unknown CA from an expired certificate without reading Rust messages.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Callable, Iterable
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    DNSName,
    ExtensionPolicy,
    IPAddress,
    PolicyBuilder,
    Store,
    VerificationError,
)

from ..errors import CertificateVerificationError
from .cache import VerificationCache, roots_identity
from .roots import TrustRoots

Profile = Literal["webpki", "relaxed"]
#: Smallest RSA server key accepted (both profiles): 1024-bit RSA is within reach of attackers.
MIN_RSA_BITS = 2048
PROFILES: tuple[str, ...] = ("webpki", "relaxed")

# cryptography's message fragment -> (rule, advice). First match wins, so order matters.
_RULES: tuple[tuple[str, str, str], ...] = (
    ("no matching subjectAltName", "hostname-mismatch", "the certificate is for another name"),
    ("signature does not match", "invalid-signature", "a signature in the chain is wrong"),
    ("basicConstraints.cA", "not-a-ca", "an issuing certificate is not marked as a CA"),
    ("no basicConstraints", "not-a-ca", "a CA certificate (even a root) lacks basicConstraints"),
    ("path length", "path-length", "the chain is longer than a CA allows"),
    ("EKU", "eku-mismatch", "the certificate is not valid for TLS server authentication"),
    ("has no subjectAltName", "missing-san", "the leaf has no subjectAltName extension"),
    ("RSA key", "weak-key", "a key in the chain is too small"),
    ("forbidden", "weak-algorithm", "the chain uses a forbidden signature algorithm"),
    ("unsupported", "weak-algorithm", "the chain uses an unsupported algorithm"),
    ("name constraint", "name-constraints", "a CA's name constraints exclude the name"),
    ("extension", "policy", "the chain breaks the Web PKI profile"),
    ("candidates exhausted", "unknown-issuer", "no path to a trusted root"),
)


def _subject_for(server_name: str) -> DNSName | IPAddress:
    """A DNS or IP subject; IP literals (v4, v6, bracketed v6) match IP SANs only."""
    text = server_name.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return IPAddress(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        return DNSName(text.rstrip(".").lower())
    except ValueError as exc:
        raise CertificateVerificationError(
            f"{server_name!r} is neither a DNS name nor an IP address", rule="hostname-mismatch"
        ) from exc


def _server_eku_ok(_policy: object, _cert: x509.Certificate, ext: object) -> None:
    """Relaxed profile: an EKU that is present must allow server authentication."""
    if isinstance(ext, x509.ExtendedKeyUsage):
        usages = set(ext)
        if not usages & {
            ExtendedKeyUsageOID.SERVER_AUTH,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
        }:
            raise ValueError("EKU present but lacks serverAuth")


def _relaxed_policies() -> tuple[ExtensionPolicy, ExtensionPolicy]:
    ca = ExtensionPolicy.permit_all().require_present(
        x509.BasicConstraints, Criticality.AGNOSTIC, None
    )
    ee = (
        ExtensionPolicy.permit_all()
        .require_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _server_eku_ok)
    )
    return ca, ee


class ServerVerifier:
    """Verifies a server's chain (DER, leaf first) against trust roots and a server name.

    ``now`` pins the validation time (tests, replays); otherwise the clock is read at each
    call. ``check_hostname=False`` still validates the path, like ``ssl`` with
    ``check_hostname=False`` and ``CERT_REQUIRED``.

    ``cache``: a `VerificationCache` consulted by the handshake path (``bind``), so a chain
    that verified recently for the same name is not verified again; None turns it off.
    Calling the verifier directly always verifies.
    """

    def __init__(
        self,
        roots: TrustRoots | Store | Iterable[x509.Certificate],
        *,
        check_hostname: bool = True,
        profile: Profile = "webpki",
        now: datetime.datetime | None = None,
        cache: VerificationCache | None = None,
    ) -> None:
        if profile not in PROFILES:
            raise CertificateVerificationError(
                f"unknown verify profile {profile!r}; use 'webpki' or 'relaxed'", rule="profile"
            )
        if isinstance(roots, Store):
            self._store = roots
            self._anchors: TrustRoots | None = None
        else:
            trust = (
                roots
                if isinstance(roots, TrustRoots)
                else TrustRoots(tuple(roots), "the given certificates")
            )
            self._store = trust.store
            self._anchors = trust
        self.cache = cache
        self._roots_id: bytes | None = None
        self.check_hostname = check_hostname
        self.profile: Profile = profile
        self.now = now
        builder = PolicyBuilder().store(self._store)
        if profile == "relaxed":
            ca, ee = _relaxed_policies()
            builder = builder.extension_policies(ca_policy=ca, ee_policy=ee)
        self._builder = builder

    def __call__(self, chain_der: list[bytes], server_name: str | None) -> list[x509.Certificate]:
        """Validate; returns the built path (leaf to root) or raises with a rule name."""
        chain = _parse_chain(chain_der)
        when = self.now or datetime.datetime.now(datetime.UTC)
        if not self.check_hostname:
            # No name to check: path validation alone, with one of the leaf's own names as
            # the subject (the server verifier needs one; the client verifier wants clientAuth).
            server_name = None
            subject = _leaf_subject(chain[0])
        elif not server_name:
            raise CertificateVerificationError(
                "check_hostname is on but no server name was given; pass "
                "server_hostname= or turn check_hostname off",
                rule="hostname-mismatch",
            )
        else:
            subject = _subject_for(server_name)
        verifier = self._builder.time(when).build_server_verifier(subject)
        try:
            path = verifier.verify(chain[0], chain[1:])
        except VerificationError as exc:
            raise _translate(exc, chain, when, server_name, self.profile) from None
        except ValueError as exc:
            raise _malformed(exc) from exc
        _check_leaf_key(chain[0])
        return path

    def bind(self, server_name: str | None) -> Callable[[list[bytes]], None]:
        """The one-argument callable the sans-IO protocol's ``verify_chain`` expects."""

        def verify_chain(chain_der: list[bytes]) -> None:
            self.verify_cached(chain_der, server_name)

        return verify_chain

    def verify_cached(self, chain_der: list[bytes], server_name: str | None) -> None:
        """Verify unless the cache holds a live verdict for exactly this chain and name."""
        cache = self.cache
        if cache is None:
            self(chain_der, server_name)
            return
        name = server_name if self.check_hostname else None
        key = cache.key(chain_der, name, self._roots_key(), self.profile, self.check_hostname)
        now = self.now.timestamp() if self.now is not None else cache.clock()
        if cache.hit(key, now):
            return
        path = self(chain_der, server_name)
        cache.remember(key, path, now)

    def _roots_key(self) -> bytes:
        """The trust roots' identity in cache keys (computed once: a digest of the anchors,
        or, for a bare Store whose anchors cannot be listed, a token unique to this verifier)."""
        if self._roots_id is None:
            if self._anchors is not None:
                self._roots_id = roots_identity(self._anchors)
            else:
                self._roots_id = b"store:" + os.urandom(16)
        return self._roots_id


def _leaf_subject(leaf: x509.Certificate) -> DNSName | IPAddress:
    """The leaf's first DNS name (else IP, else a wildcard made concrete) as a subject."""
    try:
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = None
    except ValueError as exc:  # duplicate or undecodable extensions
        raise _malformed(exc) from exc
    if sans is not None:
        dns = sans.get_values_for_type(x509.DNSName)
        names = [n for n in dns if "*" not in n]
        ips = sans.get_values_for_type(x509.IPAddress)
        if names:
            return _subject_for(names[0])
        if ips:
            return IPAddress(ips[0])
        if dns:
            return _subject_for(dns[0].replace("*", "x", 1))
    raise CertificateVerificationError(
        "server certificate has no DNS or IP subjectAltName", rule="missing-san"
    )


def _malformed(exc: Exception) -> CertificateVerificationError:
    return CertificateVerificationError(
        f"the server's certificate chain cannot be processed: {exc}", rule="malformed"
    )


def _check_leaf_key(leaf: x509.Certificate) -> None:
    """The path check bounds CA keys only; the leaf's key signs our handshake, so bound it too."""
    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise CertificateVerificationError(
            f"server certificate {leaf.subject.rfc4514_string()!r} has a {key.key_size}-bit "
            f"RSA key; at least {MIN_RSA_BITS} bits are required",
            rule="weak-key",
        )


def _parse_chain(chain_der: list[bytes]) -> list[x509.Certificate]:
    if not chain_der:
        raise CertificateVerificationError("the server sent no certificate", rule="empty-chain")
    chain = []
    for index, der in enumerate(chain_der):
        try:
            cert = x509.load_der_x509_certificate(bytes(der))
            # cryptography decodes names lazily, and an unknown string tag there raises
            # KeyError: touch them now so every message below can name the certificates.
            cert.subject.rfc4514_string()
            cert.issuer.rfc4514_string()
        except ValueError as exc:
            raise CertificateVerificationError(
                f"server certificate #{index} is not valid DER X.509: {exc}", rule="malformed"
            ) from exc
        except KeyError as exc:
            raise CertificateVerificationError(
                f"server certificate #{index} has a subject or issuer name that does not decode",
                rule="malformed",
            ) from exc
        chain.append(cert)
    return chain


#: Enough names to recognise the certificate; a CDN's may carry hundreds.
_NAMES_SHOWN = 5


def _covered_names(leaf: x509.Certificate) -> str:
    """The leaf's DNS and IP SANs as ", only: a, b": which name to connect by instead."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return ""
    names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    names += [str(n) for n in san.get_values_for_type(x509.IPAddress)]
    if not names:
        return ""
    more = len(names) - _NAMES_SHOWN
    shown = ", ".join(names[:_NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")
    return f", only: {shown}"


def _translate(
    exc: VerificationError,
    chain: list[x509.Certificate],
    when: datetime.datetime,
    server_name: str | None,
    profile: str,
) -> CertificateVerificationError:
    """Map cryptography's message to one of our rule names with an actionable sentence."""
    text = str(exc)
    leaf = chain[0].subject.rfc4514_string() or "<empty subject>"
    if "not valid at validation time" in text:
        return _validity_error(chain, when, text)
    rule, advice = next(
        ((r, a) for fragment, r, a in _RULES if fragment in text),
        ("policy", "the chain was rejected"),
    )
    message = f"server certificate {leaf!r} failed verification ({rule}): {advice}"
    if rule == "hostname-mismatch":
        message += f"; it does not cover {server_name!r}{_covered_names(chain[0])}"
    if rule == "unknown-issuer":
        message += (
            f"; issuer {chain[-1].issuer.rfc4514_string()!r} is not among the trust roots "
            "(pass cafile=/cadata= with the server's CA; on an SSLContext, load_verify_locations)"
        )
    if rule in {"policy", "missing-san", "not-a-ca"} and profile == "webpki":
        message += "; for a private PKI consider verify_profile='relaxed'"
    return CertificateVerificationError(f"{message} [{text}]", rule=rule)


def _validity_error(
    chain: list[x509.Certificate], when: datetime.datetime, text: str
) -> CertificateVerificationError:
    for cert in chain:
        name = cert.subject.rfc4514_string()
        if cert.not_valid_after_utc < when:
            return CertificateVerificationError(
                f"certificate {name!r} expired on {cert.not_valid_after_utc.isoformat()} "
                f"(checked at {when.isoformat()})",
                rule="expired",
            )
        if cert.not_valid_before_utc > when:
            return CertificateVerificationError(
                f"certificate {name!r} is not valid before "
                f"{cert.not_valid_before_utc.isoformat()} (checked at {when.isoformat()}; "
                "is the clock right?)",
                rule="not-yet-valid",
            )
    return CertificateVerificationError(
        f"a trust root or issuer is outside its validity period [{text}]", rule="expired"
    )


__all__ = ["ServerVerifier", "PROFILES", "Profile"]
