"""TLS 1.3 resumption (RFC 8446 sections 2.2, 4.2.11, 4.6.1) in the sans-IO client.

Real handshakes run against OpenSSL (Python's ``ssl`` server, which issues one ticket per
connection); the rules a real server never breaks run against hand-built ServerHellos.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from inproc_server import Server as InprocServer
from proto_helpers import Client, EchoServer, choose
from tlslite.extensions import (
    KeyShareEntry,
    ServerKeyShareExtension,
    SrvPreSharedKeyExtension,
    SrvSupportedVersionsExtension,
    TLSExtension,
)
from tlslite.handshakehashes import HandshakeHashes
from tlslite.handshakehelpers import HandshakeHelpers
from tlslite.messages import ClientHello, ServerHello
from tlslite.utils.codec import Parser

from tlsengine.errors import HandshakeError, TLSError
from tlsengine.protocol import (
    ClientConfig,
    ClientConnection,
    HandshakeComplete,
    SessionTicket,
    State,
)
from tlsengine.protocol.keyschedule import (
    CIPHER_SUITES,
    KeySchedule,
    Transcript,
    derive_secret,
    finished_verify_data,
    hkdf_extract,
    psk_binder,
    transcript_digest,
)
from tlsengine.protocol.record import RecordProtection, plaintext_records
from tlsengine.protocol.wire import encode_handshake


class FakeClock:
    """Monotonic seconds a test moves by hand (the core reads only the clock it is given)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _types(conn: ClientConnection, direction: str) -> list[str]:
    return [t["type"] for t in conn.transcript if t["direction"] == direction]


def _ticket_from(srv: EchoServer, config: ClientConfig) -> SessionTicket:
    """A full handshake that stays up until the server's NewSessionTicket arrived."""
    with Client(srv.address, config) as client:
        client.handshake()
        client.send(b"ping")
        assert client.read_exactly(4) == b"ping"  # the ticket precedes the echo
        assert client.conn.session_tickets, "the server sent no NewSessionTicket"
        return client.conn.session_tickets[-1]


@pytest.fixture(scope="module")
def identity(root_ca):
    return root_ca.identity("client resume", "p256")


@pytest.fixture
def mtls_server(tmp_path: Path, root_ca):
    with EchoServer(tmp_path, root_ca, verify_mode=ssl.CERT_REQUIRED, client_cas=[root_ca]) as srv:
        yield srv


def _config(identity, clock, **kw) -> ClientConfig:
    return ClientConfig(
        server_name="localhost",
        identities=[identity],
        select=choose(identity),
        clock=clock,
        trace=True,
        **kw,
    )


def test_second_connection_resumes_without_certificates(mtls_server, identity):
    """RFC 8446 2.2: a PSK handshake carries no Certificate/CertificateVerify either way,
    and the server still knows our identity from the session."""
    clock = FakeClock()
    ticket = _ticket_from(mtls_server, _config(identity, clock))
    assert ticket.received_at == clock.now and ticket.client_identity is identity
    first = mtls_server.wait()
    clock.now += 5
    with Client(mtls_server.address, _config(identity, clock, session=ticket)) as client:
        done = client.handshake()
        assert done.session_reused and client.conn.session_reused
        assert not done.client_certificate_sent  # nothing sent now: the session vouches
        assert _types(client.conn, "in") == ["ServerHello", "EncryptedExtensions", "Finished"]
        assert _types(client.conn, "out") == ["ClientHello", "Finished"]
        assert client.conn.peer_certificates == list(ticket.peer_certificates)
        assert client.conn.client_identity is identity  # the identity the session carries
        client.send(b"again")
        assert client.read_exactly(5) == b"again"
    seen = mtls_server.wait()
    assert seen.messages == ["CLIENT_HELLO", "FINISHED"]  # no Certificate from us
    assert seen.subject == first.subject == "commonName=client resume"


def test_binder_verifies_with_tlslite_ng(identity):
    """Oracle: tlslite-ng's own verify_binder accepts the binder over our truncated hello."""
    psk = bytes(range(32))
    ticket = SessionTicket(
        b"opaque ticket", 600, 0x01020304, b"\x00", "TLS_AES_128_GCM_SHA256", "localhost", psk=psk
    )
    ticket.received_at = 10.0
    conn = ClientConnection(
        ClientConfig(server_name="localhost", session=ticket, clock=lambda: 12.5)
    )
    conn.start_handshake()
    record = conn.data_to_send()
    hello = ClientHello().parse(Parser(bytearray(record[6:])))
    ext = hello.extensions[-1]
    assert ext.extType == 41, "pre_shared_key must be the last extension (RFC 8446 4.2.11)"
    assert bytes(ext.identities[0].identity) == b"opaque ticket"
    assert ext.identities[0].obfuscated_ticket_age == (2500 + 0x01020304) % 2**32
    assert HandshakeHelpers.verify_binder(hello, HandshakeHashes(), 0, psk, "sha256", False)
    assert 45 in {e.extType for e in hello.extensions}  # psk_key_exchange_modes
    assert list(hello.getExtension(45).modes) == [1]  # psk_dhe_ke only: never psk_ke


def test_psk_binder_is_finished_under_the_res_binder_key():
    psk, digest = b"k" * 48, transcript_digest("sha384", b"hello")
    early = hkdf_extract("sha384", b"", psk)
    key = derive_secret("sha384", early, b"res binder", transcript_digest("sha384"))
    assert psk_binder("sha384", psk, digest) == finished_verify_data("sha384", key, digest)


def test_expired_ticket_is_not_offered(mtls_server, identity):
    """RFC 8446 4.6.1: a client MUST NOT cache (or use) a ticket past its lifetime."""
    clock = FakeClock()
    ticket = _ticket_from(mtls_server, _config(identity, clock))
    clock.now += ticket.lifetime
    with Client(mtls_server.address, _config(identity, clock, session=ticket)) as client:
        done = client.handshake()
        assert not done.session_reused and done.client_certificate_sent
        reasons = [t["reason"] for t in client.conn.transcript if t["type"] == "SessionNotOffered"]
        assert reasons and "lifetime" in reasons[0]


def test_ticket_without_a_clock_is_not_offered(identity):
    ticket = SessionTicket(b"t", 600, 0, b"", "TLS_AES_128_GCM_SHA256", "localhost", psk=b"p" * 32)
    ticket.received_at = 1.0
    conn = ClientConnection(ClientConfig(server_name="localhost", session=ticket, trace=True))
    conn.start_handshake()
    hello = ClientHello().parse(Parser(bytearray(conn.data_to_send()[6:])))
    assert hello.getExtension(41) is None
    assert "clock" in conn.transcript[0]["reason"]


def test_ticket_for_another_server_name_is_not_offered():
    ticket = SessionTicket(b"t", 600, 0, b"", "TLS_AES_128_GCM_SHA256", "a.example", psk=b"p" * 32)
    ticket.received_at = 1.0
    config = ClientConfig(server_name="b.example", session=ticket, clock=lambda: 2.0)
    conn = ClientConnection(config)
    conn.start_handshake()
    assert ClientHello().parse(Parser(bytearray(conn.data_to_send()[6:]))).getExtension(41) is None


def test_ticket_needs_an_offered_suite_with_its_hash(mtls_server, identity):
    """RFC 8446 4.2.11: a PSK is usable only with a suite of the same hash."""
    clock = FakeClock()
    sha256_only = ["TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"]
    ticket = _ticket_from(mtls_server, _config(identity, clock, cipher_suites=sha256_only))
    assert ticket.hash_name == "sha256"
    config = _config(identity, clock, session=ticket, cipher_suites=["TLS_AES_256_GCM_SHA384"])
    with Client(mtls_server.address, config) as client:
        assert not client.handshake().session_reused
        assert any(t["type"] == "SessionNotOffered" for t in client.conn.transcript)


def test_ticket_the_server_cannot_decrypt_falls_back_to_a_full_handshake(mtls_server, identity):
    clock = FakeClock()
    ticket = _ticket_from(mtls_server, _config(identity, clock))
    ticket.ticket = bytes(b ^ 0x55 for b in ticket.ticket)  # unknown to the server
    with Client(mtls_server.address, _config(identity, clock, session=ticket)) as client:
        done = client.handshake()
        assert not done.session_reused and done.client_certificate_sent
        client.send(b"full")
        assert client.read_exactly(4) == b"full"
    mtls_server.wait()
    assert mtls_server.wait().messages[:2] == ["CLIENT_HELLO", "CERTIFICATE"]


def test_hello_retry_request_recomputes_the_binder(tmp_path: Path, root_ca, identity):
    """RFC 8446 4.1.2: after an HRR the second ClientHello's PSK binder covers
    message_hash(ClientHello1) and the HRR; OpenSSL checks it."""
    clock = FakeClock()
    with EchoServer(
        tmp_path,
        root_ca,
        verify_mode=ssl.CERT_REQUIRED,
        client_cas=[root_ca],
        curve="secp384r1",  # our key share is x25519: every handshake retries
    ) as srv:
        ticket = _ticket_from(srv, _config(identity, clock))
        with Client(srv.address, _config(identity, clock, session=ticket)) as client:
            done = client.handshake()
            assert done.session_reused
            assert "HelloRetryRequest" in _types(client.conn, "in")
            hellos = [t for t in client.conn.transcript if t["type"] == "ClientHello"]
            assert [h["resumption"] for h in hellos] == [True, True]


# --------------------------------------------------------------------------- rules


def _offering_client() -> tuple[ClientConnection, bytes]:
    ticket = SessionTicket(b"t", 600, 0, b"", "TLS_AES_128_GCM_SHA256", None, psk=b"p" * 32)
    ticket.received_at = 1.0
    conn = ClientConnection(ClientConfig(session=ticket, clock=lambda: 2.0))
    conn.start_handshake()
    return conn, conn.data_to_send()


def _server_hello(client_record: bytes, psk_ext=None, suite: str = "TLS_AES_128_GCM_SHA256"):
    hello = ClientHello().parse(Parser(bytearray(client_record[6:])))
    share = hello.getExtension(51).client_shares[0]
    exts = [
        SrvSupportedVersionsExtension().create((3, 4)),
        ServerKeyShareExtension().create(KeyShareEntry().create(share.group, share.key_exchange)),
    ]
    if psk_ext is not None:
        exts.append(psk_ext)
    sh = ServerHello().create(
        (3, 3), bytearray(32), hello.session_id, CIPHER_SUITES[suite].code, extensions=exts
    )
    return plaintext_records(22, bytes(sh.write()))


def test_server_selecting_an_identity_we_did_not_offer_is_illegal_parameter():
    conn, record = _offering_client()
    with pytest.raises(HandshakeError, match="identity 1"):
        conn.receive_data(_server_hello(record, SrvPreSharedKeyExtension().create(1)))
    assert conn.data_to_send()[-2:] == b"\x02\x2f"  # fatal illegal_parameter


def test_server_resuming_under_another_hash_is_illegal_parameter():
    conn, record = _offering_client()
    psk = SrvPreSharedKeyExtension().create(0)
    with pytest.raises(HandshakeError, match="sha256 ticket"):
        conn.receive_data(_server_hello(record, psk, suite="TLS_AES_256_GCM_SHA384"))


def test_server_accepting_a_psk_we_never_offered_is_illegal_parameter():
    conn = ClientConnection(ClientConfig())
    conn.start_handshake()
    record = conn.data_to_send()
    with pytest.raises(TLSError, match="never offered"):
        conn.receive_data(_server_hello(record, SrvPreSharedKeyExtension().create(0)))


@settings(max_examples=60, deadline=None)
@given(selected=st.integers(1, 0xFFFF))
def test_any_other_selected_identity_is_illegal_parameter(selected: int):
    conn, record = _offering_client()
    with pytest.raises(HandshakeError, match="we offered only identity 0"):
        conn.receive_data(_server_hello(record, SrvPreSharedKeyExtension().create(selected)))


@settings(max_examples=80, deadline=None)
@given(body=st.binary(max_size=8))
@example(body=b"")
@example(body=b"\x00")
@example(body=b"\x00\x00\x00")
def test_garbled_server_pre_shared_key_ends_in_a_tls_error(body: bytes):
    """Whatever else the server's pre_shared_key holds, the outcome is a TLSError and an
    alert (00 00, identity 0, is the one valid body)."""
    assume(body != b"\x00\x00")
    conn, record = _offering_client()
    psk = TLSExtension(extType=41).create(bytearray(body))
    try:
        conn.receive_data(_server_hello(record, psk))
    except TLSError:
        assert conn.data_to_send()[:1] == b"\x15"  # our fatal alert is queued
    else:
        raise AssertionError("a ServerHello resuming with a garbled extension was accepted")


# --------------------------------------------------------------------------- in-process PSK server


def _psk_server_flight(record: bytes, psk: bytes, after_ee: list[bytes]) -> bytes:
    """A server that accepts our ticket: ServerHello(pre_shared_key=0, x25519), then
    EncryptedExtensions and ``after_ee`` under handshake keys from the PSK schedule."""
    _, plain_hello, shared = InprocServer([], None).server_hello(record)
    sh = ServerHello().parse(Parser(bytearray(plain_hello[1:])))
    sh.extensions.append(SrvPreSharedKeyExtension().create(0))
    transcript = Transcript()
    transcript.start(SUITE.hash_name)
    transcript.update(record[5:])
    transcript.update(bytes(sh.write()))
    _, server_secret = KeySchedule(SUITE, psk).handshake(shared, transcript.digest())
    messages = [encode_handshake(8, b"\x00\x00"), *after_ee]
    for message in messages:
        transcript.update(message)
    verify_data = finished_verify_data(SUITE.hash_name, server_secret, transcript.digest())
    flight = b"".join(messages) + encode_handshake(20, verify_data)
    protect = RecordProtection(SUITE, server_secret)
    return plaintext_records(22, bytes(sh.write())) + protect.seal(22, flight)


SUITE = CIPHER_SUITES["TLS_AES_128_GCM_SHA256"]


def test_resumed_handshake_completes_without_certificates_in_process(identity):
    conn, record = _offering_client()
    events = conn.receive_data(_psk_server_flight(record, b"p" * 32, []))
    done = [e for e in events if isinstance(e, HandshakeComplete)]
    assert done and done[0].session_reused and conn.state is State.CONNECTED


@pytest.mark.parametrize(
    "intruder",
    [
        encode_handshake(13, b"\x00\x00\x06\x00\x0d\x00\x02\x04\x03"),  # CertificateRequest
        encode_handshake(11, b"\x00\x00\x00\x00"),  # Certificate
    ],
    ids=["CertificateRequest", "Certificate"],
)
def test_certificates_after_a_resumed_ee_are_unexpected_message(intruder: bytes):
    """RFC 8446 4.3.2 / Appendix A: after EE a PSK handshake goes straight to Finished."""
    conn, record = _offering_client()
    with pytest.raises(HandshakeError, match="expected Finished"):
        conn.receive_data(_psk_server_flight(record, b"p" * 32, [intruder]))
