"""`ClientConnection`: the sans-IO TLS client. Bytes in, events and bytes out.

The shape is h11's: ``receive_data(bytes) -> list[Event]``, ``data_to_send() -> bytes``.
No sockets, threads, sleeps or clocks here; the socket layer drives it. The record layer
and alert handling live in this class, the TLS 1.3 handshake in tls13.py and the TLS 1.2
one in tls12.py; the version in the ServerHello decides which machine handles the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tlslite.constants import AlertDescription

from ..errors import (
    AlertReceived,
    CertificateVerificationError,
    ClientCertificateRejected,
    DecodeError,
    HandshakeError,
    TLSError,
)
from ..identity.model import Identity
from .config import DEFAULT_SIGNATURE_SCHEMES, ClientConfig
from .events import ConnectionClosed, DataReceived, Event
from .keyschedule import CipherSuite
from .record import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    MAX_PLAINTEXT,
    HandshakeReassembler,
    RecordProtection,
    RecordProtection12,
    RecordReader,
    fatal,
    plaintext_records,
)
from .tls12 import MESSAGE_NAMES_12, TLS12Handshake
from .tls13 import MESSAGE_NAMES, SessionTicket, State, TLS13Handshake
from .trace import Trace

__all__ = [
    "DEFAULT_SIGNATURE_SCHEMES",
    "ClientConfig",
    "ClientConnection",
    "State",
    "SessionTicket",
    "REJECTION_ALERTS",
]

#: Alerts by which servers refuse a client certificate (or its absence): OpenSSL,
#: Java, GnuTLS, Go and NSS between them use all of these.
REJECTION_ALERTS = frozenset(
    {
        "certificate_required",
        "bad_certificate",
        "unknown_ca",
        "certificate_expired",
        "unsupported_certificate",
        "access_denied",
        "certificate_unknown",
        "certificate_revoked",
        "decrypt_error",
        "handshake_failure",
    }
)

#: Messages only a TLS 1.2 client sends (the machine's table lists what it receives).
_CLIENT_NAMES_12 = {1: "ClientHello", 15: "CertificateVerify", 16: "ClientKeyExchange"}
_CCS_RECORD = b"\x14\x03\x03\x00\x01\x01"
_PROTECTED_TYPES = frozenset((ALERT, HANDSHAKE, APPLICATION_DATA))
_CLOSE_NOTIFY = 0
#: TLS 1.2 warning alerts tolerated in a row (OpenSSL's MAX_WARN_ALERT_COUNT): more is a
#: peer stalling us, not telling us something.
MAX_WARNINGS_IN_A_ROW = 5
_USER_CANCELED = 90


def _describe_plaintext(content_type: int, data: bytes) -> str:
    """What an unprotected record claims to be, for the error message only."""
    if content_type == ALERT and len(data) == 2:
        return f"alert record (claiming {AlertDescription.toStr(data[1])})"
    return "alert record" if content_type == ALERT else "handshake record"


class ClientConnection(TLS12Handshake, TLS13Handshake):
    """One TLS client connection, driven by the caller's I/O."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.state = State.START
        self.handshake_complete = False
        self.version: str | None = None
        self.cipher: str | None = None
        self.alpn_protocol: str | None = None
        self.peer_certificates: list[bytes] = []
        self.certificate_request: Any = None
        self.selection: Any = None
        self.client_identity: Identity | None = None
        self.transcript = Trace()  # bounded: the newest entries and a dropped count
        self.session_tickets: list[Any] = []  # resumable sessions (1.3 tickets, 1.2 Session12)
        self.session_reused = False  # True once the server accepted our session (PSK)
        self._identities: tuple[Identity, ...] = ()
        self._answered_certificate_request = False
        self._warnings_in_a_row = 0  # TLS 1.2 warning alerts since the last other record
        self._key_updates_in_a_row = 0
        self._tickets_received = 0
        self._out: list[bytes] = []
        self._reader = RecordReader()
        self._handshake = HandshakeReassembler()
        self._read: RecordProtection | RecordProtection12 | None = None
        self._write: RecordProtection | RecordProtection12 | None = None
        self._ccs_sent = False
        self._write_closed = False
        self._failed: TLSError | None = None

    def __repr__(self) -> str:
        return (
            f"ClientConnection(state={self.state.value}, version={self.version}, "
            f"cipher={self.cipher}, server_name={self.config.server_name!r})"
        )

    # ------------------------------------------------------------------ public API

    def start_handshake(self) -> None:
        """Queue the ClientHello; identities are snapshotted now for the whole connection."""
        if self.state is not State.START:
            raise HandshakeError("handshake already started", state=self.state.value)
        self._identities = tuple(self.config.identities)
        self._init_tls13()
        self._init_tls12()
        self._send_client_hello()

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Feed bytes from the peer; returns the events they complete.

        On our own failure the fatal alert is queued before the error is raised, so
        ``data_to_send()`` still returns it.
        """
        if self._failed is not None:
            raise TLSError(f"connection already failed: {self._failed}")
        if self.state is State.START:
            raise HandshakeError("receive_data before start_handshake", state="START")
        events: list[Event] = []
        reader = self._reader
        try:
            reader.feed(data)
            while self.state is not State.CLOSED:
                record = reader.next_record()
                if record is None:
                    break
                self._process_record(*record, events)
        except TLSError as exc:
            self._fail(exc)
            raise
        return events

    def data_to_send(self) -> bytes:
        """Drain everything queued for the peer."""
        if not self._out:
            return b""
        out = self._out[0] if len(self._out) == 1 else b"".join(self._out)
        self._out = []
        return out

    def send_data(self, data: bytes | bytearray | memoryview) -> None:
        """Protect application data in records of at most 16 KiB, one AEAD call each."""
        if not self.handshake_complete or self._write is None:
            raise HandshakeError("cannot send application data before the handshake completes")
        if self._write_closed or self._failed is not None:
            raise TLSError("cannot send: the connection is closed")
        seal = self._write.seal
        view = memoryview(data)
        out = self._out
        for start in range(0, len(view), MAX_PLAINTEXT):
            out.append(seal(APPLICATION_DATA, view[start : start + MAX_PLAINTEXT]))

    def send_close_notify(self) -> None:
        """Queue close_notify; we send nothing afterwards (reading may go on)."""
        if self._write_closed:
            return
        self._send_alert("close_notify", level=1)
        self._write_closed = True

    def request_key_update(self, update_requested: bool = True) -> None:
        """Send a KeyUpdate and switch our write keys (RFC 8446 section 4.6.3)."""
        if self.version == "TLSv1.2":
            raise HandshakeError("KeyUpdate exists only in TLS 1.3; this connection is TLS 1.2")
        if self.state is not State.CONNECTED:
            raise HandshakeError("KeyUpdate needs a completed handshake", state=self.state.value)
        if self._write_closed:
            raise TLSError("cannot send a KeyUpdate: we already sent close_notify")
        self._send_key_update(update_requested)

    # ------------------------------------------------------------------ records in

    def _process_record(
        self, content_type: int, header: bytes, payload: memoryview, events: list[Event]
    ) -> None:
        if self.version == "TLSv1.2":
            self._process_record12(content_type, header, payload, events)
            return
        if content_type == APPLICATION_DATA:
            if self._read is None:
                raise fatal("unexpected_message", "protected record before any keys")
            content_type, data = self._read.open(header, payload)
            if content_type not in _PROTECTED_TYPES:
                raise fatal(
                    "unexpected_message",
                    f"protected record of content type {content_type} (RFC 8446 section 5: "
                    "only alert, handshake or application data may be protected)",
                )
        else:
            if len(payload) > MAX_PLAINTEXT:
                raise fatal("record_overflow", f"plaintext record of {len(payload)} bytes")
            data = bytes(payload)
            if content_type == CHANGE_CIPHER_SPEC:
                if data != b"\x01" or self.handshake_complete or self.state is State.START:
                    raise fatal("unexpected_message", "change_cipher_spec outside the handshake")
                if not self._handshake.empty:
                    raise fatal(
                        "unexpected_message", "change_cipher_spec inside a fragmented message"
                    )
                return  # middlebox compatibility: dropped (RFC 8446 section 5)
            if self._read is not None:
                # Nothing authenticates it, so it may be forged (a fake close_notify would
                # truncate the stream): refuse it and say what it claimed, for diagnosis.
                claim = _describe_plaintext(content_type, data)
                raise fatal(
                    "unexpected_message",
                    f"unprotected {claim} after the keys changed (RFC 8446 section 5); "
                    "ignored as possibly forged",
                )
        if content_type != HANDSHAKE and not self._handshake.empty:
            raise fatal("unexpected_message", "record interleaved with a fragmented message")
        if content_type == HANDSHAKE:
            self._process_handshake(data, events)
        elif content_type == APPLICATION_DATA:
            if not self.handshake_complete:
                raise fatal("unexpected_message", "application data before the handshake ended")
            self._answered_certificate_request = False  # the server accepted our answer
            self._key_updates_in_a_row = 0  # progress: the KeyUpdate bound starts over
            if data:
                events.append(DataReceived(data))
        else:
            self._process_alert(data, events)

    def _process_record12(
        self, content_type: int, header: bytes, payload: memoryview, events: list[Event]
    ) -> None:
        """TLS 1.2 records: the header's type is the real one; after the server's
        ChangeCipherSpec every record (CCS included, on renegotiation) is protected."""
        if self._read is not None:
            content_type, data = self._read.open(header, payload)
        elif content_type == APPLICATION_DATA:
            raise fatal("unexpected_message", "application data before any keys")
        elif len(payload) > MAX_PLAINTEXT:
            raise fatal("record_overflow", f"plaintext record of {len(payload)} bytes")
        else:
            data = bytes(payload)
        if content_type != HANDSHAKE and not self._handshake.empty:
            raise fatal("unexpected_message", "record interleaved with a fragmented message")
        if content_type != ALERT:
            self._warnings_in_a_row = 0
        if content_type == HANDSHAKE:
            self._process_handshake(data, events)
        elif content_type == APPLICATION_DATA:
            if not self.handshake_complete or self.state is State.WAIT_FINISHED:
                raise fatal(
                    "unexpected_message",
                    "application data between ChangeCipherSpec and Finished",
                    state=self.state.value,
                )
            self._answered_certificate_request = False  # the server accepted our answer
            if data:
                events.append(DataReceived(data))
        elif content_type == CHANGE_CIPHER_SPEC:
            if data != b"\x01":
                raise fatal("decode_error", "malformed ChangeCipherSpec", error=DecodeError)
            self._handle_change_cipher_spec12()
        else:
            self._process_alert(data, events)

    def _handle_handshake_message(self, raw: bytes, events: list[Event]) -> bool:
        """Once a TLS 1.2 ServerHello is in, the TLS 1.2 machine takes every message."""
        hooks = self.config.hooks
        if hooks is not None and hooks.on_message is not None:
            hooks.on_message("in", self._message_name(raw), raw)
        if self.version == "TLSv1.2":
            return self._handle_handshake_message12(raw, events)
        keys_changed = super()._handle_handshake_message(raw, events)
        return keys_changed and self.version != "TLSv1.2"  # a 1.2 ServerHello changes none

    def _process_handshake(self, data: bytes, events: list[Event]) -> None:
        if not data:
            raise fatal("unexpected_message", "empty handshake record")
        reassembler = self._handshake
        reassembler.feed(data)
        while (message := reassembler.next_message()) is not None:
            keys_changed = self._handle_handshake_message(message, events)
            if keys_changed and not reassembler.empty:
                raise fatal(
                    "unexpected_message",
                    "handshake data continues across a key change (RFC 8446 section 5.1)",
                )

    def _process_alert(self, data: bytes, events: list[Event]) -> None:
        if len(data) != 2:
            raise fatal("decode_error", "alert record is not two bytes", error=DecodeError)
        level, code = data[0], data[1]
        name = AlertDescription.toStr(code)
        if code == _USER_CANCELED:
            return
        self._trace("in", "Alert", level=level, description=name)
        if code == _CLOSE_NOTIFY and self.handshake_complete:
            self.state = State.CLOSED
            events.append(ConnectionClosed())
            return
        if level == 1 and code != _CLOSE_NOTIFY and self.version == "TLSv1.2":
            self._warnings_in_a_row += 1  # TLS 1.2 warnings (unrecognized_name, ...) are
            if self._warnings_in_a_row <= MAX_WARNINGS_IN_A_ROW:  # no reason to stop
                return
            raise fatal(
                "unexpected_message",
                f"more than {MAX_WARNINGS_IN_A_ROW} warning alerts in a row ({name})",
            )
        hello_refused = self.state is State.WAIT_SH and not self.handshake_complete
        self.state = State.CLOSED
        raise self._alert_error(name, level, hello_refused)

    def _alert_error(self, name: str, level: int, hello_refused: bool) -> TLSError:
        """What a fatal alert means for the user depends on what we did just before it."""
        if hello_refused and level == 2:
            return AlertReceived(name, "fatal", self._hello_refusal(name))
        # GnuTLS answers an empty TLS 1.2 Certificate it required with decode_error.
        empty_refused = (
            name == "decode_error" and self.version == "TLSv1.2" and self.client_identity is None
        )
        if self._answered_certificate_request and (name in REJECTION_ALERTS or empty_refused):
            return ClientCertificateRejected(
                f"server rejected our client certificate ({name})"
                if self.client_identity is not None
                else f"server required a client certificate and none fitted ({name})",
                selection=self.selection,
                alert=name,
            )
        level_name = "fatal" if level == 2 else "warning"
        if self.renegotiation_refused is not None:
            return AlertReceived(
                name,
                level_name,
                f"peer sent {name} after we refused its TLS 1.2 renegotiation "
                f"({self.renegotiation_refused}); ClientContext(renegotiation='once' or "
                "'freely') lets it renegotiate",
            )
        return AlertReceived(name, level_name)

    def _hello_refusal(self, alert: str) -> str:
        """The server refused our ClientHello: say what we offered, so a user can compare."""
        cfg = self.config
        versions = [cfg.max_version] + (
            [cfg.min_version] if cfg.min_version != cfg.max_version else []
        )
        suites = list(cfg.cipher_suites if cfg.max_version == "TLSv1.3" else ())
        suites += list(cfg.cipher_suites_12 if cfg.min_version == "TLSv1.2" else ())
        return (
            f"server refused our ClientHello with {alert}: no protocol version, cipher suite, "
            f"group or signature scheme in common? We offered {' and '.join(versions)} with "
            f"{', '.join(suites)}; groups {', '.join(cfg.groups)}"
        )

    # ------------------------------------------------------------------ records out

    def _send_change_cipher_spec(self) -> None:
        if not self._ccs_sent:
            self._ccs_sent = True
            self._out.append(_CCS_RECORD)

    def _send_handshake_flight(self, messages: Sequence[bytes]) -> None:
        if self.config.hooks is not None:
            messages = self._hooked_outgoing(messages)
        data = b"".join(messages)
        if self._write is None:
            version = b"\x03\x01" if self.state is State.START else b"\x03\x03"
            self._out.append(plaintext_records(HANDSHAKE, data, version))
            return
        self._send_change_cipher_spec()
        seal = self._write.seal
        for start in range(0, len(data), MAX_PLAINTEXT):
            self._out.append(seal(HANDSHAKE, data[start : start + MAX_PLAINTEXT]))

    def _message_name(self, raw: bytes) -> str:
        """A handshake message's name in the version being spoken, for the hooks."""
        if self.version == "TLSv1.2":
            name = MESSAGE_NAMES_12.get(raw[0]) or _CLIENT_NAMES_12.get(raw[0])
        else:
            name = MESSAGE_NAMES.get(raw[0])
        return name or f"type {raw[0]}"

    def _hooked_outgoing(self, messages: Sequence[bytes]) -> list[bytes]:
        """Research hooks (config.hooks): the unsafe outgoing rewrite, then the observer."""
        hooks = self.config.hooks
        assert hooks is not None
        out = []
        for raw in messages:
            name = self._message_name(raw)
            if hooks.unsafe_mutate_outgoing is not None:
                raw = bytes(hooks.unsafe_mutate_outgoing(name, raw))
            if hooks.on_message is not None:
                hooks.on_message("out", name, raw)
            out.append(raw)
        return out

    def _send_change_cipher_spec12(self) -> None:
        """TLS 1.2's real ChangeCipherSpec: protected too when renegotiating."""
        if self._write is None:
            self._out.append(_CCS_RECORD)
        else:
            self._out.append(self._write.seal(CHANGE_CIPHER_SPEC, b"\x01"))
        self._trace("out", "ChangeCipherSpec")

    def _send_alert(self, name: str, level: int = 2) -> None:
        code = getattr(AlertDescription, name, 80)  # internal_error if unknown
        body = bytes((level, code))
        if self._write is None:
            self._out.append(plaintext_records(ALERT, body))
        else:
            self._send_change_cipher_spec()
            self._out.append(self._write.seal(ALERT, body))
        self._trace("out", "Alert", level=level, description=name)

    def _fail(self, exc: TLSError) -> None:
        """Remember the failure and queue the fatal alert we owe the peer, if any."""
        self._failed = exc
        previous = self.state
        self.state = State.CLOSED
        if isinstance(exc, AlertReceived) or (
            isinstance(exc, ClientCertificateRejected) and exc.alert is not None
        ):
            return  # the peer already ended it
        alert = exc.send_alert
        if alert is None:
            if isinstance(exc, DecodeError):
                alert = "decode_error"
            elif isinstance(exc, CertificateVerificationError):
                alert = "bad_certificate"
            else:
                alert = "internal_error" if previous is State.CONNECTED else "handshake_failure"
        if not self._write_closed:
            self._send_alert(alert)
            self._write_closed = True

    # ------------------------------------------------------------------ keys

    def _set_read_keys(self, suite: CipherSuite, secret: bytes) -> None:
        self._read = RecordProtection(suite, secret)

    def _set_write_keys(self, suite: CipherSuite, secret: bytes) -> None:
        self._write = RecordProtection(suite, secret)

    def _read_secret(self) -> bytes:
        assert isinstance(self._read, RecordProtection)
        return self._read.secret

    def _write_secret(self) -> bytes:
        assert isinstance(self._write, RecordProtection)
        return self._write.secret

    # ------------------------------------------------------------------ trace

    def _trace(self, direction: str, message: str, **fields: Any) -> None:
        if self.config.trace:
            self.transcript.append({"direction": direction, "type": message, **fields})
