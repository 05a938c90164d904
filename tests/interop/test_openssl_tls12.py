"""tlsengine against ``openssl s_server -tls1_2 -Verify 1 -verify_return_error`` (RFC 5246).

The same client context that speaks TLS 1.3 elsewhere: the server's version picks the TLS 1.2
machine. s_server lists its ``-CAfile`` names in the CertificateRequest itself and
``-client_sigalgs`` narrows supported_signature_algorithms, so both steer the choice.
"""

from __future__ import annotations

import pytest
from peers import OpenSSLServer, Peers, ServerPKI, make_server_pki

from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .client import assert_sent, assert_sent_empty, context, fetch, fetch_rejected, verdicts
from .conftest import KEY_TYPES
from .test_openssl import page_subject

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop

#: IANA name -> OpenSSL's name, for ``-cipher`` (every TLS 1.2 suite the client offers).
SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
}
# what a TLS 1.2 CertificateVerify from each key type may use (PKCS#1 allowed, any ECDSA hash)
SCHEMES_12 = {
    "rsa2048": {"rsa_pss_rsae_sha256", "rsa_pkcs1_sha256", "rsa_pss_rsae_sha384"},
    "p256": {"ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "ecdsa_secp521r1_sha512"},
    "p384": {"ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "ecdsa_secp521r1_sha512"},
    "ed25519": {"ed25519"},
}


@pytest.fixture(scope="session")
def rsa_server_pki(root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> ServerPKI:
    """A localhost server with an RSA key, for the ECDHE_RSA suites."""
    return make_server_pki(root_ca, tmp_path_factory.mktemp("rsa-server-pki"), key="rsa2048")


def openssl12(peers: Peers, **kw: object) -> OpenSSLServer:
    return peers.openssl(tls="1.2", **kw)  # type: ignore[arg-type]


def assert_server_got(srv: OpenSSLServer, cn: str) -> None:
    assert f"CN = {cn}" in srv.client_subjects(), srv.stderr[-2000:]
    received = srv.received_handshake()
    assert "Certificate" in received and "CertificateVerify" in received, received
    assert "ClientKeyExchange" in received, received


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_mtls_handshake_with_every_key_type(
    peers: Peers, identities_by_key: dict[str, Identity], key_type: str
) -> None:
    identity = identities_by_key[key_type]
    srv = openssl12(peers)
    tls, page = fetch(context(peers.pki, [identity]), srv.address)
    assert tls.version() == "TLSv1.2"
    assert_sent(tls, identity)
    assert tls.certificate_request.version == "TLSv1.2"
    assert tls.selection.scheme in SCHEMES_12[key_type]
    assert page_subject(page) == f"CN=client {key_type}"
    assert b"Protocol  : TLSv1.2" in page
    assert_server_got(srv, f"client {key_type}")


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_tls12_suite(
    peers: Peers, rsa_server_pki: ServerPKI, identity_a: Identity, suite: str
) -> None:
    pki = rsa_server_pki if "_RSA_" in suite else peers.pki
    srv = openssl12(peers, pki=pki, extra=["-cipher", SUITES[suite]])
    tls, page = fetch(context(pki, [identity_a]), srv.address)
    assert tls.cipher() == (suite, "TLSv1.2", 128 if "AES_128" in suite else 256)
    assert f"Cipher    : {SUITES[suite]}".encode() in page
    assert_sent(tls, identity_a)


@pytest.mark.parametrize("group", ["x25519", "secp256r1", "secp384r1"])
def test_every_ecdhe_group(peers: Peers, identity_a: Identity, group: str) -> None:
    """The client's groups pick the curve. OpenSSL also wants the client certificate's
    curve (P-256) among them (t1_lib.c tls12_check_peer_sigalg), so P-256 stays listed."""
    srv = openssl12(peers)
    groups = [group] + [g for g in ("secp256r1",) if g != group]
    tls, page = fetch(context(peers.pki, [identity_a], groups=groups), srv.address)
    ske = [e for e in tls.transcript if e.get("type") == "ServerKeyExchange"]
    assert ske and ske[0]["group"] == group
    assert page_subject(page) == "CN=client A"


def test_request_fields_reach_selection(peers: Peers, identity_a: Identity, root_ca: CA) -> None:
    srv = openssl12(peers)
    tls, _ = fetch(context(peers.pki, [identity_a]), srv.address)
    info = tls.certificate_request
    assert info.version == "TLSv1.2"
    assert "ecdsa_sign" in info.certificate_types and "rsa_sign" in info.certificate_types
    assert list(info.certificate_authorities) == [root_ca.name]
    assert "rsa_pkcs1_sha256" in info.signature_schemes  # PKCS#1 is a TLS 1.2 scheme
    assert info.signature_schemes_cert is None


def test_identity_chosen_by_the_tls12_ca_list(
    peers: Peers, identity_a: Identity, identity_b: Identity, identity_stranger: Identity
) -> None:
    srv = openssl12(peers)
    tls, page = fetch(context(peers.pki, [identity_stranger, identity_b, identity_a]), srv.address)
    assert_sent(tls, identity_a)
    v = verdicts(tls.selection)
    assert v["client-b"][0] == "ca-mismatch" and v["client-stranger"][0] == "ca-mismatch"
    assert_server_got(srv, "client A")


def test_client_sigalgs_let_only_one_identity_fit(
    peers: Peers, identities_by_key: dict[str, Identity]
) -> None:
    """-client_sigalgs RSA+SHA256: only the RSA key can answer, and with PKCS#1 (TLS 1.2)."""
    srv = openssl12(peers, client_sigalgs="RSA+SHA256")
    candidates = [identities_by_key[k] for k in ("p256", "ed25519", "rsa2048", "p384")]
    tls, page = fetch(context(peers.pki, candidates), srv.address)
    assert list(tls.certificate_request.signature_schemes) == ["rsa_pkcs1_sha256"]
    assert_sent(tls, identities_by_key["rsa2048"])
    assert tls.selection.scheme == "rsa_pkcs1_sha256"
    v = verdicts(tls.selection)
    assert {v[f"client-{k}"][0] for k in ("p256", "ed25519", "p384")} == {"no-common-scheme"}
    assert page_subject(page) == "CN=client rsa2048"


def test_ca_list_naming_no_identity_sends_empty_certificate_and_is_rejected(
    peers: Peers, identity_stranger: Identity
) -> None:
    srv = openssl12(peers)
    tls, error = fetch_rejected(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent_empty(tls)
    assert error.alert in ("handshake_failure", "certificate_required")
    assert error.selection is not None and error.selection.identity is None
    assert verdicts(error.selection)["client-stranger"][0] == "ca-mismatch"
    srv.wait_for_output(r"peer did not return a certificate")
    assert "CertificateVerify" not in srv.received_handshake()


def test_tls12_only_client_and_server(peers: Peers, identity_a: Identity) -> None:
    srv = openssl12(peers)
    ctx = context(peers.pki, [identity_a], maximum_version="TLSv1.2")
    tls, page = fetch(ctx, srv.address)
    hello = [e for e in tls.transcript if e["type"] == "ClientHello"][0]
    assert hello["versions"] == ["TLSv1.2"]
    assert not any(s.startswith("TLS_AES") for s in hello["cipher_suites"])
    assert page_subject(page) == "CN=client A"


def test_tls13_only_client_refuses_a_tls12_server(peers: Peers, identity_a: Identity) -> None:
    from tlsengine import TLSError

    srv = openssl12(peers)
    ctx = context(peers.pki, [identity_a], minimum_version="TLSv1.3")
    with pytest.raises(TLSError, match="protocol_version|TLS 1.3"):
        fetch(ctx, srv.address)


def test_no_common_suite_is_one_error_naming_what_we_offered(
    peers: Peers, identity_a: Identity
) -> None:
    """s_server limited to a CBC suite we never offer answers with handshake_failure."""
    from tlsengine import AlertReceived

    srv = openssl12(peers, extra=["-cipher", "ECDHE-ECDSA-AES128-SHA"])
    with pytest.raises(AlertReceived) as info:
        fetch(context(peers.pki, [identity_a]), srv.address)
    message = str(info.value)
    assert info.value.description == "handshake_failure"
    assert "cipher suite" in message and "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" in message


def test_context_cipher_suites_may_name_tls12_suites(peers: Peers, identity_a: Identity) -> None:
    suite = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
    srv = openssl12(peers)
    tls, page = fetch(context(peers.pki, [identity_a], cipher_suites=[suite]), srv.address)
    assert tls.cipher()[0] == suite
    hello = [e for e in tls.transcript if e["type"] == "ClientHello"][0]
    assert [s for s in hello["cipher_suites"] if s.startswith("TLS_ECDHE")] == [suite]
    assert "TLS_AES_128_GCM_SHA256" in hello["cipher_suites"]  # TLS 1.3 keeps its defaults


@pytest.mark.parametrize(
    ("sigalgs", "scheme"),
    [
        ("RSA+SHA256", "rsa_pkcs1_sha256"),
        ("RSA+SHA384", "rsa_pkcs1_sha384"),
        ("RSA-PSS+SHA256", "rsa_pss_rsae_sha256"),
        ("RSA-PSS+SHA512", "rsa_pss_rsae_sha512"),
    ],
)
def test_rsa_server_key_exchange_signatures(
    peers: Peers,
    rsa_server_pki: ServerPKI,
    identities_by_key: dict[str, Identity],
    sigalgs: str,
    scheme: str,
) -> None:
    """s_server -sigalgs picks how its RSA key signs the ServerKeyExchange (PKCS#1 or PSS);
    it narrows its CertificateRequest the same way, so the RSA identity answers alike."""
    srv = openssl12(peers, pki=rsa_server_pki, extra=["-sigalgs", sigalgs])
    identity = identities_by_key["rsa2048"]
    tls, page = fetch(context(rsa_server_pki, [identity]), srv.address)
    ske = [e for e in tls.transcript if e.get("type") == "ServerKeyExchange"]
    assert ske and ske[0]["scheme"] == scheme
    assert tls.selection.scheme == scheme
    assert page_subject(page) == "CN=client rsa2048"
