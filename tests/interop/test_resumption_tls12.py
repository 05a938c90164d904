"""TLS 1.2 session tickets (RFC 5077) through the context's session cache, against
``openssl s_server -tls1_2`` and Python's ``ssl``; each test checks our side and the server's.
"""

from __future__ import annotations

import pickle
import socket
import ssl

import pytest
from peers import Peers

from tlsengine.identity.model import Identity
from tlsengine.identity.store import IdentityStore

from .client import GET, context, fetch, messages, read_all
from .test_resumption import page_reused

pytestmark = pytest.mark.interop


def _resumed12(tls) -> bool:
    """Reused, and an abbreviated handshake: no certificates, no key exchange."""
    if not tls.session_reused:
        return False
    seen = messages(tls, "in") + messages(tls, "out")
    assert not {"Certificate", "CertificateVerify", "ServerKeyExchange"} & set(seen), seen
    assert tls.version() == "TLSv1.2"
    return True


def test_openssl_tls12_second_connection_resumes_with_the_ticket(
    peers: Peers, identity_a: Identity
) -> None:
    srv = peers.openssl(tls="1.2", tickets=True)
    ctx = context(peers.pki, [identity_a])
    first, page = fetch(ctx, srv.address)
    assert not first.session_reused and not page_reused(page)
    assert "NewSessionTicket" in messages(first, "in")
    second, page = fetch(ctx, srv.address)
    assert _resumed12(second) and page_reused(page)
    assert srv.received_handshake()[-2:] == ["ClientHello", "Finished"]
    assert second.client_identity is identity_a
    assert second.getpeercert()["subject"] == first.getpeercert()["subject"]
    hello = [e for e in second.transcript if e["type"] == "ServerHello"][0]
    assert hello["resumed"] is True


def test_openssl_tls12_new_identity_is_a_full_handshake(
    peers: Peers, identity_a: Identity, identities_by_key: dict[str, Identity]
) -> None:
    other = identities_by_key["rsa2048"]
    store = IdentityStore([identity_a])
    srv = peers.openssl(tls="1.2", tickets=True)
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


def test_openssl_tls12_unknown_ticket_gives_a_full_handshake(
    peers: Peers, identity_a: Identity
) -> None:
    """A server that cannot decrypt the ticket does not echo our session_id: full handshake."""
    ctx = context(peers.pki, [identity_a])
    first, _ = fetch(ctx, peers.openssl(tls="1.2", tickets=True).address)
    session = first.session
    assert session is not None and session.version == "TLSv1.2"
    assert "master_secret" not in repr(session) and "ticket=" not in repr(session)
    other = peers.openssl(tls="1.2", tickets=True)  # other ticket keys
    raw = socket.create_connection(other.address, timeout=10)
    with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
        tls.sendall(GET)
        page = read_all(tls)
        assert tls.connection.config.session is session  # it was offered...
        assert not tls.session_reused and not page_reused(page)  # ...and turned down
    assert "CN = client A" in other.client_subjects()[-1]


def test_resumption_off_offers_no_ticket(peers: Peers, identity_a: Identity) -> None:
    srv = peers.openssl(tls="1.2", tickets=True)
    ctx = context(peers.pki, [identity_a], resumption=False)
    first, _ = fetch(ctx, srv.address)
    second, page = fetch(ctx, srv.address)
    assert "NewSessionTicket" not in messages(first, "in")
    assert not second.session_reused and not page_reused(page)


def test_python_ssl_tls12_server_sees_a_reused_session(peers: Peers, identity_a: Identity) -> None:
    srv = peers.python_ssl(
        verify_mode=ssl.CERT_REQUIRED,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        maximum_version=ssl.TLSVersion.TLSv1_2,
        tickets=2,
    )
    ctx = context(peers.pki, [identity_a])
    first, _ = fetch(ctx, srv.address)
    second, body = fetch(ctx, srv.address)
    assert _resumed12(second)
    assert f"subject={identity_a.subject}".encode() in body


def test_a_tls12_session_refuses_pickling(peers: Peers, identity_a: Identity) -> None:
    srv = peers.openssl(tls="1.2", tickets=True)
    first, _ = fetch(context(peers.pki, [identity_a]), srv.address)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(first.session)


def test_openssl_tls12_unrenewed_ticket_keeps_resuming(peers: Peers, identity_a: Identity) -> None:
    """OpenSSL does not renew a ticket on resumption; the session goes back in the cache."""
    srv = peers.openssl(tls="1.2", tickets=True)
    ctx = context(peers.pki, [identity_a])
    fetch(ctx, srv.address)
    for _ in range(3):
        tls, page = fetch(ctx, srv.address)
        assert _resumed12(tls) and page_reused(page)
