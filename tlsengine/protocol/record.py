"""The record layer (RFC 8446 section 5, RFC 5246 section 6.2): framing, AEAD, reassembly.

Built for throughput: the AEAD object is made once per traffic key, the per-record nonce is
an int XOR, incoming bytes are sliced through ``memoryview`` without intermediate copies and
outgoing application data goes out in full 16 KiB records, one AEAD call each.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..errors import DecodeError, HandshakeError, TLSError
from .keyschedule import CipherSuite, traffic_keys
from .prf import CipherSuite12

__all__ = [
    "ALERT",
    "APPLICATION_DATA",
    "CHANGE_CIPHER_SPEC",
    "HANDSHAKE",
    "MAX_CIPHERTEXT",
    "MAX_PLAINTEXT",
    "HandshakeReassembler",
    "RecordProtection",
    "RecordProtection12",
    "RecordReader",
    "fatal",
    "plaintext_records",
]

CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23
_KNOWN_TYPES = frozenset((CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA))

MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = MAX_PLAINTEXT + 256
#: Largest handshake message we accept (certificate chains included): far above real ones.
MAX_HANDSHAKE_MESSAGE = 1 << 20
_TAG = 16
_APP_HEADER = b"\x17\x03\x03"


def fatal(
    alert: str, message: str, *, state: str | None = None, error: type[TLSError] = HandshakeError
) -> TLSError:
    """An error that tells the connection which fatal alert to queue before raising it."""
    exc: TLSError
    if error is HandshakeError:
        exc = HandshakeError(message, state=state)
    elif error is DecodeError:
        exc = DecodeError(message, state=state)
    else:  # the other TLS errors carry no state
        exc = error(message)
    exc.send_alert = alert
    return exc


class RecordProtection:
    """One direction's AEAD state for one traffic secret: key, IV and sequence number."""

    __slots__ = ("_aead", "_iv", "seq", "secret")

    def __init__(self, suite: CipherSuite, secret: bytes) -> None:
        key, iv = traffic_keys(suite, secret)
        self.secret = secret
        self._aead = AESGCM(key) if suite.aead == "aesgcm" else ChaCha20Poly1305(key)
        self._iv = int.from_bytes(iv, "big")
        self.seq = 0

    def __repr__(self) -> str:  # never show keys
        return f"RecordProtection(seq={self.seq})"

    def _nonce(self) -> bytes:
        nonce = (self._iv ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        return nonce

    def seal(self, content_type: int, data: bytes | memoryview, padding: int = 0) -> bytes:
        """One protected record carrying ``data`` (at most 2^14 bytes) of ``content_type``."""
        inner = bytes(data) + bytes((content_type,)) + bytes(padding)
        length = len(inner) + _TAG
        header = _APP_HEADER + length.to_bytes(2, "big")
        return header + self._aead.encrypt(self._nonce(), inner, header)

    def open(self, header: bytes, ciphertext: memoryview) -> tuple[int, bytes]:
        """Decrypt one record; returns (inner content type, content)."""
        try:
            inner = self._aead.decrypt(self._nonce(), ciphertext, header)
        except InvalidTag:
            raise fatal("bad_record_mac", "record failed authentication (bad_record_mac)") from None
        if len(inner) > MAX_PLAINTEXT + 1:
            raise fatal("record_overflow", f"decrypted record of {len(inner)} bytes exceeds 2^14")
        if inner and inner[-1]:
            return inner[-1], inner[:-1]
        stripped = inner.rstrip(b"\x00")
        if not stripped:
            raise fatal("unexpected_message", "protected record has no content type")
        return stripped[-1], stripped[:-1]


class RecordProtection12:
    """One direction's TLS 1.2 AEAD state: the real content type rides in the header.

    AES-GCM (RFC 5288) sends an 8-byte explicit nonce per record, after a 4-byte implicit
    salt; we use the sequence number for it, as OpenSSL and Go do. ChaCha20-Poly1305
    (RFC 7905) sends none: its nonce is the 12-byte IV XOR the sequence number, as in
    TLS 1.3. The additional data is seq_num + type + version + plaintext length.
    """

    __slots__ = ("_aead", "_iv", "_salt", "_explicit", "seq")

    def __init__(self, suite: CipherSuite12, key: bytes, iv: bytes) -> None:
        self._explicit = suite.aead == "aesgcm"
        self._aead = AESGCM(key) if self._explicit else ChaCha20Poly1305(key)
        self._salt = iv if self._explicit else b""
        self._iv = 0 if self._explicit else int.from_bytes(iv, "big")
        self.seq = 0

    def __repr__(self) -> str:  # never show keys
        return f"RecordProtection12(seq={self.seq})"

    def seal(self, content_type: int, data: bytes | memoryview, padding: int = 0) -> bytes:
        """One record of ``content_type`` carrying ``data`` (at most 2^14 bytes)."""
        seq = self.seq
        self.seq = seq + 1
        seq_bytes = seq.to_bytes(8, "big")
        head = bytes((content_type,)) + b"\x03\x03"
        aad = seq_bytes + head + len(data).to_bytes(2, "big")
        if self._explicit:
            sealed = seq_bytes + self._aead.encrypt(self._salt + seq_bytes, data, aad)
        else:
            sealed = self._aead.encrypt((self._iv ^ seq).to_bytes(12, "big"), data, aad)
        return head + len(sealed).to_bytes(2, "big") + sealed

    def open(self, header: bytes, payload: memoryview) -> tuple[int, bytes]:
        """Decrypt one record; returns (content type from the header, content)."""
        seq = self.seq
        self.seq = seq + 1
        overhead = _TAG + (8 if self._explicit else 0)
        if len(payload) < overhead:
            raise fatal("bad_record_mac", f"protected record of {len(payload)} bytes is too short")
        seq_bytes = seq.to_bytes(8, "big")
        if self._explicit:
            nonce = self._salt + bytes(payload[:8])
            payload = payload[8:]
        else:
            nonce = (self._iv ^ seq).to_bytes(12, "big")
        length = len(payload) - _TAG
        if length > MAX_PLAINTEXT:
            raise fatal("record_overflow", f"decrypted record of {length} bytes exceeds 2^14")
        aad = seq_bytes + header[:3] + length.to_bytes(2, "big")
        try:
            return header[0], self._aead.decrypt(nonce, payload, aad)
        except InvalidTag:
            raise fatal("bad_record_mac", "record failed authentication (bad_record_mac)") from None


class RecordReader:
    """Splits the incoming byte stream into records, keeping partial ones for the next call."""

    def __init__(self) -> None:
        self._pending = b""
        self._view = memoryview(b"")
        self._offset = 0

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        rest = self._view[self._offset :]
        self._pending = bytes(rest) + bytes(data) if len(rest) else bytes(data)
        self._view = memoryview(self._pending)
        self._offset = 0

    @property
    def buffered(self) -> int:
        return len(self._view) - self._offset

    def next_record(self) -> tuple[int, bytes, memoryview] | None:
        """(outer content type, 5-byte header, payload view) or None when incomplete."""
        view, off = self._view, self._offset
        if len(view) - off < 5:
            return None
        header = bytes(view[off : off + 5])
        content_type = header[0]
        if content_type not in _KNOWN_TYPES:
            if bytes(view[off : off + 5]) == b"HTTP/":
                raise fatal(
                    "unexpected_message",
                    "the server answered in plain HTTP, not TLS: is this the HTTPS port?",
                    error=DecodeError,
                )
            raise fatal("unexpected_message", f"record of unknown content type {content_type}")
        if header[1] != 3:
            raise fatal(
                "protocol_version",
                f"record version {header[1]}.{header[2]} is not TLS",
                error=DecodeError,
            )
        length = int.from_bytes(header[3:5], "big")
        if length > MAX_CIPHERTEXT:
            raise fatal("record_overflow", f"record of {length} bytes exceeds 2^14+256")
        end = off + 5 + length
        if len(view) < end:
            return None
        self._offset = end
        return content_type, header, view[off + 5 : end]


class HandshakeReassembler:
    """Joins handshake messages split across records and splits records holding several."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def empty(self) -> bool:
        return not self._buffer

    def feed(self, fragment: bytes | memoryview) -> None:
        self._buffer += fragment

    def next_message(self) -> bytes | None:
        """One complete message including its 4-byte header, or None."""
        buf = self._buffer
        if len(buf) < 4:
            return None
        length = int.from_bytes(buf[1:4], "big")
        if length > MAX_HANDSHAKE_MESSAGE:
            raise fatal(
                "unexpected_message",
                f"handshake message of {length} bytes is larger than the 1 MiB we accept",
            )
        if len(buf) < 4 + length:
            return None
        message = bytes(buf[: 4 + length])
        del buf[: 4 + length]
        return message


def plaintext_records(content_type: int, data: bytes, legacy_version: bytes = b"\x03\x03") -> bytes:
    """Unprotected records (ClientHello, CCS, early alerts), fragmented at 2^14."""
    out = bytearray()
    for start in range(0, max(len(data), 1), MAX_PLAINTEXT):
        chunk = data[start : start + MAX_PLAINTEXT]
        out += bytes((content_type,)) + legacy_version + len(chunk).to_bytes(2, "big") + chunk
    return bytes(out)
