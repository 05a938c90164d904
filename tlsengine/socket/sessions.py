"""`SessionCache`: the sessions one `ClientContext` may resume, in memory only.

A session is bound to the server (name and port), to the client identities it was made
under, and to how the server was verified. The key therefore holds the identity source
(the `IdentityStore`, or the fixed identity list) with the store's ``generation`` read
*before* the handshake's snapshot: any load, overwrite, clear or pin moves the generation,
so nothing made under the old identities is offered again (sessions of older generations
are dropped as soon as a newer one is seen). Each session also remembers the identity it
was made with; `take` hands it out only while that identity is still in the snapshot.

Sessions are single-use (RFC 8446 appendix C.4: a client SHOULD NOT reuse a ticket, so a
passive observer cannot link connections): `take` removes what it returns. The cache is
bounded, never pickled, and its repr shows only a count.

How a version's handshake machine plugs in (TLS 1.3 tickets today; TLS 1.2 RFC 5077
tickets use the same path):

1. Store: when a connection has made a session resumable, the machine calls
   ``ClientConfig.save_session(session)`` (TLS 1.3: once per NewSessionTicket; TLS 1.2:
   once the handshake that received the ticket completed). The context binds that
   callback to this cache under the connection's key.
2. Offer: at the next handshake to the same key, the context puts the newest live
   session into ``ClientConfig.session``. Each machine offers only sessions of its own
   type (``isinstance``), ignores others, and sets ``session_reused`` on the connection
   when the server accepted it.

The cache treats sessions as opaque objects with three attributes:

- ``version``: "TLSv1.3" or "TLSv1.2";
- ``expires_at``: ``float | None``, on the scale of ``ClientConfig.clock``
  (``time.monotonic`` here); ``None`` (no known receive time) is never stored;
- ``client_identity``: the `Identity` sent in the connection that made it, or None.

A session object must refuse pickling and keep its secret out of its repr (see
`tlsengine.protocol.tls13.SessionTicket`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

from ..identity.model import Identity

__all__ = ["SessionCache", "SessionKey", "DEFAULT_MAX_SESSIONS", "MAX_SESSIONS_PER_KEY"]

#: Sessions kept per context, across all servers (least recently stored go first).
DEFAULT_MAX_SESSIONS = 256
#: Sessions kept per key: servers send two tickets per connection (OpenSSL's, Python's
#: default); a few spares let several parallel connections resume.
MAX_SESSIONS_PER_KEY = 4


class SessionKey(NamedTuple):
    """Where a session may be offered again: the same server, identities and checks."""

    server_name: str | None
    port: int | None
    identity_source: Any  # the IdentityStore, or the fixed identities' fingerprints
    generation: int  # the store's generation when the handshake snapshotted it
    verification: tuple[Any, ...]  # (verify, check_hostname, profile)


class SessionCache:
    """A bounded, thread-safe, in-memory map of `SessionKey` to single-use sessions."""

    def __init__(
        self,
        maxsize: int = DEFAULT_MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maxsize < 1:
            raise ValueError("a session cache holds at least one session")
        self.maxsize = maxsize
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[SessionKey, list[Any]] = OrderedDict()
        self._count = 0

    def put(self, key: SessionKey, session: Any) -> None:
        """Keep ``session`` for ``key``; an expired or unaged one is dropped at once."""
        expires = getattr(session, "expires_at", None)
        if expires is None or expires <= self.clock():
            return
        with self._lock:
            self._forget_older(key)
            kept = self._entries.setdefault(key, [])
            kept.append(session)
            self._count += 1
            if len(kept) > MAX_SESSIONS_PER_KEY:
                del kept[0]
                self._count -= 1
            self._entries.move_to_end(key)
            while self._count > self.maxsize:
                oldest_key, oldest = next(iter(self._entries.items()))
                oldest.pop(0)
                self._count -= 1
                if not oldest:
                    del self._entries[oldest_key]

    def take(self, key: SessionKey, identities: Sequence[Identity] = ()) -> Any:
        """Remove and return the newest live session for ``key``, or None.

        A session whose identity is no longer among ``identities`` is dropped, not offered.
        """
        with self._lock:
            self._forget_older(key)
            kept = self._entries.get(key)
            while kept:
                session = kept.pop()
                self._count -= 1
                if not self.usable(session, identities):
                    continue
                if not kept:
                    del self._entries[key]
                return session
            self._entries.pop(key, None)
            return None

    def usable(self, session: Any, identities: Sequence[Identity]) -> bool:
        """Not expired, and made with no identity or one still among ``identities``."""
        if (getattr(session, "expires_at", None) or 0) <= self.clock():
            return False
        identity = getattr(session, "client_identity", None)
        return identity is None or identity.fingerprint in {i.fingerprint for i in identities}

    def clear(self) -> None:
        """Forget every session (nothing more is resumed until new ones arrive)."""
        with self._lock:
            self._entries.clear()
            self._count = 0

    def __len__(self) -> int:
        return self._count

    def _forget_older(self, key: SessionKey) -> None:
        """Drop sessions made under an older generation of the same identity source."""
        source, generation = key.identity_source, key.generation
        stale = [
            k for k in self._entries if k.identity_source == source and k.generation < generation
        ]
        for k in stale:
            self._count -= len(self._entries.pop(k))

    def __repr__(self) -> str:
        return f"<SessionCache sessions={self._count} maxsize={self.maxsize}>"

    def __reduce__(self) -> NoReturn:  # the sessions hold resumption secrets
        raise TypeError("SessionCache holds resumption secrets and cannot be pickled")
