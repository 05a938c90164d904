"""The harness checked with a client we trust (the stdlib ``ssl`` module, and tlslite-ng's).

If these fail, the interop results say nothing about tlsengine: the peer itself is
misconfigured. Each peer must accept the right identity and report its subject, and
reject an identity from a CA it does not trust.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from peers import HOST, Peers, ServerPKI, subject_of, write_identity
from tlslite import HandshakeSettings, TLSConnection, X509CertChain

from tlsengine.identity.model import Identity
from tlsengine.testing import CA, TestServer, cert_pem

pytestmark = pytest.mark.interop

GET = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"


def s_client(openssl: str, port: int, *flags: str) -> str:
    """What ``openssl s_client`` prints for one handshake with the local peer (no input)."""
    return subprocess.run(
        [openssl, "s_client", "-connect", f"{HOST}:{port}", *flags],
        input=b"",
        capture_output=True,
        timeout=10,
    ).stdout.decode()


def acceptable_ca_names(s_client_out: str) -> list[str]:
    """The lines after s_client's "Acceptable client certificate CA names" heading."""
    return s_client_out.split("Acceptable client certificate CA names\n", 1)[1].splitlines()


def stdlib_get(
    port: int, pki: ServerPKI, tmp_path: Path, identity: Identity | None = None
) -> bytes:
    """One HTTP/1.0 GET through the stdlib client; returns everything the server sent."""
    ctx = ssl.create_default_context(cafile=str(pki.ca_file))
    if identity is not None:
        chain, key = write_identity(identity, tmp_path / "client")
        ctx.load_cert_chain(chain, key)
    with socket.create_connection((HOST, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(GET)
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    return data


def test_python_ssl_server_reports_subject(peers: Peers, identity_a: Identity, tmp_path: Path):
    srv = peers.python_ssl(verify_mode=ssl.CERT_REQUIRED)
    body = stdlib_get(srv.port, peers.pki, tmp_path, identity_a)
    assert f"subject={subject_of(identity_a)}".encode() in body
    record = srv.next_record()
    assert record.subject == subject_of(identity_a)
    assert "CERTIFICATE" in record.handshake_messages
    assert "CERTIFICATE_VERIFY" in record.handshake_messages


def test_python_ssl_server_rejects_stranger(
    peers: Peers, identity_stranger: Identity, tmp_path: Path
):
    srv = peers.python_ssl(verify_mode=ssl.CERT_REQUIRED)
    with pytest.raises((ssl.SSLError, OSError)):
        stdlib_get(srv.port, peers.pki, tmp_path, identity_stranger)
    record = srv.next_record()
    assert record.subject is None
    assert record.error and "certificate verify failed" in record.error


def test_python_ssl_server_without_client_auth_sees_no_certificate(
    peers: Peers, identity_a: Identity, tmp_path: Path
):
    srv = peers.python_ssl(verify_mode=ssl.CERT_NONE)
    body = stdlib_get(srv.port, peers.pki, tmp_path, identity_a)
    assert b"subject=\n" in body
    record = srv.next_record()
    assert record.error is None
    assert "CLIENT_HELLO" in record.handshake_messages
    assert "CERTIFICATE" not in record.handshake_messages


def test_openssl_s_server_reports_subject_and_rejects_stranger(
    peers: Peers, root_ca: CA, other_root_ca: CA, identity_b: Identity, identity_stranger, tmp_path
):
    srv = peers.openssl(client_cas=peers.cas(root_ca, other_root_ca))
    page = stdlib_get(srv.port, peers.pki, tmp_path, identity_b)
    assert b"Client certificate" in page
    assert b"Subject: CN = client B" in page or b"Subject: CN=client B" in page
    assert "Certificate" in srv.received_handshake()
    with pytest.raises((ssl.SSLError, OSError)):
        stdlib_get(srv.port, peers.pki, tmp_path, identity_stranger)
    srv.wait_for_output(r"verify error|unable to get local issuer|certificate verify failed")


def test_openssl_s_server_no_client_auth_receives_no_certificate(
    peers: Peers, identity_a: Identity, tmp_path: Path
):
    srv = peers.openssl(verify="none")
    page = stdlib_get(srv.port, peers.pki, tmp_path, identity_a)
    assert b"no client certificate available" in page
    received = srv.received_handshake()
    assert "ClientHello" in received and "Finished" in received
    assert "Certificate" not in received


def test_gnutls_serv_reports_subject_and_rejects_stranger(
    peers: Peers, identity_a: Identity, identity_stranger: Identity, tmp_path: Path
):
    srv = peers.gnutls()
    page = stdlib_get(srv.port, peers.pki, tmp_path, identity_a)
    assert b"Subject: CN=client A" in page
    with pytest.raises((ssl.SSLError, OSError)):
        stdlib_get(srv.port, peers.pki, tmp_path, identity_stranger)


@pytest.mark.parametrize("verify_client", ["on", "optional"])
def test_nginx_reports_subject(
    peers: Peers,
    identity_a: Identity,
    identity_stranger: Identity,
    tmp_path: Path,
    verify_client: str,
):
    srv = peers.nginx(verify_client=verify_client)
    body = stdlib_get(srv.port, peers.pki, tmp_path, identity_a)
    assert body.startswith(b"HTTP/1.1 200")
    assert f"subject={subject_of(identity_a)}\nverify=SUCCESS".encode() in body
    rejected = stdlib_get(srv.port, peers.pki, tmp_path, identity_stranger)
    assert rejected.startswith(b"HTTP/1.1 400")
    anonymous = stdlib_get(srv.port, peers.pki, tmp_path)
    if verify_client == "on":
        assert anonymous.startswith(b"HTTP/1.1 400")
    else:
        assert b"subject=\nverify=NONE" in anonymous


def test_tlslite_server_sends_ca_names_and_records_client(
    peers: Peers, root_ca: CA, other_root_ca: CA, identity_a: Identity, tmp_path: Path
):
    srv = peers.tlslite(
        require_client_cert=True,
        trusted=[root_ca.certificate],
        ca_names=[root_ca.name, other_root_ca.name],
        signature_schemes=["ecdsa_secp256r1_sha256", 0xFE00, "rsa_pss_rsae_sha256"],
        signature_schemes_cert=["ecdsa_secp256r1_sha256"],
    )
    body = stdlib_get(srv.port, peers.pki, tmp_path, identity_a)
    assert subject_of(identity_a).encode() in body
    record = srv.next_record()
    assert record.accepted and record.subject == subject_of(identity_a)
    assert record.scheme == "ecdsa_secp256r1_sha256"
    assert record.offered_schemes == ["ecdsa_secp256r1_sha256", "0xfe00", "rsa_pss_rsae_sha256"]


def test_tlslite_server_rejects_stranger_and_missing_cert(
    peers: Peers, root_ca: CA, identity_stranger: Identity, tmp_path: Path
):
    srv = peers.tlslite(require_client_cert=True, trusted=[root_ca.certificate])
    with pytest.raises(ssl.SSLError, match="UNKNOWN_CA"):
        stdlib_get(srv.port, peers.pki, tmp_path, identity_stranger)
    assert srv.next_record().error.startswith("unknown_ca")
    with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"):
        stdlib_get(srv.port, peers.pki, tmp_path)
    record = srv.next_record()
    assert record.certificate_received and not record.chain
    assert record.error.startswith("certificate_required")


def test_openssl_client_sees_extension_47(peers: Peers, root_ca: CA, other_root_ca: CA):
    """openssl s_client decodes our certificate_authorities extension into its CA list."""
    openssl = require_tool("openssl")
    srv = peers.tlslite(request_client_cert=True, ca_names=[other_root_ca.name, root_ca.name])
    out = s_client(openssl, srv.port, "-tls1_3")
    names = acceptable_ca_names(out)[:2]
    assert names == [
        "O = tlsengine test PKI, CN = tlsengine Test Root B",
        "O = tlsengine test PKI, CN = tlsengine Test Root A",
    ]


def test_tlslite_server_negotiates_x25519mlkem768(server_pki: ServerPKI):
    """The cryptography-backed ML-KEM plug-in, checked with tlslite-ng's own client."""
    with TestServer(server_pki.chain, server_pki.key, groups=["x25519mlkem768"]) as srv:
        settings = HandshakeSettings()
        settings.eccCurves = ["x25519mlkem768", "x25519"]
        settings.keyShares = ["x25519mlkem768"]
        settings.minVersion = (3, 4)
        with socket.create_connection(srv.address, timeout=5) as raw:
            conn = TLSConnection(raw)
            conn.handshakeClientCert(settings=settings)
            conn.write(GET)
            body = bytes(conn.read())
            conn.close()
        assert body.startswith(b"HTTP/1.1 200")
        record = srv.next_record()
    assert record.group == "x25519mlkem768"
    assert record.version == "TLSv1.3"


def test_server_chain_pem_is_leaf_then_ca(server_pki: ServerPKI):
    chain = X509CertChain()
    chain.parsePemList(server_pki.cert_file.read_text())
    assert chain.getNumCerts() == 2
    assert server_pki.cert_file.read_bytes() == cert_pem(*server_pki.chain)


def test_tlslite_server_post_handshake_auth(
    peers: Peers, root_ca: CA, other_root_ca: CA, identity_a: Identity, tmp_path: Path
):
    """The stdlib client answers the post-handshake request; the record shows it."""
    srv = peers.tlslite(
        require_client_cert=True,
        post_handshake_auth=True,
        trusted=[root_ca.certificate],
        ca_names=[root_ca.name],
        signature_schemes=["ecdsa_secp256r1_sha256", "ed25519"],
    )
    ctx = ssl.create_default_context(cafile=str(peers.pki.ca_file))
    ctx.post_handshake_auth = True
    chain, key = write_identity(identity_a, tmp_path / "client")
    ctx.load_cert_chain(chain, key)
    with socket.create_connection(srv.address, timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(GET)
            body = b""
            while chunk := tls.recv(65536):
                body += chunk
    assert subject_of(identity_a).encode() in body
    record = srv.next_record()
    assert record.post_handshake and record.accepted, record.error
    assert record.handshake_messages == [
        "client_hello",
        "finished",
        "certificate",
        "certificate_verify",
        "finished",
    ]
    assert record.scheme == "ecdsa_secp256r1_sha256"
    assert record.offered_schemes == ["ecdsa_secp256r1_sha256", "ed25519"]


def test_tlslite_server_post_handshake_auth_needs_client_support(
    peers: Peers, identity_a: Identity, tmp_path: Path
):
    srv = peers.tlslite(require_client_cert=True, post_handshake_auth=True)
    ctx = ssl.create_default_context(cafile=str(peers.pki.ca_file))  # no post_handshake_auth
    with socket.create_connection(srv.address, timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(GET)
            assert tls.recv(100) == b""
    record = srv.next_record()
    assert not record.accepted
    assert record.error == "client did not offer post_handshake_auth"


def test_test_server_refuses_bad_configuration(server_pki: ServerPKI):
    chain, key = server_pki.chain, server_pki.key
    with pytest.raises(ValueError, match="unknown signature scheme"):
        TestServer(chain, key, signature_schemes=["ecdsa_p256_sha1024"])
    with pytest.raises(ValueError, match="not a dotted object identifier"):
        TestServer(chain, key, oid_filters=[("2.5.x", b"")])
    with pytest.raises(ValueError, match="unknown cipher suite"):
        TestServer(chain, key, cipher_suites=["TLS_AES_128_CCM_SHA256"])
    with pytest.raises(ValueError, match="unknown TLS version"):
        TestServer(chain, key, versions=["TLSv1.1"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="post_handshake_auth needs app='http'"):
        TestServer(chain, key, post_handshake_auth=True, app="echo")


def test_tlslite_server_tls12_sends_ca_list(peers: Peers, root_ca: CA, other_root_ca: CA):
    """TLS 1.2: the CA names travel in the CertificateRequest's own list."""
    openssl = require_tool("openssl")
    srv = peers.tlslite(
        request_client_cert=True, ca_names=[other_root_ca.name], versions=["TLSv1.2"]
    )
    out = s_client(openssl, srv.port, "-tls1_2")
    assert "Protocol  : TLSv1.2" in out
    names = acceptable_ca_names(out)[:1]
    assert names == ["O = tlsengine test PKI, CN = tlsengine Test Root B"]
