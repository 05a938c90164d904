"""An ``openssl s_server`` whose stdin we hold (KeyUpdate via ``k``/``K``) and whose chain
file we write ourselves (large, reordered or padded chains)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from conftest import require_tool

HOST = "127.0.0.1"


class SServer:
    def __init__(self, proc: subprocess.Popen[bytes], out: Path, err: Path, port: int) -> None:
        self.proc = proc
        self.out_path = out
        self.err_path = err
        self.address = (HOST, port)

    @property
    def output(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def type(self, text: str) -> None:
        """Feed s_server's stdin (``k``/``K`` lines send a KeyUpdate; other text is sent)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_for(self, pattern: str, timeout: float = 5.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.output)
            if m:
                return m
            time.sleep(0.02)
        raise AssertionError(f"s_server never printed {pattern!r}:\n{self.output[-3000:]}")


@contextmanager
def s_server(workdir: Path, args: Sequence[str]) -> Iterator[SServer]:
    exe = require_tool("openssl")
    workdir.mkdir(parents=True, exist_ok=True)
    out, err = workdir / "out.txt", workdir / "err.txt"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(
            [exe, "s_server", "-accept", f"{HOST}:0", "-no_ticket", *args],
            stdin=subprocess.PIPE,
            stdout=o,
            stderr=e,
            cwd=workdir,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 5
        port = None
        while time.monotonic() < deadline and proc.poll() is None:
            m = re.search(rf"^ACCEPT {re.escape(HOST)}:(\d+)$", out.read_text(), re.M)
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.02)
        if port is None:
            raise AssertionError(f"s_server did not start: {err.read_text()[-2000:]}")
        yield SServer(proc, out, err, port)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=3)
        if proc.stdin:
            proc.stdin.close()
