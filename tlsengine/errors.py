"""The documented error hierarchy.

Every failure the library reports is one of these, so callers can catch a whole family
(``TLSError`` or ``IdentityError``) without ever seeing a bare ``IndexError`` or
``struct.error`` leak out of a parser.
"""

from __future__ import annotations

from typing import Any


class TLSEngineError(Exception):
    """Root of every error tlsengine raises on purpose."""


# --------------------------------------------------------------------------- identities


class IdentityError(TLSEngineError):
    """A client identity could not be loaded or used."""


class PKCS12PasswordError(IdentityError):
    """The password is wrong, or one is needed and none was given."""


class PKCS12FormatError(IdentityError):
    """The PKCS#12 data is malformed; the message names the structure that is bad."""


class IdentityMismatchError(IdentityError):
    """Keys and certificates do not pair up into any usable identity."""


class UnsupportedKeyError(IdentityError):
    """The key type (DSA, an unnamed curve, ...) cannot be used for TLS client auth here."""


# --------------------------------------------------------------------------- TLS


class TLSError(TLSEngineError):
    """A TLS connection failed."""

    #: The fatal alert the connection owes the peer for this failure; ``None`` lets the
    #: connection derive one from the error's type. Set by the code that detects the fault.
    send_alert: str | None = None


class HandshakeError(TLSError):
    """The handshake could not complete; ``state`` names where it stopped."""

    def __init__(self, message: str, *, state: str | None = None) -> None:
        super().__init__(message if state is None else f"{message} (in state {state})")
        self.state = state


class DecodeError(TLSError):
    """The peer sent bytes that do not parse as the message the state expects."""

    def __init__(self, message: str, *, state: str | None = None) -> None:
        super().__init__(message if state is None else f"{message} (in state {state})")
        self.state = state


class AlertReceived(TLSError):
    """The peer sent a fatal alert (or close_notify where data was still expected)."""

    def __init__(self, description: str, level: str = "fatal", message: str | None = None) -> None:
        self.description = description
        self.level = level
        super().__init__(message or f"peer sent {level} alert: {description}")


class CertificateVerificationError(TLSError):
    """The server's certificate chain or name failed verification; ``rule`` says which check."""

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule


class ClientCertificateRejected(TLSError):
    """The server refused our client certificate (or our lack of one).

    ``selection`` carries the per-candidate verdicts so the user learns why no identity
    fitted or which one was sent; ``alert`` is the alert description the server sent, if any.
    """

    def __init__(self, message: str, *, selection: Any = None, alert: str | None = None) -> None:
        self.selection = selection
        self.alert = alert
        text = message
        if selection is not None and hasattr(selection, "explain"):
            text = f"{message}\n{selection.explain()}"
        super().__init__(text)


class TLSTimeout(TLSError, TimeoutError):
    """A socket operation did not finish within the configured timeout."""


__all__ = [
    "TLSEngineError",
    "IdentityError",
    "PKCS12PasswordError",
    "PKCS12FormatError",
    "IdentityMismatchError",
    "UnsupportedKeyError",
    "TLSError",
    "HandshakeError",
    "DecodeError",
    "AlertReceived",
    "CertificateVerificationError",
    "ClientCertificateRejected",
    "TLSTimeout",
]
