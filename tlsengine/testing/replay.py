"""Record a TLS 1.3 server's first flight, replay it against the client, mutate it inside
the encryption, and judge the client by an oracle with its own key schedule.

How a replay stays valid: the client runs in deterministic mode (``ClientConfig.seed``), so
it sends the very ClientHello it sent when recording, with the same key share; the recorded
ServerHello then yields the same (EC)DHE secret and the same handshake traffic keys. The
recording keeps that shared secret, and from it this module derives every traffic secret
itself (RFC 8446 section 7.1), never asking the client under test.

A replay decrypts nothing on the wire: it holds the server's handshake messages in clear
(EncryptedExtensions through Finished), applies the mutations to that list (field edits on
tlslite-ng's decoded messages, drop, duplicate, swap, insert, byte flips), optionally
re-signs (CertificateVerify, with the server's key the caller holds) and re-MACs (Finished)
so a mutated CertificateRequest reaches selection, and encrypts the result under the server
handshake keys in the framing asked for (one record per message, all coalesced, or records
of n bytes, which splits messages across records).

The oracle then decrypts what the client answered and reports *violations*: a client
Certificate, CertificateVerify or Finished sent when the flight before the server Finished
was not exactly EncryptedExtensions, [CertificateRequest], Certificate, CertificateVerify
with a valid signature and a valid Finished; a Certificate without a request; a client
Finished that does not verify; a handshake that completed on such a flight; and any
exception outside tlsengine's error tree (an *escape*).

A recording holds the connection's secrets (the shared secret decrypts the whole
handshake): keep it in memory, or `Recording.save` it to a file you name (mode 0600).
It never holds a private key: re-signing takes the server key as an argument.

TLS 1.2 (`record12`, `Recording12`, `Oracle12`, at the end of this module) works the same
way on a plaintext first flight; its oracle also plays the server's last flight.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from tlslite.constants import CertificateType
from tlslite.messages import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    EncryptedExtensions,
    Finished,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
)
from tlslite.utils.codec import Parser

from ..errors import TLSError
from ..identity.model import PrivateKey
from ..protocol.config import ClientConfig
from ..protocol.connection import ClientConnection
from ..protocol.events import Event, HandshakeComplete
from ..protocol.keyschedule import (
    CIPHER_SUITES,
    CipherSuite,
    KeySchedule,
    Transcript,
    finished_verify_data,
    next_traffic_secret,
)
from ..protocol.keyshare import GROUP_NAMES, KeyShare
from ..protocol.prf import (
    CIPHER_SUITES_12,
    CipherSuite12,
)
from ..protocol.record import RecordProtection, RecordProtection12
from ..protocol.wire import SCHEME_CODES, encode_handshake
from ..protocol.wire12 import (
    CertificateRequest12,
    decode_certificate12,
    decode_certificate_request12,
    decode_server_key_exchange,
    encode_certificate_verify12,
)
from ..selection.schemes import scheme_name, sign, verify

__all__ = [
    "Corrupt",
    "Drop",
    "Duplicate",
    "Edit",
    "EditRequest",
    "Insert",
    "EditRequest12",
    "Mutation",
    "Oracle12",
    "Outcome",
    "Recording",
    "Recording12",
    "Swap",
    "record",
    "record12",
    "replay",
]

HANDSHAKE, CCS, ALERT, PROTECTED = 22, 20, 21, 23
ENCRYPTED_EXTENSIONS, CERTIFICATE, CERTIFICATE_REQUEST = 8, 11, 13
CERTIFICATE_VERIFY, FINISHED, KEY_UPDATE = 15, 20, 24
SERVER_KEY_EXCHANGE, SERVER_HELLO_DONE, CLIENT_KEY_EXCHANGE = 12, 14, 16  # TLS 1.2 only
_ECDHE_ECDSA_SUITE = 0xC02B  # tlslite-ng decodes both ECDHE suites' key exchange alike
NAMES = {
    1: "ClientHello",
    2: "ServerHello",
    4: "NewSessionTicket",
    8: "EncryptedExtensions",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    15: "CertificateVerify",
    16: "ClientKeyExchange",
    20: "Finished",
    24: "KeyUpdate",
}
_SERVER_CV_CONTEXT = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00"
_HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
_TLS13 = (3, 4)
_FORMAT = "tlsengine-recording/1"
#: A replay that takes more CPU time than this is reported as a hang (CPU, not wall-clock
#: time, so a loaded machine does not make false hangs; the sans-IO client never waits).
HANG_SECONDS = 2.0
_R = TypeVar("_R")


def name_of(message: bytes) -> str:
    """The handshake message's name, from its type byte (``"type 99"`` if unknown)."""
    return NAMES.get(message[0], f"type {message[0]}") if message else "empty"


def split_records(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """TLS records as (content type, header, payload); a truncated tail is dropped."""
    out = []
    pos = 0
    while pos + 5 <= len(data):
        header = data[pos : pos + 5]
        end = pos + 5 + int.from_bytes(header[3:5], "big")
        if end > len(data):
            break
        out.append((header[0], header, data[pos + 5 : end]))
        pos = end
    return out


def split_messages(data: bytes) -> tuple[list[bytes], bytes]:
    """Whole handshake messages (headers included) and the incomplete rest."""
    out = []
    while len(data) >= 4:
        end = 4 + int.from_bytes(data[1:4], "big")
        if end > len(data):
            break
        out.append(data[:end])
        data = data[end:]
    return out, data


# ---------------------------------------------------------------------------- recording


class _Flight:
    """What both recordings show: the suite and the flight's message names, no secret."""

    suite: CipherSuite | CipherSuite12
    messages: list[bytes]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(suite={self.suite.name}, messages={self.names()})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis, IPython
        printer.text(repr(self))

    def names(self) -> list[str]:
        return [name_of(m) for m in self.messages]


@dataclass(repr=False, eq=False)
class Recording(_Flight):
    """One recorded handshake: the client's seed and ClientHello, the server's ServerHello
    and its decrypted first flight, and the (EC)DHE shared secret that keys it all.

    ``config`` is the client configuration it was recorded with (in memory only; give it
    again to `load`). `repr` shows message names, never secrets.
    """

    seed: bytes
    client_hello: bytes
    server_hello: bytes
    suite: CipherSuite
    shared_secret: bytes
    messages: list[bytes]
    config: ClientConfig = field(default_factory=ClientConfig)

    # -------------------------------------------------------------- from bytes

    @classmethod
    def from_exchange(
        cls, config: ClientConfig, seed: bytes, client_bytes: bytes, server_bytes: bytes
    ) -> Recording:
        """Build a recording from what a seeded client sent first and what the server
        answered; derives the keys itself from the seed and the ServerHello."""
        client_hello = _plain_messages(client_bytes)[0][0]
        records = split_records(server_bytes)
        hello_messages, _ = _plain_messages(server_bytes)
        if not hello_messages or hello_messages[0][0] != 2:
            raise TLSError("the server's answer does not start with a ServerHello")
        server_hello = hello_messages[0]
        hello = ServerHello().parse(Parser(bytearray(server_hello[1:])))
        if bytes(hello.random) == _HRR_RANDOM:
            raise TLSError(
                "the server sent a HelloRetryRequest; record with key_share_groups set to "
                "the group it wants, so the exchange takes one round trip"
            )
        suite = next((s for s in CIPHER_SUITES.values() if s.code == hello.cipher_suite), None)
        share = hello.getExtension(51)
        if suite is None and hello.cipher_suite in _SUITES_12_BY_CODE:
            raise TLSError("the server chose TLS 1.2: record it with record12 (Recording12)")
        if suite is None or share is None or share.server_share is None:
            raise TLSError("the ServerHello has no TLS 1.3 suite or key share to replay")
        group = GROUP_NAMES[share.server_share.group]
        shared = KeyShare(group, seed=seed).exchange(bytes(share.server_share.key_exchange))
        recording = cls(seed, client_hello, server_hello, suite, shared, [], config)
        read = RecordProtection(suite, recording.handshake_secrets()[1])
        plain = b""
        for content_type, header, payload in records:
            if content_type != PROTECTED:
                continue
            inner_type, data = read.open(header, memoryview(payload))
            if inner_type == HANDSHAKE:
                plain += data
            messages, _ = split_messages(plain)
            if any(m[0] == FINISHED for m in messages):
                break
        messages, _ = split_messages(plain)
        end = next((i for i, m in enumerate(messages) if m[0] == FINISHED), None)
        if end is None:
            raise TLSError(f"the server's flight ended before its Finished: {messages!r:.80}")
        recording.messages = messages[: end + 1]
        return recording

    # -------------------------------------------------------------- keys (the oracle's)

    def hello_transcript(self) -> Transcript:
        transcript = Transcript()
        transcript.start(self.suite.hash_name)
        transcript.update(self.client_hello)
        transcript.update(self.server_hello)
        return transcript

    def schedule(self) -> KeySchedule:
        """A fresh key schedule at the handshake stage (its ``application`` is next)."""
        schedule = KeySchedule(self.suite)
        schedule.handshake(self.shared_secret, self.hello_transcript().digest())
        return schedule

    def handshake_secrets(self) -> tuple[bytes, bytes]:
        """(client, server) handshake traffic secrets, from our own key schedule."""
        return KeySchedule(self.suite).handshake(
            self.shared_secret, self.hello_transcript().digest()
        )

    # -------------------------------------------------------------- files

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to ``path`` (created 0600): it holds the handshake's secrets, no key."""
        data = {
            "format": _FORMAT,
            "seed": self.seed.hex(),
            "client_hello": self.client_hello.hex(),
            "server_hello": self.server_hello.hex(),
            "suite": self.suite.name,
            "shared_secret": self.shared_secret.hex(),
            "messages": [m.hex() for m in self.messages],
        }
        _write_private(path, data)

    @classmethod
    def load(cls, path: str | os.PathLike[str], config: ClientConfig | None = None) -> Recording:
        """Read a `save`d recording; ``config`` must match the one it was recorded with."""

        def build(data: dict[str, Any]) -> Recording:
            return cls(
                bytes.fromhex(data["seed"]),
                bytes.fromhex(data["client_hello"]),
                bytes.fromhex(data["server_hello"]),
                CIPHER_SUITES[data["suite"]],
                bytes.fromhex(data["shared_secret"]),
                [bytes.fromhex(m) for m in data["messages"]],
                config or ClientConfig(),
            )

        return _read_recording(path, _FORMAT, build)


def _write_private(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """JSON to a file created 0600: a recording's secrets never sit world-readable."""
    fd = os.open(os.fspath(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1)


def _read_recording(
    path: str | os.PathLike[str], fmt: str, build: Callable[[dict[str, Any]], _R]
) -> _R:
    """``build`` over the file's JSON; anything wrong with the file is one TLSError."""
    try:
        data = json.loads(Path(path).read_text())
        if data.get("format") != fmt:
            raise ValueError(f"format {data.get('format')!r}, expected {fmt}")
        return build(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TLSError(f"{os.fspath(path)} is not a tlsengine recording: {exc}") from None


def _plain_messages(data: bytes) -> tuple[list[bytes], bytes]:
    """Handshake messages from the unprotected handshake records at the start of ``data``."""
    plain = b""
    for content_type, _, payload in split_records(data):
        if content_type == HANDSHAKE:
            plain += payload
        elif content_type != CCS:
            break
    return split_messages(plain)


def record(
    address: tuple[str, int],
    config: ClientConfig,
    *,
    seed: bytes = b"tlsengine recording",
    timeout: float = 10.0,
) -> Recording:
    """Handshake once with a live server (our client, deterministic under ``seed``) and
    keep its first flight. The client's own verdict does not matter: a flight the client
    refused is recorded as well, as long as it reached the server's Finished."""
    config = replace(config, seed=seed)
    first, received = _exchange(address, config, timeout)
    return Recording.from_exchange(config, seed, first, received)


def _exchange(
    address: tuple[str, int], config: ClientConfig, timeout: float
) -> tuple[bytes, bytes]:
    """(what our seeded client sent first, everything the server sent) for one handshake."""
    import socket

    conn = ClientConnection(config)
    conn.start_handshake()
    first = conn.data_to_send()
    received = bytearray()
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(first)
        while not conn.handshake_complete:
            data = sock.recv(65536)
            if not data:
                break
            received += data
            try:
                conn.receive_data(data)
            except TLSError:
                break
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
    return first, bytes(received)


# ---------------------------------------------------------------------------- mutations

Target = str | int
#: A mutation: the server's handshake messages (headers included) in, a new list out.
Mutation = Callable[[list[bytes]], list[bytes]]


def _index(messages: Sequence[bytes], target: Target) -> int | None:
    if isinstance(target, int):
        return target % len(messages) if messages else None
    return next((i for i, m in enumerate(messages) if name_of(m) == target), None)


@dataclass(frozen=True)
class Drop:
    """Remove the target message (a name: its first occurrence; an int: that position)."""

    target: Target

    def __call__(self, messages: list[bytes]) -> list[bytes]:
        i = _index(messages, self.target)
        return messages if i is None else messages[:i] + messages[i + 1 :]


@dataclass(frozen=True)
class Duplicate:
    """Send the target message twice in a row."""

    target: Target

    def __call__(self, messages: list[bytes]) -> list[bytes]:
        i = _index(messages, self.target)
        return messages if i is None else messages[: i + 1] + messages[i:]


@dataclass(frozen=True)
class Swap:
    """Exchange two messages' places (reordering)."""

    first: Target
    second: Target

    def __call__(self, messages: list[bytes]) -> list[bytes]:
        i, j = _index(messages, self.first), _index(messages, self.second)
        if i is None or j is None:
            return messages
        out = list(messages)
        out[i], out[j] = out[j], out[i]
        return out


@dataclass(frozen=True)
class Insert:
    """Put ``message`` (a whole handshake message, header included) at ``position``."""

    position: int
    message: bytes

    def __call__(self, messages: list[bytes]) -> list[bytes]:
        return [*messages[: self.position], self.message, *messages[self.position :]]


@dataclass(frozen=True)
class Corrupt:
    """XOR ``mask`` into the target message's byte at ``offset`` (modulo its length)."""

    target: Target
    offset: int
    mask: int = 0x01

    def __call__(self, messages: list[bytes]) -> list[bytes]:
        i = _index(messages, self.target)
        if i is None:
            return messages
        raw = bytearray(messages[i])
        pos = self.offset % len(raw)
        raw[pos] ^= self.mask & 0xFF or 1
        return [*messages[:i], bytes(raw), *messages[i + 1 :]]


def _decoders(hash_length: int, version: tuple[int, int]) -> dict[int, Callable[[], Any]]:
    if version < _TLS13:  # TLS 1.2: the first flight is plaintext, the suite only its hash
        return {
            CERTIFICATE: lambda: Certificate(CertificateType.x509, version),
            SERVER_KEY_EXCHANGE: lambda: ServerKeyExchange(_ECDHE_ECDSA_SUITE, version),
            CERTIFICATE_REQUEST: lambda: CertificateRequest(version),
            SERVER_HELLO_DONE: ServerHelloDone,
        }
    return {
        ENCRYPTED_EXTENSIONS: EncryptedExtensions,
        CERTIFICATE_REQUEST: lambda: CertificateRequest(_TLS13),
        CERTIFICATE: lambda: Certificate(CertificateType.x509, _TLS13),
        CERTIFICATE_VERIFY: lambda: CertificateVerify(_TLS13),
        FINISHED: lambda: Finished(_TLS13, hash_length),
    }


@dataclass(frozen=True)
class Edit:
    """Decode the target with tlslite-ng, let ``change(message)`` edit its fields in place
    (or return a replacement message object or raw bytes), and encode it again. A target
    tlslite-ng cannot decode or re-encode (an earlier mutation broke it) is left as it is.
    ``version=(3, 3)`` decodes TLS 1.2 messages (a `Recording12`'s flight)."""

    target: Target
    change: Callable[[Any], Any]
    hash_length: int = 32
    version: tuple[int, int] = _TLS13

    def __call__(self, messages: list[bytes]) -> list[bytes]:
        i = _index(messages, self.target)
        if i is None:
            return messages
        factory = _decoders(self.hash_length, self.version).get(messages[i][0])
        if factory is None:
            raise TLSError(f"Edit cannot decode a {name_of(messages[i])} message")
        try:
            message = factory().parse(Parser(bytearray(messages[i][1:])))
        except Exception:  # tlslite-ng raises several kinds; nothing to edit then
            return messages
        result = self.change(message)
        if isinstance(result, bytes | bytearray):
            raw = bytes(result)
        else:
            try:
                raw = bytes((result if result is not None else message).write())
            except Exception:  # a field tlslite-ng decoded but cannot re-encode
                return messages
        return [*messages[:i], raw, *messages[i + 1 :]]


@dataclass(frozen=True)
class EditRequest:
    """Rewrite the CertificateRequest's fields (None keeps a field as it was).

    ``signature_algorithms``: code points (``()`` sends an empty list; the extension
    stays). ``certificate_authorities``: DER names for extension 47 (``()`` removes it).
    ``context``: the request context. ``extra_extensions``: (type, body) pairs appended.
    Resign the flight (``replay(..., resign_flight=True)``) for the edit to reach selection.
    """

    signature_algorithms: tuple[int, ...] | None = None
    certificate_authorities: tuple[bytes, ...] | None = None
    context: bytes | None = None
    extra_extensions: tuple[tuple[int, bytes], ...] = ()

    def __call__(self, messages: list[bytes]) -> list[bytes]:
        return Edit("CertificateRequest", self._change)(messages)

    def _change(self, request: Any) -> None:
        from tlslite.extensions import TLSExtension

        if self.signature_algorithms is not None:
            request.supported_signature_algs = [divmod(c, 256) for c in self.signature_algorithms]
        if self.certificate_authorities is not None:
            request.extensions = [e for e in request.extensions if e.extType != 47]
            if self.certificate_authorities:
                names = b"".join(
                    len(n).to_bytes(2, "big") + n for n in self.certificate_authorities
                )
                body = len(names).to_bytes(2, "big") + names
                request.extensions.append(TLSExtension().create(47, bytearray(body)))
        if self.context is not None:
            request.certificate_request_context = bytearray(self.context)
        for ext_type, body in self.extra_extensions:
            request.extensions.append(TLSExtension().create(ext_type, bytearray(body)))


# ---------------------------------------------------------------------------- replay


@dataclass
class Outcome:
    """What one replay did: the client's events or error, and the oracle's judgement."""

    events: list[Event]
    error: TLSError | None  # the documented failure, if the client refused the flight
    escaped: BaseException | None  # anything outside the error tree: always a bug
    seconds: float  # CPU seconds the client spent on the flight
    delivered: list[bytes]  # the server messages as sent (mutated, re-signed)
    client_messages: list[bytes]  # what the client answered, decrypted by the oracle
    alert: str | None  # the alert the client sent, if any (decrypted by the oracle)
    violations: list[str]
    connection: ClientConnection = field(repr=False)
    answer: bytes = field(default=b"", repr=False)  # the client's bytes, as sent
    client_post: list[bytes] = field(default_factory=list)  # post-handshake, decrypted

    @property
    def completed(self) -> bool:
        return any(isinstance(e, HandshakeComplete) for e in self.events)

    @property
    def client_names(self) -> list[str]:
        return [name_of(m) for m in self.client_messages]

    @property
    def ok(self) -> bool:
        """No escape, no hang, no wire-order violation (refusing the flight is fine)."""
        return not self.violations


def resign(
    recording: Recording, messages: list[bytes], server_key: PrivateKey | None
) -> list[bytes]:
    """Make the flight authentic again: each Finished re-MACed over what precedes it and,
    with ``server_key``, each CertificateVerify re-signed (keeping its scheme)."""
    suite = recording.suite
    server_secret = recording.handshake_secrets()[1]
    transcript = recording.hello_transcript()
    out = []
    for raw in messages:
        if raw[:1] == bytes((CERTIFICATE_VERIFY,)) and server_key is not None:
            code = int.from_bytes(raw[4:6], "big") if len(raw) >= 6 else 0
            scheme = scheme_name(code)
            content = _SERVER_CV_CONTEXT + transcript.digest()
            try:
                signature = sign(server_key, scheme, content)
            except Exception:  # an edited scheme the key cannot make: leave it as sent
                signature = None
            if signature is not None:
                body = code.to_bytes(2, "big") + len(signature).to_bytes(2, "big") + signature
                raw = encode_handshake(CERTIFICATE_VERIFY, body)
        elif raw[:1] == bytes((FINISHED,)):
            verify_data = finished_verify_data(suite.hash_name, server_secret, transcript.digest())
            raw = encode_handshake(FINISHED, verify_data)
        transcript.update(raw)
        out.append(raw)
    return out


def frame(recording: Recording, messages: Sequence[bytes], framing: str | int) -> bytes:
    """The server's bytes: ServerHello, a CCS, then ``messages`` encrypted under the server
    handshake keys, one record per message (``"message"``), all in as few records as fit
    (``"coalesced"``), or records of at most ``framing`` bytes (an int: splits messages)."""
    protection = RecordProtection(recording.suite, recording.handshake_secrets()[1])
    out = [_plain_record(recording.server_hello), b"\x14\x03\x03\x00\x01\x01"]
    out += [protection.seal(HANDSHAKE, chunk) for chunk in _chunks(messages, framing)]
    return b"".join(out)


def _chunks(messages: Sequence[bytes], framing: str | int) -> list[bytes]:
    """Record payloads: one per message, as few as fit, or at most ``framing`` bytes each."""
    if framing == "message":
        return [m for m in messages if m]
    size = 2**14 if framing == "coalesced" else max(1, min(int(framing), 2**14))
    data = b"".join(messages)
    return [data[i : i + size] for i in range(0, len(data), size)]


def _plain_record(message: bytes) -> bytes:
    return b"\x16\x03\x03" + len(message).to_bytes(2, "big") + message


def replay(
    recording: Recording | Recording12,
    mutations: Sequence[Mutation] = (),
    *,
    framing: str | int = "message",
    resign_flight: bool = False,
    server_key: PrivateKey | None = None,
    config: ClientConfig | None = None,
    damage: Callable[[bytes], bytes] | None = None,
    post: Sequence[bytes] = (),
) -> Outcome:
    """Replay the recorded flight (after ``mutations``, in order) against a fresh client.

    ``resign_flight`` re-MACs every Finished (and, given ``server_key``, re-signs every
    CertificateVerify) so edits before them reach the client's later stages. ``config``
    overrides the recorded client configuration (its seed is kept). ``damage`` rewrites
    the protected bytes after the ServerHello (byte-level fuzzing *outside* the encryption;
    the oracle still judges by the messages as intended). ``post``: records of
    post-handshake messages (each item one record's handshake content) sent under the
    server application keys once the handshake completed; a KeyUpdate among them moves
    the server's keys on, as RFC 8446 section 4.6.3 says.
    """
    if isinstance(recording, Recording12):
        if post:
            raise TLSError("post-handshake records are for TLS 1.3 recordings only")
        return _replay12(
            recording,
            mutations,
            framing=framing,
            resign_flight=resign_flight,
            server_key=server_key,
            config=config,
            damage=damage,
        )
    base = config if config is not None else recording.config
    conn = ClientConnection(replace(base, seed=recording.seed))
    conn.start_handshake()
    hello = _plain_messages(conn.data_to_send())[0]
    if hello[:1] != [recording.client_hello]:
        raise TLSError(
            "the replaying client sent another ClientHello than the recorded one: replay "
            "with the configuration the recording was made with"
        )
    messages = list(recording.messages)
    for mutation in mutations:
        messages = mutation(messages)
    if resign_flight:
        messages = resign(recording, messages, server_key)
    wire = frame(recording, messages, framing)
    if damage is not None:
        cut = 5 + len(recording.server_hello)
        wire = wire[:cut] + damage(wire[cut:])
    events: list[Event] = []
    error: TLSError | None = None
    escaped: BaseException | None = None
    start = time.process_time()
    try:
        events = conn.receive_data(wire)
    except TLSError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - an escape is what the harness exists to find
        escaped = exc
    answer = conn.data_to_send()
    if post and error is None and escaped is None and conn.handshake_complete:
        for record_bytes in _post_records(recording, messages, post):
            try:
                events += conn.receive_data(record_bytes)
            except TLSError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - as above
                escaped = exc
            answer += conn.data_to_send()
            if error is not None or escaped is not None:
                break
    seconds = time.process_time() - start
    outcome = Outcome(events, error, escaped, seconds, messages, [], None, [], conn, answer)
    Oracle(recording, messages, post).judge(answer, outcome)
    return outcome


def _post_records(
    recording: Recording, delivered: list[bytes], post: Sequence[bytes]
) -> list[bytes]:
    """``post`` sealed under the server application keys the oracle derives itself."""
    suite = recording.suite
    transcript = recording.hello_transcript()
    for raw in delivered:
        transcript.update(raw)
    secret = recording.schedule().application(transcript.digest())[1]
    protection = RecordProtection(suite, secret)
    out = []
    for content in post:
        out.append(protection.seal(HANDSHAKE, content))
        if any(m[0] == KEY_UPDATE for m in split_messages(content)[0]):
            secret = next_traffic_secret(suite.hash_name, secret)
            protection = RecordProtection(suite, secret)
    return out


# ---------------------------------------------------------------------------- oracle


class Oracle:
    """Judges the client's answer to a delivered flight with its own key schedule."""

    def __init__(
        self, recording: Recording, delivered: Sequence[bytes], post: Sequence[bytes] = ()
    ) -> None:
        self.recording = recording
        self.delivered = list(delivered)
        self.post_requested = any(
            m[0] == CERTIFICATE_REQUEST for content in post for m in split_messages(content)[0]
        )
        self.valid_prefix, self.requested, self.finished_at = self._judge_flight()

    def _judge_flight(self) -> tuple[bool, bool, int | None]:
        """(flight up to the first Finished is legal and authentic, it had a request,
        index of that Finished)."""
        rec = self.recording
        types = [m[0] for m in self.delivered]
        end = next((i for i, t in enumerate(types) if t == FINISHED), None)
        if end is None:
            return False, False, None
        prefix = types[:end]
        requested = CERTIFICATE_REQUEST in prefix
        legal = prefix in (
            [ENCRYPTED_EXTENSIONS, CERTIFICATE, CERTIFICATE_VERIFY],
            [ENCRYPTED_EXTENSIONS, CERTIFICATE_REQUEST, CERTIFICATE, CERTIFICATE_VERIFY],
        )
        if not legal:
            return False, requested, end
        transcript = rec.hello_transcript()
        for raw in self.delivered[: end - 1]:
            transcript.update(raw)
        signed = _server_signature_valid(
            self.delivered[end - 2], self.delivered[end - 1], transcript
        )
        transcript.update(self.delivered[end - 1])
        server_secret = rec.handshake_secrets()[1]
        expected = finished_verify_data(rec.suite.hash_name, server_secret, transcript.digest())
        finished_ok = self.delivered[end] == encode_handshake(FINISHED, expected)
        return signed and finished_ok, requested, end

    def judge(self, answer: bytes, outcome: Outcome) -> None:
        rec = self.recording
        violations = outcome.violations
        if outcome.escaped is not None:
            violations.append(f"escape: {type(outcome.escaped).__name__}: {outcome.escaped}")
        if outcome.seconds > HANG_SECONDS:
            violations.append(f"hang: {outcome.seconds:.2f} s")
        client_secret = rec.handshake_secrets()[0]
        protection = RecordProtection(rec.suite, client_secret)
        transcript = rec.hello_transcript()
        if self.finished_at is not None:
            for raw in self.delivered[: self.finished_at + 1]:
                transcript.update(raw)
        plain = post_plain = b""
        switched = False
        client_app = b""
        for content_type, header, payload in split_records(answer):
            if content_type == CCS:
                continue
            if content_type != PROTECTED:
                violations.append(f"unprotected record of type {content_type} after keys")
                continue
            try:
                inner, data = protection.open(header, memoryview(payload))
            except TLSError:
                violations.append("client record does not decrypt under the oracle's keys")
                break
            if inner == ALERT and len(data) == 2:
                from tlslite.constants import AlertDescription

                outcome.alert = AlertDescription.toStr(data[1])
            elif inner == HANDSHAKE and not switched:
                plain += data
                messages, plain = split_messages(plain)
                for raw in messages:
                    outcome.client_messages.append(raw)
                    if raw[0] == FINISHED:
                        self._check_client_finished(raw, transcript, client_secret, violations)
                        schedule = rec.schedule()
                        # the handshake keys end with our Finished; later records use app keys
                        client_app = schedule.application(self._server_finished_hash())[0]
                        protection = RecordProtection(rec.suite, client_app)
                        switched = True
                    transcript.update(raw)
            elif inner == HANDSHAKE:  # after our Finished: post-handshake messages
                post_plain += data
                messages, post_plain = split_messages(post_plain)
                for raw in messages:
                    outcome.client_post.append(raw)
                    if raw[0] == KEY_UPDATE:  # our next records use the next secret
                        client_app = next_traffic_secret(rec.suite.hash_name, client_app)
                        protection = RecordProtection(rec.suite, client_app)
        sent = {m[0] for m in outcome.client_messages}
        if sent & {CERTIFICATE, CERTIFICATE_VERIFY, FINISHED} and not self.valid_prefix:
            violations.append(
                f"client sent {outcome.client_names} after an unauthentic or misordered flight"
            )
        if CERTIFICATE in sent and not self.requested:
            violations.append("client sent a Certificate although no CertificateRequest came")
        if outcome.completed and not self.valid_prefix:
            violations.append("handshake completed on an unauthentic or misordered flight")
        if any(m[0] == CERTIFICATE for m in outcome.client_post) and not self.post_requested:
            violations.append("client sent a post-handshake Certificate nobody asked for")

    def _server_finished_hash(self) -> bytes:
        transcript = self.recording.hello_transcript()
        for raw in self.delivered[: (self.finished_at or 0) + 1]:
            transcript.update(raw)
        return transcript.digest()

    def _check_client_finished(
        self, raw: bytes, transcript: Transcript, secret: bytes, violations: list[str]
    ) -> None:
        expected = finished_verify_data(self.recording.suite.hash_name, secret, transcript.digest())
        if raw != encode_handshake(FINISHED, expected):
            violations.append("client Finished does not verify under the oracle's transcript")


def _server_signature_valid(certificate: bytes, cert_verify: bytes, transcript: Transcript) -> bool:
    """The server CertificateVerify verifies under the leaf of the Certificate before it."""
    try:
        body = certificate[4:]
        context_len = body[0]
        entries = body[1 + context_len + 3 :]
        leaf_len = int.from_bytes(entries[:3], "big")
        leaf = x509.load_der_x509_certificate(entries[3 : 3 + leaf_len])
        code = int.from_bytes(cert_verify[4:6], "big")
        sig_len = int.from_bytes(cert_verify[6:8], "big")
        signature = cert_verify[8 : 8 + sig_len]
        if len(cert_verify) != 8 + sig_len or code not in SCHEME_CODES.values():
            return False
        content = _SERVER_CV_CONTEXT + transcript.digest()
        verify(leaf.public_key(), scheme_name(code), signature, content, version="TLSv1.3")
        return True
    except (InvalidSignature, Exception):  # the oracle judges; it never raises
        return False


# ---------------------------------------------------------------------------- TLS 1.2
#
# A TLS 1.2 server's first flight (Certificate, ServerKeyExchange, [CertificateRequest],
# ServerHelloDone) travels in clear, so a recording keeps it as sent, and no secret: the
# premaster is the seeded client's ECDHE share (ClientConfig.seed) exchanged with the
# public key of whichever ServerKeyExchange was delivered, so a mutated or re-keyed
# ServerKeyExchange still yields keys the oracle knows. The oracle derives the extended
# master secret (RFC 7627) over its own transcript, opens the client's Finished, checks
# the client's flight against RFC 5246 7.3, 7.4.6 and 7.4.8, and answers with the
# server's ChangeCipherSpec and Finished, so that an accepted flight completes.

_SUITES_12_BY_CODE = {s.code: s for s in CIPHER_SUITES_12.values()}
_FORMAT_12 = "tlsengine-recording12/1"
_HELLO_REQUEST = b"\x00\x00\x00\x00"
_LEGAL_FLIGHTS_12 = (
    [CERTIFICATE, SERVER_KEY_EXCHANGE, SERVER_HELLO_DONE],
    [CERTIFICATE, SERVER_KEY_EXCHANGE, CERTIFICATE_REQUEST, SERVER_HELLO_DONE],
)


@dataclass(repr=False, eq=False)
class Recording12(_Flight):
    """One recorded TLS 1.2 handshake: the client's seed and ClientHello, the ServerHello
    and the server's first flight through ServerHelloDone (plaintext in TLS 1.2).

    It holds no key: the seed (a secret: it keys the connection) gives the client's
    ECDHE private key, and with the delivered ServerKeyExchange the premaster secret.
    """

    seed: bytes
    client_hello: bytes
    server_hello: bytes
    suite: CipherSuite12
    messages: list[bytes]
    config: ClientConfig = field(default_factory=ClientConfig)

    @property
    def randoms(self) -> bytes:
        """client_random + server_random: what a ServerKeyExchange signature starts with."""
        return self.client_hello[6:38] + self.server_hello[6:38]

    @classmethod
    def from_exchange(
        cls, config: ClientConfig, seed: bytes, client_bytes: bytes, server_bytes: bytes
    ) -> Recording12:
        """Build a recording from a seeded client's ClientHello and the server's answer."""
        client_hello = _plain_messages(client_bytes)[0][0]
        messages, _ = _plain_messages(server_bytes)
        if not messages or messages[0][0] != 2:
            raise TLSError("the server's answer does not start with a ServerHello")
        hello = ServerHello().parse(Parser(bytearray(messages[0][1:])))
        suite = _SUITES_12_BY_CODE.get(hello.cipher_suite)
        if suite is None:
            raise TLSError("the server did not choose a TLS 1.2 ECDHE suite: use record")
        end = next((i for i, m in enumerate(messages) if m[0] == SERVER_HELLO_DONE), None)
        if end is None:
            raise TLSError(f"the server's flight ended before ServerHelloDone: {messages!r:.80}")
        recording = cls(seed, client_hello, messages[0], suite, messages[1 : end + 1], config)
        ske = next((m for m in recording.messages if m[0] == SERVER_KEY_EXCHANGE), b"")
        group = _ske_group(ske)
        if group not in config.key_share_groups:
            raise TLSError(
                f"the server chose group {group}, for which the client sends no seeded share; "
                "record with key_share_groups (and the server's groups) set to it"
            )
        return recording

    def premaster(self, server_key_exchange: bytes) -> bytes | None:
        """ECDHE premaster of the seeded client with this ServerKeyExchange (None if the
        message does not decode or its group or point is unusable)."""
        try:
            ske = decode_server_key_exchange(server_key_exchange)
            return KeyShare(GROUP_NAMES[ske.group], seed=self.seed).exchange(ske.public)
        except (TLSError, KeyError):
            return None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to ``path`` (created 0600): the seed in it keys the connection."""
        data = {
            "format": _FORMAT_12,
            "seed": self.seed.hex(),
            "client_hello": self.client_hello.hex(),
            "server_hello": self.server_hello.hex(),
            "suite": self.suite.name,
            "messages": [m.hex() for m in self.messages],
        }
        _write_private(path, data)

    @classmethod
    def load(cls, path: str | os.PathLike[str], config: ClientConfig | None = None) -> Recording12:
        """Read a `save`d recording; ``config`` must match the one it was recorded with."""

        def build(data: dict[str, Any]) -> Recording12:
            return cls(
                bytes.fromhex(data["seed"]),
                bytes.fromhex(data["client_hello"]),
                bytes.fromhex(data["server_hello"]),
                CIPHER_SUITES_12[data["suite"]],
                [bytes.fromhex(m) for m in data["messages"]],
                config or ClientConfig(),
            )

        return _read_recording(path, _FORMAT_12, build)


def _ske_group(raw: bytes) -> str | None:
    try:
        return GROUP_NAMES.get(decode_server_key_exchange(raw).group)
    except TLSError:
        return None


def record12(
    address: tuple[str, int],
    config: ClientConfig,
    *,
    seed: bytes = b"tlsengine recording",
    timeout: float = 10.0,
) -> Recording12:
    """`record` for a TLS 1.2 server: keeps ServerHello .. ServerHelloDone. The server must
    pick a group of ``config.key_share_groups`` (those shares are the seeded ones)."""
    config = replace(config, seed=seed)
    first, received = _exchange(address, config, timeout)
    return Recording12.from_exchange(config, seed, first, received)


@dataclass(frozen=True)
class EditRequest12:
    """Rewrite a TLS 1.2 CertificateRequest (RFC 5246 7.4.4; None keeps a field).

    ``certificate_types``: ClientCertificateType bytes. ``signature_algorithms``: code
    points (``()`` sends an empty list). ``certificate_authorities``: DER names.
    """

    certificate_types: bytes | None = None
    signature_algorithms: tuple[int, ...] | None = None
    certificate_authorities: tuple[bytes, ...] | None = None

    def __call__(self, messages: list[bytes]) -> list[bytes]:
        return Edit("CertificateRequest", self._change, version=(3, 3))(messages)

    def _change(self, request: Any) -> None:
        if self.certificate_types is not None:
            request.certificate_types = list(self.certificate_types)
        if self.signature_algorithms is not None:
            request.supported_signature_algs = [divmod(c, 256) for c in self.signature_algorithms]
        if self.certificate_authorities is not None:
            request.certificate_authorities = [bytearray(n) for n in self.certificate_authorities]


def resign12(
    recording: Recording12, messages: list[bytes], server_key: PrivateKey | None
) -> list[bytes]:
    """Re-sign each decodable ServerKeyExchange with ``server_key`` over the randoms and
    its own params, keeping its scheme (RFC 5246 7.4.3); the rest goes as it is."""
    if server_key is None:
        return list(messages)
    out = []
    for raw in messages:
        if raw[:1] == bytes((SERVER_KEY_EXCHANGE,)):
            try:
                ske = decode_server_key_exchange(raw)
                signature = sign(
                    server_key, scheme_name(ske.scheme), recording.randoms + ske.params
                )
            except Exception:  # an edit the key cannot sign for: leave it as sent
                signature = None
            if signature is not None:
                body = ske.params + encode_certificate_verify12(ske.scheme, signature)[4:]
                raw = encode_handshake(SERVER_KEY_EXCHANGE, body)
        out.append(raw)
    return out


def frame12(recording: Recording12, messages: Sequence[bytes], framing: str | int) -> bytes:
    """The server's plaintext first flight: ServerHello, then ``messages`` one record per
    message, coalesced, or in records of at most ``framing`` bytes."""
    chunks = _chunks(messages, framing)
    return b"".join(_plain_record(m) for m in [recording.server_hello, *chunks])


def _feed(conn: ClientConnection, data: bytes, outcome: Outcome) -> None:
    """Give ``data`` to the client, keeping its events, its error or an escape."""
    start = time.process_time()
    try:
        outcome.events += conn.receive_data(data)
    except TLSError as exc:
        outcome.error = exc
    except Exception as exc:  # noqa: BLE001 - an escape is what the harness exists to find
        outcome.escaped = exc
    outcome.seconds += time.process_time() - start
    outcome.answer += conn.data_to_send()


def _replay12(
    recording: Recording12,
    mutations: Sequence[Mutation],
    *,
    framing: str | int,
    resign_flight: bool,
    server_key: PrivateKey | None,
    config: ClientConfig | None,
    damage: Callable[[bytes], bytes] | None,
) -> Outcome:
    base = config if config is not None else recording.config
    conn = ClientConnection(replace(base, seed=recording.seed))
    conn.start_handshake()
    if _plain_messages(conn.data_to_send())[0][:1] != [recording.client_hello]:
        raise TLSError(
            "the replaying client sent another ClientHello than the recorded one: replay "
            "with the configuration the recording was made with"
        )
    messages = list(recording.messages)
    for mutation in mutations:
        messages = mutation(messages)
    if resign_flight:
        messages = resign12(recording, messages, server_key)
    wire = frame12(recording, messages, framing)
    if damage is not None:
        cut = 5 + len(recording.server_hello)
        wire = wire[:cut] + damage(wire[cut:])
    outcome = Outcome([], None, None, 0.0, messages, [], None, [], conn)
    _feed(conn, wire, outcome)
    oracle = Oracle12(recording, messages)
    reply = oracle.judge(outcome.answer, outcome)
    if reply and outcome.error is None and outcome.escaped is None:
        _feed(conn, reply, outcome)
    oracle.conclude(outcome)
    return outcome


class Oracle12:
    """Judges a TLS 1.2 client's answer to a delivered first flight, with its own
    transcript and key derivation, and writes the server's CCS + Finished."""

    def __init__(self, recording: Recording12, delivered: Sequence[bytes]) -> None:
        self.recording = recording
        # a HelloRequest is ignored while negotiating and never hashed (RFC 5246 7.4.1.1);
        # the client answers the first ServerHelloDone: what follows is a later flight
        flight = [m for m in delivered if m != _HELLO_REQUEST]
        end = next((i for i, m in enumerate(flight) if m[:1] == b"\x0e"), len(flight))
        self.delivered = flight[: end + 1]
        self.request: CertificateRequest12 | None = None
        self.valid = self._judge_flight()

    def _judge_flight(self) -> bool:
        """The flight through the first ServerHelloDone is in RFC 5246 7.3's order,
        decodes, and its ServerKeyExchange is signed by the key of the Certificate's leaf."""
        types = [m[0] for m in self.delivered]
        if types not in _LEGAL_FLIGHTS_12:
            return False
        try:
            leaf = x509.load_der_x509_certificate(decode_certificate12(self.delivered[0])[0])
            ske = decode_server_key_exchange(self.delivered[1])
            signed = self.recording.randoms + ske.params
            code = scheme_name(ske.scheme)
            verify(leaf.public_key(), code, ske.signature, signed, version="TLSv1.2")
            if types[2] == CERTIFICATE_REQUEST:
                self.request = decode_certificate_request12(self.delivered[2])
        except Exception:  # the oracle judges; it never raises
            return False
        return self.recording.premaster(self.delivered[1]) is not None

    def _transcript(self) -> bytes:
        rec = self.recording
        return rec.client_hello + rec.server_hello + b"".join(self.delivered)

    def judge(self, answer: bytes, outcome: Outcome) -> bytes:
        """Read the client's flight into ``outcome`` (messages, alert, violations) and
        return the server's CCS + Finished, or b"" when there is nothing to answer."""
        rec, violations = self.recording, outcome.violations
        plain, before_ccs, sealed = b"", None, []
        for content_type, header, payload in split_records(answer):
            if content_type == CCS:
                before_ccs = split_messages(plain)[0]
            elif before_ccs is not None:
                sealed.append((header, payload))
            elif content_type == HANDSHAKE:
                plain += payload
            elif content_type == ALERT and len(payload) == 2:
                outcome.alert = _alert_name(payload[1])
            else:
                violations.append(f"unprotected record of type {content_type} before CCS")
        messages = before_ccs if before_ccs is not None else split_messages(plain)[0]
        outcome.client_messages += messages
        if messages and not self.valid:
            violations.append(
                f"client sent {outcome.client_names} after an unauthentic or misordered flight"
            )
            return b""
        if before_ccs is None:
            return b""
        transcript = self._transcript() + b"".join(messages)
        self._check_order(messages, violations)
        cke = next((m for m in messages if m[0] == CLIENT_KEY_EXCHANGE), b"")
        premaster = rec.premaster(self.delivered[1])
        if premaster is None or not self._seeded_point(cke):
            violations.append("client ClientKeyExchange is not the seeded client's share")
            return b""
        through_cke = transcript[: len(self._transcript()) + _end_of(messages, cke)]
        master = _prf12(rec.suite, premaster, b"extended master secret", 48, through_cke)
        self._check_certificate_verify(messages, through_cke, violations)
        keys = _key_block12(rec, master)
        read = RecordProtection12(rec.suite, keys[0], keys[2])
        finished = b""
        for header, payload in sealed:
            try:
                inner, data = read.open(header, memoryview(payload))
            except TLSError:
                violations.append("client record does not decrypt under the oracle's keys")
                return b""
            if inner == ALERT and len(data) == 2:
                outcome.alert = _alert_name(data[1])
            elif inner == HANDSHAKE:
                finished += data
        done = split_messages(finished)[0]
        outcome.client_messages += done
        if [m[0] for m in done] != [FINISHED]:
            violations.append(f"client sent {[name_of(m) for m in done]} after its CCS")
            return b""
        expected = _prf12(rec.suite, master, b"client finished", 12, transcript)
        if done[0] != encode_handshake(FINISHED, expected):
            violations.append("client Finished does not verify under the oracle's transcript")
            return b""
        transcript += done[0]
        server_verify = _prf12(rec.suite, master, b"server finished", 12, transcript)
        write = RecordProtection12(rec.suite, keys[1], keys[3])
        return b"\x14\x03\x03\x00\x01\x01" + write.seal(
            HANDSHAKE, encode_handshake(FINISHED, server_verify)
        )

    def _seeded_point(self, cke: bytes) -> bool:
        group = _ske_group(self.delivered[1])
        if group is None or len(cke) < 5:
            return False
        return cke[5:] == KeyShare(group, seed=self.recording.seed).public

    def _check_order(self, messages: list[bytes], violations: list[str]) -> None:
        """RFC 5246 7.3: [Certificate], ClientKeyExchange, [CertificateVerify] before CCS;
        a Certificate only when asked (7.4.6), a CertificateVerify only after a
        non-empty one, immediately after ClientKeyExchange (7.4.8)."""
        types = [m[0] for m in messages]
        sent_chain = CERTIFICATE in types and messages[types.index(CERTIFICATE)][4:7] != bytes(3)
        expected = [CERTIFICATE] if self.request is not None else []
        expected.append(CLIENT_KEY_EXCHANGE)
        if sent_chain:
            expected.append(CERTIFICATE_VERIFY)
        if CERTIFICATE in types and self.request is None:
            violations.append("client sent a Certificate although no CertificateRequest came")
        if types != expected:
            names = [name_of(m) for m in messages]
            violations.append(f"client flight {names} is not in RFC 5246 7.3's order")

    def _check_certificate_verify(
        self, messages: list[bytes], signed: bytes, violations: list[str]
    ) -> None:
        """RFC 5246 7.4.8: over every message before it, with a listed scheme, by the key
        of the leaf the client sent."""
        cert = next((m for m in messages if m[0] == CERTIFICATE), None)
        cv = next((m for m in messages if m[0] == CERTIFICATE_VERIFY), None)
        if cert is None or cv is None or self.request is None:
            return
        try:
            leaf = x509.load_der_x509_certificate(decode_certificate12(cert)[0])
            code = int.from_bytes(cv[4:6], "big")
            signature = cv[8 : 8 + int.from_bytes(cv[6:8], "big")]
            verify(leaf.public_key(), scheme_name(code), signature, signed, version="TLSv1.2")
        except Exception:  # noqa: BLE001 - any failure is the client's violation
            violations.append("client CertificateVerify does not verify over the transcript")
            return
        if code not in self.request.signature_schemes:
            violations.append(f"client signed with 0x{code:04x}, which the request did not list")

    def conclude(self, outcome: Outcome) -> None:
        """After the client read the server's answer: escapes, hangs, a completion that
        should not have been."""
        if outcome.escaped is not None:
            outcome.violations.append(
                f"escape: {type(outcome.escaped).__name__}: {outcome.escaped}"
            )
        if outcome.seconds > HANG_SECONDS:
            outcome.violations.append(f"hang: {outcome.seconds:.2f} s")
        if outcome.completed and not self.valid:
            outcome.violations.append("handshake completed on an unauthentic or misordered flight")


def _prf12(
    suite: CipherSuite12, secret: bytes, label: bytes, length: int, transcript: bytes = b""
) -> bytes:
    """tlslite-ng's TLS 1.2 PRF, not the engine's prf.py: the oracle's keys and Finished
    values come from an implementation the client under test does not share."""
    from tlslite.handshakehashes import HandshakeHashes
    from tlslite.mathtls import calc_key

    hashes = HandshakeHashes()
    hashes.update(bytearray(transcript))
    out = calc_key(
        (3, 3), bytearray(secret), suite.code, label, handshake_hashes=hashes, output_length=length
    )
    return bytes(out)


def _key_block12(recording: Recording12, master: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(client key, server key, client IV, server IV), RFC 5246 6.3, by tlslite-ng."""
    from tlslite.mathtls import calc_key

    suite = recording.suite
    k, iv = suite.key_length, suite.fixed_iv_length
    block = bytes(
        calc_key(
            (3, 3),
            bytearray(master),
            suite.code,
            b"key expansion",
            client_random=bytearray(recording.client_hello[6:38]),
            server_random=bytearray(recording.server_hello[6:38]),
            output_length=2 * (k + iv),
        )
    )
    return block[:k], block[k : 2 * k], block[2 * k : 2 * k + iv], block[2 * k + iv :]


def _end_of(messages: list[bytes], message: bytes) -> int:
    """Length of ``messages`` up to and including ``message``."""
    return len(b"".join(messages[: messages.index(message) + 1]))


def _alert_name(code: int) -> str:
    from tlslite.constants import AlertDescription

    return str(AlertDescription.toStr(code))
