"""A PKCS#12 that needs a password, none given: a terminal user is asked, without echo, as
``openssl pkcs12`` and curl do (issue 7, item 14). Driven through a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

from .helpers import tlsengine

SECRET = "pty-S3cret"


@pytest.fixture(scope="module")
def locked_p12(root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompt") / "locked.p12"
    path.write_bytes(build_pkcs12([root_ca.identity("prompted", alias="prompted")], SECRET))
    return path


def _read_until(fd: int, done: Callable[[bytes], bool], deadline: float) -> bytes:
    """Terminal output until ``done(output)``, the child closes it, or the deadline."""
    seen = b""
    while not done(seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _prompted(out: bytes) -> bool:
    return b"Password for " in out and out.rstrip(b" ").endswith(b":")


def run_on_a_terminal(argv: list[str], typed: str) -> tuple[int, bytes]:
    """Run the CLI with a pty as its controlling terminal, type at the prompt; all output."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin/stdout/stderr are the terminal
        os.execv(sys.executable, [sys.executable, "-m", "tlsengine", *argv])
    deadline = time.monotonic() + 60
    try:
        out = _read_until(fd, _prompted, deadline)
        if _prompted(out):
            os.write(fd, typed.encode() + b"\r")
        out += _read_until(fd, lambda _: False, deadline)  # the rest, until the child exits
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def test_inspect_prompts_on_a_terminal_and_never_echoes(locked_p12: Path) -> None:
    code, out = run_on_a_terminal(["inspect", str(locked_p12)], SECRET)
    assert f"Password for {locked_p12}: ".encode() in out
    assert code == 0, out
    assert b"[1] prompted" in out
    assert SECRET.encode() not in out  # the terminal did not echo it, nor did we


def test_a_wrong_typed_password_is_one_error(locked_p12: Path) -> None:
    code, out = run_on_a_terminal(["inspect", str(locked_p12)], "wrong-" + SECRET)
    assert code == 2
    assert b"wrong password" in out and SECRET.encode() not in out


def test_get_prompts_before_connecting(locked_p12: Path) -> None:
    """The password is asked for before any connection (port 9 refuses afterwards)."""
    code, out = run_on_a_terminal(
        ["get", "https://127.0.0.1:9/", "--pkcs12", str(locked_p12)], SECRET
    )
    assert b"Password for " in out and b"cannot connect to 127.0.0.1:9" in out
    assert code == 1 and SECRET.encode() not in out


def test_no_terminal_no_prompt_and_a_hint(locked_p12: Path) -> None:
    done = tlsengine("inspect", str(locked_p12))
    assert done.returncode == 2
    assert "no password was given" in done.stderr and "--password-env VAR" in done.stderr
    assert "Password for" not in done.stdout + done.stderr
