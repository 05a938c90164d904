"""Session PKI for the audit: one server key and chain, client identities of two key types."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding


@pytest.fixture(scope="session")
def server_material(root_ca):
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    return [cert.public_bytes(Encoding.DER), root_ca.certificate.public_bytes(Encoding.DER)], key


@pytest.fixture(scope="session")
def client_identity(root_ca):
    return root_ca.identity("audit client", "p256")
