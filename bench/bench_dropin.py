"""Drop-in paths: tlsengine under asyncio, requests and httpx, against the same clients on ssl.

The server is Python's ``ssl`` (OpenSSL) under asyncio in a *separate process*: HTTP/1.1
keep-alive, a client certificate required, each response echoing the client subject. So
only the client side differs between rows. Three measurements:

- async: N connections held at once by one event loop, each doing one request, through
  ``tlsengine.socket.aio.open_connection``, through ``asyncio.open_connection(ssl=
  tlsengine.SSLContext)`` and through stdlib asyncio + ``ssl``. Connections per second and
  the client's resident memory per idle connection (RSS growth / N; each path runs in a
  fresh process so one path's heap never flatters another's).
- keep-alive requests/s: ``requests`` + ``TLSEngineAdapter`` vs ``requests`` on ``ssl``,
  and ``httpx`` + ``HTTPTransport`` vs ``httpx`` on ``ssl``, rounds interleaved.
- handshake: ``ClientContext.connect()`` and ``SSLContext.wrap_socket`` vs ``ssl``.

    python3 bench/bench_dropin.py [--quick] [--connections N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
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

KiB = 1024

# --------------------------------------------------------------------------- server process

SERVER = r"""
import asyncio, resource, ssl, sys
from cryptography import x509
cert, key, ca = sys.argv[1:4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.num_tickets = 0

async def serve(reader, writer):
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    body = ("subject=" + subject + "\n").encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body)
    try:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in request.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            writer.write(head + body)
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ctx, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


class Server:
    def __init__(self, files: dict[str, Path]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(files["server"]), str(files["server_key"])]
            + [str(files["ca"])],
            stdout=subprocess.PIPE,
            stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def make_pki(tmp: Path) -> dict[str, Path]:
    from tlsengine.cli.pki import CA, cert_pem, key_pem
    from tlsengine.identity.pkcs12 import build_pkcs12

    ca = CA.root("bench root")
    server, server_key = ca.issue(
        "localhost", client=False, server=True, dns=["localhost"], ips=["127.0.0.1"]
    )
    identity = ca.identity("bench client", "p256")
    files = {
        name: tmp / f"{name}.pem"
        for name in ("ca", "server", "server_key", "client", "client_key", "client_p12")
    }
    files["ca"].write_bytes(cert_pem(ca.certificate))
    files["server"].write_bytes(cert_pem(server))
    files["server_key"].write_bytes(key_pem(server_key))
    files["client"].write_bytes(cert_pem(identity.certificate))
    files["client_key"].write_bytes(key_pem(identity.private_key))
    files["client_p12"].write_bytes(build_pkcs12([identity], None))
    return files


def stdlib_context(files: dict[str, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(files["ca"]))
    ctx.load_cert_chain(files["client"], files["client_key"])
    return ctx


def engine_context(files: dict[str, Path]) -> Any:
    import tlsengine

    ctx = tlsengine.SSLContext(identities=tlsengine.load_pkcs12(files["client_p12"].read_bytes()))
    ctx.load_verify_locations(cafile=files["ca"])
    return ctx


# --------------------------------------------------------------------------- async (child)

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _one(open_conn: Callable[[], Any], held: list[Any]) -> None:
    reader, writer = await open_conn()
    writer.write(REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    body = await reader.readexactly(length)
    if not body.startswith(b"subject=CN=bench client"):
        raise RuntimeError(f"unexpected answer {body!r}")
    held.append(writer)


async def _async_run(path: str, files: dict[str, Path], port: int, n: int) -> dict[str, float]:
    if path == "aio":
        from tlsengine import ClientContext, load_pkcs12
        from tlsengine.socket.aio import open_connection

        cctx = ClientContext(
            identities=load_pkcs12(files["client_p12"].read_bytes()), cafile=files["ca"]
        )

        def opener() -> Any:
            return open_connection("127.0.0.1", port, context=cctx, server_hostname="localhost")

    else:
        sctx = engine_context(files) if path == "asyncio+SSLContext" else stdlib_context(files)

        def opener() -> Any:
            return asyncio.open_connection("127.0.0.1", port, ssl=sctx, server_hostname="localhost")

    warm: list[Any] = []
    await _one(opener, warm)  # imports, root parsing, first-use caches
    for w in warm:
        w.close()
    await asyncio.sleep(0.2)
    before = rss()
    held: list[Any] = []
    start = time.perf_counter()
    await asyncio.gather(*(_one(opener, held) for _ in range(n)))
    elapsed = time.perf_counter() - start
    await asyncio.sleep(0.2)
    grown = rss() - before
    for writer in held:
        writer.close()
    await asyncio.sleep(0.2)
    return {"per_second": n / elapsed, "kib_per_conn": grown / n / KiB, "held": len(held)}


def async_child(path: str, files: dict[str, Path], port: int, n: int) -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(json.dumps(asyncio.run(_async_run(path, files, port, n))), flush=True)


def async_rows(files: dict[str, Path], port: int, n: int) -> None:
    print(f"async: {n} concurrent mTLS connections held by one event loop, one request each")
    for path in ("aio", "asyncio+SSLContext", "asyncio+ssl"):
        argv = [sys.executable, __file__, "--child", path, "--port", str(port), "-n", str(n)]
        argv += ["--files", json.dumps({k: str(v) for k, v in files.items()})]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if done.returncode:
            print(f"  {path:<20} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"  {path:<20} {row['per_second']:7.0f} connections/s   "
            f"{row['kib_per_conn']:6.1f} KiB per idle connection (client RSS)"
        )


# --------------------------------------------------------------------------- keep-alive


def interleaved(fns: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Median per row, rows taking turns so background load hits them alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up: connections, imports
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(fn())
    return {name: statistics.median(values) for name, values in samples.items()}


def keepalive_rows(files: dict[str, Path], port: int, per_round: int, rounds: int) -> None:
    import httpx
    import requests

    from tlsengine.http import HTTPTransport, TLSEngineAdapter

    url = f"https://127.0.0.1:{port}/"
    ours = requests.Session()
    ours.mount("https://", TLSEngineAdapter(engine_context(files)))
    theirs = requests.Session()
    theirs.verify = str(files["ca"])
    for session in (ours, theirs):
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
    theirs.cert = (str(files["client"]), str(files["client_key"]))
    hx_ours = httpx.Client(transport=HTTPTransport(engine_context(files), http2=False))
    hx_theirs = httpx.Client(verify=stdlib_context(files))

    def rate(get: Callable[[], Any]) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            for _ in range(per_round):
                response = get()
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}")
            return per_round / (time.perf_counter() - start)

        return run

    print(f"keep-alive: {per_round} GETs per round, {rounds} rounds, one connection each")
    try:
        for label, fns in (
            (
                "requests",
                {
                    "requests+TLSEngineAdapter": rate(lambda: ours.get(url)),
                    "requests+ssl": rate(lambda: theirs.get(url)),
                },
            ),
            (
                "httpx",
                {
                    "httpx+HTTPTransport": rate(lambda: hx_ours.get(url)),
                    "httpx+ssl": rate(lambda: hx_theirs.get(url)),
                },
            ),
        ):
            results = interleaved(fns, rounds)
            base = results[f"{label}+ssl"]
            for name, value in results.items():
                print(f"  {name:<26} {value:7.0f} requests/s   {value / base:5.2f}x ssl")
    finally:
        for client in (ours, theirs, hx_ours, hx_theirs):
            client.close()
    aiohttp_rows(files, url, per_round, rounds)


def aiohttp_rows(files: dict[str, Path], url: str, per_round: int, rounds: int) -> None:
    """aiohttp over asyncio's SSL protocol: our TLSObject against ssl's SSLObject."""
    import aiohttp

    async def run() -> dict[str, float]:
        samples: dict[str, list[float]] = {"aiohttp+SSLContext": [], "aiohttp+ssl": []}
        contexts = {"aiohttp+SSLContext": engine_context(files), "aiohttp+ssl": None}
        contexts["aiohttp+ssl"] = stdlib_context(files)
        async with aiohttp.ClientSession() as session:
            for round_ in range(rounds + 1):  # round 0 warms up
                for name, ctx in contexts.items():
                    start = time.perf_counter()
                    for _ in range(per_round):
                        async with session.get(url, ssl=ctx) as response:
                            await response.read()
                    if round_:
                        samples[name].append(per_round / (time.perf_counter() - start))
        return {name: statistics.median(values) for name, values in samples.items()}

    results = asyncio.run(run())
    base = results["aiohttp+ssl"]
    for name, value in results.items():
        print(f"  {name:<26} {value:7.0f} requests/s   {value / base:5.2f}x ssl")


# --------------------------------------------------------------------------- handshake


def handshake_rows(files: dict[str, Path], port: int, runs: int) -> None:
    from tlsengine import ClientContext, load_pkcs12

    cctx = ClientContext(
        identities=load_pkcs12(files["client_p12"].read_bytes()), cafile=files["ca"]
    )
    sctx = engine_context(files)
    stdlib = stdlib_context(files)
    address = ("127.0.0.1", port)
    base_ssl: list[float] = []

    def timed(connect: Callable[[], Any]) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            tls = connect()
            tls.sendall(REQUEST)  # the answer proves the server accepted our certificate
            if not tls.recv(256).startswith(b"HTTP/1.1 200"):
                raise RuntimeError("no answer")
            elapsed = time.perf_counter() - start
            tls.close()
            return elapsed

        return run

    def wrap(ctx: Any) -> Callable[[], Any]:
        def connect() -> Any:
            sock = socket.create_connection(address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does
            return ctx.wrap_socket(sock, server_hostname="localhost")

        return connect

    print(f"handshake + first request (median of {runs}, new connection each)")
    # connect() runs in its own rounds: while it leaves Nagle on (issue 8), each of its
    # connections stalls ~40 ms, and the server's backlog from that skews whatever runs
    # interleaved with it.
    for rows in (
        {"SSLContext.wrap_socket": timed(wrap(sctx)), "ssl": timed(wrap(stdlib))},
        {"ClientContext.connect()": timed(lambda: cctx.connect(address, "localhost"))},
    ):
        results = interleaved(rows, runs)
        base = results.get("ssl", base_ssl[0] if base_ssl else 0.0) or 1.0
        base_ssl[:] = [base]
        for name, value in results.items():
            print(f"  {name:<26} {value * 1000:7.2f} ms   {value / base:5.2f}x ssl")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 connections, fewer rounds")
    parser.add_argument("-n", "--connections", type=int, default=None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        files = {k: Path(v) for k, v in json.loads(args.files).items()}
        async_child(args.child, files, args.port, args.connections)
        return 0
    n = args.connections or (200 if args.quick else 1000)
    per_round, rounds, hs_runs = (100, 3, 20) if args.quick else (300, 5, 60)
    print("(measured on a shared box: figures are noisy; ratios are from the same run)")
    with tempfile.TemporaryDirectory(prefix="tlsengine-bench-dropin-") as tmp:
        files = make_pki(Path(tmp))
        server = Server(files)
        try:
            handshake_rows(files, server.port, hs_runs)
            keepalive_rows(files, server.port, per_round, rounds)
            async_rows(files, server.port, n)
        finally:
            with contextlib.suppress(Exception):
                server.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
