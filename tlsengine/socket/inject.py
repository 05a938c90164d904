"""`inject_into_ssl` / `extract_from_ssl`: `tlsengine.SSLContext` for a whole process.

As truststore does for trust stores: the ``SSLContext`` name in ``ssl`` (and the copies
libraries imported from it) becomes ours, reversibly, so code that builds its own
contexts gets tlsengine's handshake and identity selection without being changed.
"""

from __future__ import annotations

import sys
from typing import Any

from .sslcontext import _STDLIB_SSLCONTEXT, SSLContext

__all__ = ["inject_into_ssl", "extract_from_ssl"]


#: (module name, attribute) pairs that hold the ``SSLContext`` class a library builds its
#: default contexts from; patched by `inject_into_ssl` when the module is loaded.
_PATCH_SITES = (
    ("ssl", "SSLContext"),
    ("urllib3.util.ssl_", "SSLContext"),
    ("urllib3.util", "SSLContext"),
    ("pip._vendor.urllib3.util.ssl_", "SSLContext"),
    ("pip._vendor.urllib3.util", "SSLContext"),
)
_saved: dict[tuple[str, str], Any] = {}


def inject_into_ssl() -> None:
    """Make ``ssl.SSLContext`` tlsengine's for the whole process (undo: `extract_from_ssl`).

    Code that builds its own context (``requests.get``, ``urllib.request.urlopen``,
    ``ssl.create_default_context()``, urllib3) then runs tlsengine's handshake with the
    default identity store. Call it early: a library that made its contexts at import
    time keeps those (and one imported while injected keeps ours after
    `extract_from_ssl`). Server contexts (``PROTOCOL_TLS_SERVER``) still use OpenSSL.
    """
    for module_name, attr in _PATCH_SITES:
        module = sys.modules.get(module_name)
        if module is None or not hasattr(module, attr):
            continue
        current = getattr(module, attr)
        if current is SSLContext:
            continue
        _saved.setdefault((module_name, attr), current)
        setattr(module, attr, SSLContext)


def extract_from_ssl() -> None:
    """Undo `inject_into_ssl`: every name that holds our class gets the original back
    (also in modules imported after the injection, which copied ours from ``ssl``)."""
    for module_name, attr in _PATCH_SITES:
        module = sys.modules.get(module_name)
        original = _saved.pop((module_name, attr), _STDLIB_SSLCONTEXT)
        if module is not None and getattr(module, attr, None) is SSLContext:
            setattr(module, attr, original)
