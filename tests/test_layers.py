"""docs/architecture.md's layer table, enforced: a module imports only its own and earlier rows."""

from __future__ import annotations

import ast
import pathlib

import pytest

import tlsengine

PACKAGE = pathlib.Path(tlsengine.__file__).parent
# docs/architecture.md's rows, foundation first; errors.py is shared by all of them.
LAYERS = [
    "identity",
    "selection",
    "protocol",
    "verify",
    "socket",
    "http",
    "invoker",
    "cli",
    "testing",
]


def layer_of(module: str) -> int | None:
    """Row index of a dotted tlsengine module name; None for the shared top-level modules."""
    parts = module.split(".")
    if parts[0] != "tlsengine" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def package_of(path: pathlib.Path) -> str:
    return ".".join(("tlsengine", *path.relative_to(PACKAGE).parent.parts))


def imported_modules(source: str, package: str) -> list[str]:
    """Absolute names of every tlsengine module some source imports (relative ones resolved)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("tlsengine")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.startswith("tlsengine") and node.module:
                found.append(name)
            if name.startswith("tlsengine"):
                found += [f"{name}.{a.name}" for a in node.names if not node.module]
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_its_own_and_earlier_layers(path: pathlib.Path) -> None:
    own = layer_of(".".join(("tlsengine", *path.relative_to(PACKAGE).with_suffix("").parts)))
    assert own is not None
    for module in imported_modules(path.read_text(), package_of(path)):
        row = layer_of(module)
        assert row is None or row <= own, (
            f"{path.relative_to(PACKAGE)} (layer {LAYERS[own]}) imports {module} "
            f"(layer {LAYERS[row]}), a later row of docs/architecture.md's table"
        )


def test_the_checker_resolves_relative_and_lazy_imports() -> None:
    source = "from ..socket.context import ClientContext\ndef f():\n    from . import wire\n"
    found = imported_modules(source, "tlsengine.protocol")
    assert found == ["tlsengine.socket.context", "tlsengine.protocol.wire"]
    assert layer_of(found[0]) > layer_of(found[1])  # what the main test would flag
