"""A bounded cache of server chains that passed verification, so repeat handshakes skip it.

Path building and signature checks are a large part of a client's handshake CPU, and a
client mostly talks to the same few servers, which send the same chain every time. A chain
that verified is remembered under everything its verdict depends on: the chain's DER, the
server name checked, the trust roots' identity, the profile and whether the name was checked.
An entry expires at the earliest of a TTL (``DEFAULT_TTL``, 5 minutes) and the first
``not_after`` in the validated path, so a cached verdict never outlives a certificate.
Failures are never cached: each one is re-checked and reported afresh.

What it trades (spec-notes/rfc5280.md): a chain is judged once per TTL rather than once per
handshake. Nothing it skips could change inside that window except revocation, which is not
checked at all (no CRL or OCSP), and the roots, which are fixed per verifier.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

__all__ = ["DEFAULT_TTL", "MAX_ENTRIES", "VerificationCache", "roots_identity"]

#: Seconds a verified chain is trusted without re-verification.
DEFAULT_TTL = 300.0
#: Chains remembered per cache; the least recently used goes first.
MAX_ENTRIES = 256

Key = tuple[tuple[bytes, ...], str | None, bytes, str, bool]


def roots_identity(roots: Iterable[x509.Certificate]) -> bytes:
    """A digest of a set of trust anchors (order-free): a cache key part that makes two
    verifiers with different roots miss each other's entries even if they shared a cache.

    Remembered per roots object (a `TrustRoots`), so the process-wide system bundle
    (~150 roots, ~2 ms to digest) is digested once per process, not once per context.
    """
    try:
        return _ROOT_DIGESTS[roots]
    except (KeyError, TypeError):  # not seen yet, or not weak-referenceable/hashable
        pass
    digest = hashlib.sha256()
    for der in sorted(cert.public_bytes(Encoding.DER) for cert in roots):
        digest.update(len(der).to_bytes(4, "big") + der)
    value = digest.digest()
    with contextlib.suppress(TypeError):
        _ROOT_DIGESTS[roots] = value
    return value


_ROOT_DIGESTS: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()


class VerificationCache:
    """Thread-safe LRU of verified chains with per-entry expiry.

    ``clock`` returns POSIX seconds; the verifier passes its own (a pinned ``now`` in tests).
    ``ttl`` and ``max_entries`` must be positive; ``ServerVerifier(cache=None)`` is the off
    switch.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not ttl > 0 or max_entries < 1:
            raise ValueError("VerificationCache needs ttl > 0 and max_entries >= 1")
        self.ttl = float(ttl)
        self.max_entries = int(max_entries)
        self.clock = clock
        self._entries: OrderedDict[Key, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"VerificationCache(entries={len(self)}, ttl={self.ttl}, max={self.max_entries})"

    @staticmethod
    def key(
        chain_der: Sequence[bytes],
        server_name: str | None,
        roots_id: bytes,
        profile: str,
        check_hostname: bool,
    ) -> Key:
        return (tuple(bytes(d) for d in chain_der), server_name, roots_id, profile, check_hostname)

    def hit(self, key: Key, now: float | None = None) -> bool:
        """True if ``key`` verified before and has not expired (an expired entry is dropped)."""
        now = self.clock() if now is None else now
        with self._lock:
            expires = self._entries.get(key)
            if expires is None:
                return False
            if now >= expires:
                del self._entries[key]
                return False
            self._entries.move_to_end(key)
            return True

    def remember(
        self, key: Key, path: Sequence[x509.Certificate], now: float | None = None
    ) -> None:
        """Record a successful verification of ``key`` whose validated path is ``path``."""
        now = self.clock() if now is None else now
        expires = now + self.ttl
        for cert in path:
            expires = min(expires, cert.not_valid_after_utc.timestamp())
        if expires <= now:
            return
        with self._lock:
            self._entries[key] = expires
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
