"""Wire formats tlslite-ng lacks (extensions 47 and 48, TLS 1.3 Certificate) and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsengine.errors import DecodeError, TLSError
from tlsengine.protocol import ClientConfig, ClientConnection
from tlsengine.protocol.wire import (
    decode_certificate13,
    decode_certificate_authorities,
    decode_oid_filters,
    encode_certificate13,
    scheme_names,
)


def _vec(data: bytes, size: int) -> bytes:
    return len(data).to_bytes(size, "big") + data


def test_empty_certificate_authorities_list_is_read_as_no_names() -> None:
    """RFC 8446 4.2.4 says <3..2^16-1>, but OpenSSL's -no_ca_names sends an empty list."""
    assert decode_certificate_authorities(b"\x00\x00") == []


def test_certificate_authorities_decode_to_der_names(root_ca, other_root_ca) -> None:
    names = [root_ca.name.public_bytes(), other_root_ca.name.public_bytes()]
    ext = _vec(b"".join(_vec(n, 2) for n in names), 2)
    assert decode_certificate_authorities(ext) == names


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\x00\x05\x00\x03ab",
        b"\x00\x02\x00\x00",
        b"\x00\x03\x00\x01\x30\xff",
    ],
)
def test_malformed_certificate_authorities_is_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_certificate_authorities(data)


def test_oid_filters_decode_to_dotted_oids() -> None:
    eku = bytes.fromhex("551d25")  # 2.5.29.37 extKeyUsage
    values = bytes.fromhex("300a06082b06010505070302")
    ext = _vec(_vec(eku, 1) + _vec(values, 2), 2)
    assert decode_oid_filters(ext) == [("2.5.29.37", values)]
    with pytest.raises(DecodeError):
        decode_oid_filters(_vec(_vec(b"\x55\x9d", 1) + _vec(b"", 2), 2))  # OID ends mid-arc


def test_certificate13_round_trips_and_refuses_empty_entries() -> None:
    raw = encode_certificate13(b"ctx", [b"\x30\x03abc", b"\x30\x01z"])
    assert decode_certificate13(raw) == (b"ctx", [b"\x30\x03abc", b"\x30\x01z"])
    empty_entry = b"\x0b\x00\x00\x09" + b"\x00" + _vec(b"\x00\x00\x00\x00\x00", 3)
    with pytest.raises(DecodeError):
        decode_certificate13(empty_entry)


def test_unknown_scheme_codes_keep_their_number() -> None:
    assert scheme_names([(8, 4), 0x0403, 0x0A0A]) == [
        "rsa_pss_rsae_sha256",
        "ecdsa_secp256r1_sha256",
        "0x0a0a",
    ]


def _started() -> ClientConnection:
    conn = ClientConnection(ClientConfig(server_name="example.test"))
    conn.start_handshake()
    conn.data_to_send()
    return conn


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_raise_only_tls_errors(data: bytes) -> None:
    conn = _started()
    try:
        conn.receive_data(data)
    except TLSError:
        return


RECORD_TYPES = st.sampled_from([20, 21, 22, 23])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(RECORD_TYPES, st.binary(max_size=600)), min_size=1, max_size=6))
def test_well_framed_records_of_garbage_raise_only_tls_errors(records) -> None:
    """Framing right, contents wrong: the decoders behind the framing must hold too."""
    conn = _started()
    stream = b"".join(bytes((t,)) + b"\x03\x03" + _vec(body, 2) for t, body in records)
    try:
        conn.receive_data(stream)
    except TLSError:
        return


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 254), st.binary(max_size=400))
def test_garbage_handshake_messages_raise_only_tls_errors(msg_type: int, body: bytes) -> None:
    conn = _started()
    message = bytes((msg_type,)) + _vec(body, 3)
    try:
        conn.receive_data(b"\x16\x03\x03" + _vec(message, 2))
    except TLSError as exc:
        assert conn.data_to_send()[:1] == b"\x15"  # our fatal alert is queued
        assert str(exc)
