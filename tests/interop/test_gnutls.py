"""tlsengine against ``gnutls-serv`` requiring (and verifying) a client certificate."""

from __future__ import annotations

import pytest
from peers import Peers

from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .client import assert_sent, assert_sent_empty, context, fetch, fetch_rejected, verdicts
from .conftest import KEY_TYPES

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop


def test_identity_chosen_by_ca_and_accepted(
    peers: Peers, root_ca: CA, identity_a: Identity, identity_b: Identity
):
    srv = peers.gnutls(client_cas=peers.cas(root_ca))
    tls, page = fetch(context(peers.pki, [identity_b, identity_a]), srv.address)
    assert_sent(tls, identity_a)
    assert list(tls.certificate_request.certificate_authorities) == [root_ca.name]
    assert b"Subject: CN=client A" in page
    v = verdicts(tls.selection)
    assert v["client-a"][0] == "chosen" and v["client-b"][0] == "ca-mismatch"
    srv.wait_for_output(r"Subject: CN=client A")


def test_wrong_ca_sends_empty_certificate_and_is_rejected(
    peers: Peers, root_ca: CA, identity_stranger: Identity
):
    srv = peers.gnutls(client_cas=peers.cas(root_ca))
    tls, error = fetch_rejected(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent_empty(tls)
    assert error.selection is not None and error.selection.identity is None
    verdict, _notes, reason = verdicts(error.selection)["client-stranger"]
    assert verdict == "ca-mismatch" and reason
    assert reason in str(error)  # the user sees why nothing fitted


def test_optional_request_gets_identity_or_empty_certificate(
    peers: Peers, root_ca: CA, identity_a: Identity, identity_stranger: Identity
):
    """Without --require-client-cert gnutls-serv still asks, and takes no for an answer."""
    srv = peers.gnutls(client_cas=peers.cas(root_ca), require_client_cert=False)
    tls, page = fetch(context(peers.pki, [identity_stranger, identity_a]), srv.address)
    assert_sent(tls, identity_a)
    assert b"Subject: CN=client A" in page
    tls, page = fetch(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent_empty(tls)
    assert page.startswith(b"HTTP/1.0 200") and b"Subject: CN=client" not in page


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_key_types(peers: Peers, identities_by_key: dict[str, Identity], key_type: str):
    """GnuTLS verifies our CertificateVerify for every key type we sign with."""
    identity = identities_by_key[key_type]
    srv = peers.gnutls()
    tls, page = fetch(context(peers.pki, [identity]), srv.address)
    assert_sent(tls, identity)
    assert f"Subject: CN=client {key_type}".encode() in page
