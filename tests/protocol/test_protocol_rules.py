"""RFC 8446 MUSTs on the client side, each checked with a hand-made server message.

The server side here is crafted bytes, not a mock: each test builds the exact ServerHello or
record the RFC talks about and checks the error and the alert we queue.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tlslite.constants import TLS_1_2_DOWNGRADE_SENTINEL, TLS_1_3_HRR
from tlslite.extensions import (
    CookieExtension,
    HRRKeyShareExtension,
    KeyShareEntry,
    ServerKeyShareExtension,
    SrvSupportedVersionsExtension,
)
from tlslite.messages import ClientHello, ServerHello
from tlslite.utils.codec import Parser

from tlsengine.errors import HandshakeError, TLSError
from tlsengine.protocol import ClientConfig, ClientConnection, State

ALERT_NAMES = {10: "unexpected_message", 47: "illegal_parameter", 70: "protocol_version"}


def _start(**kw) -> tuple[ClientConnection, ClientHello]:
    conn = ClientConnection(ClientConfig(server_name="example.test", trace=True, **kw))
    conn.start_handshake()
    out = conn.data_to_send()
    assert out[:3] == b"\x16\x03\x01"  # first ClientHello record: legacy 0x0301
    hello = ClientHello().parse(Parser(bytearray(out[6:])))
    return conn, hello


def _record(msg: bytes, content_type: int = 22) -> bytes:
    return bytes((content_type,)) + b"\x03\x03" + len(msg).to_bytes(2, "big") + msg


def _server_hello(
    hello: ClientHello,
    *,
    random: bytes | None = None,
    version: tuple[int, int] | None = (3, 4),
    suite: int = 0x1301,
    session_id: bytes | None = None,
    share: bytes | None = None,
    group: int = 0x001D,
    extra: list | None = None,
) -> bytes:
    exts: list = []
    if version is not None:
        exts.append(SrvSupportedVersionsExtension().create(version))
    if share is None:
        share = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    exts.append(ServerKeyShareExtension().create(KeyShareEntry().create(group, bytearray(share))))
    exts += extra or []
    sh = ServerHello().create(
        (3, 3),
        bytearray(random if random is not None else bytes(range(32))),
        bytearray(hello.session_id if session_id is None else session_id),
        suite,
        extensions=exts,
    )
    return bytes(sh.write())


def _hrr(hello: ClientHello, group: int | None = 0x0017, cookie: bytes | None = None) -> bytes:
    exts: list = [SrvSupportedVersionsExtension().create((3, 4))]
    if group is not None:
        exts.append(HRRKeyShareExtension().create(group))
    if cookie is not None:
        exts.append(CookieExtension().create(bytearray(cookie)))
    sh = ServerHello().create(
        (3, 3), bytearray(TLS_1_3_HRR), bytearray(hello.session_id), 0x1301, extensions=exts
    )
    return bytes(sh.write())


def _alert_sent(conn: ClientConnection) -> str:
    out = conn.data_to_send()
    assert out[:1] == b"\x15", out[:8]
    assert out[5] == 2  # fatal
    return ALERT_NAMES.get(out[6], str(out[6]))


def test_client_hello_offers_tls13_and_tls12_with_compat_session_id_and_sni() -> None:
    _, hello = _start()
    assert hello.client_version == (3, 3)
    assert len(hello.session_id) == 32  # middlebox compatibility mode (D.4)
    assert hello.getExtension(43).versions == [(3, 4), (3, 3)]
    assert bytes(hello.server_name) == b"example.test"
    assert [s.group for s in hello.getExtension(51).client_shares] == [0x001D]


def test_sni_is_omitted_for_ip_literals() -> None:
    conn = ClientConnection(ClientConfig(server_name="127.0.0.1"))
    conn.start_handshake()
    hello = ClientHello().parse(Parser(bytearray(conn.data_to_send()[6:])))
    assert hello.getExtension(0) is None


def test_post_handshake_auth_is_advertised_only_with_identities(root_ca) -> None:
    _, hello = _start()
    assert hello.getExtension(49) is None
    _, hello = _start(identities=[root_ca.identity("pha", "p256")])
    assert hello.getExtension(49) is not None


def test_downgrade_sentinel_aborts_with_illegal_parameter() -> None:
    """4.1.3: a TLS 1.3 client MUST check the last 8 bytes of ServerHello.random."""
    conn, hello = _start()
    random = bytes(24) + TLS_1_2_DOWNGRADE_SENTINEL
    with pytest.raises(HandshakeError, match="downgrade"):
        conn.receive_data(_record(_server_hello(hello, random=random, version=None)))
    assert _alert_sent(conn) == "illegal_parameter"
    assert conn.state is State.CLOSED


def test_server_choosing_tls12_below_minimum_version_is_protocol_version() -> None:
    conn, hello = _start(min_version="TLSv1.3")
    assert hello.getExtension(43).versions == [(3, 4)]
    with pytest.raises(HandshakeError, match="minimum_version is TLSv1.3"):
        conn.receive_data(_record(_server_hello(hello, version=None, suite=0xC02B)))
    assert _alert_sent(conn) == "protocol_version"


def test_session_id_must_be_echoed() -> None:
    """4.1.3: legacy_session_id_echo not matching ours is illegal_parameter."""
    conn, hello = _start()
    with pytest.raises(HandshakeError, match="legacy_session_id"):
        conn.receive_data(_record(_server_hello(hello, session_id=bytes(32))))
    assert _alert_sent(conn) == "illegal_parameter"


def test_cipher_suite_not_offered_is_illegal_parameter() -> None:
    conn, hello = _start(cipher_suites=("TLS_AES_128_GCM_SHA256",))
    with pytest.raises(HandshakeError, match="did not offer"):
        conn.receive_data(_record(_server_hello(hello, suite=0x1302)))
    assert _alert_sent(conn) == "illegal_parameter"


def test_key_share_for_a_group_we_sent_no_share_for_is_illegal_parameter() -> None:
    conn, hello = _start()
    with pytest.raises(HandshakeError, match="key_share"):
        conn.receive_data(_record(_server_hello(hello, group=0x0017, share=b"\x04" + bytes(64))))
    assert _alert_sent(conn) == "illegal_parameter"


def test_invalid_x25519_share_is_illegal_parameter() -> None:
    conn, hello = _start()
    with pytest.raises(HandshakeError, match="invalid"):
        conn.receive_data(_record(_server_hello(hello, share=bytes(32))))  # low-order point
    assert _alert_sent(conn) == "illegal_parameter"


def test_hello_retry_request_resends_hello_with_new_share_and_cookie() -> None:
    """4.1.4: same random and session id, requested group's share, cookie echoed, CCS first."""
    conn, hello = _start()
    events = conn.receive_data(_record(_hrr(hello, group=0x0017, cookie=b"COOKIE")))
    assert events == []
    out = conn.data_to_send()
    assert out[:6] == b"\x14\x03\x03\x00\x01\x01"  # middlebox-compat change_cipher_spec
    second = ClientHello().parse(Parser(bytearray(out[6 + 5 + 1 :])))
    assert out[6:9] == b"\x16\x03\x03"
    assert second.random == hello.random and second.session_id == hello.session_id
    assert [s.group for s in second.getExtension(51).client_shares] == [0x0017]
    assert bytes(second.getExtension(44).cookie) == b"COOKIE"
    assert [t["type"] for t in conn.transcript][:3] == [
        "ClientHello",
        "HelloRetryRequest",
        "ClientHello",
    ]


def test_second_hello_retry_request_is_unexpected_message() -> None:
    conn, hello = _start()
    conn.receive_data(_record(_hrr(hello, group=0x0017)))
    conn.data_to_send()
    with pytest.raises(HandshakeError, match="second HelloRetryRequest"):
        conn.receive_data(_record(_hrr(hello, group=0x0018)))
    assert _alert_sent(conn) == "unexpected_message"


def test_hrr_for_a_group_already_shared_is_illegal_parameter() -> None:
    conn, hello = _start()
    with pytest.raises(HandshakeError, match="already sent"):
        conn.receive_data(_record(_hrr(hello, group=0x001D)))
    assert _alert_sent(conn) == "illegal_parameter"


def test_hrr_that_changes_nothing_is_illegal_parameter() -> None:
    conn, hello = _start()
    with pytest.raises(HandshakeError, match="would not change"):
        conn.receive_data(_record(_hrr(hello, group=None)))


def test_change_cipher_spec_during_handshake_is_dropped() -> None:
    """Section 5: a single-byte CCS after our first ClientHello is ignored."""
    conn, _ = _start()
    assert conn.receive_data(b"\x14\x03\x03\x00\x01\x01") == []
    with pytest.raises(TLSError, match="change_cipher_spec"):
        conn.receive_data(b"\x14\x03\x03\x00\x01\x02")


def test_protected_record_before_keys_is_unexpected_message() -> None:
    conn, _ = _start()
    with pytest.raises(TLSError, match="before any keys"):
        conn.receive_data(b"\x17\x03\x03\x00\x20" + bytes(32))
    assert _alert_sent(conn) == "unexpected_message"


def test_peer_alert_becomes_alert_received_and_we_send_nothing_back() -> None:
    from tlsengine.errors import AlertReceived

    conn, _ = _start()
    with pytest.raises(AlertReceived) as info:
        conn.receive_data(b"\x15\x03\x03\x00\x02\x02\x28")
    assert info.value.description == "handshake_failure"
    assert conn.data_to_send() == b""
    with pytest.raises(TLSError, match="already failed"):
        conn.receive_data(b"")


def test_receive_data_before_start_handshake_is_refused() -> None:
    conn = ClientConnection(ClientConfig())
    with pytest.raises(HandshakeError, match="before start_handshake"):
        conn.receive_data(b"\x16\x03\x03\x00\x00")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_server_hello_raises_only_tls_errors(data) -> None:
    conn, hello = _start()
    raw = bytearray(_server_hello(hello))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    try:
        conn.receive_data(_record(bytes(raw)))
    except TLSError:
        return


@pytest.mark.parametrize(
    "kw",
    [
        {"server_name": "bad..name"},
        {"server_name": "x" * 300},
        {"alpn_protocols": ("",)},
        {"cipher_suites": ("TLS_RSA_WITH_AES_128_CBC_SHA",)},
        {"groups": ("ffdhe2048",)},
        {"signature_schemes": ("md5_rsa",)},
        {"max_version": "TLSv1.1"},
        {"min_version": "TLSv1.3", "max_version": "TLSv1.2"},
        {"cipher_suites_12": ("TLS_RSA_WITH_AES_128_GCM_SHA256",)},
        {"random": lambda n: b"short"},
    ],
)
def test_bad_configuration_is_a_handshake_error_before_anything_is_sent(kw) -> None:
    conn = ClientConnection(ClientConfig(**kw))
    with pytest.raises(HandshakeError):
        conn.start_handshake()
    assert conn.data_to_send() == b""


def test_sni_uses_idna_and_skips_ip_literals() -> None:
    from tlsengine.protocol.tls13 import _sni_bytes

    assert _sni_bytes("127.0.0.1") is None and _sni_bytes("[::1]") is None
    assert _sni_bytes("bücher.example") == b"xn--bcher-kva.example"
