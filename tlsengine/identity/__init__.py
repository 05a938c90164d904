"""The identity layer: PKCS#12 parsing, `Identity`, `IdentityStore`, the default store."""

from .model import Identity, key_type_of

__all__ = ["Identity", "key_type_of"]
