"""A command imports only what it runs (issue 7, item 10); timings live in bench_startup."""

from __future__ import annotations

import json
import subprocess
import sys

# What each run must NOT import: the heavy parts a command does not use.
NEVER_FOR_VERSION = ("cryptography", "tlslite", "h11", "tlsengine.socket", "tlsengine.identity")
NEVER_FOR_GET = (
    "asyncio",  # only the asyncio streams need it
    "xmlrpc",  # tlslite-ng's integrations, loaded by its package __init__
    "tlslite.api",
    "tlslite.integration",
    "tlsengine.cli.demo",
    "tlsengine.cli.probe",
    "tlsengine.cli.inspect",
    "tlsengine.testing",
)

_PROGRAM = """
import json, sys
from tlsengine.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def modules_after(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return set(json.loads(done.stderr.splitlines()[-1]))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def test_version_imports_nothing_heavy() -> None:
    assert loaded(modules_after("--version"), NEVER_FOR_VERSION) == []


def test_help_imports_no_subcommand() -> None:
    modules = modules_after("--help")
    assert loaded(modules, ("tlsengine.cli.get", "tlsengine.cli.demo", "cryptography")) == []


def test_get_imports_only_what_a_fetch_needs() -> None:
    modules = modules_after("get", "https://127.0.0.1:9/")  # refused: after every import
    assert "tlsengine.socket.context" in modules and "urllib3" in modules  # the HTTP layer
    assert loaded(modules, NEVER_FOR_GET) == []


def test_tlslite_api_still_loads_on_demand() -> None:
    """The CLI's light tlslite package still answers `from tlslite import ...`."""
    program = (
        "from tlsengine.cli.startup import light_tlslite\n"
        "light_tlslite()\n"
        "import sys, tlslite.constants\n"
        "assert 'tlslite.api' not in sys.modules\n"
        "from tlslite import TLSConnection, __version__\n"
        "print(TLSConnection.__name__, __version__)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("TLSConnection 0.")
