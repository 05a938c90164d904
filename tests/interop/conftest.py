"""Fixtures of the interop suite: real peers from tests/peers.py and the client identities.

Identities are made once per session (RSA key generation is the slow part) and carry
aliases, so selection verdicts read naturally in assertion messages.
"""

from __future__ import annotations

import pytest
from peers import peers, server_pki  # noqa: F401 - fixtures registered by import

from tlsengine.identity.model import Identity
from tlsengine.testing import CA

KEY_TYPES = ("rsa2048", "p256", "p384", "ed25519")
#: Every TLS 1.3 suite the client offers, each tried against every peer that can pin one.
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")


@pytest.fixture(scope="session")
def identity_a(root_ca: CA) -> Identity:
    """A P-256 client identity under root A (what root-A servers should get)."""
    return root_ca.identity("client A", "p256", alias="client-a")


@pytest.fixture(scope="session")
def identity_b(other_root_ca: CA) -> Identity:
    """A P-256 client identity under root B."""
    return other_root_ca.identity("client B", "p256", alias="client-b")


@pytest.fixture(scope="session")
def stranger_ca() -> CA:
    """A CA no peer trusts, for the wrong-CA cases."""
    return CA.root("tlsengine Stranger Root")


@pytest.fixture(scope="session")
def identity_stranger(stranger_ca: CA) -> Identity:
    return stranger_ca.identity("client Stranger", "p256", alias="client-stranger")


@pytest.fixture(scope="session")
def identities_by_key(root_ca: CA) -> dict[str, Identity]:
    """One client identity per key type, all under root A."""
    return {k: root_ca.identity(f"client {k}", k, alias=f"client-{k}") for k in KEY_TYPES}
