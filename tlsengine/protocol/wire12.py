"""TLS 1.2 handshake bodies the client reads and writes (RFC 5246 7.4, RFC 8422 5.4).

Small enough to decode with wire.py's bounds-checked `Reader` rather than tlslite-ng's
classes: every overrun or trailing byte is a DecodeError (decode_error alert), never an
IndexError. The ServerKeyExchange keeps the exact params bytes, because they are what the
server's signature covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DecodeError
from .record import fatal
from .wire import Reader, decode_certificate_authorities, encode_handshake

__all__ = [
    "CertificateRequest12",
    "ServerKeyExchange12",
    "decode_certificate12",
    "decode_certificate_request12",
    "decode_new_session_ticket12",
    "decode_server_key_exchange",
    "encode_certificate12",
    "encode_certificate_verify12",
    "encode_client_key_exchange",
]

_NAMED_CURVE = 3  # ECCurveType.named_curve (RFC 8422 5.4); explicit curves are refused


def decode_certificate12(raw: bytes) -> list[bytes]:
    """Certificate: ``ASN.1Cert certificate_list<0..2^24-1>`` -> DER list, leaf first."""
    r = Reader(raw[4:], "Certificate message")
    entries = Reader(r.vector(3), "certificate_list")
    r.finish()
    ders: list[bytes] = []
    while not entries.done:
        der = entries.vector(3)
        if not der:
            raise fatal("decode_error", "Certificate holds an empty certificate", error=DecodeError)
        ders.append(der)
    return ders


@dataclass(frozen=True)
class ServerKeyExchange12:
    """ECDHE parameters and the server's signature over randoms + params."""

    group: int
    public: bytes
    params: bytes  # the signed ServerECDHParams bytes exactly as sent
    scheme: int
    signature: bytes


def decode_server_key_exchange(raw: bytes) -> ServerKeyExchange12:
    r = Reader(raw[4:], "ServerKeyExchange")
    curve_type = r.uint(1)
    if curve_type != _NAMED_CURVE:
        raise fatal(
            "illegal_parameter",
            f"ServerKeyExchange uses curve type {curve_type}; only named curves are allowed "
            "(RFC 8422 section 5.4)",
        )
    group = r.uint(2)
    public = r.vector(1)
    params = r.data[: r.pos]
    scheme = r.uint(2)
    signature = r.vector(2)
    r.finish()
    if not public:
        raise fatal("decode_error", "ServerKeyExchange has an empty public key", error=DecodeError)
    return ServerKeyExchange12(group, public, params, scheme, signature)


@dataclass(frozen=True)
class CertificateRequest12:
    """certificate_types, supported_signature_algorithms and DER CA names, in wire order."""

    certificate_types: bytes
    signature_schemes: tuple[int, ...]
    certificate_authorities: tuple[bytes, ...]


def decode_certificate_request12(raw: bytes) -> CertificateRequest12:
    r = Reader(raw[4:], "CertificateRequest")
    types = r.vector(1)
    schemes_raw = r.vector(2)
    # DistinguishedName certificate_authorities<0..2^16-1>: TLS 1.3's extension 47 body
    cas = decode_certificate_authorities(r.data[r.pos :])
    if not types:
        raise fatal(
            "decode_error", "CertificateRequest lists no certificate types", error=DecodeError
        )
    if not schemes_raw or len(schemes_raw) % 2:
        raise fatal(
            "decode_error",
            "CertificateRequest supported_signature_algorithms is empty or odd-sized",
            error=DecodeError,
        )
    schemes = tuple(
        int.from_bytes(schemes_raw[i : i + 2], "big") for i in range(0, len(schemes_raw), 2)
    )
    return CertificateRequest12(types, schemes, tuple(cas))


def encode_certificate12(ders: Sequence[bytes]) -> bytes:
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return encode_handshake(11, len(entries).to_bytes(3, "big") + entries)


def encode_client_key_exchange(public: bytes) -> bytes:
    """ClientECDiffieHellmanPublic: ``opaque point <1..2^8-1>``."""
    return encode_handshake(16, bytes((len(public),)) + public)


def encode_certificate_verify12(scheme: int, signature: bytes) -> bytes:
    body = scheme.to_bytes(2, "big") + len(signature).to_bytes(2, "big") + signature
    return encode_handshake(15, body)


def decode_new_session_ticket12(raw: bytes) -> tuple[int, bytes]:
    """RFC 5077 3.3: ``uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>``."""
    r = Reader(raw[4:], "NewSessionTicket")
    lifetime = r.uint(4)
    ticket = r.vector(2)
    r.finish()
    return lifetime, ticket
