"""The socket layer: `ClientContext`, the blocking `TLSSocket`, asyncio streams, and the
``ssl`` drop-in (`SSLContext`, `TLSObject`), all on the same sans-IO core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .context import ClientContext
from .inject import extract_from_ssl, inject_into_ssl
from .sslcontext import SSLContext
from .tlsobject import TLSObject
from .tlssocket import TLSSocket, certificate_dict

if TYPE_CHECKING:
    from .aio import TLSStreamWriter, open_connection

# asyncio costs ~15 ms to import: only programs that use the streams pay for it.
_AIO_NAMES = ("TLSStreamWriter", "open_connection")


def __getattr__(name: str) -> Any:
    if name in _AIO_NAMES:
        from . import aio

        return getattr(aio, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ClientContext",
    "SSLContext",
    "TLSObject",
    "TLSSocket",
    "TLSStreamWriter",
    "certificate_dict",
    "extract_from_ssl",
    "inject_into_ssl",
    "open_connection",
]
