"""Many concurrent mTLS connections on one event loop, through both asyncio paths.

The acceptance figure (1,000 connections, connections/s, memory per idle connection) is
measured in ``bench/bench_dropin.py``; here a few hundred are held at once to show that
every one completes its request with the right identity, without timing anything.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest
from peers import write_cas

from tlsengine import ClientContext
from tlsengine.identity.model import Identity
from tlsengine.socket.aio import open_connection
from tlsengine.testing import CA

from .conftest import CountingContext
from .servers import subject_of_der

pytestmark = [pytest.mark.interop, pytest.mark.slow]

CONNECTIONS = 200


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    body = f"subject={subject_of_der(der)}\n".encode()
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await reader.read()  # hold the connection until the client closes it
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def _request(reader: asyncio.StreamReader, writer: Any) -> bytes:
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    return await reader.readexactly(length)


@pytest.mark.parametrize("path", ["socket.aio", "asyncio ssl=SSLContext"])
def test_hundreds_of_concurrent_connections(
    path: str,
    ctx: CountingContext,
    identities: list[Identity],
    server_pki: Any,
    root_ca: CA,
    tmp_path: Any,
) -> None:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(server_pki.cert_file, server_pki.key_file)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_verify_locations(cafile=str(write_cas(tmp_path / "a.pem", root_ca)))
    engine = ClientContext(identities=identities, cafile=server_pki.ca_file)

    async def main() -> list[bytes]:
        server = await asyncio.start_server(_serve, "127.0.0.1", 0, ssl=server_ctx, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        writers: list[Any] = []

        async def one() -> bytes:
            if path == "socket.aio":
                reader, writer = await open_connection(
                    "127.0.0.1", port, context=engine, server_hostname="localhost"
                )
            else:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, ssl=ctx, server_hostname="localhost"
                )
            writers.append(writer)
            return await _request(reader, writer)

        try:
            bodies = await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
            assert len(writers) == CONNECTIONS  # all held open at once
        finally:
            for writer in writers:
                writer.close()
            server.close()
            await server.wait_closed()
        return bodies

    bodies = asyncio.run(main())
    expected = f"subject={identities[0].subject}\n".encode()
    assert bodies == [expected] * CONNECTIONS
