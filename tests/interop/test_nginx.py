"""tlsengine against nginx (``ssl_verify_client on`` and ``optional``).

nginx completes the handshake whatever we send and reports its verdict in HTTP: 200 with
``$ssl_client_s_dn`` when it accepts, 400 when the certificate is missing (``on``) or
untrusted.
"""

from __future__ import annotations

import pytest
from peers import Peers, subject_of

from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .client import assert_no_client_auth, assert_sent, assert_sent_empty, context, fetch, verdicts

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop


@pytest.mark.parametrize("verify_client", ["on", "optional"])
def test_identity_chosen_by_ca_and_accepted(
    peers: Peers,
    other_root_ca: CA,
    identity_a: Identity,
    identity_b: Identity,
    verify_client: str,
):
    srv = peers.nginx(verify_client=verify_client, client_cas=peers.cas(other_root_ca))
    tls, body = fetch(context(peers.pki, [identity_a, identity_b]), srv.address)
    assert_sent(tls, identity_b)
    assert list(tls.certificate_request.certificate_authorities) == [other_root_ca.name]
    assert body.startswith(b"HTTP/1.1 200")
    assert f"subject={subject_of(identity_b)}\nverify=SUCCESS".encode() in body
    assert verdicts(tls.selection)["client-a"][0] == "ca-mismatch"


@pytest.mark.parametrize(
    ("verify_client", "status", "verify"),
    [("on", b"HTTP/1.1 400", None), ("optional", b"HTTP/1.1 200", b"verify=NONE")],
)
def test_wrong_ca_sends_empty_certificate(
    peers: Peers,
    root_ca: CA,
    identity_stranger: Identity,
    verify_client: str,
    status: bytes,
    verify: bytes | None,
):
    srv = peers.nginx(verify_client=verify_client, client_cas=peers.cas(root_ca))
    tls, body = fetch(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent_empty(tls)
    assert body.startswith(status), body[:200]
    if verify:
        assert verify in body
    else:
        assert b"No required SSL certificate was sent" in body
    assert verdicts(tls.selection)["client-stranger"][0] == "ca-mismatch"


def test_no_client_auth_server_gets_no_certificate(peers: Peers, identity_a: Identity):
    srv = peers.nginx(verify_client="off")
    tls, body = fetch(context(peers.pki, [identity_a]), srv.address)
    assert_no_client_auth(tls)
    assert body.startswith(b"HTTP/1.1 200") and b"subject=\n" in body
