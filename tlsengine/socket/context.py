"""`ClientContext`: the ``ssl.SSLContext``-shaped settings shared by many connections.

A context holds configuration only (trust roots, versions, ALPN, the identity source, the
selection hook). Each `wrap_socket` turns it into a fresh sans-IO `ClientConfig` with a
snapshot of the identities taken at that moment, so loading a new PKCS#12 mid-handshake
never mixes old and new identities.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import CertificateVerificationError, TLSError
from ..identity.model import Identity
from ..verify.chain import PROFILES, Profile, ServerVerifier
from ..verify.roots import TrustRoots, load_roots
from .tlssocket import TLSSocket

VERSIONS = ("TLSv1.2", "TLSv1.3")
RENEGOTIATION = ("never", "once", "freely")


class ClientContext:
    """Settings for TLS client connections; cheap to share across threads and sockets.

    ``identities``: None means the process-wide default store (whatever is loaded when
    each handshake starts); an `IdentityStore` is likewise read at handshake start; a list
    of `Identity` is used as given; ``[]`` means never send a certificate.

    ``select_identity``: a callback ``(info, verdicts) -> Identity | None`` handed to
    `tlsengine.selection.select_identity(..., callback=...)`. It runs *after* the built-in
    filters and ranking (it does not replace them): it receives the
    `CertificateRequestInfo` and every candidate's `Verdict`, and returns the identity to
    send (overriding the ranking) or None to send an empty Certificate. Pins of an
    `IdentityStore` given as ``identities`` (or of the default store) apply as well.

    ``cipher_suites`` / ``groups``: IANA names to offer, in preference order (None: the
    core's defaults, every TLS 1.3 suite and x25519, secp256r1, secp384r1, X25519MLKEM768).

    ``renegotiation`` (``never``/``once``/``freely``) governs TLS 1.2 server-initiated
    renegotiation; it is kept on the context for the TLS 1.2 core and has no effect on
    TLS 1.3 connections, which cannot renegotiate.

    ``verify=False`` turns off chain *and* hostname checks. ``verify_profile`` is
    ``"webpki"`` (strict, default) or ``"relaxed"`` for private PKIs; see
    `tlsengine.verify.chain` for exactly what relaxed permits.
    """

    def __init__(
        self,
        *,
        identities: Any = None,
        cafile: str | os.PathLike[str] | None = None,
        cadata: bytes | str | None = None,
        verify: bool = True,
        check_hostname: bool = True,
        minimum_version: str = "TLSv1.2",
        maximum_version: str = "TLSv1.3",
        alpn_protocols: Sequence[str] | None = None,
        select_identity: Callable[..., Any] | None = None,
        post_handshake_auth: bool = True,
        renegotiation: str = "once",
        trace: bool = False,
        verify_profile: Profile = "webpki",
        cipher_suites: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
    ) -> None:
        for name, value in (
            ("minimum_version", minimum_version),
            ("maximum_version", maximum_version),
        ):
            if value not in VERSIONS:
                raise TLSError(f"{name}={value!r} is not supported; use 'TLSv1.2' or 'TLSv1.3'")
        if VERSIONS.index(minimum_version) > VERSIONS.index(maximum_version):
            raise TLSError(
                f"minimum_version {minimum_version} is above maximum_version {maximum_version}"
            )
        if renegotiation not in RENEGOTIATION:
            raise TLSError(
                f"renegotiation={renegotiation!r}; use one of {', '.join(RENEGOTIATION)}"
            )
        if verify_profile not in PROFILES:
            raise CertificateVerificationError(
                f"verify_profile={verify_profile!r}; use 'webpki' or 'relaxed'", rule="profile"
            )
        if select_identity is not None and not callable(select_identity):
            raise TLSError("select_identity must be callable (info, verdicts) -> Identity | None")
        self.identities = _check_identities(identities)
        self.verify = bool(verify)
        self.check_hostname = bool(check_hostname) and self.verify
        self.minimum_version = minimum_version
        self.maximum_version = maximum_version
        self.alpn_protocols: tuple[str, ...] = _check_alpn(alpn_protocols)
        self.select_identity = select_identity
        self.post_handshake_auth = bool(post_handshake_auth)
        self.renegotiation = renegotiation
        self.trace = bool(trace)
        self.verify_profile: Profile = verify_profile
        self.cipher_suites = _check_names(
            cipher_suites, "cipher_suites", "keyschedule", "CIPHER_SUITES"
        )
        self.groups = _check_names(groups, "groups", "keyshare", "GROUPS")
        # Caller-given roots load now, so a bad cafile fails here (as ssl does); the system
        # bundle loads at the first verified handshake and is cached process-wide.
        self._roots: TrustRoots | None = None
        if cafile is not None or cadata is not None:
            self._roots = load_roots(cafile, cadata)
        self._verifier: ServerVerifier | None = None
        self._index_cache: tuple[tuple[Identity, ...], Any] | None = None

    # ------------------------------------------------------------------ public API

    def wrap_socket(
        self,
        sock: socket.socket,
        server_hostname: str | None = None,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
    ) -> TLSSocket:
        """Wrap a connected socket; handshakes now unless ``do_handshake_on_connect=False``.

        A failed handshake here closes ``sock``. To inspect ``selection`` or
        ``certificate_request`` after a failure, pass ``do_handshake_on_connect=False`` and
        call ``do_handshake()`` yourself.
        """
        if self.check_hostname and not server_hostname:
            raise CertificateVerificationError(
                "check_hostname is on, so wrap_socket needs server_hostname= (the name or IP "
                "the server certificate must match); or build the context with "
                "check_hostname=False",
                rule="no-server-name",
            )
        verifier = self._server_verifier() if self.verify else None

        def factory() -> Any:
            return self._connection(server_hostname, verifier)

        tls = TLSSocket(
            sock,
            factory,
            server_hostname=server_hostname,
            context=self,
            verified=self.verify,
            suppress_ragged_eofs=suppress_ragged_eofs,
        )
        if do_handshake_on_connect:
            try:
                tls.do_handshake()
            except BaseException:
                sock.close()  # as ssl does: the caller never got a socket to close
                raise
        return tls

    def connect(
        self,
        address: tuple[str, int],
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> TLSSocket:
        """Open TCP to ``address``, handshake, and return the socket (closed on failure)."""
        host = address[0]
        raw = socket.create_connection(address, timeout=timeout)
        try:
            return self.wrap_socket(raw, server_hostname=server_hostname or host)
        except BaseException:
            raw.close()
            raise

    def snapshot_identities(self) -> tuple[tuple[Identity, ...], Any]:
        """(identities, store-or-None) as they are right now; taken once per handshake."""
        source = self.identities
        if source is None:
            from ..identity.store import default_store

            source = default_store()
        if isinstance(source, tuple):
            return source, None
        snapshot = getattr(source, "snapshot", None)
        return (tuple(snapshot()) if callable(snapshot) else tuple(source)), source

    # ------------------------------------------------------------------ internals

    def _server_verifier(self) -> ServerVerifier:
        """Built once and reused; rebuilt if check_hostname/verify_profile were reassigned."""
        verifier = self._verifier
        if (
            verifier is None
            or verifier.check_hostname != self.check_hostname
            or verifier.profile != self.verify_profile
        ):
            roots = self._roots if self._roots is not None else load_roots()
            verifier = ServerVerifier(
                roots,
                check_hostname=self.check_hostname,
                profile=self.verify_profile,
            )
            self._verifier = verifier
        return verifier

    def _connection(self, server_hostname: str | None, verifier: ServerVerifier | None) -> Any:
        from ..protocol.connection import ClientConfig, ClientConnection

        identities, store = self.snapshot_identities()
        extra: dict[str, Any] = {}
        if self.cipher_suites is not None:
            extra["cipher_suites"] = self.cipher_suites
        if self.groups is not None:
            extra["groups"] = self.groups
            extra["key_share_groups"] = self.groups[:1]
        config = ClientConfig(
            **extra,
            server_name=server_hostname,
            alpn_protocols=self.alpn_protocols,
            identities=identities,
            select=self._selector(identities, store, server_hostname),
            verify_chain=verifier.bind(server_hostname) if verifier is not None else None,
            max_version=self.maximum_version,
            min_version=self.minimum_version,
            post_handshake_auth=self.post_handshake_auth,
            trace=self.trace,
        )
        return ClientConnection(config)

    def _selector(
        self, identities: tuple[Identity, ...], store: Any, server_hostname: str | None
    ) -> Callable[[Any, Sequence[Identity]], Any]:
        """The protocol's ``select(info, identities)``: pins, the user hook, a cached index.

        Building an `IdentityIndex` parses every certificate, so the context keeps the one
        for its last snapshot and reuses it while the snapshot holds the same objects.
        """
        pins = getattr(store, "pins", None) if store is not None else None
        callback = self.select_identity
        from ..selection.select import select_identity

        def select(info: Any, snapshot: Sequence[Identity]) -> Any:
            return select_identity(
                info, self._index_for(tuple(snapshot)), pins=pins or None, callback=callback
            )

        return select

    def _index_for(self, snapshot: tuple[Identity, ...]) -> Any:
        from ..identity.index import IdentityIndex

        cached = self._index_cache
        if (
            cached is not None
            and len(cached[0]) == len(snapshot)
            and all(a is b for a, b in zip(cached[0], snapshot, strict=True))
        ):
            return cached[1]
        index = IdentityIndex(snapshot)
        self._index_cache = (snapshot, index)
        return index


def _check_identities(identities: Any) -> Any:
    """None (default store), an IdentityStore-like iterable, or a list of Identity."""
    if identities is None:
        return None
    if isinstance(identities, Identity):
        return (identities,)
    if isinstance(identities, list | tuple):
        bad = [type(i).__name__ for i in identities if not isinstance(i, Identity)]
        if bad:
            raise TLSError(
                f"identities must be Identity objects (from tlsengine.load_pkcs12), got {bad[0]}"
            )
        return tuple(identities)
    if isinstance(identities, Iterable):
        return identities  # an IdentityStore: re-read at every handshake
    raise TLSError(
        f"identities must be None, an IdentityStore or a list of Identity, not "
        f"{type(identities).__name__}"
    )


def _check_names(
    names: Sequence[str] | None, what: str, module: str, table: str
) -> tuple[str, ...] | None:
    """Validate suite/group names against the protocol core's own tables, up front."""
    if names is None:
        return None
    import importlib

    known = getattr(importlib.import_module(f"..protocol.{module}", __package__), table)
    items = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in items if n not in known]
    if unknown or not items:
        raise TLSError(
            f"{what}: {', '.join(map(repr, unknown)) or 'empty list'} not supported; "
            f"choose from {', '.join(known)}"
        )
    return items


def _check_alpn(protocols: Sequence[str] | None) -> tuple[str, ...]:
    if protocols is None:
        return ()
    if isinstance(protocols, str | bytes):
        raise TLSError("alpn_protocols must be a list of names such as ['h2', 'http/1.1']")
    out = []
    for name in protocols:
        try:
            raw = name.encode("ascii") if isinstance(name, str) else bytes(name)
        except (UnicodeError, TypeError) as exc:
            raise TLSError(f"ALPN protocol name {name!r} must be ASCII text") from exc
        if not 0 < len(raw) < 256:
            raise TLSError(f"ALPN protocol name {name!r} must be 1-255 bytes")
        out.append(raw.decode("ascii"))
    return tuple(out)


def is_ip_literal(name: str) -> bool:
    """True for IPv4/IPv6 literals, which RFC 6066 forbids in SNI."""
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


__all__ = ["ClientContext", "VERSIONS", "RENEGOTIATION"]
