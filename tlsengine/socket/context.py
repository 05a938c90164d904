"""`ClientContext`: the ``ssl.SSLContext``-shaped settings shared by many connections.

A context holds configuration only (trust roots, versions, ALPN, the identity source, the
selection hook). Each `wrap_socket` turns it into a fresh sans-IO `ClientConfig` with a
snapshot of the identities taken at that moment, so loading a new PKCS#12 mid-handshake
never mixes old and new identities.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..errors import CertificateVerificationError, TLSError
from ..identity.model import Identity
from ..identity.store import IdentityStore
from ..verify.cache import VerificationCache
from ..verify.chain import PROFILES, Profile, ServerVerifier
from ..verify.roots import TrustRoots, load_roots
from .sessions import SessionCache, SessionKey
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
    ``cipher_suites`` may name TLS 1.3 and TLS 1.2 suites (``TLS_ECDHE_*``); the names of
    one version restrict that version only, a version with none named keeps its defaults.

    ``renegotiation`` (``never``/``once``/``freely``) governs TLS 1.2 server-initiated
    renegotiation (RFC 5746 secure renegotiation only): ``never`` answers a HelloRequest
    with a no_renegotiation warning, ``once`` (default) allows one per connection,
    ``freely`` any number. TLS 1.3 connections cannot renegotiate.

    ``tcp_nodelay`` (default on) sets ``TCP_NODELAY`` on every TCP socket this context
    opens or wraps, as Go, curl and urllib3 do: without it the small record that follows
    our Finished flight waits for the server's delayed ACK (Nagle), about 40 ms per
    connection on Linux. ``False`` leaves sockets as the kernel or the caller made them.

    ``send_client_root`` (default off): our Certificate leaves out a self-signed root that
    ends the identity's chain (RFC 8446 section 4.4.2: the server must hold its trust anchor
    anyway); ``True`` sends the whole chain, for servers that want to see it.

    ``verify_cache`` (default on): a server chain that verified is not verified again for
    the same server name for up to 5 minutes (`tlsengine.verify.cache.DEFAULT_TTL`) and never
    past a certificate's ``not_after``; failures are always re-checked. ``False`` turns it
    off; a `VerificationCache` instance sets its own TTL and size (and may be shared: its
    keys include the trust roots, so contexts with different roots never share entries).

    ``resumption`` (default on) keeps the sessions servers hand out (TLS 1.3 tickets) in
    ``self.sessions``, a `SessionCache` in memory only, and offers one at the next
    connection to the same server name and port, so that handshake skips certificates
    and signatures on both sides. A session is offered only under the identities it was
    made with: any load, overwrite, clear or pin of the identity store retires it, and
    each is used once. ``resumption=False`` (or setting the attribute later) neither
    offers nor keeps any; ``sock.session_reused`` tells whether a connection resumed.

    ``verify=False`` turns off chain *and* hostname checks. ``verify_profile`` is
    ``"webpki"`` (strict, default) or ``"relaxed"`` for private PKIs; see
    `tlsengine.verify.chain` for exactly what relaxed permits.

    ``hooks`` (research; None by default): a `tlsengine.protocol.config.Hooks` handed to
    every connection: observe each handshake message, replace selection outright
    (``hooks.select``), or rewrite outgoing messages (``unsafe_mutate_outgoing``, which
    breaks the connection on purpose).
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
        alpn_protocols: Sequence[str | bytes] | None = None,
        select_identity: Callable[..., Any] | None = None,
        post_handshake_auth: bool = True,
        renegotiation: str = "once",
        trace: bool = False,
        verify_profile: Profile = "webpki",
        cipher_suites: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
        tcp_nodelay: bool = True,
        send_client_root: bool = False,
        verify_cache: bool | VerificationCache = True,
        resumption: bool = True,
        hooks: Any = None,
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
            cipher_suites, "cipher_suites", "prf", "ALL_CIPHER_SUITES"
        )
        self.groups = _check_names(groups, "groups", "keyshare", "GROUPS")
        self.tcp_nodelay = bool(tcp_nodelay)
        self.send_client_root = bool(send_client_root)
        if not isinstance(verify_cache, bool | VerificationCache):
            raise TLSError("verify_cache must be True, False or a VerificationCache")
        self.verify_cache: VerificationCache | None = (
            verify_cache
            if isinstance(verify_cache, VerificationCache)
            else VerificationCache()
            if verify_cache
            else None
        )
        self.resumption = bool(resumption)
        self.hooks = _check_hooks(hooks)
        self.sessions = SessionCache()
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
        server_hostname: str | bytes | None = None,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        session: Any = None,
    ) -> TLSSocket:
        """Wrap a connected socket; handshakes now unless ``do_handshake_on_connect=False``.

        ``server_hostname`` may be str or ASCII bytes (as ``ssl`` accepts); a non-ASCII
        name is IDNA-encoded to its A-label. A failed handshake here closes ``sock``. To
        inspect ``selection`` or ``certificate_request`` after a failure, pass
        ``do_handshake_on_connect=False`` and call ``do_handshake()`` yourself.

        ``session`` (as ``ssl``'s): a session from another socket's ``.session`` to offer
        instead of one from the cache; ignored when expired, when ``resumption`` is off,
        or when the identity it was made with is no longer loaded.
        """
        server_hostname = normalize_hostname(server_hostname)
        verifier = self._verifier_for(server_hostname)
        if self.tcp_nodelay:
            set_nodelay(sock, True)

        def factory() -> Any:
            return self._connection(
                server_hostname, verifier, port=_peer_port(sock), session=session
            )

        return TLSSocket._wrap(
            sock,
            factory,
            do_handshake_on_connect=do_handshake_on_connect,
            server_hostname=server_hostname,
            context=self,
            verified=self.verify,
            suppress_ragged_eofs=suppress_ragged_eofs,
        )

    def connect(
        self,
        address: tuple[str, int],
        server_hostname: str | bytes | None = None,
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
        identities, store, _ = self._snapshot()
        return identities, store

    def _snapshot(self) -> tuple[tuple[Identity, ...], Any, int]:
        """(identities, store-or-None, generation). The generation is read first, so a
        load racing the snapshot can only make it look older (its sessions then go
        unused), never let an old session pass for the new identities."""
        source = self.identities
        if source is None:
            from ..identity.store import default_store

            source = default_store()
        if isinstance(source, tuple):
            return source, None, 0
        generation = getattr(source, "generation", 0)
        snapshot = getattr(source, "snapshot", None)
        return (tuple(snapshot()) if callable(snapshot) else tuple(source)), source, generation

    # ------------------------------------------------------------------ internals

    def _verifier_for(self, server_hostname: str | None) -> ServerVerifier | None:
        """The verifier one connection uses (None with verify=False); with check_hostname
        on, a missing server name is refused before any byte goes out."""
        if self.check_hostname and not server_hostname:
            raise CertificateVerificationError(
                "check_hostname is on, so the connection needs server_hostname= (the name or "
                "IP the server certificate must match); or build the context with "
                "check_hostname=False",
                rule="no-server-name",
            )
        return self._server_verifier() if self.verify else None

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
                cache=self.verify_cache,
            )
            self._verifier = verifier
        return verifier

    def _connection(
        self,
        server_hostname: str | None,
        verifier: ServerVerifier | None,
        port: int | None = None,
        session: Any = None,
    ) -> Any:
        """A fresh sans-IO connection; ``port`` (None when unknown) keys its sessions;
        ``session``, when given, is offered instead of one from the cache."""
        from ..protocol.connection import ClientConfig, ClientConnection

        identities, store, generation = self._snapshot()
        extra: dict[str, Any] = {}
        if self.resumption:
            extra.update(
                self._session_config(server_hostname, port, identities, store, generation, session)
            )
        if self.cipher_suites is not None:
            from ..protocol.prf import CIPHER_SUITES_12

            tls12 = tuple(s for s in self.cipher_suites if s in CIPHER_SUITES_12)
            tls13 = tuple(s for s in self.cipher_suites if s not in CIPHER_SUITES_12)
            if tls13:
                extra["cipher_suites"] = tls13
            if tls12:
                extra["cipher_suites_12"] = tls12
        if self.groups is not None:
            extra["groups"] = self.groups
            extra["key_share_groups"] = self.groups[:1]
        config = ClientConfig(
            **extra,
            server_name=server_hostname,
            alpn_protocols=self.alpn_protocols,
            identities=identities,
            select=self.hooks.select
            if self.hooks is not None and self.hooks.select is not None
            else self._selector(identities, store, server_hostname),
            hooks=self.hooks,
            verify_chain=verifier.bind(server_hostname) if verifier is not None else None,
            max_version=self.maximum_version,
            min_version=self.minimum_version,
            post_handshake_auth=self.post_handshake_auth,
            send_client_root=self.send_client_root,
            renegotiation=self.renegotiation,
            trace=self.trace,
        )
        return ClientConnection(config)

    def _session_config(
        self,
        server_hostname: str | None,
        port: int | None,
        identities: tuple[Identity, ...],
        store: Any,
        generation: int,
        session: Any = None,
    ) -> dict[str, Any]:
        """``session``/``save_session``/``clock`` for one connection, bound to its key."""
        key = SessionKey(
            server_name=server_hostname.rstrip(".").lower() if server_hostname else None,
            port=port,
            identity_source=store
            if store is not None
            else tuple(i.fingerprint for i in identities),
            generation=generation,
            verification=(self.verify, self.check_hostname, self.verify_profile),
        )
        cache = self.sessions

        def save_session(made: Any) -> None:
            if self.resumption:  # switched off since this connection started: keep nothing
                cache.put(key, made)

        if session is None:
            session = cache.take(key, identities)
        elif not cache.usable(session, identities):
            session = None
        return {
            "session": session,
            "save_session": save_session,
            "clock": cache.clock,  # the clock the cache ages sessions by
        }

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


def set_nodelay(sock: socket.socket, on: bool) -> None:
    """Turn Nagle's algorithm off (``on=True``) or back on for a TCP socket; any other
    socket (AF_UNIX, a socketpair in tests, an already closed one) is left alone."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(on))
    except OSError:
        pass  # not connected yet, or already closed: the handshake will say what is wrong


def _peer_port(sock: socket.socket) -> int | None:
    """The remote port of a connected INET socket (None for others, or not connected)."""
    try:
        peer = sock.getpeername()
    except (OSError, AttributeError):
        return None
    return peer[1] if isinstance(peer, tuple) and len(peer) >= 2 else None


def _check_identities(identities: Any) -> Any:
    """None (default store), an `IdentityStore` (re-read at every handshake), one
    `Identity`, or an iterable of them (copied now). Anything else, a file name or a
    dict included, is refused here rather than failing at the server's request."""
    if identities is None or isinstance(identities, IdentityStore):
        return identities
    if isinstance(identities, Identity):
        return (identities,)
    hint = (
        "identities must be None, an IdentityStore or a list of Identity objects (load a "
        "PKCS#12 with tlsengine.load_pkcs12(data, password))"
    )
    if isinstance(identities, str | bytes | bytearray | memoryview | os.PathLike | Mapping):
        raise TLSError(f"{hint}, not a {type(identities).__name__}")
    if not isinstance(identities, Iterable):
        raise TLSError(f"{hint}, not {type(identities).__name__}")
    items = tuple(identities)
    bad = [type(i).__name__ for i in items if not isinstance(i, Identity)]
    if bad:
        raise TLSError(f"{hint}; got an item of type {bad[0]}")
    return items


def _check_hooks(hooks: Any) -> Any:
    """None or a `Hooks`; anything else is refused now, not at the first message."""
    from ..protocol.config import Hooks

    if hooks is None or isinstance(hooks, Hooks):
        return hooks
    raise TLSError(
        f"hooks must be a tlsengine.protocol.config.Hooks or None, not {type(hooks).__name__}"
    )


def _check_names(
    names: Sequence[str] | None, what: str, module: str, table: str
) -> tuple[str, ...] | None:
    """Validate suite/group names against the protocol core's own tables, up front."""
    if names is None:
        return None
    import importlib

    known = getattr(importlib.import_module(f"..protocol.{module}", __package__), table)
    if isinstance(names, str):
        items: tuple[Any, ...] = (names,)
    elif isinstance(names, Iterable) and not isinstance(names, bytes | bytearray | Mapping):
        items = tuple(names)
    else:
        raise TLSError(f"{what} must be a list of IANA names, not {type(names).__name__}")
    wrong = [type(n).__name__ for n in items if not isinstance(n, str)]
    if wrong:
        raise TLSError(f"{what} must hold IANA names as str, got an item of type {wrong[0]}")
    unknown = [n for n in items if n not in known]
    if unknown or not items:
        raise TLSError(
            f"{what}: {', '.join(map(repr, unknown)) or 'empty list'} not supported; "
            f"choose from {', '.join(known)}"
        )
    return items


def _check_alpn(protocols: Sequence[str | bytes] | None) -> tuple[str, ...]:
    """ALPN names as str; each given item must be str or bytes (ASCII, 1-255 bytes)."""
    if protocols is None:
        return ()
    usage = "alpn_protocols must be a list of names such as ['h2', 'http/1.1']"
    if isinstance(protocols, str | bytes | bytearray | Mapping) or not isinstance(
        protocols, Iterable
    ):
        raise TLSError(f"{usage}, not {type(protocols).__name__}")
    out = []
    for name in protocols:
        if not isinstance(name, str | bytes | bytearray):
            raise TLSError(f"{usage}; {name!r} is a {type(name).__name__}, not str or bytes")
        try:
            raw = name.encode("ascii") if isinstance(name, str) else bytes(name)
            raw.decode("ascii")
        except UnicodeError as exc:
            raise TLSError(f"ALPN protocol name {name!r} must be ASCII text") from exc
        if not 0 < len(raw) < 256:
            raise TLSError(f"ALPN protocol name {name!r} must be 1-255 bytes")
        out.append(raw.decode("ascii"))
    return tuple(out)


def normalize_hostname(name: str | bytes | None) -> str | None:
    """``server_hostname`` as the ASCII str the core, SNI and the verifier take.

    ``ssl`` accepts bytes too: ASCII bytes are decoded; a non-ASCII str (a U-label) is
    IDNA-encoded to its A-label, as ``ssl`` does. Anything else is a `TLSError`.
    """
    if name is None:
        return None
    if isinstance(name, bytes | bytearray):
        try:
            return bytes(name).decode("ascii")
        except UnicodeDecodeError as exc:
            raise TLSError(
                f"server_hostname {bytes(name)!r} is not ASCII; pass an IDNA A-label "
                "(xn--...) as bytes, or the name as str"
            ) from exc
    if not isinstance(name, str):
        raise TLSError(f"server_hostname must be str or bytes, not {type(name).__name__}")
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise TLSError(f"server_hostname {name!r} is not a valid IDNA host name: {exc}") from exc


__all__ = ["ClientContext", "VERSIONS", "RENEGOTIATION", "normalize_hostname", "set_nodelay"]
