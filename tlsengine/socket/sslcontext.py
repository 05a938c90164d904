"""`tlsengine.SSLContext`: an ``ssl.SSLContext`` whose connections run tlsengine's handshake.

Python's HTTP clients take an ``ssl.SSLContext`` and call two methods on it:
``wrap_socket`` (http.client, urllib3, requests, httpx sync) and ``wrap_bio`` (asyncio,
aiohttp, websockets, anyio/httpx async). Here both return our shells, `TLSSocket` and
`TLSObject`, over the sans-IO `ClientConnection`, so a library gets automatic client
certificate selection without knowing it.

The OpenSSL context underneath is kept only to satisfy ``isinstance`` checks and to hold
the plain settings ``ssl`` users read back (``verify_mode``, ``check_hostname``, versions,
``options``). At each wrap those settings are mapped onto a `ClientContext`; settings that
tlsengine cannot honour raise ``NotImplementedError`` naming the setting, never a silent
no-op. A context built with ``PROTOCOL_TLS_SERVER`` is left entirely to ``ssl`` (tlsengine
is a client), so `inject_into_ssl` does not break servers in the same process.
"""

from __future__ import annotations

import _ssl
import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

from cryptography import x509

from ..errors import (
    CertificateVerificationError,
    TLSEngineError,
    TLSError,
)
from ..identity.files import identities_from_files
from ..identity.store import IdentityStore
from ..verify.chain import PROFILES, Profile
from ..verify.roots import TrustRoots, combine, from_data, from_file, system_roots
from .context import (
    ClientContext,
    _check_alpn,
    _check_identities,
    _peer_port,
    normalize_hostname,
    set_nodelay,
)
from .tlsobject import TLSObject, ssl_compatible
from .tlssocket import TLSSocket, certificate_dict

__all__ = ["SSLContext", "KeyLogWriter"]

#: ``ssl.SSLContext`` as it was when tlsengine was imported (before any injection), and
#: the C type under it, whose descriptors hold OpenSSL's settings.
_STDLIB_SSLCONTEXT = ssl.SSLContext
_SSL_C_BASE = _STDLIB_SSLCONTEXT.__mro__[1]

#: verify_flags our verifier already behaves as: a chain is built from whatever roots
#: were given (partial chains included), strictly (RFC 5280), trusted roots first.
_HONOURED_VERIFY_FLAGS = (
    ssl.VERIFY_DEFAULT
    | ssl.VERIFY_X509_TRUSTED_FIRST
    | ssl.VERIFY_X509_STRICT
    | getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
)

#: OpenSSL's names for the TLS 1.2 suites tlsengine can offer (ECDHE with an AEAD).
_OPENSSL_TLS12_SUITES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

_OLD_VERSIONS = frozenset(
    {
        ssl.TLSVersion.SSLv3,
        ssl.TLSVersion.TLSv1,
        ssl.TLSVersion.TLSv1_1,
        ssl.TLSVersion.MINIMUM_SUPPORTED,
    }
)


class KeyLogWriter:
    """Appends NSS key log lines (``LABEL <client_random> <secret>``, hex) for Wireshark.

    This file holds every traffic secret of the connections it logs: anyone who reads it
    can decrypt them. It exists only because the user set ``keylog_filename`` (or
    ``SSLKEYLOGFILE`` for ``ssl.create_default_context``); it is created owner-only.
    """

    _lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"KeyLogWriter({self.path!r})"

    def __call__(self, label: str, client_random: bytes, secret: bytes) -> None:
        line = f"{label} {client_random.hex()} {secret.hex()}\n".encode("ascii")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


def _reraise(exc: TLSEngineError) -> NoReturn:
    compat = ssl_compatible(exc)
    if compat is exc:
        raise exc
    raise compat from exc


class _SSLSocket(TLSSocket):
    """The `TLSSocket` `SSLContext.wrap_socket` returns: its TLS errors are also
    ``ssl.SSLError``, so libraries that catch ``ssl.SSLError`` (urllib3's retries,
    requests' ``SSLError``) handle them, with our error and its fields kept."""

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except TLSEngineError as exc:
            _reraise(exc)

    def recv(self, bufsize: int = 1024, flags: int = 0) -> bytes:
        try:
            return super().recv(bufsize, flags)
        except TLSEngineError as exc:
            _reraise(exc)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        try:
            return super().recv_into(buffer, nbytes, flags)
        except TLSEngineError as exc:
            _reraise(exc)

    def sendall(self, data: Any, flags: int = 0) -> None:
        try:
            super().sendall(data, flags)
        except TLSEngineError as exc:
            _reraise(exc)


class SSLContext(_STDLIB_SSLCONTEXT):
    """Pass it wherever a library takes an ``ssl.SSLContext``; tlsengine does the TLS.

    Beyond ``ssl``'s arguments: ``identities`` (None: the process-wide default store, read
    at each handshake; an `IdentityStore`; or a list of `Identity`), ``select_identity``
    (the selection hook of `ClientContext`), ``verify_profile`` and ``trace``.
    ``load_cert_chain`` (PEM or PKCS#12) adds identities to this context's own store, which
    then replaces the default store for this context.

    Trust: ``load_verify_locations``/``load_default_certs`` as in ``ssl``; a context given
    no roots at all verifies against the system store (where ``ssl`` would fail every
    handshake). ``post_handshake_auth`` starts True (ssl's starts False).
    """

    def __new__(
        cls, protocol: int = ssl.PROTOCOL_TLS_CLIENT, *args: Any, **kwargs: Any
    ) -> SSLContext:
        return super().__new__(cls, protocol)

    def __init__(
        self,
        protocol: int = ssl.PROTOCOL_TLS_CLIENT,
        *,
        identities: Any = None,
        select_identity: Callable[..., Any] | None = None,
        verify_profile: Profile = "webpki",
        trace: bool = False,
    ) -> None:
        self._server = protocol == ssl.PROTOCOL_TLS_SERVER
        if verify_profile not in PROFILES:
            raise ValueError(f"verify_profile={verify_profile!r}; use 'webpki' or 'relaxed'")
        if select_identity is not None and not callable(select_identity):
            raise TypeError("select_identity must be callable (info, verdicts) -> Identity | None")
        try:
            self._identities: Any = _check_identities(identities)
        except TLSError as exc:
            raise TypeError(str(exc)) from exc
        self._select_identity = select_identity
        self._verify_profile: Profile = verify_profile
        self._trace = bool(trace)
        self._alpn: tuple[str, ...] = ()
        self._suites12: tuple[str, ...] | None = None  # from set_ciphers; None: the defaults
        self._root_parts: list[TrustRoots] = []
        self._root_sources: set[tuple[str, float]] = set()  # files already loaded
        self._system_roots = False
        self._keylog: str | None = None
        self._engine: ClientContext | None = None
        self._engine_key: tuple[Any, ...] = ()
        # One session cache for every ClientContext this context builds: urllib3 and
        # friends touch settings (ALPN, verify_mode) per connection, and a rebuild must not
        # forget the sessions. Its keys carry the verification settings and identities.
        self._sessions: Any = None
        if not self._server:
            # Advertise post-handshake auth (DESIGN: whenever identities are loaded, and the
            # core offers it only then): ssl's default off would strand servers that ask later.
            self.post_handshake_auth = True

    # ------------------------------------------------------------------ wrapping

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: Any = None,
    ) -> Any:
        """A `TLSSocket` (handshaken unless ``do_handshake_on_connect=False``)."""
        if self._server:
            return super().wrap_socket(
                sock, server_side, do_handshake_on_connect, suppress_ragged_eofs,
                server_hostname, session,
            )  # fmt: skip
        factory, name, verified = self._connection_factory(
            server_side, server_hostname, session, _peer_port(sock)
        )
        if self._client_context().tcp_nodelay:  # as ClientContext.wrap_socket does
            set_nodelay(sock, True)
        return _SSLSocket._wrap(
            sock,
            factory,
            do_handshake_on_connect=do_handshake_on_connect,
            server_hostname=name,
            context=self,
            verified=verified,
            suppress_ragged_eofs=suppress_ragged_eofs,
        )

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: Any = None,
    ) -> Any:
        """A `TLSObject` over the two BIOs; the handshake starts at ``do_handshake``."""
        if self._server:
            return super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)
        factory, name, verified = self._connection_factory(server_side, server_hostname, session)
        return TLSObject(
            incoming, outgoing, factory, server_hostname=name, context=self, verified=verified
        )

    @classmethod
    def from_client_context(cls, client_context: ClientContext | SSLContext) -> SSLContext:
        """An `SSLContext` that connects exactly as ``client_context`` does (same
        identities, hook, roots, versions, ALPN, and the same session cache) for libraries
        that want an ``ssl.SSLContext``."""
        if isinstance(client_context, SSLContext):
            return client_context
        if not isinstance(client_context, ClientContext):
            raise TypeError(
                f"expected a tlsengine.ClientContext, not {type(client_context).__name__}"
            )
        cc = client_context
        ctx = cls(
            identities=cc.identities,
            select_identity=cc.select_identity,
            verify_profile=cc.verify_profile,
            trace=cc.trace,
        )
        if not cc.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx.check_hostname = cc.check_hostname
        tls = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
        ctx.minimum_version = tls[cc.minimum_version]
        ctx.maximum_version = tls[cc.maximum_version]
        ctx.post_handshake_auth = cc.post_handshake_auth
        ctx._alpn = cc.alpn_protocols
        if cc._roots is not None:
            ctx._root_parts = [cc._roots]
        # the given context itself serves while these settings hold, and its session
        # cache outlives any rebuild
        ctx._engine, ctx._engine_key = cc, ctx._settings_key()
        ctx._sessions = cc.sessions
        return ctx

    def derive(self, *, verify: bool | str | os.PathLike[str] = True) -> SSLContext:
        """A new context with these identities, roots and settings, for one request's
        ``verify=``: False turns verification off; a path adds that CA file or directory
        to the roots, as requests and urllib3 do with a stdlib context (which they modify;
        this one is left alone)."""
        if self._server:
            raise NotImplementedError("derive() is for client contexts")
        derived = SSLContext(
            identities=self._identities,
            select_identity=self._select_identity,
            verify_profile=self._verify_profile,
            trace=self._trace,
        )
        derived.options = self.options
        derived.minimum_version = self.minimum_version
        derived.maximum_version = self.maximum_version
        derived.post_handshake_auth = self.post_handshake_auth
        derived._alpn = self._alpn
        derived._suites12 = self._suites12
        derived._keylog = self._keylog
        derived._root_parts = list(self._root_parts)
        derived._root_sources = set(self._root_sources)
        derived._system_roots = self._system_roots
        derived._sessions = self._sessions  # keyed by verification settings: safe to share
        if verify is False:
            derived.check_hostname = False
            derived.verify_mode = ssl.CERT_NONE
        else:
            derived.check_hostname = self.check_hostname
            derived.verify_mode = self.verify_mode
            if verify is not True and os.path.isdir(verify):
                derived.load_verify_locations(capath=verify)
            elif verify is not True:
                derived.load_verify_locations(cafile=verify)
        return derived

    @property
    def client_context(self) -> ClientContext:
        """The `ClientContext` the current settings map to (rebuilt when they change)."""
        try:
            return self._client_context()
        except TLSEngineError as exc:
            _reraise(exc)

    @property
    def identities(self) -> Any:
        """Where identities come from: None (the default store), a store, or a tuple."""
        return self._identities

    # ------------------------------------------------------------------ trust

    def load_verify_locations(
        self,
        cafile: str | bytes | os.PathLike[Any] | None = None,
        capath: str | bytes | os.PathLike[Any] | None = None,
        cadata: Any = None,
    ) -> None:
        """Add trust roots (PEM file, a directory of PEM files, PEM text or DER bytes)."""
        if self._server:
            return super().load_verify_locations(cafile, capath, cadata)
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        try:
            if cafile is not None:
                self._add_root_file(cafile)
            if capath is not None:
                for path in sorted(Path(os.fsdecode(capath)).iterdir()):
                    if path.is_file():
                        self._add_root_file(path, skip_unparsable=True)
            if cadata is not None:
                self._add_roots(_roots_from_cadata(cadata))
        except TLSEngineError as exc:
            _reraise(exc)
        except OSError as exc:
            raise ssl_compatible(TLSError(f"cannot read capath {capath!r}: {exc}")) from exc

    def load_default_certs(self, purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH) -> None:
        """Trust the system store too (parsed once per process, at the first handshake)."""
        if self._server:
            return super().load_default_certs(purpose)
        self.set_default_verify_paths()

    def set_default_verify_paths(self) -> None:
        if self._server:
            return super().set_default_verify_paths()
        self._system_roots = True
        self._engine = None

    def get_ca_certs(self, binary_form: bool = False) -> list[Any]:
        """The roots loaded with ``load_verify_locations``, in ``ssl``'s two forms."""
        if self._server:
            return super().get_ca_certs(binary_form)
        from cryptography.hazmat.primitives.serialization import Encoding

        certs = [c for part in self._root_parts for c in part.certificates]
        if binary_form:
            return [c.public_bytes(Encoding.DER) for c in certs]
        return [certificate_dict(c) for c in certs]

    def cert_store_stats(self) -> dict[str, int]:
        if self._server:
            return super().cert_store_stats()
        count = sum(len(part) for part in self._root_parts)
        return {"x509": count, "crl": 0, "x509_ca": count}

    # ------------------------------------------------------------------ identities

    def load_cert_chain(
        self,
        certfile: str | bytes | os.PathLike[Any],
        keyfile: str | bytes | os.PathLike[Any] | None = None,
        password: Any = None,
    ) -> None:
        """Add client identities: a PEM chain (+ key, in ``keyfile`` or the same file) or a
        PKCS#12 file (every identity in it). Kept in memory only; selection picks one per
        server from its CertificateRequest."""
        if self._server:
            return super().load_cert_chain(certfile, keyfile, password)
        try:
            loaded = identities_from_files(certfile, keyfile, password)
        except TLSEngineError as exc:
            _reraise(exc)
        store = self._identities
        if not isinstance(store, IdentityStore):
            store = IdentityStore(store or ())
            self._identities = store
        for identity in loaded:
            store.add(identity)

    # ------------------------------------------------------------------ settings

    def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
        protocols = list(alpn_protocols)
        super().set_alpn_protocols(protocols)  # ssl's own checks and error messages
        if not self._server:
            self._alpn = _check_alpn(protocols)

    def set_ciphers(self, cipherlist: str, /) -> None:
        """Parsed by ``ssl`` (so ``get_ciphers()`` agrees); like ``ssl``, it governs TLS 1.2
        only: the TLS 1.2 suites offered become those it keeps, in its order. A list that
        leaves none of tlsengine's ECDHE+AEAD suites is refused."""
        super().set_ciphers(cipherlist)
        if self._server:
            return
        ours = tuple(
            _OPENSSL_TLS12_SUITES[c["name"]]
            for c in self.get_ciphers()
            if c["name"] in _OPENSSL_TLS12_SUITES
        )
        if not ours:
            raise NotImplementedError(
                f"set_ciphers({cipherlist!r}) leaves none of the TLS 1.2 suites tlsengine "
                f"offers ({', '.join(_OPENSSL_TLS12_SUITES)})"
            )
        self._suites12 = ours

    # ssl's own setters break once injected (see _set_stdlib): each one is replaced.

    @property  # type: ignore[override]
    def verify_mode(self) -> ssl.VerifyMode:
        return super().verify_mode

    @verify_mode.setter
    def verify_mode(self, value: ssl.VerifyMode) -> None:
        _set_stdlib(self, "verify_mode", value)

    @property  # type: ignore[override]
    def options(self) -> ssl.Options:
        return super().options

    @options.setter
    def options(self, value: ssl.Options) -> None:
        _set_stdlib(self, "options", value)

    @property  # type: ignore[override]
    def minimum_version(self) -> ssl.TLSVersion:
        return super().minimum_version

    @minimum_version.setter
    def minimum_version(self, value: ssl.TLSVersion) -> None:
        _set_stdlib(self, "minimum_version", value)

    @property
    def _msg_callback(self) -> Any:
        return super()._msg_callback  # type: ignore[misc]

    @_msg_callback.setter
    def _msg_callback(self, callback: Any) -> None:
        _set_stdlib(self, "_msg_callback", callback)

    @property  # type: ignore[override]
    def maximum_version(self) -> ssl.TLSVersion:
        return super().maximum_version

    @maximum_version.setter
    def maximum_version(self, value: ssl.TLSVersion) -> None:
        if not self._server and value in _OLD_VERSIONS:
            raise NotImplementedError(
                f"maximum_version={value!r}: tlsengine speaks only TLS 1.2 and TLS 1.3"
            )
        _set_stdlib(self, "maximum_version", value)

    @property  # type: ignore[override]
    def verify_flags(self) -> ssl.VerifyFlags:
        return super().verify_flags

    @verify_flags.setter
    def verify_flags(self, value: ssl.VerifyFlags) -> None:
        extra = ssl.VerifyFlags(value & ~_HONOURED_VERIFY_FLAGS)
        if not self._server and extra:
            raise NotImplementedError(
                f"verify_flags {extra!r}: tlsengine does not check revocation lists; it "
                "honours VERIFY_X509_STRICT, VERIFY_X509_TRUSTED_FIRST and "
                "VERIFY_X509_PARTIAL_CHAIN"
            )
        _set_stdlib(self, "verify_flags", value)

    @property
    def hostname_checks_common_name(self) -> bool:
        return super().hostname_checks_common_name

    @hostname_checks_common_name.setter
    def hostname_checks_common_name(self, value: bool) -> None:
        if not self._server and value:
            raise NotImplementedError(
                "hostname_checks_common_name=True: tlsengine matches host names against "
                "subjectAltName only (RFC 6125), never the subject's common name"
            )
        _set_stdlib(self, "hostname_checks_common_name", value)

    @property  # type: ignore[override]
    def keylog_filename(self) -> str | None:
        """NSS key log file for Wireshark: SECRET, it decrypts every logged connection."""
        if self._server:
            return super().keylog_filename
        return self._keylog

    @keylog_filename.setter
    def keylog_filename(self, value: str | os.PathLike[str] | None) -> None:
        if self._server:
            _set_stdlib(self, "keylog_filename", value)
            return
        if value is None:
            self._keylog = None
            return
        path = os.fsdecode(value)
        # as ssl does: the file is opened now, so a bad path fails here, not mid-handshake
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            if os.fstat(fd).st_size == 0:
                os.write(fd, b"# TLS secrets log file, generated by tlsengine\n")
        finally:
            os.close(fd)
        self._keylog = path

    @property
    def sni_callback(self) -> Any:
        return super().sni_callback

    @sni_callback.setter
    def sni_callback(self, value: Any) -> None:
        if not self._server and value is not None:
            self._unsupported("sni_callback", "it is a server-side hook")
        _set_stdlib(self, "sni_callback", value)

    def set_servername_callback(self, server_name_callback: Any) -> None:
        if not self._server and server_name_callback is not None:
            self._unsupported("set_servername_callback", "it is a server-side hook")
        super().set_servername_callback(server_name_callback)

    def load_dh_params(self, path: str, /) -> None:
        if not self._server:
            self._unsupported("load_dh_params", "finite-field DH is never offered")
        super().load_dh_params(path)

    def set_ecdh_curve(self, name: str, /) -> None:
        if not self._server:
            self._unsupported("set_ecdh_curve", "a client offers its groups itself")
        super().set_ecdh_curve(name)

    def set_npn_protocols(self, npn_protocols: Iterable[str]) -> None:
        if not self._server:
            self._unsupported("set_npn_protocols", "NPN is obsolete; use set_alpn_protocols")
        super().set_npn_protocols(npn_protocols)

    @staticmethod
    def _unsupported(name: str, why: str) -> NoReturn:
        raise NotImplementedError(f"tlsengine.SSLContext does not support {name}: {why}")

    # ------------------------------------------------------------------ internals

    def _connection_factory(
        self,
        server_side: bool,
        server_hostname: str | bytes | None,
        session: Any,
        port: int | None = None,
    ) -> tuple[Callable[[], Any], str | None, bool]:
        """What both wraps need: a fresh-connection factory, the host name, verified?

        ``session`` is a previous connection's ``.session`` to offer (as ``ssl``'s);
        ``port`` keys the context's session cache (None for BIOs, which have no peer).
        """
        if server_side:
            self._unsupported("server_side=True", "it is a TLS client (use PROTOCOL_TLS_SERVER)")
        if isinstance(session, ssl.SSLSession):
            raise TypeError("session must come from a tlsengine connection's .session")
        try:
            engine = self._client_context()
            name = normalize_hostname(server_hostname)
            verifier = engine._verifier_for(name)
        except TLSEngineError as exc:
            _reraise(exc)

        keylog = None if self._keylog is None else KeyLogWriter(self._keylog)

        def factory() -> Any:
            conn = engine._connection(name, verifier, port=port, session=session)
            conn.config.keylog = keylog
            return conn

        return factory, name, engine.verify

    def _client_context(self) -> ClientContext:
        """The `ClientContext` for the settings now in force, reused while they hold."""
        key = self._settings_key()
        engine = self._engine
        if engine is not None and key == self._engine_key:
            return engine
        versions = key[2]
        verify = self.verify_mode != ssl.CERT_NONE
        engine = ClientContext(
            identities=self._identities,
            verify=verify,
            check_hostname=self.check_hostname,
            minimum_version=versions[0],
            maximum_version=versions[1],
            alpn_protocols=self._alpn,
            select_identity=self._select_identity,
            post_handshake_auth=bool(self.post_handshake_auth),
            trace=self._trace,
            verify_profile=self._verify_profile,
            cipher_suites=self._suites12,
        )
        if verify and self._root_parts:
            parts = [*self._root_parts, system_roots()] if self._system_roots else self._root_parts
            engine._roots = parts[0] if len(parts) == 1 else combine(parts)
        if self._sessions is None:
            self._sessions = engine.sessions
        engine.sessions = self._sessions
        self._engine, self._engine_key = engine, key
        return engine

    def _settings_key(self) -> tuple[Any, ...]:
        """Everything a `ClientContext` is built from; a change means a rebuild."""
        return (
            self.verify_mode,
            self.check_hostname,
            self._versions(),
            self._alpn,
            self._suites12,
            bool(self.post_handshake_auth),
            self._identities,
            self._select_identity,
            self._verify_profile,
            self._trace,
        )

    def _versions(self) -> tuple[str, str]:
        """(minimum, maximum) as tlsengine names; versions below TLS 1.2 are never used."""
        low = "TLSv1.3" if self.minimum_version == ssl.TLSVersion.TLSv1_3 else "TLSv1.2"
        high = "TLSv1.2" if self.maximum_version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3"
        if self.options & ssl.OP_NO_TLSv1_3:
            high = "TLSv1.2"
        if self.options & ssl.OP_NO_TLSv1_2:
            low = "TLSv1.3"
        if low == "TLSv1.3" and high == "TLSv1.2":
            raise TLSError(
                "no TLS version left: minimum_version/maximum_version and options exclude "
                "both TLS 1.2 and TLS 1.3"
            )
        return low, high

    def _add_root_file(self, path: Any, skip_unparsable: bool = False) -> None:
        """Load a root file once: urllib3 passes the same cafile at every connection."""
        name = os.fsdecode(path)
        try:
            key = (os.path.abspath(name), os.stat(name).st_mtime)
        except OSError:
            key = None
        if key is not None and key in self._root_sources:
            return
        try:
            roots = from_file(name)
        except TLSEngineError:
            if skip_unparsable:
                return
            raise
        self._add_roots(roots)
        if key is not None:
            self._root_sources.add(key)

    def _add_roots(self, roots: TrustRoots) -> None:
        self._root_parts.append(roots)
        self._engine = None


def _set_stdlib(context: SSLContext, name: str, value: Any) -> None:
    """Set one of ``ssl.SSLContext``'s own settings, bypassing our override and ssl's.

    ssl's Python setters call ``super(SSLContext, SSLContext)``, looking the class up in
    the ``ssl`` module: once `inject_into_ssl` put ours there, they would call themselves
    for ever. So the C descriptor is used directly, after the little ssl's setters add.
    """
    if name == "hostname_checks_common_name":
        flag = _ssl.HOSTFLAG_NEVER_CHECK_SUBJECT
        flags = context._host_flags  # type: ignore[attr-defined]
        context._host_flags = flags & ~flag if value else flags | flag  # type: ignore[attr-defined]
        return
    if name == "minimum_version" and value == ssl.TLSVersion.SSLv3:
        _set_stdlib(context, "options", context.options & ~ssl.OP_NO_SSLv3)
    if name == "_msg_callback" and value is not None:
        value = _wrap_msg_callback(value)
    _SSL_C_BASE.__dict__[name].__set__(context, value)


def _wrap_msg_callback(callback: Any) -> Any:
    """ssl's debugging hook, wrapped as ssl.SSLContext._msg_callback does (enums for ints)."""
    if not callable(callback):
        raise TypeError(f"{callback} is not callable.")
    content_types: Any = getattr(ssl, "_TLSContentType")  # noqa: B009 - private enums
    alert_types: Any = getattr(ssl, "_TLSAlertType")  # noqa: B009
    message_types: Any = getattr(ssl, "_TLSMessageType")  # noqa: B009

    def enum(kind: Any, value: Any) -> Any:
        try:
            return kind(value)
        except ValueError:
            return value

    def inner(conn: Any, direction: str, version: Any, ctype: Any, mtype: Any, data: Any) -> Any:
        ctype = enum(content_types, ctype)
        if ctype == content_types.HEADER:
            kind = content_types
        elif ctype == content_types.ALERT:
            kind = alert_types
        else:
            kind = message_types
        return callback(
            conn, direction, enum(ssl.TLSVersion, version), ctype, enum(kind, mtype), data
        )

    inner.user_function = callback  # type: ignore[attr-defined]
    return inner


def _roots_from_cadata(cadata: str | bytes) -> TrustRoots:
    """``ssl``'s cadata: PEM text, or DER bytes (one certificate or several back to back)."""
    if isinstance(cadata, str) or b"-----BEGIN" in bytes(cadata):
        return from_data(cadata)
    raw = bytes(cadata)
    certs: list[x509.Certificate] = []
    while raw:
        size = _der_size(raw)
        try:
            certs.append(x509.load_der_x509_certificate(raw[:size]))
        except ValueError as exc:
            raise CertificateVerificationError(
                f"cannot parse trust roots from cadata: {exc}; expected PEM text or DER "
                "certificates",
                rule="trust-roots",
            ) from exc
        raw = raw[size:]
    return TrustRoots(tuple(certs), "cadata")


def _der_size(raw: bytes) -> int:
    """Length of the first DER element (SEQUENCE header plus contents), or all of raw."""
    if len(raw) < 2 or raw[0] != 0x30:
        return len(raw)
    first = raw[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 0 < count <= 4 or len(raw) < 2 + count:
        return len(raw)
    return 2 + count + int.from_bytes(raw[2 : 2 + count], "big")
