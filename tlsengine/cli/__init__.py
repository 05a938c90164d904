"""The `tlsengine` command line: inspect, probe, get, demo.

Each subcommand lives in its own module and registers itself through ``add_parser``; this
module only dispatches, so the CLI holds no logic the library lacks.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand name -> module (each module has add_parser(subparsers) and run(args) -> int)
SUBCOMMANDS = {
    "inspect": ".inspect",
    "probe": ".probe",
    "get": ".get",
    "demo": ".demo",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tlsengine", description="Pure-Python TLS client engine with client certificates."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMANDS.values():
        importlib.import_module(module_name, __name__).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
