"""TLS 1.2 rows: mTLS handshake, resumed handshake (RFC 5077 ticket) and bulk, tlsengine vs ssl.

The same harness as bench_handshake.py and bench_resumption.py (a Python ``ssl`` server in
its own process, client certificate required, clients taking turns round by round), with
the server limited to TLS 1.2 and both clients offering TLS 1.2 only. Figures are medians
and ratios against the ``ssl`` client in the same run.

    python3 bench/bench_tls12.py [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
TLS13_ONLY = "ctx.minimum_version = ssl.TLSVersion.TLSv1_3"
TLS12_ONLY = "ctx.maximum_version = ssl.TLSVersion.TLSv1_2"


def _sibling(name: str) -> ModuleType:
    """Load another bench module (bench/ is not a package) under a private name."""
    spec = importlib.util.spec_from_file_location(f"_tls12_{name}", HERE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert TLS13_ONLY in module.SERVER, f"{name}.SERVER changed shape"
    module.SERVER = module.SERVER.replace(TLS13_ONLY, TLS12_ONLY)
    return module


def _ssl12(ctx: ssl.SSLContext) -> ssl.SSLContext:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 16 MiB bulk")
    args, _ = parser.parse_known_args(argv if argv is not None else [])
    hs = _sibling("bench_handshake")
    res = _sibling("bench_resumption")
    hs_runs, bulk_runs, bulk = (30, 2, 16 * hs.MiB) if args.quick else (150, 3, 64 * hs.MiB)
    rounds = 30 if args.quick else 150

    from tlsengine.socket.context import ClientContext

    class Ssl12(hs.SslClient):  # type: ignore[name-defined, misc]
        def __init__(self, files: dict[str, Path], spec: str) -> None:
            super().__init__(files, spec)
            _ssl12(self.ctx)

    class Engine12(hs.Client):  # type: ignore[name-defined, misc]
        name = "tlsengine"

        def __init__(self, files: dict[str, Path], identity: Any) -> None:
            self.ctx = ClientContext(
                identities=[identity],
                cafile=files["ca"],
                maximum_version="TLSv1.2",
                resumption=False,
            )

        def connect(self, port: int) -> object:
            return self.ctx.wrap_socket(hs._tcp(port), server_hostname="localhost")

    with tempfile.TemporaryDirectory(prefix="tlsengine-bench12-") as tmp:
        pki = hs.make_pki(Path(tmp))
        files, identities = pki["files"], pki["identities"]
        server = hs.Server(files)
        try:
            port = server.port
            print(f"server: Python ssl / {ssl.OPENSSL_VERSION}, TLS 1.2 only, CERT_REQUIRED")
            for spec in ("p256", "rsa2048"):
                clients = [Ssl12(files, spec), Engine12(files, identities[spec])]
                print(f"\nTLS 1.2 handshake with client auth, {spec} identity (median ms):")
                hs.report(
                    clients,
                    lambda c: hs.one_handshake(c, port),
                    hs_runs,
                    lambda c: hs.one_handshake(c, port),
                    1,
                    lambda t, base: f"{t * 1e3:8.2f} ms   x{t / base:6.2f}",
                    lambda c, n: f"{n} runs",
                    lambda c, t: f"client CPU {t * 1e3:6.2f} ms",
                )
            clients = [Ssl12(files, "p256"), Engine12(files, identities["p256"])]
            for label, fn in (("upload", hs.upload), ("download", hs.download)):
                print(f"\nTLS 1.2 bulk {label}, AES-128-GCM (median MB/s, ratio vs ssl):")
                hs.report(
                    clients,
                    lambda c, f=fn: f(c, port, bulk),
                    bulk_runs,
                    lambda c, f=fn: f(c, port, bulk),
                    1,
                    lambda r, base: f"{r / 1e6:8.1f} MB/s x{r / base:6.3f}",
                    lambda c, n: f"{n} x {bulk // hs.MiB} MiB",
                    lambda c, t: f"client CPU {bulk / max(t, 1e-9) / 1e6:7.0f} MB per CPU-s",
                )
        finally:
            server.close()
        _resumed(res, files, identities["p256"], rounds)
    return 0


def _resumed(res: ModuleType, files: dict[str, Path], identity: Any, rounds: int) -> None:
    """Full vs resumed (ticket) TLS 1.2 handshakes, as bench_resumption.py times TLS 1.3."""
    from tlsengine.socket.context import ClientContext

    paths = {
        "ca": files["ca"],
        "server": files["server"],
        "server_key": files["server_key"],
        "client": files["client_p256"],
        "client_key": files["client_p256_key"],
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            res.SERVER,
            *(str(paths[n]) for n in ("server", "server_key", "ca")),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        ours = res.EngineRunner(paths, port, identity)
        for attr in ("resuming", "full"):
            old = getattr(ours, attr)
            setattr(
                ours,
                attr,
                ClientContext(
                    identities=[identity],
                    cafile=paths["ca"],
                    maximum_version="TLSv1.2",
                    resumption=old.resumption,
                ),
            )
        theirs = res.SslRunner(paths, port)
        _ssl12(theirs.ctx)
        jobs = {
            f"{name} {mode}": (lambda r=runner, m=mode: r.run(m == "resumed"))
            for name, runner in (("ssl", theirs), ("tlsengine", ours))
            for mode in ("full", "resumed")
        }
        theirs.run(False)
        ours.prime()
        med = res_medians(jobs, rounds)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"\nTLS 1.2 resumed handshake (RFC 5077 ticket), P-256, {rounds} rounds (median ms):")
    for name in ("ssl full", "ssl resumed", "tlsengine full", "tlsengine resumed"):
        print(f"  {name:<18} {med[name]:7.2f} ms")
    print(
        f"  resumed ratio tlsengine/ssl: {med['tlsengine resumed'] / med['ssl resumed']:.2f}x "
        f"(full: {med['tlsengine full'] / med['ssl full']:.2f}x)"
    )


def res_medians(jobs: dict[str, Any], rounds: int) -> dict[str, float]:
    import statistics

    for fn in jobs.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, fn in jobs.items():
            samples[name].append(fn())
    return {name: statistics.median(v) * 1000 for name, v in samples.items()}


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
