"""The in-process server of tests/inproc_server.py, plus what a conformance test needs to
judge the client from outside: the client's own traffic secrets derived on the server side
(its own key schedule, not the client's state), so the test decrypts what the client sent.

Used by the tests named after RFC 8446 sections (test_rfc8446_*.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from inproc_server import SUITE, Server, certificate_request, ext, vec

from tlsengine.errors import TLSError
from tlsengine.identity.model import Identity
from tlsengine.protocol import ClientConfig, ClientConnection, Event
from tlsengine.protocol.keyschedule import KeySchedule, Transcript
from tlsengine.protocol.record import RecordProtection
from tlsengine.protocol.wire import encode_handshake

__all__ = [
    "CERTIFICATE",
    "CERTIFICATE_VERIFY",
    "CLIENT_CV_CONTEXT",
    "FINISHED",
    "KEY_UPDATE",
    "NEW_SESSION_TICKET",
    "ClientFlight",
    "OracleServer",
    "certificate_request",
    "ext",
    "refused",
    "transcript_hash",
    "vec",
]

# Handshake message types (RFC 8446 section 4) the conformance tests look for.
NEW_SESSION_TICKET, CERTIFICATE, CERTIFICATE_VERIFY, FINISHED, KEY_UPDATE = 4, 11, 15, 20, 24
CLIENT_CV_CONTEXT = b" " * 64 + b"TLS 1.3, client CertificateVerify\x00"

#: signature_algorithms (13) offering ecdsa_secp256r1_sha256 only.
SIGALGS_P256 = ext(13, vec(b"\x04\x03", 2))


class OracleServer(Server):
    """`Server` that also derives the client's handshake and application traffic secrets."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._hello: tuple[bytes, bytes, bytes] | None = None
        self.client_hs_secret = b""
        self.client_app_secret = b""
        self.hashed: list[bytes] = []  # every message of the transcript through our Finished

    def server_hello(self, client_records: bytes) -> tuple[bytes, bytes, bytes]:
        self._hello = super().server_hello(client_records)
        return self._hello

    def messages(self, client_records: bytes) -> tuple[bytes, list[bytes]]:
        sh, messages = super().messages(client_records)
        assert self._hello is not None
        client_hello, _, shared = self._hello
        transcript = Transcript()
        transcript.start(SUITE.hash_name)
        transcript.update(client_hello)
        transcript.update(sh)
        schedule = KeySchedule(SUITE)
        self.client_hs_secret, _ = schedule.handshake(shared, transcript.digest())
        self.hashed = [client_hello, sh, *messages[: len(messages) - len(self.extra)]]
        for message in self.hashed[2:]:
            transcript.update(message)
        self.client_app_secret = schedule.application(transcript.digest())[0]
        return sh, messages


@dataclass
class ClientFlight:
    """Handshake messages the client sent, decrypted by the oracle: (type, body) pairs."""

    messages: list[tuple[int, bytes]]

    @property
    def types(self) -> list[int]:
        return [t for t, _ in self.messages]

    def body(self, msg_type: int) -> bytes:
        return next(b for t, b in self.messages if t == msg_type)


def transcript_hash(messages: Sequence[bytes]) -> bytes:
    """The transcript hash over ``messages`` (full handshake messages, headers included)."""
    transcript = Transcript()
    transcript.start(SUITE.hash_name)
    for message in messages:
        transcript.update(message)
    return transcript.digest()


def read_flight(data: bytes, secret: bytes) -> ClientFlight:
    """Decrypt the client's protected handshake records under ``secret`` (CCS skipped)."""
    protection = RecordProtection(SUITE, secret)
    plain = b""
    pos = 0
    while pos < len(data):
        header = data[pos : pos + 5]
        end = pos + 5 + int.from_bytes(header[3:5], "big")
        if header[0] == 23:
            content_type, content = protection.open(header, memoryview(data[pos + 5 : end]))
            assert content_type == 22, f"client sent inner content type {content_type}"
            plain += content
        pos = end
    out = []
    while plain:
        length = int.from_bytes(plain[1:4], "big")
        out.append((plain[0], plain[4 : 4 + length]))
        plain = plain[4 + length :]
    return ClientFlight(out)


def handshake(
    server_material: tuple[Sequence[bytes], Any],
    identity: Identity | None = None,
    *,
    select: Callable[..., Any] | None = None,
    server: OracleServer | None = None,
    **config: Any,
) -> tuple[ClientConnection, OracleServer, list[Event]]:
    """Run one handshake against the in-process server; returns the connection, the server
    (for post-handshake records) and the events of the server's first flight."""
    chain, key = server_material
    srv = server or OracleServer(chain, key)
    identities = [identity] if identity is not None else []
    conn = ClientConnection(ClientConfig(identities=identities, select=select, **config))
    conn.start_handshake()
    events = conn.receive_data(srv.answer(conn.data_to_send()))
    return conn, srv, events


def refused(run: Callable[[], Any], alert: str, match: str | None = None) -> TLSError:
    """``run()`` must fail with a TLSError whose queued alert is ``alert``."""
    with pytest.raises(TLSError, match=match) as info:
        run()
    assert info.value.send_alert == alert, f"{info.value!r} queued {info.value.send_alert}"
    return info.value


def post_handshake(srv: OracleServer, msg_type: int, body: bytes) -> bytes:
    """One post-handshake message in a record under the server's application keys."""
    return srv.app(22, encode_handshake(msg_type, body))
