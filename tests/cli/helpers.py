"""Running the CLI as a user does, and the small servers the issue 7 reproductions need."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from cryptography import x509


def tlsengine(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m tlsengine ARGS`` with no terminal on stdin (so nothing ever prompts)."""
    return subprocess.run(
        [sys.executable, "-m", "tlsengine", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


class PostHandshakeAuthServer:
    """The stdlib ``ssl`` server, TLS 1.3, that asks for a client certificate only after
    reading the HTTP request (``verify_client_post_handshake``), as NSS selfserv and
    Apache do for a protected location; it answers with the subject it validated."""

    def __init__(self, cert_file: Path, key_file: Path, client_cas: Path) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(cert_file, key_file)
        ctx.load_verify_locations(cafile=str(client_cas))
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.post_handshake_auth = True  # so the handshake itself asks for nothing
        ctx.num_tickets = 0
        self.context = ctx
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.asked_in_handshake: bool | None = None
        self.subject: str | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def __enter__(self) -> PostHandshakeAuthServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.listener.close()
        self._thread.join(10)

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(10)
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                self.asked_in_handshake = tls.getpeercert() is not None
                tls.verify_client_post_handshake()
                self.subject = self._await_certificate(tls)
                body = f"subject={self.subject}\n".encode()
                tls.sendall(
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
        except (OSError, ssl.SSLError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    @staticmethod
    def _await_certificate(tls: ssl.SSLSocket) -> str:
        """Send the CertificateRequest and read until the client's answer is processed
        (the client sends no data after it, so each read times out once it is in)."""
        deadline = time.monotonic() + 10
        tls.settimeout(0.1)
        while time.monotonic() < deadline:
            try:
                tls.recv(1)
            except TimeoutError:
                pass
            der = tls.getpeercert(binary_form=True)
            if der:
                return x509.load_der_x509_certificate(der).subject.rfc4514_string()
        raise TimeoutError("the client never answered the post-handshake CertificateRequest")
