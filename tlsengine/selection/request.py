"""`CertificateRequestInfo`: what a server asked for, in one version-neutral shape.

The protocol layer builds it from a TLS 1.2 or 1.3 CertificateRequest; tests and fuzzers build
it by hand. Everything is normalised on construction (scheme names, CA names with their DER,
OID filters) so that selection never has to second-guess its input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from ..errors import DecodeError
from .names import der_of, name_from_der
from .oid_filters import dotted_oid
from .schemes import (
    CERTIFICATE_TYPE_CODES,
    CERTIFICATE_TYPES,
    VERSIONS,
    scheme_code,
    scheme_name,
)

SchemeInput = str | int | tuple[int, int]
CANameInput = x509.Name | bytes | bytearray | memoryview
#: A mapping or pairs of (dotted OID, ObjectIdentifier or OID DER) -> DER extension value.
OidFiltersInput = (
    Mapping[Any, bytes | bytearray | memoryview]
    | Iterable[tuple[Any, bytes | bytearray | memoryview]]
)


def _byte(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFF


def _items(values: object, what: str, example: str, *, allow_bytes: bool = False) -> list[Any]:
    """``values`` as a list, or DecodeError: a scalar, a lone string or lone DER is no list."""
    lone = str | bytes | bytearray | memoryview | Mapping
    if isinstance(values, lone) and not (allow_bytes and isinstance(values, bytes | bytearray)):
        raise DecodeError(
            f"{what} must be a list such as {example}, not one {type(values).__name__}"
        )
    if not isinstance(values, Iterable):
        raise DecodeError(f"{what} must be a list such as {example}, not {type(values).__name__}")
    return list(values)


def _scheme(value: SchemeInput) -> str:
    """A scheme as its RFC 8446 name: names kept, code points and (hash, sig) pairs named."""
    if isinstance(value, tuple):
        if len(value) != 2 or not (_byte(value[0]) and _byte(value[1])):
            raise DecodeError(
                f"a signature scheme pair must be (hash, signature) with two ints 0-255, "
                f"not {value!r}"
            )
        value = (value[0] << 8) | value[1]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF:
        return scheme_name(value)
    if isinstance(value, str):
        code = scheme_code(value)
        if code is not None:
            return scheme_name(code)
    raise DecodeError(
        f"unknown signature scheme {value!r}: use an RFC 8446 name such as "
        "'ecdsa_secp256r1_sha256', a code point, or a '0xNNNN' string"
    )


def _schemes(values: Iterable[SchemeInput] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    items = _items(values, "signature schemes", "['ecdsa_secp256r1_sha256']")
    return tuple(_scheme(v) for v in items)


def _certificate_type(value: str | int) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFF:
        return CERTIFICATE_TYPES.get(value, f"0x{value:02x}")
    if isinstance(value, str) and value in CERTIFICATE_TYPE_CODES:
        return value
    raise DecodeError(
        f"unknown certificate type {value!r}: use 'rsa_sign', 'ecdsa_sign' or a number 0-255"
    )


def _types(values: object) -> list[Any]:
    return _items(values, "certificate_types", "['ecdsa_sign'] or b'\\x40'", allow_bytes=True)


def _ca_name(value: CANameInput) -> tuple[x509.Name, bytes]:
    if isinstance(value, x509.Name):
        return value, der_of(value)
    if isinstance(value, bytes | bytearray | memoryview):
        der = bytes(value)
        return name_from_der(der), der
    raise DecodeError(f"a CA name must be an x509.Name or its DER bytes, not {type(value)!r}")


def _oid_filters(value: Any) -> tuple[tuple[str, bytes], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    out = []
    try:
        for oid, der in items:
            dotted = oid.dotted_string if isinstance(oid, x509.ObjectIdentifier) else str(oid)
            x509.ObjectIdentifier(dotted)  # validates the dotted form
            if not isinstance(der, bytes | bytearray | memoryview):
                raise TypeError(f"values of OID filter {dotted} must be DER bytes")
            out.append((dotted, bytes(der)))
    except (TypeError, ValueError) as exc:
        raise DecodeError(
            f"oid_filters must map dotted OIDs to DER extension values: {exc}"
        ) from None
    return tuple(out)


@dataclass(frozen=True, kw_only=True, init=False)
class CertificateRequestInfo:
    """A server's CertificateRequest, decoded (RFC 8446 4.3.2 / RFC 5246 7.4.4).

    ``signature_schemes`` and ``signature_schemes_cert`` are tuples of RFC 8446 names in the
    server's order; code points we do not know are kept as ``"0xNNNN"`` and never match.
    ``signature_schemes_cert`` is None when the server did not send the extension.
    ``certificate_types`` holds TLS 1.2 names ("rsa_sign", "ecdsa_sign"; unknown as "0xNN")
    and is None for TLS 1.3 or when not given. ``certificate_authorities`` accepts x509.Name
    objects or their DER; ``certificate_authorities_der`` keeps the DER for exact matching
    (derived from the names unless given, then one entry per name in the same order).
    Malformed input of any kind raises `DecodeError` naming the argument.
    ``oid_filters`` (TLS 1.3, RFC 8446 4.2.5) accepts a mapping or pairs of (dotted OID or
    ObjectIdentifier, DER of the extension value) and is stored as a tuple of pairs; an empty
    value asks only that the extension be present.

    The keyword constructor takes the loose inputs above; the attributes always hold the
    normalised form their annotations name.
    """

    version: str
    certificate_authorities: tuple[x509.Name, ...] = ()
    signature_schemes: tuple[str, ...] = ()
    signature_schemes_cert: tuple[str, ...] | None = None
    certificate_types: tuple[str, ...] | None = None
    oid_filters: tuple[tuple[str, bytes], ...] = ()
    context: bytes = b""
    post_handshake: bool = False
    server_name: str | None = None
    certificate_authorities_der: tuple[bytes, ...] = field(default=(), repr=False, compare=False)

    def __init__(
        self,
        *,
        version: str,
        certificate_authorities: Iterable[CANameInput] | None = (),
        signature_schemes: Iterable[SchemeInput] | None = (),
        signature_schemes_cert: Iterable[SchemeInput] | None = None,
        certificate_types: Iterable[str | int] | None = None,
        oid_filters: OidFiltersInput | None = (),
        context: bytes | bytearray | memoryview = b"",
        post_handshake: bool = False,
        server_name: str | None = None,
        certificate_authorities_der: Sequence[bytes | bytearray | memoryview] = (),
    ) -> None:
        if version not in VERSIONS:
            raise DecodeError(f"version must be 'TLSv1.2' or 'TLSv1.3', not {version!r}")
        names: list[x509.Name] = []
        ders: list[bytes] = []
        cas = _items(certificate_authorities or (), "certificate_authorities", "[ca.subject]")
        for value in cas:
            name, der = _ca_name(value)
            names.append(name)
            ders.append(der)
        given_ders = _items(
            certificate_authorities_der or (), "certificate_authorities_der", "[b'0...']"
        )
        for der in given_ders:
            if not isinstance(der, bytes | bytearray | memoryview):
                raise DecodeError(
                    f"certificate_authorities_der must hold DER bytes, not {type(der).__name__}"
                )
        if given_ders:
            if len(given_ders) != len(ders):
                raise DecodeError(
                    f"certificate_authorities_der has {len(given_ders)} entries for "
                    f"{len(ders)} certificate_authorities: give one DER per name, in order"
                )
            ders = [bytes(d) for d in given_ders]
        if certificate_types is not None and version == "TLSv1.3":
            raise DecodeError("certificate_types exist only in TLS 1.2 CertificateRequests")
        if oid_filters and version == "TLSv1.2":
            raise DecodeError("oid_filters exist only in TLS 1.3 CertificateRequests")
        if server_name is not None and not isinstance(server_name, str):
            raise DecodeError(f"server_name must be a str or None, not {server_name!r}")
        if not isinstance(context, bytes | bytearray | memoryview):
            raise DecodeError("context must be bytes (the TLS 1.3 certificate_request_context)")
        fixed: dict[str, object] = {
            "version": version,
            "certificate_authorities": tuple(names),
            "certificate_authorities_der": tuple(ders),
            "signature_schemes": _schemes(signature_schemes) or (),
            "signature_schemes_cert": _schemes(signature_schemes_cert),
            "certificate_types": None
            if certificate_types is None
            else tuple(map(_certificate_type, _types(certificate_types))),
            "oid_filters": _oid_filters(oid_filters or ()),
            "context": bytes(context),
            "post_handshake": bool(post_handshake),
            "server_name": server_name,
        }
        for key, normalised in fixed.items():  # frozen: set once, here
            object.__setattr__(self, key, normalised)

    @classmethod
    def from_tls13(
        cls,
        *,
        signature_schemes: Sequence[int],
        signature_schemes_cert: Sequence[int] | None = None,
        certificate_authorities: Sequence[bytes] = (),
        oid_filters: Iterable[tuple[str | bytes, bytes]] | Mapping[str, bytes] = (),
        context: bytes = b"",
        post_handshake: bool = False,
        server_name: str | None = None,
    ) -> CertificateRequestInfo:
        """From decoded TLS 1.3 extensions: code points, DER CA names, OID filters.

        OIDs in ``oid_filters`` may be dotted strings or the DER body of an OBJECT IDENTIFIER
        as carried on the wire.
        """
        pairs = oid_filters.items() if isinstance(oid_filters, Mapping) else oid_filters
        filters = [(_oid_text(oid), der) for oid, der in pairs]
        return cls(
            version="TLSv1.3",
            certificate_authorities=tuple(certificate_authorities),
            signature_schemes=tuple(signature_schemes),
            signature_schemes_cert=None
            if signature_schemes_cert is None
            else tuple(signature_schemes_cert),
            oid_filters=tuple(filters),
            context=context,
            post_handshake=post_handshake,
            server_name=server_name,
        )

    @classmethod
    def from_tls12(
        cls,
        *,
        certificate_types: Sequence[int],
        signature_schemes: Sequence[int | tuple[int, int]],
        certificate_authorities: Sequence[bytes] = (),
        server_name: str | None = None,
    ) -> CertificateRequestInfo:
        """From a decoded TLS 1.2 CertificateRequest (tlslite-ng gives (hash, sig) pairs)."""
        return cls(
            version="TLSv1.2",
            certificate_types=tuple(certificate_types),
            signature_schemes=tuple(signature_schemes),
            certificate_authorities=tuple(certificate_authorities),
            server_name=server_name,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (what ``tlsengine probe --json`` prints about the request)."""
        return {
            "version": self.version,
            "certificate_authorities": [n.rfc4514_string() for n in self.certificate_authorities],
            "signature_schemes": list(self.signature_schemes),
            "signature_schemes_cert": None
            if self.signature_schemes_cert is None
            else list(self.signature_schemes_cert),
            "certificate_types": None
            if self.certificate_types is None
            else list(self.certificate_types),
            "oid_filters": [[oid, der.hex()] for oid, der in self.oid_filters],
            "post_handshake": self.post_handshake,
            "server_name": self.server_name,
        }


def _oid_text(oid: str | bytes | x509.ObjectIdentifier) -> str:
    """Dotted form of an OID given dotted, as an ObjectIdentifier, or as DER content octets."""
    if isinstance(oid, x509.ObjectIdentifier):
        return oid.dotted_string
    if isinstance(oid, str):
        return oid
    dotted = dotted_oid(bytes(oid))
    if dotted is None:
        raise DecodeError(f"OID filter has a malformed OBJECT IDENTIFIER ({bytes(oid).hex()})")
    return dotted


__all__ = ["CertificateRequestInfo"]
