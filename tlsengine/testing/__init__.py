"""Tools for users' own harnesses: a throwaway PKI and a programmable TLS test server.

Nothing in the library imports this package; it is the last row of the layer table.
"""

from __future__ import annotations

from ..cli.pki import CA, KEY_SPECS, cert_pem, generate_key, key_pem
from .server import ClientRecord, TestServer, ThreadedServer, enable_mlkem

__all__ = [
    "CA",
    "KEY_SPECS",
    "ClientRecord",
    "TestServer",
    "ThreadedServer",
    "cert_pem",
    "enable_mlkem",
    "generate_key",
    "key_pem",
]
