"""TLS 1.2 renegotiation (RFC 5746): Apache's per-location client authentication and
``openssl s_server``'s ``R`` command, under the context's ``renegotiation`` policy.

Apache asks for nothing in the handshake; ``GET /protected`` makes mod_ssl send a
HelloRequest and require a certificate in the new handshake, while our ``recv()`` waits for
the answer. The client must renegotiate securely, select afresh, and hand back the response
that follows, byte for byte.
"""

from __future__ import annotations

import subprocess
import threading

import pytest
from peers import OpenSSLServer, Peers

import tlsengine
from tlsengine.identity.model import Identity

from .client import TIMEOUT, context, messages, read_all

pytestmark = pytest.mark.interop

PROTECTED = b"GET /protected HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
PUBLIC = b"GET /public HTTP/1.1\r\nHost: localhost\r\n\r\n"


def header(response: bytes, name: str) -> str | None:
    head = response.partition(b"\r\n\r\n")[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def test_apache_location_renegotiates_for_the_client_certificate(
    peers: Peers, identity_a: Identity, identity_stranger: Identity
) -> None:
    srv = peers.apache()
    ctx = context(peers.pki, [identity_stranger, identity_a])
    with ctx.connect(srv.address, server_hostname="localhost", timeout=TIMEOUT) as tls:
        assert tls.version() == "TLSv1.2"
        assert tls.certificate_request is None and tls.client_identity is None
        tls.sendall(PROTECTED)
        response = read_all(tls)  # recv() waits through the renegotiation
    assert response.startswith(b"HTTP/1.1 200"), response[:300]
    assert response.endswith(b"protected page\n")
    assert header(response, "X-Client-Subject") == "CN=client A"
    assert tls.client_identity is identity_a
    assert tls.certificate_request.version == "TLSv1.2"
    hellos = [e for e in tls.transcript if e["type"] == "ClientHello"]
    assert len(hellos) == 2 and hellos[1].get("renegotiation") is True
    assert "HelloRequest" in messages(tls, "in")
    assert 'subject="CN=client A"' in srv.access_log()


def test_apache_public_path_then_protected_path_on_one_connection(
    peers: Peers, identity_a: Identity
) -> None:
    """Data before the renegotiation is delivered, then the answer after it, in order."""
    srv = peers.apache()
    ctx = context(peers.pki, [identity_a])
    with ctx.connect(srv.address, server_hostname="localhost", timeout=TIMEOUT) as tls:
        tls.sendall(PUBLIC)
        first = b""
        while b"public page\n" not in first:
            chunk = tls.recv(65536)
            assert chunk, first
            first += chunk
        assert header(first, "X-Client-Subject") in ("", "(null)", None)
        tls.sendall(PROTECTED)
        second = read_all(tls)
    assert second.startswith(b"HTTP/1.1 200") and second.endswith(b"protected page\n")
    assert header(second, "X-Client-Subject") == "CN=client A"


def test_policy_never_refuses_apache_cleanly(peers: Peers, identity_a: Identity) -> None:
    srv = peers.apache()
    ctx = context(peers.pki, [identity_a], renegotiation="never")
    with ctx.connect(srv.address, server_hostname="localhost", timeout=TIMEOUT) as tls:
        tls.sendall(PROTECTED)
        try:
            response = read_all(tls)
        except tlsengine.TLSError as exc:
            assert "renegotiat" in str(exc), exc
        else:
            assert not response.startswith(b"HTTP/1.1 200"), response[:300]
        assert tls.client_identity is None
    refused = [e for e in tls.transcript if e["type"] == "HelloRequest"]
    assert refused and refused[0].get("refused") == "policy never"
    out_alerts = [e for e in tls.transcript if e["type"] == "Alert" and e["direction"] == "out"]
    assert out_alerts and out_alerts[0]["description"] == "no_renegotiation"
    assert out_alerts[0]["level"] == 1


class ConsoleOpenSSLServer(OpenSSLServer):
    """s_server driven through its console: data both ways, ``R`` to renegotiate."""

    stdin = subprocess.PIPE

    def argv(self, port: int) -> list[str]:
        return [a for a in super().argv(port) if a != "-www"]

    def type(self, line: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def type_after(self, pattern: str, line: bytes) -> threading.Thread:
        """Type ``line`` once the server printed ``pattern`` (while our recv() waits)."""

        def run() -> None:
            try:
                self.wait_for_output(pattern, timeout=TIMEOUT)
            except AssertionError:
                return  # the test's own recv() then fails with the transcript at hand
            self.type(line)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def console_server(peers: Peers) -> ConsoleOpenSSLServer:
    return peers.start(
        ConsoleOpenSSLServer(peers.workdir / "console", peers.pki, tls="1.2", verify="none")
    )


def recv_exactly(tls: object, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = tls.recv(n - len(data))  # type: ignore[attr-defined]
        assert chunk, data
        data += chunk
    return data


#: s_server's -msg line for the n-th Finished it read (the client's, one per handshake).
def finished_read(n: int) -> str:
    return rf"(?s)(<<< TLS 1.2, Handshake \[length 0010\], Finished.*){{{n}}}"


def test_openssl_r_command_renegotiates_and_gets_our_certificate(
    peers: Peers, identity_a: Identity
) -> None:
    """s_server's console ``R``: renegotiate, asking for a certificate, mid-connection.
    Data sent before and during the renegotiation arrives in order; the recv() waiting
    when the HelloRequest arrives returns the data after it."""
    srv = console_server(peers)
    ctx = context(peers.pki, [identity_a])
    with ctx.connect(srv.address, server_hostname="localhost", timeout=TIMEOUT) as tls:
        srv.type(b"one\n")
        assert recv_exactly(tls, 4) == b"one\n"
        assert tls.client_identity is None and tls.certificate_request is None
        srv.type(b"R\n")
        srv.wait_for_output(r"HelloRequest")
        srv.type(b"two\n")  # sent under the old keys, before the new handshake ends
        srv.type_after(finished_read(2), b"three\n")
        assert recv_exactly(tls, 10) == b"two\nthree\n"
        assert tls.client_identity is identity_a
        assert tls.certificate_request is not None
        tls.sendall(b"after\n")
        srv.wait_for_output(r"after")
    srv.wait_for_output(r"depth=0 CN = client A")
    assert "HelloRequest" in messages(tls, "in")


def test_openssl_second_renegotiation_is_refused_under_policy_once(
    peers: Peers, identity_a: Identity
) -> None:
    srv = console_server(peers)
    ctx = context(peers.pki, [identity_a])  # renegotiation="once", the default
    with ctx.connect(srv.address, server_hostname="localhost", timeout=TIMEOUT) as tls:
        srv.type(b"zero\n")  # the server's side of the handshake is over once this arrives
        assert recv_exactly(tls, 5) == b"zero\n"
        srv.type(b"R\n")
        srv.type_after(finished_read(2), b"line 1\n")
        assert recv_exactly(tls, 7) == b"line 1\n"
        assert tls.client_identity is identity_a
        srv.type(b"R\n")
        # No data typed after it: s_server answers our no_renegotiation warning with a fatal
        # alert once it reads it, but data typed first could reach us before that (a race
        # in the test, not a behaviour of ours).
        with pytest.raises(tlsengine.TLSError, match="refused its TLS 1.2 renegotiation"):
            recv_exactly(tls, 7)
    requests = [e for e in tls.transcript if e["type"] == "HelloRequest"]
    assert requests[0].get("renegotiation") == 1
    assert requests[1].get("refused") == "policy once, already renegotiated"


def test_asyncio_streams_keep_working_while_the_core_renegotiates(
    peers: Peers, identity_a: Identity
) -> None:
    import asyncio

    from tlsengine.socket.aio import open_connection

    srv = peers.apache()
    ctx = context(peers.pki, [identity_a])

    async def run() -> bytes:
        reader, writer = await open_connection(
            *srv.address, context=ctx, server_hostname="localhost", timeout=TIMEOUT
        )
        writer.write(PROTECTED)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
        return data

    response = asyncio.run(run())
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"protected page\n")
    assert header(response, "X-Client-Subject") == "CN=client A"
