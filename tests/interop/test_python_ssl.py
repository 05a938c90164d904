"""tlsengine against the stdlib ``ssl`` server (OpenSSL underneath; sends no CA names)."""

from __future__ import annotations

import ssl

import pytest
from peers import Peers, subject_of

from tlsengine.identity.model import Identity

from .client import (
    assert_no_client_auth,
    assert_sent,
    assert_sent_empty,
    context,
    fetch,
    fetch_rejected,
    verdicts,
)

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop


@pytest.mark.parametrize(
    "mode", [ssl.CERT_REQUIRED, ssl.CERT_OPTIONAL], ids=["required", "optional"]
)
def test_identity_sent_and_accepted(peers: Peers, identity_a: Identity, mode: ssl.VerifyMode):
    srv = peers.python_ssl(verify_mode=mode)
    tls, body = fetch(context(peers.pki, [identity_a]), srv.address)
    assert_sent(tls, identity_a)
    assert f"subject={subject_of(identity_a)}".encode() in body
    assert tls.version() == "TLSv1.3"
    info = tls.certificate_request
    assert info.version == "TLSv1.3" and list(info.certificate_authorities) == []
    record = srv.next_record()
    assert record.error is None and record.subject == subject_of(identity_a)


def test_optional_without_identities_sends_empty_certificate(peers: Peers):
    srv = peers.python_ssl(verify_mode=ssl.CERT_OPTIONAL)
    tls, body = fetch(context(peers.pki, []), srv.address)
    assert tls.client_identity is None and tls.certificate_request is not None
    assert b"subject=\n" in body
    record = srv.next_record()
    assert record.error is None and record.subject is None
    assert "CERTIFICATE" in record.handshake_messages  # the empty one
    assert "CERTIFICATE_VERIFY" not in record.handshake_messages


def test_wrong_ca_is_rejected_with_the_selection(peers: Peers, identity_stranger: Identity):
    """No CA names to go by, so the only identity goes out and the server refuses it."""
    srv = peers.python_ssl(verify_mode=ssl.CERT_REQUIRED)
    tls, error = fetch_rejected(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent(tls, identity_stranger)
    selection = error.selection
    assert selection is not None and selection.identity is identity_stranger
    verdict, _notes, reason = verdicts(selection)["client-stranger"]
    assert verdict == "chosen" and reason
    assert error.alert in {"unknown_ca", "bad_certificate", "certificate_unknown"}
    record = srv.next_record()
    assert record.subject is None and "certificate verify failed" in (record.error or "")


def test_required_without_identities_is_rejected(peers: Peers):
    srv = peers.python_ssl(verify_mode=ssl.CERT_REQUIRED)
    tls, error = fetch_rejected(context(peers.pki, []), srv.address)
    assert_sent_empty(tls)
    assert error.selection is not None and error.selection.identity is None
    assert srv.next_record().error


def test_no_client_auth_server_gets_no_certificate(peers: Peers, identity_a: Identity):
    srv = peers.python_ssl(verify_mode=ssl.CERT_NONE)
    tls, body = fetch(context(peers.pki, [identity_a]), srv.address)
    assert_no_client_auth(tls)
    assert b"subject=\n" in body
    record = srv.next_record()
    assert record.error is None
    assert "CLIENT_HELLO" in record.handshake_messages
    assert "CERTIFICATE" not in record.handshake_messages
