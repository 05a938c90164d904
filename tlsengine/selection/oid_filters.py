"""TLS 1.3 ``oid_filters`` matching (RFC 8446 section 4.2.5).

The server lists certificate extension OIDs with DER values; the client's leaf must carry every
listed extension the client recognises, with at least the listed values. RFC 8446 defines the
matching rules for two extensions, the ones recognised here: Key Usage (every requested bit set)
and Extended Key Usage (every requested purpose present). Unrecognised OIDs are skipped, as the
RFC requires.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from ..errors import PKCS12FormatError
from ..identity.der import BIT_STRING, SEQUENCE, Node, decode_oid, parse

KEY_USAGE = ExtensionOID.KEY_USAGE.dotted_string
EXTENDED_KEY_USAGE = ExtensionOID.EXTENDED_KEY_USAGE.dotted_string
RECOGNISED = (KEY_USAGE, EXTENDED_KEY_USAGE)

#: x509.KeyUsage's field names in RFC 5280 bit order (bit 0 first).
KEY_USAGE_BITS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


class _Malformed(Exception):
    """The server's filter value is not the DER it should be."""


def _value(der: bytes, tag: int) -> Node:
    """The single TLV ``der`` with tag ``tag``, read by the shared DER reader."""
    try:
        return parse(der, "OID filter value").expect(tag, "OID filter value")
    except PKCS12FormatError:  # the reader's error for any malformed TLV
        raise _Malformed from None


def _key_usage_bits(der: bytes) -> set[int]:
    """Bit numbers set in a DER BIT STRING (bit 0 = the first byte's top bit)."""
    body = _value(der, BIT_STRING).content
    if not body or body[0] > 7:
        raise _Malformed
    bits = set()
    for i, byte in enumerate(body[1:]):
        for j in range(8):
            if byte & (0x80 >> j):
                bits.add(i * 8 + j)
    return bits


def _purposes(der: bytes) -> set[str]:
    """Dotted OIDs of a DER SEQUENCE OF OBJECT IDENTIFIER."""
    try:
        return {node.oid("EKU purpose") for node in _value(der, SEQUENCE).children("EKU")}
    except PKCS12FormatError:
        raise _Malformed from None


def dotted_oid(content: bytes) -> str | None:
    """Dotted form of an OBJECT IDENTIFIER's content octets; None when malformed."""
    try:
        return decode_oid(content)
    except PKCS12FormatError:
        return None


def _leaf_key_usage(cert: x509.Certificate) -> set[int] | None:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    bits = set()
    for n, attr in enumerate(KEY_USAGE_BITS):
        try:
            if getattr(ku, attr):
                bits.add(n)
        except ValueError:  # encipher_only/decipher_only without key_agreement
            continue
    return bits


def _leaf_purposes(cert: x509.Certificate) -> set[str] | None:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    return {oid.dotted_string for oid in eku}


def mismatch(cert: x509.Certificate, filters: tuple[tuple[str, bytes], ...]) -> str | None:
    """Why ``cert`` fails the filters (a short phrase), or None when it satisfies them."""
    for oid, value in filters:
        if oid not in RECOGNISED:
            continue
        try:
            if oid == KEY_USAGE:
                have = _leaf_key_usage(cert)
                if have is None:
                    return "the server requires a key usage extension and the leaf has none"
                want = _key_usage_bits(value) if value else set()
                missing = sorted(
                    KEY_USAGE_BITS[b] if b < len(KEY_USAGE_BITS) else str(b) for b in want - have
                )
                if missing:
                    return f"the leaf's key usage lacks {', '.join(missing)}"
            else:
                purposes = _leaf_purposes(cert)
                if purposes is None:
                    return "the server requires an extended key usage extension; the leaf has none"
                lacking = sorted((_purposes(value) if value else set()) - purposes)
                if lacking:
                    return f"the leaf's extended key usage lacks {', '.join(lacking)}"
        except _Malformed:
            return f"the server's filter value for {oid} is malformed DER, so no leaf can match"
    return None


__all__ = ["EXTENDED_KEY_USAGE", "KEY_USAGE", "RECOGNISED", "dotted_oid", "mismatch"]
