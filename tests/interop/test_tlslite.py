"""tlsengine against tlslite-ng's server (``tlsengine.testing.TestServer``).

This is the peer whose CertificateRequest we dictate: ``certificate_authorities``
(extension 47), signature schemes nobody implements, ``signature_algorithms_cert``, and the
groups, including the hybrid X25519MLKEM768 that OpenSSL 3.0 lacks.
"""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from peers import Peers, subject_of

from tlsengine import DecodeError
from tlsengine.identity.model import Identity
from tlsengine.testing import CA

from .client import (
    assert_no_client_auth,
    assert_sent,
    assert_sent_empty,
    context,
    fetch,
    fetch_rejected,
    verdicts,
)
from .conftest import KEY_TYPES, TLS13_SUITES

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop

GROUPS = ("x25519", "secp256r1", "secp384r1", "x25519mlkem768")
ODD_SCHEMES = [0xFE00, "rsa_pkcs1_sha1", "ecdsa_secp384r1_sha384", 0x0B0B, "ed448"]


@pytest.fixture(scope="module")
def p384_root() -> CA:
    """A CA whose own signatures are ecdsa_secp384r1_sha384 (root A signs with P-256)."""
    return CA.root("tlsengine Test Root P384", key="p384")


@pytest.fixture(scope="module")
def odd(root_ca: CA, other_root_ca: CA, p384_root: CA) -> dict[str, Identity]:
    return {
        "a-p384": root_ca.identity("client A p384", "p384", alias="a-p384"),
        "b-p256": other_root_ca.identity("client B p256", "p256", alias="b-p256"),
        "b-p384": other_root_ca.identity("client B p384", "p384", alias="b-p384"),
        "c-p384": p384_root.identity("client C p384", "p384", alias="c-p384"),
    }


def test_ext47_odd_schemes_and_sig_algs_cert(
    peers: Peers, root_ca: CA, other_root_ca: CA, odd: dict[str, Identity]
):
    """CA names exclude a-p384, the schemes exclude b-p256: only b-p384 fits."""
    srv = peers.tlslite(
        require_client_cert=True,
        trusted=[root_ca.certificate, other_root_ca.certificate],
        ca_names=[other_root_ca.name],
        signature_schemes=ODD_SCHEMES,
        signature_schemes_cert=["ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"],
    )
    candidates = [odd["a-p384"], odd["b-p256"], odd["b-p384"]]
    tls, body = fetch(context(peers.pki, candidates), srv.address)
    info = tls.certificate_request
    assert list(info.certificate_authorities) == [other_root_ca.name]
    assert {"ecdsa_secp384r1_sha384", "ed448", "rsa_pkcs1_sha1"} <= set(info.signature_schemes)
    assert list(info.signature_schemes_cert) == ["ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"]
    assert_sent(tls, odd["b-p384"])
    assert tls.selection.scheme == "ecdsa_secp384r1_sha384"
    v = verdicts(tls.selection)
    assert v["a-p384"][0] == "ca-mismatch"
    assert v["b-p256"][0] == "no-common-scheme"
    assert v["b-p384"][0] == "chosen"
    assert subject_of(odd["b-p384"]).encode() in body
    record = srv.next_record()
    assert record.accepted, record.error
    assert record.subject == subject_of(odd["b-p384"])
    assert record.scheme == "ecdsa_secp384r1_sha384"
    assert record.offered_schemes == [
        "0xfe00",
        "rsa_pkcs1_sha1",
        "ecdsa_secp384r1_sha384",
        "0x0b0b",
        "ed448",
    ]


def test_sig_algs_cert_ranks_covered_chain_first(
    peers: Peers, root_ca: CA, p384_root: CA, odd: dict[str, Identity]
):
    """Both fit; only c-p384's chain is signed with a scheme in signature_algorithms_cert."""
    srv = peers.tlslite(
        require_client_cert=True,
        trusted=[root_ca.certificate, p384_root.certificate],
        ca_names=[root_ca.name, p384_root.name],
        signature_schemes_cert=["ecdsa_secp384r1_sha384"],
    )
    tls, _ = fetch(context(peers.pki, [odd["a-p384"], odd["c-p384"]]), srv.address)
    assert_sent(tls, odd["c-p384"])
    verdict, notes, _ = verdicts(tls.selection)["a-p384"]
    assert verdict == "outranked" and "cert-sig-unsupported" in notes
    assert srv.next_record().subject == subject_of(odd["c-p384"])


def test_sig_algs_cert_demotes_but_never_excludes(
    peers: Peers, root_ca: CA, odd: dict[str, Identity]
):
    srv = peers.tlslite(
        require_client_cert=True,
        trusted=[root_ca.certificate],
        ca_names=[root_ca.name],
        signature_schemes_cert=["ed448"],
    )
    tls, _ = fetch(context(peers.pki, [odd["a-p384"]]), srv.address)
    assert_sent(tls, odd["a-p384"])
    assert "cert-sig-unsupported" in verdicts(tls.selection)["a-p384"][1]
    assert srv.next_record().accepted


def test_wrong_ca_sends_empty_certificate_and_is_rejected(
    peers: Peers, root_ca: CA, identity_stranger: Identity
):
    srv = peers.tlslite(
        require_client_cert=True, trusted=[root_ca.certificate], ca_names=[root_ca.name]
    )
    tls, error = fetch_rejected(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent_empty(tls)
    assert error.alert == "certificate_required"
    assert error.selection.identity is None
    assert verdicts(error.selection)["client-stranger"][0] == "ca-mismatch"
    record = srv.next_record()
    assert record.certificate_received and record.chain == []
    assert "certificate_verify" not in record.handshake_messages


def test_untrusted_identity_without_ca_names_is_rejected(
    peers: Peers, root_ca: CA, identity_stranger: Identity
):
    """No CA names: the stranger goes out, and the server's unknown_ca comes back to us."""
    srv = peers.tlslite(require_client_cert=True, trusted=[root_ca.certificate])
    tls, error = fetch_rejected(context(peers.pki, [identity_stranger]), srv.address)
    assert_sent(tls, identity_stranger)
    assert error.alert == "unknown_ca"
    assert error.selection is not None and error.selection.identity is identity_stranger
    assert srv.next_record().error.startswith("unknown_ca")


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_key_types(peers: Peers, identities_by_key: dict[str, Identity], key_type: str):
    identity = identities_by_key[key_type]
    srv = peers.tlslite(require_client_cert=True, trusted=[identity.chain[-1]])
    tls, body = fetch(context(peers.pki, [identity]), srv.address)
    assert_sent(tls, identity)
    record = srv.next_record()
    assert record.accepted, record.error
    assert record.subject == subject_of(identity)
    assert record.scheme == tls.selection.scheme
    assert subject_of(identity).encode() in body


@pytest.mark.parametrize("suite", TLS13_SUITES)
def test_every_tls13_suite(peers: Peers, identity_a: Identity, suite: str):
    srv = peers.tlslite(request_client_cert=True, cipher_suites=[suite])
    tls, _ = fetch(context(peers.pki, [identity_a]), srv.address)
    assert tls.cipher()[0] == suite
    assert_sent(tls, identity_a)
    record = srv.next_record()
    assert record.cipher == suite and record.subject == subject_of(identity_a)


@pytest.mark.parametrize("group", GROUPS)
def test_every_group(peers: Peers, identity_a: Identity, group: str):
    """One group per server: a client without that key share must take a HelloRetryRequest."""
    srv = peers.tlslite(request_client_cert=True, groups=[group])
    tls, _ = fetch(context(peers.pki, [identity_a]), srv.address)
    assert_sent(tls, identity_a)
    record = srv.next_record()
    assert record.group == group
    assert record.accepted and record.subject == subject_of(identity_a)


def test_no_client_auth_server_gets_no_certificate(peers: Peers, identity_a: Identity):
    srv = peers.tlslite(request_client_cert=False)
    tls, body = fetch(context(peers.pki, [identity_a]), srv.address)
    assert_no_client_auth(tls)
    assert b"no client certificate" in body
    record = srv.next_record()
    assert record.accepted
    assert not record.certificate_received
    assert record.handshake_messages == ["client_hello", "finished"]


def test_oid_filters_exclude_leaves_without_the_extension_values(
    peers: Peers, root_ca: CA, identity_a: Identity
):
    """RFC 8446 section 4.2.5: the leaf must carry every filtered EKU purpose."""
    both = root_ca.identity(
        "client A both",
        "p256",
        alias="client-a-both",
        eku=[ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH],
    )
    srv = peers.tlslite(
        require_client_cert=True,
        trusted=[root_ca.certificate],
        oid_filters=[x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])],
    )
    tls, _ = fetch(context(peers.pki, [identity_a, both]), srv.address)
    assert [oid for oid, _ in tls.certificate_request.oid_filters] == ["2.5.29.37"]
    assert_sent(tls, both)
    assert verdicts(tls.selection)["client-a"][0] == "oid-filter-mismatch"
    assert srv.next_record().subject == subject_of(both)


def test_post_handshake_auth(peers: Peers, root_ca: CA, identity_a: Identity):
    """The server asks after our request; we answer while reading its response."""
    srv = peers.tlslite(
        require_client_cert=True,
        post_handshake_auth=True,
        trusted=[root_ca.certificate],
        ca_names=[root_ca.name],
    )
    tls, body = fetch(context(peers.pki, [identity_a]), srv.address)
    assert subject_of(identity_a).encode() in body
    record = srv.next_record()
    assert record.post_handshake and record.accepted, record.error
    assert record.subject == subject_of(identity_a)
    assert record.handshake_messages[-3:] == ["certificate", "certificate_verify", "finished"]
    assert tls.certificate_request is not None and tls.certificate_request.post_handshake
    assert tls.client_identity is not None
    assert tls.client_identity.fingerprint == identity_a.fingerprint


def test_post_handshake_auth_not_offered_without_identities(peers: Peers):
    srv = peers.tlslite(request_client_cert=True, post_handshake_auth=True)
    fetch(context(peers.pki, []), srv.address)
    assert srv.next_record().error == "client did not offer post_handshake_auth"


def test_empty_certificate_authorities_reads_as_no_ca_names(peers: Peers, identity_a: Identity):
    """authorities<3..2^16-1> forbids an empty list, but OpenSSL 3.0's ``-no_ca_names``
    sends one; the client treats it as "no CA names" (a deliberate deviation)."""
    srv = peers.tlslite(request_client_cert=True, extra_request_extensions=[(47, b"\x00\x00")])
    tls, _ = fetch(context(peers.pki, [identity_a]), srv.address)
    assert list(tls.certificate_request.certificate_authorities) == []
    assert_sent(tls, identity_a)
    assert srv.next_record().subject == subject_of(identity_a)


def test_unknown_request_extensions_are_ignored(peers: Peers, identity_a: Identity):
    """RFC 8446 section 4.2: unrecognised extensions in a CertificateRequest are ignored."""
    srv = peers.tlslite(
        request_client_cert=True, extra_request_extensions=[(0xFAFA, b"grease"), (0x4242, b"")]
    )
    tls, _ = fetch(context(peers.pki, [identity_a]), srv.address)
    assert_sent(tls, identity_a)
    assert srv.next_record().subject == subject_of(identity_a)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\x00\x05\x00\x03\x30\x01", id="truncated-name"),
        pytest.param(b"\x00\x04\x00\x02\x30\x00\xff", id="trailing-byte"),
        pytest.param(b"\x00\x03\x00\x01\xff", id="not-der"),
    ],
)
def test_malformed_certificate_authorities_is_a_decode_error(
    peers: Peers, identity_a: Identity, payload: bytes
):
    """A broken extension 47 ends the handshake with DecodeError, never a bare IndexError."""
    srv = peers.tlslite(request_client_cert=True, extra_request_extensions=[(47, payload)])
    with pytest.raises(DecodeError):
        fetch(context(peers.pki, [identity_a]), srv.address)
    record = srv.next_record()
    assert not record.accepted and "decode_error" in (record.error or "")


def test_transcript_and_reprs_hold_no_key_material(peers: Peers, identities_by_key):
    """The identity goes out; its private key shows up in no trace, repr or selection text."""
    identity = identities_by_key["p256"]
    srv = peers.tlslite(request_client_cert=True)
    tls, _ = fetch(context(peers.pki, [identity]), srv.address)
    assert_sent(tls, identity)
    secret = format(identity.private_key.private_numbers().private_value, "x")
    text = " ".join([repr(tls.transcript), repr(tls.selection), tls.selection.explain()])
    text += repr(tls.client_identity) + str(tls.client_identity)
    assert secret not in text.lower()
    assert "PRIVATE KEY" not in text


def test_ca_name_of_an_intermediate_selects_its_leaves(
    peers: Peers, root_ca: CA, identity_a: Identity
):
    """The server names only the intermediate; the leaf's issuer matches it."""
    intermediate = root_ca.intermediate("tlsengine Test Issuing CA A1")
    below = intermediate.identity("client A1", "p256", alias="client-a1")
    srv = peers.tlslite(
        require_client_cert=True,
        trusted=[intermediate.certificate],
        ca_names=[intermediate.name],
    )
    tls, _ = fetch(context(peers.pki, [identity_a, below]), srv.address)
    assert_sent(tls, below)
    assert verdicts(tls.selection)["client-a"][0] == "ca-mismatch"
    record = srv.next_record()
    assert record.accepted, record.error
    assert record.subjects == [  # the self-signed root is left out (RFC 8446 4.4.2)
        subject_of(below),
        intermediate.name.rfc4514_string(),
    ]


def test_send_client_root_sends_the_whole_chain(peers: Peers, root_ca: CA) -> None:
    """ClientContext(send_client_root=True) puts the self-signed root back in our chain."""
    intermediate = root_ca.intermediate("tlsengine Test Issuing CA A2")
    below = intermediate.identity("client A2", "p256", alias="client-a2")
    srv = peers.tlslite(require_client_cert=True, trusted=[root_ca.certificate])
    tls, _ = fetch(context(peers.pki, [below], send_client_root=True), srv.address)
    assert_sent(tls, below)
    record = srv.next_record()
    assert record.accepted, record.error
    assert record.subjects == [
        subject_of(below),
        intermediate.name.rfc4514_string(),
        root_ca.name.rfc4514_string(),
    ]
