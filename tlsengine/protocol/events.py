"""Events the sans-IO client returns from ``receive_data``.

Tiny immutable classes in the manner of h11: the shells above (blocking socket, asyncio)
switch on their type and never look inside the protocol's state.
"""

from __future__ import annotations

from dataclasses import dataclass


class Event:
    """Base class of everything ``ClientConnection.receive_data`` returns."""


@dataclass(frozen=True)
class HandshakeComplete(Event):
    """Both Finished messages are done; application data may flow."""

    version: str  # "TLSv1.3" | "TLSv1.2"
    cipher: str  # IANA suite name, e.g. "TLS_AES_128_GCM_SHA256"
    alpn_protocol: str | None
    client_certificate_sent: bool
    session_reused: bool = False  # resumed from an earlier connection's session


@dataclass(frozen=True)
class DataReceived(Event):
    """Decrypted application data."""

    data: bytes


@dataclass(frozen=True)
class ConnectionClosed(Event):
    """The server sent close_notify; no more data will arrive."""


@dataclass(frozen=True)
class SessionTicketReceived(Event):
    """A TLS 1.3 NewSessionTicket, kept for later resumption."""

    lifetime: int
    ticket: bytes


@dataclass(frozen=True)
class KeyUpdated(Event):
    """The server's traffic keys were updated (``requested``: it asked us to update too)."""

    requested: bool


@dataclass(frozen=True)
class PostHandshakeAuthCompleted(Event):
    """A TLS 1.3 post-handshake CertificateRequest was answered."""

    client_certificate_sent: bool


@dataclass(frozen=True)
class RenegotiationCompleted(Event):
    """A TLS 1.2 renegotiation the server asked for is done (new keys, maybe a certificate)."""

    client_certificate_sent: bool
