"""Record layer (RFC 8446 section 5): protection, framing limits, reassembly."""

from __future__ import annotations

import pytest

from tlsengine.errors import TLSError
from tlsengine.protocol.keyschedule import CIPHER_SUITES
from tlsengine.protocol.record import (
    HANDSHAKE,
    MAX_PLAINTEXT,
    HandshakeReassembler,
    RecordProtection,
    RecordReader,
    plaintext_records,
)

SECRET = bytes(range(48))


def _pair(suite: str) -> tuple[RecordProtection, RecordProtection]:
    s = CIPHER_SUITES[suite]
    return RecordProtection(s, SECRET[: s.hash_length]), RecordProtection(
        s, SECRET[: s.hash_length]
    )


def _split(record: bytes) -> tuple[bytes, memoryview]:
    return record[:5], memoryview(record)[5:]


@pytest.mark.parametrize("suite", sorted(CIPHER_SUITES))
def test_protected_record_round_trips_with_inner_content_type(suite: str) -> None:
    sender, receiver = _pair(suite)
    record = sender.seal(23, b"hello")
    assert record[:3] == b"\x17\x03\x03"  # opaque_type application_data, legacy 0x0303
    assert int.from_bytes(record[3:5], "big") == len(record) - 5 == 5 + 1 + 16
    assert receiver.open(*_split(record)) == (23, b"hello")


def test_nonce_is_iv_xor_sequence_so_equal_plaintexts_differ() -> None:
    sender, receiver = _pair("TLS_AES_128_GCM_SHA256")
    first, second = sender.seal(23, b"same"), sender.seal(23, b"same")
    assert first != second
    assert receiver.open(*_split(first)) == (23, b"same")
    assert receiver.open(*_split(second)) == (23, b"same")
    assert receiver.seq == 2


def test_out_of_order_record_fails_with_bad_record_mac() -> None:
    sender, receiver = _pair("TLS_CHACHA20_POLY1305_SHA256")
    sender.seal(23, b"one")
    second = sender.seal(23, b"two")
    with pytest.raises(TLSError) as info:
        receiver.open(*_split(second))
    assert info.value.send_alert == "bad_record_mac"


def test_tampered_header_is_authenticated_data() -> None:
    sender, receiver = _pair("TLS_AES_256_GCM_SHA384")
    record = bytearray(sender.seal(23, b"data"))
    record[2] = 0x01  # legacy_record_version is part of the AAD
    with pytest.raises(TLSError, match="bad_record_mac"):
        receiver.open(bytes(record[:5]), memoryview(bytes(record))[5:])


def test_padding_is_stripped_to_find_the_content_type() -> None:
    sender, receiver = _pair("TLS_AES_128_GCM_SHA256")
    record = sender.seal(22, b"\x14\x00\x00\x00", padding=100)
    assert receiver.open(*_split(record)) == (22, b"\x14\x00\x00\x00")


def test_all_zero_inner_plaintext_is_unexpected_message() -> None:
    sender, receiver = _pair("TLS_AES_128_GCM_SHA256")
    record = sender.seal(0, b"", padding=20)
    with pytest.raises(TLSError) as info:
        receiver.open(*_split(record))
    assert info.value.send_alert == "unexpected_message"


def test_inner_plaintext_over_2_14_plus_1_is_record_overflow() -> None:
    sender, receiver = _pair("TLS_AES_128_GCM_SHA256")
    record = sender.seal(23, bytes(MAX_PLAINTEXT), padding=10)
    with pytest.raises(TLSError) as info:
        receiver.open(*_split(record))
    assert info.value.send_alert == "record_overflow"


def test_ciphertext_length_over_2_14_plus_256_is_record_overflow() -> None:
    reader = RecordReader()
    reader.feed(b"\x17\x03\x03" + (MAX_PLAINTEXT + 257).to_bytes(2, "big"))
    with pytest.raises(TLSError) as info:
        reader.next_record()
    assert info.value.send_alert == "record_overflow"


def test_unknown_content_type_is_unexpected_message() -> None:
    reader = RecordReader()
    reader.feed(b"\x63\x03\x03\x00\x01\x00")
    with pytest.raises(TLSError) as info:
        reader.next_record()
    assert info.value.send_alert == "unexpected_message"


def test_reader_keeps_partial_records_across_feeds() -> None:
    stream = plaintext_records(HANDSHAKE, b"a" * 10) + plaintext_records(21, b"\x02\x28")
    reader = RecordReader()
    got = []
    for i in range(len(stream)):
        reader.feed(stream[i : i + 1])
        while (rec := reader.next_record()) is not None:
            got.append((rec[0], bytes(rec[2])))
    assert got == [(HANDSHAKE, b"a" * 10), (21, b"\x02\x28")]
    assert reader.buffered == 0


def test_plaintext_records_fragment_at_2_14() -> None:
    data = bytes(MAX_PLAINTEXT * 2 + 5)
    reader = RecordReader()
    reader.feed(plaintext_records(HANDSHAKE, data))
    sizes = []
    while (rec := reader.next_record()) is not None:
        sizes.append(len(rec[2]))
    assert sizes == [MAX_PLAINTEXT, MAX_PLAINTEXT, 5]


def _message(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


def test_handshake_message_split_across_records_is_reassembled() -> None:
    message = _message(11, bytes(range(200)) * 3)
    parts = HandshakeReassembler()
    out = []
    for start in range(0, len(message), 7):
        parts.feed(message[start : start + 7])
        while (m := parts.next_message()) is not None:
            out.append(m)
    assert out == [message]
    assert parts.empty


def test_several_handshake_messages_in_one_record_come_out_in_order() -> None:
    messages = [_message(8, b"\x00\x00"), _message(11, b"x" * 40), _message(20, b"f" * 32)]
    parts = HandshakeReassembler()
    parts.feed(b"".join(messages))
    out = []
    while (m := parts.next_message()) is not None:
        out.append(m)
    assert out == messages


def test_absurd_handshake_length_is_refused_without_waiting_for_it() -> None:
    parts = HandshakeReassembler()
    parts.feed(b"\x0b\xff\xff\xff")
    with pytest.raises(TLSError, match="larger than"):
        parts.next_message()


def test_record_protection_repr_shows_no_key() -> None:
    sender, _ = _pair("TLS_AES_128_GCM_SHA256")
    assert SECRET[:8].hex() not in repr(sender)
    assert "seq=0" in repr(sender)
