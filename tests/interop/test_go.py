"""tlsengine against Go's ``crypto/tls`` (``tests/peers/go``, standard library only).

Go names every CA of its ``ClientCAs`` pool in the CertificateRequest, in TLS 1.3
(``certificate_authorities``) and in TLS 1.2 (the message's own field). What Go 1.2x
does, as these tests pin down: under ``RequireAndVerifyClientCert`` an empty Certificate
draws ``certificate_required`` in TLS 1.3 (``handshake_failure`` in TLS 1.2) with "tls:
client didn't provide a certificate"; a chain signed by a CA it does not trust draws
``unknown_ca`` (Go 1.26; older releases sent ``bad_certificate``).
Both arrive after our Finished and must surface as ``ClientCertificateRejected``.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import peers as peers_module
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
    srv = peers.go(client_cas=peers.cas(*cas))
    want = keystore[expected]
    tls, response, line = fetch(context(peers.pki, list(keystore.values())), srv)
    assert tls.version() == "TLSv1.3"
    assert_sent(tls, want)
    assert names(tls.certificate_request) == sorted(ca.name.rfc4514_string() for ca in cas)
    v = verdicts(tls.selection)
    assert v[expected][0] == "chosen" and v["client-stranger"][0] == "ca-mismatch"
    assert body_of(response) == f"subject={want.subject}\n"
    assert line == f"CLIENT TLS 1.3 {want.subject}"


@pytest.mark.parametrize(("trusted", "expected"), CHOICES, ids=["ca-a", "ca-b", "ca-a-and-b"])
def test_tls12_identity_chosen_from_one_keystore_by_ca_names(
    peers: Peers,
    root_ca: CA,
    other_root_ca: CA,
    keystore: dict[str, Identity],
    trusted: str,
    expected: str,
):
    """The same choice from a TLS 1.2 CertificateRequest (its own CA list and cert types)."""
    cas = [{"a": root_ca, "b": other_root_ca}[t] for t in trusted]
    srv = peers.go(client_cas=peers.cas(*cas), min_version="1.2", max_version="1.2")
    want = keystore[expected]
    ctx = context(peers.pki, list(keystore.values()), maximum_version="TLSv1.2")
    tls, response, line = fetch(ctx, srv)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, want)
    info = tls.certificate_request
    assert info.version == "TLSv1.2"
    assert names(info) == sorted(ca.name.rfc4514_string() for ca in cas)
    assert set(info.certificate_types) == {"rsa_sign", "ecdsa_sign"}
    assert verdicts(tls.selection)[expected][0] == "chosen"
    assert body_of(response) == f"subject={want.subject}\n"
    assert line == f"CLIENT TLS 1.2 {want.subject}"


def test_wrong_ca_sends_empty_certificate_and_is_rejected(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """Go trusts root A only; the keystore without client A has nothing to offer."""
    srv = peers.go(client_cas=peers.cas(root_ca))
    ctx = context(peers.pki, [keystore["client-stranger"], keystore["client-b"]])
    tls, error, line = fetch_rejected(ctx, srv)
    assert_sent_empty(tls)
    assert error.alert == "certificate_required"
    assert error.selection is not None and error.selection.identity is None
    v = verdicts(error.selection)
    assert v["client-b"][0] == v["client-stranger"][0] == "ca-mismatch"
    assert v["client-b"][2] in str(error)  # the user reads why nothing fitted
    assert line == "FAIL tls: client didn't provide a certificate"


def test_tls12_wrong_ca_sends_empty_certificate_and_is_rejected(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """In TLS 1.2 Go refuses the empty Certificate before its Finished, with handshake_failure."""
    srv = peers.go(client_cas=peers.cas(root_ca), min_version="1.2", max_version="1.2")
    ctx = context(
        peers.pki,
        [keystore["client-stranger"], keystore["client-b"]],
        maximum_version="TLSv1.2",
    )
    tls, error, line = fetch_rejected(ctx, srv)
    assert_sent_empty(tls)
    assert error.alert == "handshake_failure"
    assert error.selection is not None and error.selection.identity is None
    assert verdicts(error.selection)["client-b"][0] == "ca-mismatch"
    assert line == "FAIL tls: client didn't provide a certificate"


def test_untrusted_certificate_is_rejected_with_unknown_ca(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """A callback overrides the CA names; Go's chain verification refuses the stranger."""
    stranger = keystore["client-stranger"]
    srv = peers.go(client_cas=peers.cas(root_ca))
    ctx = context(peers.pki, [stranger], select_identity=lambda info, v: stranger)
    tls, error, line = fetch_rejected(ctx, srv)
    assert_sent(tls, stranger)
    assert error.alert == "unknown_ca"
    assert error.selection is not None and error.selection.identity is stranger
    assert line.startswith("FAIL tls: failed to verify certificate: x509: certificate signed by")


def test_optional_request_takes_an_empty_certificate(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """``VerifyClientCertIfGiven``: asked, nothing fits, an empty Certificate, no alert."""
    srv = peers.go(client_cas=peers.cas(root_ca), auth="request")
    ctx = context(peers.pki, [keystore["client-stranger"], keystore["client-b"]])
    tls, response, line = fetch(ctx, srv)
    assert_sent_empty(tls)
    assert body_of(response) == "no client certificate\n"
    assert line == "NO_CLIENT_CERT TLS 1.3"


def test_no_client_auth_server_gets_no_certificate(peers: Peers, keystore: dict[str, Identity]):
    srv = peers.go(auth="none")
    tls, response, line = fetch(context(peers.pki, list(keystore.values())), srv)
    assert_no_client_auth(tls)
    assert body_of(response) == "no client certificate\n"
    assert line == "NO_CLIENT_CERT TLS 1.3"


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_key_types(peers: Peers, identities_by_key: dict[str, Identity], key_type: str):
    """Go verifies our CertificateVerify for every key type we sign with."""
    identity = identities_by_key[key_type]
    srv = peers.go()
    tls, response, line = fetch(context(peers.pki, [identity]), srv)
    assert_sent(tls, identity)
    assert body_of(response) == f"subject={identity.subject}\n"
    assert line == f"CLIENT TLS 1.3 {identity.subject}"


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_tls12_key_types(peers: Peers, identities_by_key: dict[str, Identity], key_type: str):
    """Our TLS 1.2 CertificateVerify from every key type, verified by the server."""
    identity = identities_by_key[key_type]
    srv = peers.go(min_version="1.2", max_version="1.2")
    ctx = context(peers.pki, [identity], maximum_version="TLSv1.2")
    tls, response, line = fetch(ctx, srv)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, identity)
    assert body_of(response) == f"subject={identity.subject}\n"
    assert line == f"CLIENT TLS 1.2 {identity.subject}"


# --------------------------------------------------------------------------- the harness itself


def test_harness_checked_with_openssl_client(
    peers: Peers,
    root_ca: CA,
    other_root_ca: CA,
    identity_b: Identity,
    identity_stranger: Identity,
    tmp_path: Path,
):
    """The Go server itself, checked with clients we trust (``openssl s_client``, stdlib
    ``ssl``): it names both CAs, accepts client B, and refuses the stranger."""
    srv = peers.go(client_cas=peers.cas(root_ca, other_root_ca))
    out = s_client(require_tool("openssl"), srv.port, "-tls1_3")
    assert sorted(acceptable_ca_names(out)[:2]) == CA_LINES
    page = stdlib_get(srv.port, peers.pki, tmp_path, identity_b)
    assert page.endswith(b"\r\n\r\nsubject=CN=client B\n"), page
    with pytest.raises((ssl.SSLError, OSError)):
        stdlib_get(srv.port, peers.pki, tmp_path, identity_stranger)


@pytest.mark.parametrize("in_ci", [False, True], ids=["local", "ci"])
def test_missing_toolchain_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, in_ci: bool
):
    """No Go, no binary: a local run skips saying how to build; CI=true fails instead."""
    monkeypatch.setattr(peers_module, "BUILD_DIR", tmp_path)
    monkeypatch.setattr(peers_module, "TOOLCHAIN_DIRS", ())
    monkeypatch.setattr(peers_module, "_build_outcome", {})
    monkeypatch.setattr(peers_module, "IN_CI", in_ci)
    monkeypatch.setenv("PATH", str(tmp_path))
    outcome = pytest.fail.Exception if in_ci else pytest.skip.Exception
    with pytest.raises(outcome, match=r"goserver is not built and `go` is not installed") as e:
        peers_module.built_peer("goserver")
    assert "bash tests/peers/build.sh go" in str(e.value)
