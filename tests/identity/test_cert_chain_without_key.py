"""`load_cert_chain("client.pem")` with no keyfile and no key in the file says to pass one.

Met as a new user, after `openssl req -x509 -keyout client.key -out client.pem`: the error
was cryptography's "Valid PEM but no BEGIN/END delimiters for a private key found. Are you
sure this is a private key?", about a file that never claimed to be one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

import tlsengine
from tlsengine.errors import PKCS12FormatError


@pytest.fixture
def openssl_pair(tmp_path: Path) -> tuple[Path, Path]:
    require_tool("openssl")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=me"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_certificate_only_file_asks_for_keyfile(openssl_pair: tuple[Path, Path]) -> None:
    cert, _ = openssl_pair
    ctx = tlsengine.SSLContext()
    with pytest.raises(PKCS12FormatError) as caught:
        ctx.load_cert_chain(str(cert))
    message = str(caught.value)
    assert "holds certificates but no private key" in message
    assert "keyfile=" in message
    assert "Are you sure" not in message


def test_the_pair_and_a_combined_file_still_load(
    openssl_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = openssl_pair
    tlsengine.SSLContext().load_cert_chain(str(cert), str(key))
    both = tmp_path / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    tlsengine.SSLContext().load_cert_chain(str(both))
