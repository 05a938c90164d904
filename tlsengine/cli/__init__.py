"""The `tlsengine` command line: inspect, probe, get, demo.

Each subcommand lives in its own module and registers itself through ``add_parser``; this
module only dispatches, so the CLI holds no logic the library lacks. Only the module of the
subcommand being run is imported (the others get a parser with their help line alone), so
``tlsengine --version`` imports nothing heavy and ``tlsengine get`` only what a fetch needs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Collection, Sequence
from typing import Any

from .. import __version__
from .startup import light_tlslite

# subcommand name -> (module with add_parser(subparsers) and run(args) -> int, help line)
SUBCOMMANDS = {
    "inspect": (".inspect", "list the identities in a PKCS#12 file"),
    "probe": (".probe", "handshake and report what the server asks of a client"),
    "get": (".get", "fetch an HTTPS URL with client-certificate authentication"),
    "demo": (".demo", "run the self-contained loopback demo"),
}

# Options that would carry a secret on the command line. None exists: a password stays out
# of shell history and `ps`, so it comes from the environment (--password-env VAR).
_SECRET_OPTION = re.compile(r"--?(pass(word|wd|phrase|in)?|pw|secret|pin|token)([-_][\w-]*)?")
_KNOWN_OPTIONS = {"--password-env"}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that never takes a prefix for an option (``--password`` is not
    ``--password-env``): every parser and subparser of the CLI is one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)


def build_parser(load: Collection[str] = tuple(SUBCOMMANDS)) -> argparse.ArgumentParser:
    """The whole CLI; ``load`` names the subcommands whose modules are imported for their
    options (by default all; ``main`` loads only the one being run, or none)."""
    parser = Parser(
        prog="tlsengine", description="Pure-Python TLS client engine with client certificates."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    for name, (module_name, help_line) in SUBCOMMANDS.items():
        if name in load:
            importlib.import_module(module_name, __name__).add_parser(sub)
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand the arguments name: the first one that is not an option."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in SUBCOMMANDS else None
    return None


def _refuse_secret_options(argv: Sequence[str]) -> None:
    """Stop before argparse could echo a secret typed on the command line.

    ``--password S3cret`` is not an option; argparse would print the value back in its
    "unrecognized arguments" line (or take it as HOST or URL and print it in a network
    error), where it ends up in logs. The value is never shown.
    """
    for arg in argv:
        if arg == "--":
            return
        name = arg.partition("=")[0]
        if name not in _KNOWN_OPTIONS and _SECRET_OPTION.fullmatch(name):
            print(
                f"tlsengine: error: {name} is not an option, and a password is never taken "
                "on the command line (shell history, ps): put it in an environment variable "
                "and name that with --password-env VAR (its value is not shown here)",
                file=sys.stderr,
            )
            raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    _refuse_secret_options(args_list)
    command = _command_of(args_list)
    if command is not None:
        light_tlslite()
    parser = build_parser(() if command is None else (command,))
    args = parser.parse_args(args_list)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _stdout_closed()


#: 128 + SIGPIPE: what a shell reports for cat or grep when the reader of a pipe left early
STDOUT_CLOSED_STATUS = 141


def _stdout_closed() -> int:
    """The reader of stdout went away (``tlsengine get URL | head``): stop quietly.

    Python ignores SIGPIPE, so the write raises instead of ending the process as it would
    for a C tool; point stdout at /dev/null so the flush at exit does not raise again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return STDOUT_CLOSED_STATUS
