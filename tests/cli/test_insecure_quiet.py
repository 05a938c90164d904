"""`tlsengine get --insecure` prints the body and nothing else.

Met as a new user: every `get --insecure` also printed urllib3's two-line
InsecureRequestWarning (with a path into site-packages) on stderr, for a choice the user had
just made explicitly; curl -k prints nothing.
"""

from __future__ import annotations

from conftest import require_tool
from peers import Peers

from .helpers import tlsengine


def test_insecure_get_writes_no_warning(peers: Peers) -> None:
    require_tool("openssl")
    srv = peers.openssl(verify="none")  # its CA is not given: only --insecure gets through
    done = tlsengine("get", f"https://localhost:{srv.port}/", "--insecure")
    assert done.returncode == 0, done.stderr
    assert "s_server" in done.stdout  # the -www status page
    assert done.stderr == ""
