"""The app-facing HTTP layer: `tlsengine.http.Session` keep-alive against ``requests`` on ``ssl``.

Same server (bench_dropin's: stdlib ``ssl`` under asyncio in its own process, HTTP/1.1
keep-alive, client certificate required), same run, rounds interleaved, medians reported.
Rows: ``Session.get`` (urllib3 + our TLS), ``invoke_service`` on that session (adds the
dict building), ``requests`` + ``TLSEngineAdapter``, the baseline ``requests`` on ``ssl``,
and bare ``urllib3`` on ``ssl`` (the floor: Session is urllib3 plus our TLS).
Goal (issue 11): Session >= 0.8x the baseline.

    python3 bench/bench_http.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _dropin() -> Any:
    """bench_dropin.py, for its server process and PKI (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_dropin", HERE / "bench_dropin.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(dropin: Any, files: dict[str, Path], port: int, per_round: int, rounds: int) -> None:
    import requests

    import tlsengine
    from tlsengine.http import Session, TLSEngineAdapter

    url = f"https://127.0.0.1:{port}/"
    ours = Session(dropin.engine_context(files), trust_env=False)
    adapter = requests.Session()
    adapter.mount("https://", TLSEngineAdapter(dropin.engine_context(files)))
    theirs = requests.Session()
    theirs.verify = str(files["ca"])
    theirs.cert = (str(files["client"]), str(files["client_key"]))
    for session in (adapter, theirs):
        session.trust_env = False
    # urllib3 on ssl, no requests on top: what Session's own overhead is measured against
    import urllib3

    pool = urllib3.PoolManager(ssl_context=dropin.stdlib_context(files))

    def rate(call: Callable[[], bool]) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            for _ in range(per_round):
                if not call():
                    raise RuntimeError("unexpected answer")
            return per_round / (time.perf_counter() - start)

        return run

    fns = {
        "http.Session": rate(lambda: ours.get(url).status == 200),
        "invoke_service(GET)": rate(
            lambda: tlsengine.invoke_service(url, method="GET", session=ours)["errcode"] == 1013
        ),
        "requests+TLSEngineAdapter": rate(lambda: adapter.get(url).status_code == 200),
        "requests+ssl": rate(lambda: theirs.get(url).status_code == 200),
        "urllib3+ssl": rate(lambda: pool.request("GET", url).status == 200),
    }
    print(f"keep-alive: {per_round} GETs per round, {rounds} rounds, one connection each")
    try:
        results = dropin.interleaved(fns, rounds)
    finally:
        ours.close()
        adapter.close()
        theirs.close()
        pool.clear()
    base = results["requests+ssl"]
    for name, value in results.items():
        print(f"  {name:<26} {value:7.0f} requests/s   {value / base:5.2f}x requests+ssl")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    per_round, rounds = (100, 3) if args.quick else (300, 5)
    dropin = _dropin()
    print("(measured on a shared box: figures are noisy; ratios are from the same run)")
    with tempfile.TemporaryDirectory(prefix="tlsengine-bench-http-") as tmp:
        files = dropin.make_pki(Path(tmp))
        server = dropin.Server(files)
        try:
            rows(dropin, files, server.port, per_round, rounds)
        finally:
            with contextlib.suppress(Exception):
                server.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    raise SystemExit(main())
