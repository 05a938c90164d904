"""TLS 1.3 mutual-auth handshakes on the public path, and 64 MiB bulk: tlsengine vs ssl.

What a user meets (issue 8): ``ClientContext.connect()`` with no socket tuning by the bench,
``sendall(b"ping")``, ``recv(4)``, close, timed from before TCP connect to after close. The
stdlib ``ssl`` client does the same on a socket with ``TCP_NODELAY`` set (``ssl`` without it
stalls on delayed ACK just as we used to). The server is Python's ``ssl`` (OpenSSL) in a
*separate process*, TLS 1.3, client certificate required, no session tickets; two server
setups (P-256 and RSA-2048 certificates), each with P-256 and RSA-2048 client identities.

The clients run interleaved in blocks of ``--block`` connections, in a shuffled order each
round, after warm-ups, ``--connections`` each (>= 400 by default). Per connection the bench
keeps wall time, the client's CPU time (this process) and the server's CPU time (its
process's scheduler clock, /proc/PID/schedstat, read around each block), and prints medians
with ratios against ``ssl``. Stock tlslite-ng gets a few runs of its own, for scale.

    python3 bench/bench_handshake.py [--quick] [--profile] [--connections N] [--markdown]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import random
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024
ACK = b"K"
PING, PONG = b"ping", b"pong"

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


def read(tls, n):
    out = b""
    while len(out) < n:
        part = tls.recv(n - len(out))
        if not part:
            break
        out += part
    return out


while True:
    raw, _ = listener.accept()
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        with ctx.wrap_socket(raw, server_side=True) as tls:
            head = read(tls, 4)
            if head == b"ping":
                tls.sendall(b"pong")
                tls.recv(1)  # the client's close
                continue
            line = head
            while line and not line.endswith(b"\n"):
                part = tls.recv(64)
                if not part:
                    break
                line += part
            cmd, _, arg = line.strip().partition(b" ")
            n = int(arg or 0)
            if cmd == b"U":
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

    def __init__(self, cert: Path, key: Path, ca: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(cert), str(key), str(ca)],
            stdout=subprocess.PIPE,
            stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def cpu(self) -> float:
        """The server process's CPU seconds so far (scheduler clock: nanosecond-exact)."""
        try:
            with open(f"/proc/{self.proc.pid}/schedstat") as f:
                return int(f.read().split()[0]) / 1e9
        except OSError:  # not Linux: clock ticks, coarse but still a sum over a block
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port)).close()
        self.proc.terminate()
        self.proc.wait(10)


# --------------------------------------------------------------------------- PKI

KEYS = ("p256", "rsa2048")


def make_pki(tmp: Path) -> dict[str, object]:
    """One root; a localhost server certificate per key type; a client identity per key type."""
    from tlsengine.cli.pki import CA, cert_pem, key_pem

    ca = CA.root("bench root")
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        files[name] = tmp / f"{name}.pem"
        files[name].write_bytes(data)

    put("ca", cert_pem(ca.certificate))
    identities = {}
    for spec in KEYS:
        server, server_key = ca.issue(
            "localhost", spec, client=False, server=True, dns=["localhost"], ips=["127.0.0.1"]
        )
        put(f"server_{spec}", cert_pem(server))
        put(f"server_{spec}_key", key_pem(server_key))
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
    """The stdlib client on a NODELAY socket (without it, ssl stalls on delayed ACK)."""

    name = "ssl"

    def __init__(self, files: dict[str, Path], spec: str) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # default versions, as a user has them
        ctx.load_verify_locations(files["ca"])
        ctx.load_cert_chain(files[f"client_{spec}"], files[f"client_{spec}_key"])
        self.ctx = ctx

    def connect(self, port: int) -> object:
        return self.ctx.wrap_socket(_tcp(port), server_hostname="localhost")


class EngineClient(Client):
    """Our public path: ``ClientContext.connect()``, no socket tuning by the bench."""

    name = "tlsengine"

    def __init__(self, files: dict[str, Path], identity: object, verify_cache: bool = True) -> None:
        from tlsengine.socket.context import ClientContext

        self.ctx = ClientContext(
            identities=[identity],
            cafile=files["ca"],  # default versions (1.2 and 1.3 offered), as a user has them
            verify_cache=verify_cache,
        )

    def connect(self, port: int) -> object:
        return self.ctx.connect(("127.0.0.1", port), server_hostname="localhost")


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
    for spec in KEYS:
        outcomes = []
        for _ in range(3):
            try:
                ping(TlsliteClient(files, spec), port)
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001 - the failure is the finding; report it
                outcomes.append(type(exc).__name__)
        print(f"stock tlslite-ng, {spec} identity, 3 handshakes: {', '.join(outcomes)}")
    print(
        "  (0.8.2 sends a CompressedCertificate the server never negotiated; rows marked *\n"
        "   set HandshakeSettings.certificate_compression_receive = [] to avoid it)"
    )


# --------------------------------------------------------------------------- measurements


def read_exactly(client: Client, conn: object, n: int) -> bytes:
    chunks, left = [], n
    while left > 0:
        got = client.recv(conn, min(left, 256 * 1024))
        if not got:
            raise RuntimeError(f"{client.name}: server closed with {left} bytes outstanding")
        chunks.append(got)
        left -= len(got)
    return b"".join(chunks)


def ping(client: Client, port: int) -> tuple[float, float]:
    """One connection as a user makes it: connect, 4 bytes each way, close. (wall, CPU)."""
    start, cpu = time.perf_counter(), time.process_time()
    conn = client.connect(port)
    client.send(conn, PING)
    if read_exactly(client, conn, 4) != PONG:
        raise RuntimeError(f"{client.name}: server did not answer the ping")
    client.close(conn)
    return time.perf_counter() - start, time.process_time() - cpu


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


@dataclass
class Samples:
    """Per-connection figures of one client against one server setup."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)  # one mean per block

    def medians(self) -> tuple[float, float, float]:
        return (
            statistics.median(self.wall),
            statistics.median(self.cpu),
            statistics.median(self.server_cpu),
        )


def interleaved(
    clients: list[Client], server: Server, connections: int, block: int, warmup: int
) -> dict[str, Samples]:
    """``connections`` pings per client, in blocks, the clients' order shuffled each round.

    Blocks taking turns make a burst of background load (a shared box) hit every client
    alike; the server's CPU is read around each block, so it is charged to the right client.
    """
    out = {c.name: Samples() for c in clients}
    for c in clients:
        for _ in range(warmup):
            ping(c, server.port)
    order = list(clients)
    for _ in range(-(-connections // block)):
        random.shuffle(order)
        for c in order:
            samples = out[c.name]
            before = server.cpu()
            for _ in range(block):
                wall, cpu = ping(c, server.port)
                samples.wall.append(wall)
                samples.cpu.append(cpu)
            samples.server_cpu.append((server.cpu() - before) / block)
    return out


@dataclass
class Row:
    label: str
    ours: tuple[float, float, float]
    ssl: tuple[float, float, float]

    def ratios(self) -> tuple[float, float, float]:
        return tuple(a / b for a, b in zip(self.ours, self.ssl, strict=True))  # type: ignore[return-value]


def print_row(row: Row, n: int) -> None:
    (w, c, s), (bw, bc, bs) = row.ours, row.ssl
    rw, rc, rs = row.ratios()
    print(f"  {row.label}  ({n} connections each)")
    print(f"    ssl        wall {bw * 1e3:6.2f} ms   client CPU {bc * 1e3:5.2f} ms   "
          f"server CPU {bs * 1e3:5.2f} ms")  # fmt: skip
    print(f"    tlsengine  wall {w * 1e3:6.2f} ms   client CPU {c * 1e3:5.2f} ms   "
          f"server CPU {s * 1e3:5.2f} ms")  # fmt: skip
    print(f"    ratio      wall x{rw:5.2f}         client CPU x{rc:5.2f}         "
          f"server CPU x{rs:5.2f}")  # fmt: skip


def lite_row(client: Client, port: int, runs: int) -> None:
    try:
        ping(client, port)
        results = [ping(client, port) for _ in range(runs)]
    except Exception as exc:  # noqa: BLE001 - report and go on
        print(f"    {client.name:<11} failed: {type(exc).__name__}: {exc}")
        return
    wall = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[1] for r in results)
    print(f"    {client.name:<12}wall {wall * 1e3:6.2f} ms   client CPU {cpu * 1e3:5.2f} ms"
          f"   ({runs} runs)")  # fmt: skip


def bulk(
    clients: list[Client], port: int, size: int, runs: int
) -> dict[str, dict[str, tuple[float, float]]]:
    """Median MB/s and MB per client CPU-second, per direction, the clients taking turns."""
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for label, fn in (("upload", upload), ("download", download)):
        rates: dict[str, list[float]] = {c.name: [] for c in clients}
        cpus: dict[str, list[float]] = {c.name: [] for c in clients}
        for c in clients:
            fn(c, port, size)  # warm-up: TCP slow start, caches
        for _ in range(runs):
            for c in random.sample(clients, len(clients)):
                cpu = time.process_time()
                rates[c.name].append(fn(c, port, size))
                cpus[c.name].append(time.process_time() - cpu)
        out[label] = {
            name: (statistics.median(rates[name]), size / statistics.median(cpus[name]))
            for name in rates
        }
    return out


def profile(label: str, fn: Callable[[], object], top: int = 25) -> None:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    print(f"\n--- cProfile: {label} (by own time) ---")
    print("\n".join(out.getvalue().splitlines()[6 : 6 + top + 4]))


def markdown(
    rows: list[Row], bulk_rows: dict[str, dict[str, tuple[float, float]]], size: int
) -> str:
    lines = [
        "| server cert, client identity | tlsengine wall | `ssl` wall | ratio | client CPU ratio | "
        "server CPU ratio |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        rw, rc, rs = row.ratios()
        lines.append(
            f"| {row.label} | {row.ours[0] * 1e3:.2f} ms | {row.ssl[0] * 1e3:.2f} ms | "
            f"{rw:.2f}x | {rc:.2f}x ({row.ours[1] * 1e3:.2f} / {row.ssl[1] * 1e3:.2f} ms) | "
            f"{rs:.2f}x |"
        )
    for label, by_client in bulk_rows.items():
        ours, base = by_client["tlsengine"], by_client["ssl"]
        lines.append(
            f"| bulk {label}, {size // MiB} MiB | {ours[0] / 1e6:.0f} MB/s | "
            f"{base[0] / 1e6:.0f} MB/s | "
            f"{ours[0] / base[0]:.2f}x | {ours[1] / base[1]:.2f}x (MB per CPU-s) | |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 connections, 16 MiB bulk")
    parser.add_argument("--profile", action="store_true", help="cProfile our client")
    parser.add_argument("--connections", type=int, default=400, help="per client and row")
    parser.add_argument("--block", type=int, default=25, help="connections per turn")
    parser.add_argument("--markdown", action="store_true", help="also print README's table")
    parser.add_argument("--no-bulk", action="store_true", help="handshakes only")
    parser.add_argument(
        "--no-verify-cache", action="store_true", help="verify every server chain (ClientContext)"
    )
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    connections, bulk_runs, bulk_size = (
        (100, 2, 16 * MiB) if args.quick else (args.connections, 5, 64 * MiB)
    )
    lite_runs = 3 if args.quick else 10

    with tempfile.TemporaryDirectory(prefix="tlsengine-bench-") as tmp:
        pki = make_pki(Path(tmp))
        files: dict[str, Path] = pki["files"]  # type: ignore[assignment]
        identities: dict[str, object] = pki["identities"]  # type: ignore[assignment]
        print(
            f"server: Python ssl / {ssl.OPENSSL_VERSION} in its own process, TLS 1.3, "
            "client certificate required, no tickets"
        )
        print("per connection: connect, 4 bytes each way, close; medians")
        cache = "off" if args.no_verify_cache else "on (default)"
        print(f"tlsengine: ClientContext.connect(), verification cache {cache}\n")
        rows: list[Row] = []
        bulk_rows: dict[str, dict[str, tuple[float, float]]] = {}
        for server_spec in KEYS:
            server = Server(
                files[f"server_{server_spec}"], files[f"server_{server_spec}_key"], files["ca"]
            )
            try:
                if server_spec == "p256":
                    check_stock_tlslite(files, server.port)
                print(f"\n{server_spec} server certificate:")
                for spec in KEYS:
                    clients: list[Client] = [
                        SslClient(files, spec),
                        EngineClient(files, identities[spec], not args.no_verify_cache),
                    ]
                    got = interleaved(clients, server, connections, args.block, args.block)
                    row = Row(
                        f"{server_spec} server, {spec} client",
                        got["tlsengine"].medians(),
                        got["ssl"].medians(),
                    )
                    rows.append(row)
                    print_row(row, len(got["ssl"].wall))
                    lite_row(TlsliteClient(files, spec, workaround=True), server.port, lite_runs)
                if server_spec == "p256" and not args.no_bulk:
                    clients = [SslClient(files, "p256"), EngineClient(files, identities["p256"])]
                    bulk_rows = bulk(clients, server.port, bulk_size, bulk_runs)
                    for label, by_client in bulk_rows.items():
                        base = by_client["ssl"][0]
                        print(f"\nbulk {label}, {bulk_size // MiB} MiB x {bulk_runs} (median):")
                        for name, (rate, per_cpu) in by_client.items():
                            print(f"    {name:<10} {rate / 1e6:7.1f} MB/s x{rate / base:5.2f}   "
                                  f"{per_cpu / 1e6:6.0f} MB per client CPU-s")  # fmt: skip
                if args.profile and server_spec == "p256":
                    ours = EngineClient(files, identities["p256"])
                    profile(
                        "200 connections, p256",
                        lambda o=ours, port=server.port: [ping(o, port) for _ in range(200)],
                    )
            finally:
                server.close()
        if args.markdown:
            print("\n" + markdown(rows, bulk_rows, bulk_size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
