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
from tlslite.messages import CertificateRequest, CertificateVerify, EncryptedExtensions, ServerHello
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
    "decode_certificate_request13",
    "decode_certificate_verify13",
    "decode_encrypted_extensions",
    "decode_server_hello",
    "encode_client_hello",
    "ext_alpn",
    "ext_cookie",
    "ext_empty",
    "ext_key_share",
    "ext_pre_shared_key",
    "ext_psk_key_exchange_modes",
    "ext_server_name",
    "ext_signature_algorithms",
    "ext_supported_groups",
    "ext_supported_versions",
    "decode_certificate_authorities",
    "decode_oid_filters",
    "encode_certificate13",
    "encode_certificate_verify13",
    "encode_handshake",
    "EXTENSION_MESSAGES",
    "check_certificate_entries",
    "check_extensions",
    "checked_extensions",
    "decode_certificate13_entries",
    "extension_list",
    "message_extensions",
    "extensions_by_type",
    "server_leaf",
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


class ServerLeaf:
    """What the handshake needs from the server's leaf: its key, whether KeyUsage lets it
    sign (RFC 8446 4.4.2.2: digitalSignature MUST be set when KeyUsage is present), and
    names for traces and errors."""

    __slots__ = ("public_key", "signing_allowed", "subject", "issuer")

    def __init__(self, public_key: Any, signing_allowed: bool, subject: str, issuer: str) -> None:
        self.public_key = public_key
        self.signing_allowed = signing_allowed
        self.subject = subject
        self.issuer = issuer


@functools.lru_cache(maxsize=64)
def server_leaf(der: bytes) -> ServerLeaf:
    """Parse a server leaf once per distinct DER: a client mostly meets the same few servers.

    cryptography parses lazily, so the key and both names are touched here, while errors
    (ValueError, KeyError, UnsupportedAlgorithm) are still the caller's to translate; a
    failure is not cached. Keys and names are immutable, so sharing them is safe.
    """
    leaf = x509.load_der_x509_certificate(der)
    subject, issuer = leaf.subject.rfc4514_string(), leaf.issuer.rfc4514_string()
    try:
        signing_allowed = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ServerLeaf(leaf.public_key(), True, subject, issuer)
    return ServerLeaf(leaf.public_key(), signing_allowed.digital_signature, subject, issuer)


def _self_signed(cert: x509.Certificate) -> bool:
    """Subject equals issuer *and* the certificate's own key verifies its signature."""
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:  # noqa: BLE001 - any failure (bad signature, odd key) means "not a root"
        return False
    return True


def encode_certificate_verify13(scheme: int, signature: bytes) -> bytes:
    """Our CertificateVerify: the scheme's code point and the signature (RFC 8446 4.4.3)."""
    return encode_handshake(
        15, scheme.to_bytes(2, "big") + len(signature).to_bytes(2, "big") + signature
    )


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


# --------------------------------------------------------------------------- hot path
#
# The messages every handshake carries are encoded and decoded here directly: building and
# parsing tlslite-ng objects cost more client CPU than the handshake's own cryptography.
# tlslite-ng stays the reference: tests/protocol/test_wire_oracle.py holds our bytes equal
# to its encoding and our decoding equal to its parse. A decoder takes the fast path only
# for the common TLS 1.3 shape it knows completely; anything else (a HelloRetryRequest,
# a TLS 1.2 ServerHello, an extension it does not read, any malformed length) goes to
# tlslite-ng, so unusual and hostile input meets exactly the decoding it always met.
# The decoded objects carry tlslite-ng's attribute names for the fields the handshake reads.


class _NotFast(Exception):
    """The message is not in the shape the fast path handles; let tlslite-ng decode it."""


def _vector(data: bytes, pos: int, length_size: int) -> tuple[bytes, int]:
    """The ``<length_size>``-prefixed vector at ``pos`` and the position after it."""
    start = pos + length_size
    if start > len(data):
        raise _NotFast
    end = start + int.from_bytes(data[pos:start], "big")
    if end > len(data):
        raise _NotFast
    return data[start:end], end


def _extensions(block: bytes, readers: dict[int, Callable[[int, bytes], Extension]]) -> list[Any]:
    """An extension block (without its length) -> extension objects; unknown types and
    any inconsistency leave the fast path."""
    out: list[Any] = []
    pos = 0
    while pos < len(block):
        if pos + 4 > len(block):
            raise _NotFast
        ext_type = int.from_bytes(block[pos : pos + 2], "big")
        body, pos = _vector(block, pos + 2, 2)
        reader = readers.get(ext_type)
        if reader is None:
            raise _NotFast
        out.append(reader(ext_type, body))
    return out


def _u16_list(body: bytes, length_size: int) -> list[int]:
    items, end = _vector(body, 0, length_size)
    if end != len(body) or len(items) % 2:
        raise _NotFast
    return [int.from_bytes(items[i : i + 2], "big") for i in range(0, len(items), 2)]


class Extension:
    """One extension as read off the wire (tlslite-ng's ``extType``/``extData`` names)."""

    __slots__ = ("extType", "extData")

    def __init__(self, ext_type: int, body: bytes) -> None:
        self.extType = ext_type
        self.extData = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(extType={self.extType}, extData={self.extData.hex()})"


class KeyShareEntry13:
    __slots__ = ("group", "key_exchange")

    def __init__(self, group: int, key_exchange: bytes) -> None:
        self.group = group
        self.key_exchange = key_exchange


class ServerVersionExtension(Extension):
    __slots__ = ("version",)

    def __init__(self, ext_type: int, body: bytes) -> None:
        super().__init__(ext_type, body)
        if len(body) != 2:
            raise _NotFast
        self.version = (body[0], body[1])


class ServerKeyShareExtension(Extension):
    __slots__ = ("server_share",)

    def __init__(self, ext_type: int, body: bytes) -> None:
        super().__init__(ext_type, body)
        if len(body) < 4:
            raise _NotFast
        key, end = _vector(body, 2, 2)
        if end != len(body):
            raise _NotFast
        self.server_share = KeyShareEntry13(int.from_bytes(body[:2], "big"), key)


class ServerPskExtension(Extension):
    __slots__ = ("selected",)

    def __init__(self, ext_type: int, body: bytes) -> None:
        super().__init__(ext_type, body)
        if len(body) != 2:
            raise _NotFast
        self.selected = int.from_bytes(body, "big")


class EmptyExtension(Extension):
    __slots__ = ()

    def __init__(self, ext_type: int, body: bytes) -> None:
        super().__init__(ext_type, body)
        if body:
            raise _NotFast


class GroupsExtension(Extension):
    __slots__ = ("groups",)

    def __init__(self, ext_type: int, body: bytes) -> None:
        super().__init__(ext_type, body)
        self.groups = _u16_list(body, 2)
        if not self.groups:
            raise _NotFast


class AlpnExtension(Extension):
    __slots__ = ("protocol_names",)

    def __init__(self, ext_type: int, body: bytes) -> None:
        super().__init__(ext_type, body)
        names, end = _vector(body, 0, 2)
        if end != len(body):
            raise _NotFast
        self.protocol_names: list[bytes] = []
        pos = 0
        while pos < len(names):
            name, pos = _vector(names, pos, 1)
            self.protocol_names.append(name)


class SignatureAlgorithmsExtension13(Extension):
    __slots__ = ("sigalgs",)

    def __init__(self, ext_type: int, body: bytes) -> None:
        super().__init__(ext_type, body)
        self.sigalgs = [divmod(code, 256) for code in _u16_list(body, 2)]


class ServerHello13:
    """A TLS 1.3 ServerHello (supported_versions says 1.3; not a HelloRetryRequest), with
    tlslite-ng's field names."""

    __slots__ = (
        "server_version",
        "random",
        "session_id",
        "cipher_suite",
        "compression_method",
        "extensions",
    )

    def __init__(self, raw: bytes) -> None:
        body = _body(raw, SERVER_HELLO)
        if len(body) < 35:
            raise _NotFast
        self.server_version = (body[0], body[1])
        self.random = body[2:34]
        if self.random == HELLO_RETRY_RANDOM:
            raise _NotFast
        self.session_id, pos = _vector(body, 34, 1)
        if pos + 3 > len(body):
            raise _NotFast
        self.cipher_suite = int.from_bytes(body[pos : pos + 2], "big")
        self.compression_method = body[pos + 2]
        block, end = _vector(body, pos + 3, 2)
        if end != len(body):
            raise _NotFast
        self.extensions = _extensions(block, _SERVER_HELLO_EXTENSIONS)
        if not any(getattr(e, "version", None) == (3, 4) for e in self.extensions):
            raise _NotFast  # not a TLS 1.3 ServerHello: TLS 1.2 reads tlslite-ng's object


class EncryptedExtensions13:
    __slots__ = ("extensions",)

    def __init__(self, raw: bytes) -> None:
        body = _body(raw, ENCRYPTED_EXTENSIONS)
        block, end = _vector(body, 0, 2)
        if end != len(body):
            raise _NotFast
        self.extensions = _extensions(block, _ENCRYPTED_EXTENSIONS)


class CertificateRequest13:
    __slots__ = ("certificate_request_context", "extensions")

    def __init__(self, raw: bytes) -> None:
        body = _body(raw, CERTIFICATE_REQUEST)
        self.certificate_request_context, pos = _vector(body, 0, 1)
        block, end = _vector(body, pos, 2)
        if end != len(body):
            raise _NotFast
        self.extensions = _extensions(block, _CERTIFICATE_REQUEST_EXTENSIONS)


class CertificateVerify13:
    __slots__ = ("signatureAlgorithm", "signature")

    def __init__(self, raw: bytes) -> None:
        body = _body(raw, CERTIFICATE_VERIFY)
        if len(body) < 4:
            raise _NotFast
        self.signatureAlgorithm = (body[0], body[1])
        self.signature, end = _vector(body, 2, 2)
        if end != len(body) or not self.signature:
            raise _NotFast


SERVER_HELLO = 2
ENCRYPTED_EXTENSIONS = 8
CERTIFICATE_REQUEST = 13
CERTIFICATE_VERIFY = 15
HELLO_RETRY_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)

_SERVER_HELLO_EXTENSIONS: dict[int, Callable[[int, bytes], Extension]] = {
    43: ServerVersionExtension,
    51: ServerKeyShareExtension,
    41: ServerPskExtension,
}
_ENCRYPTED_EXTENSIONS: dict[int, Callable[[int, bytes], Extension]] = {
    0: EmptyExtension,
    10: GroupsExtension,
    16: AlpnExtension,
}
_CERTIFICATE_REQUEST_EXTENSIONS: dict[int, Callable[[int, bytes], Extension]] = {
    EXT_SIGNATURE_ALGORITHMS: SignatureAlgorithmsExtension13,
    EXT_SIGNATURE_ALGORITHMS_CERT: SignatureAlgorithmsExtension13,
    EXT_CERTIFICATE_AUTHORITIES: Extension,
    EXT_OID_FILTERS: Extension,
}


def _body(raw: bytes, msg_type: int) -> bytes:
    if len(raw) < 4 or raw[0] != msg_type or int.from_bytes(raw[1:4], "big") != len(raw) - 4:
        raise _NotFast
    return bytes(raw[4:])


def _fast_or_tlslite(fast: Callable[[bytes], Any], factory: Callable[[], Any], what: str) -> Any:
    def decoder(raw: bytes) -> Any:
        try:
            return fast(raw)
        except _NotFast:
            return decode(factory, raw, what)

    decoder.__doc__ = f"A {what}: the direct decoder when it can, else tlslite-ng's."
    return decoder


def _tls13(cls: Callable[[tuple[int, int]], Any]) -> Callable[[], Any]:
    return lambda: cls((3, 4))


decode_server_hello = _fast_or_tlslite(ServerHello13, ServerHello, "ServerHello")
decode_encrypted_extensions = _fast_or_tlslite(
    EncryptedExtensions13, EncryptedExtensions, "EncryptedExtensions"
)
decode_certificate_request13 = _fast_or_tlslite(
    CertificateRequest13, _tls13(CertificateRequest), "CertificateRequest"
)
decode_certificate_verify13 = _fast_or_tlslite(
    CertificateVerify13, _tls13(CertificateVerify), "CertificateVerify"
)


# ClientHello (RFC 8446 section 4.1.2) and the extensions we send, as (type, body) pairs.


def _v(length_size: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def _u16s(values: Sequence[int]) -> bytes:
    return b"".join(v.to_bytes(2, "big") for v in values)


def encode_client_hello(
    random: bytes,
    session_id: bytes,
    cipher_suites: Sequence[int],
    extensions: Sequence[tuple[int, bytes]],
) -> bytes:
    """legacy_version 0x0303, no compression, the extensions in the order given."""
    block = b"".join(t.to_bytes(2, "big") + _v(2, body) for t, body in extensions)
    body = (
        b"\x03\x03"
        + random
        + _v(1, session_id)
        + _v(2, _u16s(cipher_suites))
        + b"\x01\x00"
        + _v(2, block)
    )
    return encode_handshake(1, body)


def ext_server_name(host: bytes) -> tuple[int, bytes]:
    return 0, _v(2, b"\x00" + _v(2, host))


def ext_supported_groups(codes: Sequence[int]) -> tuple[int, bytes]:
    return 10, _v(2, _u16s(codes))


def ext_signature_algorithms(codes: Sequence[int]) -> tuple[int, bytes]:
    return EXT_SIGNATURE_ALGORITHMS, _v(2, _u16s(codes))


def ext_alpn(names: Sequence[bytes]) -> tuple[int, bytes]:
    return 16, _v(2, b"".join(_v(1, n) for n in names))


def ext_supported_versions(versions: Sequence[int]) -> tuple[int, bytes]:
    return 43, _v(1, _u16s(versions))


def ext_psk_key_exchange_modes(modes: Sequence[int]) -> tuple[int, bytes]:
    return 45, _v(1, bytes(modes))


def ext_cookie(cookie: bytes) -> tuple[int, bytes]:
    return 44, _v(2, cookie)


def ext_key_share(entries: Sequence[tuple[int, bytes]]) -> tuple[int, bytes]:
    return 51, _v(2, b"".join(g.to_bytes(2, "big") + _v(2, key) for g, key in entries))


def ext_pre_shared_key(
    identities: Sequence[tuple[bytes, int]], binder_sizes: Sequence[int]
) -> tuple[int, bytes]:
    """pre_shared_key (41) offering (ticket, obfuscated_ticket_age) identities, with zeroed
    binders of the given sizes: the caller signs the truncated hello and fills them in."""
    ids = b"".join(_v(2, ticket) + age.to_bytes(4, "big") for ticket, age in identities)
    binders = b"".join(_v(1, bytes(n)) for n in binder_sizes)
    return 41, _v(2, ids) + _v(2, binders)


def ext_empty(ext_type: int) -> tuple[int, bytes]:
    return ext_type, b""
