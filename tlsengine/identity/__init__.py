"""The identity layer: PKCS#12 parsing, `Identity`, `IdentityStore`, the default store."""

from .model import Identity, key_type_of
from .pkcs12 import PKCS12Budget, build_pkcs12, load_pkcs12, parse_pkcs12
from .sources import read_source
from .store import (
    IdentityStore,
    clear_client_certificates,
    default_store,
    load_client_certificate,
)

__all__ = [
    "Identity",
    "IdentityStore",
    "PKCS12Budget",
    "build_pkcs12",
    "clear_client_certificates",
    "default_store",
    "key_type_of",
    "load_client_certificate",
    "load_pkcs12",
    "parse_pkcs12",
    "read_source",
]
