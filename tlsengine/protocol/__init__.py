"""The sans-IO protocol layer: record layer, key schedule and the TLS 1.3 client machine.

Bytes in, events and bytes out; the socket layer supplies the I/O.
"""

from __future__ import annotations

from .config import Hooks
from .connection import REJECTION_ALERTS, ClientConfig, ClientConnection, SessionTicket, State
from .events import (
    ConnectionClosed,
    DataReceived,
    Event,
    HandshakeComplete,
    KeyUpdated,
    PostHandshakeAuthCompleted,
    SessionTicketReceived,
)
from .trace import json_lines

__all__ = [
    "REJECTION_ALERTS",
    "ClientConfig",
    "ClientConnection",
    "ConnectionClosed",
    "DataReceived",
    "Event",
    "HandshakeComplete",
    "Hooks",
    "KeyUpdated",
    "PostHandshakeAuthCompleted",
    "SessionTicket",
    "SessionTicketReceived",
    "State",
    "json_lines",
]
