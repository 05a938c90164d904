"""tlsengine against NSS ``selfserv`` (package ``libnss3-tools``), in the handshake and after it.

selfserv names the CAs its database trusts for client authentication (``CT,,``) in the
TLS 1.3 CertificateRequest; ``NSSServer`` puts exactly ``client_cas`` there. With
``post_handshake=True`` (``-rrrr -E``) it asks only after the handshake, once it has read
the first request: TLS 1.3 post-handshake authentication, which our client advertises
whenever identities are loaded. What NSS 3.87 does, as these tests pin down: an empty
Certificate, in the handshake or after it, draws ``certificate_required`` (selfserv:
"Unable to find the certificate or key necessary for authentication"). Each accepted
certificate leaves ``Subject: CN=...`` and ``Certificate Validated`` on selfserv's stdout.

Issue 7 item 11 was met here: ``tlsengine get -v`` against selfserv asking after the
handshake printed "server did not ask for a client certificate" although it had answered
the request with an identity that selfserv validated. The two tests at the end hold
both halves: the identity goes out and passes, and the summary says so.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from peers import NSSServer, Peers, ServerPKI, write_identity

from tlsengine import ClientCertificateRejected
from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .client import (
    TIMEOUT,
    assert_no_client_auth,
    assert_sent,
    assert_sent_empty,
    context,
    fetch,
    fetch_rejected,
    messages,
    read_all,
    verdicts,
)
from .conftest import KEY_TYPES
from .logged import (  # noqa: F401 - fixtures registered by import
    CA_LINES,
    CHOICES,
    KEYSTORE_PASSWORD,
    keystore_bytes_fixture,
    keystore_fixture,
    names,
)
from .test_peers_selfcheck import acceptable_ca_names, s_client

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop

REQUEST = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"


def assert_validated(srv: NSSServer, *subjects: str) -> None:
    """selfserv validated exactly these client certificates, in this order."""
    srv.wait_for_output(r"Certificate Validated" if subjects else r"About to call accept")
    assert srv.client_subjects() == list(subjects), srv.stdout[-2000:]


def echoed(page: bytes) -> bool:
    """selfserv answers with its canned head, then our request back."""
    return page.startswith(b"HTTP/1.0 200 OK") and REQUEST in page


@pytest.mark.parametrize("post_handshake", [False, True], ids=["in-handshake", "post-handshake"])
@pytest.mark.parametrize(("trusted", "expected"), CHOICES, ids=["ca-a", "ca-b", "ca-a-and-b"])
def test_identity_chosen_from_one_keystore_by_ca_names(
    peers: Peers,
    root_ca: CA,
    other_root_ca: CA,
    keystore: dict[str, Identity],
    trusted: str,
    expected: str,
    post_handshake: bool,
):
    cas = [{"a": root_ca, "b": other_root_ca}[t] for t in trusted]
    srv = peers.nss(client_cas=cas, post_handshake=post_handshake)
    want = keystore[expected]
    tls, page = fetch(context(peers.pki, list(keystore.values())), srv.address, REQUEST)
    assert_sent(tls, want)
    info = tls.certificate_request
    assert info.post_handshake is post_handshake
    assert (info.context != b"") is post_handshake  # RFC 8446 4.3.2: a context only after
    assert names(info) == sorted(ca.name.rfc4514_string() for ca in cas)
    v = verdicts(tls.selection)
    assert v[expected][0] == "chosen" and v["client-stranger"][0] == "ca-mismatch"
    assert echoed(page), page
    assert_validated(srv, want.subject)
    out = messages(tls, "out")
    if post_handshake:  # our handshake Finished went out before the request came
        assert out.index("Finished") < out.index("Certificate")
        assert [e["type"] for e in tls.transcript if e.get("post_handshake")] == [
            "CertificateRequest",
            "Finished",
        ]


def test_tls12_identity_chosen_from_one_keystore_by_ca_names(
    peers: Peers, root_ca: CA, other_root_ca: CA, keystore: dict[str, Identity]
):
    """selfserv limited to TLS 1.2, trusting root B: its CA list picks client B."""
    srv = peers.nss(client_cas=[other_root_ca], tls="1.2")
    want = keystore["client-b"]
    ctx = context(peers.pki, list(keystore.values()), maximum_version="TLSv1.2")
    tls, page = fetch(ctx, srv.address, REQUEST)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, want)
    assert tls.certificate_request.version == "TLSv1.2"
    assert names(tls.certificate_request) == [other_root_ca.name.rfc4514_string()]
    assert verdicts(tls.selection)["client-a"][0] == "ca-mismatch"
    assert echoed(page), page
    assert_validated(srv, want.subject)


@pytest.mark.parametrize("post_handshake", [False, True], ids=["in-handshake", "post-handshake"])
def test_wrong_ca_sends_empty_certificate_and_is_rejected(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity], post_handshake: bool
):
    """selfserv trusts root A only; the keystore without client A has nothing to offer."""
    srv = peers.nss(client_cas=[root_ca], post_handshake=post_handshake)
    ctx = context(peers.pki, [keystore["client-stranger"], keystore["client-b"]])
    if post_handshake:  # it asks only once it has read a request
        tls, error = rejected_after_request(ctx, srv)
    else:
        tls, error = fetch_rejected(ctx, srv.address)
    assert_sent_empty(tls)
    assert tls.certificate_request.post_handshake is post_handshake
    assert error.alert == "certificate_required"
    assert error.selection is not None and error.selection.identity is None
    v = verdicts(error.selection)
    assert v["client-b"][0] == v["client-stranger"][0] == "ca-mismatch"
    assert v["client-b"][2] in str(error)  # the user reads why nothing fitted
    srv.wait_for_output(r"Unable to find the certificate or key necessary for authentication")
    assert srv.client_subjects() == []


def rejected_after_request(ctx: Any, srv: NSSServer) -> tuple[Any, ClientCertificateRejected]:
    """Handshake, send the request, then read until the post-handshake rejection."""
    tls = ctx.connect(srv.address, server_hostname="localhost", timeout=TIMEOUT)
    try:
        tls.sendall(REQUEST)
        with pytest.raises(ClientCertificateRejected) as caught:
            read_all(tls)
    finally:
        tls.close()
    return tls, caught.value


def test_untrusted_certificate_is_rejected(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """A callback overrides the CA names; NSS cannot build a path for the stranger."""
    stranger = keystore["client-stranger"]
    srv = peers.nss(client_cas=[root_ca])
    ctx = context(peers.pki, [stranger], select_identity=lambda info, v: stranger)
    tls, error = fetch_rejected(ctx, srv.address)
    assert_sent(tls, stranger)
    assert error.alert == "unknown_ca"
    assert error.selection is not None and error.selection.identity is stranger
    # we leave the stranger's self-signed root out of our chain (RFC 8446 4.4.2), so NSS
    # finds no issuer at all (-8179) rather than one marked untrusted (-8172)
    srv.wait_for_output(
        r"Certificate Invalid, err -8179\.\nPeer's Certificate issuer is not recognized"
    )
    assert srv.client_subjects() == []


def test_optional_request_takes_an_empty_certificate(
    peers: Peers, root_ca: CA, keystore: dict[str, Identity]
):
    """``-r``: asked, nothing under root A, an empty Certificate, and the page comes."""
    srv = peers.nss(client_cas=[root_ca], verify="request")
    ctx = context(peers.pki, [keystore["client-stranger"], keystore["client-b"]])
    tls, page = fetch(ctx, srv.address, REQUEST)
    assert_sent_empty(tls)
    assert verdicts(tls.selection)["client-b"][0] == "ca-mismatch"
    assert echoed(page), page
    assert srv.client_subjects() == []


def test_no_client_auth_server_gets_no_certificate(peers: Peers, keystore: dict[str, Identity]):
    srv = peers.nss(verify="none")
    tls, page = fetch(context(peers.pki, list(keystore.values())), srv.address, REQUEST)
    assert_no_client_auth(tls)
    assert echoed(page), page
    assert_validated(srv)


@pytest.mark.parametrize("key_type", [k for k in KEY_TYPES if k != "ed25519"])
def test_key_types_post_handshake(
    peers: Peers, identities_by_key: dict[str, Identity], key_type: str
):
    """NSS verifies a post-handshake CertificateVerify from each key type it can take."""
    identity = identities_by_key[key_type]
    srv = peers.nss(post_handshake=True)
    tls, page = fetch(context(peers.pki, [identity]), srv.address, REQUEST)
    assert_sent(tls, identity)
    assert tls.certificate_request.post_handshake
    assert echoed(page), page
    assert_validated(srv, identity.subject)


def test_ed25519_is_excluded_because_nss_offers_no_eddsa(
    peers: Peers, identities_by_key: dict[str, Identity]
):
    """NSS 3.87 does not do EdDSA in TLS: its signature_algorithms leave Ed25519 out, the
    identity is excluded with that reason, and the required certificate is refused."""
    identity = identities_by_key["ed25519"]
    srv = peers.nss()
    tls, error = fetch_rejected(context(peers.pki, [identity]), srv.address)
    assert "ed25519" not in tls.certificate_request.signature_schemes
    assert_sent_empty(tls)
    assert error.alert == "certificate_required"
    verdict, _notes, reason = verdicts(error.selection)[identity.alias]
    assert verdict == "no-common-scheme" and "Ed25519" in reason
    assert reason in str(error)


# --------------------------------------------------------------------------- issue 7 item 11


@pytest.fixture(scope="module")
def get_v_post_handshake(
    root_ca: CA,
    keystore_bytes: bytes,
    server_pki: ServerPKI,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], NSSServer]:
    """``tlsengine get -v`` with the keystore against selfserv asking after the handshake,
    as the issue reported it (run once; the tests below read the outcome)."""
    work = tmp_path_factory.mktemp("nss-get-v")
    keystore_file = work / "keystore.p12"
    keystore_file.write_bytes(keystore_bytes)
    srv = NSSServer(work / "nss", server_pki, client_cas=[root_ca], post_handshake=True)
    with srv:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tlsengine",
                "get",
                "-v",
                f"https://localhost:{srv.port}/",
                "--cafile",
                str(server_pki.ca_file),
                "--pkcs12",
                str(keystore_file),
                "--password-env",
                "KEYSTORE_PASSWORD",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "KEYSTORE_PASSWORD": KEYSTORE_PASSWORD},
        )
        assert_validated(srv, "CN=client A")
    return done, srv


def test_get_answers_a_post_handshake_request(
    get_v_post_handshake: tuple[subprocess.CompletedProcess[str], NSSServer],
):
    """The identity under the CA selfserv names went out after the handshake and passed."""
    done, srv = get_v_post_handshake
    assert done.returncode == 0, done.stderr
    assert "GET / HTTP/1.1" in done.stdout  # selfserv's echo of our request
    assert srv.client_subjects() == ["CN=client A"]


def test_get_v_summary_names_the_identity_sent_after_the_handshake(
    get_v_post_handshake: tuple[subprocess.CompletedProcess[str], NSSServer],
):
    """The summary covers the request that came after the handshake, and says what went."""
    done, _srv = get_v_post_handshake
    assert "did not ask for a client certificate" not in done.stderr, done.stderr
    assert "sent: client-a" in done.stderr, done.stderr


# --------------------------------------------------------------------------- the harness itself


@pytest.mark.parametrize("post_handshake", [False, True], ids=["in-handshake", "post-handshake"])
def test_harness_checked_with_openssl_client(
    peers: Peers,
    root_ca: CA,
    other_root_ca: CA,
    identity_b: Identity,
    identity_stranger: Identity,
    tmp_path: Path,
    post_handshake: bool,
):
    """selfserv itself, checked with a client we trust (stdlib ``ssl`` on OpenSSL, which
    does post-handshake auth when told to): it accepts client B and refuses the stranger."""
    srv = peers.nss(client_cas=[root_ca, other_root_ca], post_handshake=post_handshake)
    if not post_handshake:
        out = s_client(require_tool("openssl"), srv.port, "-tls1_3")
        assert sorted(acceptable_ca_names(out)[:2]) == CA_LINES
    assert echoed(openssl_get(srv, peers.pki, tmp_path, identity_b))
    assert_validated(srv, identity_b.subject)
    with pytest.raises((ssl.SSLError, OSError)):
        openssl_get(srv, peers.pki, tmp_path, identity_stranger)
    assert srv.client_subjects() == [identity_b.subject]


def openssl_get(srv: NSSServer, pki: ServerPKI, tmp_path: Path, identity: Identity) -> bytes:
    """One request through the stdlib client, post-handshake authentication enabled."""
    ctx = ssl.create_default_context(cafile=str(pki.ca_file))
    ctx.post_handshake_auth = True
    ctx.load_cert_chain(*write_identity(identity, tmp_path / "client"))
    with socket.create_connection(srv.address, timeout=TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(REQUEST)
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    return data
