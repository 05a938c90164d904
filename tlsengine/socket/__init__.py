"""The socket layer: `ClientContext`, the blocking `TLSSocket`, asyncio streams, and the
``ssl`` drop-in (`SSLContext`, `TLSObject`), all on the same sans-IO core."""

from .aio import TLSStreamWriter, open_connection
from .context import ClientContext
from .inject import extract_from_ssl, inject_into_ssl
from .sslcontext import SSLContext
from .tlsobject import TLSObject
from .tlssocket import TLSSocket, certificate_dict

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
