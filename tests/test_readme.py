"""Every ```python block of README.md and docs/*.md runs, against real local servers.

The convention the blocks follow is written for contributors in docs/CONTRIBUTING.md
("Code blocks in the documentation"); in short:

- Each block runs on its own (fresh namespace, fresh working directory) twice: once
  against a server that asks for a client certificate and once against one that does not.
- The working directory holds ``client.p12`` (identities ``alice`` under Client CA A and
  ``bob`` under Client CA B), ``partner.p12`` (``partner`` under Client CA B), both with
  password ``secret``, and ``server-ca.pem``, the CA of the servers' certificate.
- ``example.com`` and every name under it, on any port, reach the run's loopback server
  (``socket.getaddrinfo`` is patched), whose certificate is valid for those names.
  ``SSL_CERT_FILE`` and ``REQUESTS_CA_BUNDLE`` name ``server-ca.pem`` too.
- The server speaks HTTP/1.1 (keep-alive) and answers every method and path with 200 and
  JSON: ``{"ok": true, "method", "path", "client": CN or null, "subject": RFC 4514 or
  null, "received": bytes}``; except ``/fail...`` (500, ``"ok": false``) and
  ``/static/NAME`` (the file NAME of the working directory, or 404).
- Afterwards the default identity store is cleared and ``tlsengine.extract_from_ssl()``
  is called when it exists, so blocks cannot leak into each other.

There is no skip marker: a snippet that cannot run belongs in a ```text fence.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import signal
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

import tlsengine
from tlsengine.identity import build_pkcs12
from tlsengine.testing import CA, cert_pem, key_pem

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PASSWORD = "secret"
BLOCK_TIMEOUT = 30  # seconds; a block that hangs fails instead of stalling the suite
EXAMPLE_DOMAIN = "example.com"

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    code: str

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def python_blocks() -> list[Block]:
    blocks = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start(1)) + 1  # first line of the code
            blocks.append(Block(document, line, match.group(1)))
    return blocks


# --------------------------------------------------------------------------- the servers


@dataclass
class Seen:
    """What one server answered: one entry per request, the client CN or None."""

    clients: list[str | None] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled clients are exercised too
    server: _TLSHTTPServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = len(self.rfile.read(length)) if length else 0
        der = self.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        cert = x509.load_der_x509_certificate(der) if der else None
        client = _common_name(cert) if cert else None
        self.server.seen.clients.append(client)
        path = self.path.split("?", 1)[0]
        if path.startswith("/static/"):
            self._static(path.removeprefix("/static/"))
            return
        status = 500 if path.startswith("/fail") else 200
        answer = {
            "ok": status == 200,
            "method": self.command,
            "path": self.path,
            "client": client,
            "subject": cert.subject.rfc4514_string() if cert else None,
            "received": received,
        }
        self._send(status, "application/json", json.dumps(answer).encode())

    def _static(self, name: str) -> None:
        """/static/NAME: the file NAME of the block's working directory, else 404."""
        path = self.server.files / name
        if "/" in name or not path.is_file():
            self._send(404, "text/plain", b"no such file\n")
        else:
            self._send(200, "application/octet-stream", path.read_bytes())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass


def _common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


class _TLSHTTPServer(ThreadingHTTPServer):
    """The stdlib HTTP server over stdlib TLS (OpenSSL): a real peer, not ours."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, files: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.files = files  # served under /static/
        self.seen = Seen()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        # The handshake runs in the handler's thread, on its first read.
        return self.context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up or is refused is not the server's failure


@dataclass(frozen=True)
class Fixtures:
    directory: Path  # the files every block finds in its working directory
    server_cert: Path
    server_key: Path
    client_cas: Path


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Fixtures:
    directory = tmp_path_factory.mktemp("readme-files")
    server_ca = CA.root("tlsengine README Server CA")
    ca_a = CA.root("tlsengine README Client CA A")
    ca_b = CA.root("tlsengine README Client CA B")
    alice = ca_a.identity("alice", "p256", alias="alice")
    bob = ca_b.identity("bob", "p256", alias="bob")
    partner = ca_b.identity("partner", "p256", alias="partner")
    (directory / "client.p12").write_bytes(build_pkcs12([alice, bob], PASSWORD))
    (directory / "partner.p12").write_bytes(build_pkcs12([partner], PASSWORD))
    (directory / "server-ca.pem").write_bytes(cert_pem(server_ca.certificate))
    names = [EXAMPLE_DOMAIN, f"*.{EXAMPLE_DOMAIN}", "localhost"]
    cert, key = server_ca.issue(EXAMPLE_DOMAIN, "p256", client=False, server=True, dns=names)
    private = tmp_path_factory.mktemp("readme-server")
    out = Fixtures(directory, private / "server.pem", private / "server.key", private / "ca.pem")
    out.server_cert.write_bytes(cert_pem(cert, server_ca.certificate))
    out.server_key.write_bytes(key_pem(key))
    out.client_cas.write_bytes(cert_pem(ca_a.certificate, ca_b.certificate))
    return out


@contextlib.contextmanager
def serving(fixtures: Fixtures, asks: bool, files: Path) -> Iterator[_TLSHTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(fixtures.server_cert, fixtures.server_key)
    if asks:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(fixtures.client_cas)
    server = _TLSHTTPServer(context, files)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def route_example_hosts(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    """example.com and its subdomains, on any port, reach 127.0.0.1:``port``."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, service: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str):
            name = name.rstrip(".").lower()
            if name == EXAMPLE_DOMAIN or name.endswith("." + EXAMPLE_DOMAIN):
                return real("127.0.0.1", port, *args, **kwargs)
        return real(host, service, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _timeout(signum: int, frame: Any) -> None:
    raise TimeoutError(f"the block did not finish within {BLOCK_TIMEOUT} s")


def run_block(block: Block) -> str:
    """Execute one block in a fresh namespace; its stdout, for the failure message."""
    out = io.StringIO()
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(BLOCK_TIMEOUT)
    try:
        code = compile("\n" * (block.line - 1) + block.code, str(block.document), "exec")
        with contextlib.redirect_stdout(out):
            exec(code, {"__name__": "__readme__"})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return out.getvalue()


def reset_process_state() -> None:
    tlsengine.clear_client_certificates()
    try:
        extract = tlsengine.extract_from_ssl  # once the ssl integration exists
    except AttributeError:
        return
    extract()


BLOCKS = python_blocks()


def test_the_documents_have_python_blocks() -> None:
    """The runner finds the README's examples (a broken fence pattern would pass vacuously)."""
    assert any(b.document.name == "README.md" for b in BLOCKS)


@pytest.mark.parametrize("asks", [True, False], ids=["asked", "not-asked"])
@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_block_runs(
    block: Block,
    asks: bool,
    fixtures: Fixtures,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for item in fixtures.directory.iterdir():
        shutil.copy(item, tmp_path / item.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "server-ca.pem"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "server-ca.pem"))
    with serving(fixtures, asks, tmp_path) as server:
        route_example_hosts(monkeypatch, server.server_address[1])
        try:
            output = run_block(block)
        except BaseException as exc:
            raise AssertionError(
                f"{block.name} failed against a server that {'asks' if asks else 'does not ask'}"
                f" for a client certificate: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            reset_process_state()
    if asks:  # the asking server refuses a handshake without one: none got through bare
        assert None not in server.seen.clients, (server.seen.clients, output)
    else:
        assert set(server.seen.clients) <= {None}, server.seen.clients


# --------------------------------------------------------------------------- links

_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
_OUTSIDE = re.compile(r"DESIGN\.md|STYLE\.md|/work/|\bshared/")


def test_document_links_resolve_inside_the_repository() -> None:
    """Issue 7, item 7: the README and docs/ point only at files the repository holds."""
    broken = []
    for document in DOCUMENTS + sorted((ROOT / "spec-notes").glob("*.md")):
        for target in _LINK.findall(document.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            path = (document.parent / target).resolve()
            if not path.exists() or ROOT not in path.parents:
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken
    assert (ROOT / "docs" / "architecture.md").name in (ROOT / "README.md").read_text()


def test_nothing_refers_to_design_documents_outside_the_repository() -> None:
    found = []
    trees = ["README.md", "docs", "spec-notes", "tlsengine", "tests", "bench", ".ci", "Makefile"]
    for name in trees:
        base = ROOT / name
        files = [base] if base.is_file() else sorted(base.rglob("*"))
        for path in files:
            if path != base and any(
                part.startswith(".") or part == "__pycache__"
                for part in path.relative_to(base).parts
            ):
                continue  # build output and caches (tests/peers/.build, ...), not sources
            if (
                path.suffix not in {".md", ".py", ""}
                or not path.is_file()
                or path == Path(__file__)
            ):
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if _OUTSIDE.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found
