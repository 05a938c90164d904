"""`tlsengine probe` and `tlsengine get` against real servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool
from peers import Peers

from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

PASSWORD = "cli-test"


def tlsengine(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsengine", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "P12_PASSWORD": PASSWORD, **(env or {})},
    )


@pytest.fixture(scope="module")
def two_identity_p12(
    root_ca: CA, other_root_ca: CA, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    identities = [
        other_root_ca.identity("cli-b", "p256", alias="cli-b"),
        root_ca.identity("cli-a", "p256", alias="cli-a"),
    ]
    path = tmp_path_factory.mktemp("cli") / "two.p12"
    path.write_bytes(build_pkcs12(identities, PASSWORD))
    return path


def test_probe_json_reports_request_and_chosen_identity(
    peers: Peers, two_identity_p12: Path, root_ca: CA
) -> None:
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require")
    host, port = srv.address
    done = tlsengine(
        "probe", f"{host}:{port}", "--servername", "localhost",
        "--cafile", str(peers.pki.ca_file), "--pkcs12", str(two_identity_p12),
        "--password-env", "P12_PASSWORD", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["requested"] is True
    assert report["version"] == "TLSv1.3"
    assert root_ca.name.rfc4514_string() in report["certificate_authorities"]
    assert report["chosen"] == "cli-a"
    assert report["scheme"] == "ecdsa_secp256r1_sha256"
    verdicts = {c["alias"]: c["verdict"] for c in report["candidates"]}
    assert verdicts == {"cli-a": "chosen", "cli-b": "ca-mismatch"}
    assert all(c["reason"] for c in report["candidates"])


def test_probe_text_on_a_server_that_does_not_ask(peers: Peers, two_identity_p12: Path) -> None:
    srv = peers.python_ssl(verify_mode=ssl.CERT_NONE)
    host, port = srv.address
    done = tlsengine(
        "probe", f"{host}:{port}", "--insecure",
        "--pkcs12", str(two_identity_p12), "--password-env", "P12_PASSWORD",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "client certificate requested: no" in done.stdout


def test_get_sends_the_identity_the_server_names(
    peers: Peers, two_identity_p12: Path, other_root_ca: CA
) -> None:
    srv = peers.tlslite(
        require_client_cert=True, ca_names=[other_root_ca.certificate],
        trusted=[other_root_ca.certificate],
    )  # fmt: skip
    done = tlsengine(
        "get", f"https://localhost:{srv.port}/", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", str(two_identity_p12), "--password-env", "P12_PASSWORD", "-v",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "CN=cli-b"
    assert "sent: cli-b" in done.stderr


def test_get_with_a_wrong_password_fails_in_one_line(two_identity_p12: Path) -> None:
    done = tlsengine(
        "get", "https://localhost:9/", "--pkcs12", str(two_identity_p12),
        "--password-env", "P12_PASSWORD", env={"P12_PASSWORD": "wrong"},
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "password" in done.stderr.lower()


def test_get_rejects_a_non_https_url() -> None:
    done = tlsengine("get", "http://localhost/")
    assert done.returncode == 2 and "https://" in done.stderr
