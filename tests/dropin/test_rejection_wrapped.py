"""What each HTTP library raises when a TLS 1.3 server refuses our certificate.

Met as a new user: the README said the refusal "raises ClientCertificateRejected through
aiohttp, asyncio streams and httpx", but against `openssl s_server -Verify 1` (TLS 1.3: the
refusal is an alert on the first read) aiohttp raised `ClientOSError` and sync httpx
`ReadError`, so `except ClientCertificateRejected` caught nothing. These tests pin what the
README now says: which library wraps, and that ours is in the cause chain.
"""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import pytest
import requests
from conftest import require_tool
from peers import Peers, peers, server_pki  # noqa: F401 - fixtures registered by import

import tlsengine
from tlsengine.errors import ClientCertificateRejected
from tlsengine.http import AsyncHTTPTransport, HTTPTransport, TLSEngineAdapter
from tlsengine.testing import CA


def causes(exc: BaseException | None) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and len(out) < 20:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


@pytest.fixture
def refusing(peers: Peers, other_root_ca: CA) -> tuple[str, tlsengine.SSLContext]:  # noqa: F811
    """TLS 1.3 s_server that requires a certificate from a CA none of ours is under."""
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(other_root_ca), verify="require")
    ctx = tlsengine.SSLContext(identities=[CA.root("Unrelated CA").identity("me", "p256")])
    ctx.load_verify_locations(str(peers.pki.ca_file))
    return f"https://localhost:{srv.port}/", ctx


def test_sync_httpx_wraps_it_in_read_error(refusing: tuple[str, tlsengine.SSLContext]) -> None:
    url, ctx = refusing
    with httpx.Client(transport=HTTPTransport(ctx)) as client:
        with pytest.raises(httpx.ReadError) as info:
            client.get(url, timeout=10)
    assert any(isinstance(e, ClientCertificateRejected) for e in causes(info.value))


def test_async_httpx_lets_it_through(refusing: tuple[str, tlsengine.SSLContext]) -> None:
    url, ctx = refusing

    async def main() -> None:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport(ctx)) as client:
            await client.get(url, timeout=10)

    with pytest.raises(ClientCertificateRejected):
        asyncio.run(main())


def test_aiohttp_wraps_it_in_client_os_error(refusing: tuple[str, tlsengine.SSLContext]) -> None:
    url, ctx = refusing

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(url, ssl=ctx) as response:
                await response.read()

    with pytest.raises(aiohttp.ClientOSError) as info:
        asyncio.run(main())
    assert any(isinstance(e, ClientCertificateRejected) for e in causes(info.value))


def test_requests_wraps_it_in_ssl_error(refusing: tuple[str, tlsengine.SSLContext]) -> None:
    url, ctx = refusing
    with requests.Session() as session:
        session.mount("https://", TLSEngineAdapter(ctx))
        with pytest.raises(requests.exceptions.SSLError) as info:
            session.get(url, timeout=10)
    assert "certificate_required" in str(info.value)
