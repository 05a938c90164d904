"""asyncio streams on the same sans-IO core: ``open_connection`` like ``asyncio``'s.

The reader is a real ``asyncio.StreamReader`` (readline, readexactly, ... all work), fed
with decrypted data by a small protocol that drives `ClientConnection`. The writer
encrypts on ``write`` and honours the transport's flow control in ``drain``.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from ..errors import HandshakeError, TLSEngineError, TLSError, TLSTimeout
from ..protocol.events import ConnectionClosed, DataReceived
from .context import ClientContext, normalize_hostname, set_nodelay

#: StreamReader buffer limit, as asyncio's default.
LIMIT = 2**16
#: Bytes read per call when draining what a dead transport left unread.
RECV_SIZE = 256 * 1024


class _TLSProtocol(asyncio.Protocol):
    """Bytes from the transport -> core -> StreamReader; the core's output -> transport."""

    def __init__(self, conn: Any, reader: asyncio.StreamReader) -> None:
        self.conn = conn
        self.reader = reader
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[None] = loop.create_future()
        self._can_write = asyncio.Event()
        self._can_write.set()
        self.failure: TLSEngineError | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_connection gives stream protocols a full Transport (write, is_closing).
        self.transport = cast(asyncio.Transport, transport)
        # Back-pressure as asyncio's StreamReaderProtocol: the reader pauses the transport
        # once it holds more than 2 * limit bytes and resumes it as the caller reads, so a
        # server cannot make an unread stream buffer without bound.
        self.reader.set_transport(self.transport)
        try:
            self.conn.start_handshake()
        except TLSEngineError as exc:
            self._fail(exc)
            return
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except TLSEngineError as exc:
            self._flush()
            self._fail(exc)
            return
        except Exception as exc:  # a core bug still surfaces as a documented error
            err = TLSError(f"internal error in the TLS core: {type(exc).__name__}: {exc}")
            err.__cause__ = exc
            self._fail(err)
            return
        self._flush()
        if self.conn.handshake_complete and not self.handshake.done():
            self.handshake.set_result(None)
        for event in events:
            if type(event) is DataReceived:
                self.reader.feed_data(event.data)
            elif isinstance(event, ConnectionClosed):
                self.reader.feed_eof()

    def eof_received(self) -> bool | None:
        if not self.handshake.done():
            self._fail(
                HandshakeError(
                    "the server closed the connection during the handshake without an alert",
                    state=str(getattr(self.conn.state, "name", self.conn.state)),
                )
            )
        else:
            self.reader.feed_eof()  # ragged EOF tolerated, as TLSSocket does by default
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.failure is None:
            self._read_unread_alert()
        if self.failure is not None:
            pass  # already reported: a reset that follows the alert must not replace it
        elif not self.handshake.done():
            self._fail(HandshakeError(f"connection lost during the handshake: {exc}"))
        elif exc is not None:
            self.reader.set_exception(exc)
        else:
            self.reader.feed_eof()
        self._can_write.set()

    def _read_unread_alert(self) -> None:
        """The transport died on an error (often our write meeting the server's reset):
        feed the core what is still unread in the kernel, since an alert the server sent
        before closing says why. TLSSocket does the same when a write is refused.

        asyncio stops reading on a write error, so without this a rejection would show as
        a bare ``BrokenPipeError`` when the write path noticed the close first.
        """
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is None or not hasattr(sock, "dup"):
            return  # a transport without a socket (uvloop, proactor): nothing to drain
        try:
            with sock.dup() as raw:  # the transport's socket is still open until we return
                raw.setblocking(False)
                while data := raw.recv(RECV_SIZE):
                    self.data_received(data)
                    if self.failure is not None:
                        return
        except OSError:
            pass  # nothing (more) to read: the original error stands

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def _flush(self) -> None:
        out = self.conn.data_to_send()
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out)

    def _fail(self, exc: TLSEngineError) -> None:
        self.failure = exc
        if not self.handshake.done():
            self.handshake.set_exception(exc)
        else:
            self.reader.set_exception(exc)
        if self.transport is not None:
            self.transport.close()


class TLSStreamWriter:
    """The write half: ``write``/``drain``/``close`` like ``asyncio.StreamWriter``."""

    def __init__(self, protocol: _TLSProtocol, reader: asyncio.StreamReader) -> None:
        self._protocol = protocol
        self._reader = reader
        self._closed = asyncio.get_running_loop().create_future()

    @property
    def transport(self) -> asyncio.Transport:
        assert self._protocol.transport is not None
        return self._protocol.transport

    @property
    def connection(self) -> Any:
        """The sans-IO `ClientConnection` (client_identity, selection, transcript, ...)."""
        return self._protocol.conn

    def write(self, data: bytes | bytearray | memoryview) -> None:
        # The failure itself, not a wrapper: whether the server's alert was read before or
        # after this write is a race, and the caller must see the same error either way.
        if self._protocol.failure is not None:
            raise self._protocol.failure
        self._protocol.conn.send_data(data)
        self._protocol._flush()

    def writelines(self, data: Any) -> None:
        for item in data:
            self.write(item)

    async def drain(self) -> None:
        if self._protocol.failure is not None:
            raise self._protocol.failure
        await self._protocol._can_write.wait()

    def can_write_eof(self) -> bool:
        return False

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        """Send close_notify and close the transport."""
        conn = self._protocol.conn
        if not self.transport.is_closing():
            if conn.handshake_complete:
                try:
                    conn.send_close_notify()
                    self._protocol._flush()
                except TLSEngineError:
                    pass
            self.transport.close()
        if not self._closed.done():
            self._closed.set_result(None)

    async def wait_closed(self) -> None:
        await self._closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        conn = self._protocol.conn
        tls = {
            "tls_version": conn.version,
            "cipher": conn.cipher,
            "alpn_protocol": conn.alpn_protocol,
            "peercert_der": (conn.peer_certificates or [None])[0],
            "client_identity": conn.client_identity,
            "selection": conn.selection,
            "certificate_request": conn.certificate_request,
        }
        if name in tls:
            return tls[name]
        return self.transport.get_extra_info(name, default)


async def open_connection(
    host: str,
    port: int,
    *,
    context: ClientContext | None = None,
    server_hostname: str | bytes | None = None,
    timeout: float | None = None,
    limit: int = LIMIT,
) -> tuple[asyncio.StreamReader, TLSStreamWriter]:
    """Connect, run the handshake, and return (reader, writer).

    ``context`` defaults to ``ClientContext()`` (system roots, default identity store).
    ``timeout`` bounds TCP connect plus handshake and raises `TLSTimeout`. An unread
    reader pauses the socket at 2 * ``limit`` buffered bytes (asyncio's flow control).
    """
    context = context or ClientContext()
    name = normalize_hostname(server_hostname or host)
    conn = context._connection(name, context._verifier_for(name), port=port)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)

    async def connect() -> _TLSProtocol:
        transport, protocol = await loop.create_connection(
            lambda: _TLSProtocol(conn, reader), host, port
        )
        raw = transport.get_extra_info("socket")
        if raw is not None:  # asyncio turns Nagle off itself; the context may turn it on
            set_nodelay(raw, context.tcp_nodelay)
        try:
            await protocol.handshake
        except BaseException:  # failure or cancellation (timeout): never leak the socket
            transport.close()
            raise
        return protocol

    try:
        protocol = await asyncio.wait_for(connect(), timeout)
    except TimeoutError as exc:
        raise TLSTimeout(
            f"TLS connect/handshake to {host}:{port} timed out after {timeout} s "
            f"(in state {getattr(conn.state, 'name', conn.state)})"
        ) from exc
    return reader, TLSStreamWriter(protocol, reader)


__all__ = ["open_connection", "TLSStreamWriter"]
