"""The socket layer: `ClientContext` and the blocking `TLSSocket` on the sans-IO core."""

from .context import ClientContext
from .tlssocket import TLSSocket, certificate_dict

__all__ = ["ClientContext", "TLSSocket", "certificate_dict"]
