"""An untrusted server's CA: the advice names the way to trust it on an SSLContext too.

Met as a new user: ``http.request(..., context=tlsengine.SSLContext())`` against a private
server said "pass cafile=/cadata= with the server's CA", arguments neither `SSLContext()`,
`http.request` nor `invoke_service` take; on an SSLContext the way is
``load_verify_locations``. The command line keeps its own wording (`--cafile FILE`).
"""

from __future__ import annotations

import ssl
import subprocess
import sys

import pytest
from peers import Peers, peers, server_pki  # noqa: F401 - fixtures registered by import

import tlsengine
from tlsengine import http
from tlsengine.errors import CertificateVerificationError
from tlsengine.testing import CA


def test_http_request_names_load_verify_locations(
    peers: Peers,  # noqa: F811
    other_root_ca: CA,
) -> None:
    srv = peers.python_ssl(verify_mode=ssl.CERT_NONE)
    ctx = tlsengine.SSLContext()
    ctx.load_verify_locations(cadata=other_root_ca.pem.decode())  # not the server's CA
    with pytest.raises(CertificateVerificationError) as caught:
        http.request("GET", f"https://localhost:{srv.address[1]}/", context=ctx, timeout=10)
    assert caught.value.rule == "unknown-issuer"
    assert "on an SSLContext, load_verify_locations" in str(caught.value)


def test_the_command_line_still_says_only_cafile(peers: Peers) -> None:  # noqa: F811
    srv = peers.python_ssl(verify_mode=ssl.CERT_NONE)
    done = subprocess.run(
        [sys.executable, "-m", "tlsengine", "get", f"https://localhost:{srv.address[1]}/"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "(pass --cafile FILE with the server's CA)" in done.stderr
    assert "SSLContext" not in done.stderr
