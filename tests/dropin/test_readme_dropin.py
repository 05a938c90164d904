"""The README's drop-in examples run as written, each on its own, against nginx.

The blocks follow the README convention (each block stands alone in a fresh namespace and
working directory holding ``client.p12`` and ``server-ca.pem``; ``api.example.com`` on any
port reaches the test's server). Here the server is nginx trusting only CA B and naming
it, while ``client.p12`` holds an identity under CA A first and one under CA B second, so
every example must select B to get through: the output shows it did.
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from peers import Peers, ServerPKI

from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA, cert_pem, key_pem

pytestmark = pytest.mark.interop

README = Path(__file__).resolve().parents[2] / "README.md"
DOMAIN = "example.com"


def dropin_blocks() -> list[str]:
    text = README.read_text()
    start = text.index("## Drop-in for HTTP client libraries")
    end = text.index("\n## ", start + 1)
    return re.findall(r"^```python\n(.*?)^```", text[start:end], re.S | re.M)


def example_pki(ca: CA, directory: Path) -> ServerPKI:
    """A server certificate for example.com and its subdomains."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [DOMAIN, f"*.{DOMAIN}"]
    cert, key = ca.issue(DOMAIN, "p256", client=False, server=True, dns=names)
    cert_file, key_file, ca_file = (directory / n for n in ("srv.pem", "srv.key", "ca.pem"))
    cert_file.write_bytes(cert_pem(cert, ca.certificate))
    key_file.write_bytes(key_pem(key))
    ca_file.write_bytes(ca.pem)
    return ServerPKI(ca, cert, key, cert_file, key_file, ca_file)


def route_example_hosts(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, service: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and (name == DOMAIN or name.endswith("." + DOMAIN)):
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, service, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def nginx_for_example(root_ca: CA, other_root_ca: CA, tmp_path: Path) -> Any:
    (tmp_path / "peers").mkdir()
    peers = Peers(tmp_path / "peers", example_pki(root_ca, tmp_path / "pki"))
    try:
        yield peers, peers.nginx(client_cas=peers.cas(other_root_ca))
    finally:
        peers.stop_all()


@pytest.mark.parametrize("index", range(len(dropin_blocks())))
def test_readme_dropin_block_runs(
    index: int,
    nginx_for_example: Any,
    identity_a: Identity,
    identity_b: Identity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    peers, nginx = nginx_for_example
    work = tmp_path / "work"
    work.mkdir()
    (work / "client.p12").write_bytes(build_pkcs12([identity_a, identity_b], "secret"))
    (work / "server-ca.pem").write_bytes(peers.pki.ca_file.read_bytes())
    monkeypatch.chdir(work)
    route_example_hosts(monkeypatch, nginx.port)
    block = dropin_blocks()[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, f"README.md drop-in block {index}", "exec"), {"__name__": "readme"})
    printed = out.getvalue()
    answers = printed.count("subject=")
    assert printed.count(f"subject={identity_b.subject}") == answers, printed
    assert answers > 0 or "example.com" not in block  # every request got an answer


def test_the_section_has_an_example_per_library() -> None:
    code = "\n".join(dropin_blocks())
    for name in ("requests", "httpx", "urllib3", "http.client", "urllib.request", "aiohttp"):
        assert f"import {name}" in code, name
    assert "asyncio.open_connection" in code and "inject_into_ssl" in code
