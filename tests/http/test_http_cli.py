"""`tlsengine get` on the HTTP layer: -X, -d @file, -H, -o, -L, -i, --fail, -v, proxies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpservers import (  # noqa: F401 (fixtures)
    ConnectProxy,
    Exchange,
    ScriptedHTTPS,
    TwoHostNginx,
    _http_pki,
    _identities,
    _multi_p12,
    _nginx2,
    answer,
    parse_text,
)
from peers import ServerPKI

pytestmark = pytest.mark.interop


@pytest.fixture
def p12(tmp_path: Path, multi_p12: bytes) -> Path:
    path = tmp_path / "ids.p12"
    path.write_bytes(multi_p12)
    return path


def get(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(
        [sys.executable, "-m", "tlsengine", "get", *args],
        capture_output=True,
        timeout=60,
        env={**clean, "P12_PW": "pw", **(env or {})},
    )


def ids(p12: Path, pki: ServerPKI) -> list[str]:
    return ["--pkcs12", str(p12), "--password-env", "P12_PW", "--cafile", str(pki.ca_file)]


def test_verbose_shows_the_chosen_identity_and_the_selection_table(
    nginx2: TwoHostNginx, p12: Path, http_pki: ServerPKI, identities
) -> None:
    done = get(nginx2.url("b"), *ids(p12, http_pki), "-v")
    assert done.returncode == 0, done.stderr
    assert parse_text(done.stdout.decode())["subject"] == identities[1].subject
    err = done.stderr.decode()
    assert "sent: http-b" in err and "http-a" in err and "ca-mismatch" in err
    assert "* HTTP 200" in err


def test_redirects_only_with_L_and_include_headers(
    nginx2: TwoHostNginx, p12: Path, http_pki: ServerPKI, identities
) -> None:
    plain = get(nginx2.url("a", "/to-b"), *ids(p12, http_pki))
    assert plain.returncode == 0 and b"302" in plain.stdout  # nginx's redirect page
    followed = get(nginx2.url("a", "/to-b"), *ids(p12, http_pki), "-L", "-i")
    assert followed.returncode == 0, followed.stderr
    head, _, body = followed.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-type: application/json" in (
        head.lower()
    )
    assert json.loads(body)["subject"] == identities[1].subject


def test_fail_exits_22_on_http_errors(nginx2: TwoHostNginx, p12: Path, http_pki: ServerPKI):
    without = get(nginx2.url("a", "/fail"), *ids(p12, http_pki))
    assert without.returncode == 0 and json.loads(without.stdout) == {"error": "boom"}
    with_fail = get(nginx2.url("a", "/fail"), *ids(p12, http_pki), "--fail")
    assert with_fail.returncode == 22 and b"HTTP 500" in with_fail.stderr


def test_output_file_is_streamed_and_decoded(
    nginx2: TwoHostNginx, p12: Path, http_pki: ServerPKI, tmp_path: Path
) -> None:
    data = b"".join(b"row %d\n" % i for i in range(50000))
    (nginx2.static / "cli.txt").write_bytes(data)
    out = tmp_path / "out.txt"
    done = get(nginx2.url("a", "/static/cli.txt"), *ids(p12, http_pki), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"" and out.read_bytes() == data
    assert b"[" not in done.stderr  # no progress bar: stderr is not a terminal


@pytest.fixture
def echo(http_pki: ServerPKI) -> Iterator[ScriptedHTTPS]:
    def script(ex: Exchange) -> bytes:
        return answer({"head": ex.head.decode("latin-1"), "body": ex.body.decode("latin-1")})

    server = ScriptedHTTPS(http_pki, script)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_method_data_from_a_file_and_headers(
    echo: ScriptedHTTPS, http_pki: ServerPKI, tmp_path: Path
) -> None:
    payload = tmp_path / "payload.json"
    payload.write_bytes(b'{"amount": 10}')
    done = get(
        echo.url("/pay"), "--cafile", str(http_pki.ca_file), "-X", "PUT",
        "-d", f"@{payload}", "-H", "Content-Type: application/json", "-H", "X-Trace: 7",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["head"].startswith("PUT /pay HTTP/1.1")
    assert "Content-Type: application/json" in seen["head"] and "X-Trace: 7" in seen["head"]
    assert seen["body"] == '{"amount": 10}'
    missing = get(echo.url(), "--cafile", str(http_pki.ca_file), "-d", "@/nonexistent/file")
    assert missing.returncode == 2 and missing.stderr.count(b"\n") == 1


def test_https_proxy_is_honoured(echo: ScriptedHTTPS, http_pki: ServerPKI) -> None:
    proxy = ConnectProxy()
    proxy.start()
    try:
        done = get(echo.url("/via"), "--cafile", str(http_pki.ca_file),
                   env={"HTTPS_PROXY": proxy.url})  # fmt: skip
    finally:
        proxy.stop()
    assert done.returncode == 0, done.stderr
    assert proxy.tunnels == [f"localhost:{echo.port}"]


def test_output_file_shows_a_progress_bar_on_a_terminal(
    nginx2: TwoHostNginx, p12: Path, http_pki: ServerPKI, tmp_path: Path
) -> None:
    import pty

    data = os.urandom(300_000)  # incompressible: Content-Length is known, so a percentage
    (nginx2.static / "bar.bin").write_bytes(data)
    out = tmp_path / "bar.bin"
    master, slave = pty.openpty()
    try:
        clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        done = subprocess.run(
            [sys.executable, "-m", "tlsengine", "get", nginx2.url("a", "/static/bar.bin"),
             *ids(p12, http_pki), "-o", str(out), "-H", "Accept-Encoding: identity"],
            stdout=subprocess.PIPE, stderr=slave, timeout=60, env={**clean, "P12_PW": "pw"},
        )  # fmt: skip
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert done.returncode == 0
    assert out.read_bytes() == data
    assert b"100% 300000 bytes" in shown and b"[####" in shown, shown
