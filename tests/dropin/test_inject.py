"""`inject_into_ssl()`: unchanged code (plain ``requests.get``, ``urllib``) gets tlsengine and
the default identity store; `extract_from_ssl()` puts the stdlib back."""

from __future__ import annotations

import socket
import ssl
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import urllib3.util
import urllib3.util.ssl_

import tlsengine

from .conftest import PASSWORD, Target
from .servers import Echo

pytestmark = pytest.mark.interop

STDLIB_SSLCONTEXT = ssl.SSLContext


@pytest.fixture
def default_store_loaded(pkcs12_bytes: bytes) -> Iterator[None]:
    tlsengine.load_client_certificate(pkcs12_bytes, PASSWORD)
    try:
        yield
    finally:
        tlsengine.clear_client_certificates()


@pytest.fixture
def injected() -> Iterator[None]:
    tlsengine.inject_into_ssl()
    try:
        yield
    finally:
        tlsengine.extract_from_ssl()


def test_inject_patches_and_extract_restores() -> None:
    tlsengine.inject_into_ssl()
    try:
        tlsengine.inject_into_ssl()  # twice is harmless
        assert ssl.SSLContext is tlsengine.SSLContext
        assert urllib3.util.ssl_.SSLContext is tlsengine.SSLContext
        assert urllib3.util.SSLContext is tlsengine.SSLContext
        assert isinstance(ssl.create_default_context(), tlsengine.SSLContext)
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)  # servers stay OpenSSL
        assert server.protocol == ssl.PROTOCOL_TLS_SERVER
    finally:
        tlsengine.extract_from_ssl()
    assert ssl.SSLContext is STDLIB_SSLCONTEXT
    assert urllib3.util.ssl_.SSLContext is STDLIB_SSLCONTEXT
    assert urllib3.util.SSLContext is STDLIB_SSLCONTEXT
    assert type(ssl.create_default_context()) is STDLIB_SSLCONTEXT


def test_plain_requests_get_after_inject_then_not_after_extract(
    targets: list[Target],
    server_pki: Any,
    default_store_loaded: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server_pki.ca_file))
    tlsengine.inject_into_ssl()
    try:
        for target in targets:
            for _ in range(3):
                response = requests.get(target.url, timeout=10)
                assert response.status_code == 200
                assert Echo.parse(response.text).subject == target.subject
    finally:
        tlsengine.extract_from_ssl()
    python_ssl, nginx = targets
    # the stdlib again: no client certificate, so the servers refuse as they would
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(python_ssl.url, timeout=10).raise_for_status()
    response = requests.get(nginx.url, timeout=10)
    assert response.status_code == 400 and b"No required SSL certificate" in response.content


def test_urllib_default_context_after_inject(
    targets: list[Target], server_pki: Any, default_store_loaded: None, injected: None
) -> None:
    context = ssl.create_default_context(cafile=str(server_pki.ca_file))
    assert isinstance(context, tlsengine.SSLContext)
    for target in targets:
        with urllib.request.urlopen(target.url, context=context, timeout=10) as response:
            assert Echo.parse(response.read()).subject == target.subject


def test_servers_made_while_injected_stay_openssl(
    peers: Any, root_ca: Any, ctx: Any, identity_a: Any, injected: None
) -> None:
    """A PROTOCOL_TLS_SERVER context is ssl's, setters and the message hook included."""
    server = peers.python_ssl(verify_mode=ssl.CERT_REQUIRED, client_cas=peers.cas(root_ca))
    assert type(server.context) is tlsengine.SSLContext
    assert server.context.verify_mode == ssl.CERT_REQUIRED
    with ctx.wrap_socket(
        socket.create_connection(server.address, timeout=10),
        server_hostname="localhost",
    ) as tls:
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert f"subject={identity_a.subject}".encode() in tls.recv(4096)
    record = server.next_record()
    assert record.subject == identity_a.subject
    assert "CERTIFICATE_VERIFY" in record.handshake_messages  # _msg_callback still works
