"""tlsengine: a pure-Python TLS client engine built around client-certificate authentication.

Public names are resolved lazily so that ``import tlsengine`` stays cheap (the CLI and
short scripts pay only for the layers they use).
"""

from __future__ import annotations

import importlib
from typing import Any

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

# public name -> module that defines it
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

# DESIGN.md names whose layer is not built yet: a clear error instead of an import failure.
_PLANNED: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if name in _PLANNED:
            raise AttributeError(
                f"tlsengine.{name} belongs to {_PLANNED[name]}, which this version does not "
                "include yet; load identities with tlsengine.load_client_certificate(bytes)"
            )
        raise AttributeError(f"module 'tlsengine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
