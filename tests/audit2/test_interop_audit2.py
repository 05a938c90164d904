"""Audit 2: interop edge cases with real peers on 127.0.0.1 (openssl s_server, gnutls-serv)."""

from __future__ import annotations

import datetime
import re
import threading
import time
from pathlib import Path

import pytest
from conftest import require_tool
from peers import Peers, write_cas

import tlsengine
from tlsengine.errors import ClientCertificateRejected
from tlsengine.testing import CA, cert_pem, key_pem

from .sserver import s_server


@pytest.fixture(scope="module")
def big_pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """root -> RSA-4096 intermediate x2 -> localhost leaf with ~1,200 SAN names (>16 KiB)."""
    root = CA.root("audit2 big root")
    i1 = root.intermediate("audit2 int 1", "rsa4096")
    i2 = i1.intermediate("audit2 int 2", "rsa4096")
    dns = ["localhost"] + [f"host-{n:05d}.padding.example" for n in range(700)]
    leaf, key = i2.issue("localhost", "p256", client=False, server=True, dns=dns, ips=["127.0.0.1"])
    stray = CA.root("audit2 unrelated root")
    stray_leaf, _ = stray.issue("stray", "p256", client=False, server=True, dns=["stray"])
    d = tmp_path_factory.mktemp("bigpki")
    (d / "leaf.pem").write_bytes(cert_pem(leaf))
    (d / "leaf.key").write_bytes(key_pem(key))
    (d / "root.pem").write_bytes(root.pem)
    (d / "chain-ordered.pem").write_bytes(cert_pem(i2.certificate, i1.certificate))
    (d / "chain-shuffled.pem").write_bytes(
        cert_pem(stray.certificate, i1.certificate, stray_leaf, i2.certificate)
    )
    return {"dir": d, "leaf": leaf}


def _big_cert_message(d: Path) -> int:
    total = 0
    for name in ("leaf.pem", "chain-ordered.pem"):
        from cryptography import x509

        total += sum(
            len(c.tbs_certificate_bytes) + 600
            for c in x509.load_pem_x509_certificates((d / name).read_bytes())
        )
    return total


@pytest.mark.parametrize("chain", ["chain-ordered.pem", "chain-shuffled.pem"])
def test_large_multi_record_chain_verifies(
    big_pki: dict[str, object], tmp_path: Path, chain: str
) -> None:
    d = big_pki["dir"]
    assert isinstance(d, Path)
    assert _big_cert_message(d) > 16384
    args = ["-tls1_3", "-www", "-cert", str(d / "leaf.pem"), "-key", str(d / "leaf.key")]
    args += ["-cert_chain", str(d / chain)]
    with s_server(tmp_path, args) as srv:
        ctx = tlsengine.ClientContext(cafile=str(d / "root.pem"), identities=[])
        with ctx.connect(srv.address, server_hostname="localhost", timeout=10) as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
        assert b"TLSv1.3" in data


def _pki_args(peers: Peers) -> list[str]:
    return ["-cert", str(peers.pki.cert_file), "-key", str(peers.pki.key_file)]


def _fetch(tls: tlsengine.TLSSocket) -> bytes:
    tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while chunk := tls.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("extra", [[], ["-stateless"]], ids=["hrr", "hrr-cookie"])
def test_hello_retry_request_from_openssl(peers: Peers, tmp_path: Path, extra: list[str]) -> None:
    args = ["-tls1_3", "-www", "-groups", "secp384r1", *_pki_args(peers), *extra]
    with s_server(tmp_path, args) as srv:
        ctx = tlsengine.ClientContext(cafile=str(peers.pki.ca_file), identities=[], trace=True)
        with ctx.connect(srv.address, server_hostname="localhost", timeout=10) as tls:
            body = _fetch(tls)
            transcript = repr(tls.transcript)
    assert b"TLSv1.3" in body
    assert "HelloRetryRequest" in transcript or "hello_retry" in transcript.lower(), transcript[
        :800
    ]


@pytest.mark.parametrize("key", ["k", "K"], ids=["keyupdate", "keyupdate-requested"])
def test_keyupdate_from_openssl_during_transfer(peers: Peers, tmp_path: Path, key: str) -> None:
    with s_server(tmp_path, ["-tls1_3", "-msg", *_pki_args(peers)]) as srv:
        ctx = tlsengine.ClientContext(cafile=str(peers.pki.ca_file), identities=[])
        with ctx.connect(srv.address, server_hostname="localhost", timeout=10) as tls:
            tls.sendall(b"before\n")
            srv.wait_for(r"before")
            srv.type(f"{key}\n")
            time.sleep(0.3)  # a separate stdin read, or s_server sends it as data
            srv.type("from-server\n")
            got = b""
            while b"from-server" not in got:
                chunk = tls.recv(4096)
                assert chunk, "server closed before its post-KeyUpdate data"
                got += chunk
            tls.sendall(b"after-update\n")
            srv.wait_for(r"after-update")
            # and again, both directions, after a second update
            srv.type(f"{key}\n")
            time.sleep(0.3)
            srv.type("second\n")
            got = b""
            while b"second" not in got:
                got += tls.recv(4096)
            tls.sendall(b"after-second\n")
            srv.wait_for(r"after-second")
        sent = re.findall(r"^>>> [^\n]*KeyUpdate", srv.output, re.M)
        got = re.findall(r"^<<< [^\n]*KeyUpdate", srv.output, re.M)
        assert len(sent) == 2, srv.output[-2000:]
        assert len(got) == (2 if key == "K" else 0), srv.output[-2000:]


def test_gnutls_rejects_expired_identity_with_selection(
    peers: Peers, tmp_path: Path, root_ca: CA
) -> None:
    """gnutls-serv refuses an expired (but still chosen) certificate: the error must be
    ClientCertificateRejected carrying the Selection, not a bare AlertReceived."""
    require_tool("gnutls-serv")
    now = datetime.datetime.now(datetime.UTC)
    expired = root_ca.identity(
        "audit2 expired",
        "p256",
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )
    srv = peers.gnutls(client_cas=write_cas(tmp_path / "cas.pem", root_ca))
    ctx = tlsengine.ClientContext(cafile=str(peers.pki.ca_file), identities=[expired])
    with pytest.raises(ClientCertificateRejected) as info:
        with ctx.connect(srv.address, server_hostname="localhost", timeout=10) as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            while tls.recv(65536):
                pass
    assert info.value.selection is not None
    assert info.value.selection.identity == expired


def test_large_transfer_both_ways_through_makefile(peers: Peers, tmp_path: Path) -> None:
    """4.6 MiB up and back through makefile('rwb') against s_server -rev (reverses lines)."""
    line = bytes(range(97, 123)) * 300 + b"\n"  # 7.8 KiB lines (s_server -rev reads 16 KiB)
    lines = 600
    with s_server(tmp_path, ["-tls1_3", "-rev", *_pki_args(peers)]) as srv:
        ctx = tlsengine.ClientContext(cafile=str(peers.pki.ca_file), identities=[])
        with ctx.connect(srv.address, server_hostname="localhost", timeout=20) as tls:
            f = tls.makefile("rwb")
            received: list[bytes] = []

            def reader() -> None:
                for _ in range(lines):
                    received.append(f.readline())

            t = threading.Thread(target=reader)
            t.start()
            for _ in range(lines):
                f.write(line)
            f.flush()
            t.join(20)
            f.close()
    assert len(received) == lines
    assert all(r == line[:-1][::-1] + b"\n" for r in received), received[0][:50]
