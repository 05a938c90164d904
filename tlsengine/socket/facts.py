"""What ``ssl`` sockets report about the peer, shared by `TLSSocket` and `TLSObject`.

Both shells hold a sans-IO `ClientConnection`; everything a client library reads back after
the handshake (version, cipher, ALPN, the server's certificate as ``ssl``'s dict or DER, and
tlsengine's client_identity/selection) comes from that connection the same way.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from ..errors import TLSError

__all__ = ["PeerFacts", "certificate_dict"]


class PeerFacts:
    """What ``ssl`` sockets and objects report about the peer, read from ``self._conn``.

    Shared by `TLSObject` and the socket shells: ``_conn`` is the `ClientConnection` (None
    before the handshake starts), ``_verified`` whether the chain was checked, and
    ``_failure`` the handshake's error, if any.
    """

    _conn: Any
    _verified: bool
    _failure: BaseException | None

    server_side = False  # tlsengine is a client

    def _complete(self) -> bool:
        return self._conn is not None and bool(self._conn.handshake_complete)

    def version(self) -> str | None:
        """ "TLSv1.3" / "TLSv1.2" once the handshake is done, else None (as ssl)."""
        return self._conn.version if self._complete() else None

    def cipher(self) -> tuple[str, str, int] | None:
        """(IANA suite name, protocol version, secret bits), as ``ssl``'s ``cipher()``."""
        if not self._complete():
            return None
        name = self._conn.cipher
        return name, self._conn.version, _cipher_bits(name)

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        """The suites both sides support; a client only knows the one the server chose."""
        current = self.cipher()
        return None if current is None else [current]

    def compression(self) -> None:
        return None

    def selected_alpn_protocol(self) -> str | None:
        return self._conn.alpn_protocol if self._complete() else None

    def selected_npn_protocol(self) -> None:
        return None  # NPN is obsolete; never offered

    def get_channel_binding(self, cb_type: str = "tls-unique") -> None:
        """None: 'tls-unique' does not exist in TLS 1.3 (RFC 8446 section C.5)."""
        if cb_type != "tls-unique":
            raise ValueError(f"{cb_type!r} channel binding type not implemented")
        return None

    def getpeercert(self, binary_form: bool = False) -> dict[str, Any] | bytes | None:
        """The server's leaf: DER with ``binary_form``, else ssl's dict ({} if unverified).

        Only after a completed handshake, as ``ssl``: a certificate that failed
        verification is never reported (`get_unverified_chain` shows what was sent).
        """
        if not self._complete():
            if self._failure is not None:
                raise TLSError(
                    f"the handshake failed ({self._failure}); no verified peer certificate "
                    "(get_unverified_chain() shows what the server sent)"
                )
            raise TLSError("handshake not done yet")
        certs = self.get_unverified_chain()
        if not certs:
            return None
        if binary_form:
            return certs[0]
        if not self._verified:
            return {}
        return certificate_dict(x509.load_der_x509_certificate(certs[0]))

    def get_verified_chain(self) -> list[bytes]:
        """The server's chain (DER, leaf first) once it verified, else []."""
        if not (self._complete() and self._verified):
            return []
        return self.get_unverified_chain()

    def get_unverified_chain(self) -> list[bytes]:
        """The chain the server sent (DER, leaf first), verified or not; for diagnosis."""
        return [bytes(c) for c in (getattr(self._conn, "peer_certificates", None) or [])]

    @property
    def client_identity(self) -> Any:
        """The `Identity` we sent, or None (none asked for, or nothing fitted); on a
        resumed connection, the one sent when the session was made."""
        return getattr(self._conn, "client_identity", None)

    @property
    def session_reused(self) -> bool:
        """True when this connection resumed an earlier session (as ``ssl``'s).

        A resumed handshake carries no certificates: ``getpeercert()`` and
        ``client_identity`` then report those of the connection that made the session.
        """
        return self._complete() and bool(getattr(self._conn, "session_reused", False))

    @property
    def session(self) -> Any:
        """The newest session the server gave this connection (None before any), as
        ``ssl``'s ``session``. It lives in memory only and refuses pickling; the
        context's cache already offers it to the next connection."""
        tickets = getattr(self._conn, "session_tickets", None)
        return tickets[-1] if tickets else None

    @property
    def certificate_request(self) -> Any:
        """The server's `CertificateRequestInfo`, or None if it never asked."""
        return getattr(self._conn, "certificate_request", None)

    @property
    def selection(self) -> Any:
        """The `Selection` (verdict per candidate) from the last CertificateRequest."""
        return getattr(self._conn, "selection", None)

    @property
    def transcript(self) -> list[dict[str, Any]]:
        """Every decoded handshake message and the selection verdicts (``trace=True``)."""
        return list(getattr(self._conn, "transcript", None) or [])

    @property
    def connection(self) -> Any:
        """The underlying sans-IO `ClientConnection` (None before the handshake starts)."""
        return self._conn


def _cipher_bits(name: str) -> int:
    if "AES_128" in name:
        return 128
    if "AES_256" in name or "CHACHA20" in name:
        return 256
    return 0


# ssl's short names for the attributes it prints in getpeercert() dicts.
_ATTR_NAMES = {
    NameOID.COMMON_NAME: "commonName",
    NameOID.COUNTRY_NAME: "countryName",
    NameOID.LOCALITY_NAME: "localityName",
    NameOID.STATE_OR_PROVINCE_NAME: "stateOrProvinceName",
    NameOID.ORGANIZATION_NAME: "organizationName",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "organizationalUnitName",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.DOMAIN_COMPONENT: "domainComponent",
    NameOID.USER_ID: "userId",
    NameOID.STREET_ADDRESS: "streetAddress",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionCountryName",
}


def _name_tuple(name: x509.Name) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(
        tuple((_ATTR_NAMES.get(attr.oid, attr.oid.dotted_string), str(attr.value)) for attr in rdn)
        for rdn in name.rdns
    )


def _ssl_time(when: Any) -> str:
    """OpenSSL's ASN1_TIME_print layout, e.g. 'Jan  5 09:34:43 2018 GMT'."""
    return f"{when:%b} {when.day:2d} {when:%H:%M:%S %Y} GMT"


def certificate_dict(cert: x509.Certificate) -> dict[str, Any]:
    """The dict ``ssl.SSLSocket.getpeercert()`` returns, built with `cryptography`."""
    out: dict[str, Any] = {
        "subject": _name_tuple(cert.subject),
        "issuer": _name_tuple(cert.issuer),
        "version": cert.version.value + 1,
        "serialNumber": f"{cert.serial_number:X}".rjust(2, "0"),
        "notBefore": _ssl_time(cert.not_valid_before_utc),
        "notAfter": _ssl_time(cert.not_valid_after_utc),
    }
    if len(out["serialNumber"]) % 2:
        out["serialNumber"] = "0" + out["serialNumber"]
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        sans = None
    if sans is not None:
        entries: list[tuple[str, str]] = []
        for general in sans:
            if isinstance(general, x509.DNSName):
                entries.append(("DNS", general.value))
            elif isinstance(general, x509.IPAddress):
                entries.append(("IP Address", _ip_text(general.value)))
            elif isinstance(general, x509.RFC822Name):
                entries.append(("email", general.value))
            elif isinstance(general, x509.UniformResourceIdentifier):
                entries.append(("URI", general.value))
        out["subjectAltName"] = tuple(entries)
    return out


def _ip_text(value: Any) -> str:
    if value.version == 6:  # ssl prints IPv6 fully expanded, upper case
        return ":".join(f"{int(g, 16):X}" for g in value.exploded.split(":"))
    return str(value)
