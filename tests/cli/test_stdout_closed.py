"""`tlsengine get URL | head`: the reader leaving early is no error to report.

Met while trying the CLI as a new user: piping `get` into `head` printed
``tlsengine: BrokenPipeError: [Errno 32] Broken pipe``, as if the fetch had failed.
"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import require_tool
from peers import Peers

from tlsengine.cli import STDOUT_CLOSED_STATUS


def test_get_into_a_closed_pipe_ends_quietly_with_141(peers: Peers) -> None:
    require_tool("openssl")
    srv = peers.openssl(verify="none")  # -www: a status page of a few KiB
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has already gone, as `head` has after its lines
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tlsengine", "get", f"https://localhost:{srv.port}/",
             "--cafile", str(peers.pki.ca_file), "-i"],
            stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=60,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == STDOUT_CLOSED_STATUS == 141
