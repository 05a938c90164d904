"""Tools for users' own harnesses: a throwaway PKI and a programmable TLS test server.

Nothing in the library imports this package; it is the last row of the layer table.
``TestServer`` loads lazily so that importing the PKI helpers does not pull in tlslite-ng's
server side.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..cli.pki import CA, KEY_SPECS, cert_pem, generate_key, key_pem

_LAZY = {
    "TestServer": ".server",
    "ClientRecord": ".server",
    "ThreadedServer": ".server",
    "enable_mlkem": ".server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tlsengine.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = ["CA", "KEY_SPECS", "cert_pem", "generate_key", "key_pem", *_LAZY]
