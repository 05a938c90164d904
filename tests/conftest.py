"""Shared fixtures: a session-wide throwaway PKI and the rule for tests that need a tool.

Tests that need a Debian package (openssl, keytool, gnutls-serv, nginx) call
``require_tool``: locally they skip with a message saying what to install; under
``CI=true`` a missing tool is a failure, because .ci/run is supposed to have installed it.
"""

from __future__ import annotations

import os
import shutil

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tlsengine.identity.model import Identity
from tlsengine.testing import CA

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Debian package that provides each tool, for the skip message.
TOOL_PACKAGES = {
    "openssl": "openssl",
    "keytool": "default-jdk-headless",
    "javac": "default-jdk-headless",
    "gnutls-serv": "gnutls-bin",
    "certtool": "gnutls-bin",
    "nginx": "nginx-light",
    "apache2": "apache2",
    "selfserv": "libnss3-tools",
    "certutil": "libnss3-tools",
    "pk12util": "libnss3-tools",
}


def require_tool(name: str) -> str:
    """Path of a command-line tool, or skip (fail under CI) when it is missing."""
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if path:
        return path
    package = TOOL_PACKAGES.get(name, name)
    message = f"{name} not found: apt-get install -y {package}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}; .ci/run should have installed it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def root_ca() -> CA:
    return CA.root("tlsengine Test Root A")


@pytest.fixture(scope="session")
def other_root_ca() -> CA:
    return CA.root("tlsengine Test Root B", key="rsa2048")


@pytest.fixture(scope="session")
def server_material(root_ca: CA) -> tuple[list[bytes], object]:
    """A localhost server chain (DER, leaf first) and its P-256 key, for in-process servers."""
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    return [cert.public_bytes(Encoding.DER), root_ca.certificate.public_bytes(Encoding.DER)], key


@pytest.fixture(scope="session")
def client_identity(root_ca: CA) -> Identity:
    """One P-256 client identity under ``root_ca``."""
    return root_ca.identity("test client", "p256")
