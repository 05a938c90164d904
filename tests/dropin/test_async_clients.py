"""asyncio-based clients handed a `tlsengine.SSLContext`: they drive our `TLSObject`
through ``wrap_bio`` (asyncio's sslproto, anyio), never an OpenSSL handshake."""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
import httpx
import pytest

from tlsengine import ClientCertificateRejected
from tlsengine.http import AsyncHTTPTransport
from tlsengine.socket.tlsobject import TLSObject

from .conftest import REQUESTS, CountingContext, Target, find_in_chain
from .servers import Echo

pytestmark = pytest.mark.interop

GET = "GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return await reader.readexactly(length)


def test_asyncio_open_connection(ctx: CountingContext, targets: list[Target]) -> None:
    async def main() -> None:
        for target in targets:
            reader, writer = await asyncio.open_connection(
                target.host, target.port, ssl=ctx, server_hostname="localhost"
            )
            sslobj = writer.get_extra_info("ssl_object")
            assert isinstance(sslobj, TLSObject)
            assert sslobj.client_identity.subject == target.subject
            assert writer.get_extra_info("peercert")["subject"] == ((("commonName", "localhost"),),)
            for _ in range(REQUESTS):
                writer.write(GET.format(host=target.host).encode())
                await writer.drain()
                assert Echo.parse(await _read_response(reader)).subject == target.subject
            writer.close()
            await writer.wait_closed()

    asyncio.run(main())
    assert ctx.wraps == len(targets)
    assert targets[0].server_handshakes() == 1


def test_aiohttp(ctx: CountingContext, targets: list[Target]) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            for target in targets:
                for _ in range(REQUESTS):
                    async with session.get(target.url, ssl=ctx) as response:
                        assert response.status == 200
                        assert Echo.parse(await response.text()).subject == target.subject

    asyncio.run(main())
    assert ctx.wraps == len(targets)
    assert targets[0].server_handshakes() == 1


@pytest.mark.parametrize("how", ["transport", "verify"])
def test_httpx_async(ctx: CountingContext, targets: list[Target], how: str) -> None:
    async def main() -> None:
        kw = {"transport": AsyncHTTPTransport(ctx)} if how == "transport" else {"verify": ctx}
        async with httpx.AsyncClient(**kw) as client:  # type: ignore[arg-type]
            for target in targets:
                for _ in range(REQUESTS):
                    response = await client.get(target.url)
                    assert response.status_code == 200
                    assert Echo.parse(response.text).subject == target.subject

    asyncio.run(main())
    assert ctx.wraps == len(targets)
    assert targets[0].server_handshakes() == 1


def test_rejection_through_asyncio(ctx: CountingContext, rejecting_server) -> None:
    async def main() -> None:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", rejecting_server.port, ssl=ctx, server_hostname="localhost"
        )
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.read(100)

    with pytest.raises(ssl.SSLError) as info:
        asyncio.run(main())
    ours = find_in_chain(info.value, ClientCertificateRejected)
    assert ours is not None, repr(info.value)


def test_rejection_through_aiohttp(ctx: CountingContext, rejecting_server) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://127.0.0.1:{rejecting_server.port}/", ssl=ctx) as r:
                await r.read()

    with pytest.raises(Exception) as info:
        asyncio.run(main())
    assert find_in_chain(info.value, ClientCertificateRejected) is not None, repr(info.value)


def test_anyio_tls_stream(ctx: CountingContext, targets: list[Target]) -> None:
    """anyio's TLSStream drives TLSObject through wrap_bio, attributes included."""
    import anyio
    from anyio.streams.tls import TLSAttribute

    async def main() -> None:
        for target in targets:
            # not standard_compatible: the stdlib server never answers close_notify
            stream = await anyio.connect_tcp(
                target.host,
                target.port,
                ssl_context=ctx,
                tls_hostname="localhost",
                tls=True,
                tls_standard_compatible=False,
            )
            async with stream:
                assert stream.extra(TLSAttribute.tls_version) == "TLSv1.3"
                assert isinstance(stream.extra(TLSAttribute.ssl_object), TLSObject)
                await stream.send(GET.format(host=target.host).encode())
                data = b""
                while b"subject=" not in data or not data.endswith(b"\n"):
                    data += await stream.receive()
                assert target.subject in data.decode()

    anyio.run(main)


def test_rejection_through_httpx_async(ctx: CountingContext, rejecting_server) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=AsyncHTTPTransport(ctx)) as client:
            await client.get(f"https://127.0.0.1:{rejecting_server.port}/")

    with pytest.raises(ClientCertificateRejected):  # httpx lets ssl.SSLError through as is
        asyncio.run(main())


def test_rejection_through_websockets_as_with_ssl(
    ctx: CountingContext, rejecting_server, server_pki, identity_a, tmp_path
) -> None:
    """websockets reports a TLS 1.3 refusal (an alert after the handshake) as a bad HTTP
    answer and drops the TLS error, with stdlib ssl as with us: we match its outcome."""
    import websockets
    from peers import write_identity

    chain, key = write_identity(identity_a, tmp_path)
    stdlib = ssl.create_default_context(cafile=str(server_pki.ca_file))
    stdlib.load_cert_chain(chain, key)

    def outcome(context: ssl.SSLContext) -> type[BaseException]:
        async def main() -> None:
            uri = f"wss://127.0.0.1:{rejecting_server.port}/"
            async with websockets.connect(uri, ssl=context, server_hostname="localhost"):
                pass

        with pytest.raises(Exception) as info:
            asyncio.run(main())
        return type(info.value)

    assert outcome(ctx) is outcome(stdlib)
