"""`TLSObject`: the ``ssl.SSLObject`` face of the sans-IO `ClientConnection`.

asyncio's ``sslproto``, anyio's ``TLSStream`` and urllib3's TLS-in-TLS drive an
``SSLObject`` through two ``ssl.MemoryBIO`` buffers: they write what the network gave into
``incoming``, call ``do_handshake``/``read``/``write``/``unwrap``, send whatever appeared in
``outgoing``, and treat ``SSLWantReadError`` as "give me more bytes". `TLSObject` keeps that
contract exactly, so those libraries run our handshake unchanged. The BIOs are plain byte
buffers here; no OpenSSL code ever touches the connection.

Errors keep their tlsengine type and are also ``ssl.SSLError`` (see `ssl_compatible`),
because those drivers only route ``ssl.SSLError`` to the waiting caller: asyncio would
otherwise report a bare connection reset instead of, say, `ClientCertificateRejected`.
"""

from __future__ import annotations

import ssl
from collections import deque
from collections.abc import Callable
from typing import Any, NoReturn

from ..errors import (
    CertificateVerificationError,
    HandshakeError,
    TLSEngineError,
    TLSError,
)
from ..protocol.events import ConnectionClosed, DataReceived
from .facts import PeerFacts
from .plaintext import PlaintextBuffer

__all__ = ["TLSObject", "ssl_compatible"]

_compat_classes: dict[tuple[type[BaseException], type[ssl.SSLError]], type[BaseException]] = {}


def ssl_compatible(exc: BaseException, base: type[ssl.SSLError] | None = None) -> BaseException:
    """``exc`` as an instance of a class that is both its own type and ``ssl.SSLError``.

    ``except ClientCertificateRejected`` and ``except ssl.SSLError`` both catch the result,
    and every attribute (``selection``, ``alert``, ``rule``, ``state``) is kept. A chain or
    host name failure becomes an ``ssl.SSLCertVerificationError`` as ``ssl`` raises, so
    libraries report it as a certificate problem. Errors that already are ``OSError``
    (`TLSTimeout` is a ``TimeoutError``) are returned unchanged.
    """
    if isinstance(exc, OSError):
        return exc
    if not isinstance(exc, TLSEngineError):
        exc = TLSError(f"internal error in the TLS core: {type(exc).__name__}: {exc}")
    if base is None:
        verification = isinstance(exc, CertificateVerificationError)
        base = ssl.SSLCertVerificationError if verification else ssl.SSLError
    cls = type(exc)
    compat = _compat_classes.get((cls, base))
    if compat is None:
        compat = type(cls.__name__, (cls, base), {"__module__": cls.__module__})
        _compat_classes[(cls, base)] = compat
    new = compat.__new__(compat)
    new.__dict__.update(exc.__dict__)
    new.args = exc.args
    text = str(exc)
    # ssl.SSLError prints strerror; anyio and asyncio read reason/library/verify_message.
    new.strerror = text  # type: ignore[attr-defined]
    new.reason = getattr(exc, "alert", None) or cls.__name__  # type: ignore[attr-defined]
    new.library = "TLSENGINE"  # type: ignore[attr-defined]
    if base is ssl.SSLCertVerificationError:
        new.verify_message = text  # type: ignore[attr-defined]
        new.verify_code = 0  # type: ignore[attr-defined]
    return new


def _want_read() -> ssl.SSLWantReadError:
    return ssl.SSLWantReadError(ssl.SSL_ERROR_WANT_READ, "The operation did not complete (read)")


def _ragged_eof() -> ssl.SSLEOFError:
    return ssl.SSLEOFError(ssl.SSL_ERROR_EOF, "EOF occurred in violation of protocol")


class TLSObject(PeerFacts, PlaintextBuffer):
    """A TLS client over two ``ssl.MemoryBIO``s, raising what ``ssl.SSLObject`` raises.

    - ``SSLWantReadError``: feed more bytes into ``incoming`` (after sending ``outgoing``).
    - ``SSLEOFError``: ``incoming`` hit EOF without the server's close_notify.
    - ``read`` returns b"" after the server's close_notify (``SSLZeroReturnError`` once
      we have sent ours too), as ``ssl.SSLObject`` does.

    Built by `tlsengine.SSLContext.wrap_bio`. Not thread-safe, like ``ssl.SSLObject``.
    """

    def __init__(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        connection_factory: Callable[[], Any],
        *,
        server_hostname: str | None,
        context: Any,
        verified: bool,
    ) -> None:
        self._incoming = incoming
        self._outgoing = outgoing
        self._factory = connection_factory
        self._conn: Any = None
        self.server_hostname = server_hostname
        self.context = context
        self._verified = verified
        self._chunks: deque[memoryview] = deque()
        self._buffered = 0
        self._peer_closed = False  # the server's close_notify arrived
        self._close_sent = False
        self._failure: BaseException | None = None

    def __repr__(self) -> str:
        state = getattr(getattr(self._conn, "state", None), "name", "not started")
        return (
            f"<TLSObject server_hostname={self.server_hostname!r} state={state} "
            f"version={self.version()}>"
        )

    # ------------------------------------------------------------------ handshake

    def do_handshake(self) -> None:
        """Advance the handshake with what ``incoming`` holds; SSLWantReadError until done."""
        conn = self._conn
        if conn is None:
            self._conn = conn = self._guard(self._factory)
            self._guard(conn.start_handshake)
            self._flush()
        elif conn.handshake_complete:
            return
        self._check_usable()
        self._pump()
        if not conn.handshake_complete:
            if self._incoming.eof:
                self._raise_failure(
                    HandshakeError(
                        "the server closed the connection during the handshake without an "
                        "alert (does it speak TLS here, and accept our versions and suites?)",
                        state=str(getattr(conn.state, "name", conn.state)),
                    ),
                    ssl.SSLEOFError,
                )
            raise _want_read()

    # ------------------------------------------------------------------ data

    def read(self, len: int = 1024, buffer: Any = None) -> Any:  # noqa: A002 - ssl's name
        """Up to ``len`` bytes of plaintext (or into ``buffer``, returning the count)."""
        if len < 0:
            raise ValueError("size should not be negative")
        if not self._complete():
            self.do_handshake()
        if not self._buffered:
            self._check_usable()
            self._pump()
            if not self._buffered:
                if self._peer_closed:
                    if self._close_sent:
                        raise ssl.SSLZeroReturnError(
                            ssl.SSL_ERROR_ZERO_RETURN, "TLS/SSL connection has been closed (EOF)"
                        )
                    return b"" if buffer is None else 0
                if self._incoming.eof:
                    raise _ragged_eof()
                raise _want_read()
        if buffer is None:
            return self._take(len) if len else b""
        view = memoryview(buffer).cast("B")
        data = self._take(min(len or view.nbytes, view.nbytes))
        count = memoryview(data).nbytes
        view[:count] = data
        return count

    def write(self, data: Any) -> int:
        """Encrypt all of ``data`` into ``outgoing``; returns its length."""
        if not self._complete():
            self.do_handshake()
        if self._close_sent:
            raise ssl_compatible(TLSError("cannot write: close_notify was already sent"))
        self._check_usable()
        view = memoryview(data)
        self._guard(self._conn.send_data, view)
        self._flush()
        return view.nbytes

    def pending(self) -> int:
        """Plaintext already decrypted and buffered."""
        return self._buffered

    def unwrap(self) -> None:
        """Send close_notify; returns once the server's arrived (else SSLWantReadError)."""
        conn = self._conn
        if conn is None or not conn.handshake_complete:
            raise ssl_compatible(TLSError("cannot unwrap before the handshake completed"))
        self._check_usable()  # after a failure there is no orderly close to wait for
        if not self._close_sent:
            self._close_sent = True
            self._guard(conn.send_close_notify)
            self._flush()
        if not self._peer_closed:
            self._pump()
        if self._peer_closed:
            return None
        if self._incoming.eof:
            raise _ragged_eof()
        raise _want_read()

    def verify_client_post_handshake(self) -> NoReturn:
        raise NotImplementedError(
            "verify_client_post_handshake is a server-side call; tlsengine is a client "
            "(it answers post-handshake CertificateRequests by itself)"
        )

    # ------------------------------------------------------------------ internals

    def _pump(self) -> None:
        """Feed everything ``incoming`` holds to the core and file what comes out."""
        data = self._incoming.read()
        if not data:
            return
        try:
            events = self._conn.receive_data(data)
        except BaseException as exc:
            self._flush_quietly()  # the alert the core queued still goes out
            self._raise_failure(exc)
        self._flush()
        for event in events:
            if type(event) is DataReceived:
                self._append(event.data)
            elif isinstance(event, ConnectionClosed):
                self._peer_closed = True

    def _flush(self) -> None:
        out = self._conn.data_to_send()
        if out:
            self._outgoing.write(out)

    def _flush_quietly(self) -> None:
        try:
            self._flush()
        except Exception:  # noqa: BLE001 - best effort: the real error is being raised
            pass

    def _check_usable(self) -> None:
        """Raise the connection's fatal error again, the same object: a rejection reads as
        `ClientCertificateRejected` on every later call, as on the one that met it."""
        if self._failure is not None:
            raise self._failure

    def _guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except TLSEngineError as exc:
            self._flush_quietly()
            self._raise_failure(exc)

    def _raise_failure(
        self, exc: BaseException, base: type[ssl.SSLError] | None = None
    ) -> NoReturn:
        if not isinstance(exc, Exception):
            raise exc  # KeyboardInterrupt and friends pass untouched
        compat = ssl_compatible(exc, base)
        if compat is not exc:
            compat.__cause__ = exc
        self._failure = compat
        raise compat
