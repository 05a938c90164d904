"""A recorded flight from a live tlslite-ng server asking for a certificate by CA name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tlsengine.identity.model import Identity
from tlsengine.protocol import ClientConfig
from tlsengine.testing import CA, TestServer
from tlsengine.testing.replay import Recording, Recording12, record, record12


@pytest.fixture(scope="session")
def server_key_and_cert(root_ca: CA) -> tuple[Any, Any]:
    cert, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    return cert, key


@pytest.fixture(scope="session")
def recording(
    server_key_and_cert: tuple[Any, Any], root_ca: CA, client_identity: Identity
) -> Iterator[Recording]:
    cert, key = server_key_and_cert
    with TestServer(
        [cert], key, request_client_cert=True, ca_names=[root_ca.certificate], app="echo"
    ) as srv:
        config = ClientConfig(server_name="localhost", identities=[client_identity], trace=True)
        yield record(srv.address, config, seed=b"replay tests")


@pytest.fixture(scope="session")
def recording12(
    server_key_and_cert: tuple[Any, Any], root_ca: CA, client_identity: Identity
) -> Iterator[Recording12]:
    """A live tlslite-ng TLS 1.2 server's flight (ECDHE-ECDSA AES-128-GCM, EMS, x25519)
    asking for a certificate by CA name."""
    cert, key = server_key_and_cert
    with TestServer(
        [cert],
        key,
        request_client_cert=True,
        ca_names=[root_ca.certificate],
        versions=("TLSv1.2",),
        groups=["x25519"],
        cipher_suites=["TLS_AES_128_GCM_SHA256"],  # tlslite-ng: AES-128-GCM in 1.2 too
        app="echo",
    ) as srv:
        config = ClientConfig(server_name="localhost", identities=[client_identity])
        yield record12(srv.address, config, seed=b"replay tests 1.2")
