"""Test-local plumbing for the sans-IO client: a socket loop and a stdlib ``ssl`` echo peer.

The protocol layer opens no sockets, so its tests drive ``ClientConnection`` over a plain
TCP socket here, against a real OpenSSL-backed server (Python's ``ssl``) in a thread.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inproc_server import server_flight

from tlsengine.identity.model import Identity
from tlsengine.protocol import (
    ClientConfig,
    ClientConnection,
    ConnectionClosed,
    DataReceived,
    Event,
    HandshakeComplete,
)
from tlsengine.protocol.record import RecordProtection
from tlsengine.testing import CA, cert_pem, key_pem

HOST = "127.0.0.1"


@dataclass
class FixedSelection:
    """A Selection-shaped answer for tests that must not depend on the selection layer."""

    identity: Identity | None
    scheme: str | None = None
    verdicts: list[Any] = field(default_factory=list)


def choose(identity: Identity | None, scheme: str | None = None) -> Callable[..., FixedSelection]:
    return lambda info, identities: FixedSelection(identity, scheme)


def connected_in_process(
    server_material: tuple[Sequence[bytes], Any], identity: Identity
) -> tuple[ClientConnection, RecordProtection]:
    """A client that finished a handshake with tests/inproc_server.py's flight, and the
    server's application-data protection for sending it post-handshake records."""
    chain, key = server_material
    conn = ClientConnection(ClientConfig(identities=[identity], select=choose(identity)))
    conn.start_handshake()
    keys: list[RecordProtection] = []
    conn.receive_data(server_flight(conn.data_to_send(), chain, key, keys_out=keys))
    conn.data_to_send()
    return conn, keys[0]


class Client:
    """A ClientConnection on a blocking TCP socket, with every event kept."""

    def __init__(self, address: tuple[str, int], config: ClientConfig, timeout: float = 5) -> None:
        self.conn = ClientConnection(config)
        self.sock = socket.create_connection(address, timeout=timeout)
        self.events: list[Event] = []
        self.data = bytearray()

    def flush(self) -> None:
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def pump(self) -> list[Event]:
        """One read from the socket, fed to the connection; replies flushed."""
        chunk = self.sock.recv(262144)
        if not chunk:
            raise EOFError("server closed the TCP connection")
        try:
            events = self.conn.receive_data(chunk)
        finally:
            try:
                self.flush()
            except OSError:
                pass
        for ev in events:
            if isinstance(ev, DataReceived):
                self.data += ev.data
        self.events += events
        return events

    def handshake(self) -> HandshakeComplete:
        self.conn.start_handshake()
        self.flush()
        while True:
            for ev in self.pump():
                if isinstance(ev, HandshakeComplete):
                    return ev

    def send(self, data: bytes) -> None:
        self.conn.send_data(data)
        self.flush()

    def read_exactly(self, n: int) -> bytes:
        while len(self.data) < n:
            if any(isinstance(e, ConnectionClosed) for e in self.pump()):
                break
        out = bytes(self.data[:n])
        del self.data[:n]
        return out

    def close(self) -> None:
        try:
            self.conn.send_close_notify()
            self.flush()
        except Exception:
            pass
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class ServerSeen:
    """What the stdlib server observed on one connection."""

    subject: str | None = None
    messages: list[str] = field(default_factory=list)  # handshake messages read from us
    error: str | None = None
    post_handshake_subject: str | None = None


class EchoServer:
    """Python ``ssl`` server (OpenSSL) in a thread that echoes; records what it saw.

    ``post_handshake_auth=True`` asks for the client certificate only after the handshake
    (``verify_client_post_handshake``) once the first bytes arrived.
    """

    def __init__(
        self,
        directory: Path,
        ca: CA,
        *,
        verify_mode: ssl.VerifyMode = ssl.CERT_NONE,
        client_cas: Sequence[CA] = (),
        server_key: str = "p256",
        post_handshake_auth: bool = False,
        alpn: Sequence[str] = (),
        curve: str | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        cert, key = ca.issue("localhost", server_key, client=False, server=True, dns=["localhost"])
        (directory / "srv.pem").write_bytes(cert_pem(cert, ca.certificate))
        (directory / "srv.key").write_bytes(key_pem(key))
        self.server_certificate = cert
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(directory / "srv.pem", directory / "srv.key")
        ctx.verify_mode = verify_mode
        if client_cas:
            (directory / "cas.pem").write_bytes(cert_pem(*(c.certificate for c in client_cas)))
            ctx.load_verify_locations(cafile=str(directory / "cas.pem"))
        ctx.post_handshake_auth = post_handshake_auth
        ctx.num_tickets = 1
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        if curve:
            ctx.set_ecdh_curve(curve)  # OpenSSL 3: the only group offered, forcing an HRR
        ctx._msg_callback = self._on_message  # type: ignore[attr-defined]
        self.context = ctx
        self.post_handshake_auth = post_handshake_auth
        self.seen: list[ServerSeen] = []
        self._by_thread: dict[int, ServerSeen] = {}
        self._listener = socket.socket()
        self._listener.bind((HOST, 0))
        self._listener.listen(8)
        self._listener.settimeout(0.2)
        self.address = self._listener.getsockname()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.done = threading.Semaphore(0)

    def _on_message(
        self, conn: Any, direction: str, version: Any, ctype: Any, mtype: Any, data: Any
    ) -> None:  # noqa: E501
        if direction == "read" and getattr(ctype, "name", "") == "HANDSHAKE":
            seen = self._by_thread.get(threading.get_ident())
            if seen is not None:
                seen.messages.append(getattr(mtype, "name", str(mtype)))

    def __enter__(self) -> EchoServer:
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=3)
        self._listener.close()

    def wait(self, timeout: float = 5) -> ServerSeen:
        if not self.done.acquire(timeout=timeout):
            raise TimeoutError("server connection did not finish")
        return self.seen[-1]

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            t = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, raw: socket.socket) -> None:
        seen = ServerSeen()
        self._by_thread[threading.get_ident()] = seen
        self.seen.append(seen)
        raw.settimeout(5)
        try:
            with self.context.wrap_socket(raw, server_side=True) as tls:
                seen.subject = _subject(tls.getpeercert())
                asked = False
                while True:
                    data = tls.recv(262144)
                    if not data:
                        break
                    if self.post_handshake_auth and not asked:
                        asked = True
                        tls.verify_client_post_handshake()
                        tls.sendall(b"")  # flush the CertificateRequest
                        tls.sendall(data)
                        tls.recv(0)
                        continue
                    if data == b"close-please":
                        tls.unwrap()  # sends close_notify
                        break
                    if self.post_handshake_auth and seen.post_handshake_subject is None:
                        seen.post_handshake_subject = _subject(tls.getpeercert())
                    tls.sendall(data)
        except (OSError, ssl.SSLError) as exc:
            seen.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.release()


def _subject(cert: dict[str, Any] | None) -> str | None:
    if not cert:
        return None
    return ",".join(f"{k}={v}" for rdn in cert.get("subject", ()) for k, v in rdn)
