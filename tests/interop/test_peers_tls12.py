"""TLS 1.2 client authentication against the other real servers: gnutls-serv, nginx, a Java
JSSE server, Python's ``ssl`` and tlslite-ng, each restricted to TLS 1.2 (the client offers
1.3 and 1.2).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import Peers, ServerPKI, subject_of

from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .client import assert_sent, assert_sent_empty, context, fetch, fetch_rejected, verdicts
from .conftest import KEY_TYPES
from .test_java import (  # noqa: F401 - fixtures registered by import
    JsseServer,
    java_dir,
    java_keystore,
    jsse_classes,
    truststore,
)
from .test_java import fetch as java_fetch
from .test_java import fetch_rejected as java_fetch_rejected

pytestmark = pytest.mark.interop

GNUTLS_TLS12 = "NORMAL:-VERS-ALL:+VERS-TLS1.2"


# ----------------------------------------------------------------------------- gnutls-serv


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_gnutls_accepts_every_key_type(
    peers: Peers, identities_by_key: dict[str, Identity], key_type: str
) -> None:
    identity = identities_by_key[key_type]
    srv = peers.gnutls(priority=GNUTLS_TLS12)
    tls, page = fetch(context(peers.pki, [identity]), srv.address)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, identity)
    assert f"Subject: CN=client {key_type}".encode() in page


def test_gnutls_ca_list_picks_the_identity(
    peers: Peers, root_ca: CA, identity_a: Identity, identity_b: Identity
) -> None:
    srv = peers.gnutls(client_cas=peers.cas(root_ca), priority=GNUTLS_TLS12)
    tls, page = fetch(context(peers.pki, [identity_b, identity_a]), srv.address)
    assert_sent(tls, identity_a)
    assert tls.certificate_request.version == "TLSv1.2"
    assert list(tls.certificate_request.certificate_authorities) == [root_ca.name]
    assert verdicts(tls.selection)["client-b"][0] == "ca-mismatch"
    srv.wait_for_output(r"Subject: CN=client A")


def test_gnutls_rejects_the_empty_certificate(
    peers: Peers, root_ca: CA, identity_stranger: Identity
) -> None:
    srv = peers.gnutls(client_cas=peers.cas(root_ca), priority=GNUTLS_TLS12)
    tls, error = fetch_rejected(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent_empty(tls)
    assert error.selection is not None and error.selection.identity is None
    assert verdicts(error.selection)["client-stranger"][0] == "ca-mismatch"


# ----------------------------------------------------------------------------- nginx


def test_nginx_tls12_verifies_our_certificate(
    peers: Peers, other_root_ca: CA, identity_a: Identity, identity_b: Identity
) -> None:
    srv = peers.nginx(client_cas=peers.cas(other_root_ca), protocols="TLSv1.2")
    tls, body = fetch(context(peers.pki, [identity_a, identity_b]), srv.address)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, identity_b)
    assert f"subject={subject_of(identity_b)}\nverify=SUCCESS".encode() in body


def test_nginx_tls12_optional_with_nothing_fitting(
    peers: Peers, root_ca: CA, identity_stranger: Identity
) -> None:
    srv = peers.nginx(client_cas=peers.cas(root_ca), verify_client="optional", protocols="TLSv1.2")
    tls, body = fetch(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent_empty(tls)
    assert body.startswith(b"HTTP/1.1 200") and b"verify=NONE" in body


# ----------------------------------------------------------------------------- Python ssl


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_python_ssl_tls12(
    peers: Peers, identities_by_key: dict[str, Identity], key_type: str
) -> None:
    identity = identities_by_key[key_type]
    srv = peers.python_ssl(
        verify_mode=ssl.CERT_REQUIRED,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        maximum_version=ssl.TLSVersion.TLSv1_2,
    )
    tls, body = fetch(context(peers.pki, [identity]), srv.address)
    assert_sent(tls, identity)
    record = srv.next_record()
    assert record.version == "TLSv1.2" and record.error is None
    assert record.subject == subject_of(identity)
    assert ["CERTIFICATE", "CLIENT_KEY_EXCHANGE", "CERTIFICATE_VERIFY"] == [
        m
        for m in record.handshake_messages
        if m in ("CERTIFICATE", "CLIENT_KEY_EXCHANGE", "CERTIFICATE_VERIFY")
    ]
    assert f"subject={subject_of(identity)}".encode() in body


# ----------------------------------------------------------------------------- Java JSSE


class JsseServer12(JsseServer):
    """The suite's JSSE server with only TLSv1.2 enabled."""

    def argv(self, port: int) -> list[str]:
        return [*super().argv(port), "TLSv1.2"]


@pytest.fixture(scope="module")
def java12_need(
    java_dir: Path,  # noqa: F811
    jsse_classes: Path,  # noqa: F811
    java_keystore: Path,  # noqa: F811
    root_ca: CA,
) -> Iterator[JsseServer12]:
    work = java_dir / "need12"
    work.mkdir(exist_ok=True)
    srv = JsseServer12(
        work, jsse_classes, java_keystore, truststore(work / "t.p12", root_ca), "need"
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_java_tls12_accepts_every_key_type(
    java12_need: JsseServer12,
    server_pki: ServerPKI,
    identities_by_key: dict[str, Identity],
    key_type: str,
) -> None:
    identity = identities_by_key[key_type]
    tls, response, line = java_fetch(context(server_pki, [identity]), java12_need)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, identity)
    assert tls.certificate_request.certificate_types  # Java sends rsa_sign, ecdsa_sign, ...
    assert line == f"CLIENT {identity.subject}"


def test_java_tls12_rejects_the_empty_certificate(
    java12_need: JsseServer12, server_pki: ServerPKI, identity_stranger: Identity
) -> None:
    tls, error, line = java_fetch_rejected(context(server_pki, [identity_stranger]), java12_need)
    assert_sent_empty(tls)
    assert error.selection is not None and error.selection.identity is None
    assert line.startswith("FAIL"), line


# ----------------------------------------------------------------------------- tlslite-ng


def test_tlslite_tls12_server_picks_the_rsa_key_with_pkcs1(
    peers: Peers, root_ca: CA, identities_by_key: dict[str, Identity]
) -> None:
    """tlslite-ng's TLS 1.2 server (the testing layer): CA list and schemes pick the RSA key,
    which may answer with PKCS#1 in TLS 1.2."""
    srv = peers.tlslite(
        versions=["TLSv1.2"],
        require_client_cert=True,
        trusted=[root_ca.certificate],
        ca_names=[root_ca.name],
        signature_schemes=["rsa_pkcs1_sha256", "ecdsa_secp384r1_sha384"],
    )
    candidates = [identities_by_key["ed25519"], identities_by_key["rsa2048"]]
    tls, body = fetch(context(peers.pki, candidates), srv.address)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, identities_by_key["rsa2048"])
    assert tls.selection.scheme == "rsa_pkcs1_sha256"
    assert verdicts(tls.selection)["client-ed25519"][0] == "no-common-scheme"
    record = srv.next_record()
    assert record.accepted, record.error
    assert record.subject == subject_of(identities_by_key["rsa2048"])
