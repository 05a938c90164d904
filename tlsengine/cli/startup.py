"""Keep a CLI run from paying for imports it does not use.

tlslite-ng's package ``__init__`` imports its whole API, integrations included (asyncio,
http.client, xmlrpc, asyncore): about 30 ms of a ~150 ms ``tlsengine get`` on a quiet
machine, though the protocol layer reads only its message, extension and constant modules.
`light_tlslite` registers the package without running that ``__init__``; a name asked of
the package itself (``from tlslite import TLSConnection``) still works, by importing
``tlslite.api`` then. It is done for the command line's own process only: the library never
changes how a user's program imports tlslite-ng.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


class _LazyPackage(types.ModuleType):
    """``tlslite`` with its submodules importable and its API loaded on first use."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name != "__version__":  # import-system probes
            raise AttributeError(name)
        api = importlib.import_module("tlslite.api")
        return getattr(api, name)


def light_tlslite() -> None:
    """Register ``tlslite`` without running its package ``__init__`` (a no-op once loaded)."""
    if "tlslite" in sys.modules:
        return
    spec = importlib.util.find_spec("tlslite")
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed as a package: let the normal import report it
    package = _LazyPackage("tlslite")
    package.__spec__ = spec
    package.__loader__ = spec.loader
    package.__file__ = spec.origin
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = "tlslite"
    sys.modules["tlslite"] = package
