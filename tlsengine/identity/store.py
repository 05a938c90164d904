"""`IdentityStore`: the identities a client may present, and the process-wide default.

Handshakes read the store from many threads while an application may reload its keystore
at any time, so the store is copy-on-write: writers build a new immutable tuple under a
lock and swap it in; readers take `snapshot()` and never lock. Every change bumps
`generation`, which the session cache uses so no session made under an old identity is
resumed; a call that changes nothing (appending only identities already there, re-pinning
the same fingerprint) leaves it alone, so it does not throw away good sessions. A replacing
load always counts as a change: the keystore may carry the same leaf with a new chain. A
load that fails raises before anything is swapped, so the old identities stay.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import NoReturn

from ..errors import IdentityError
from .index import IdentityIndex
from .model import Identity, normalise_fingerprint
from .pkcs12 import PKCS12Budget, load_pkcs12
from .sources import Source


def _normalise_host(host: str) -> str:
    if not isinstance(host, str) or not host.strip(". "):
        raise IdentityError(f"pin needs a host name, got {host!r}")
    return host.strip().rstrip(".").lower()


class IdentityStore:
    """A thread-safe, copy-on-write list of identities plus host pins."""

    def __init__(self, identities: tuple[Identity, ...] | list[Identity] = ()) -> None:
        self._lock = threading.Lock()
        self._items: tuple[Identity, ...] = tuple(identities)
        self._pins: Mapping[str, str] = MappingProxyType({})
        self._generation = 0
        self._index: tuple[int, IdentityIndex] | None = None  # (generation, index)

    # ------------------------------------------------------------------ reading

    def snapshot(self) -> tuple[Identity, ...]:
        """The identities right now, as an immutable tuple a handshake can hold."""
        return self._items

    def __iter__(self) -> Iterator[Identity]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    @property
    def generation(self) -> int:
        """Bumped by every change (load, add, remove, clear, pin); unchanged by no-ops."""
        return self._generation

    @property
    def pins(self) -> Mapping[str, str]:
        """Read-only mapping of host name to the pinned identity's fingerprint."""
        return self._pins

    @property
    def index(self) -> IdentityIndex:
        """An `IdentityIndex` over the current snapshot, rebuilt only when the store changes."""
        with self._lock:
            generation, items, cached = self._generation, self._items, self._index
        if cached is not None and cached[0] == generation:
            return cached[1]
        built = IdentityIndex(items)
        with self._lock:
            if self._generation == generation:
                self._index = (generation, built)
        return built

    def find(self, alias_or_fingerprint: str) -> Identity | None:
        """The first identity with this alias or SHA-256 fingerprint."""
        fingerprint = normalise_fingerprint(alias_or_fingerprint)
        for ident in self._items:
            if ident.alias == alias_or_fingerprint or ident.fingerprint == fingerprint:
                return ident
        return None

    def __reduce__(self) -> NoReturn:  # the identities hold private keys
        raise TypeError("IdentityStore holds private keys and cannot be pickled or copied")

    def __repr__(self) -> str:
        aliases = ", ".join(repr(i.alias) for i in self._items)
        return f"IdentityStore([{aliases}], generation={self._generation})"

    # ------------------------------------------------------------------ writing

    def _swap(self, items: tuple[Identity, ...]) -> None:
        """Install a new tuple; the caller holds the lock."""
        self._items = items
        self._generation += 1

    def load(
        self,
        data: Source,
        password: str | bytes | None = None,
        *,
        replace: bool = True,
        budget: PKCS12Budget | None = None,
    ) -> list[Identity]:
        """Parse a PKCS#12 and install its identities (all or nothing).

        With ``replace=True`` the new identities take the place of everything loaded
        before (always a new generation); otherwise they are appended, an identity already
        there is not added twice, and the generation moves only if something was added.
        On any error the store is left exactly as it was. ``budget`` bounds the work the
        file may demand (see `PKCS12Budget`).
        """
        loaded = load_pkcs12(data, password, budget=budget)
        with self._lock:
            if replace:
                self._swap(tuple(loaded))
            else:
                added: list[Identity] = []
                for identity in loaded:
                    if identity not in self._items and identity not in added:
                        added.append(identity)
                if added:
                    self._swap(self._items + tuple(added))
        return loaded

    def add(self, identity: Identity) -> None:
        """Append one identity (no-op if an equal one is already there)."""
        if not isinstance(identity, Identity):
            raise IdentityError(f"expected an Identity, got {type(identity).__name__}")
        with self._lock:
            if identity not in self._items:
                self._swap((*self._items, identity))

    def remove(self, identity_or_alias: Identity | str) -> None:
        """Drop an identity, given itself, its alias or its fingerprint."""
        with self._lock:
            if isinstance(identity_or_alias, Identity):
                kept = tuple(i for i in self._items if i != identity_or_alias)
            elif isinstance(identity_or_alias, str):
                fp = normalise_fingerprint(identity_or_alias)
                kept = tuple(
                    i for i in self._items if i.alias != identity_or_alias and i.fingerprint != fp
                )
            else:
                raise IdentityError(
                    f"remove() takes an Identity, alias or fingerprint, "
                    f"not {type(identity_or_alias).__name__}"
                )
            if len(kept) == len(self._items):
                raise IdentityError(f"no identity {identity_or_alias!s} in the store")
            self._swap(kept)

    def clear(self) -> None:
        """Forget every identity (pins stay: they are configuration, not key material)."""
        with self._lock:
            if self._items:
                self._swap(())

    def pin(self, host: str, identity_or_fingerprint: Identity | str) -> None:
        """Always prefer this identity for ``host`` (alias or fingerprint accepted)."""
        name = _normalise_host(host)
        fingerprint: str | None
        if isinstance(identity_or_fingerprint, Identity):
            fingerprint = identity_or_fingerprint.fingerprint
        elif isinstance(identity_or_fingerprint, str):
            found = self.find(identity_or_fingerprint)
            fingerprint = found.fingerprint if found else normalise_fingerprint(
                identity_or_fingerprint
            )  # fmt: skip
            if fingerprint is None:
                raise IdentityError(
                    f"cannot pin {host}: {identity_or_fingerprint!r} is neither a loaded "
                    "alias nor a SHA-256 fingerprint"
                )
        else:
            raise IdentityError(f"pin() needs an Identity or fingerprint for {host}")
        with self._lock:
            if self._pins.get(name) != fingerprint:
                self._pins = MappingProxyType({**self._pins, name: fingerprint})
                self._generation += 1

    def unpin(self, host: str) -> None:
        """Remove the pin for ``host`` if there is one."""
        name = _normalise_host(host)
        with self._lock:
            if name in self._pins:
                self._pins = MappingProxyType({k: v for k, v in self._pins.items() if k != name})
                self._generation += 1


# --------------------------------------------------------------------------- process-wide

_DEFAULT = IdentityStore()


def default_store() -> IdentityStore:
    """The store every ClientContext created with ``identities=None`` uses."""
    return _DEFAULT


def load_client_certificate(
    data: Source,
    password: str | bytes | None = None,
    *,
    replace: bool = True,
    budget: PKCS12Budget | None = None,
) -> list[Identity]:
    """Load a PKCS#12 into the default store, replacing what was there (``replace=False``
    adds beside it instead); on failure the store keeps what it had."""
    return _DEFAULT.load(data, password, replace=replace, budget=budget)


def clear_client_certificates() -> None:
    """Forget every identity in the default store."""
    _DEFAULT.clear()
