"""tlsengine against ``openssl s_server -tls1_3`` (``-www`` page shows the client certificate).

s_server sends the CA names of its ``-CAfile`` in ``certificate_authorities``, so with
identities from several CAs the choice must follow them. ``-msg`` lets us check on the
server's side which handshake messages arrived.
"""

from __future__ import annotations

import pytest
from peers import OpenSSLServer, Peers

from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .client import (
    assert_no_client_auth,
    assert_sent,
    assert_sent_empty,
    context,
    fetch,
    fetch_rejected,
    messages,
    verdicts,
)
from .conftest import KEY_TYPES, TLS13_SUITES

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop

GROUPS = ("x25519", "secp256r1", "secp384r1")
# what a CertificateVerify from each key type may use in TLS 1.3
SCHEMES = {
    "rsa2048": {"rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512"},
    "p256": {"ecdsa_secp256r1_sha256"},
    "p384": {"ecdsa_secp384r1_sha384"},
    "ed25519": {"ed25519"},
}


def page_subject(page: bytes) -> str:
    """The client subject as s_server's -www page prints it (``Subject: CN=x``)."""
    _, _, cert = page.partition(b"Client certificate")
    for line in cert.decode(errors="replace").splitlines():
        if line.strip().startswith("Subject:"):
            return line.split(":", 1)[1].strip()
    return ""


def assert_server_got(srv: OpenSSLServer, cn: str) -> None:
    assert f"CN = {cn}" in srv.client_subjects(), srv.stderr[-2000:]
    received = srv.received_handshake()
    assert "Certificate" in received and "CertificateVerify" in received, received


@pytest.mark.parametrize(
    ("trusted", "order", "expected"),
    [
        ("ab", ["stranger", "b"], "b"),
        ("b", ["stranger", "a", "b"], "b"),
        ("a", ["stranger", "b", "a"], "a"),
    ],
    ids=["two-cas", "only-b", "only-a"],
)
def test_identity_chosen_by_ca_names(
    peers: Peers,
    root_ca: CA,
    other_root_ca: CA,
    identity_a: Identity,
    identity_b: Identity,
    identity_stranger: Identity,
    trusted: str,
    order: list[str],
    expected: str,
):
    """Load order puts the right identity last: only the CA names can pick it."""
    cas = {"a": root_ca, "b": other_root_ca}
    by_name = {"a": identity_a, "b": identity_b, "stranger": identity_stranger}
    want = by_name[expected]
    srv = peers.openssl(client_cas=peers.cas(*(cas[t] for t in trusted)))
    tls, page = fetch(context(peers.pki, [by_name[n] for n in order]), srv.address)
    assert_sent(tls, want)
    assert list(tls.certificate_request.certificate_authorities) == [cas[t].name for t in trusted]
    assert page_subject(page) == f"CN=client {expected.upper()}"
    assert_server_got(srv, f"client {expected.upper()}")
    v = verdicts(tls.selection)
    assert v[want.alias][0] == "chosen"
    assert all(v[by_name[n].alias][0] == "ca-mismatch" for n in order if n != expected), v


def test_wrong_ca_sends_empty_certificate_and_is_rejected(
    peers: Peers, root_ca: CA, other_root_ca: CA, identity_stranger: Identity
):
    srv = peers.openssl(client_cas=peers.cas(root_ca, other_root_ca))
    tls, error = fetch_rejected(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent_empty(tls)
    assert error.alert == "certificate_required"
    assert error.selection is not None and error.selection.identity is None
    verdict, _notes, reason = verdicts(error.selection)["client-stranger"]
    assert verdict == "ca-mismatch" and reason
    srv.wait_for_output(r"peer did not return a certificate")
    assert "CertificateVerify" not in srv.received_handshake()


def test_no_ca_names_falls_back_to_load_order(
    peers: Peers, root_ca: CA, identity_a: Identity, identity_stranger: Identity
):
    srv = peers.openssl(client_cas=peers.cas(root_ca), no_ca_names=True)
    tls, page = fetch(context(peers.pki, [identity_a, identity_stranger]), srv.address)
    assert list(tls.certificate_request.certificate_authorities) == []
    assert_sent(tls, identity_a)
    assert verdicts(tls.selection)["client-stranger"][0] == "outranked"
    assert page_subject(page) == "CN=client A"


def test_client_sigalgs_exclude_keys_that_cannot_sign(
    peers: Peers, identities_by_key: dict[str, Identity]
):
    srv = peers.openssl(client_sigalgs="ECDSA+SHA384:ed25519")
    candidates = [identities_by_key[k] for k in ("p256", "rsa2048", "p384")]
    tls, page = fetch(context(peers.pki, candidates), srv.address)
    assert list(tls.certificate_request.signature_schemes) == ["ecdsa_secp384r1_sha384", "ed25519"]
    assert_sent(tls, identities_by_key["p384"])
    assert tls.selection.scheme == "ecdsa_secp384r1_sha384"
    v = verdicts(tls.selection)
    assert v["client-p256"][0] == "no-common-scheme"
    assert v["client-rsa2048"][0] == "no-common-scheme"
    assert page_subject(page) == "CN=client p384"


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_key_types(peers: Peers, identities_by_key: dict[str, Identity], key_type: str):
    identity = identities_by_key[key_type]
    srv = peers.openssl()
    tls, page = fetch(context(peers.pki, [identity]), srv.address)
    assert_sent(tls, identity)
    assert tls.selection.scheme in SCHEMES[key_type]
    assert page_subject(page) == f"CN=client {key_type}"
    assert_server_got(srv, f"client {key_type}")


@pytest.mark.parametrize("suite", TLS13_SUITES)
def test_every_tls13_suite(peers: Peers, identity_a: Identity, suite: str):
    srv = peers.openssl(ciphersuites=suite)
    tls, page = fetch(context(peers.pki, [identity_a]), srv.address)
    assert tls.version() == "TLSv1.3"
    assert tls.cipher()[0] == suite
    assert f"Cipher    : {suite}".encode() in page
    assert_sent(tls, identity_a)


@pytest.mark.parametrize("group", GROUPS)
def test_every_group(peers: Peers, identity_a: Identity, group: str):
    srv = peers.openssl(groups=group)
    tls, page = fetch(context(peers.pki, [identity_a]), srv.address)
    assert_sent(tls, identity_a)
    hello = [e for e in tls.transcript if e.get("type") == "ServerHello"]
    assert hello and str(hello[-1].get("group")) == group, hello
    assert page_subject(page) == "CN=client A"


def test_no_client_auth_server_gets_no_certificate(peers: Peers, identity_a: Identity):
    srv = peers.openssl(verify="none")
    tls, page = fetch(context(peers.pki, [identity_a]), srv.address)
    assert_no_client_auth(tls)
    assert b"no client certificate available" in page
    received = srv.received_handshake()
    assert "ClientHello" in received and "Finished" in received
    assert "Certificate" not in received
    assert "CertificateRequest" not in messages(tls, "in")


def test_root_ca_name_selects_a_chain_through_an_intermediate(
    peers: Peers, root_ca: CA, other_root_ca: CA, identity_b: Identity
):
    """s_server names root A; the identity's chain reaches A through an intermediate."""
    intermediate = root_ca.intermediate("tlsengine Test Issuing CA A2")
    below = intermediate.identity("client A2", "p256", alias="client-a2")
    srv = peers.openssl(client_cas=peers.cas(root_ca))
    tls, page = fetch(context(peers.pki, [identity_b, below]), srv.address)
    assert_sent(tls, below)
    assert page_subject(page) == "CN=client A2"
    assert_server_got(srv, "client A2")
    assert verdicts(tls.selection)["client-b"][0] == "ca-mismatch"
