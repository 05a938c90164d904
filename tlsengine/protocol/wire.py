"""The few TLS 1.3 wire formats tlslite-ng leaves undone, and safe decoding of the rest.

tlslite-ng decodes most messages but leaves ``certificate_authorities`` (extension 47) and
``oid_filters`` (48) raw, and its Certificate decoder parses every certificate with its own
slow X.509 code. Here those formats are read with bounds-checked helpers, and every
tlslite-ng decoder is wrapped so a malformed message ends in ``DecodeError``, never an
``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol, Self, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from tlslite.utils.codec import Parser

from ..errors import DecodeError, PKCS12FormatError
from ..identity.der import decode_oid
from ..selection.schemes import SCHEMES, scheme_name
from .record import fatal

__all__ = [
    "SIGNATURE_SCHEMES",
    "SCHEME_CODES",
    "Reader",
    "certificate_request_fields",
    "chain_der",
    "decode",
    "decode_certificate13",
    "decode_certificate_authorities",
    "decode_oid_filters",
    "encode_certificate13",
    "encode_handshake",
    "extensions_by_type",
    "scheme_names",
]

#: RFC 8446 section 4.2.3 code -> name of every scheme we sign or verify (the selection
#: layer's table: one list of schemes for the whole engine).
SIGNATURE_SCHEMES: dict[int, str] = {s.code: s.name for s in SCHEMES.values()}
SCHEME_CODES: dict[str, int] = {name: code for code, name in SIGNATURE_SCHEMES.items()}

EXT_CERTIFICATE_AUTHORITIES = 47
EXT_OID_FILTERS = 48
EXT_POST_HANDSHAKE_AUTH = 49
EXT_SIGNATURE_ALGORITHMS = 13
EXT_SIGNATURE_ALGORITHMS_CERT = 50


class _Parsable(Protocol):
    """A tlslite-ng message class: ``parse`` fills the instance from a Parser and returns it."""

    def parse(self, parser: Parser) -> Self: ...


T = TypeVar("T", bound=_Parsable)


class Reader:
    """Bounds-checked reads over a byte string; any overrun is a DecodeError."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = bytes(data)
        self.pos = 0
        self.what = what

    def _take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise fatal(
                "decode_error",
                f"{self.what} is truncated: needs {end} bytes, has {len(self.data)}",
                error=DecodeError,
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self._take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self._take(self.uint(length_size))

    @property
    def done(self) -> bool:
        return self.pos >= len(self.data)

    def finish(self) -> None:
        if not self.done:
            raise fatal(
                "decode_error",
                f"{self.what} has {len(self.data) - self.pos} trailing bytes",
                error=DecodeError,
            )


def decode(factory: Callable[[], T], raw: bytes, what: str) -> T:
    """Parse a full handshake message (header included) with a tlslite-ng class."""
    try:
        parser = Parser(bytearray(raw[1:]))
        message = factory().parse(parser)
        if parser.getRemainingLength():
            raise ValueError("trailing bytes after the message")
        return message
    except DecodeError:
        raise
    except Exception as exc:  # tlslite raises SyntaxError, ValueError, AssertionError, ...
        raise fatal(
            "decode_error", f"malformed {what}: {exc or type(exc).__name__}", error=DecodeError
        ) from None


def encode_handshake(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


def decode_certificate13(raw: bytes) -> tuple[bytes, list[bytes]]:
    """A TLS 1.3 Certificate message -> (request context, DER certificates leaf first)."""
    r = Reader(raw[4:], "Certificate message")
    context = r.vector(1)
    entries = Reader(r.vector(3), "certificate_list")
    r.finish()
    ders: list[bytes] = []
    while not entries.done:
        der = entries.vector(3)
        if not der:
            raise fatal("decode_error", "Certificate holds an empty certificate", error=DecodeError)
        entries.vector(2)  # per-entry extensions (OCSP, SCT): not used
        ders.append(der)
    return context, ders


def encode_certificate13(context: bytes, ders: Sequence[bytes]) -> bytes:
    entries = b"".join(len(d).to_bytes(3, "big") + d + b"\x00\x00" for d in ders)
    body = bytes((len(context),)) + context + len(entries).to_bytes(3, "big") + entries
    return encode_handshake(11, body)


@functools.lru_cache(maxsize=64)
def chain_der(chain: tuple[x509.Certificate, ...], include_root: bool) -> tuple[bytes, ...]:
    """The DER certificates our Certificate message carries for an identity's chain.

    A self-signed root at the end of a longer chain is left out unless ``include_root``:
    RFC 8446 section 4.4.2 lets a trust anchor be omitted, the server must hold it anyway to
    trust us, and parsing it costs the server time on every handshake. Cached per chain
    (certificates hash by their DER), so a connection does no DER encoding of its own.
    """
    ders = tuple(cert.public_bytes(Encoding.DER) for cert in chain)
    if include_root or len(chain) < 2 or not _self_signed(chain[-1]):
        return ders
    return ders[:-1]


def _self_signed(cert: x509.Certificate) -> bool:
    """Subject equals issuer *and* the certificate's own key verifies its signature."""
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:  # noqa: BLE001 - any failure (bad signature, odd key) means "not a root"
        return False
    return True


def decode_certificate_authorities(data: bytes) -> list[bytes]:
    """Extension 47: ``DistinguishedName authorities<3..2^16-1>`` -> DER names."""
    r = Reader(data, "certificate_authorities extension")
    names = Reader(r.vector(2), "certificate_authorities list")
    r.finish()
    # authorities<3..2^16-1> makes an empty list malformed, but OpenSSL 3.0's
    # ``s_server -no_ca_names`` sends exactly that: read it as "no CA names" (deviation).
    out: list[bytes] = []
    while not names.done:
        der = names.vector(2)
        if not der:
            raise fatal("decode_error", "empty name in certificate_authorities", error=DecodeError)
        out.append(der)
    return out


def decode_oid_filters(data: bytes) -> list[tuple[str, bytes]]:
    """Extension 48: ``OIDFilter filters<0..2^16-1>`` -> (dotted OID, DER values) pairs."""
    r = Reader(data, "oid_filters extension")
    filters = Reader(r.vector(2), "oid_filters list")
    r.finish()
    out: list[tuple[str, bytes]] = []
    while not filters.done:
        oid = filters.vector(1)
        values = filters.vector(2)
        out.append((_dotted_oid(oid), values))
    return out


def _dotted_oid(body: bytes) -> str:
    """The content octets of a DER OBJECT IDENTIFIER as a dotted string (the identity layer's
    decoder; its format error becomes our decode_error)."""
    try:
        return decode_oid(body, "oid_filters OID")
    except PKCS12FormatError:
        raise fatal(
            "decode_error", "oid_filters holds a malformed OID", error=DecodeError
        ) from None


def scheme_names(codes: Sequence[Any]) -> list[str]:
    """tlslite (hash, sig) tuples or ints -> RFC 8446 names; unknown ones as ``0x....``."""
    return [
        scheme_name((item[0] << 8) | item[1] if isinstance(item, tuple) else int(item))
        for item in codes
    ]


def extensions_by_type(
    message: Any, allowed: frozenset[int] | None, what: str, state: str
) -> dict[int, Any]:
    """A message's extensions by type; duplicates and unsolicited ones are the server's error."""
    out: dict[int, Any] = {}
    for ext in message.extensions or ():
        if ext.extType in out:
            raise fatal(
                "illegal_parameter",
                f"{what} repeats extension {ext.extType}",
                state=state,
            )
        if allowed is not None and ext.extType not in allowed:
            raise fatal(
                "unsupported_extension",
                f"{what} carries extension {ext.extType}, which we did not offer or which is "
                "not allowed there",
                state=state,
            )
        out[ext.extType] = ext
    return out


def certificate_request_fields(message: Any, state: str) -> dict[str, Any]:
    """The selection inputs carried by a TLS 1.3 CertificateRequest's extensions.

    Returns keywords for ``CertificateRequestInfo``: certificate_authorities (DER),
    signature_schemes, signature_schemes_cert (None when absent), oid_filters.
    Missing signature_algorithms is the server's error: missing_extension.
    """
    by_type = extensions_by_type(message, None, "CertificateRequest", state)
    sig = by_type.get(EXT_SIGNATURE_ALGORITHMS)
    if sig is None or not getattr(sig, "sigalgs", None):
        raise fatal(
            "missing_extension",
            "CertificateRequest lacks signature_algorithms (RFC 8446 section 4.3.2)",
            state=state,
        )
    cert_sig = by_type.get(EXT_SIGNATURE_ALGORITHMS_CERT)
    cas = by_type.get(EXT_CERTIFICATE_AUTHORITIES)
    oids = by_type.get(EXT_OID_FILTERS)
    return {
        "certificate_authorities": decode_certificate_authorities(bytes(cas.extData))
        if cas is not None
        else [],
        "signature_schemes": scheme_names(sig.sigalgs),
        "signature_schemes_cert": scheme_names(cert_sig.sigalgs)
        if cert_sig is not None and cert_sig.sigalgs is not None
        else None,
        "oid_filters": decode_oid_filters(bytes(oids.extData)) if oids is not None else [],
    }
