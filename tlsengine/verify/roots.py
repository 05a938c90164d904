"""Trust roots: the certificates a server chain must lead to.

Roots come from the caller (``cafile`` / ``cadata``) or from the system bundle, with
certifi as the fallback when the system has none. Parsing ~150 PEM roots costs a few
milliseconds, so the system set is cached per file path and modification time: a
handshake never pays for it twice. Only the bundle's *path* is taken from the ``ssl``
module; no OpenSSL handshake happens here.
"""

from __future__ import annotations

import os
import ssl
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import Store

from ..errors import CertificateVerificationError

#: Where Debian/Ubuntu keep the system bundle; checked before ssl's compiled-in default.
DEBIAN_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

_PEM_MARKER = b"-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True, eq=False)
class TrustRoots:
    """An immutable set of trust anchors and where they came from (for error messages)."""

    certificates: tuple[x509.Certificate, ...]
    source: str
    _store: list[Store] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.certificates:
            raise CertificateVerificationError(
                f"no trust roots in {self.source}; pass cafile=/cadata= with at least one "
                "PEM or DER certificate",
                rule="trust-roots",
            )

    @property
    def store(self) -> Store:
        """The `cryptography` Store, built once: path validation reuses it every handshake."""
        if not self._store:
            self._store.append(Store(list(self.certificates)))
        return self._store[0]

    def __len__(self) -> int:
        return len(self.certificates)

    def __iter__(self) -> Iterator[x509.Certificate]:
        return iter(self.certificates)


def parse_certificates(
    data: bytes | bytearray | memoryview | str, source: str
) -> list[x509.Certificate]:
    """Certificates in ``data``: one or more PEM blocks, or a single DER certificate.

    Non-certificate PEM blocks (keys, CRLs) are skipped, so a combined bundle works.
    """
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    try:
        if _PEM_MARKER in raw:
            # System bundles hold a few legacy roots (e.g. a zero serial) that cryptography
            # warns about; they are the OS vendor's choice, not the user's to fix.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                return list(x509.load_pem_x509_certificates(raw))
        if raw.strip():
            return [x509.load_der_x509_certificate(raw)]
    except ValueError as exc:
        raise CertificateVerificationError(
            f"cannot parse trust roots from {source}: {exc}; expected PEM certificates "
            "or one DER certificate",
            rule="trust-roots",
        ) from exc
    return []


def from_file(path: str | os.PathLike[str]) -> TrustRoots:
    """Roots from a PEM bundle on disk (the ``cafile`` argument)."""
    if not isinstance(path, str | bytes | os.PathLike):
        raise CertificateVerificationError(
            f"cafile must be a path (str or os.PathLike), not {type(path).__name__}",
            rule="trust-roots",
        )
    try:
        name = os.fsdecode(path)
    except (TypeError, ValueError) as exc:
        raise CertificateVerificationError(
            f"cafile {path!r} is not a usable path: {exc}", rule="trust-roots"
        ) from exc
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CertificateVerificationError(
            f"cannot read cafile {name!r}: {reason}", rule="trust-roots"
        ) from exc
    return TrustRoots(tuple(parse_certificates(data, f"cafile {name!r}")), f"cafile {name!r}")


def from_data(data: bytes | bytearray | memoryview | str) -> TrustRoots:
    """Roots from memory (the ``cadata`` argument): PEM text or bytes, or DER bytes."""
    if not isinstance(data, bytes | bytearray | memoryview | str):
        raise CertificateVerificationError(
            f"cadata must be PEM str/bytes or DER bytes, not {type(data).__name__}",
            rule="trust-roots",
        )
    return TrustRoots(tuple(parse_certificates(data, "cadata")), "cadata")


def combine(parts: Iterable[TrustRoots]) -> TrustRoots:
    """One root set from several (``cafile`` and ``cadata`` given together)."""
    items = list(parts)
    certs: dict[bytes, x509.Certificate] = {}
    for part in items:
        for cert in part.certificates:
            certs.setdefault(cert.fingerprint(hashes.SHA256()), cert)
    return TrustRoots(tuple(certs.values()), " + ".join(p.source for p in items))


_cache_lock = threading.Lock()
_system_cache: dict[tuple[str, float], TrustRoots] = {}


def system_bundle_path() -> str | None:
    """The first readable system bundle: env override, Debian's file, ssl's default, certifi."""
    paths = ssl.get_default_verify_paths()
    candidates = [
        os.environ.get(paths.openssl_cafile_env or "SSL_CERT_FILE"),
        DEBIAN_BUNDLE,
        paths.cafile,
        paths.openssl_cafile,
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.R_OK):
            return candidate
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi is a declared dependency
        return None
    return certifi.where()


def system_roots() -> TrustRoots:
    """The system trust store, parsed once per (path, mtime) and shared by every context."""
    path = system_bundle_path()
    if path is None:
        raise CertificateVerificationError(
            "no system CA bundle found and certifi is missing; pass cafile= or cadata=",
            rule="trust-roots",
        )
    key = (path, os.stat(path).st_mtime)
    with _cache_lock:
        cached = _system_cache.get(key)
        if cached is None:
            cached = from_file(path)
            _system_cache.clear()
            _system_cache[key] = cached
        return cached


def load_roots(
    cafile: str | os.PathLike[str] | None = None,
    cadata: bytes | bytearray | memoryview | str | None = None,
) -> TrustRoots:
    """Roots as ``ssl.SSLContext.load_verify_locations`` would see them, else the system's."""
    parts = []
    if cafile is not None:
        parts.append(from_file(cafile))
    if cadata is not None:
        parts.append(from_data(cadata))
    if not parts:
        return system_roots()
    return parts[0] if len(parts) == 1 else combine(parts)


__all__ = [
    "TrustRoots",
    "load_roots",
    "system_roots",
    "system_bundle_path",
    "from_file",
    "from_data",
    "parse_certificates",
]
