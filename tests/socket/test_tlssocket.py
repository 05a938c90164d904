"""TLSSocket and ClientContext against the stdlib ``ssl`` server on 127.0.0.1.

The stdlib server sends no CA names and no close_notify; it is OpenSSL underneath, so a
client certificate it accepts has passed OpenSSL's CertificateVerify check.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from echo_peer import Peer, mute, quitter, server_context, tls_echo, tls_lines

from tlsengine.cli.pki import CA, cert_pem, key_pem
from tlsengine.errors import (
    CertificateVerificationError,
    ClientCertificateRejected,
    HandshakeError,
    TLSError,
    TLSTimeout,
)
from tlsengine.identity.model import Identity
from tlsengine.socket import ClientContext, TLSSocket
from tlsengine.socket.context import normalize_hostname

KEY_TYPES = ("p256", "rsa2048", "p384", "ed25519")


class PKI:
    """Server certificate on disk, client identities per key type, a foreign identity."""

    def __init__(self, root: CA, other: CA, tmp: Path) -> None:
        self.root = root
        cert, key = root.issue(
            "localhost", client=False, server=True, dns=["localhost"], ips=["127.0.0.1"]
        )
        self.server_cert = cert
        self.cert = tmp / "server.pem"
        self.key = tmp / "server.key"
        self.ca = tmp / "ca.pem"
        self.cert.write_bytes(cert_pem(cert))
        self.key.write_bytes(key_pem(key))
        self.ca.write_bytes(cert_pem(root.certificate))
        self.identities = {
            spec: root.identity(f"client {spec}", spec, alias=f"client-{spec}")
            for spec in KEY_TYPES
        }
        self.foreign = other.identity("foreign client", "p256", alias="foreign")

    def context(self, **kw: object) -> ClientContext:
        kw.setdefault("cafile", self.ca)
        return ClientContext(**kw)  # type: ignore[arg-type]

    def server(self, mode: ssl.VerifyMode = ssl.CERT_NONE, **kw: object) -> ssl.SSLContext:
        ca = self.ca if mode != ssl.CERT_NONE else None
        return server_context(self.cert, self.key, verify_mode=mode, client_ca=ca, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pki(root_ca: CA, other_root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(root_ca, other_root_ca, tmp_path_factory.mktemp("socket-pki"))


def echo_once(tls: TLSSocket, payload: bytes = b"ping\n") -> bytes:
    tls.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = tls.recv(65536)
        assert chunk, "server closed early"
        got += chunk
    return got


# --------------------------------------------------------------------------- client auth


@pytest.mark.parametrize("spec", KEY_TYPES)
def test_cert_required_server_reports_our_subject(pki: PKI, spec: str) -> None:
    ident = pki.identities[spec]
    server = pki.server(ssl.CERT_REQUIRED)
    reads = server_reads(server)
    with Peer(tls_echo(server)) as peer:
        with pki.context(identities=[ident]).connect(peer.address, "localhost") as tls:
            assert echo_once(tls) == b"ping\n"
            assert tls.client_identity is ident
            assert tls.certificate_request is not None
            assert tls.selection is not None and tls.selection.identity is ident
        assert peer.last().subject == ident.subject
    assert reads.count("CERTIFICATE") == 1 and reads.count("CERTIFICATE_VERIFY") == 1


def test_cert_optional_with_and_without_identity(pki: PKI) -> None:
    ident = pki.identities["p256"]
    with Peer(tls_echo(pki.server(ssl.CERT_OPTIONAL))) as peer:
        with pki.context(identities=[ident]).connect(peer.address, "localhost") as tls:
            echo_once(tls)
        assert peer.last().subject == ident.subject
        with pki.context(identities=[]).connect(peer.address, "localhost") as tls:
            assert echo_once(tls) == b"ping\n"
            assert tls.certificate_request is not None
            assert tls.client_identity is None
        assert peer.last().subject is None
        assert peer.last().error is None


def server_reads(ctx: ssl.SSLContext) -> list[str]:
    """Handshake message names the stdlib server reads, via OpenSSL's message callback."""
    names: list[str] = []

    def on_message(conn, direction, version, ctype, mtype, data) -> None:  # type: ignore[no-untyped-def]
        if direction == "read" and getattr(ctype, "name", "") == "HANDSHAKE":
            names.append(getattr(mtype, "name", str(mtype)))

    ctx._msg_callback = on_message  # type: ignore[attr-defined]
    return names


def test_cert_none_server_gets_no_certificate_message(pki: PKI) -> None:
    ident = pki.identities["p256"]
    server = pki.server(ssl.CERT_NONE)
    reads = server_reads(server)
    with Peer(tls_echo(server)) as peer:
        ctx = pki.context(identities=[ident], trace=True)
        with ctx.connect(peer.address, "localhost") as tls:
            echo_once(tls)
            assert tls.certificate_request is None
            assert tls.client_identity is None
            sent = [e["type"] for e in tls.transcript if e.get("direction") == "out"]
            assert "ClientHello" in sent and "Finished" in sent
            assert "Certificate" not in sent and "CertificateVerify" not in sent
        assert peer.last().subject is None
    assert "CLIENT_HELLO" in reads and "FINISHED" in reads
    assert "CERTIFICATE" not in reads and "CERTIFICATE_VERIFY" not in reads


def test_cert_required_without_identity_is_rejected_with_reasons(pki: PKI) -> None:
    with Peer(tls_echo(pki.server(ssl.CERT_REQUIRED))) as peer:
        tls = pki.context(identities=[]).connect(peer.address, "localhost")
        with tls, pytest.raises(ClientCertificateRejected) as info:
            echo_once(tls)
        assert info.value.alert == "certificate_required"
        assert tls.certificate_request is not None


def test_foreign_identity_is_sent_then_rejected_as_unknown_ca(pki: PKI) -> None:
    # Python's ssl server sends no CA names, so the only identity is offered; OpenSSL refuses.
    with Peer(tls_echo(pki.server(ssl.CERT_REQUIRED))) as peer:
        tls = pki.context(identities=[pki.foreign]).connect(peer.address, "localhost")
        with tls, pytest.raises(ClientCertificateRejected) as info:
            echo_once(tls)
        assert info.value.alert == "unknown_ca"
        assert info.value.selection is tls.selection
        assert tls.client_identity is pki.foreign
        assert peer.last().subject is None


def test_identity_store_is_snapshotted_per_handshake(pki: PKI) -> None:
    from tlsengine.identity.store import IdentityStore

    store = IdentityStore([pki.identities["p256"]])
    ctx = pki.context(identities=store)
    with Peer(tls_echo(pki.server(ssl.CERT_REQUIRED))) as peer:
        with ctx.connect(peer.address, "localhost") as tls:
            echo_once(tls)
            assert tls.client_identity is pki.identities["p256"]
        store.clear()
        store.add(pki.identities["ed25519"])
        with ctx.connect(peer.address, "localhost") as tls:
            echo_once(tls)
            assert tls.client_identity is pki.identities["ed25519"]
        assert peer.last().subject == pki.identities["ed25519"].subject


def test_default_store_is_used_when_identities_is_none(pki: PKI) -> None:
    from tlsengine.identity.store import default_store

    store = default_store()
    store.add(pki.identities["p384"])
    try:
        with Peer(tls_echo(pki.server(ssl.CERT_REQUIRED))) as peer:
            with pki.context().connect(peer.address, "localhost") as tls:
                echo_once(tls)
            assert peer.last().subject == pki.identities["p384"].subject
    finally:
        store.clear()


def test_select_identity_hook_can_override_and_decline(pki: PKI) -> None:
    offered = [pki.identities["p256"], pki.identities["p384"]]
    calls: list[object] = []

    def prefer_p384(info: object, verdicts: list) -> Identity:
        calls.append((info, verdicts))
        return pki.identities["p384"]

    with Peer(tls_echo(pki.server(ssl.CERT_OPTIONAL))) as peer:
        ctx = pki.context(identities=offered, select_identity=prefer_p384)
        with ctx.connect(peer.address, "localhost") as tls:
            echo_once(tls)
            assert tls.client_identity is pki.identities["p384"]
        info, verdicts = calls[0]
        assert len(verdicts) == 2 and info.version == "TLSv1.3"
        assert peer.last().subject == pki.identities["p384"].subject
        ctx = pki.context(identities=offered, select_identity=lambda info, sel: None)
        with ctx.connect(peer.address, "localhost") as tls:
            echo_once(tls)
            assert tls.client_identity is None
        assert peer.last().subject is None


# --------------------------------------------------------------------------- server verification


def test_server_hostname_mismatch_fails_the_handshake(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        with pytest.raises(CertificateVerificationError) as info:
            pki.context(identities=[]).connect(peer.address, "other.example")
        assert info.value.rule == "hostname-mismatch"
        assert "SSLError" in (peer.last().error or "")  # we sent a fatal alert


def test_unknown_server_ca_fails_and_verify_false_connects(pki: PKI, other_root_ca: CA) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        with pytest.raises(CertificateVerificationError) as info:
            ClientContext(identities=[], cadata=cert_pem(other_root_ca.certificate)).connect(
                peer.address, "localhost"
            )
        assert info.value.rule == "unknown-issuer"
        insecure = ClientContext(
            identities=[], verify=False, cadata=cert_pem(other_root_ca.certificate)
        )
        with insecure.connect(peer.address) as tls:
            assert echo_once(tls) == b"ping\n"
            assert tls.getpeercert() == {}
            der = pki.server_cert.public_bytes(Encoding.DER)
            assert tls.getpeercert(binary_form=True) == der


def test_only_a_verified_chain_is_reported(pki: PKI, other_root_ca: CA) -> None:
    """getpeercert/get_verified_chain never report a rejected or unchecked chain."""
    der = pki.server_cert.public_bytes(Encoding.DER)
    with Peer(tls_echo(pki.server())) as peer:
        with pki.context(identities=[]).connect(peer.address, "localhost") as tls:
            assert tls.get_verified_chain()[0] == der
            assert tls.getpeercert()["subject"] == ((("commonName", "localhost"),),)
        bad = ClientContext(identities=[], cadata=cert_pem(other_root_ca.certificate))
        with socket.create_connection(peer.address, timeout=5) as raw:
            tls = bad.wrap_socket(raw, "localhost", do_handshake_on_connect=False)
            with pytest.raises(CertificateVerificationError):
                tls.do_handshake()
            with pytest.raises(TLSError, match="get_unverified_chain"):
                tls.getpeercert()
            assert tls.get_verified_chain() == []
            assert tls.get_unverified_chain()[0] == der
        insecure = ClientContext(identities=[], verify=False)
        with insecure.connect(peer.address) as tls:
            assert echo_once(tls) == b"ping\n"
            assert tls.get_verified_chain() == []
            assert tls.get_unverified_chain()[0] == der


def test_bytes_and_idna_server_hostnames(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        with pki.context(identities=[]).connect(peer.address, b"localhost") as tls:
            assert tls.server_hostname == "localhost"
            assert echo_once(tls) == b"ping\n"
    assert normalize_hostname("b\u00fccher.example") == "xn--bcher-kva.example"
    assert normalize_hostname(bytearray(b"xn--bcher-kva.example")) == "xn--bcher-kva.example"
    for bad in (b"b\xfccher", 5, "a..\u00fc"):
        with pytest.raises(TLSError):
            normalize_hostname(bad)


def test_context_accepts_bytes_alpn_and_identity_iterables(pki: PKI) -> None:
    identity = pki.identities["p256"]
    assert ClientContext(alpn_protocols=[b"h2", "http/1.1"]).alpn_protocols == ("h2", "http/1.1")
    assert ClientContext(identities=iter([identity])).identities == (identity,)
    assert ClientContext(identities=identity).identities == (identity,)


def test_check_hostname_without_server_hostname_is_a_clear_error(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer, socket.create_connection(peer.address) as raw:
        with pytest.raises(CertificateVerificationError, match="server_hostname"):
            pki.context(identities=[]).wrap_socket(raw)
        ctx = pki.context(identities=[], check_hostname=False)
        with ctx.wrap_socket(raw) as tls:
            assert echo_once(tls) == b"ping\n"


def test_ip_address_server_name_matches_ip_san(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        with pki.context(identities=[]).connect(peer.address) as tls:  # "127.0.0.1"
            assert echo_once(tls) == b"ping\n"


# --------------------------------------------------------------------------- ssl-like surface


def test_getpeercert_matches_the_stdlib_dict(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        std = ssl.create_default_context(cafile=str(pki.ca))
        with std.wrap_socket(
            socket.create_connection(peer.address), server_hostname="localhost"
        ) as s:
            expected = s.getpeercert()
        with pki.context(identities=[]).connect(peer.address, "localhost") as tls:
            assert tls.getpeercert() == expected
            der = tls.getpeercert(binary_form=True)
            assert x509.load_der_x509_certificate(der) == pki.server_cert


def test_version_cipher_alpn(pki: PKI) -> None:
    with Peer(tls_echo(pki.server(alpn=["h2", "http/1.1"]))) as peer:
        ctx = pki.context(identities=[], alpn_protocols=["http/1.1"])
        tls = ctx.wrap_socket(
            socket.create_connection(peer.address),
            server_hostname="localhost",
            do_handshake_on_connect=False,
        )
        with tls:
            assert tls.version() is None and tls.cipher() is None
            tls.do_handshake()
            assert tls.version() == "TLSv1.3"
            name, version, bits = tls.cipher()
            assert name.startswith("TLS_") and version == "TLSv1.3" and bits in (128, 256)
            assert tls.selected_alpn_protocol() == "http/1.1"
            assert tls.fileno() >= 0 and tls.getpeername()[1] == peer.port


def test_makefile_readline_text_and_binary(pki: PKI) -> None:
    lines = [b"first line\n", b"second line\n", b"x" * 70000 + b"\n", b"last\n"]
    with Peer(tls_lines(pki.server(), lines)) as peer:
        with pki.context(identities=[]).connect(peer.address, "localhost") as tls:
            reader = tls.makefile("rb")
            assert reader.readline() == lines[0]
            assert reader.readline() == lines[1]
            assert reader.readline() == lines[2]
            text = tls.makefile("r", encoding="utf-8")
            writer = tls.makefile("w", encoding="utf-8")
            assert reader.readline() == lines[3]
            writer.write("answer ✓\n")
            writer.flush()
            writer.close()
            assert reader.read() == b""  # the stdlib server closes without close_notify
            assert text.read() == ""
            reader.close()
            text.close()
        assert peer.last().received == "answer ✓\n".encode()


def test_close_waits_for_makefile_and_sends_close_notify(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        tls = pki.context(identities=[]).connect(peer.address, "localhost")
        f = tls.makefile("rwb")
        tls.close()
        f.write(b"still open\n")
        f.flush()
        assert f.readline() == b"still open\n"
        f.close()
        seen = peer.last()
        assert seen.eof_clean is True and seen.error is None


def test_context_manager_closes_and_recv_after_server_close(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        with pki.context(identities=[]).connect(peer.address, "localhost") as tls:
            tls.sendall(b"QUIT\n")
            assert tls.recv(10) == b""  # no close_notify from the stdlib: ragged EOF tolerated
            assert tls.recv(10) == b""
        assert tls.closed
        with pytest.raises(TLSError):
            tls.do_handshake()


def test_ragged_eof_can_be_an_error(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer, socket.create_connection(peer.address) as raw:
        ctx = pki.context(identities=[])
        tls = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
        tls.sendall(b"QUIT\n")
        with pytest.raises(TLSError, match="close_notify"):
            tls.recv(10)


def test_bulk_echo_with_recv_into(pki: PKI) -> None:
    payload = bytes(range(256)) * 4096 * 4  # 4 MiB
    with Peer(tls_echo(pki.server())) as peer:
        with pki.context(identities=[]).connect(peer.address, "localhost") as tls:
            digest = hashlib.sha256()
            buf = bytearray(100_000)
            got = 0
            tls.sendall(payload[: 2 * 1024 * 1024])
            tls.send(memoryview(payload)[2 * 1024 * 1024 :])
            while got < len(payload):
                n = tls.recv_into(buf)
                assert n > 0
                digest.update(buf[:n])
                got += n
            assert got == len(payload)
            assert digest.digest() == hashlib.sha256(payload).digest()
            assert tls.pending() == 0


# --------------------------------------------------------------------------- failures


def test_mute_server_times_out_within_the_timeout(pki: PKI) -> None:
    with Peer(mute) as peer:
        start = time.monotonic()
        with pytest.raises(TLSTimeout) as info:
            pki.context(identities=[]).connect(peer.address, "localhost", timeout=0.4)
        elapsed = time.monotonic() - start
        assert 0.3 < elapsed < 1.5
        assert "WAIT_SH" in str(info.value)
        assert isinstance(info.value, TimeoutError)


def test_recv_timeout_then_socket_still_works(pki: PKI) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        with pki.context(identities=[]).connect(peer.address, "localhost", timeout=5) as tls:
            tls.settimeout(0.2)
            assert tls.gettimeout() == 0.2
            with pytest.raises(TLSTimeout):
                tls.recv(10)
            tls.settimeout(5)
            assert echo_once(tls) == b"ping\n"


def test_server_closing_mid_handshake_is_a_handshake_error(pki: PKI) -> None:
    with Peer(quitter) as peer:
        with pytest.raises(HandshakeError, match="closed the connection during the handshake"):
            pki.context(identities=[]).connect(peer.address, "localhost", timeout=5)
        assert peer.last().received.startswith(b"\x16\x03")  # it did get our ClientHello


@pytest.mark.parametrize(
    "kwargs",
    [
        {"minimum_version": "TLSv1.1"},
        {"minimum_version": "TLSv1.3", "maximum_version": "TLSv1.2"},
        {"renegotiation": "sometimes"},
        {"verify_profile": "loose"},
        {"alpn_protocols": "h2"},
        {"alpn_protocols": ["é"]},
        {"identities": ["not an identity"]},
        {"identities": 42},
        {"cafile": "/nonexistent.pem"},
        {"select_identity": "yes"},
        {"cipher_suites": ["TLS_RSA_WITH_AES_128_CBC_SHA"]},
        {"groups": []},
        {"groups": ["x448"]},
        {"groups": [[]]},
        {"cipher_suites": 5},
        {"alpn_protocols": 5},
        {"alpn_protocols": [3]},
        {"alpn_protocols": [b""]},
        {"alpn_protocols": [b"\xff"]},
        {"identities": "client.p12"},
        {"identities": {"alias": "x"}},
        {"identities": [None]},
        {"cafile": 5},
    ],
)
def test_bad_context_settings_raise_documented_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(TLSError):
        ClientContext(**kwargs)  # type: ignore[arg-type]


def test_rejection_alert_surfaces_even_when_we_write_first(pki: PKI) -> None:
    with Peer(tls_echo(pki.server(ssl.CERT_REQUIRED))) as peer:
        tls = pki.context(identities=[]).connect(peer.address, "localhost")
        peer.last()  # the server has judged us, alerted and closed
        with tls, pytest.raises((ClientCertificateRejected, OSError)) as info:
            for _ in range(50):
                tls.sendall(b"x" * 65536)
        assert isinstance(info.value, ClientCertificateRejected), repr(info.value)


def test_post_handshake_auth_is_answered_through_the_socket(pki: PKI) -> None:
    ctx = pki.server(ssl.CERT_REQUIRED)
    ctx.post_handshake_auth = True  # OpenSSL then asks only after the handshake

    def handler(sock: socket.socket, seen) -> None:  # type: ignore[no-untyped-def]
        with ctx.wrap_socket(sock, server_side=True) as tls:
            assert tls.recv(100) == b"go\n"
            tls.verify_client_post_handshake()
            tls.sendall(b"asked\n")  # carries the CertificateRequest
            seen.received = tls.recv(100)  # processes our Certificate/CV/Finished first
            der = tls.getpeercert(binary_form=True)
            seen.subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
            tls.sendall(b"thanks\n")

    ident = pki.identities["p256"]
    with Peer(handler) as peer:
        with pki.context(identities=[ident], trace=True).connect(peer.address, "localhost") as tls:
            assert tls.certificate_request is None
            tls.sendall(b"go\n")
            assert tls.recv(100) == b"asked\n"
            tls.sendall(b"after\n")
            assert tls.recv(100) == b"thanks\n"
            assert tls.certificate_request is not None
            assert tls.certificate_request.post_handshake is True
            assert tls.client_identity is ident
        seen = peer.last()
        assert seen.error is None, seen.error
        assert seen.received == b"after\n" and seen.subject == ident.subject


def test_store_pins_reach_selection_and_trace_holds_no_key(pki: PKI) -> None:
    from tlsengine.identity.store import IdentityStore

    p256, p384 = pki.identities["p256"], pki.identities["p384"]
    store = IdentityStore([p256, p384])
    store.pin("localhost", p384)
    with Peer(tls_echo(pki.server(ssl.CERT_REQUIRED))) as peer:
        ctx = pki.context(identities=store, trace=True)
        with ctx.connect(peer.address, "localhost") as tls:
            echo_once(tls)
            assert tls.client_identity is p384
            trace = repr(tls.transcript)
        assert peer.last().subject == p384.subject
    assert any(e.get("type") == "Selection" for e in tls.transcript)
    for ident in (p256, p384):
        secret = ident.private_key.private_numbers().private_value  # type: ignore[union-attr]
        assert str(secret) not in trace and f"{secret:x}" not in trace


@pytest.mark.parametrize(
    "suite", ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
)
def test_every_tls13_suite(pki: PKI, suite: str) -> None:
    with Peer(tls_echo(pki.server(ssl.CERT_REQUIRED))) as peer:
        ctx = pki.context(identities=[pki.identities["p256"]], cipher_suites=[suite])
        with ctx.connect(peer.address, "localhost") as tls:
            assert echo_once(tls, b"z" * 40000) == b"z" * 40000
            assert tls.cipher()[0] == suite


@pytest.mark.parametrize(
    ("groups", "expected", "retry"),
    [
        (["x25519"], "x25519", False),
        (["secp256r1"], "secp256r1", False),
        (["secp384r1"], "secp384r1", False),
        # OpenSSL 3.0 lacks ML-KEM: it answers with a HelloRetryRequest for the next group.
        (["X25519MLKEM768", "secp384r1"], "secp384r1", True),
    ],
)
def test_groups_and_hello_retry(pki: PKI, groups: list[str], expected: str, retry: bool) -> None:
    with Peer(tls_echo(pki.server())) as peer:
        ctx = pki.context(identities=[], groups=groups, trace=True)
        with ctx.connect(peer.address, "localhost") as tls:
            echo_once(tls)
            hellos = [e for e in tls.transcript if e["type"] == "ServerHello"]
            assert hellos[-1]["group"] == expected
            assert any(e["type"] == "HelloRetryRequest" for e in tls.transcript) is retry
