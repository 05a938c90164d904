"""tlsengine against a real Java JSSE (SunJSSE) TLS 1.3 server, ``tests/java/JsseServer.java``.

The server is compiled once per session with ``javac`` and started once per client-auth
mode per module (a JVM starts in ~0.2-0.5 s). Its keystore is written by our own
``build_pkcs12`` (so Java reads what we write) and its truststore by ``cryptography``'s
``serialize_java_truststore``; Java names the truststore's CAs in the TLS 1.3
``certificate_authorities`` extension of its CertificateRequest.

What JDK 17 does, as these tests pin down: an empty Certificate under need-auth draws
``bad_certificate`` ("Empty client certificate chain"), not ``certificate_required``; a
certificate it cannot validate (unknown CA, expired, wrong EKU) draws
``certificate_unknown``; under want-auth an empty Certificate is accepted. Every one of
them arrives after our Finished and must surface as ``ClientCertificateRejected``.

The server logs one line per connection on stderr, tagged with the client's address, so
each test reads the server's own verdict on its own connection.
"""

from __future__ import annotations

import datetime
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from peers import HOST, ProcessPeer, ServerPKI

from tlsengine import ClientCertificateRejected
from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

from .client import (
    TIMEOUT,
    assert_no_client_auth,
    assert_sent,
    assert_sent_empty,
    context,
    expect_rejection,
    read_all,
    verdicts,
)
from .conftest import KEY_TYPES

pytest.importorskip("tlsengine.socket.context")
pytestmark = pytest.mark.interop

SOURCE = Path(__file__).resolve().parent.parent / "java" / "JsseServer.java"
STORE_PASSWORD = "changeit"
REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
#: JVM flags for a short-lived test server: fast start, small heap, one GC thread.
JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx64m")
# what a CertificateVerify from each key type may use in TLS 1.3 (never rsa_pkcs1_*)
SCHEMES = {
    "rsa2048": {"rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512"},
    "p256": {"ecdsa_secp256r1_sha256"},
    "p384": {"ecdsa_secp384r1_sha384"},
    "ed25519": {"ed25519"},
}


class JsseServer(ProcessPeer):
    """``java JsseServer``: binds port 0 and prints ``LISTENING <port>``."""

    tool = "javac"  # the JDK; ``java`` is taken from the same installation
    name = "jsse"

    def __init__(
        self, workdir: Path, classes: Path, keystore: Path, truststore: Path, client_auth: str
    ) -> None:
        super().__init__(workdir)
        self.classes = classes
        self.keystore = keystore
        self.truststore = truststore
        self.client_auth = client_auth

    def argv(self, port: int) -> list[str]:
        java = str(Path(os.path.realpath(self.executable)).with_name("java"))
        return [
            java,
            *JVM_FLAGS,
            "-cp",
            str(self.classes),
            "JsseServer",
            str(port),
            str(self.keystore),
            STORE_PASSWORD,
            str(self.truststore),
            STORE_PASSWORD,
            self.client_auth,
        ]

    def requested_port(self) -> int:
        return 0

    def bound_port(self, requested: int) -> int | None:
        m = re.search(r"^LISTENING (\d+)$", self.stdout, re.M)
        return int(m.group(1)) if m else None

    def verdict(self, client_port: int) -> str:
        """The server's stderr line for the connection from ``client_port`` (waits for it)."""
        m = self.wait_for_output(rf"(?m)^(\w+) {re.escape(HOST)}:{client_port}\b ?(.*)$")
        return f"{m.group(1)} {m.group(2)}".strip()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def jsse_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JsseServer.class, compiled once per session."""
    javac = require_tool("javac")
    out = tmp_path_factory.mktemp("jsse-classes")
    subprocess.run(
        [javac, "-d", str(out), str(SOURCE)], check=True, capture_output=True, timeout=60
    )
    return out


@pytest.fixture(scope="module")
def java_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jsse")


@pytest.fixture(scope="module")
def java_keystore(server_pki: ServerPKI, java_dir: Path) -> Path:
    """The server's own PKCS#12, written by our encoder (PBES2/AES-256, HMAC-SHA256 MAC)."""
    server = Identity.create(
        server_pki.certificate, server_pki.key, chain=(server_pki.ca.certificate,), alias="server"
    )
    path = java_dir / "server.p12"
    path.write_bytes(build_pkcs12([server], STORE_PASSWORD))
    return path


def truststore(path: Path, *cas: CA) -> Path:
    """A Java PKCS#12 truststore (trusted-certificate entries) holding ``cas``."""
    entries = [
        pkcs12.PKCS12Certificate(ca.certificate, f"ca-{i}".encode()) for i, ca in enumerate(cas)
    ]
    path.write_bytes(
        pkcs12.serialize_java_truststore(entries, BestAvailableEncryption(STORE_PASSWORD.encode()))
    )
    return path


def start_java(
    java_dir: Path, classes: Path, keystore: Path, trusted: CA, client_auth: str
) -> Iterator[JsseServer]:
    work = java_dir / client_auth
    work.mkdir(exist_ok=True)
    trust = truststore(work / "trust.p12", trusted)
    srv = JsseServer(work, classes, keystore, trust, client_auth)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def java_need(
    java_dir: Path, jsse_classes: Path, java_keystore: Path, root_ca: CA
) -> Iterator[JsseServer]:
    """needClientAuth, trusting root A only."""
    yield from start_java(java_dir, jsse_classes, java_keystore, root_ca, "need")


@pytest.fixture(scope="module")
def java_want(
    java_dir: Path, jsse_classes: Path, java_keystore: Path, other_root_ca: CA
) -> Iterator[JsseServer]:
    """wantClientAuth, trusting root B only."""
    yield from start_java(java_dir, jsse_classes, java_keystore, other_root_ca, "want")


@pytest.fixture(scope="module")
def java_none(
    java_dir: Path, jsse_classes: Path, java_keystore: Path, root_ca: CA
) -> Iterator[JsseServer]:
    """No client authentication at all."""
    yield from start_java(java_dir, jsse_classes, java_keystore, root_ca, "none")


# --------------------------------------------------------------------------- helpers


def connect(ctx: Any, srv: JsseServer) -> tuple[Any, int]:
    """A TLS socket not yet handshaken, and the local port the server will log it under."""
    raw = socket.create_connection(srv.address, timeout=TIMEOUT)
    port = raw.getsockname()[1]
    return ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False), port


def fetch(ctx: Any, srv: JsseServer) -> tuple[Any, bytes, str]:
    """One request: the socket, the HTTP response, and the server's line for it."""
    tls, port = connect(ctx, srv)
    with tls:
        tls.do_handshake()
        tls.sendall(REQUEST)
        response = read_all(tls)
    return tls, response, srv.verdict(port)


def fetch_rejected(ctx: Any, srv: JsseServer) -> tuple[Any, ClientCertificateRejected, str]:
    """A handshake Java refuses: the socket, the error raised, and the server's line.

    Nothing is written: Java's verdict comes as an alert after our Finished, and the first
    read meets it (see ``client.fetch_rejected``).
    """
    tls, port = connect(ctx, srv)
    return tls, expect_rejection(tls), srv.verdict(port)


def body_of(response: bytes) -> str:
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), response
    return body.decode()


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("server", ["need", "want"])
def test_identity_chosen_by_ca_names_and_accepted(
    request: pytest.FixtureRequest,
    server_pki: ServerPKI,
    root_ca: CA,
    other_root_ca: CA,
    identity_a: Identity,
    identity_b: Identity,
    identity_stranger: Identity,
    server: str,
):
    """Need-server trusts root A, want-server root B; the right one is loaded last."""
    srv = request.getfixturevalue(f"java_{server}")
    trusted, want, other = (
        (root_ca, identity_a, identity_b)
        if server == "need"
        else (other_root_ca, identity_b, identity_a)
    )
    ctx = context(server_pki, [identity_stranger, other, want])
    tls, response, line = fetch(ctx, srv)
    assert_sent(tls, want)
    assert list(tls.certificate_request.certificate_authorities) == [trusted.name]
    v = verdicts(tls.selection)
    assert v[want.alias][0] == "chosen"
    assert v[other.alias][0] == v["client-stranger"][0] == "ca-mismatch"
    assert body_of(response) == f"subject={want.subject}\n"
    assert line == f"CLIENT {want.subject}"


def test_certificate_request_as_java_sends_it(
    java_need: JsseServer, server_pki: ServerPKI, root_ca: CA, identity_a: Identity
):
    """JDK 17: the truststore's CA names, signature_algorithms and _cert (same lists,
    including the SHA-1 and PKCS#1 schemes valid only for certificates in TLS 1.3)."""
    tls, _response, _line = fetch(context(server_pki, [identity_a]), java_need)
    info = tls.certificate_request
    assert info.version == "TLSv1.3"
    assert info.context == b"" and not info.post_handshake
    names = list(info.certificate_authorities)
    assert names == [root_ca.name] and all(isinstance(n, x509.Name) for n in names)
    schemes = list(info.signature_schemes)
    assert {"ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "ed25519", "ed448"} <= set(schemes)
    assert schemes[0] == "ecdsa_secp256r1_sha256"
    assert "rsa_pkcs1_sha256" in schemes  # offered, yet no TLS 1.3 CertificateVerify may use it
    assert info.signature_schemes_cert is not None
    assert set(info.signature_schemes_cert) >= {"ecdsa_secp256r1_sha256", "rsa_pkcs1_sha256"}
    assert tls.selection.scheme == "ecdsa_secp256r1_sha256"


def test_wrong_ca_sends_empty_certificate_and_is_rejected(
    java_need: JsseServer,
    server_pki: ServerPKI,
    identity_b: Identity,
    identity_stranger: Identity,
):
    """Java's answer to an empty Certificate under needClientAuth is bad_certificate."""
    ctx = context(server_pki, [identity_b, identity_stranger])
    tls, error, line = fetch_rejected(ctx, java_need)
    assert_sent_empty(tls)
    assert error.alert == "bad_certificate"
    assert error.selection is not None and error.selection.identity is None
    assert tls.selection is error.selection
    v = verdicts(error.selection)
    assert v["client-b"][0] == v["client-stranger"][0] == "ca-mismatch"
    assert v["client-stranger"][2] in str(error)  # the user reads why nothing fitted
    assert line == "FAIL javax.net.ssl.SSLHandshakeException: Empty client certificate chain"
    alerts = [e for e in tls.transcript if e["type"] == "Alert" and e.get("direction") == "in"]
    assert [a.get("description") for a in alerts] == ["bad_certificate"]


def test_untrusted_certificate_is_rejected_with_certificate_unknown(
    java_need: JsseServer, server_pki: ServerPKI, identity_stranger: Identity
):
    """A callback overrides the CA names; Java's trust manager refuses the chain."""
    ctx = context(
        server_pki, [identity_stranger], select_identity=lambda info, v: identity_stranger
    )
    tls, error, line = fetch_rejected(ctx, java_need)
    assert_sent(tls, identity_stranger)
    assert error.alert == "certificate_unknown"
    assert error.selection is not None and error.selection.identity is identity_stranger
    assert line.startswith("FAIL javax.net.ssl.SSLHandshakeException: PKIX path building failed")


def test_expired_identity_is_sent_when_nothing_better_and_rejected(
    java_need: JsseServer, server_pki: ServerPKI, root_ca: CA
):
    """Expiry demotes but does not exclude; Java refuses it with certificate_unknown."""
    now = datetime.datetime.now(datetime.UTC)
    expired = root_ca.identity(
        "client expired",
        "p256",
        alias="client-expired",
        not_before=now - datetime.timedelta(days=10),
        not_after=now - datetime.timedelta(days=1),
    )
    tls, error, line = fetch_rejected(context(server_pki, [expired]), java_need)
    assert_sent(tls, expired)
    assert error.alert == "certificate_unknown"
    verdict, notes, _reason = verdicts(error.selection)["client-expired"]
    assert verdict == "chosen" and "expired" in notes
    assert line.startswith("FAIL javax.net.ssl.SSLHandshakeException: PKIX path validation failed")
    assert "validity check failed" in line


def test_want_auth_without_fitting_identity_connects(
    java_want: JsseServer,
    server_pki: ServerPKI,
    identity_a: Identity,
    identity_stranger: Identity,
):
    """wantClientAuth trusting root B: nothing fits, an empty Certificate, no alert."""
    tls, response, line = fetch(context(server_pki, [identity_a, identity_stranger]), java_want)
    assert_sent_empty(tls)
    assert verdicts(tls.selection)["client-a"][0] == "ca-mismatch"
    assert body_of(response) == "no client certificate\n"
    assert line == "NO_CLIENT_CERT"


def test_no_client_auth_server_gets_no_certificate(
    java_none: JsseServer, server_pki: ServerPKI, identity_a: Identity
):
    tls, response, line = fetch(context(server_pki, [identity_a]), java_none)
    assert_no_client_auth(tls)
    assert body_of(response) == "no client certificate\n"
    assert line == "NO_CLIENT_CERT"


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_key_types(
    java_need: JsseServer,
    server_pki: ServerPKI,
    identities_by_key: dict[str, Identity],
    key_type: str,
):
    """JSSE in JDK 17 verifies our CertificateVerify for each key type, Ed25519 included."""
    identity = identities_by_key[key_type]
    tls, response, line = fetch(context(server_pki, [identity]), java_need)
    assert_sent(tls, identity)
    assert tls.selection.scheme in SCHEMES[key_type]
    assert body_of(response) == f"subject={identity.subject}\n"
    assert line == f"CLIENT {identity.subject}"
