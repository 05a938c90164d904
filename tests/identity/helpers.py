"""Comparisons shared by the identity tests."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from tlsengine.identity.model import Identity


def private_der(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def assert_identity(identity: Identity, cert, key, chain) -> None:
    """Key, leaf and chain (leaf first, then issuers nearest first) all match."""
    assert identity.certificate == cert
    assert private_der(identity.private_key) == private_der(key)
    assert identity.chain == (cert, *chain)
