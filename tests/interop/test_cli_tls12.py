"""``tlsengine probe --tls1.2`` and ``tlsengine get`` over TLS 1.2 (s_server and Apache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from peers import Peers

from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

pytestmark = pytest.mark.interop
PASSWORD = "tls12-cli"


def tlsengine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsengine", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "P12_PASSWORD": PASSWORD},
    )


def p12(tmp_path: Path, *identities: Identity) -> str:
    path = tmp_path / "ids.p12"
    path.write_bytes(build_pkcs12(list(identities), PASSWORD))
    return str(path)


def test_probe_tls12_prints_certificate_types_and_the_ca_list(
    peers: Peers, tmp_path: Path, root_ca: CA, identity_a: Identity, identity_b: Identity
) -> None:
    srv = peers.openssl(tls="1.2")
    host, port = srv.address
    common = [
        f"{host}:{port}", "--servername", "localhost", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", p12(tmp_path, identity_b, identity_a), "--password-env", "P12_PASSWORD",
        "--tls1.2",
    ]  # fmt: skip
    done = tlsengine("probe", *common, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["version"] == "TLSv1.2" and report["requested"] is True
    assert report["certificate_types"] == ["rsa_sign", "dss_sign", "ecdsa_sign"]
    assert report["certificate_authorities"] == [root_ca.name.rfc4514_string()]
    assert report["chosen"] == "client-a"
    text = tlsengine("probe", *common)
    assert text.returncode == 0, text.stderr
    assert "certificate types: rsa_sign, dss_sign, ecdsa_sign" in text.stdout
    assert root_ca.name.rfc4514_string() in text.stdout and "TLSv1.2" in text.stdout


def test_get_tls12_when_no_identity_fits_is_one_clear_line(
    peers: Peers, tmp_path: Path, identity_stranger: Identity
) -> None:
    srv = peers.openssl(tls="1.2")
    _, port = srv.address
    done = tlsengine(
        "get", f"https://localhost:{port}/", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", p12(tmp_path, identity_stranger), "--password-env", "P12_PASSWORD",
    )  # fmt: skip
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "client certificate" in lines[0] and "none fitted" in lines[0], lines[0]


def test_get_apache_protected_path_renegotiates_with_our_identity(
    peers: Peers, tmp_path: Path, identity_a: Identity
) -> None:
    srv = peers.apache()
    _, port = srv.address
    done = tlsengine(
        "get", f"https://localhost:{port}/protected", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", p12(tmp_path, identity_a), "--password-env", "P12_PASSWORD", "-v",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "protected page\n"
    assert 'subject="CN=client A"' in srv.access_log()
