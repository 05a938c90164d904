"""Audit of TLSSocket timeouts and host-name input against hostile in-process peers."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from inproc_server import Server, SocketPeer

from tlsengine import ClientContext
from tlsengine.errors import TLSEngineError, TLSTimeout
from tlsengine.testing import cert_pem


def _trickling_peer(records, pause: float):
    """After the handshake, send each record built by ``records(server)`` ``pause`` apart."""

    def script(sock, server):
        time.sleep(pause)
        for record in records(server):
            sock.sendall(record)
            time.sleep(pause)
        sock.sendall(server.app(23, b"late"))
        time.sleep(0.5)

    return script


def test_recv_times_out_when_server_drips_empty_records(server_material, root_ca):
    chain, key = server_material
    script = _trickling_peer(lambda s: [s.app(23, b"") for _ in range(10)], 0.25)
    peer = SocketPeer(Server(chain, key), script)
    context = ClientContext(cadata=cert_pem(root_ca.certificate), identities=[])
    tls = context.connect(peer.address, server_hostname="localhost", timeout=0.75)
    start = time.monotonic()
    try:
        with pytest.raises(TLSTimeout):
            tls.recv(100)
        assert time.monotonic() - start < 1.5
    finally:
        tls.close()
        peer.close()


def _silent_then_trickle(sock: socket.socket) -> None:
    for byte in b"\x16\x03\x03\x40\x00" + b"\x02" * 64:
        sock.sendall(bytes([byte]))
        time.sleep(0.1)


def test_handshake_trickle_ends_in_tls_timeout_within_the_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                _silent_then_trickle(conn)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    context = ClientContext(verify=False, identities=[])
    start = time.monotonic()
    with pytest.raises(TLSTimeout):
        context.connect(listener.getsockname(), timeout=0.6)
    assert time.monotonic() - start < 1.2
    listener.close()


def test_bytes_server_hostname_is_not_an_internal_error():
    a, b = socket.socketpair()
    a.settimeout(0.2)
    context = ClientContext(verify=False, identities=[])
    try:
        with pytest.raises(TLSEngineError) as info:
            context.wrap_socket(a, server_hostname=b"localhost")
        assert "internal error" not in str(info.value)
    finally:
        b.close()


def test_rejected_server_certificate_is_not_reported_as_verified(server_material, other_root_ca):
    from tlsengine.errors import CertificateVerificationError, TLSError

    chain, key = server_material
    peer = SocketPeer(Server(chain, key), lambda sock, server: time.sleep(0.2))
    context = ClientContext(cadata=cert_pem(other_root_ca.certificate), identities=[])
    raw = socket.create_connection(peer.address, timeout=5)
    tls = context.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)
    try:
        with pytest.raises(CertificateVerificationError):
            tls.do_handshake()
        try:
            cert = tls.getpeercert()
        except TLSError:
            cert = None
        assert (cert or None, tls.get_verified_chain()) == (None, [])
    finally:
        tls.close()
        peer.close()


def test_socket_keeps_only_the_newest_session_tickets(server_material, root_ca):
    from inproc_server import vec

    from tlsengine.protocol.tls13 import MAX_TICKETS_PER_CONNECTION
    from tlsengine.protocol.wire import encode_handshake
    from tlsengine.socket.tlssocket import MAX_TICKETS

    chain, key = server_material

    def ticket(n: int) -> bytes:
        body = (60).to_bytes(4, "big") + bytes(4) + vec(b"n", 1)
        return encode_handshake(4, body + vec(n.to_bytes(2, "big") + b"t" * 30, 2) + vec(b"", 2))

    def script(sock, server):
        sock.sendall(b"".join(server.app(22, ticket(n)) for n in range(200)))
        sock.sendall(server.app(23, b"data"))
        time.sleep(0.5)

    peer = SocketPeer(Server(chain, key), script)
    context = ClientContext(cadata=cert_pem(root_ca.certificate), identities=[])
    try:
        with context.connect(peer.address, server_hostname="localhost", timeout=5) as tls:
            assert tls.recv(100) == b"data"
            assert 0 < len(tls.session_tickets) <= MAX_TICKETS
            # the newest taken are the ones kept; after MAX_TICKETS_PER_CONNECTION the rest
            # are dropped unread (issue 12: a per-connection bound on tickets)
            last = MAX_TICKETS_PER_CONNECTION - 1
            assert tls.session_tickets[-1].ticket == last.to_bytes(2, "big") + b"t" * 30
    finally:
        peer.close()
