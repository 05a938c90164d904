"""A session-wide PKI for selection tests: keys generated once, EC where the test allows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from tlsengine.identity.model import Identity
from tlsengine.testing import CA, generate_key

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


@dataclass
class PKI:
    """Two unrelated roots, an intermediate under the RSA one, and one key per spec."""

    ec_root: CA
    rsa_root: CA
    intermediate: CA
    keys: dict

    def identity(self, alias: str, key: str = "p256", ca: CA | None = None, **kw) -> Identity:
        """A client identity; ``key`` names a pooled key so no key is generated per test."""
        ca = ca or self.ec_root
        cert, k = ca.issue(alias, self.keys[key], **kw)
        return Identity.create(cert, k, (cert, ca.certificate, *ca.parents), alias=alias)

    def expired(self, alias: str, key: str = "p256", ca: CA | None = None, **kw) -> Identity:
        return self.identity(alias, key, ca, not_before=NOW - 30 * DAY, not_after=NOW - DAY, **kw)

    def server_only(self, alias: str, key: str = "p256", ca: CA | None = None) -> Identity:
        return self.identity(alias, key, ca, eku=[ExtendedKeyUsageOID.SERVER_AUTH])


@pytest.fixture(scope="session")
def pki() -> PKI:
    rsa_root = CA.root("Selection Test Root RSA", key="rsa2048")
    specs = ("p256", "p384", "p521", "ed25519", "ed448", "rsa2048", "rsa1024")
    return PKI(
        ec_root=CA.root("Selection Test Root EC", key="p256"),
        rsa_root=rsa_root,
        intermediate=rsa_root.intermediate("Selection Test Issuing CA", key="p384"),
        keys={spec: generate_key(spec) for spec in specs},
    )
