"""RFC 8446 section 4.2 (which extension may appear in which message), 4.2.1
(supported_versions) and the extension findings of issue 12 in ServerHello,
HelloRetryRequest, EncryptedExtensions and NewSessionTicket: each server message is otherwise
correct (encrypted and signed by the in-process server) and carries one violation."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proto_helpers import choose
from rfc8446_peer import (
    NEW_SESSION_TICKET,
    OracleServer,
    ext,
    handshake,
    post_handshake,
    refused,
    vec,
)
from tlslite.constants import TLS_1_3_HRR
from tlslite.messages import ClientHello
from tlslite.utils.codec import Parser

from tlsengine.protocol import (
    ClientConfig,
    ClientConnection,
    HandshakeComplete,
    SessionTicketReceived,
)
from tlsengine.protocol.wire import EXTENSION_MESSAGES, encode_handshake

# --------------------------------------------------------------------------- ServerHello, HRR


def _hello_answer(extensions: bytes, *, hrr: bool = False, **config) -> ClientConnection:
    """Start a client and feed it a ServerHello (or HRR) with exactly these extensions."""
    conn = ClientConnection(ClientConfig(**config))
    conn.start_handshake()
    hello = ClientHello().parse(Parser(bytearray(conn.data_to_send()[5:][1:])))
    random = TLS_1_3_HRR if hrr else bytes(range(32))
    body = b"\x03\x03" + bytes(random) + vec(bytes(hello.session_id), 1) + b"\x13\x01\x00"
    message = encode_handshake(2, body + vec(extensions, 2))
    conn.receive_data(b"\x16\x03\x03" + len(message).to_bytes(2, "big") + message)
    return conn


def _share() -> bytes:
    public = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    return ext(51, b"\x00\x1d" + vec(public, 2))


@pytest.mark.parametrize("version", [b"\x03\x03", b"\x7f\x1c", b"\x03\x05", b"\xfa\xfa"])
def test_4_2_1_server_hello_selecting_another_version_is_illegal_parameter(version):
    """ "If the "supported_versions" extension in the ServerHello contains a version not
    offered by the client or contains a version prior to TLS 1.3, the client MUST abort the
    handshake with an "illegal_parameter" alert." Found by the audit: we sent
    protocol_version for 0x0303 and draft versions."""
    extensions = ext(43, version) + _share()
    refused(lambda: _hello_answer(extensions), "illegal_parameter", match="supported_versions")


@pytest.mark.parametrize("version", [b"\x03\x03", b"\x7f\x1c"])
def test_4_2_1_hello_retry_request_selecting_another_version_is_illegal_parameter(version):
    extensions = ext(43, version) + ext(51, b"\x00\x17")
    refused(
        lambda: _hello_answer(extensions, hrr=True),
        "illegal_parameter",
        match="supported_versions",
    )


def test_4_2_alpn_in_server_hello_is_illegal_parameter():
    """Found by the audit (we sent unsupported_extension): ALPN belongs in
    EncryptedExtensions, even when we offered it."""
    extensions = ext(43, b"\x03\x04") + _share() + ext(16, vec(vec(b"h2", 1), 2))
    refused(
        lambda: _hello_answer(extensions, alpn_protocols=["h2"]),
        "illegal_parameter",
        match="extension 16",
    )


def test_4_2_unknown_extension_in_server_hello_is_unsupported_extension():
    """ "Implementations MUST NOT send extension responses if the remote endpoint did not
    send the corresponding extension requests"; receiving one is unsupported_extension."""
    extensions = ext(43, b"\x03\x04") + _share() + ext(0x4242, b"")
    refused(lambda: _hello_answer(extensions), "unsupported_extension")


# --------------------------------------------------------------------------- EncryptedExtensions


def _with_encrypted_extensions(server_material, extensions: bytes, **config):
    chain, key = server_material

    def mutate(index: int, message: bytes) -> bytes:
        return encode_handshake(8, vec(extensions, 2)) if message[0] == 8 else message

    return handshake(server_material, server=OracleServer(chain, key, mutate=mutate), **config)


@pytest.mark.parametrize(
    ("code", "body"),
    [
        (13, vec(b"\x04\x03", 2)),  # signature_algorithms
        (51, b"\x00\x1d" + vec(bytes(32), 2)),  # key_share
        (43, b"\x03\x04"),  # supported_versions
        (45, vec(b"\x01", 1)),  # psk_key_exchange_modes
        (49, b""),  # post_handshake_auth
        (41, b"\x00\x00"),  # pre_shared_key
        (44, vec(b"c", 2)),  # cookie
        (47, vec(b"", 2)),  # certificate_authorities
    ],
    ids=lambda v: str(v) if isinstance(v, int) else "",
)
def test_4_2_known_extension_in_encrypted_extensions_is_illegal_parameter(
    server_material, client_identity, code, body
):
    """Found by the audit for the first five (we sent unsupported_extension): a recognised
    extension not specified for EncryptedExtensions MUST abort with illegal_parameter."""
    assert "EncryptedExtensions" not in EXTENSION_MESSAGES[code]
    refused(
        lambda: _with_encrypted_extensions(server_material, ext(code, body)),
        "illegal_parameter",
        match=f"extension {code}",
    )


def test_4_2_early_data_we_did_not_offer_is_unsupported_extension(server_material):
    refused(
        lambda: _with_encrypted_extensions(server_material, ext(42, b"")),
        "unsupported_extension",
    )


def test_server_name_acknowledgement_must_be_empty(server_material):
    """RFC 6066 section 3: the server's server_name "extension_data" SHALL be empty. Found by
    the audit: a non-empty one was accepted."""
    sni = ext(0, vec(b"\x00" + vec(b"localhost", 2), 2))
    refused(
        lambda: _with_encrypted_extensions(server_material, sni, server_name="localhost"),
        "decode_error",
        match="server_name",
    )
    _, _, events = _with_encrypted_extensions(server_material, ext(0, b""), server_name="localhost")
    assert any(isinstance(e, HandshakeComplete) for e in events)


def test_4_2_repeated_extension_in_encrypted_extensions_is_illegal_parameter(server_material):
    refused(
        lambda: _with_encrypted_extensions(
            server_material, ext(0, b"") + ext(0, b""), server_name="localhost"
        ),
        "illegal_parameter",
        match="repeats",
    )


# --------------------------------------------------------------------------- NewSessionTicket


def _ticket(extensions: bytes) -> bytes:
    body = (3600).to_bytes(4, "big") + bytes(4) + vec(b"n", 1) + vec(b"ticket", 2)
    return body + vec(extensions, 2)


def _connected(server_material, client_identity):
    conn, server, _ = handshake(server_material, client_identity, select=choose(None))
    conn.data_to_send()
    return conn, server


@pytest.mark.parametrize("size", [0, 3, 5, 8])
def test_new_session_ticket_early_data_of_the_wrong_length_is_decode_error(
    server_material, client_identity, size
):
    """max_early_data_size is a uint32 (4.2.10). Found by the audit: any length accepted."""
    conn, server = _connected(server_material, client_identity)
    record = post_handshake(server, NEW_SESSION_TICKET, _ticket(ext(42, bytes(size))))
    refused(lambda: conn.receive_data(record), "decode_error", match="early_data")


def test_new_session_ticket_repeating_early_data_is_illegal_parameter(
    server_material, client_identity
):
    """Found by the audit: a duplicated early_data was accepted."""
    conn, server = _connected(server_material, client_identity)
    twice = ext(42, bytes(4)) + ext(42, bytes(4))
    record = post_handshake(server, NEW_SESSION_TICKET, _ticket(twice))
    refused(lambda: conn.receive_data(record), "illegal_parameter", match="repeats")


def test_new_session_ticket_with_known_misplaced_extension_is_illegal_parameter(
    server_material, client_identity
):
    conn, server = _connected(server_material, client_identity)
    record = post_handshake(server, NEW_SESSION_TICKET, _ticket(ext(51, b"\x00\x1d")))
    refused(lambda: conn.receive_data(record), "illegal_parameter")


def test_4_6_1_new_session_ticket_ignores_unrecognised_extensions(server_material, client_identity):
    """4.6.1: "Clients MUST ignore unrecognized extensions"; a 4-byte early_data is legal."""
    conn, server = _connected(server_material, client_identity)
    extensions = ext(0xFAFA, b"grease") + ext(42, (16384).to_bytes(4, "big"))
    events = conn.receive_data(post_handshake(server, NEW_SESSION_TICKET, _ticket(extensions)))
    assert [type(e) for e in events] == [SessionTicketReceived]


# --------------------------------------------------------------------------- property


def _expected_alert(types: list[int], offered: set[int]) -> str | None:
    """RFC 8446 4.2 for an EncryptedExtensions with these extension types,
    written out from the RFC's rules, independently of wire.check_extensions."""
    seen: set[int] = set()
    for code in types:
        if code in seen:
            return "illegal_parameter"
        seen.add(code)
        messages = EXTENSION_MESSAGES.get(code)
        if messages is not None and "EncryptedExtensions" not in messages:
            return "illegal_parameter"
        if code not in offered:
            return "unsupported_extension"
    return None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    types=st.lists(
        st.sampled_from([*EXTENSION_MESSAGES, 0x1234, 0xFAFA, 0xFF01]), min_size=1, max_size=5
    )
)
def test_4_2_encrypted_extensions_alert_follows_the_table(server_material, types):
    """Any mix of known (in or out of place) and unknown extensions gets the alert 4.2 names
    for the first offending one; only what we offered and EE may carry (an empty server_name
    ack, supported_groups) passes."""
    expected = _expected_alert(types, offered={0, 10})  # server_name and supported_groups
    block = b"".join(ext(code, vec(b"\x00\x1d", 2) if code == 10 else b"") for code in types)
    if expected is None:
        _, _, events = _with_encrypted_extensions(server_material, block, server_name="localhost")
        assert any(isinstance(e, HandshakeComplete) for e in events)
    else:
        refused(
            lambda: _with_encrypted_extensions(server_material, block, server_name="localhost"),
            expected,
        )
