"""The README's drop-in section runs as written, against real mTLS servers.

Its code blocks are executed in order in one namespace, in a directory holding the files
they name (``client.p12`` with two identities for two CAs, ``server-ca.pem``). ``URL``,
``HOST`` and ``PORT`` point at nginx trusting CA B; ``WSS_URL`` at a websockets server on
the stdlib ``ssl`` trusting CA A. Each server echoes the client subject, so the output
shows selection at work.
"""

from __future__ import annotations

import contextlib
import io
import re
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from peers import Peers, write_cas
from websockets.sync.server import serve

from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

from .servers import subject_of_der

pytestmark = pytest.mark.interop

README = Path(__file__).resolve().parents[2] / "README.md"


def dropin_blocks() -> list[str]:
    text = README.read_text()
    start = text.index("## Drop-in for HTTP client libraries")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], re.S)


@pytest.fixture
def wss_url(server_pki: Any, root_ca: CA, tmp_path: Path) -> Any:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(server_pki.cert_file, server_pki.key_file)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_verify_locations(cafile=str(write_cas(tmp_path / "ws-ca.pem", root_ca)))

    def echo(ws: Any) -> None:
        subject = subject_of_der(ws.socket.getpeercert(binary_form=True))
        for message in ws:
            ws.send(f"{message} from {subject}")

    with serve(echo, "127.0.0.1", 0, ssl=server_ctx) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"wss://localhost:{server.socket.getsockname()[1]}/"
        server.shutdown()
        thread.join(5)


def test_readme_dropin_blocks_run(
    peers: Peers,
    other_root_ca: CA,
    identity_a: Identity,
    identity_b: Identity,
    wss_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocks = dropin_blocks()
    assert len(blocks) >= 6
    nginx = peers.nginx(client_cas=peers.cas(other_root_ca))
    (tmp_path / "client.p12").write_bytes(build_pkcs12([identity_a, identity_b], "secret"))
    (tmp_path / "server-ca.pem").write_bytes(peers.pki.ca_file.read_bytes())
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {
        "URL": f"https://localhost:{nginx.port}/",
        "HOST": "localhost",
        "PORT": nginx.port,
        "WSS_URL": wss_url,
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)
    printed = out.getvalue()
    # nginx got identity B every time (its CA names), the websockets server identity A
    assert printed.count(f"subject={identity_b.subject}") >= 9, printed
    assert f"hello from {identity_a.subject}" in printed, printed
