"""The TLS 1.2 machine against an in-process server (tls12_server.py), one test per rule.

RFC 5246 (handshake, PRF, CertificateVerify), RFC 7627 (extended master secret required),
RFC 5746 (renegotiation_info always, bound to the previous Finished), RFC 8446 4.1.3
(downgrade sentinel), RFC 5288/7905 (AEAD records).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st
from tls12_server import Server12
from tlslite.constants import TLS_1_2_DOWNGRADE_SENTINEL
from tlslite.mathtls import PRF_1_2, PRF_1_2_SHA384
from tlslite.messages import ClientHello
from tlslite.utils.codec import Parser

from tlsengine.errors import (
    AlertReceived,
    CertificateVerificationError,
    ClientCertificateRejected,
    HandshakeError,
    TLSError,
)
from tlsengine.identity.model import Identity
from tlsengine.protocol import (
    ClientConfig,
    ClientConnection,
    DataReceived,
    HandshakeComplete,
    RenegotiationCompleted,
    State,
)
from tlsengine.protocol.prf import CIPHER_SUITES_12, prf
from tlsengine.protocol.record import RecordProtection12
from tlsengine.selection.schemes import verify

ALERTS = {
    10: "unexpected_message",
    40: "handshake_failure",
    47: "illegal_parameter",
    51: "decrypt_error",
}
# certificate_types ecdsa_sign; ecdsa_secp256r1_sha256; no CA names
REQUEST = b"\x01\x40" + b"\x00\x02\x04\x03" + b"\x00\x00"


def _client(identity: Identity | None = None, **kw: object) -> ClientConnection:
    config = ClientConfig(
        server_name="localhost",
        identities=[identity] if identity else [],
        trace=True,
        **kw,  # type: ignore[arg-type]
    )
    conn = ClientConnection(config)
    conn.start_handshake()
    return conn


def _server(server_material: tuple[list[bytes], object], **kw: object) -> Server12:
    chain, key = server_material
    return Server12(chain, key, **kw)  # type: ignore[arg-type]


def _hello(out: bytes) -> ClientHello:
    return ClientHello().parse(Parser(bytearray(out[6:])))


def _fatal_alert(conn: ClientConnection) -> str:
    out = conn.data_to_send()
    assert out[:1] == b"\x15" and out[5] == 2, out[:8]
    return ALERTS.get(out[6], str(out[6]))


def _handshake(conn: ClientConnection, srv: Server12, **first: object) -> list[object]:
    events = conn.receive_data(srv.first_flight(conn.data_to_send(), **first))
    events += conn.receive_data(srv.second_flight(conn.data_to_send()))
    return events


# ----------------------------------------------------------------------------- PRF, records


def test_prf_matches_the_published_sha256_vector() -> None:
    secret = bytes.fromhex("9bbe436ba940f017b17652849a71db35")
    seed = bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c")
    out = prf("sha256", secret, b"test label", seed, 100)
    assert out.hex().startswith("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a")
    assert out.hex().endswith("5110fff70187347b66")


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=64), st.integers(1, 200))
def test_prf_equals_tlslite_for_both_hashes(secret: bytes, seed: bytes, length: int) -> None:
    assert prf("sha256", secret, b"lbl", seed, length) == bytes(
        PRF_1_2(bytearray(secret), b"lbl", bytearray(seed), length)
    )
    assert prf("sha384", secret, b"lbl", seed, length) == bytes(
        PRF_1_2_SHA384(bytearray(secret), b"lbl", bytearray(seed), length)
    )


@pytest.mark.parametrize("name", sorted(CIPHER_SUITES_12))
def test_aead_record_round_trips_with_its_nonce_rule(name: str) -> None:
    suite = CIPHER_SUITES_12[name]
    key, iv = bytes(range(suite.key_length)), bytes(range(suite.fixed_iv_length))
    sender, receiver = RecordProtection12(suite, key, iv), RecordProtection12(suite, key, iv)
    first, second = sender.seal(23, b"hello"), sender.seal(23, b"hello")
    explicit = 8 if suite.aead == "aesgcm" else 0  # RFC 5288 explicit nonce; RFC 7905 none
    assert first[:3] == b"\x17\x03\x03" and len(first) == 5 + explicit + 5 + 16
    if explicit:
        assert first[5:13] == bytes(8) and second[5:13] == (1).to_bytes(8, "big")
    assert first != second
    assert receiver.open(first[:5], memoryview(first)[5:]) == (23, b"hello")
    assert receiver.open(second[:5], memoryview(second)[5:]) == (23, b"hello")


def test_record_header_type_is_authenticated() -> None:
    suite = CIPHER_SUITES_12["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"]
    sender = RecordProtection12(suite, bytes(32), bytes(12))
    receiver = RecordProtection12(suite, bytes(32), bytes(12))
    record = bytearray(sender.seal(23, b"data"))
    record[0] = 22  # claim handshake
    with pytest.raises(TLSError) as info:
        receiver.open(bytes(record[:5]), memoryview(bytes(record))[5:])
    assert info.value.send_alert == "bad_record_mac"


def test_short_protected_record_is_bad_record_mac() -> None:
    suite = CIPHER_SUITES_12["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
    receiver = RecordProtection12(suite, bytes(16), bytes(4))
    with pytest.raises(TLSError) as info:
        receiver.open(b"\x17\x03\x03\x00\x05", memoryview(bytes(5)))
    assert info.value.send_alert == "bad_record_mac"


# ----------------------------------------------------------------------------- ClientHello


def test_client_hello_offers_both_versions_with_tls12_requirements() -> None:
    hello = _hello(_client().data_to_send())
    assert hello.getExtension(43).versions == [(3, 4), (3, 3)]
    assert hello.getExtension(23) is not None  # extended_master_secret (RFC 7627)
    assert bytes(hello.getExtension(0xFF01).renegotiated_connection) == b""  # RFC 5746
    assert hello.getExtension(11).formats == [0]  # uncompressed points only
    assert 0xC02B in hello.cipher_suites and 0xCCA8 in hello.cipher_suites
    assert 0x00FF not in hello.cipher_suites  # the extension, not the SCSV


def test_tls12_only_client_hello_has_no_tls13_parts() -> None:
    hello = _hello(_client(max_version="TLSv1.2").data_to_send())
    assert hello.getExtension(43) is None and hello.getExtension(51) is None
    assert not [s for s in hello.cipher_suites if 0x1301 <= s <= 0x1303]


# ----------------------------------------------------------------------------- ServerHello


def test_full_handshake_reaches_connected_and_carries_data(server_material) -> None:
    conn, srv = _client(), _server(server_material)
    events = _handshake(conn, srv)
    assert conn.state is State.CONNECTED and conn.version == "TLSv1.2"
    assert [e for e in events if isinstance(e, HandshakeComplete)][0].version == "TLSv1.2"
    conn.send_data(b"ping")
    srv.take(conn.data_to_send())
    assert srv.app_data == [b"ping"]
    assert conn.receive_data(srv.application(b"pong")) == [DataReceived(b"pong")]


def test_missing_extended_master_secret_is_refused(server_material) -> None:
    """RFC 7627 5.2: a client that requires EMS aborts with handshake_failure."""
    conn, srv = _client(), _server(server_material, ems=False)
    with pytest.raises(HandshakeError, match="extended master secret"):
        conn.receive_data(srv.first_flight(conn.data_to_send()))
    assert _fatal_alert(conn) == "handshake_failure"


def test_missing_renegotiation_info_is_refused(server_material) -> None:
    conn, srv = _client(), _server(server_material, renegotiation_info=False)
    with pytest.raises(HandshakeError, match="secure renegotiation"):
        conn.receive_data(srv.first_flight(conn.data_to_send()))
    assert _fatal_alert(conn) == "handshake_failure"


def test_non_empty_initial_renegotiation_info_is_refused(server_material) -> None:
    """RFC 5746 3.4: the first ServerHello's renegotiated_connection must be empty."""
    conn, srv = _client(), _server(server_material)
    srv.client_verify = b"x" * 12
    with pytest.raises(HandshakeError, match="renegotiation_info"):
        conn.receive_data(srv.first_flight(conn.data_to_send()))
    assert _fatal_alert(conn) == "handshake_failure"


def test_downgrade_sentinel_in_tls12_server_hello_is_fatal(server_material) -> None:
    """RFC 8446 4.1.3: we offered TLS 1.3, so DOWNGRD\\x01 means an attacker."""
    conn, srv = _client(), _server(server_material)
    random = bytes(24) + bytes(TLS_1_2_DOWNGRADE_SENTINEL)
    with pytest.raises(HandshakeError, match="downgrade"):
        conn.receive_data(srv.first_flight(conn.data_to_send(), random=random))
    assert _fatal_alert(conn) == "illegal_parameter"


def test_sentinel_is_ignored_when_we_offered_only_tls12(server_material) -> None:
    conn, srv = _client(max_version="TLSv1.2"), _server(server_material)
    random = bytes(24) + bytes(TLS_1_2_DOWNGRADE_SENTINEL)
    _handshake(conn, srv, random=random)
    assert conn.state is State.CONNECTED


def test_bad_server_key_exchange_signature_is_decrypt_error(
    server_material, client_identity: Identity
) -> None:
    conn = _client(client_identity)
    srv = _server(server_material, request=REQUEST)
    with pytest.raises(HandshakeError, match="ServerKeyExchange signature"):
        conn.receive_data(srv.first_flight(conn.data_to_send(), bad_signature=True))
    assert _fatal_alert(conn) == "decrypt_error"
    assert conn.client_identity is None and conn.selection is None


def test_server_chain_is_verified_before_any_identity_leaves(
    server_material, client_identity: Identity
) -> None:
    seen: list[str] = []

    def verify_chain(chain: list[bytes]) -> None:
        seen.append("verified")
        raise CertificateVerificationError("untrusted", rule="unknown-issuer")

    conn = _client(client_identity, verify_chain=verify_chain)
    srv = _server(server_material, request=REQUEST)
    with pytest.raises(TLSError, match="untrusted"):
        conn.receive_data(srv.first_flight(conn.data_to_send()))
    assert seen == ["verified"] and conn.selection is None
    assert "Certificate" not in [e["type"] for e in conn.transcript if e["direction"] == "out"]
    assert conn.data_to_send()[:1] == b"\x15"  # only the alert (unknown_ca) goes out


# ----------------------------------------------------------------------------- client auth


def test_certificate_verify_signs_every_handshake_message(
    server_material, client_identity: Identity
) -> None:
    """RFC 5246 7.4.8: the signature covers handshake_messages up to ClientKeyExchange."""
    conn, srv = _client(client_identity), _server(server_material, request=REQUEST)
    events = _handshake(conn, srv)
    assert events[-1] == HandshakeComplete("TLSv1.2", SUITE_NAME, None, True)
    kinds = [m[0] for m in srv.client_messages]
    assert kinds == [1, 11, 16, 15, 20]  # ClientHello, Certificate, CKE, CertificateVerify, Fin
    cv = srv.client_message(15)
    assert cv[4:6] == b"\x04\x03"
    signed = bytes(srv.messages[: srv.messages.index(cv)])
    verify(
        client_identity.certificate.public_key(),
        "ecdsa_secp256r1_sha256",
        cv[8:],
        signed,
        version="TLSv1.2",
    )
    leaf = srv.client_message(11)[10:]
    assert leaf.startswith(client_identity.certificate.public_bytes(Encoding.DER))
    assert conn.certificate_request.certificate_types == ("ecdsa_sign",)


def test_nothing_fits_sends_empty_certificate_and_no_certificate_verify(
    server_material, root_ca
) -> None:
    rsa_only = b"\x01\x01" + b"\x00\x02\x04\x01" + b"\x00\x00"  # rsa_sign, rsa_pkcs1_sha256
    conn = _client(root_ca.identity("ec only", "p256"))
    srv = _server(server_material, request=rsa_only)
    _handshake(conn, srv)
    assert [m[0] for m in srv.client_messages] == [1, 11, 16, 20]
    assert srv.client_message(11) == b"\x0b\x00\x00\x03\x00\x00\x00"
    assert conn.client_identity is None
    assert conn.selection.verdicts[0][1] == "no-common-scheme"


def test_alert_after_our_certificate_is_a_rejection_with_the_selection(
    server_material, client_identity: Identity
) -> None:
    conn, srv = _client(client_identity), _server(server_material, request=REQUEST)
    conn.receive_data(srv.first_flight(conn.data_to_send()))
    conn.data_to_send()
    with pytest.raises(ClientCertificateRejected) as info:
        conn.receive_data(b"\x15\x03\x03\x00\x02\x02\x2a")  # bad_certificate
    assert info.value.selection is conn.selection and info.value.alert == "bad_certificate"


# ----------------------------------------------------------------------------- tickets


def test_ticket_is_saved_once_the_handshake_completes(server_material) -> None:
    saved: list[object] = []
    conn = _client(save_session=saved.append, clock=lambda: 100.0)
    assert _hello(conn.data_to_send()).getExtension(35) is not None  # empty session_ticket
    conn = _client(save_session=saved.append, clock=lambda: 100.0)
    srv = _server(server_material, ack_ticket=True, ticket=b"opaque-ticket")
    _handshake(conn, srv)
    (session,) = saved
    assert session.version == "TLSv1.2" and session.expires_at == 100.0 + 7200
    assert session.ticket == b"opaque-ticket" and "opaque" not in repr(session)


def test_new_session_ticket_the_server_did_not_announce_is_unexpected(server_material) -> None:
    conn = _client(save_session=lambda s: None, clock=lambda: 1.0)
    srv = _server(server_material, ticket=b"unannounced")
    conn.receive_data(srv.first_flight(conn.data_to_send()))
    with pytest.raises(HandshakeError, match="did not announce"):
        conn.receive_data(srv.second_flight(conn.data_to_send()))


def test_server_resuming_a_session_we_never_offered_is_illegal(server_material) -> None:
    conn, srv = _client(), _server(server_material, echo_session_id=True)
    with pytest.raises(HandshakeError, match="never offered"):
        conn.receive_data(srv.first_flight(conn.data_to_send()))
    assert _fatal_alert(conn) == "illegal_parameter"


def test_no_session_ticket_extension_without_resumption(server_material) -> None:
    assert _hello(_client().data_to_send()).getExtension(35) is None


# ----------------------------------------------------------------------------- renegotiation


def _renegotiate(conn: ClientConnection, srv: Server12) -> list[object]:
    events = conn.receive_data(srv.hello_request())
    events += conn.receive_data(srv.first_flight(conn.data_to_send()))
    events += conn.receive_data(srv.second_flight(conn.data_to_send()))
    return events


def test_renegotiation_is_bound_to_the_previous_finished(
    server_material, client_identity: Identity
) -> None:
    conn, srv = _client(client_identity), _server(server_material)
    _handshake(conn, srv)
    first_client_verify = srv.client_verify
    srv.request = REQUEST  # the new handshake asks for a certificate
    events = _renegotiate(conn, srv)
    assert events == [RenegotiationCompleted(client_certificate_sent=True)]
    hello = ClientHello().parse(Parser(bytearray(srv.client_messages[-5][1:])))
    assert bytes(hello.getExtension(0xFF01).renegotiated_connection) == first_client_verify
    assert hello.getExtension(43) is None  # renegotiation stays on TLS 1.2
    assert conn.client_identity is client_identity and conn.handshake_complete
    assert conn.receive_data(srv.application(b"after")) == [DataReceived(b"after")]


def test_server_certificate_may_not_change_in_renegotiation(server_material, root_ca) -> None:
    conn, srv = _client(), _server(server_material)
    _handshake(conn, srv)
    other, key = root_ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    srv.chain = [other.public_bytes(Encoding.DER)]
    srv.key = key
    conn.receive_data(srv.hello_request())
    with pytest.raises(HandshakeError, match="certificate changed during renegotiation"):
        conn.receive_data(srv.first_flight(conn.data_to_send()))


def test_renegotiation_info_mismatch_is_fatal(server_material) -> None:
    conn, srv = _client(), _server(server_material)
    _handshake(conn, srv)
    srv.server_verify = bytes(12)  # a server that forgot (or an attacker who never saw) it
    conn.receive_data(srv.hello_request())
    with pytest.raises(HandshakeError, match="renegotiation_info"):
        conn.receive_data(srv.first_flight(conn.data_to_send()))


def test_data_before_and_during_renegotiation_arrives_in_order(server_material) -> None:
    conn, srv = _client(), _server(server_material)
    _handshake(conn, srv)
    wire = srv.application(b"one") + srv.hello_request() + srv.application(b"two")
    assert conn.receive_data(wire) == [DataReceived(b"one"), DataReceived(b"two")]
    conn.send_data(b"client data mid-renegotiation")  # old keys until our CCS
    events = conn.receive_data(srv.first_flight(conn.data_to_send()))
    events += conn.receive_data(srv.second_flight(conn.data_to_send()) + srv.application(b"3"))
    assert events == [RenegotiationCompleted(False), DataReceived(b"3")]
    assert srv.app_data == [b"client data mid-renegotiation"]


@pytest.mark.parametrize(("policy", "answered"), [("never", 0), ("once", 1), ("freely", 3)])
def test_renegotiation_policy(server_material, policy: str, answered: int) -> None:
    conn, srv = _client(renegotiation=policy), _server(server_material)
    _handshake(conn, srv)
    for n in range(3):
        conn.receive_data(srv.hello_request())
        out = conn.data_to_send()
        if n >= answered:  # refused: a no_renegotiation warning, the connection lives on
            srv.take(out)
            assert srv.alerts[-1] == b"\x01\x64"
            assert conn.renegotiation_refused is not None
            assert conn.receive_data(srv.application(b"x")) == [DataReceived(b"x")]
            continue
        conn.receive_data(srv.first_flight(out))
        conn.receive_data(srv.second_flight(conn.data_to_send()))
    requests = [e for e in conn.transcript if e["type"] == "HelloRequest"]
    assert len(requests) == 3 and sum("refused" not in r for r in requests) == answered


def test_hello_request_during_a_handshake_is_ignored(server_material) -> None:
    """RFC 5246 7.4.1.1: ignored while negotiating."""
    conn, srv = _client(), _server(server_material)
    _handshake(conn, srv)
    conn.receive_data(srv.hello_request())
    conn.data_to_send()
    assert conn.receive_data(srv.hello_request()) == []
    assert conn.data_to_send() == b""


def test_alert_after_a_refused_renegotiation_names_the_policy(server_material) -> None:
    conn, srv = _client(renegotiation="never"), _server(server_material)
    _handshake(conn, srv)
    conn.receive_data(srv.hello_request())
    with pytest.raises(AlertReceived, match="renegotiation='once' or 'freely'"):
        conn.receive_data(srv.records(21, b"\x02\x28"))


def test_warning_alerts_are_ignored_but_not_without_end(server_material) -> None:
    conn, srv = _client(), _server(server_material)
    _handshake(conn, srv)
    warnings = b"".join(srv.records(21, b"\x01\x70") for _ in range(5))  # unrecognized_name
    assert conn.receive_data(warnings + srv.application(b"x")) == [DataReceived(b"x")]
    with pytest.raises(HandshakeError, match="warning alerts in a row"):
        conn.receive_data(b"".join(srv.records(21, b"\x01\x70") for _ in range(6)))


def test_key_update_is_refused_on_tls12(server_material) -> None:
    conn, srv = _client(), _server(server_material)
    _handshake(conn, srv)
    with pytest.raises(HandshakeError, match="only in TLS 1.3"):
        conn.request_key_update()


# ----------------------------------------------------------------------------- fuzz


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 2, 11, 12, 13, 14, 20, 99]), st.binary(max_size=80)),
        max_size=5,
    )
)
def test_arbitrary_tls12_messages_end_in_tls_errors(server_material, messages) -> None:
    conn, srv = _client(), _server(server_material)
    hello = srv.server_hello(conn.data_to_send()[5:])
    body = hello + b"".join(bytes((t,)) + len(b).to_bytes(3, "big") + b for t, b in messages)
    try:
        conn.receive_data(srv.records(22, body))
    except TLSError:
        assert conn.state is State.CLOSED


SUITE_NAME = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=120))
def test_arbitrary_certificate_request_bodies_end_in_tls_errors(
    server_material, body: bytes
) -> None:
    """The CertificateRequest decoder sits behind a verified ServerKeyExchange: reach it."""
    conn, srv = _client(), _server(server_material, request=body)
    try:
        conn.receive_data(srv.first_flight(conn.data_to_send()))
    except TLSError:
        assert conn.state is State.CLOSED
    else:
        assert conn.certificate_request is not None
        assert conn.state is State.WAIT_CHANGE_CIPHER_SPEC


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 1, 2, 4, 11, 12, 13, 14, 20, 24]), st.binary(max_size=60)),
        min_size=1,
        max_size=4,
    )
)
def test_arbitrary_messages_after_the_handshake_end_in_tls_errors(
    server_material, messages
) -> None:
    """Mid-connection (where a renegotiation may start) nothing but a TLSError escapes."""
    conn, srv = _client(renegotiation="freely"), _server(server_material)
    _handshake(conn, srv)
    body = b"".join(bytes((t,)) + len(b).to_bytes(3, "big") + b for t, b in messages)
    try:
        conn.receive_data(srv.records(22, body))
    except TLSError:
        assert conn.state is State.CLOSED


@pytest.mark.parametrize(
    "kw",
    [
        {"renegotiation": "sometimes"},
        {"cipher_suites_12": ()},
        {"cipher_suites_12": ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",)},
        {"min_version": "TLSv1.0"},
    ],
)
def test_bad_tls12_configuration_fails_before_anything_is_sent(kw: dict[str, object]) -> None:
    conn = ClientConnection(ClientConfig(**kw))  # type: ignore[arg-type]
    with pytest.raises(HandshakeError):
        conn.start_handshake()
    assert conn.data_to_send() == b""
