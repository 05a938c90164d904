"""The README's app-facing examples run as written, each on its own, against nginx.

Convention of the README blocks: a fresh namespace and a working directory holding
``client.p12`` (identity a under CA A, identity b under CA B) and ``server-ca.pem``.
``api.example.com`` reaches nginx's host A (trusts CA A), ``partner.example.com`` host B.
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from httpservers import TwoHostNginx, _identities, _multi_p12  # noqa: F401 (fixtures)
from peers import ServerPKI

import tlsengine
from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA, cert_pem, key_pem

pytestmark = pytest.mark.interop

README = Path(__file__).resolve().parents[2] / "README.md"


def blocks() -> list[str]:
    text = README.read_text()
    start = text.index("## App-facing HTTP")
    end = text.index("\n## ", start + 1)
    return re.findall(r"^```python\n(.*?)^```", text[start:end], re.S | re.M)


def example_pki(ca: CA, directory: Path) -> ServerPKI:
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = ca.issue("example.com", "p256", client=False, server=True,
                         dns=["example.com", "*.example.com"])  # fmt: skip
    files = [directory / n for n in ("srv.pem", "srv.key", "ca.pem")]
    files[0].write_bytes(cert_pem(cert, ca.certificate))
    files[1].write_bytes(key_pem(key))
    files[2].write_bytes(ca.pem)
    return ServerPKI(ca, cert, key, *files)


@pytest.fixture(scope="module")
def example_nginx(
    root_ca: CA, other_root_ca: CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TwoHostNginx]:
    require_tool("nginx")
    base = tmp_path_factory.mktemp("readme-http")
    server = TwoHostNginx(
        base / "nginx", example_pki(root_ca, base / "pki"), root_ca, other_root_ca
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def route(monkeypatch: pytest.MonkeyPatch, nginx: TwoHostNginx) -> None:
    real = socket.getaddrinfo
    ports = {"api.example.com": nginx.port, "partner.example.com": nginx.port_b}

    def getaddrinfo(host: Any, service: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in ports:
            return real("127.0.0.1", ports[name], *args, **kwargs)
        return real(host, service, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def expected(index: int, a: Identity, b: Identity) -> list[str]:
    return [
        [f"200 {a.subject}\n", f"200 http-a subject={a.subject}\n",
         f"200 http-b subject={b.subject}\n"],
        [f"200 {b.subject}\n"],
        [f"0 200 {a.subject}\n", "1012 1012 https://api.example.com/fail answered HTTP 500",
         f"{b.subject}\n"],
        ["['http-a', 'http-b']\n"],
    ][index]  # fmt: skip


def test_there_is_an_example_per_api() -> None:
    code = "\n".join(blocks())
    for name in ("http.request", "http.Session", "http.HttpRequest", "invoke_service(",
                 "invoke_service_async", "load_client_certificate_from_url"):  # fmt: skip
        assert name in code, name
    assert len(blocks()) == 4


@pytest.mark.parametrize("index", range(4))
def test_readme_app_block_runs(
    index: int,
    example_nginx: TwoHostNginx,
    identities: tuple[Identity, Identity],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p12 = build_pkcs12(list(identities), "secret")
    (tmp_path / "client.p12").write_bytes(p12)
    (example_nginx.static / "client.p12").write_bytes(p12)
    (tmp_path / "server-ca.pem").write_bytes(example_nginx.pki.ca_file.read_bytes())
    monkeypatch.chdir(tmp_path)
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    route(monkeypatch, example_nginx)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(blocks()[index], f"README.md app block {index}", "exec"), {})
    finally:
        tlsengine.clear_client_certificates()
    for text in expected(index, *identities):
        assert text in out.getvalue(), out.getvalue()
