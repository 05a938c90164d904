"""Issue 12: a CA name the server sends must end in DecodeError whatever attribute types it
holds (cryptography raises TypeError for a BIT STRING outside x500UniqueIdentifier)."""

from __future__ import annotations

import pytest

from tlsengine.errors import DecodeError
from tlsengine.identity import der
from tlsengine.selection import CertificateRequestInfo
from tlsengine.selection.names import name_from_der


def _name(oid: str, tag: int, value: bytes) -> bytes:
    return der.sequence(der.tlv(der.SET, der.sequence(der.oid(oid) + der.tlv(tag, value))))


def test_bit_string_attribute_in_a_ca_name_is_a_decode_error() -> None:
    """Found: CertificateRequestInfo(...) raised TypeError for a commonName BIT STRING."""
    hostile = _name("2.5.4.3", der.BIT_STRING, b"\x00\xff")
    with pytest.raises(DecodeError, match="does not parse as an X.501 Name"):
        CertificateRequestInfo(
            version="TLSv1.3", certificate_authorities=[hostile], signature_schemes=["ed25519"]
        )


def test_bit_string_where_x500_allows_it_still_parses() -> None:
    unique = name_from_der(_name("2.5.4.45", der.BIT_STRING, b"\x00\xff"))
    assert len(unique.rdns) == 1
