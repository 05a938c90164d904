"""Session resumption through ClientContext/TLSSocket, against the stdlib ``ssl`` server.

The server (OpenSSL underneath) issues two TLS 1.3 tickets per connection and reports,
per connection, ``session_reused`` and the client subject it holds, so each test checks
resumption from both ends.
"""

from __future__ import annotations

import asyncio
import pickle
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

import tlsengine
from tlsengine.cli.pki import CA, cert_pem, key_pem
from tlsengine.identity import build_pkcs12
from tlsengine.identity.store import IdentityStore
from tlsengine.protocol.tls13 import SessionTicket
from tlsengine.socket import ClientContext, TLSSocket
from tlsengine.socket.sessions import MAX_SESSIONS_PER_KEY, SessionCache, SessionKey

HOST = "127.0.0.1"


@dataclass
class Seen:
    reused: bool | None = None
    subject: str | None = None
    error: str | None = None


class TicketServer:
    """Python ``ssl`` TLS 1.3 server, client certificate required, tickets on; echoes."""

    def __init__(self, tmp: Path, root: CA) -> None:
        cert, key = root.issue("localhost", client=False, server=True, dns=["localhost"])
        self.cert, self.key, self.ca = tmp / "srv.pem", tmp / "srv.key", tmp / "ca.pem"
        self.cert.write_bytes(cert_pem(cert))
        self.key.write_bytes(key_pem(key))
        self.ca.write_bytes(cert_pem(root.certificate))
        self.context = self.fresh_context()
        self.seen: list[Seen] = []
        self.listener = socket.create_server((HOST, 0))
        self.listener.settimeout(0.05)
        self.address = self.listener.getsockname()
        self._stop = threading.Event()
        self._done = threading.Semaphore(0)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def fresh_context(self) -> ssl.SSLContext:
        """A new server context: new ticket keys, so earlier tickets no longer decrypt."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(self.cert, self.key)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(self.ca)
        ctx.num_tickets = 2
        return ctx

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        seen = Seen()
        self.seen.append(seen)
        sock.settimeout(5)
        try:
            with self.context.wrap_socket(sock, server_side=True) as tls:
                seen.reused = tls.session_reused
                der = tls.getpeercert(binary_form=True)
                if der:
                    seen.subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
                while data := tls.recv(65536):
                    tls.sendall(data)
        except (OSError, ssl.SSLError) as exc:
            seen.error = f"{type(exc).__name__}: {exc}"
        finally:
            sock.close()
            self._done.release()

    def last(self) -> Seen:
        assert self._done.acquire(timeout=5), "server connection did not finish"
        return self.seen[-1]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.listener.close()


@pytest.fixture
def server(tmp_path: Path, root_ca: CA):
    srv = TicketServer(tmp_path, root_ca)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def alice(root_ca: CA):
    return root_ca.identity("alice", "p256", alias="alice")


@pytest.fixture(scope="module")
def bob(root_ca: CA):
    return root_ca.identity("bob", "p256", alias="bob")


def _echo(tls: TLSSocket) -> None:
    """One round trip: by its end the server's tickets have arrived (they precede it)."""
    tls.sendall(b"ping")
    assert tls.recv(16) == b"ping"


def _connect(ctx: ClientContext, server: TicketServer) -> tuple[bool, Any, Seen]:
    with ctx.connect(server.address, "localhost") as tls:
        _echo(tls)
        reused, identity = tls.session_reused, tls.client_identity
        received = [t["type"] for t in tls.transcript if t["direction"] == "in"]
    seen = server.last()
    assert seen.error is None, seen.error
    if reused:  # RFC 8446 2.2: a resumed handshake has no certificates either way
        assert "Certificate" not in received and "CertificateVerify" not in received
    return reused, identity, seen


def test_second_connection_resumes_and_the_server_agrees(server, alice):
    ctx = ClientContext(cafile=server.ca, identities=IdentityStore([alice]), trace=True)
    reused, identity, seen = _connect(ctx, server)
    assert (reused, seen.reused, seen.subject) == (False, False, "CN=alice")
    reused, identity, seen = _connect(ctx, server)
    assert (reused, seen.reused) == (True, True)
    assert seen.subject == "CN=alice"  # the server still knows who we are
    assert identity is alice


def test_each_ticket_is_offered_once(server, alice):
    """RFC 8446 C.4: a ticket is offered once; each resumed connection brings new ones."""
    ctx = ClientContext(cafile=server.ca, identities=[alice])
    with ctx.connect(server.address, "localhost") as tls:
        _echo(tls)
        first_tickets = [bytes(t.ticket) for t in tls.connection.session_tickets]
    server.last()
    assert len(first_tickets) == 2 and len(ctx.sessions) == 2
    offered = []
    for _ in range(3):
        with ctx.connect(server.address, "localhost") as tls:
            _echo(tls)
            assert tls.session_reused
            offered.append(bytes(tls.connection.config.session.ticket))
        server.last()
    assert offered[0] in first_tickets  # the newest first
    assert len(set(offered)) == len(offered)  # never the same ticket twice


def test_loading_another_identity_retires_the_sessions(server, alice, bob):
    """After load_client_certificate, the next connection is a full handshake under the new
    identity, and the server sees the new subject."""
    tlsengine.clear_client_certificates()
    try:
        tlsengine.load_client_certificate(build_pkcs12([alice], "pw"), "pw")
        ctx = ClientContext(cafile=server.ca)  # identities=None: the default store
        assert _connect(ctx, server)[2].subject == "CN=alice"
        assert _connect(ctx, server)[0] is True
        tlsengine.load_client_certificate(build_pkcs12([bob], "pw"), "pw")
        reused, identity, seen = _connect(ctx, server)
        assert (reused, seen.reused, seen.subject) == (False, False, "CN=bob")
        assert identity.fingerprint == bob.fingerprint
        assert _connect(ctx, server)[2].subject == "CN=bob"  # bob's own session resumes
    finally:
        tlsengine.clear_client_certificates()


@pytest.mark.parametrize("change", ["clear", "add", "remove", "pin"])
def test_any_store_change_retires_the_sessions(server, alice, bob, change):
    store = IdentityStore([alice])
    ctx = ClientContext(cafile=server.ca, identities=store)
    _connect(ctx, server)
    if change == "clear":
        store.clear()
        store.add(alice)
    elif change == "add":
        store.add(bob)
    elif change == "remove":
        store.add(bob)
        _connect(ctx, server)
        store.remove(bob)
    else:
        store.pin("localhost", alice)
    reused, _, seen = _connect(ctx, server)
    assert not reused and not seen.reused


def test_ticket_the_server_no_longer_knows_gives_a_full_handshake(server, alice):
    ctx = ClientContext(cafile=server.ca, identities=[alice])
    _connect(ctx, server)
    server.context = server.fresh_context()  # new ticket keys: our ticket is unknown now
    reused, _, seen = _connect(ctx, server)
    assert (reused, seen.reused, seen.subject) == (False, False, "CN=alice")
    assert _connect(ctx, server)[0]  # and the new tickets work


def test_expired_session_is_not_offered(server, alice):
    now = [1000.0]
    ctx = ClientContext(cafile=server.ca, identities=[alice])
    ctx.sessions = SessionCache(clock=lambda: now[0])
    _connect(ctx, server)
    assert len(ctx.sessions) == 2
    now[0] += 7 * 24 * 3600
    reused, _, seen = _connect(ctx, server)
    assert not reused and not seen.reused


def test_resumption_off_switch(server, alice):
    ctx = ClientContext(cafile=server.ca, identities=[alice], resumption=False)
    _connect(ctx, server)
    assert len(ctx.sessions) == 0
    reused, _, seen = _connect(ctx, server)
    assert not reused and not seen.reused
    ctx.resumption = True
    _connect(ctx, server)
    assert _connect(ctx, server)[0]


def test_sessions_stay_in_memory_and_out_of_reprs(server, alice):
    ctx = ClientContext(cafile=server.ca, identities=[alice], trace=True)
    with ctx.connect(server.address, "localhost") as tls:
        _echo(tls)
        session = tls.session
        assert isinstance(session, SessionTicket)
        shown = repr(session) + repr(ctx.sessions) + repr(tls) + repr(tls.transcript)
    server.last()
    for secret in (session.psk, session.ticket):
        assert repr(secret)[2:-1] not in shown and secret.hex() not in shown
    for obj in (session, ctx.sessions):
        with pytest.raises(TypeError, match="pickle"):
            pickle.dumps(obj)


# --------------------------------------------------------------------------- the cache


class _Session:
    version = "TLSv1.3"

    def __init__(self, expires_at: float | None, identity: Any = None) -> None:
        self.expires_at = expires_at
        self.client_identity = identity


def _key(generation: int = 0, host: str = "a.example", source: Any = "store") -> SessionKey:
    return SessionKey(host, 443, source, generation, (True, True, "webpki"))


def test_cache_is_bounded_overall_and_per_server():
    cache = SessionCache(maxsize=3, clock=lambda: 0.0)
    for _ in range(MAX_SESSIONS_PER_KEY + 2):
        cache.put(_key(), _Session(10))
    assert len(cache) == 3
    for host in ("b.example", "c.example", "d.example"):
        cache.put(_key(host=host), _Session(10))
    assert len(cache) == 3 and cache.take(_key()) is None  # the oldest server went first


def test_cache_drops_older_generations_and_absent_identities(alice, bob):
    cache = SessionCache(clock=lambda: 0.0)
    cache.put(_key(0), _Session(10))
    cache.put(_key(1), _Session(10, alice))
    assert len(cache) == 1  # the generation-0 session is gone as soon as 1 appears
    assert cache.take(_key(1), [bob]) is None  # made with alice, who is no longer loaded
    cache.put(_key(1), _Session(10, alice))
    assert cache.take(_key(1), [alice, bob]) is not None


def test_cache_refuses_unaged_and_expired_sessions():
    cache = SessionCache(clock=lambda: 5.0)
    cache.put(_key(), _Session(None))
    cache.put(_key(), _Session(5.0))
    assert len(cache) == 0


# --------------------------------------------------------------------------- README


def test_readme_resumption_block_runs(server, alice, bob, tmp_path, monkeypatch, capsys):
    """The README's "Session resumption" example, pointed at the test server."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### Session resumption", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "client.p12").write_bytes(build_pkcs12([alice], "secret"))
    (tmp_path / "partner.p12").write_bytes(build_pkcs12([bob], "secret"))
    (tmp_path / "server-ca.pem").write_bytes(server.ca.read_bytes())
    monkeypatch.chdir(tmp_path)
    # The block follows docs/CONTRIBUTING.md's convention (tests/test_readme.py runs it too);
    # here it is pointed at the echo server, which shows the resumption from its side.
    code = block.replace(
        '("api.example.com", 443)', f'("127.0.0.1", {server.address[1]}), "localhost"'
    )
    assert code != block
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        tlsengine.clear_client_certificates()
    assert capsys.readouterr().out.splitlines() == ["TLSv1.3 False", "TLSv1.3 True"]
    assert [s.reused for s in server.seen] == [False, True]


def test_asyncio_streams_resume_through_the_same_cache(server, alice):
    from tlsengine.socket.aio import open_connection

    ctx = ClientContext(cafile=server.ca, identities=[alice])

    async def once() -> bool:
        reader, writer = await open_connection(
            HOST, server.address[1], context=ctx, server_hostname="localhost", timeout=10
        )
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        reused = bool(writer.connection.session_reused)
        writer.close()
        await writer.wait_closed()
        return reused

    assert asyncio.run(once()) is False
    server.last()
    assert asyncio.run(once()) is True
    assert server.last().reused
