"""`TLSSocket`: a blocking, ``ssl.SSLSocket``-shaped shell around the sans-IO client.

The shell owns only I/O: it reads the socket in large chunks, feeds the bytes to
`ClientConnection`, writes whatever the connection wants written and turns events into
``recv`` results. Every TLS decision stays in the protocol layer, so the blocking socket,
asyncio streams and the tests all drive the same core.
"""

from __future__ import annotations

import io
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, Self, cast

from ..errors import HandshakeError, TLSEngineError, TLSError, TLSTimeout
from ..protocol.events import (
    ConnectionClosed,
    DataReceived,
    Event,
    SessionTicketReceived,
)
from ..protocol.tls13 import MAX_SESSION_TICKETS
from .facts import PeerFacts, certificate_dict
from .plaintext import PlaintextBuffer

#: Bytes asked of the kernel per recv: big reads keep the per-record overhead low.
RECV_SIZE = 256 * 1024
#: Plaintext sealed per batch before writing it. Small enough that the kernel sends one
#: batch while we encrypt the next (1 MiB batches measured ~20% slower on upload), large
#: enough to amortise the per-call overhead; also bounds memory for huge sendall().
SEND_BATCH = 128 * 1024
#: Session tickets kept per socket (the newest): the same bound the core keeps its own by.
MAX_TICKETS = MAX_SESSION_TICKETS


class _BufferedPair(io.BufferedRWPair):
    """A read-write buffer over one SocketIO. Unlike a bare ``BufferedRWPair`` it has the
    ``name`` a buffer under ``TextIOWrapper`` is expected to have (its raw stream's)."""

    def __init__(self, raw: socket.SocketIO, size: int) -> None:
        super().__init__(raw, raw, size)
        self._raw = raw

    @property
    def name(self) -> Any:
        return self._raw.name


_Buffer = _BufferedPair | io.BufferedReader | io.BufferedWriter


class _TextStream(io.TextIOWrapper):
    """``makefile``'s text stream, which reports the mode it was opened with, as
    ``socket.makefile``'s does."""

    def __init__(
        self, buffer: _Buffer, mode: str, encoding: str, errors: str | None, newline: str | None
    ) -> None:
        super().__init__(buffer, encoding, errors, newline)
        self._open_mode = mode

    @property
    def mode(self) -> str:
        return self._open_mode


class TLSSocket(PeerFacts, PlaintextBuffer):
    """A TLS client connection over a connected stream socket (blocking, with timeouts).

    Besides the ``ssl.SSLSocket`` surface it exposes what mTLS users need to see:
    ``client_identity`` (what was sent), ``certificate_request``, ``selection`` (every
    candidate's verdict) and ``transcript`` (with ``trace=True``; never key material).
    Those stay readable after a failed handshake, which is when they matter most.

    Like ``ssl.SSLSocket``, one TLSSocket is not safe for concurrent use by several threads
    (one reader and one writer thread is not supported either: records share one state).
    """

    def __init__(
        self,
        sock: socket.socket,
        connection_factory: Callable[[], Any],
        *,
        server_hostname: str | None,
        context: Any = None,
        verified: bool = True,
        suppress_ragged_eofs: bool = True,
    ) -> None:
        self._sock = sock
        self._factory = connection_factory
        self._conn: Any = None
        self.server_hostname = server_hostname
        self.context = context
        self.suppress_ragged_eofs = suppress_ragged_eofs
        self._verified = verified
        self._chunks: deque[memoryview] = deque()
        self._buffered = 0
        self._eof = False  # close_notify (or a tolerated bare EOF) seen
        self._close_sent = False
        self._closed = False  # close() called (the descriptor may live on for makefile objects)
        self._released = False  # the descriptor is really closed
        self._io_refs = 0
        self._failure: BaseException | None = None
        self.session_tickets: list[SessionTicketReceived] = []

    @classmethod
    def _wrap(
        cls,
        sock: socket.socket,
        connection_factory: Callable[[], Any],
        *,
        do_handshake_on_connect: bool,
        **kw: Any,
    ) -> Self:
        """The one way the contexts make a socket: build it and, unless told not to,
        handshake now; a failed handshake closes ``sock``, as ``ssl`` does (the caller
        never got a socket to close)."""
        tls = cls(sock, connection_factory, **kw)
        if do_handshake_on_connect:
            try:
                tls.do_handshake()
            except BaseException:
                sock.close()
                raise
        return tls

    def __repr__(self) -> str:
        state = self._state_name() or "not started"
        closed = " closed" if self._closed else ""
        return (
            f"<TLSSocket{closed} server_hostname={self.server_hostname!r} state={state} "
            f"version={self.version()} fd={-1 if self._released else self._sock.fileno()}>"
        )

    # ------------------------------------------------------------------ handshake

    def do_handshake(self) -> None:
        """Run the handshake to completion; honours the socket timeout as a whole deadline."""
        self._check_open()
        if self._conn is not None and self._conn.handshake_complete:
            return
        self._check_usable()
        if self._conn is None:
            self._conn = self._factory()
            self._guard(self._conn.start_handshake)
        timeout = self._sock.gettimeout()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self._flush()
            while not self._conn.handshake_complete:
                data = self._read(deadline, timeout)
                if not data:
                    raise HandshakeError(
                        "the server closed the connection during the handshake without an "
                        "alert (does it speak TLS here, and accept our versions and suites?)",
                        state=self._state_name(),
                    )
                self._feed(data)
        except BaseException as exc:
            self._failure = exc
            raise
        finally:
            if deadline is not None:
                self._sock.settimeout(timeout)

    # ------------------------------------------------------------------ reading

    def recv(self, bufsize: int = 1024, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes of application data; b"" after close_notify or EOF."""
        self._no_flags(flags)
        if bufsize <= 0:
            return b""
        if not self._fill():
            return b""
        return self._take(bufsize)

    def read(self, len: int = 1024) -> bytes:  # noqa: A002 - ssl.SSLSocket's name
        return self.recv(len)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """Like ``socket.recv_into``; 0 after close_notify or EOF."""
        self._no_flags(flags)
        view = memoryview(buffer).cast("B")
        n = min(nbytes or len(view), len(view))
        if n <= 0 or not self._fill():
            return 0
        written = 0
        for part in self._pop(n):
            view[written : written + len(part)] = part
            written += len(part)
        return written

    def pending(self) -> int:
        """Decrypted bytes already buffered (readable without touching the socket)."""
        return self._buffered

    def _fill(self) -> bool:
        """Make sure some plaintext is buffered; False at end of stream.

        The socket timeout bounds the whole call, as in ``do_handshake`` (and ``ssl``): a
        server sending empty records, tickets or KeyUpdates just under the timeout must
        not keep ``recv`` waiting for ever.
        """
        if self._buffered:
            return True
        self._ensure_handshake()
        timeout = self._sock.gettimeout()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._buffered:
                if self._eof:
                    return False
                data = self._read(deadline, timeout)
                if not data:
                    self._eof = True
                    if not self.suppress_ragged_eofs:
                        raise TLSError("the server closed the connection without close_notify")
                    return False
                self._feed(data)
        finally:
            if deadline is not None:
                self._sock.settimeout(timeout)
        return True

    # ------------------------------------------------------------------ writing

    def send(self, data: Any, flags: int = 0) -> int:
        """Encrypt and write all of ``data`` (a TLS record cannot be half-sent); returns len."""
        self._no_flags(flags)
        self.sendall(data)
        return memoryview(data).nbytes

    def write(self, data: Any) -> int:
        return self.send(data)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._no_flags(flags)
        self._ensure_handshake()
        if self._close_sent:
            raise TLSError("cannot send after close_notify was sent (shutdown/unwrap)")
        view = memoryview(data).cast("B")
        send_data = self._conn.send_data
        for start in range(0, len(view), SEND_BATCH):
            # The core seals (copies) the slice at once, so no defensive copy is needed here.
            self._guard(send_data, view[start : start + SEND_BATCH])
            self._flush()

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """Plain read-and-send: TLS records cannot use the kernel's zero-copy path."""
        if offset:
            file.seek(offset)
        total = 0
        while count is None or total < count:
            want = SEND_BATCH if count is None else min(SEND_BATCH, count - total)
            block = file.read(want)
            if not block:
                break
            self.sendall(block)
            total += len(block)
        return total

    # ------------------------------------------------------------------ files

    def makefile(
        self,
        mode: str = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> Any:
        """A file object over the TLS stream, as ``socket.makefile`` builds one."""
        if not set(mode) <= {"r", "w", "b"}:
            raise TLSError(f"invalid makefile mode {mode!r} (only r, w, b allowed)")
        writing = "w" in mode
        reading = "r" in mode or not writing
        rawmode: Literal["r", "w", "rw"] = "rw" if reading and writing else "r" if reading else "w"
        # SocketIO only calls recv_into, send, fileno and _decref_socketios on its socket,
        # all of which TLSSocket has (as ssl.SSLSocket does): it stands in for a socket here.
        raw = socket.SocketIO(cast(socket.socket, self), rawmode)
        self._io_refs += 1
        size = io.DEFAULT_BUFFER_SIZE if buffering is None or buffering < 0 else buffering
        binary = "b" in mode
        if size == 0:
            if not binary:
                raise TLSError("unbuffered makefile streams must be binary")
            return raw
        buffer: _Buffer
        if reading and writing:
            buffer = _BufferedPair(raw, size)
        elif reading:
            buffer = io.BufferedReader(raw, size)
        else:
            buffer = io.BufferedWriter(raw, size)
        if binary:
            return buffer
        return _TextStream(buffer, mode, io.text_encoding(encoding), errors, newline)

    def _decref_socketios(self) -> None:
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._real_close()

    # ------------------------------------------------------------------ closing

    def shutdown(self, how: int = socket.SHUT_RDWR) -> None:
        """Send close_notify when the write side closes, then shut the socket down."""
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            self._send_close_notify()
        self._sock.shutdown(how)

    def unwrap(self) -> socket.socket:
        """Send close_notify and hand back the plain socket."""
        self._send_close_notify()
        return self._sock

    def close(self) -> None:
        """Best-effort close_notify, then close (deferred while makefile objects are open)."""
        if self._closed:
            return
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        self._send_close_notify()
        self._released = True
        self._sock.close()

    def _send_close_notify(self) -> None:
        conn = self._conn
        if conn is None or self._close_sent or not conn.handshake_complete:
            return
        self._close_sent = True
        try:
            conn.send_close_notify()
            self._sock.sendall(conn.data_to_send())
        except (OSError, TLSEngineError):
            pass  # the peer is gone; nothing useful to report on close

    def __enter__(self) -> TLSSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ socket surface

    def settimeout(self, value: float | None) -> None:
        self._sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self._sock.gettimeout()

    def setblocking(self, flag: bool) -> None:
        if not flag:
            raise TLSError("TLSSocket is blocking; use tlsengine.socket.aio for asyncio")
        self._sock.setblocking(True)

    def fileno(self) -> int:
        return self._sock.fileno()

    def getpeername(self) -> Any:
        return self._sock.getpeername()

    def getsockname(self) -> Any:
        return self._sock.getsockname()

    def setsockopt(self, *args: Any) -> None:
        self._sock.setsockopt(*args)

    def getsockopt(self, *args: Any) -> Any:
        return self._sock.getsockopt(*args)

    @property
    def family(self) -> int:
        return self._sock.family

    @property
    def type(self) -> int:
        return self._sock.type

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ internals

    def _state_name(self) -> str | None:
        state = getattr(self._conn, "state", None)
        return None if state is None else str(getattr(state, "name", state))

    def _check_open(self) -> None:
        if self._released:
            raise TLSError("the TLS socket is closed")

    def _check_usable(self) -> None:
        """Raise the connection's fatal error again, the same object, as asyncio's streams
        do: a rejection must read as `ClientCertificateRejected` on every later call, not
        only on the one that happened to meet the server's alert."""
        failure = self._failure
        if failure is None:
            return
        if isinstance(failure, TLSEngineError) and not isinstance(failure, TLSTimeout):
            raise failure
        raise TLSError(f"the handshake already failed: {failure}")

    def _ensure_handshake(self) -> None:
        self._check_open()
        if self._conn is None or not self._conn.handshake_complete:
            self.do_handshake()
        elif self._failure is not None:
            self._check_usable()

    @staticmethod
    def _no_flags(flags: int) -> None:
        if flags:
            raise TLSError("flags are not supported on TLS sockets")

    def _read(self, deadline: float | None, budget: float | None = None) -> bytes:
        """One kernel read; timeouts become TLSTimeout, resets mid-handshake HandshakeError.

        With a ``deadline``, each read gets only the time left of ``budget`` seconds, so a
        server that trickles bytes (or empty records) cannot stretch the timeout.
        """
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and budget:
                raise self._timeout_error(budget)
            self._sock.settimeout(max(remaining, 0.0))  # timeout 0: a non-blocking read
        try:
            return self._sock.recv(RECV_SIZE)
        except (TimeoutError, BlockingIOError) as exc:
            raise self._timeout_error(budget) from exc
        except (ConnectionResetError, ConnectionAbortedError) as exc:
            if self._complete():
                raise
            raise HandshakeError(
                f"the server reset the connection during the handshake: {exc}",
                state=self._state_name(),
            ) from exc

    def _timeout_error(self, budget: float | None) -> TLSTimeout:
        if self._complete():
            return TLSTimeout(
                f"TLS read timed out after {budget} s without application data from the server"
            )
        return TLSTimeout(
            f"TLS handshake timed out after {budget} s without an answer from the server "
            f"(in state {self._state_name()})"
        )

    def _feed(self, data: bytes) -> None:
        """Give bytes to the core, write its answer, and file the events."""
        conn = self._conn
        try:
            events: list[Event] = conn.receive_data(data)
        except TLSEngineError as exc:
            self._flush_quietly()  # the core may have queued an alert for the peer
            self._failure = exc  # fatal: the core refuses any further input
            raise
        except Exception as exc:  # a core bug must still surface as a documented error
            self._flush_quietly()
            raise TLSError(f"internal error in the TLS core: {type(exc).__name__}: {exc}") from exc
        self._flush()
        for event in events:
            if type(event) is DataReceived:
                self._append(event.data)
            elif isinstance(event, ConnectionClosed):
                self._eof = True
            elif isinstance(event, SessionTicketReceived):
                self.session_tickets.append(event)
                del self.session_tickets[:-MAX_TICKETS]

    def _flush(self) -> None:
        out = self._conn.data_to_send()
        if not out:
            return
        try:
            self._sock.sendall(out)
        except TimeoutError as exc:
            raise TLSTimeout(f"TLS write timed out after {self._sock.gettimeout()} s") from exc
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            if not self._complete():
                raise HandshakeError(
                    f"the server closed the connection during the handshake: {exc}",
                    state=self._state_name(),
                ) from exc
            self._raise_pending_alert(exc)
            raise

    def _raise_pending_alert(self, cause: OSError) -> None:
        """The peer hung up on our write: an alert it sent first explains why, so read it.

        A TLS 1.3 server judges our certificate after our Finished; its rejection alert is
        often already in the receive buffer when our next write hits the closed socket.
        """
        timeout = self._sock.gettimeout()
        try:
            self._sock.settimeout(0.05)
            data = self._sock.recv(RECV_SIZE)
            if data:
                self._conn.receive_data(data)
        except TLSEngineError as exc:
            self._failure = exc
            raise exc from cause
        except OSError:
            pass
        finally:
            self._sock.settimeout(timeout)

    def _flush_quietly(self) -> None:
        try:
            out = self._conn.data_to_send()
            if out:
                self._sock.sendall(out)
        except Exception:  # noqa: BLE001 - best effort: the real error is already raised
            pass

    def _guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except TLSEngineError:
            self._flush_quietly()
            raise
        except Exception as exc:
            raise TLSError(f"internal error in the TLS core: {type(exc).__name__}: {exc}") from exc


__all__ = ["TLSSocket", "certificate_dict", "RECV_SIZE", "MAX_TICKETS"]
