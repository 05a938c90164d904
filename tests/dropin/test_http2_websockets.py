"""HTTP/2 chosen by ALPN through the httpx transports (nginx with http2), and websockets."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from peers import HOST, NginxServer, Peers, write_cas

from tlsengine.http import AsyncHTTPTransport, HTTPTransport
from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .conftest import REQUESTS, CountingContext
from .servers import subject_of_der

pytestmark = pytest.mark.interop


class Http2Nginx(NginxServer):
    """The shared nginx peer with HTTP/2 on its TLS listener."""

    def prepare(self, port: int) -> None:
        super().prepare(port)
        conf = self.workdir / "nginx.conf"
        listen = f"listen {HOST}:{port} ssl"
        conf.write_text(conf.read_text().replace(f"{listen};", f"{listen} http2;"))


@pytest.fixture
def h2_nginx(peers: Peers, other_root_ca: CA) -> Http2Nginx:
    server = Http2Nginx(peers.workdir / "nginx-h2", peers.pki, client_cas=peers.cas(other_root_ca))
    peers.started.append(server)
    server.start()
    return server


def test_httpx_http2_by_alpn(ctx: CountingContext, h2_nginx: Http2Nginx, identity_b: Identity):
    url = f"https://127.0.0.1:{h2_nginx.port}/"
    with httpx.Client(transport=HTTPTransport(ctx, http2=True)) as client:
        for _ in range(REQUESTS):
            response = client.get(url, timeout=10)
            assert response.http_version == "HTTP/2"
            assert f"subject={identity_b.subject}" in response.text
    assert ctx.wraps == 1


def test_httpx_async_http2_by_alpn(
    ctx: CountingContext, h2_nginx: Http2Nginx, identity_b: Identity
) -> None:
    url = f"https://127.0.0.1:{h2_nginx.port}/"

    async def main() -> None:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport(ctx, http2=True)) as client:
            responses = await asyncio.gather(*(client.get(url) for _ in range(REQUESTS)))
        for response in responses:
            assert response.http_version == "HTTP/2"
            assert f"subject={identity_b.subject}" in response.text

    asyncio.run(main())
    assert ctx.wraps == 1  # twenty concurrent streams on one HTTP/2 connection


def test_websockets(
    ctx: CountingContext, server_pki: Any, root_ca: CA, identity_a: Identity, tmp_path: Path
) -> None:
    """websockets' own server on the stdlib ssl, requiring a certificate under root A."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(server_pki.cert_file, server_pki.key_file)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_verify_locations(cafile=str(write_cas(tmp_path / "a.pem", root_ca)))

    async def echo_subject(ws: Any) -> None:
        der = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        async for message in ws:
            await ws.send(f"{message}:{subject_of_der(der)}")

    async def main() -> None:
        async with websockets.serve(echo_subject, "127.0.0.1", 0, ssl=server_ctx) as server:
            port = server.sockets[0].getsockname()[1]
            uri = f"wss://127.0.0.1:{port}/"
            async with websockets.connect(uri, ssl=ctx, server_hostname="localhost") as ws:
                for i in range(REQUESTS):
                    await ws.send(str(i))
                    assert await ws.recv() == f"{i}:{identity_a.subject}"

    asyncio.run(main())
    assert ctx.wraps == 1
