"""Session-wide PKI for the identity tests, written once to a temporary directory.

Keys are generated once per session (EC where the test does not care) and PEM files are
laid out so `openssl pkcs12 -export` and `keytool` can turn them into real keystores.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509

from tlsengine.identity.model import PrivateKey
from tlsengine.testing import CA, cert_pem, key_pem

PASSWORD = "correct horse"


@dataclass
class Leaf:
    """One identity's material on disk: leaf, key and the chain above it (leaf excluded)."""

    name: str
    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...]
    cert_file: Path
    key_file: Path
    chain_file: Path


@dataclass
class PKI:
    directory: Path
    root: CA
    intermediate: CA
    leaves: dict[str, Leaf] = field(default_factory=dict)
    _made: dict[tuple, Path] = field(default_factory=dict)

    def openssl_p12(self, leaf: str, *args: str, password: str | None = PASSWORD) -> Path:
        """`openssl pkcs12 -export` of one leaf with extra flags; cached per flag set."""
        from conftest import require_tool

        openssl = require_tool("openssl")
        key = (leaf, args, password)
        if key in self._made:
            return self._made[key]
        item = self.leaves[leaf]
        out = self.directory / f"{leaf}-{len(self._made)}.p12"
        cmd = [openssl, "pkcs12", "-export", "-in", str(item.cert_file), "-inkey",
               str(item.key_file), "-name", f"{leaf} alias", "-out", str(out), *args]  # fmt: skip
        if item.chain:
            cmd += ["-certfile", str(item.chain_file)]
        cmd += ["-passout", f"pass:{password}" if password is not None else "pass:"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        self._made[key] = out
        return out


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    directory = tmp_path_factory.mktemp("identity-pki")
    root = CA.root("Identity Test Root")
    inter = root.intermediate("Identity Test Intermediate")
    result = PKI(directory, root, inter)
    specs = {
        "ec": (root, "p256"),
        "ec-inter": (inter, "p256"),
        "rsa": (root, "rsa2048"),
        "p384": (inter, "p384"),
        "ed25519": (root, "ed25519"),
        "ed448": (inter, "ed448"),
    }
    for name, (issuer, spec) in specs.items():
        cert, key = issuer.issue(f"{name} client", spec)
        chain = (issuer.certificate, *issuer.parents)
        cert_file = directory / f"{name}.crt"
        key_file = directory / f"{name}.key"
        chain_file = directory / f"{name}-chain.pem"
        cert_file.write_bytes(cert_pem(cert))
        key_file.write_bytes(key_pem(key))
        chain_file.write_bytes(cert_pem(*chain))
        result.leaves[name] = Leaf(name, cert, key, chain, cert_file, key_file, chain_file)
    return result
