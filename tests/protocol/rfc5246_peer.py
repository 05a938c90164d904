"""The in-process TLS 1.2 server of tls12_server.py, plus an oracle that judges the client
from outside: it derives the extended master secret, the key block and the Finished value
with tlslite-ng's PRF (``calc_key``, not the engine's prf.py), opens the client's records
with `cryptography`'s AESGCM (not the engine's record layer) and hands each test the exact
handshake messages the client sent.

Used by the tests named after RFC 5246, 5746 and 7627 sections (test_rfc5246_*.py,
test_rfc5746.py, test_rfc7627.py). The server can rewrite any message of its first flight
(``mutate``), so each test breaks exactly one rule with everything else still correct.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding
from tls12_server import SUITE, Server12, ext
from tlslite.constants import AlertDescription
from tlslite.handshakehashes import HandshakeHashes
from tlslite.mathtls import calc_key

from tlsengine.errors import TLSError
from tlsengine.identity.model import Identity
from tlsengine.protocol import ClientConfig, ClientConnection, Event
from tlsengine.protocol.wire import encode_handshake

__all__ = [
    "CERTIFICATE",
    "CERTIFICATE_REQUEST",
    "CERTIFICATE_VERIFY",
    "CLIENT_KEY_EXCHANGE",
    "FINISHED",
    "SERVER_HELLO",
    "ClientFlight12",
    "OracleServer12",
    "alert_sent",
    "certificate_request12",
    "connect",
    "first_flight_refused",
    "open_records",
    "start",
    "der_chain",
    "encode_certificate",
    "ext",
    "read_client_flight",
    "refused",
    "replace_server_hello_extensions",
    "vec",
]

# Handshake message types (RFC 5246 section 7.4).
SERVER_HELLO, CERTIFICATE, SERVER_KEY_EXCHANGE, CERTIFICATE_REQUEST = 2, 11, 12, 13
SERVER_HELLO_DONE, CERTIFICATE_VERIFY, CLIENT_KEY_EXCHANGE, FINISHED = 14, 15, 16, 20
_TLS12 = (3, 3)


def vec(data: bytes, width: int) -> bytes:
    """A TLS vector: ``width``-byte length, then the bytes."""
    return len(data).to_bytes(width, "big") + data


def certificate_request12(
    types: bytes = b"\x40", schemes: Sequence[int] = (0x0403,), cas: Sequence[bytes] = ()
) -> bytes:
    """A CertificateRequest body: certificate_types, supported_signature_algorithms and
    DER-encoded DistinguishedNames, each as its own TLS vector."""
    sigalgs = b"".join(s.to_bytes(2, "big") for s in schemes)
    names = b"".join(vec(n, 2) for n in cas)
    return vec(types, 1) + vec(sigalgs, 2) + vec(names, 2)


def der_chain(identity: Identity) -> list[bytes]:
    return [c.public_bytes(Encoding.DER) for c in identity.chain]


def replace_server_hello_extensions(message: bytes, extensions: bytes) -> bytes:
    """The ServerHello ``message`` with its extension block replaced (RFC 5246 7.4.1.3)."""
    body = message[4:]
    fixed = 2 + 32 + 1 + body[34] + 2 + 1  # version, random, session_id, suite, compression
    return encode_handshake(SERVER_HELLO, body[:fixed] + vec(extensions, 2))


class OracleServer12(Server12):
    """`Server12` whose first flight can be rewritten message by message before it is sent.

    ``mutate(message)`` sees each message (header included) and returns its replacement
    (None drops it; several messages joined are fine). What was sent is hashed as sent, so the
    client's view and the oracle's transcript agree.
    """

    def __init__(
        self, *args: Any, mutate: Callable[[bytes], bytes | None] | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.mutate = mutate
        self.transcript = b""  # ClientHello .. ServerHelloDone, exactly as on the wire

    def first_flight(self, client_bytes: bytes, **kw: Any) -> bytes:
        out = super().first_flight(client_bytes, **kw)
        if self.mutate is not None:
            assert self.write is None, "mutate rewrites the initial (plaintext) flight only"
            hello = self.client_messages[-1]
            sent = _split_messages(bytes(self.messages)[len(hello) :])
            msgs = [m for m in map(self.mutate, sent) if m is not None]
            # a HelloRequest (type 0) is never hashed (7.4.1.1)
            hashed = [m for m in _split_messages(b"".join(msgs)) if m[0] != 0]
            self.messages = bytearray(hello + b"".join(hashed))
            out = self.records(22, b"".join(msgs))
        self.transcript = bytes(self.messages)
        return out

    @property
    def ecdhe_key(self) -> Any:
        return self._ecdhe


def encode_certificate(ders: Sequence[bytes]) -> bytes:
    """Certificate (RFC 5246 7.4.2), written here rather than with wire12's encoder."""
    return encode_handshake(CERTIFICATE, vec(b"".join(vec(d, 3) for d in ders), 3))


# ----------------------------------------------------------------------------- the oracle


def _hashes(data: bytes) -> HandshakeHashes:
    hashes = HandshakeHashes()
    hashes.update(bytearray(data))
    return hashes


def _prf(secret: bytes, label: bytes, length: int | None = None, **kw: Any) -> bytes:
    return bytes(calc_key(_TLS12, bytearray(secret), SUITE.code, label, output_length=length, **kw))


def _split_messages(data: bytes) -> list[bytes]:
    out = []
    while data:
        end = 4 + int.from_bytes(data[1:4], "big")
        assert len(data) >= end, "truncated handshake message"
        out.append(data[:end])
        data = data[end:]
    return out


@dataclass
class ClientFlight12:
    """What the client sent after ServerHelloDone, opened by the oracle.

    ``messages`` are whole handshake messages (header included) in wire order;
    ``before_ccs`` how many of them preceded ChangeCipherSpec; ``signed`` the oracle's own
    transcript up to (not including) the CertificateVerify, for checking its signature.
    """

    messages: list[bytes]
    before_ccs: int
    master_secret: bytes = field(repr=False)
    signed: bytes = field(repr=False)
    finished_verifies: bool
    client_verify_data: bytes = field(repr=False)  # what the oracle expects (RFC 5746 3.4)
    client_write: tuple[bytes, bytes] = field(repr=False)  # AES-GCM key, 4-byte salt

    @property
    def types(self) -> list[int]:
        return [m[0] for m in self.messages]

    def message(self, msg_type: int) -> bytes:
        return next(m for m in self.messages if m[0] == msg_type)

    def body(self, msg_type: int) -> bytes:
        return self.message(msg_type)[4:]


def read_client_flight(server: OracleServer12, data: bytes) -> ClientFlight12:
    """Open the client's second flight with keys the oracle derives itself.

    Premaster from the server's ECDHE key and the client's point; master secret by RFC
    7627 over the oracle's transcript through ClientKeyExchange; client write key and salt
    from the key block (RFC 5246 6.3); records opened as RFC 5288 AES-GCM; the client's
    Finished checked against RFC 5246 7.4.9 over the transcript before it.
    """
    transcript = server.transcript
    client_random = transcript[6:38]
    server_hello = transcript[len(_split_messages(transcript)[0]) :]
    server_random = server_hello[6:38]
    plain: list[bytes] = []
    sealed = b""
    before_ccs: int | None = None
    pos = 0
    while pos < len(data):
        content_type = data[pos]
        end = pos + 5 + int.from_bytes(data[pos + 3 : pos + 5], "big")
        payload = data[pos + 5 : end]
        if content_type == 20:
            assert payload == b"\x01", payload
            before_ccs = len(_split_messages(b"".join(plain)))
        elif before_ccs is None:
            assert content_type == 22, f"plaintext record of type {content_type}"
            plain.append(payload)
        else:
            sealed += data[pos:end]
        pos = end
    messages = _split_messages(b"".join(plain))
    assert before_ccs is not None, "the client sent no ChangeCipherSpec"
    cke = next(m for m in messages if m[0] == CLIENT_KEY_EXCHANGE)
    point = cke[5 : 5 + cke[4]]
    premaster = server.ecdhe_key.exchange(x25519.X25519PublicKey.from_public_bytes(point))
    through_cke = transcript + b"".join(messages[: messages.index(cke) + 1])
    master = _prf(premaster, b"extended master secret", 48, handshake_hashes=_hashes(through_cke))
    block = _prf(
        master,
        b"key expansion",
        2 * (SUITE.key_length + 4),
        client_random=bytearray(client_random),
        server_random=bytearray(server_random),
    )
    key, salt = block[: SUITE.key_length], block[2 * SUITE.key_length : 2 * SUITE.key_length + 4]
    records = open_records(sealed, key, salt)
    assert [t for t, _, _ in records] == [22] * len(records), "not handshake after our CCS"
    messages += _split_messages(b"".join(c for _, c, _ in records))
    before_finished = transcript + b"".join(m for m in messages if m[0] != FINISHED)
    expected = _prf(master, b"client finished", 12, handshake_hashes=_hashes(before_finished))
    finished = [m for m in messages if m[0] == FINISHED]
    cv_index = next((i for i, m in enumerate(messages) if m[0] == CERTIFICATE_VERIFY), None)
    signed = transcript + b"".join(messages[:cv_index])
    return ClientFlight12(
        messages=messages,
        before_ccs=before_ccs,
        master_secret=master,
        signed=signed,
        finished_verifies=len(finished) == 1 and finished[0][4:] == expected,
        client_verify_data=expected,
        client_write=(key, salt),
    )


def open_records(
    data: bytes, key: bytes, salt: bytes, seq: int = 0
) -> list[tuple[int, bytes, bytes]]:
    """AES-GCM records (RFC 5288 3): explicit 8-byte nonce; AAD = seq, type, version, length.
    Returns (content type, plaintext, explicit nonce) per record, from sequence number ``seq``."""
    aead = AESGCM(key)
    out = []
    while data:
        header, end = data[:5], 5 + int.from_bytes(data[3:5], "big")
        explicit, sealed = data[5:13], data[13:end]
        aad = seq.to_bytes(8, "big") + header[:3] + (len(sealed) - 16).to_bytes(2, "big")
        out.append((header[0], aead.decrypt(salt + explicit, sealed, aad), explicit))
        data, seq = data[end:], seq + 1
    return out


# ----------------------------------------------------------------------------- driving


def start(
    server_material: tuple[Sequence[bytes], Any],
    identities: Sequence[Identity] = (),
    *,
    server: OracleServer12 | None = None,
    **config: Any,
) -> tuple[ClientConnection, OracleServer12]:
    """A client whose ClientHello waits in ``conn.data_to_send()``, and its server."""
    chain, key = server_material
    srv = server or OracleServer12(chain, key)
    conn = ClientConnection(
        ClientConfig(server_name="localhost", identities=list(identities), **config)
    )
    conn.start_handshake()
    return conn, srv


def connect(
    server_material: tuple[Sequence[bytes], Any],
    identities: Sequence[Identity] = (),
    *,
    server: OracleServer12 | None = None,
    **config: Any,
) -> tuple[ClientConnection, OracleServer12, list[Event]]:
    """A client that has read the server's first flight (ServerHello .. ServerHelloDone);
    the client's answer waits in ``conn.data_to_send()``."""
    conn, srv = start(server_material, identities, server=server, **config)
    events = conn.receive_data(srv.first_flight(conn.data_to_send()))
    return conn, srv, events


def first_flight_refused(
    conn: ClientConnection, server: OracleServer12, alert: str, match: str | None = None
) -> TLSError:
    """The server's first flight must be refused with the fatal ``alert``."""
    hello = conn.data_to_send()

    def run() -> object:
        return conn.receive_data(server.first_flight(hello))

    return refused(conn, server, run, alert, match)


def alert_sent(conn: ClientConnection, server: Server12) -> tuple[int, str]:
    """The (level, description) of the last alert the client wrote, as the server reads it."""
    server.take(conn.data_to_send())
    assert server.alerts, "the client sent no alert"
    level, description = server.alerts[-1][:2]
    return level, str(AlertDescription.toStr(description))


def refused(
    conn: ClientConnection,
    server: Server12,
    run: Callable[[], Any],
    alert: str,
    match: str | None = None,
) -> TLSError:
    """``run()`` must raise a TLSError and the client must have sent the fatal ``alert``."""
    with pytest.raises(TLSError, match=match) as info:
        run()
    assert alert_sent(conn, server) == (2, alert), info.value
    return info.value
