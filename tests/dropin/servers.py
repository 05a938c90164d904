"""A keep-alive HTTPS server on the stdlib ``ssl`` that requires client certificates.

Every response echoes the client certificate's subject, and the server counts handshakes,
so a test can assert both who was sent and that keep-alive reused one connection.
The stdlib server sends no CA names in its CertificateRequest (Python's ``ssl`` has no
API for the client CA list).
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from cryptography import x509
from peers import ServerPKI

from tlsengine.testing.server import ThreadedServer


@dataclass
class Handshake:
    peer: tuple[str, int]
    subject: str | None = None
    version: str | None = None
    alpn: str | None = None
    reused: bool = False
    error: str | None = None


def subject_of_der(der: bytes | None) -> str:
    return x509.load_der_x509_certificate(der).subject.rfc4514_string() if der else ""


class _EchoHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive: answers every request with the client subject."""

    protocol_version = "HTTP/1.1"
    server_version = "tlsengine-dropin-test"

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length) if length else b""
        subject = subject_of_der(self.connection.getpeercert(binary_form=True))
        body = (
            f"subject={subject}\nmethod={self.command}\npath={self.path}\n"
            f"received={len(received)}\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _reply

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass


class KeepAliveHTTPSServer(ThreadedServer):
    """``verify_mode`` CERT_REQUIRED by default; ``client_cas`` are the CAs it trusts."""

    def __init__(
        self,
        pki: ServerPKI,
        client_cas: Path,
        *,
        verify_mode: ssl.VerifyMode = ssl.CERT_REQUIRED,
        alpn: list[str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__("127.0.0.1", timeout)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki.cert_file, pki.key_file)
        ctx.verify_mode = verify_mode
        if verify_mode != ssl.CERT_NONE:
            ctx.load_verify_locations(cafile=str(client_cas))
        if alpn:
            ctx.set_alpn_protocols(alpn)
        self.context = ctx
        self.handshakes: list[Handshake] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _serve(self, sock: Any, peer: tuple[str, int]) -> None:
        record = Handshake(peer=peer)
        tls: ssl.SSLSocket | None = None
        try:
            tls = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            self._live.add(tls)
            tls.do_handshake()
            record.subject = subject_of_der(tls.getpeercert(binary_form=True))
            record.version = tls.version()
            record.alpn = tls.selected_alpn_protocol()
            record.reused = tls.session_reused
        except (OSError, ssl.SSLError) as exc:
            record.error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.handshakes.append(record)
        self._publish(record)
        if tls is None or record.error:
            return
        try:
            _EchoHandler(tls, peer, self)  # type: ignore[arg-type]
        except (OSError, ssl.SSLError):
            pass
        finally:
            self._live.discard(tls)
            tls.close()

    @property
    def accepted(self) -> list[Handshake]:
        """Handshakes that completed (the server accepted the client certificate)."""
        with self._lock:
            return [h for h in self.handshakes if h.error is None]


@dataclass
class Echo:
    """A parsed echo body."""

    subject: str
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: bytes | str) -> Echo:
        text = body.decode() if isinstance(body, bytes) else body
        fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        return cls(fields.get("subject", ""), fields)


class ConnectProxy(ThreadedServer):
    """An HTTP CONNECT proxy: relays bytes, so TLS runs end to end through it. With
    ``tls`` the proxy itself speaks TLS (an HTTPS proxy: TLS inside TLS for the client)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__("127.0.0.1", 10.0)
        self.tls = tls
        self.tunnels: list[str] = []

    def _serve(self, sock: Any, peer: tuple[str, int]) -> None:
        import select
        import socket as socket_module

        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
            self._live.add(sock)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = sock.recv(4096)
            if not chunk:
                return
            request += chunk
        target = request.split(b" ")[1].decode()
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        upstream = socket_module.create_connection((host, int(port)), timeout=10)
        sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            while True:
                if getattr(sock, "pending", lambda: 0)():  # TLS bytes already decrypted
                    readable = [sock]
                else:
                    readable, _, _ = select.select([sock, upstream], [], [], 10)
                if not readable:
                    return
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is sock else sock).sendall(data)
        finally:
            upstream.close()
