"""Command-line startup: `tlsengine --version`, and `tlsengine get` to the first body byte.

Each row is a whole process, timed from spawn: ``--version`` until exit, ``get`` until the
first byte of the body reaches our end of its stdout pipe (so Python's start-up, imports,
PKCS#12 loading, TCP, the mTLS handshake and one HTTP exchange are all in it). The server is
Python's ``ssl`` in this process, TLS 1.3, requiring a client certificate. Beside each row:
the same fetch by a stdlib ``ssl`` + ``http.client`` script and by curl when installed, and
a bare ``python -c pass`` as the floor no Python command goes under. Commands take turns
run by run, so background load hits them alike; figures are medians.

    python3 bench/bench_startup.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA, cert_pem, key_pem

GOAL_MS = 100.0
BODY = b"hello from the bench server\n"

STDLIB_GET = r"""
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
conn = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=ctx)
conn.request("GET", "/")
sys.stdout.buffer.write(conn.getresponse().read())
sys.stdout.flush()
"""


class Server:
    """Python ``ssl``, TLS 1.3, client certificate required; answers every GET with BODY."""

    def __init__(self, files: dict[str, Path]) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(files["server_cert"], files["server_key"])
        ctx.load_verify_locations(files["ca"])
        ctx.verify_mode = ssl.CERT_REQUIRED
        self.context = ctx
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=32)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(raw,), daemon=True).start()

    def _answer(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            with self.context.wrap_socket(raw, server_side=True) as tls:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(BODY)}\r\nConnection: close"
                tls.sendall(head.encode() + b"\r\n\r\n" + BODY)
        except (OSError, ssl.SSLError):
            pass


def make_files(directory: Path) -> dict[str, Path]:
    ca = CA.root("bench startup root")
    server_cert, server_key = ca.issue("localhost", client=False, server=True, dns=["localhost"])
    client = ca.identity("bench client", alias="bench")
    files = {
        "ca": directory / "ca.pem",
        "server_cert": directory / "server.pem",
        "server_key": directory / "server.key",
        "client_cert": directory / "client.pem",
        "client_key": directory / "client.key",
        "p12": directory / "client.p12",
    }
    files["ca"].write_bytes(ca.pem)
    files["server_cert"].write_bytes(cert_pem(server_cert, ca.certificate))
    files["server_key"].write_bytes(key_pem(server_key))
    files["client_cert"].write_bytes(cert_pem(*client.chain))
    files["client_key"].write_bytes(key_pem(client.private_key))
    files["p12"].write_bytes(build_pkcs12([client], None))
    return files


def first_byte(argv: list[str], *, env: dict[str, str] | None = None) -> float:
    """Seconds from spawn to the first stdout byte (or exit, for commands that print at end)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    got = proc.stdout.read(1)
    elapsed = time.perf_counter() - start
    rest, err = proc.communicate()
    if proc.returncode != 0 or not got:
        raise RuntimeError(f"{argv[:3]} failed ({proc.returncode}): {err.decode()[-400:]}")
    return elapsed


def rows(files: dict[str, Path], port: int) -> dict[str, list[str]]:
    py = sys.executable
    url = f"https://localhost:{port}/"
    ca = str(files["ca"])
    pem = ["--cert", str(files["client_cert"]), "--key", str(files["client_key"])]
    out: dict[str, list[str]] = {
        "python -c pass (floor)": [py, "-c", "import sys; sys.stdout.write('x')"],
        "tlsengine --version": [py, "-m", "tlsengine", "--version"],
        "tlsengine get (mTLS, to first byte)": [py, "-m", "tlsengine", "get", url]
        + ["--cafile", ca, "--pkcs12", str(files["p12"])],
        "stdlib ssl + http.client script": [py, "-c", STDLIB_GET, str(port), ca]
        + [str(files["client_cert"]), str(files["client_key"])],
    }
    curl = shutil.which("curl")
    if curl:
        out["curl"] = [curl, "-s", "--cacert", ca, *pem, url]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    runs = 7 if args.quick else 25
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run writes .pyc files, as installs do
    with tempfile.TemporaryDirectory(prefix="tlsengine-startup-") as tmp:
        files = make_files(Path(tmp))
        server = Server(files)
        commands = rows(files, server.port)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm the page cache and .pyc files
            first_byte(command, env=env)
        for _ in range(runs):
            for name, command in commands.items():
                times[name].append(first_byte(command, env=env))
        server.listener.close()
    floor = statistics.median(times["python -c pass (floor)"])
    print(f"process start-up, median of {runs} runs (ms; beyond the Python floor):")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:38s} {median * 1e3:7.1f} ms   +{(median - floor) * 1e3:6.1f} ms")
    version = statistics.median(times["tlsengine --version"]) * 1e3
    verdict = "meets" if version < GOAL_MS else "MISSES"
    print(f"  goal: tlsengine --version under {GOAL_MS:.0f} ms: {verdict} ({version:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
