"""The http layer: the app-facing API (`request`, `Session`, `HttpRequest`, identities
from a URL) on urllib3, and adapters for the HTTP clients people already use (requests, httpx).

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
    # the app-facing API (issue 11): urllib3 is a core dependency
    "request": (".client", "urllib3"),
    "Session": (".client", "urllib3"),
    "Response": (".client", "urllib3"),
    "TLSInfo": (".client", "urllib3"),
    "default_session": (".client", "urllib3"),
    "HttpRequest": (".xhr", "urllib3"),
    "load_client_certificate_from_url": (".identity_url", "urllib3"),
    "RequestError": (".errors", "urllib3"),
    "InvalidURL": (".errors", "urllib3"),
    "ConnectError": (".errors", "urllib3"),
    "IncompleteBody": (".errors", "urllib3"),
    "TooManyRedirects": (".errors", "urllib3"),
    "HTTPStatusError": (".errors", "urllib3"),
    "InvalidJSON": (".errors", "urllib3"),
    "ResponseTooLarge": (".errors", "urllib3"),
    "InvalidResponse": (".errors", "urllib3"),
    "InvalidStateError": (".errors", "urllib3"),
    "Aborted": (".errors", "urllib3"),
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
