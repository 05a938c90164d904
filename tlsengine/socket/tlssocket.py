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
from typing import Any, Literal, cast

from cryptography import x509
from cryptography.x509.oid import NameOID

from ..errors import HandshakeError, TLSEngineError, TLSError, TLSTimeout
from ..protocol.events import (
    ConnectionClosed,
    DataReceived,
    Event,
    SessionTicketReceived,
)
from ..protocol.tls13 import MAX_SESSION_TICKETS

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


class TLSSocket:
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

    def _take(self, n: int) -> bytes:
        first = self._chunks[0]
        if len(first) >= n:  # the common case: one record covers the request
            if len(first) == n:
                self._chunks.popleft()
            else:
                self._chunks[0] = first[n:]
            self._buffered -= n
            return bytes(first[:n])
        return b"".join(self._pop(n))

    def _pop(self, n: int) -> list[memoryview]:
        """Up to ``n`` buffered bytes, as views in order, removed from the buffer."""
        chunks = self._chunks
        parts: list[memoryview] = []
        got = 0
        while chunks and got < n:
            chunk = chunks[0]
            take = min(len(chunk), n - got)
            parts.append(chunk[:take])
            got += take
            if take == len(chunk):
                chunks.popleft()
            else:
                chunks[0] = chunk[take:]
        self._buffered -= got
        return parts

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

    # ------------------------------------------------------------------ TLS facts

    def version(self) -> str | None:
        """ "TLSv1.3" / "TLSv1.2" once the handshake is done, else None (as ssl)."""
        return self._conn.version if self._complete() else None

    def cipher(self) -> tuple[str, str, int] | None:
        """(IANA suite name, protocol version, secret bits), as ``ssl.SSLSocket.cipher``."""
        if not self._complete():
            return None
        name = self._conn.cipher
        return name, self._conn.version, _cipher_bits(name)

    def shared_ciphers(self) -> None:
        return None

    def compression(self) -> None:
        return None

    def selected_alpn_protocol(self) -> str | None:
        return self._conn.alpn_protocol if self._complete() else None

    def getpeercert(self, binary_form: bool = False) -> dict[str, Any] | bytes | None:
        """The server's leaf: DER with ``binary_form``, else ssl's dict ({} if unverified).

        Only after a completed handshake, as ``ssl``: before it, or after a failed one
        (a rejected chain included), it raises `TLSError`, so a certificate that failed
        verification is never reported. `get_unverified_chain` shows what was sent.
        """
        if not self._complete():
            if self._failure is not None:
                raise TLSError(
                    f"the handshake failed ({self._failure}); no verified peer certificate "
                    "(get_unverified_chain() shows what the server sent)"
                )
            raise TLSError("handshake not done yet")
        certs = self.get_unverified_chain()
        if not certs:
            return None
        if binary_form:
            return certs[0]
        if not self._verified:
            return {}
        return certificate_dict(x509.load_der_x509_certificate(certs[0]))

    def get_verified_chain(self) -> list[bytes]:
        """The server's chain (DER, leaf first, as sent) once it verified, else [].

        Empty before the handshake completes, after it failed, and with ``verify=False``
        (nothing was verified then): only a chain that passed verification is reported.
        """
        if not (self._complete() and self._verified):
            return []
        return self.get_unverified_chain()

    def get_unverified_chain(self) -> list[bytes]:
        """The chain the server sent (DER, leaf first), verified or not; for diagnostics,
        e.g. after a `CertificateVerificationError`. Never a basis for trust."""
        return [bytes(c) for c in (getattr(self._conn, "peer_certificates", None) or [])]

    @property
    def client_identity(self) -> Any:
        """The `Identity` we sent, or None (none asked for, or nothing fitted); on a
        resumed connection, the one sent when the session was made."""
        return getattr(self._conn, "client_identity", None)

    @property
    def certificate_request(self) -> Any:
        """The server's `CertificateRequestInfo`, or None if it never asked."""
        return getattr(self._conn, "certificate_request", None)

    @property
    def selection(self) -> Any:
        """The `Selection` (verdict per candidate) from the last CertificateRequest."""
        return getattr(self._conn, "selection", None)

    @property
    def transcript(self) -> list[dict[str, Any]]:
        """Every decoded handshake message and the selection verdicts (``trace=True``)."""
        return list(getattr(self._conn, "transcript", None) or [])

    @property
    def session_reused(self) -> bool:
        """True when this connection resumed an earlier session (as ``ssl``'s).

        A resumed handshake carries no certificates: ``getpeercert()`` and
        ``client_identity`` then report those of the connection that made the session.
        """
        return self._complete() and bool(getattr(self._conn, "session_reused", False))

    @property
    def session(self) -> Any:
        """The newest session the server gave this connection (None before any), as
        ``ssl.SSLSocket.session``. It lives in memory only and refuses pickling; the
        context's cache already offers it to the next connection."""
        tickets = getattr(self._conn, "session_tickets", None)
        return tickets[-1] if tickets else None

    @property
    def connection(self) -> Any:
        """The underlying sans-IO `ClientConnection` (for researchers; None before start)."""
        return self._conn

    # ------------------------------------------------------------------ internals

    def _complete(self) -> bool:
        return self._conn is not None and bool(self._conn.handshake_complete)

    def _state_name(self) -> str | None:
        state = getattr(self._conn, "state", None)
        return None if state is None else str(getattr(state, "name", state))

    def _check_open(self) -> None:
        if self._released:
            raise TLSError("the TLS socket is closed")

    def _check_usable(self) -> None:
        if self._failure is not None:
            raise TLSError(f"the handshake already failed: {self._failure}")

    def _ensure_handshake(self) -> None:
        self._check_open()
        if self._conn is None or not self._conn.handshake_complete:
            self.do_handshake()

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
        except TLSEngineError:
            self._flush_quietly()  # the core may have queued an alert for the peer
            raise
        except Exception as exc:  # a core bug must still surface as a documented error
            self._flush_quietly()
            raise TLSError(f"internal error in the TLS core: {type(exc).__name__}: {exc}") from exc
        self._flush()
        for event in events:
            if type(event) is DataReceived:
                if event.data:
                    self._chunks.append(memoryview(event.data))
                    self._buffered += len(event.data)
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


def _cipher_bits(name: str) -> int:
    if "AES_128" in name:
        return 128
    if "AES_256" in name or "CHACHA20" in name:
        return 256
    return 0


# ssl's short names for the attributes it prints in getpeercert() dicts.
_ATTR_NAMES = {
    NameOID.COMMON_NAME: "commonName",
    NameOID.COUNTRY_NAME: "countryName",
    NameOID.LOCALITY_NAME: "localityName",
    NameOID.STATE_OR_PROVINCE_NAME: "stateOrProvinceName",
    NameOID.ORGANIZATION_NAME: "organizationName",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "organizationalUnitName",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.DOMAIN_COMPONENT: "domainComponent",
    NameOID.USER_ID: "userId",
    NameOID.STREET_ADDRESS: "streetAddress",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionCountryName",
}


def _name_tuple(name: x509.Name) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(
        tuple((_ATTR_NAMES.get(attr.oid, attr.oid.dotted_string), str(attr.value)) for attr in rdn)
        for rdn in name.rdns
    )


def _ssl_time(when: Any) -> str:
    """OpenSSL's ASN1_TIME_print layout, e.g. 'Jan  5 09:34:43 2018 GMT'."""
    return f"{when:%b} {when.day:2d} {when:%H:%M:%S %Y} GMT"


def certificate_dict(cert: x509.Certificate) -> dict[str, Any]:
    """The dict ``ssl.SSLSocket.getpeercert()`` returns, built with `cryptography`."""
    out: dict[str, Any] = {
        "subject": _name_tuple(cert.subject),
        "issuer": _name_tuple(cert.issuer),
        "version": cert.version.value + 1,
        "serialNumber": f"{cert.serial_number:X}".rjust(2, "0"),
        "notBefore": _ssl_time(cert.not_valid_before_utc),
        "notAfter": _ssl_time(cert.not_valid_after_utc),
    }
    if len(out["serialNumber"]) % 2:
        out["serialNumber"] = "0" + out["serialNumber"]
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        sans = None
    if sans is not None:
        entries: list[tuple[str, str]] = []
        for general in sans:
            if isinstance(general, x509.DNSName):
                entries.append(("DNS", general.value))
            elif isinstance(general, x509.IPAddress):
                entries.append(("IP Address", _ip_text(general.value)))
            elif isinstance(general, x509.RFC822Name):
                entries.append(("email", general.value))
            elif isinstance(general, x509.UniformResourceIdentifier):
                entries.append(("URI", general.value))
        out["subjectAltName"] = tuple(entries)
    return out


def _ip_text(value: Any) -> str:
    if value.version == 6:  # ssl prints IPv6 fully expanded, upper case
        return ":".join(f"{int(g, 16):X}" for g in value.exploded.split(":"))
    return str(value)


__all__ = ["TLSSocket", "certificate_dict", "RECV_SIZE", "MAX_TICKETS"]
