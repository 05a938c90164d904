"""TLS 1.3 resumption against real servers: ``openssl s_server``, ``gnutls-serv`` and
Python's ``ssl``; each test checks our transcript AND the server's own account.

- s_server's ``-www`` page starts its session line with ``Reused,`` or ``New,``;
  ``-msg`` shows which handshake messages it read (no Certificate when resumed).
- gnutls-serv logs ``*** This is a resumed session``; its page shows the client subject.
- the stdlib server reports ``SSLSocket.session_reused`` and the client subject.
"""

from __future__ import annotations

import socket
import ssl

import pytest
from peers import Peers

from tlsengine.identity.model import Identity
from tlsengine.identity.store import IdentityStore

from .client import GET, context, fetch, messages, read_all

pytestmark = pytest.mark.interop


def page_reused(page: bytes) -> bool:
    """s_server -www: the session line reads ``Reused, TLSv1.3, Cipher is ...``."""
    text = page.decode(errors="replace")
    assert "Cipher is" in text, text[:400]
    return "\nReused," in text


def _resumes(tls) -> bool:
    """Our side: reused, and no certificates in either direction (RFC 8446 2.2)."""
    if not tls.session_reused:
        return False
    assert "Certificate" not in messages(tls, "in") + messages(tls, "out")
    assert "CertificateVerify" not in messages(tls, "in") + messages(tls, "out")
    return True


def test_openssl_second_connection_resumes(peers: Peers, identity_a: Identity):
    srv = peers.openssl(tickets=True)
    ctx = context(peers.pki, [identity_a])
    first, page = fetch(ctx, srv.address)
    assert not first.session_reused and not page_reused(page)
    second, page = fetch(ctx, srv.address)
    assert _resumes(second) and page_reused(page)
    assert srv.received_handshake()[-2:] == ["ClientHello", "Finished"]
    assert second.client_identity is identity_a
    assert second.getpeercert()["subject"] == first.getpeercert()["subject"]


def test_openssl_new_identity_is_a_full_handshake(
    peers: Peers, identity_a: Identity, identities_by_key: dict[str, Identity]
):
    """After a load with another identity the server sees the new subject."""
    other = identities_by_key["rsa2048"]
    store = IdentityStore([identity_a])
    srv = peers.openssl(tickets=True)
    ctx = context(peers.pki, [])
    ctx.identities = store
    fetch(ctx, srv.address)
    assert fetch(ctx, srv.address)[0].session_reused
    store.clear()
    store.add(other)
    tls, page = fetch(ctx, srv.address)
    assert not tls.session_reused and not page_reused(page)
    assert tls.client_identity is other
    assert "CN = client rsa2048" in srv.client_subjects()[-1]


def test_openssl_unknown_ticket_gives_a_full_handshake(peers: Peers, identity_a: Identity):
    """A server that cannot decrypt our ticket (another process, other ticket keys) turns
    it down; the full handshake that follows works and authenticates us afresh."""
    ctx = context(peers.pki, [identity_a])
    first, _ = fetch(ctx, peers.openssl(tickets=True).address)
    ticket = first.session
    assert ticket is not None
    other = peers.openssl(tickets=True)
    raw = socket.create_connection(other.address, timeout=10)
    with ctx.wrap_socket(raw, server_hostname="localhost", session=ticket) as tls:
        tls.sendall(GET)
        page = read_all(tls)
        assert tls.connection.config.session is ticket  # it was offered...
        assert not tls.session_reused and not page_reused(page)  # ...and turned down
    assert "CN = client A" in other.client_subjects()[-1]
    assert "Certificate" in other.received_handshake()


def test_openssl_resumption_off(peers: Peers, identity_a: Identity):
    srv = peers.openssl(tickets=True)
    ctx = context(peers.pki, [identity_a], resumption=False)
    fetch(ctx, srv.address)
    tls, page = fetch(ctx, srv.address)
    assert not tls.session_reused and not page_reused(page)
    assert tls.connection.config.session is None


def test_gnutls_second_connection_resumes(peers: Peers, identity_a: Identity):
    srv = peers.gnutls()
    ctx = context(peers.pki, [identity_a])
    first, _ = fetch(ctx, srv.address)
    assert not first.session_reused and srv_resumptions(srv) == 0
    second, page = fetch(ctx, srv.address)
    assert _resumes(second)
    srv.wait_for_output(r"\*\*\* This is a resumed session")
    assert srv_resumptions(srv) == 1
    assert "Subject: CN=client A" in page.decode(errors="replace")  # kept in the session


def srv_resumptions(srv) -> int:
    """gnutls-serv logs '*** This is a resumed session' for each resumed connection."""
    return (srv.stdout + srv.stderr).count("*** This is a resumed session")


def test_python_ssl_second_connection_resumes(peers: Peers, identity_a: Identity):
    srv = peers.python_ssl(verify_mode=ssl.CERT_REQUIRED, tickets=2)
    ctx = context(peers.pki, [identity_a])
    fetch(ctx, srv.address)
    first = srv.next_record()
    second, _ = fetch(ctx, srv.address)
    record = srv.next_record()
    assert (first.session_reused, record.session_reused) == (False, True)
    assert _resumes(second) and record.subject == first.subject == "CN=client A"
    assert "CERTIFICATE" not in record.handshake_messages
