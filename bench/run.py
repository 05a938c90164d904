"""Run every benchmark in bench/ (files named bench_*.py, each with a ``main()``).

Figures are ratios against the stdlib ``ssl`` client, ``cryptography`` and stock tlslite-ng
measured in the same run, so they compare across machines; timed assertions live nowhere.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import time


def main(argv: list[str]) -> int:
    here = pathlib.Path(__file__).resolve().parent
    wanted = set(argv)
    for path in sorted(here.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"== {name} ==", flush=True)
        start = time.perf_counter()
        module.main()
        print(f"   ({time.perf_counter() - start:.1f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
