"""tlsengine against rustls (``tests/peers/rust``: ring provider, ``WebPkiClientVerifier``).

The verifier names the subjects of its client roots in the TLS 1.3 CertificateRequest
(``certificate_authorities``). What rustls 0.23 does, as these tests pin down: when client
authentication is mandatory an empty Certificate draws ``certificate_required`` ("peer
sent no certificates"); a chain under a root it does not hold draws ``unknown_ca``
("invalid peer certificate: UnknownIssuer"). Both arrive after our Finished and must
surface as ``ClientCertificateRejected``.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from conftest import require_tool
from peers import Peers

from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .client import assert_no_client_auth, assert_sent, assert_sent_empty, context, verdicts
from .conftest import KEY_TYPES
from .logged import (  # noqa: F401 - fixtures registered by import
    CA_LINES,
    CHOICES,
    body_of,
    fetch,
    fetch_rejected,
    keystore_bytes_fixture,
    keystore_fixture,
    names,
)
from .test_peers_selfcheck import acceptable_ca_names, s_client, stdlib_get

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop

# what a TLS 1.3 CertificateVerify from each key type may use
SCHEMES = {
    "rsa2048": {"rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512"},
    "p256": {"ecdsa_secp256r1_sha256"},
    "p384": {"ecdsa_secp384r1_sha384"},
    "ed25519": {"ed25519"},
}


@pytest.mark.parametrize(("trusted", "expected"), CHOICES, ids=["ca-a", "ca-b", "ca-a-and-b"])
def test_identity_chosen_from_one_keystore_by_ca_names(
    peers: Peers,
    root_ca: CA,
    other_root_ca: CA,
    keystore: dict[str, Identity],
    trusted: str,
    expected: str,
):
    cas = [{"a": root_ca, "b": other_root_ca}[t] for t in trusted]
    srv = peers.rustls(client_cas=peers.cas(*cas))
    want = keystore[expected]
    tls, response, line = fetch(context(peers.pki, list(keystore.values())), srv)
    assert tls.version() == "TLSv1.3"
    assert_sent(tls, want)
    assert names(tls.certificate_request) == sorted(ca.name.rfc4514_string() for ca in cas)
    v = verdicts(tls.selection)
    assert v[expected][0] == "chosen" and v["client-stranger"][0] == "ca-mismatch"
    assert body_of(response) == f"subject={want.subject}\n"
    assert line == f"CLIENT TLSv1.3 {want.subject}"


@pytest.mark.parametrize(("trusted", "expected"), CHOICES, ids=["ca-a", "ca-b", "ca-a-and-b"])
def test_tls12_identity_chosen_from_one_keystore_by_ca_names(
    peers: Peers,
    root_ca: CA,
    other_root_ca: CA,
    keystore: dict[str, Identity],
    trusted: str,
    expected: str,
):
    """The same choice from rustls's TLS 1.2 CertificateRequest (its CA list field)."""
    cas = [{"a": root_ca, "b": other_root_ca}[t] for t in trusted]
    srv = peers.rustls(client_cas=peers.cas(*cas), tls="1.2")
    want = keystore[expected]
    ctx = context(peers.pki, list(keystore.values()), maximum_version="TLSv1.2")
    tls, response, line = fetch(ctx, srv)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, want)
    assert tls.certificate_request.version == "TLSv1.2"
    assert names(tls.certificate_request) == sorted(ca.name.rfc4514_string() for ca in cas)
    assert verdicts(tls.selection)[expected][0] == "chosen"
    assert body_of(response) == f"subject={want.subject}\n"
    assert line == f"CLIENT TLSv1.2 {want.subject}"


def test_wrong_ca_sends_empty_certificate_and_is_rejected(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """rustls trusts root A only; the keystore without client A has nothing to offer."""
    srv = peers.rustls(client_cas=peers.cas(root_ca))
    ctx = context(peers.pki, [keystore["client-stranger"], keystore["client-b"]])
    tls, error, line = fetch_rejected(ctx, srv)
    assert_sent_empty(tls)
    assert error.alert == "certificate_required"
    assert error.selection is not None and error.selection.identity is None
    v = verdicts(error.selection)
    assert v["client-b"][0] == v["client-stranger"][0] == "ca-mismatch"
    assert v["client-b"][2] in str(error)  # the user reads why nothing fitted
    assert line == "FAIL peer sent no certificates"


def test_untrusted_certificate_is_rejected_with_unknown_ca(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """A callback overrides the CA names; webpki finds no path to a trusted root."""
    stranger = keystore["client-stranger"]
    srv = peers.rustls(client_cas=peers.cas(root_ca))
    ctx = context(peers.pki, [stranger], select_identity=lambda info, v: stranger)
    tls, error, line = fetch_rejected(ctx, srv)
    assert_sent(tls, stranger)
    assert error.alert == "unknown_ca"
    assert error.selection is not None and error.selection.identity is stranger
    assert line == "FAIL invalid peer certificate: UnknownIssuer"


def test_optional_request_takes_an_empty_certificate(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """``allow_unauthenticated()``: asked, nothing fits, an empty Certificate, no alert."""
    srv = peers.rustls(client_cas=peers.cas(root_ca), auth="request")
    ctx = context(peers.pki, [keystore["client-stranger"], keystore["client-b"]])
    tls, response, line = fetch(ctx, srv)
    assert_sent_empty(tls)
    assert body_of(response) == "no client certificate\n"
    assert line == "NO_CLIENT_CERT TLSv1.3"


def test_no_client_auth_server_gets_no_certificate(peers: Peers, keystore: dict[str, Identity]):
    srv = peers.rustls(auth="none")
    tls, response, line = fetch(context(peers.pki, list(keystore.values())), srv)
    assert_no_client_auth(tls)
    assert body_of(response) == "no client certificate\n"
    assert line == "NO_CLIENT_CERT TLSv1.3"


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_key_types(peers: Peers, identities_by_key: dict[str, Identity], key_type: str):
    """rustls (ring) verifies our CertificateVerify for every key type we sign with."""
    identity = identities_by_key[key_type]
    srv = peers.rustls()
    tls, response, line = fetch(context(peers.pki, [identity]), srv)
    assert_sent(tls, identity)
    assert tls.selection.scheme in SCHEMES[key_type]
    assert body_of(response) == f"subject={identity.subject}\n"
    assert line == f"CLIENT TLSv1.3 {identity.subject}"


def test_subject_with_several_attributes_echoes_as_rfc4514(peers: Peers, root_ca: CA):
    """The server's own DER walk prints the subject as we do (last RDN first, escaped)."""
    identity = root_ca.identity("client, with comma", "p256", alias="client-comma")
    srv = peers.rustls()
    tls, response, line = fetch(context(peers.pki, [identity]), srv)
    assert_sent(tls, identity)
    assert line == f"CLIENT TLSv1.3 {identity.subject}"


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_tls12_key_types(peers: Peers, identities_by_key: dict[str, Identity], key_type: str):
    """Our TLS 1.2 CertificateVerify from every key type, verified by the server."""
    identity = identities_by_key[key_type]
    srv = peers.rustls(tls="1.2")
    ctx = context(peers.pki, [identity], maximum_version="TLSv1.2")
    tls, response, line = fetch(ctx, srv)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, identity)
    assert body_of(response) == f"subject={identity.subject}\n"
    assert line == f"CLIENT TLSv1.2 {identity.subject}"


# --------------------------------------------------------------------------- the harness itself


def test_harness_checked_with_openssl_client(
    peers: Peers,
    root_ca: CA,
    other_root_ca: CA,
    identity_b: Identity,
    identity_stranger: Identity,
    tmp_path: Path,
):
    """The rustls server itself, checked with clients we trust (``openssl s_client``, stdlib
    ``ssl``): it names both CAs, accepts client B, and refuses the stranger."""
    srv = peers.rustls(client_cas=peers.cas(root_ca, other_root_ca))
    out = s_client(require_tool("openssl"), srv.port, "-tls1_3")
    assert sorted(acceptable_ca_names(out)[:2]) == CA_LINES
    page = stdlib_get(srv.port, peers.pki, tmp_path, identity_b)
    assert page.endswith(b"\r\n\r\nsubject=CN=client B\n"), page
    with pytest.raises((ssl.SSLError, OSError)):
        stdlib_get(srv.port, peers.pki, tmp_path, identity_stranger)
