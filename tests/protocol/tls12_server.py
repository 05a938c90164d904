"""An in-process TLS 1.2 server (ECDHE-ECDSA, AES-128-GCM, EMS) that builds every message
itself, so protocol tests can leave out an extension, damage a signature or send a
HelloRequest at a chosen moment, and check what the client wrote byte by byte.

It is written from RFC 5246/7627/5746 with the engine's own PRF and record classes (checked
separately against tlslite-ng's PRF and against OpenSSL in the interop suite).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from tlslite.messages import ClientHello
from tlslite.utils.codec import Parser

from tlsengine.protocol.prf import (
    CIPHER_SUITES_12,
    extended_master_secret,
    finished_verify_data12,
    key_block,
)
from tlsengine.protocol.record import RecordProtection12, RecordReader, plaintext_records
from tlsengine.protocol.wire import encode_handshake
from tlsengine.protocol.wire12 import encode_certificate12
from tlsengine.selection.schemes import sign

SUITE = CIPHER_SUITES_12["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
CCS_BODY = b"\x01"


def ext(ext_type: int, body: bytes) -> bytes:
    return ext_type.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def sha256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


@dataclass
class Server12:
    """One connection's server side. ``chain`` is DER leaf first, ``key`` the P-256 key."""

    chain: Sequence[bytes]
    key: Any
    ems: bool = True
    renegotiation_info: bool = True
    request: bytes | None = None  # CertificateRequest body, or None for no request
    ack_ticket: bool = False  # session_ticket in the ServerHello (RFC 5077 3.2)
    ticket: bytes | None = None  # a NewSessionTicket before our ChangeCipherSpec
    echo_session_id: bool = False  # claim to resume (RFC 5077 3.4)
    messages: bytearray = field(default_factory=bytearray)  # this handshake's transcript
    master: bytes = b""
    client_random: bytes = b""
    server_random: bytes = b""
    read: RecordProtection12 | None = None
    write: RecordProtection12 | None = None
    client_verify: bytes = b""
    server_verify: bytes = b""
    client_messages: list[bytes] = field(default_factory=list)
    app_data: list[bytes] = field(default_factory=list)
    alerts: list[bytes] = field(default_factory=list)

    # ------------------------------------------------------------------ writing

    def records(self, content_type: int, data: bytes) -> bytes:
        if self.write is None:
            return plaintext_records(content_type, data)
        return self.write.seal(content_type, data)

    def server_hello(self, client_hello: bytes, *, random: bytes | None = None) -> bytes:
        hello = ClientHello().parse(Parser(bytearray(client_hello[1:])))
        self.client_random = bytes(hello.random)
        self.server_random = random if random is not None else os.urandom(32)
        exts = b""
        if self.ems:
            exts += ext(23, b"")
        if self.renegotiation_info:
            binding = self.client_verify + self.server_verify
            exts += ext(0xFF01, bytes((len(binding),)) + binding)
        if self.ack_ticket:
            exts += ext(35, b"")
        session_id = bytes(hello.session_id) if self.echo_session_id else b""
        body = (
            b"\x03\x03"
            + self.server_random
            + bytes((len(session_id),))
            + session_id
            + SUITE.code.to_bytes(2, "big")
            + b"\x00"
            + len(exts).to_bytes(2, "big")
            + exts
        )
        return encode_handshake(2, body)

    def key_exchange(self, bad_signature: bool = False) -> bytes:
        self._ecdhe = x25519.X25519PrivateKey.generate()
        public = self._ecdhe.public_key().public_bytes_raw()
        params = b"\x03\x00\x1d" + bytes((len(public),)) + public
        signature = sign(
            self.key, "ecdsa_secp256r1_sha256", self.client_random + self.server_random + params
        )
        if bad_signature:
            signature = signature[:-1] + bytes((signature[-1] ^ 1,))
        body = params + b"\x04\x03" + len(signature).to_bytes(2, "big") + signature
        return encode_handshake(12, body)

    def first_flight(self, client_bytes: bytes, **kw: Any) -> bytes:
        """ServerHello .. ServerHelloDone answering the ClientHello in ``client_bytes``."""
        self.take(client_bytes)
        client_hello = self.client_messages[-1]
        assert client_hello[0] == 1, client_hello[:1]
        msgs = [
            self.server_hello(client_hello, random=kw.pop("random", None)),
            encode_certificate12(self.chain),
            self.key_exchange(**kw),
        ]
        if self.request is not None:
            msgs.append(encode_handshake(13, self.request))
        msgs.append(encode_handshake(14, b""))
        for m in msgs:
            self.messages += m
        return self.records(22, b"".join(msgs))

    def second_flight(self, client_bytes: bytes) -> bytes:
        """Read the client's flight (through its Finished) and answer CCS + Finished."""
        self.take(client_bytes)
        assert self.client_messages[-1][0] == 20, [m[0] for m in self.client_messages]
        self.server_verify = finished_verify_data12(
            "sha256", self.master, b"server finished", sha256(bytes(self.messages))
        )
        out = b""
        if self.ticket is not None:
            nst = encode_handshake(
                4, (7200).to_bytes(4, "big") + len(self.ticket).to_bytes(2, "big") + self.ticket
            )
            self.messages += nst
            out += self.records(22, nst)
            self.server_verify = finished_verify_data12(
                "sha256", self.master, b"server finished", sha256(bytes(self.messages))
            )
        out += self.records(20, CCS_BODY)
        self.write = RecordProtection12(SUITE, self._keys.server_key, self._keys.server_iv)
        return out + self.write.seal(22, encode_handshake(20, self.server_verify))

    def _client_handshake_message(self, m: bytes) -> None:
        self.client_messages.append(m)
        if m[0] == 1:  # a (re)negotiation starts the transcript afresh
            self.messages = bytearray(m)
            return
        if m[0] == 20:
            expected = finished_verify_data12(
                "sha256", self.master, b"client finished", sha256(bytes(self.messages))
            )
            assert m[4:] == expected, "client Finished does not verify"
            self.client_verify = expected
        self.messages += m
        if m[0] == 16:
            point = m[5:]
            premaster = self._ecdhe.exchange(x25519.X25519PublicKey.from_public_bytes(point))
            self.master = extended_master_secret("sha256", premaster, sha256(bytes(self.messages)))

    @property
    def _keys(self) -> Any:
        return key_block(SUITE, self.master, self.client_random, self.server_random)

    def hello_request(self) -> bytes:
        return self.records(22, encode_handshake(0, b""))

    def application(self, data: bytes) -> bytes:
        return self.records(23, data)

    # ------------------------------------------------------------------ reading

    def take(self, data: bytes) -> None:
        """Split what the client wrote into handshake messages, data and alerts."""
        reader = RecordReader()
        reader.feed(data)
        while (record := reader.next_record()) is not None:
            content_type, header, payload = record
            if self.read is not None:
                content_type, body = self.read.open(header, payload)
            else:
                body = bytes(payload)
            if content_type == 20:
                keys = self._keys
                self.read = RecordProtection12(SUITE, keys.client_key, keys.client_iv)
            elif content_type == 22:
                while body:
                    length = int.from_bytes(body[1:4], "big")
                    self._client_handshake_message(body[: 4 + length])
                    body = body[4 + length :]
            elif content_type == 23:
                self.app_data.append(body)
            else:
                self.alerts.append(body)

    def client_message(self, msg_type: int) -> bytes:
        return [m for m in self.client_messages if m[0] == msg_type][-1]
