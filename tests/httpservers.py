"""Servers for the HTTP layer and invoker tests (tests/http, tests/invoker), on 127.0.0.1.

- `TwoHostNginx`: one nginx, two virtual hosts (two ports) that trust different client CAs
  (``ssl_verify_client on``). Every answer names the client (``$ssl_client_s_dn``) and the
  nginx connection serial (``$connection``), so a test counts handshakes: a reused
  keep-alive connection keeps its serial; ``reused`` is ``r`` for a resumed TLS session.
- `ScriptedHTTPS`: the stdlib ``ssl`` server in a thread whose answers a test writes as
  raw bytes (truncated bodies, dropped connections, Brotli, slow answers).
- `ConnectProxy`: a minimal HTTP CONNECT proxy that counts the tunnels it opened.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from peers import HOST, NginxServer, ServerPKI, free_port, make_server_pki, write_cas

import tlsengine
from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA
from tlsengine.testing.server import ThreadedServer

P12_PASSWORD = "pw"


class TwoHostNginx(NginxServer):
    """Host A (``port``) trusts ``ca_a`` for clients, host B (``port_b``) trusts ``ca_b``.

    Locations on both: ``/`` (text: subject, verify, conn, requests), ``/json`` (the same
    as JSON), ``/fail`` (HTTP 500 with a JSON body), ``/text`` (not JSON), ``/to-b`` and
    ``/to-a`` (302 to the other host), ``/loop`` (redirects to itself), ``/static/*``
    (files, gzip on).

    Start, stop, readiness and the command line are `NginxServer`'s; only the config
    differs.
    """

    name = "nginx2"

    def __init__(self, workdir: Path, pki: ServerPKI, ca_a: CA, ca_b: CA) -> None:
        super().__init__(workdir, pki)
        self.cas = (write_cas(workdir / "cas-a.pem", ca_a), write_cas(workdir / "cas-b.pem", ca_b))
        self.port_b = 0
        self.static = workdir / "static"
        self.static.mkdir(exist_ok=True)

    def url(self, host: str, path: str = "/") -> str:
        port = self.port if host == "a" else self.port_b
        return f"https://localhost:{port}{path}"

    def _server(self, port: int, other: int, cas: Path) -> str:
        text = (
            "subject=$ssl_client_s_dn\\nverify=$ssl_client_verify\\nconn=$connection\\n"
            "reused=$ssl_session_reused\\n"
        )
        doc = (
            '{\\"subject\\": \\"$ssl_client_s_dn\\", \\"conn\\": \\"$connection\\", '
            '\\"method\\": \\"$request_method\\", \\"args\\": \\"$args\\"}'
        )
        return f"""
  server {{
    listen {HOST}:{port} ssl;
    server_name localhost;
    ssl_certificate {self.pki.cert_file};
    ssl_certificate_key {self.pki.key_file};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_verify_client on;
    ssl_client_certificate {cas};
    ssl_verify_depth 4;
    keepalive_requests 1000;
    gzip on; gzip_types text/plain application/json; gzip_min_length 0;
    ssl_session_cache shared:{self.name}{port}:1m;
    location = / {{ default_type text/plain; return 200 "{text}"; }}
    location = /json {{ default_type application/json; return 200 "{doc}"; }}
    location = /fail {{ default_type application/json; return 500 '{{"error": "boom"}}'; }}
    location = /text {{ default_type text/plain; return 200 "plain words, not JSON"; }}
    location = /to-b {{ return 302 https://localhost:{other}/json; }}
    location = /to-a {{ return 302 https://localhost:{other}/json; }}
    location = /loop {{ return 302 https://localhost:{port}/loop; }}
    location /static/ {{ alias {self.static}/; default_type text/plain; }}
  }}"""

    def servers(self, port: int) -> str:
        self.port_b = free_port()
        return self._server(port, self.port_b, self.cas[0]) + self._server(
            self.port_b, port, self.cas[1]
        )


def parse_text(body: str) -> dict[str, str]:
    """``subject=...\\nconn=...`` as a dict."""
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


# --------------------------------------------------------------------------- scripted HTTPS


@dataclass
class Exchange:
    """One request the scripted server read: which connection (0, 1, ...) and the bytes."""

    connection: int
    head: bytes
    body: bytes = b""


Script = Callable[[Exchange], bytes | None]  # answer bytes; None: close without answering


@dataclass
class ScriptedHTTPS(ThreadedServer):
    """stdlib ``ssl`` server; ``script(exchange)`` answers each request with raw bytes.

    Connections are kept alive: after an answer the server reads the next request on the
    same connection, unless the script returned None (close at once, no answer) or the
    answer said ``Connection: close``. ``after_answer="cut"`` closes the TCP socket with
    no close_notify after each answer.
    """

    pki: ServerPKI
    script: Script
    client_cas: Path | None = None
    after_answer: str = "keep"
    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        ThreadedServer.__init__(self, HOST, 5.0)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.pki.cert_file, self.pki.key_file)
        if self.client_cas is not None:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(cafile=str(self.client_cas))
        self.context = ctx
        self._connections = 0
        self._count_lock = threading.Lock()

    @property
    def connections(self) -> int:
        return self._connections

    def url(self, path: str = "/") -> str:
        return f"https://localhost:{self.port}{path}"

    def _serve(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        with self._count_lock:
            index = self._connections
            self._connections += 1
        try:
            tls = self.context.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError):
            return
        self._live.add(tls)
        try:
            self._converse(tls, index)
        except (OSError, ssl.SSLError):
            pass
        finally:
            self._live.discard(tls)
            if self.after_answer == "cut":
                sock.close()
            tls.close()

    def _converse(self, tls: ssl.SSLSocket, index: int) -> None:
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = _content_length(head)
            while len(buffer) < length:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            exchange = Exchange(index, head, buffer[:length])
            buffer = buffer[length:]
            self.exchanges.append(exchange)
            answer = self.script(exchange)
            if answer is None:
                return
            tls.sendall(answer)
            if self.after_answer == "cut" or b"connection: close" in answer.lower():
                return


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def answer(
    body: bytes | str | dict | list,
    *,
    status: str = "200 OK",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> bytes:
    """A raw HTTP/1.1 answer; ``length`` overrides Content-Length (to fake truncation)."""
    if isinstance(body, dict | list):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}"]
    lines.append(f"Content-Length: {len(data) if length is None else length}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


# --------------------------------------------------------------------------- CONNECT proxy


class ConnectProxy(ThreadedServer):
    """HTTP CONNECT only: opens the tunnel, then copies bytes both ways. ``tunnels`` lists
    the ``host:port`` of each CONNECT, in order."""

    def __init__(self) -> None:
        super().__init__(HOST, 5.0)
        self.tunnels: list[str] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _serve(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        if method != "CONNECT":
            sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        self.tunnels.append(target)
        host, _, port = target.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            sock.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with upstream:
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(sock, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    peers = {a: b, b: a}
    while True:
        ready, _, _ = select.select([a, b], [], [], 5.0)
        if not ready:
            return
        for s in ready:
            data = s.recv(65536)
            if not data:
                return
            peers[s].sendall(data)


# --------------------------------------------------------------------------- fixtures
# Imported by the test modules that use them (under their own Python names, so ruff sees
# no shadowing); pytest registers them under ``name``.


@pytest.fixture(scope="session", name="http_pki")
def _http_pki(root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> ServerPKI:
    return make_server_pki(root_ca, tmp_path_factory.mktemp("http-pki"))


@pytest.fixture(scope="session", name="identities")
def _identities(root_ca: CA, other_root_ca: CA) -> tuple[Identity, Identity]:
    """(a, b): a is issued by root_ca (host A trusts it), b by other_root_ca (host B)."""
    return (
        root_ca.identity("http-client-a", "p256", alias="http-a"),
        other_root_ca.identity("http-client-b", "p256", alias="http-b"),
    )


@pytest.fixture(scope="session", name="multi_p12")
def _multi_p12(identities: tuple[Identity, Identity]) -> bytes:
    """One PKCS#12 holding both identities."""
    return build_pkcs12(list(identities), P12_PASSWORD)


@pytest.fixture(scope="session", name="nginx2")
def _nginx2(
    http_pki: ServerPKI, root_ca: CA, other_root_ca: CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TwoHostNginx]:
    require_tool("nginx")
    server = TwoHostNginx(tmp_path_factory.mktemp("nginx2"), http_pki, root_ca, other_root_ca)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="loaded")
def _loaded(multi_p12: bytes) -> Iterator[None]:
    """The multi-identity PKCS#12 in the process-wide store for one test."""
    tlsengine.load_client_certificate(multi_p12, P12_PASSWORD)
    try:
        yield
    finally:
        tlsengine.clear_client_certificates()


@pytest.fixture(name="context")
def _context(http_pki: ServerPKI) -> tlsengine.SSLContext:
    """Trusts the test servers' CA; identities from the process-wide store."""
    ctx = tlsengine.SSLContext()
    ctx.load_verify_locations(cafile=str(http_pki.ca_file))
    return ctx


@pytest.fixture(name="session")
def _session(context: tlsengine.SSLContext) -> Iterator[Any]:
    """A `tlsengine.http.Session` on `context`, ignoring proxy variables of the machine."""
    from tlsengine import http

    with http.Session(context, trust_env=False) as session:
        yield session
