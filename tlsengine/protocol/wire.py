"""The few TLS 1.3 wire formats tlslite-ng leaves undone, and safe decoding of the rest.

tlslite-ng decodes most messages but leaves ``certificate_authorities`` (extension 47) and
``oid_filters`` (48) raw, and its Certificate decoder parses every certificate with its own
slow X.509 code. Here those formats are read with bounds-checked helpers, and every
tlslite-ng decoder is wrapped so a malformed message ends in ``DecodeError``, never an
``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, Self, TypeVar

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
    "decode",
    "decode_certificate13",
    "decode_certificate_authorities",
    "decode_oid_filters",
    "encode_certificate13",
    "encode_handshake",
    "EXTENSION_MESSAGES",
    "check_certificate_entries",
    "check_extensions",
    "checked_extensions",
    "decode_certificate13_entries",
    "extension_list",
    "message_extensions",
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
EXT_EARLY_DATA = 42

# RFC 8446 section 4.2's table: the TLS 1.3 messages each extension it defines or cites may
# appear in. A known extension anywhere else is illegal_parameter; one we never offered, in
# a message answering ours, is unsupported_extension.
_CH, _SH, _HRR, _EE = "ClientHello", "ServerHello", "HelloRetryRequest", "EncryptedExtensions"
_CR, _CT, _NST = "CertificateRequest", "Certificate", "NewSessionTicket"
EXTENSION_MESSAGES: dict[int, frozenset[str]] = {
    code: frozenset(messages)
    for code, messages in {
        0: (_CH, _EE),  # server_name
        1: (_CH, _EE),  # max_fragment_length
        5: (_CH, _CR, _CT),  # status_request
        10: (_CH, _EE),  # supported_groups
        13: (_CH, _CR),  # signature_algorithms
        14: (_CH, _EE),  # use_srtp
        15: (_CH, _EE),  # heartbeat
        16: (_CH, _EE),  # application_layer_protocol_negotiation
        18: (_CH, _CR, _CT),  # signed_certificate_timestamp
        19: (_CH, _EE),  # client_certificate_type
        20: (_CH, _EE),  # server_certificate_type
        21: (_CH,),  # padding
        41: (_CH, _SH),  # pre_shared_key
        42: (_CH, _EE, _NST),  # early_data
        43: (_CH, _SH, _HRR),  # supported_versions
        44: (_CH, _HRR),  # cookie
        45: (_CH,),  # psk_key_exchange_modes
        47: (_CH, _CR),  # certificate_authorities
        48: (_CR,),  # oid_filters
        49: (_CH,),  # post_handshake_auth
        50: (_CH, _CR),  # signature_algorithms_cert
        51: (_CH, _SH, _HRR),  # key_share
    }.items()
}


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
    context, entries = decode_certificate13_entries(raw)
    return context, [der for der, _ in entries]


def decode_certificate13_entries(raw: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """A TLS 1.3 Certificate message -> (request context, [(DER, extensions block)])."""
    r = Reader(raw[4:], "Certificate message")
    context = r.vector(1)
    entries = Reader(r.vector(3), "certificate_list")
    r.finish()
    out: list[tuple[bytes, bytes]] = []
    while not entries.done:
        der = entries.vector(3)
        if not der:
            raise fatal("decode_error", "Certificate holds an empty certificate", error=DecodeError)
        out.append((der, entries.vector(2)))
    return context, out


def encode_certificate13(context: bytes, ders: Sequence[bytes]) -> bytes:
    entries = b"".join(len(d).to_bytes(3, "big") + d + b"\x00\x00" for d in ders)
    body = bytes((len(context),)) + context + len(entries).to_bytes(3, "big") + entries
    return encode_handshake(11, body)


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


def extension_list(block: bytes, what: str) -> list[tuple[int, bytes]]:
    """An extensions block (without its length prefix) -> [(type, data)], bounds-checked."""
    r = Reader(block, f"{what} extensions")
    out = []
    while not r.done:
        out.append((r.uint(2), r.vector(2)))
    return out


def message_extensions(raw: bytes, message: str) -> list[tuple[int, bytes]]:
    """The raw (type, data) extensions of a TLS 1.3 EncryptedExtensions, CertificateRequest
    or NewSessionTicket, read before tlslite-ng decodes the message: RFC 8446 section 4.2's
    rules then judge the types, whatever tlslite-ng would make of a misplaced extension."""
    r = Reader(raw[4:], message)
    if message == "CertificateRequest":
        r.vector(1)  # certificate_request_context
    elif message == "NewSessionTicket":
        r.uint(8)  # ticket_lifetime, ticket_age_add
        r.vector(1)  # ticket_nonce
        r.vector(2)  # ticket
    elif message != "EncryptedExtensions":
        raise ValueError(f"no extension reader for {message}")
    pairs = extension_list(r.vector(2), message)
    r.finish()
    return pairs


def checked_extensions(
    raw: bytes, message: str, offered: frozenset[int] | None, state: str
) -> list[tuple[int, bytes]]:
    """`message_extensions` judged by `check_extensions`: the (type, data) pairs, once legal."""
    pairs = message_extensions(raw, message)
    check_extensions([t for t, _ in pairs], message, offered, state)
    return pairs


def check_certificate_entries(entries: Sequence[tuple[bytes, bytes]], state: str) -> None:
    """A server Certificate's entry extensions "MUST correspond to ones from the ClientHello"
    (RFC 8446 4.4.2); we offer neither status_request nor SCTs, so none is legal."""
    for _, block in entries:
        types = [t for t, _ in extension_list(block, "CertificateEntry")]
        check_extensions(types, "Certificate", frozenset(), state)


def check_extensions(
    types: Sequence[int], message: str, offered: frozenset[int] | None, state: str
) -> None:
    """RFC 8446 section 4.2 for one received message's extension types, in order.

    A repeated type and a known extension outside the messages the RFC lists it for are
    illegal_parameter; with ``offered`` given (the message answers our ClientHello), any
    other type we did not offer is unsupported_extension. ``offered=None``: requests
    (CertificateRequest) and NewSessionTicket, whose unknown extensions are ignored.
    """
    seen: set[int] = set()
    for ext_type in types:
        if ext_type in seen:
            raise fatal("illegal_parameter", f"{message} repeats extension {ext_type}", state=state)
        seen.add(ext_type)
        allowed_in = EXTENSION_MESSAGES.get(ext_type)
        if allowed_in is not None and message not in allowed_in:
            raise fatal(
                "illegal_parameter",
                f"{message} carries extension {ext_type}, which RFC 8446 section 4.2 allows "
                f"only in {', '.join(sorted(allowed_in))}",
                state=state,
            )
        if offered is not None and ext_type not in offered:
            raise fatal(
                "unsupported_extension",
                f"{message} carries extension {ext_type}, which we did not offer",
                state=state,
            )


def extensions_by_type(
    message: Any,
    allowed: frozenset[int] | None,
    what: str,
    state: str,
    *,
    tls13: bool = False,
) -> dict[int, Any]:
    """A message's extensions by type; duplicates and unsolicited ones are the server's error.

    ``tls13=True`` also applies RFC 8446 section 4.2's table (`check_extensions`), with
    ``what`` naming the message as the table does.
    """
    exts = list(message.extensions or ())
    if tls13:
        check_extensions([e.extType for e in exts], what, allowed, state)
    out: dict[int, Any] = {}
    for ext in exts:
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
    by_type = extensions_by_type(message, None, "CertificateRequest", state, tls13=True)
    sig = by_type.get(EXT_SIGNATURE_ALGORITHMS)
    if sig is None:
        raise fatal(
            "missing_extension",
            "CertificateRequest lacks signature_algorithms (RFC 8446 section 4.3.2)",
            state=state,
        )
    if not getattr(sig, "sigalgs", None):  # supported_signature_algorithms<2..2^16-2>
        raise fatal(
            "decode_error",
            "CertificateRequest signature_algorithms list is empty (RFC 8446 section 4.2.3)",
            state=state,
            error=DecodeError,
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
