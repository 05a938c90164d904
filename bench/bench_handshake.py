"""TLS 1.3 mutual-auth handshake and 64 MiB bulk transfer: tlsengine vs ssl vs tlslite-ng.

The server is Python's ``ssl`` (OpenSSL) in a *separate process*, requiring a client
certificate, so the client side is all that differs between rows. Each handshake is timed
from TCP connect until the server's one-byte acknowledgement, i.e. until the server has
accepted our certificate (TLS 1.3 judges it after the client Finished). Bulk is timed from
the first byte written until the server's acknowledgement (upload) or the last byte read
(download). Figures are medians, printed as ratios against the ``ssl`` client, with the
client process's own CPU time alongside: on a small box the single server process caps
wall-clock bulk figures, while CPU time shows what each client costs by itself. Clients
take turns round by round so background load hits them alike.

    python3 bench/bench_handshake.py [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MiB = 1024 * 1024
ACK = b"K"

# --------------------------------------------------------------------------- server process

SERVER = r"""
import socket, ssl, sys
cert, key, ca = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.num_tickets = 0
listener = socket.create_server(("127.0.0.1", 0), backlog=64)
print(listener.getsockname()[1], flush=True)
block = bytes(1024 * 1024)
while True:
    raw, _ = listener.accept()
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        with ctx.wrap_socket(raw, server_side=True) as tls:
            line = b""
            while not line.endswith(b"\n"):
                part = tls.recv(64)
                if not part:
                    break
                line += part
            cmd, _, arg = line.strip().partition(b" ")
            n = int(arg or 0)
            if cmd == b"P":
                tls.sendall(b"K")
            elif cmd == b"U":
                left = n
                buf = bytearray(256 * 1024)
                while left > 0:
                    got = tls.recv_into(buf)
                    if not got:
                        break
                    left -= got
                tls.sendall(b"K")
            elif cmd == b"D":
                left = n
                while left > 0:
                    tls.sendall(block[: min(left, len(block))])
                    left -= min(left, len(block))
                tls.recv(1)
            elif cmd == b"X":
                break
    except (ssl.SSLError, OSError) as exc:
        print("server:", exc, file=sys.stderr, flush=True)
"""


class Server:
    """The OpenSSL-backed peer, in its own process so it never shares our GIL."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                str(files["server"]),
                str(files["server_key"]),
                str(files["ca"]),
            ],
            stdout=subprocess.PIPE,
            stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port)).close()
        self.proc.terminate()
        self.proc.wait(10)


# --------------------------------------------------------------------------- PKI


def make_pki(tmp: Path) -> dict[str, object]:
    from tlsengine.cli.pki import CA, cert_pem, key_pem

    ca = CA.root("bench root")
    server, server_key = ca.issue(
        "localhost", client=False, server=True, dns=["localhost"], ips=["127.0.0.1"]
    )
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        files[name] = tmp / f"{name}.pem"
        files[name].write_bytes(data)

    put("ca", cert_pem(ca.certificate))
    put("server", cert_pem(server))
    put("server_key", key_pem(server_key))
    identities = {}
    for spec in ("p256", "rsa2048"):
        ident = ca.identity(f"bench client {spec}", spec)
        identities[spec] = ident
        put(f"client_{spec}", cert_pem(ident.certificate))
        put(f"client_{spec}_key", key_pem(ident.private_key))
    return {"files": files, "identities": identities}


# --------------------------------------------------------------------------- clients


class Client:
    """One TLS client implementation: connect+handshake, and socket-like I/O."""

    name = ""

    def connect(self, port: int) -> object:
        raise NotImplementedError

    def send(self, conn: object, data: bytes) -> None:
        conn.sendall(data)  # type: ignore[attr-defined]

    def recv(self, conn: object, n: int) -> bytes:
        return conn.recv(n)  # type: ignore[attr-defined]

    def close(self, conn: object) -> None:
        conn.close()  # type: ignore[attr-defined]


def _tcp(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class SslClient(Client):
    name = "ssl"

    def __init__(self, files: dict[str, Path], spec: str) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(files["ca"])
        ctx.load_cert_chain(files[f"client_{spec}"], files[f"client_{spec}_key"])
        self.ctx = ctx

    def connect(self, port: int) -> object:
        return self.ctx.wrap_socket(_tcp(port), server_hostname="localhost")


class EngineClient(Client):
    name = "tlsengine"

    def __init__(self, files: dict[str, Path], identity: object) -> None:
        from tlsengine.socket.context import ClientContext

        self.ctx = ClientContext(
            identities=[identity], cafile=files["ca"], minimum_version="TLSv1.3"
        )

    def connect(self, port: int) -> object:
        return self.ctx.wrap_socket(_tcp(port), server_hostname="localhost")


class TlsliteClient(Client):
    """Stock tlslite-ng's TLSConnection (pure-Python crypto unless m2crypto/gmpy exist).

    In TLS 1.3 with a client certificate, tlslite-ng 0.8.2 decides whether to compress its
    Certificate (RFC 8879) from its *own* ClientHello's compress_certificate extension
    instead of the server's CertificateRequest, so it sends a CompressedCertificate that
    OpenSSL 3.0 never negotiated and the server aborts (unexpected_message). With
    ``workaround`` the public setting ``certificate_compression_receive = []`` keeps the
    extension out of the ClientHello, so it sends a plain Certificate; the row is labelled.
    """

    name = "tlslite-ng"

    def __init__(self, files: dict[str, Path], spec: str, *, workaround: bool = False) -> None:
        from tlslite.api import X509, HandshakeSettings, X509CertChain, parsePEMKey

        cert = X509()
        cert.parse(files[f"client_{spec}"].read_text())
        self.chain = X509CertChain([cert])
        self.key = parsePEMKey(files[f"client_{spec}_key"].read_text(), private=True)
        self.settings = HandshakeSettings()
        self.settings.minVersion = (3, 4)
        self.settings.maxVersion = (3, 4)
        if workaround:
            self.settings.certificate_compression_receive = []
            self.name = "tlslite-ng*"

    def connect(self, port: int) -> object:
        from tlslite.api import TLSConnection

        conn = TLSConnection(_tcp(port))
        conn.handshakeClientCert(
            self.chain, self.key, settings=self.settings, serverName="localhost"
        )
        return conn


def check_stock_tlslite(files: dict[str, Path], port: int) -> None:
    """Report whether unmodified tlslite-ng completes a client-auth handshake with OpenSSL."""
    for spec in ("p256", "rsa2048"):
        outcomes = []
        for _ in range(3):
            try:
                one_handshake(TlsliteClient(files, spec), port)
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001 - the failure is the finding; report it
                outcomes.append(type(exc).__name__)
        print(f"stock tlslite-ng, {spec} identity, 3 handshakes: {', '.join(outcomes)}")
    print(
        "  (0.8.2 sends a CompressedCertificate the server never negotiated; rows marked *\n"
        "   set HandshakeSettings.certificate_compression_receive = [] to avoid it)"
    )


# --------------------------------------------------------------------------- measurements


def read_exactly(client: Client, conn: object, n: int) -> None:
    left = n
    while left > 0:
        got = client.recv(conn, min(left, 256 * 1024))
        if not got:
            raise RuntimeError(f"{client.name}: server closed with {left} bytes outstanding")
        left -= len(got)


def one_handshake(client: Client, port: int) -> float:
    start = time.perf_counter()
    conn = client.connect(port)
    client.send(conn, b"P\n")
    if client.recv(conn, 1) != ACK:
        raise RuntimeError(f"{client.name}: server did not acknowledge the handshake")
    elapsed = time.perf_counter() - start
    client.close(conn)
    return elapsed


def upload(client: Client, port: int, size: int) -> float:
    conn = client.connect(port)
    block = os.urandom(MiB)
    start = time.perf_counter()
    client.send(conn, f"U {size}\n".encode())
    left = size
    while left > 0:
        piece = block[: min(left, MiB)]
        client.send(conn, piece)
        left -= len(piece)
    if client.recv(conn, 1) != ACK:
        raise RuntimeError(f"{client.name}: upload not acknowledged")
    elapsed = time.perf_counter() - start
    client.close(conn)
    return size / elapsed


def download(client: Client, port: int, size: int) -> float:
    conn = client.connect(port)
    start = time.perf_counter()
    client.send(conn, f"D {size}\n".encode())
    read_exactly(client, conn, size)
    elapsed = time.perf_counter() - start
    with contextlib.suppress(Exception):
        client.send(conn, b"!")
    client.close(conn)
    return size / elapsed


def median_of(fn: Callable[[], float], runs: int) -> float:
    fn()  # warm-up: imports, caches, TCP slow start
    return statistics.median(fn() for _ in range(runs))


def interleaved_medians(fns: dict[str, Callable[[], float]], runs: int) -> dict[str, float]:
    """Median per client, the clients taking turns each round.

    Taking turns means a burst of background load (a shared 2-core box) hits every client
    alike instead of skewing whichever ran during it, so the ratios stay meaningful.
    """
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(runs):
        for name, fn in fns.items():
            samples[name].append(fn())
    return {name: statistics.median(values) for name, values in samples.items()}


def report(
    clients: list[Client],
    measure: Callable[[Client], float],
    runs: int,
    lite: Callable[[Client], float],
    lite_runs: int,
    fmt: Callable[[float, float], str],
    note: Callable[[Client, int], str],
    cpu_fmt: Callable[[Client, float], str],
) -> None:
    """Interleave ssl and tlsengine; tlslite-ng (much slower) runs alone, fewer times.

    Besides wall time, each run's client-process CPU time is kept: the server is one
    Python process on a shared box, so wall figures saturate at its speed, while CPU time
    shows what each client itself costs.
    """
    cpu: dict[str, list[float]] = {c.name: [] for c in clients}

    def timed(c: Client, fn: Callable[[Client], float]) -> float:
        start = time.process_time()
        value = fn(c)
        cpu[c.name].append(time.process_time() - start)
        return value

    fast = {
        c.name: (lambda c=c: timed(c, measure)) for c in clients if not c.name.startswith("tlslite")
    }
    results: dict[str, float] = {}
    try:
        results = interleaved_medians(fast, runs)
    except Exception as exc:  # noqa: BLE001 - report and go on
        for name, fn in fast.items():
            try:
                results[name] = median_of(fn, runs)
            except Exception as inner:  # noqa: BLE001
                print(f"  {name:<11} failed: {type(inner).__name__}: {inner}")
        if not results:
            print(f"  interleaved run failed: {type(exc).__name__}: {exc}")
    for c in clients:
        if c.name.startswith("tlslite"):
            try:
                results[c.name] = median_of(lambda c=c: timed(c, lite), lite_runs)
            except Exception as exc:  # noqa: BLE001
                print(f"  {c.name:<11} failed: {type(exc).__name__}: {exc}")
    base = results.get("ssl")
    for c in clients:
        if c.name in results:
            value = results[c.name]
            n = lite_runs if c.name.startswith("tlslite") else runs
            used = statistics.median(cpu[c.name]) if cpu[c.name] else 0.0
            print(
                f"  {c.name:<11} {fmt(value, base or value)}   {cpu_fmt(c, used)}   ({note(c, n)})"
            )


def profile(label: str, fn: Callable[[], object], top: int = 22) -> None:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    print(f"\n--- cProfile: {label} (by own time) ---")
    print("\n".join(out.getvalue().splitlines()[6 : 6 + top + 4]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 16 MiB bulk")
    parser.add_argument("--profile", action="store_true", help="cProfile our client")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    hs_runs, bulk_runs, bulk = (40, 2, 16 * MiB) if args.quick else (200, 5, 64 * MiB)
    lite_runs, lite_bulk = (3, 1 * MiB) if args.quick else (10, 2 * MiB)

    with tempfile.TemporaryDirectory(prefix="tlsengine-bench-") as tmp:
        pki = make_pki(Path(tmp))
        files = pki["files"]
        identities = pki["identities"]
        server = Server(files)  # type: ignore[arg-type]
        try:
            port = server.port
            print(f"server: Python ssl / {ssl.OPENSSL_VERSION}, TLS 1.3, CERT_REQUIRED")
            check_stock_tlslite(files, port)  # type: ignore[arg-type]
            for spec in ("p256", "rsa2048"):
                clients: list[Client] = [
                    SslClient(files, spec),  # type: ignore[arg-type]
                    EngineClient(files, identities[spec]),  # type: ignore[arg-type,index]
                    TlsliteClient(files, spec, workaround=True),  # type: ignore[arg-type]
                ]
                print(f"\nhandshake with client auth, {spec} identity (median ms, ratio vs ssl):")
                report(
                    clients,
                    lambda c: one_handshake(c, port),
                    hs_runs,
                    lambda c: one_handshake(c, port),
                    lite_runs,
                    lambda t, base: f"{t * 1e3:8.2f} ms   x{t / base:6.2f}",
                    lambda c, n: f"{n} runs",
                    lambda c, t: f"client CPU {t * 1e3:6.2f} ms",
                )
            clients = [
                SslClient(files, "p256"),  # type: ignore[arg-type]
                EngineClient(files, identities["p256"]),  # type: ignore[arg-type,index]
                TlsliteClient(files, "p256", workaround=True),  # type: ignore[arg-type]
            ]

            def size_of(c: Client) -> int:
                return lite_bulk if c.name.startswith("tlslite") else bulk

            for label, fn in (("upload", upload), ("download", download)):
                print(f"\nbulk {label} (median MB/s, ratio vs ssl):")
                report(
                    clients,
                    lambda c, f=fn: f(c, port, bulk),
                    bulk_runs,
                    lambda c, f=fn: f(c, port, lite_bulk),
                    1,
                    lambda r, base: f"{r / 1e6:8.1f} MB/s x{r / base:6.3f}",
                    lambda c, n: f"{n} x {size_of(c) // MiB} MiB",
                    lambda c, t: f"client CPU {size_of(c) / max(t, 1e-9) / 1e6:7.0f} MB per CPU-s",
                )
            if args.profile:
                ours = EngineClient(files, identities["p256"])  # type: ignore[arg-type,index]
                profile(
                    "50 handshakes, p256", lambda: [one_handshake(ours, port) for _ in range(50)]
                )
                profile(f"download {bulk // MiB} MiB", lambda: download(ours, port, bulk))
                profile(f"upload {bulk // MiB} MiB", lambda: upload(ours, port, bulk))
        finally:
            server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
