"""RFC 5246 section 6.2, the record layer (with RFC 5288 section 3, AES-GCM), where it
binds the client: every record the client writes in a handshake, a bulk write and a
close, read back by the oracle with its own keys and AES-GCM (rfc5246_peer.py)."""

from __future__ import annotations

import pytest
from rfc5246_peer import connect, open_records, read_client_flight

MAX_FRAGMENT = 2**14
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23


def _records(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(type, version, fragment) of each record, split by its header alone."""
    out = []
    while data:
        end = 5 + int.from_bytes(data[3:5], "big")
        out.append((data[0], data[1:3], data[5:end]))
        data = data[end:]
    return out


@pytest.fixture
def session(server_material):
    """Everything the client wrote: ClientHello, its flight, 40,000 bytes, close_notify;
    and the protected records after its ChangeCipherSpec, opened by the oracle."""
    conn, srv, _ = connect(server_material)
    flight = conn.data_to_send()
    opened = read_client_flight(srv, flight)
    conn.receive_data(srv.second_flight(flight))
    payload = bytes(range(256)) * 157  # 40,192 bytes: three records
    conn.send_data(payload)
    conn.send_close_notify()
    tail = conn.data_to_send()
    records = _records(flight + tail)
    ccs = [r[0] for r in records].index(CHANGE_CIPHER_SPEC)
    sealed = b"".join(
        bytes((t,)) + v + len(f).to_bytes(2, "big") + f for t, v, f in records[ccs + 1 :]
    )
    key, salt = opened.client_write
    return records, open_records(sealed, key, salt), payload


def test_6_2_1_no_zero_length_handshake_alert_or_change_cipher_spec_fragments(session):
    """ "Implementations MUST NOT send zero-length fragments of Handshake, Alert, or
    ChangeCipherSpec content types.\""""
    records, protected, _ = session
    assert all(f for t, _, f in records if t in (HANDSHAKE, CHANGE_CIPHER_SPEC))
    assert all(content for t, content, _ in protected if t in (HANDSHAKE, ALERT))


def test_6_2_1_fragments_are_at_most_2_14_bytes_and_keep_the_order(session):
    """ "The length (in bytes) of the following TLSPlaintext.fragment. The length MUST NOT
    exceed 2^14.\""""
    _, protected, payload = session
    data = [content for t, content, _ in protected if t == APPLICATION_DATA]
    assert len(data) == 3 and all(len(d) <= MAX_FRAGMENT for d in data)
    assert b"".join(data) == payload


def test_6_2_3_3_records_use_consecutive_sequence_numbers_and_distinct_nonces(session):
    """The oracle opens record i only with seq_num i in the additional data (6.2.3.3) and
    RFC 5288 3: "The nonce_explicit MUST be distinct for each distinct invocation of the GCM
    encrypt function for any fixed key." Finished, data and close_notify all open."""
    _, protected, _ = session
    assert [t for t, _, _ in protected] == [HANDSHAKE] + [APPLICATION_DATA] * 3 + [ALERT]
    nonces = [n for _, _, n in protected]
    assert len(set(nonces)) == len(nonces)
    assert protected[-1][1] == b"\x01\x00"  # close_notify, a warning


def test_6_2_1_every_record_after_the_client_hello_is_tls12(session):
    """ProtocolVersion {3, 3} once TLS 1.2 is negotiated (Appendix E.1 lets the ClientHello
    record say otherwise)."""
    records, _, _ = session
    assert {v for _, v, _ in records} == {b"\x03\x03"}
