"""The http layer: adapters for the HTTP clients people already use (requests, httpx).

Names load lazily, so ``import tlsengine.http`` needs neither requests nor httpx; asking
for an adapter whose library is missing raises ImportError naming the extra to install.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> (module, pip extra that provides its client library)
_ADAPTERS = {
    "TLSEngineAdapter": (".adapters", "requests"),
    "HTTPTransport": (".transports", "httpx"),
    "AsyncHTTPTransport": (".transports", "httpx"),
}


def __getattr__(name: str) -> Any:
    entry = _ADAPTERS.get(name)
    if entry is None:
        raise AttributeError(f"module 'tlsengine.http' has no attribute {name!r}")
    module, extra = entry
    try:
        value = getattr(importlib.import_module(module, __name__), name)
    except ImportError as exc:
        raise ImportError(
            f"tlsengine.http.{name} needs the {extra} package: pip install 'tlsengine[{extra}]'"
        ) from exc
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_ADAPTERS))


__all__ = [*_ADAPTERS]
