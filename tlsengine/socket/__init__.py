"""The socket layer: `ClientContext`, the blocking `TLSSocket` and asyncio streams, all on
the same sans-IO core."""

from .aio import TLSStreamWriter, open_connection
from .context import ClientContext
from .tlssocket import TLSSocket, certificate_dict

__all__ = ["ClientContext", "TLSSocket", "TLSStreamWriter", "certificate_dict", "open_connection"]
