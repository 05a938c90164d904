"""Tools for users' own harnesses: a throwaway PKI, a programmable TLS test server, and
record / mutate / replay of server flights judged by an independent oracle (`replay`).

Nothing in the library imports this package; it is the last row of the layer table.
"""

from __future__ import annotations

from ..cli.pki import CA, KEY_SPECS, cert_pem, generate_key, key_pem
from .replay import (
    Corrupt,
    Drop,
    Duplicate,
    Edit,
    EditRequest,
    EditRequest12,
    Insert,
    Outcome,
    Recording,
    Recording12,
    Swap,
    record,
    record12,
    replay,
)
from .server import ClientRecord, ResigningServer, TestServer, ThreadedServer, enable_mlkem

__all__ = [
    "CA",
    "KEY_SPECS",
    "ClientRecord",
    "Corrupt",
    "Drop",
    "Duplicate",
    "Edit",
    "EditRequest",
    "EditRequest12",
    "Insert",
    "Outcome",
    "Recording",
    "Recording12",
    "ResigningServer",
    "Swap",
    "record",
    "record12",
    "replay",
    "TestServer",
    "ThreadedServer",
    "cert_pem",
    "enable_mlkem",
    "generate_key",
    "key_pem",
]
