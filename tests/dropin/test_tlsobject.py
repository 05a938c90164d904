"""`TLSObject` against the stdlib's server-side ``SSLObject``, all in memory.

Both ends run over ``ssl.MemoryBIO`` pairs that the test pumps by hand, so every
``SSLWantReadError``/``SSLEOFError``/``SSLZeroReturnError`` moment of the ``ssl.SSLObject``
contract is checked byte for byte, with no socket and no event loop in the way.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsengine import ClientCertificateRejected, TLSError
from tlsengine.identity.model import Identity
from tlsengine.socket.tlsobject import TLSObject

from .conftest import CountingContext


class Pair:
    """Our client object and a stdlib server object, joined by two BIO pairs."""

    def __init__(self, client_ctx: Any, server_ctx: ssl.SSLContext) -> None:
        self.c_in, self.c_out, self.s_in, self.s_out = (ssl.MemoryBIO() for _ in range(4))
        self.client = client_ctx.wrap_bio(self.c_in, self.c_out, server_hostname="localhost")
        self.server = server_ctx.wrap_bio(self.s_in, self.s_out, server_side=True)

    def pump(self) -> None:
        if self.c_out.pending:
            self.s_in.write(self.c_out.read())
        if self.s_out.pending:
            self.c_in.write(self.s_out.read())

    def handshake(self) -> None:
        done = [False, False]
        for _ in range(20):
            for i, end in enumerate((self.client, self.server)):
                if not done[i]:
                    try:
                        end.do_handshake()
                        done[i] = True
                    except ssl.SSLWantReadError:
                        pass
                self.pump()
            if all(done):
                return
        raise AssertionError("handshake did not finish")

    def server_says(self, data: bytes) -> None:
        self.server.write(data)
        self.pump()


def server_context(pki: Any, client_cas: Any, mode: ssl.VerifyMode = ssl.CERT_REQUIRED) -> Any:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.cert_file, pki.key_file)
    ctx.verify_mode = mode
    ctx.load_verify_locations(cafile=str(client_cas))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


@pytest.fixture
def server_ctx(server_pki: Any, root_ca: Any, tmp_path: Any) -> ssl.SSLContext:
    from peers import write_cas

    return server_context(server_pki, write_cas(tmp_path / "a.pem", root_ca))


@pytest.fixture
def pair(ctx: CountingContext, server_ctx: ssl.SSLContext) -> Pair:
    ctx.set_alpn_protocols(["http/1.1"])
    return Pair(ctx, server_ctx)


def test_first_do_handshake_writes_client_hello_and_wants_read(pair: Pair) -> None:
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.do_handshake()
    hello = pair.c_out.read()
    assert hello[:1] == b"\x16" and hello[5:6] == b"\x01"  # handshake record, ClientHello
    with pytest.raises(ssl.SSLWantReadError):  # nothing new to go on: asks again
        pair.client.do_handshake()
    assert pair.c_out.pending == 0


def test_handshake_and_what_clients_read_back(
    pair: Pair, server_pki: Any, identity_a: Identity
) -> None:
    assert pair.client.version() is None and pair.client.cipher() is None
    pair.handshake()
    client: TLSObject = pair.client
    assert client.version() == pair.server.version() == "TLSv1.3"
    assert client.cipher() == pair.server.cipher()
    assert client.selected_alpn_protocol() == "http/1.1"
    assert client.server_hostname == "localhost" and client.server_side is False
    assert client.compression() is None and client.session_reused is False
    assert client.client_identity.subject == identity_a.subject
    assert pair.server.getpeercert()["subject"] == ((("commonName", "drop-in client A"),),)
    # getpeercert: exactly what ssl's own client reports for the same server
    stdlib = ssl.create_default_context(cafile=str(server_pki.ca_file))
    reference = Pair.__new__(Pair)
    reference.c_in, reference.c_out, reference.s_in, reference.s_out = (
        ssl.MemoryBIO() for _ in range(4)
    )
    reference.client = stdlib.wrap_bio(reference.c_in, reference.c_out, server_hostname="localhost")
    no_client_auth = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    no_client_auth.load_cert_chain(server_pki.cert_file, server_pki.key_file)
    reference.server = no_client_auth.wrap_bio(reference.s_in, reference.s_out, server_side=True)
    reference.handshake()
    assert client.getpeercert() == reference.client.getpeercert()
    assert client.getpeercert(binary_form=True) == reference.client.getpeercert(True)


def test_read_write_pending_and_buffer(pair: Pair) -> None:
    pair.handshake()
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.read()
    pair.server_says(b"hello, client")
    assert pair.client.read(5) == b"hello"
    assert pair.client.pending() == 8
    buffer = bytearray(100)
    assert pair.client.read(100, buffer) == 8 and bytes(buffer[:8]) == b", client"
    assert pair.client.write(b"ping" * 10_000) == 40_000
    pair.pump()
    received = b""
    while len(received) < 40_000:
        received += pair.server.read(65536)
    assert received == b"ping" * 10_000


def test_close_notify_then_unwrap(pair: Pair) -> None:
    pair.handshake()
    pair.server_says(b"last words")
    with pytest.raises(ssl.SSLWantReadError):
        pair.server.unwrap()  # the server sends close_notify, waits for ours
    pair.pump()
    assert pair.client.read() == b"last words"
    assert pair.client.read() == b""  # close_notify: b"" as ssl.SSLObject
    assert pair.client.unwrap() is None  # ours goes out; theirs already came
    with pytest.raises(ssl.SSLZeroReturnError):
        pair.client.read()
    pair.pump()
    pair.server.unwrap()
    with pytest.raises(TLSError):
        pair.client.write(b"too late")


def test_unwrap_waits_for_the_peer(pair: Pair) -> None:
    pair.handshake()
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.unwrap()
    pair.pump()
    assert pair.server.read() == b""  # the stdlib server saw our close_notify
    pair.server.unwrap()
    pair.pump()
    assert pair.client.unwrap() is None


def test_eof_without_close_notify_is_ssleoferror(pair: Pair) -> None:
    pair.handshake()
    pair.c_in.write_eof()
    with pytest.raises(ssl.SSLEOFError):
        pair.client.read()


def test_eof_during_handshake(pair: Pair) -> None:
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.do_handshake()
    pair.c_in.write_eof()
    with pytest.raises(ssl.SSLEOFError) as info:
        pair.client.do_handshake()
    assert isinstance(info.value, TLSError) and "during the handshake" in str(info.value)


def test_garbage_fails_with_an_ssl_error_and_an_alert(pair: Pair) -> None:
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.do_handshake()
    pair.c_out.read()
    pair.c_in.write(b"\x16\x03\x03\x00\x05garbage-that-is-not-a-server-hello")
    with pytest.raises(ssl.SSLError) as info:
        pair.client.do_handshake()
    assert isinstance(info.value, TLSError) and str(info.value)
    assert pair.c_out.read()[:1] == b"\x15"  # the fatal alert we owe the server
    pair.c_in.write(b"more bytes after the failure")
    for again in (pair.client.do_handshake, pair.client.read):
        with pytest.raises(ssl.SSLError) as later:
            again()  # never a hang, never a second handshake: the same error again
        assert later.value is info.value
    with pytest.raises(ssl.SSLError):
        pair.client.unwrap()


def test_rejection_is_client_certificate_rejected_and_ssl_error(
    ctx: CountingContext, server_pki: Any, tmp_path: Any
) -> None:
    from peers import write_cas

    from tlsengine.testing import CA

    stranger = CA.root("in-memory stranger")
    pair = Pair(ctx, server_context(server_pki, write_cas(tmp_path / "x.pem", stranger)))
    with pytest.raises(ssl.SSLError):
        pair.handshake()  # the server refuses; our side finished first (TLS 1.3)
    pair.pump()
    with pytest.raises(ClientCertificateRejected) as info:
        pair.client.read()
    assert isinstance(info.value, ssl.SSLError)
    assert info.value.selection is not None and info.value.alert
    assert isinstance(info.value.__cause__, ClientCertificateRejected)
    with pytest.raises(ClientCertificateRejected) as later:
        pair.client.write(b"anyone there?")  # every later call says why, not just "failed"
    assert later.value is info.value


def test_session_resumes_through_wrap_bio(pair: Pair, ctx: CountingContext, server_ctx: Any):
    """A ticket from one TLSObject (``.session``) resumes the next, OpenSSL agreeing."""
    pair.handshake()
    pair.server_says(b"x")  # the server's NewSessionTicket messages ride ahead of it
    assert pair.client.read() == b"x"
    session = pair.client.session
    assert session is not None and not pair.client.session_reused
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    again = Pair.__new__(Pair)
    again.c_in, again.c_out, again.s_in, again.s_out = c_in, c_out, s_in, s_out
    again.client = ctx.wrap_bio(c_in, c_out, server_hostname="localhost", session=session)
    again.server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    again.handshake()
    assert again.client.session_reused and again.server.session_reused
    assert again.client.client_identity.subject == pair.client.client_identity.subject


def test_client_only_arguments(ctx: CountingContext) -> None:
    bio = ssl.MemoryBIO
    with pytest.raises(NotImplementedError, match="server_side"):
        ctx.wrap_bio(bio(), bio(), server_side=True)

    with pytest.raises(ValueError, match="server_hostname"):  # as ssl: a ValueError
        ctx.wrap_bio(bio(), bio())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(noise=st.binary(min_size=1, max_size=300), split=st.integers(0, 300))
def test_fuzzed_server_bytes_end_in_ssl_errors(ctx: CountingContext, noise: bytes, split: int):
    """Whatever the 'server' sends, the object raises only ssl.SSLError kinds, never hangs."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    for chunk in (noise[:split], noise[split:], None):
        if chunk is None:
            incoming.write_eof()
        elif chunk:
            incoming.write(chunk)
        try:
            client.do_handshake()
        except ssl.SSLWantReadError:
            continue
        except ssl.SSLError as exc:
            assert isinstance(exc, TLSError)
            return
    raise AssertionError("EOF must end the handshake with an error")


def test_keylog_filename_matches_the_servers_own_key_log(
    ctx: CountingContext, server_ctx: ssl.SSLContext, tmp_path: Any
) -> None:
    """Our NSS key log lines are the very secrets OpenSSL logs on the server side."""
    ours, theirs = tmp_path / "client.keys", tmp_path / "server.keys"
    ctx.keylog_filename = str(ours)
    server_ctx.keylog_filename = str(theirs)
    assert ctx.keylog_filename == str(ours) and oct(ours.stat().st_mode)[-3:] == "600"
    pair = Pair(ctx, server_ctx)
    pair.handshake()
    lines = [line for line in ours.read_text().splitlines() if not line.startswith("#")]
    labels = [line.split()[0] for line in lines]
    assert labels == [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ]
    assert set(lines) <= set(theirs.read_text().splitlines())
    ctx.keylog_filename = None
    Pair(ctx, server_ctx).handshake()
    assert len(ours.read_text().splitlines()) == len(lines) + 1  # nothing more logged
    with pytest.raises(OSError):
        ctx.keylog_filename = str(tmp_path / "missing-dir" / "keys")


def test_post_handshake_auth_answered_through_the_object(
    ctx: CountingContext, server_pki: Any, root_ca: Any, tmp_path: Any, identity_a: Identity
) -> None:
    """An OpenSSL server asking only after the handshake (RFC 8446 4.6.2) gets identity A:
    a tlsengine.SSLContext advertises post_handshake_auth from the start."""
    from peers import write_cas

    server_ctx = server_context(server_pki, write_cas(tmp_path / "a.pem", root_ca))
    server_ctx.post_handshake_auth = True
    pair = Pair(ctx, server_ctx)
    pair.handshake()
    assert pair.server.getpeercert() is None  # nothing asked yet
    pair.server.verify_client_post_handshake()
    pair.server_says(b"who are you?")  # the CertificateRequest goes out ahead of it
    assert pair.client.read() == b"who are you?"  # ...and is answered while reading
    pair.pump()
    with pytest.raises(ssl.SSLWantReadError):
        pair.server.read()  # the server takes in our Certificate, CertificateVerify, Finished
    assert pair.server.getpeercert()["subject"] == ((("commonName", "drop-in client A"),),)
    assert pair.client.client_identity.subject == identity_a.subject


def test_selection_hook_and_trace_through_the_context(
    identities: list[Identity],
    identity_b: Identity,
    server_pki: Any,
    root_ca: Any,
    other_root_ca: Any,
    tmp_path: Any,
) -> None:
    """SSLContext's own arguments reach the handshake: the hook overrides load order."""
    from peers import write_cas

    import tlsengine

    seen: list[Any] = []

    def prefer_b(info: Any, verdicts: Any) -> Any:
        seen.append(info)
        return next(v.identity for v in verdicts if v.identity.alias == "client-b")

    ctx = tlsengine.SSLContext(identities=identities, select_identity=prefer_b, trace=True)
    ctx.load_verify_locations(cafile=server_pki.ca_file)
    both = write_cas(tmp_path / "ab.pem", root_ca, other_root_ca)
    pair = Pair(ctx, server_context(server_pki, both))
    pair.handshake()
    assert pair.client.client_identity.subject == identity_b.subject
    assert pair.server.getpeercert()["subject"] == ((("commonName", "drop-in client B"),),)
    assert seen and seen[0].version == "TLSv1.3"
    assert any(entry.get("type") == "CertificateRequest" for entry in pair.client.transcript)


def test_tls12_keylog_and_cipher_list_through_the_context(
    ctx: CountingContext, server_ctx: ssl.SSLContext, tmp_path: Any
) -> None:
    """TLS 1.2 by maximum_version and set_ciphers: the suite is the one left offered, and
    the key log's CLIENT_RANDOM line is OpenSSL's own."""
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305")
    ours, theirs = tmp_path / "client.keys", tmp_path / "server.keys"
    ctx.keylog_filename = str(ours)
    server_ctx.keylog_filename = str(theirs)
    pair = Pair(ctx, server_ctx)
    pair.handshake()
    assert pair.client.version() == pair.server.version() == "TLSv1.2"
    assert pair.client.cipher()[0] == "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
    assert pair.server.cipher()[0] == "ECDHE-ECDSA-CHACHA20-POLY1305"
    lines = [line for line in ours.read_text().splitlines() if not line.startswith("#")]
    assert [line.split()[0] for line in lines] == ["CLIENT_RANDOM"]
    assert set(lines) <= set(theirs.read_text().splitlines())
    pair.server_says(b"over TLS 1.2")
    assert pair.client.read() == b"over TLS 1.2"
