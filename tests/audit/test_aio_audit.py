"""Audit of the asyncio streams: a server must not be able to fill our memory."""

from __future__ import annotations

import asyncio
import time

from inproc_server import Server, SocketPeer

from tlsengine import ClientContext
from tlsengine.socket.aio import open_connection
from tlsengine.testing import cert_pem


def test_unread_stream_applies_back_pressure(server_material, root_ca):
    chain, key = server_material
    block = b"x" * 16384

    def flood(sock, server):
        try:
            for _ in range(256):  # 4 MiB
                sock.sendall(server.app(23, block))
        except OSError:
            pass
        time.sleep(0.5)

    peer = SocketPeer(Server(chain, key), flood)
    context = ClientContext(cadata=cert_pem(root_ca.certificate), identities=[])

    async def main() -> int:
        host, port = peer.address
        reader, writer = await open_connection(
            host, port, context=context, server_hostname="localhost", timeout=5
        )
        await asyncio.sleep(0.8)
        buffered = len(reader._buffer)  # noqa: SLF001 - what the server made us hold
        writer.close()
        return buffered

    try:
        buffered = asyncio.run(main())
    finally:
        peer.close()
    assert buffered < 1 << 20
