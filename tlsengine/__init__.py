"""tlsengine: a pure-Python TLS client engine built around client-certificate authentication.

Public names are resolved lazily so that ``import tlsengine`` stays cheap (the CLI and
short scripts pay only for the layers they use). Type checkers read the same names from
the ``TYPE_CHECKING`` block instead, so every one keeps its real type.

To add a public name, add one line in each of two places below: ``_LAZY`` (the name and
the module that defines it, for the runtime) and the ``TYPE_CHECKING`` block (the same
import, for type checkers). ``tests/test_typing.py`` fails when the two disagree.
"""

from importlib import import_module as _import_module
from typing import TYPE_CHECKING

from .errors import (
    AlertReceived,
    CertificateVerificationError,
    ClientCertificateRejected,
    DecodeError,
    HandshakeError,
    IdentityError,
    IdentityMismatchError,
    PKCS12FormatError,
    PKCS12PasswordError,
    TLSEngineError,
    TLSError,
    TLSTimeout,
    UnsupportedKeyError,
)

__version__ = "0.1.0"

# Place 1 of 2: public name -> module that defines it (imported on first use).
_LAZY = {
    "Identity": ".identity.model",
    "load_pkcs12": ".identity.pkcs12",
    "PKCS12Budget": ".identity.pkcs12",
    "IdentityStore": ".identity.store",
    "default_store": ".identity.store",
    "load_client_certificate": ".identity.store",
    "clear_client_certificates": ".identity.store",
    "CertificateRequestInfo": ".selection.request",
    "Selection": ".selection.select",
    "select_identity": ".selection.select",
    "ClientContext": ".socket.context",
    "TLSSocket": ".socket.tlssocket",
    "SSLContext": ".socket.sslcontext",
    "inject_into_ssl": ".socket.inject",
    "extract_from_ssl": ".socket.inject",
    "load_client_certificate_from_url": ".http.identity_url",
    "invoke_service": ".invoker.service",
    "invoke_service_async": ".invoker.service",
}

if TYPE_CHECKING:
    # Place 2 of 2: the same names for type checkers ("X as X" marks a re-export).
    from .http.identity_url import (
        load_client_certificate_from_url as load_client_certificate_from_url,
    )
    from .identity.model import Identity as Identity
    from .identity.pkcs12 import PKCS12Budget as PKCS12Budget
    from .identity.pkcs12 import load_pkcs12 as load_pkcs12
    from .identity.store import IdentityStore as IdentityStore
    from .identity.store import clear_client_certificates as clear_client_certificates
    from .identity.store import default_store as default_store
    from .identity.store import load_client_certificate as load_client_certificate
    from .invoker.service import invoke_service as invoke_service
    from .invoker.service import invoke_service_async as invoke_service_async
    from .selection.request import CertificateRequestInfo as CertificateRequestInfo
    from .selection.select import Selection as Selection
    from .selection.select import select_identity as select_identity
    from .socket.context import ClientContext as ClientContext
    from .socket.inject import extract_from_ssl as extract_from_ssl
    from .socket.inject import inject_into_ssl as inject_into_ssl
    from .socket.sslcontext import SSLContext as SSLContext
    from .socket.tlssocket import TLSSocket as TLSSocket

# Public names reserved in docs/api.md whose layer is not built yet (name -> layer): a
# clear AttributeError instead of an import failure. Empty while every layer ships.
_PLANNED: dict[str, str] = {}

if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt name stays an error there

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            if name in _PLANNED:
                raise AttributeError(
                    f"tlsengine.{name} belongs to {_PLANNED[name]}, which this version does "
                    "not include yet; load identities with tlsengine.load_client_certificate()"
                )
            raise AttributeError(f"module 'tlsengine' has no attribute {name!r}")
        value = getattr(_import_module(module, __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """The public names and the module dunders, not the helpers this file imports."""
    dunders = (name for name in globals() if name.startswith("__") and name.endswith("__"))
    return sorted({*__all__, *dunders})


__all__ = [
    "AlertReceived",
    "CertificateVerificationError",
    "ClientCertificateRejected",
    "DecodeError",
    "HandshakeError",
    "IdentityError",
    "IdentityMismatchError",
    "PKCS12FormatError",
    "PKCS12PasswordError",
    "TLSEngineError",
    "TLSError",
    "TLSTimeout",
    "UnsupportedKeyError",
    *_LAZY,
]
