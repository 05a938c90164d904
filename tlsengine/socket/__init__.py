"""The socket layer: `ClientContext`, the blocking `TLSSocket` and asyncio streams, all on
the same sans-IO core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .context import ClientContext
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


__all__ = ["ClientContext", "TLSSocket", "TLSStreamWriter", "certificate_dict", "open_connection"]
