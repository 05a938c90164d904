"""Distinguished-name comparison per RFC 5280 section 7.1, and CA names from wire DER.

Servers send CA names as DER copied from their trust store; a client's chain may spell the
same name with another string type, case or spacing. DER equality is tried first; when it
fails, two names still match if every attribute matches after RFC 4518 string preparation
(mapping, case folding, NFKC, insignificant-space handling), RDN by RDN, in order.
"""

from __future__ import annotations

import functools
import unicodedata
import warnings

from cryptography import x509

from ..errors import DecodeError, PKCS12FormatError
from ..identity.der import SEQUENCE, parse, tlv

# A name's comparison key: RDNs in order, each a set of (attribute OID, prepared value).
NameKey = tuple[frozenset[tuple[str, object]], ...]

# RFC 4518 2.2: characters mapped to nothing, and those mapped to SPACE.
_TO_NOTHING = {0x00AD, 0x1806, 0x034F, 0x180B, 0x180C, 0x180D, 0xFFFC, 0x200B}
_TO_NOTHING.update(range(0xFE00, 0xFE10))
_TO_SPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85}


def prepare(value: str) -> str:
    """RFC 4518 string preparation for matching: map, case fold, NFKC, squeeze spaces."""
    out = []
    for ch in value:
        cp = ord(ch)
        if cp in _TO_NOTHING:
            continue
        if cp in _TO_SPACE:
            out.append(" ")
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf"):
            continue
        out.append(" " if cat in ("Zs", "Zl", "Zp") else ch)
    folded = unicodedata.normalize("NFKC", "".join(out).casefold())
    return " ".join(part for part in folded.split(" ") if part)


def name_key(name: x509.Name) -> NameKey:
    """The comparison key of a name: equal keys mean RFC 5280 7.1 says the names match."""
    return _cached_key(name)


@functools.lru_cache(maxsize=8192)
def _cached_key(name: x509.Name) -> NameKey:
    rdns = []
    for rdn in name.rdns:
        attrs = set()
        for attr in rdn:
            value = attr.value
            prepared: object = prepare(value) if isinstance(value, str) else value
            attrs.add((attr.oid.dotted_string, prepared))
        rdns.append(frozenset(attrs))
    return tuple(rdns)


def names_match(a: x509.Name, b: x509.Name) -> bool:
    """RFC 5280 7.1: same RDN count and order, each RDN's attributes matching as a set."""
    return a == b or name_key(a) == name_key(b)


def der_of(name: x509.Name) -> bytes:
    """DER of a name (cryptography keeps each attribute's string type, so this round-trips)."""
    return name.public_bytes()


# sha256WithRSAEncryption AlgorithmIdentifier and a fixed thisUpdate, for the wrapper below.
_ALG = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d01010b")) + b"\x05\x00")
_THIS_UPDATE = tlv(0x17, b"700101000000Z")


def name_from_der(der: bytes) -> x509.Name:
    """Parse a DER Name as sent in certificate_authorities (RFC 8446 4.2.4, RFC 5246 7.4.4).

    cryptography has no public Name parser, so the name is wrapped as the issuer of a minimal
    CRL and read back through cryptography's own certificate parser: the same leniency as for
    names in certificates. Malformed input raises DecodeError.
    """
    der = bytes(der)
    try:
        parse(der, "CA name").expect(SEQUENCE, "CA name")
    except PKCS12FormatError as exc:  # the shared DER reader's error for any malformed TLV
        raise DecodeError(f"{exc} ({len(der)} bytes: {der[:8].hex()}…)") from None
    tbs = tlv(0x30, _ALG + der + _THIS_UPDATE)
    crl = tlv(0x30, tbs + _ALG + tlv(0x03, b"\x00"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # odd-length country codes exist in the wild
            return x509.load_der_x509_crl(crl).issuer
    except (ValueError, KeyError, TypeError) as exc:
        # cryptography 48 raises KeyError for string tag 0 and TypeError for a BIT STRING
        # under any attribute but x500UniqueIdentifier.
        raise DecodeError(f"CA name does not parse as an X.501 Name: {exc!r}") from None


__all__ = ["NameKey", "der_of", "name_from_der", "name_key", "names_match", "prepare"]
