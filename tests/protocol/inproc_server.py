"""A minimal in-process TLS 1.3 server flight, for fuzzing the encrypted handshake.

Real servers never send malformed EncryptedExtensions or CertificateRequests, so to reach
the decoders behind the record protection this builds the server's first flight itself:
ServerHello, then EncryptedExtensions, [CertificateRequest], Certificate,
CertificateVerify and Finished under real handshake keys. A ``mutate`` hook may rewrite
any message before it is hashed and encrypted, so the damage reaches the client's
handlers rather than its AEAD check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric import x25519
from tlslite.extensions import KeyShareEntry, ServerKeyShareExtension, SrvSupportedVersionsExtension
from tlslite.messages import ClientHello, ServerHello
from tlslite.utils.codec import Parser

from tlsengine.protocol.keyschedule import (
    CIPHER_SUITES,
    KeySchedule,
    Transcript,
    finished_verify_data,
)
from tlsengine.protocol.record import RecordProtection, plaintext_records
from tlsengine.protocol.wire import encode_certificate13, encode_handshake
from tlsengine.selection.schemes import sign

SUITE = CIPHER_SUITES["TLS_AES_128_GCM_SHA256"]
Mutate = Callable[[int, bytes], bytes]


def ext(ext_type: int, body: bytes) -> bytes:
    return ext_type.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def vec(data: bytes, size: int) -> bytes:
    return len(data).to_bytes(size, "big") + data


def certificate_request(extensions: bytes, context: bytes = b"") -> bytes:
    return encode_handshake(13, vec(context, 1) + vec(extensions, 2))


def server_flight(
    client_records: bytes,
    chain_ders: Sequence[bytes],
    key: object,
    *,
    request: bytes | None = None,
    mutate: Mutate | None = None,
    keys_out: list[RecordProtection] | None = None,
) -> bytes:
    """The server's answer to the client's first flight (one ClientHello record).

    ``keys_out``, when given, receives the server's application-data protection, so a test
    can go on sending post-handshake messages.
    """
    client_hello = client_records[5 : 5 + int.from_bytes(client_records[3:5], "big")]
    hello = ClientHello().parse(Parser(bytearray(client_hello[1:])))
    share = next(s for s in hello.getExtension(51).client_shares if s.group == 0x001D)
    ours = x25519.X25519PrivateKey.generate()
    shared = ours.exchange(x25519.X25519PublicKey.from_public_bytes(bytes(share.key_exchange)))
    server_hello = ServerHello().create(
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
    sh = bytes(server_hello.write())
    transcript = Transcript()
    transcript.start(SUITE.hash_name)
    transcript.update(client_hello)
    transcript.update(sh)
    schedule = KeySchedule(SUITE)
    _, server_secret = schedule.handshake(shared, transcript.digest())

    messages: list[bytes] = []

    def add(message: bytes) -> None:
        if mutate is not None:
            message = mutate(len(messages), message)
        messages.append(message)
        transcript.update(message)

    add(encode_handshake(8, vec(b"", 2)))
    if request is not None:
        add(request)
    add(encode_certificate13(b"", chain_ders))
    content = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + transcript.digest()
    signature = sign(key, "ecdsa_secp256r1_sha256", content)
    add(encode_handshake(15, b"\x04\x03" + vec(signature, 2)))
    add(
        encode_handshake(
            20, finished_verify_data(SUITE.hash_name, server_secret, transcript.digest())
        )
    )
    if keys_out is not None:
        keys_out.append(RecordProtection(SUITE, schedule.application(transcript.digest())[1]))
    protection = RecordProtection(SUITE, server_secret)
    flight = b"".join(messages)
    records = b"".join(
        protection.seal(22, flight[i : i + 16384]) for i in range(0, len(flight), 16384)
    )
    return plaintext_records(22, sh) + b"\x14\x03\x03\x00\x01\x01" + records
