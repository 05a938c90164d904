"""An in-process TLS 1.3 server: builds every flight itself, so a test can damage any message
(before it is hashed and encrypted) or speak out of turn.

Real servers never send malformed EncryptedExtensions or CertificateRequests, so to reach
the decoders behind the record protection this builds the server's first flight itself:
ServerHello, then EncryptedExtensions, [CertificateRequest], Certificate,
CertificateVerify and Finished under real handshake keys. A ``mutate`` hook may rewrite
any message before it is hashed and encrypted, so the damage reaches the client's
handlers rather than its AEAD check. Used by the protocol fuzz/hardening tests and the audit.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric import x25519
from tlslite.extensions import KeyShareEntry, ServerKeyShareExtension, SrvSupportedVersionsExtension
from tlslite.messages import ClientHello, ServerHello
from tlslite.utils.codec import Parser

from tlsengine.protocol.keyschedule import (
    CIPHER_SUITES,
    KeySchedule,
    Transcript,
    finished_verify_data,
    next_traffic_secret,
)
from tlsengine.protocol.record import RecordProtection, plaintext_records
from tlsengine.protocol.wire import encode_certificate13, encode_handshake
from tlsengine.selection.schemes import sign

SUITE = CIPHER_SUITES["TLS_AES_128_GCM_SHA256"]
CCS = b"\x14\x03\x03\x00\x01\x01"
Mutate = Callable[[int, bytes], bytes]


def ext(ext_type: int, body: bytes) -> bytes:
    return ext_type.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def vec(data: bytes, size: int) -> bytes:
    return len(data).to_bytes(size, "big") + data


def certificate_request(extensions: bytes, context: bytes = b"") -> bytes:
    return encode_handshake(13, vec(context, 1) + vec(extensions, 2))


#: A CertificateRequest asking for ECDSA P-256 or RSA-PSS, nothing else.
SIMPLE_REQUEST = certificate_request(ext(13, vec(b"\x04\x03\x08\x04", 2)))


class Server:
    """One server side: ``answer(client_hello_records)`` returns the first flight; after
    it, ``app(content_type, data)`` protects post-handshake records under the server's
    application keys."""

    def __init__(
        self,
        chain_ders: Sequence[bytes],
        key: Any,
        *,
        request: bytes | None = None,
        mutate: Mutate | None = None,
        cv_scheme: str = "ecdsa_secp256r1_sha256",
        extra: Sequence[bytes] = (),
    ) -> None:
        self.chain = list(chain_ders)
        self.key = key
        self.request = request
        self.mutate = mutate
        self.cv_scheme = cv_scheme
        self.extra = list(extra)  # messages appended after Finished, same records
        self.app_write: RecordProtection | None = None
        self.hs_write: RecordProtection | None = None
        self.app_secret = b""

    def server_hello(self, client_records: bytes) -> tuple[bytes, bytes, bytes]:
        client_hello = client_records[5 : 5 + int.from_bytes(client_records[3:5], "big")]
        hello = ClientHello().parse(Parser(bytearray(client_hello[1:])))
        share = next(s for s in hello.getExtension(51).client_shares if s.group == 0x001D)
        ours = x25519.X25519PrivateKey.generate()
        shared = ours.exchange(x25519.X25519PublicKey.from_public_bytes(bytes(share.key_exchange)))
        sh = ServerHello().create(
            (3, 3),
            bytearray(os.urandom(32)),
            hello.session_id,
            SUITE.code,
            extensions=[
                SrvSupportedVersionsExtension().create((3, 4)),
                ServerKeyShareExtension().create(
                    KeyShareEntry().create(0x001D, bytearray(ours.public_key().public_bytes_raw()))
                ),
            ],
        )
        return client_hello, bytes(sh.write()), shared

    def messages(self, client_records: bytes) -> tuple[bytes, list[bytes]]:
        """(ServerHello, [encrypted-flight messages]) with keys set up."""
        client_hello, sh, shared = self.server_hello(client_records)
        transcript = Transcript()
        transcript.start(SUITE.hash_name)
        transcript.update(client_hello)
        transcript.update(sh)
        schedule = KeySchedule(SUITE)
        _, server_secret = schedule.handshake(shared, transcript.digest())
        messages: list[bytes] = []

        def add(message: bytes) -> None:
            if self.mutate is not None:
                message = self.mutate(len(messages), message)
            messages.append(message)
            transcript.update(message)

        add(encode_handshake(8, vec(b"", 2)))
        if self.request is not None:
            add(self.request)
        add(encode_certificate13(b"", self.chain))
        content = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + transcript.digest()
        signature = sign(self.key, self.cv_scheme, content)
        code = {
            "ecdsa_secp256r1_sha256": b"\x04\x03",
            "rsa_pkcs1_sha256": b"\x04\x01",
            "ecdsa_sha1": b"\x02\x03",
            "rsa_pss_rsae_sha256": b"\x08\x04",
        }[self.cv_scheme]
        add(encode_handshake(15, code + vec(signature, 2)))
        add(
            encode_handshake(
                20, finished_verify_data(SUITE.hash_name, server_secret, transcript.digest())
            )
        )
        self.app_secret = schedule.application(transcript.digest())[1]
        self.app_write = RecordProtection(SUITE, self.app_secret)
        self.hs_write = RecordProtection(SUITE, server_secret)
        return sh, messages + self.extra

    def answer(self, client_records: bytes) -> bytes:
        sh, messages = self.messages(client_records)
        assert self.hs_write is not None
        flight = b"".join(messages)
        records = b"".join(
            self.hs_write.seal(22, flight[i : i + 16384]) for i in range(0, len(flight), 16384)
        )
        return plaintext_records(22, sh) + CCS + records

    def app(self, content_type: int, data: bytes) -> bytes:
        assert self.app_write is not None
        return self.app_write.seal(content_type, data)

    def key_update(self, requested: bool = False) -> bytes:
        """A KeyUpdate record, after which our write keys move on."""
        record = self.app(22, encode_handshake(24, bytes((int(requested),))))
        self.app_secret = next_traffic_secret(SUITE.hash_name, self.app_secret)
        self.app_write = RecordProtection(SUITE, self.app_secret)
        return record


def server_flight(
    client_records: bytes,
    chain_ders: Sequence[bytes],
    key: Any,
    *,
    request: bytes | None = None,
    mutate: Mutate | None = None,
    keys_out: list[RecordProtection] | None = None,
) -> bytes:
    """The server's answer to the client's first flight (one ClientHello record).

    ``keys_out``, when given, receives the server's application-data protection, so a test
    can go on sending post-handshake messages.
    """
    server = Server(chain_ders, key, request=request, mutate=mutate)
    flight = server.answer(client_records)
    if keys_out is not None:
        assert server.app_write is not None
        keys_out.append(server.app_write)
    return flight


class SocketPeer:
    """Serves one connection on 127.0.0.1 in a thread: answers the ClientHello with a real
    flight, reads the client's answer, then runs ``script(sock, server)``."""

    def __init__(self, server: Server, script: Callable[[Any, Server], None]) -> None:
        import socket
        import threading

        self.server = server
        self.script = script
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.address = self.listener.getsockname()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            sock, _ = self.listener.accept()
            with sock:
                sock.settimeout(10)
                hello = b""
                while len(hello) < 5 or len(hello) < 5 + int.from_bytes(hello[3:5], "big"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    hello += chunk
                sock.sendall(self.server.answer(hello))
                self.script(sock, self.server)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.listener.close()

    def close(self) -> None:
        self.thread.join(10)
