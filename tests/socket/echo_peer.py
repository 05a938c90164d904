"""Small stdlib servers for the socket tests: an ssl echo peer, a mute one, a quitter.

Each runs one thread per connection on 127.0.0.1 and records what it saw (client
certificate subject, errors, what the client sent last), so tests assert on the server's
view as well as the client's.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

HOST = "127.0.0.1"


@dataclass
class Seen:
    """One connection as the server saw it."""

    subject: str | None = None
    error: str | None = None
    eof_clean: bool | None = None  # recv returned b"" (close_notify or FIN)
    received: bytes = b""
    done: threading.Event = field(default_factory=threading.Event)


class Peer:
    """A listening socket whose connections run ``handler`` in threads."""

    def __init__(self, handler: Callable[[socket.socket, Seen], None]) -> None:
        self.handler = handler
        self.listener = socket.create_server((HOST, 0), backlog=16)
        self.port = self.listener.getsockname()[1]
        self.seen: list[Seen] = []
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stop = False
        self.listener.settimeout(0.05)
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.port)

    def _accept(self) -> None:
        while not self._stop:
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            seen = Seen()
            with self._ready:
                self.seen.append(seen)
                self._ready.notify_all()
            t = threading.Thread(target=self._run, args=(sock, seen), daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, sock: socket.socket, seen: Seen) -> None:
        sock.settimeout(5)
        try:
            self.handler(sock, seen)
        except (OSError, ssl.SSLError) as exc:
            seen.error = f"{type(exc).__name__}: {exc}"
        finally:
            sock.close()
            seen.done.set()

    def last(self, timeout: float = 5.0) -> Seen:
        """The most recent connection, once its handler has finished."""
        with self._ready:
            assert self._ready.wait_for(lambda: self.seen, timeout), "no connection arrived"
            seen = self.seen[-1]
        assert seen.done.wait(timeout), "server handler did not finish"
        return seen

    def close(self) -> None:
        self._stop = True
        self._accept_thread.join(2)
        self.listener.close()
        for t in self._threads:
            t.join(2)

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def server_context(
    cert: Path,
    key: Path,
    *,
    verify_mode: ssl.VerifyMode = ssl.CERT_NONE,
    client_ca: Path | None = None,
    alpn: list[str] | None = None,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.verify_mode = verify_mode
    if client_ca is not None:
        ctx.load_verify_locations(client_ca)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    ctx.num_tickets = 0
    return ctx


def tls_echo(ctx: ssl.SSLContext) -> Callable[[socket.socket, Seen], None]:
    """Handshake, note the client subject, then echo until the client stops."""

    def handler(sock: socket.socket, seen: Seen) -> None:
        with ctx.wrap_socket(sock, server_side=True) as tls:
            der = tls.getpeercert(binary_form=True)
            if der:
                seen.subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
            while True:
                data = tls.recv(256 * 1024)
                if not data:
                    seen.eof_clean = True
                    return
                seen.received = data
                if data == b"QUIT\n":
                    return
                tls.sendall(data)

    return handler


def tls_lines(ctx: ssl.SSLContext, lines: list[bytes]) -> Callable[[socket.socket, Seen], None]:
    """Handshake, send ``lines`` in one write, read what the client writes back, close."""

    def handler(sock: socket.socket, seen: Seen) -> None:
        with ctx.wrap_socket(sock, server_side=True) as tls:
            tls.sendall(b"".join(lines))
            seen.received = tls.recv(65536)

    return handler


def mute(sock: socket.socket, seen: Seen) -> None:
    """Accept TCP and never answer (until the client gives up)."""
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        pass


def quitter(sock: socket.socket, seen: Seen) -> None:
    """Read the ClientHello, then close without a word."""
    seen.received = sock.recv(65536)
