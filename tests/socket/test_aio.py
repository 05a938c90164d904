"""asyncio streams over the sans-IO core, against the stdlib ssl server."""

from __future__ import annotations

import asyncio
import ssl
import time

import pytest
from echo_peer import Peer, mute, quitter, server_context, tls_echo, tls_lines

from tlsengine.cli.pki import CA, cert_pem, key_pem
from tlsengine.errors import ClientCertificateRejected, HandshakeError, TLSTimeout
from tlsengine.socket import ClientContext
from tlsengine.socket.aio import open_connection


@pytest.fixture(scope="module")
def files(root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("aio-pki")
    cert, key = root_ca.issue("localhost", client=False, server=True, dns=["localhost"])
    out = {"cert": tmp / "s.pem", "key": tmp / "s.key", "ca": tmp / "ca.pem"}
    out["cert"].write_bytes(cert_pem(cert))
    out["key"].write_bytes(key_pem(key))
    out["ca"].write_bytes(cert_pem(root_ca.certificate))
    out["identity"] = root_ca.identity("aio client", "p256")
    return out


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_streams_echo_with_client_certificate(files) -> None:
    srv = server_context(
        files["cert"], files["key"], verify_mode=ssl.CERT_REQUIRED, client_ca=files["ca"]
    )
    ctx = ClientContext(identities=[files["identity"]], cafile=files["ca"])

    async def main() -> bytes:
        reader, writer = await open_connection(
            *peer.address, context=ctx, server_hostname="localhost"
        )
        assert writer.get_extra_info("tls_version") == "TLSv1.3"
        assert writer.get_extra_info("client_identity") is files["identity"]
        writer.write(b"hello\n" + b"y" * 300_000 + b"\n")
        await writer.drain()
        line = await reader.readline()
        rest = await reader.readexactly(300_001)
        writer.close()
        await writer.wait_closed()
        return line + rest

    with Peer(tls_echo(srv)) as peer:
        assert run(main()) == b"hello\n" + b"y" * 300_000 + b"\n"
        seen = peer.last()
        assert seen.subject == files["identity"].subject
        assert seen.eof_clean is True


def test_rejection_surfaces_on_read(files) -> None:
    srv = server_context(
        files["cert"], files["key"], verify_mode=ssl.CERT_REQUIRED, client_ca=files["ca"]
    )
    ctx = ClientContext(identities=[], cafile=files["ca"])

    async def main() -> None:
        reader, writer = await open_connection(
            *peer.address, context=ctx, server_hostname="localhost"
        )
        writer.write(b"hi\n")
        try:
            with pytest.raises(ClientCertificateRejected):
                await reader.read(10)
        finally:
            writer.close()

    with Peer(tls_echo(srv)) as peer:
        run(main())


def test_read_until_eof(files) -> None:
    srv = server_context(files["cert"], files["key"])
    ctx = ClientContext(identities=[], cafile=files["ca"])

    async def main() -> bytes:
        reader, writer = await open_connection(
            *peer.address, context=ctx, server_hostname="localhost"
        )
        first = await reader.readline()
        writer.write(b"bye\n")
        rest = await reader.read()
        writer.close()
        return first + rest

    with Peer(tls_lines(srv, [b"one\n", b"two\n"])) as peer:
        assert run(main()) == b"one\ntwo\n"


def test_timeout_and_mid_handshake_close(files) -> None:
    ctx = ClientContext(identities=[], cafile=files["ca"])
    with Peer(mute) as peer:
        start = time.monotonic()
        with pytest.raises(TLSTimeout):
            run(
                open_connection(
                    *peer.address, context=ctx, server_hostname="localhost", timeout=0.3
                )
            )
        assert time.monotonic() - start < 1.5
    with Peer(quitter) as peer:
        with pytest.raises(HandshakeError):
            run(open_connection(*peer.address, context=ctx, server_hostname="localhost", timeout=5))
