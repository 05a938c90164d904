"""Resumed TLS 1.3 handshake (PSK from a ticket, psk_dhe_ke): tlsengine vs the ``ssl`` client.

One Python ``ssl`` (OpenSSL) server in its own process, client certificate required, two
tickets per connection. Each connection is timed from TCP connect until the server's
one-byte answer to a one-line request (so the handshake is complete on both ends), and
every timed "resumed" connection resumes the previous connection's ticket (the ``ssl``
client passes ``session=``; tlsengine's context cache does it by itself). Full
handshakes, timed the same way, give each client's own resumption speed-up. Clients and
modes take turns round by round so background load hits them alike; figures are medians.

    python3 bench/bench_resumption.py [--quick]
"""

from __future__ import annotations

import argparse
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SERVER = r"""
import socket, ssl, sys
cert, key, ca = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.num_tickets = 2
listener = socket.create_server(("127.0.0.1", 0), backlog=64)
print(listener.getsockname()[1], flush=True)
while True:
    raw, _ = listener.accept()
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        with ctx.wrap_socket(raw, server_side=True) as tls:
            tls.recv(64)
            tls.sendall(b"R" if tls.session_reused else b"F")
    except (ssl.SSLError, OSError) as exc:
        print("server:", exc, file=sys.stderr, flush=True)
"""


def _tcp(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _exchange(tls: Any) -> bytes:
    """One request, the server's verdict: b"R" (it resumed) or b"F" (full handshake)."""
    tls.sendall(b"P\n")
    return bytes(tls.recv(1))


class SslRunner:
    """The stdlib client; ``resume`` passes the previous connection's session."""

    def __init__(self, files: dict[str, Path], port: int) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(files["ca"])
        ctx.load_cert_chain(files["client"], files["client_key"])
        self.ctx, self.port, self.session = ctx, port, None

    def run(self, resume: bool) -> float:
        start = time.perf_counter()
        with self.ctx.wrap_socket(
            _tcp(self.port), server_hostname="localhost", session=self.session if resume else None
        ) as tls:
            verdict = _exchange(tls)
            took = time.perf_counter() - start
            assert tls.session_reused == resume and verdict == (b"R" if resume else b"F")
            self.session = tls.session  # the tickets came before the answer
        return took


class EngineRunner:
    """tlsengine; the context's session cache offers the newest ticket by itself."""

    def __init__(self, files: dict[str, Path], port: int, identity: Any) -> None:
        from tlsengine.socket.context import ClientContext

        self.resuming = ClientContext(identities=[identity], cafile=files["ca"])
        self.full = ClientContext(identities=[identity], cafile=files["ca"], resumption=False)
        self.port = port

    def prime(self) -> None:
        """A first connection on the resuming context, which fills its cache."""
        with self.resuming.wrap_socket(_tcp(self.port), server_hostname="localhost") as tls:
            _exchange(tls)

    def run(self, resume: bool) -> float:
        ctx = self.resuming if resume else self.full
        start = time.perf_counter()
        with ctx.wrap_socket(_tcp(self.port), server_hostname="localhost") as tls:
            verdict = _exchange(tls)
            took = time.perf_counter() - start
            assert tls.session_reused == resume and verdict == (b"R" if resume else b"F")
        return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    args = parser.parse_args(argv if argv is not None else [])
    rounds = 30 if args.quick else 300
    from tlsengine.cli.pki import CA, cert_pem, key_pem

    with tempfile.TemporaryDirectory() as tmp:
        ca = CA.root("bench root")
        server, server_key = ca.issue("localhost", client=False, server=True, dns=["localhost"])
        identity = ca.identity("bench client p256", "p256")
        files = {
            "ca": cert_pem(ca.certificate),
            "server": cert_pem(server),
            "server_key": key_pem(server_key),
            "client": cert_pem(identity.certificate),
            "client_key": key_pem(identity.private_key),
        }
        paths = {name: Path(tmp) / f"{name}.pem" for name in files}
        for name, data in files.items():
            paths[name].write_bytes(data)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                *(str(paths[n]) for n in ("server", "server_key", "ca")),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            port = int(proc.stdout.readline())
            runners = {
                "ssl": SslRunner(paths, port),
                "tlsengine": EngineRunner(paths, port, identity),
            }
            jobs: dict[str, Callable[[], float]] = {
                f"{name} {mode}": (lambda r=runner, m=mode: r.run(m == "resumed"))
                for name, runner in runners.items()
                for mode in ("full", "resumed")
            }
            runners["ssl"].run(False)  # leaves a session for the first resume
            runners["tlsengine"].prime()  # the same, in the context's cache
            for fn in jobs.values():  # warm-up
                fn()
            samples: dict[str, list[float]] = {name: [] for name in jobs}
            for _ in range(rounds):
                for name, fn in jobs.items():
                    samples[name].append(fn())
            med = {name: statistics.median(v) * 1000 for name, v in samples.items()}
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"server: Python ssl / {ssl.OPENSSL_VERSION}, TLS 1.3, CERT_REQUIRED, 2 tickets")
    print(f"P-256 client identity, {rounds} connections each (median ms):")
    for name in ("ssl full", "ssl resumed", "tlsengine full", "tlsengine resumed"):
        print(f"  {name:<18} {med[name]:7.2f} ms")
    print(
        f"  resumed ratio tlsengine/ssl: {med['tlsengine resumed'] / med['ssl resumed']:.2f}x "
        f"(full: {med['tlsengine full'] / med['ssl full']:.2f}x); resumption saves "
        f"{1 - med['tlsengine resumed'] / med['tlsengine full']:.0%} (ssl: "
        f"{1 - med['ssl resumed'] / med['ssl full']:.0%})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
