"""The sans-IO protocol layer: record layer, key schedules, the TLS 1.3 and 1.2 client machines.

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
    RenegotiationCompleted,
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
    "RenegotiationCompleted",
    "SessionTicket",
    "SessionTicketReceived",
    "State",
    "json_lines",
]
