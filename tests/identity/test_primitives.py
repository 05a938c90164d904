"""Building blocks: RC2 against RFC 2268 vectors, the DER reader's limits, sources."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.decrepit.ciphers import algorithms as decrepit
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from tlsengine.errors import PKCS12FormatError
from tlsengine.identity import der, rc2
from tlsengine.identity.sources import decode_base64, read_source


@pytest.mark.parametrize(
    "key, bits, plain, cipher",
    [  # RFC 2268 section 5
        ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
        ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
        ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
        ("88", 64, "0000000000000000", "61a8a244adacccf0"),
        ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
    ],
)
def test_rc2_rfc2268_vectors(key, bits, plain, cipher) -> None:
    iv = bytes(8)
    assert rc2.cbc_encrypt(bytes.fromhex(key), bits, iv, bytes.fromhex(plain)).hex() == cipher
    assert rc2.cbc_decrypt(bytes.fromhex(key), bits, iv, bytes.fromhex(cipher)).hex() == plain


def test_rc2_matches_cryptography_at_128_bits() -> None:
    key, iv, data = os.urandom(16), os.urandom(8), os.urandom(64)
    enc = Cipher(decrepit.RC2(key), modes.CBC(iv)).encryptor()
    assert rc2.cbc_decrypt(key, 128, iv, enc.update(data) + enc.finalize()) == data


def test_der_round_trip_and_ber_indefinite_length() -> None:
    encoded = der.sequence(der.oid("1.2.840.113549.1.12.10.1.3"), der.integer(-129),
                           der.bmp_string("naïve ☃"), der.octet_string(b"x" * 300))  # fmt: skip
    oid, number, bmp, octets = der.parse(encoded, "t").sequence("t", 4, 4)
    assert oid.oid("t") == "1.2.840.113549.1.12.10.1.3"
    assert number.integer("t") == -129
    assert der.decode_bmp(bmp.content, "t") == "naïve ☃"
    assert octets.octet_string("t") == b"x" * 300
    # BER: indefinite-length SEQUENCE holding a constructed OCTET STRING in two pieces.
    ber = b"\x30\x80" + b"\x24\x80" + b"\x04\x02ab" + b"\x04\x01c" + b"\x00\x00" + b"\x00\x00"
    [chunked] = der.parse(ber, "ber").sequence("ber")
    assert chunked.octet_string("ber") == b"abc"


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30", b"\x30\x05\x02\x01", b"\x30\x84\xff\xff\xff\xff", b"\x1f\x01\x00",
     b"\x04\x80\x00\x00", b"\x30\x80\x02\x01\x01", b"\x30\x00\x00", b"\x30\x80" * 200],
)  # fmt: skip
def test_der_malformed_is_format_error(data) -> None:
    with pytest.raises(PKCS12FormatError):
        node = der.parse(data, "blob")
        node.sequence("blob")


def test_der_bad_oid_and_integer() -> None:
    with pytest.raises(PKCS12FormatError, match="OBJECT IDENTIFIER"):
        der.parse(b"\x06\x01\x81", "x").oid("x")
    with pytest.raises(PKCS12FormatError, match="empty INTEGER"):
        der.parse(b"\x02\x00", "x").integer("x")


def test_base64_tolerates_armour_whitespace_and_urlsafe() -> None:
    raw = bytes(range(256))
    import base64

    text = base64.encodebytes(raw).decode()
    assert decode_base64(f"-----BEGIN PKCS12-----\r\n{text}\n-----END PKCS12-----") == raw
    assert decode_base64(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    with pytest.raises(PKCS12FormatError, match="neither"):
        read_source("***")
    with pytest.raises(PKCS12FormatError, match="empty"):
        read_source("  \n ")


def test_password_repr_hides_the_password() -> None:
    from tlsengine.identity.pbe import Password

    text = repr(Password.of("hunter2"))
    assert "hunter2" not in text and "h\\x00u" not in text
