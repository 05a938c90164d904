"""A PEM certificate or key handed to a PKCS#12 loader says what it is and what to do.

Met as a new user: after `openssl req -x509 ... -out client.pem -keyout client.key`,
``load_client_certificate("client.pem")`` and ``tlsengine inspect client.pem`` said only
"not a PKCS#12 file (PFX: 1104 unexpected bytes after the value)".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool
from cryptography.hazmat.primitives import serialization

import tlsengine
from tlsengine.errors import PKCS12FormatError
from tlsengine.testing import CA


@pytest.fixture(scope="module")
def pem_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    identity = CA.root("PEM CA").identity("pem-user", "p256")
    directory = tmp_path_factory.mktemp("pem")
    cert = directory / "client.pem"
    cert.write_bytes(identity.certificate.public_bytes(serialization.Encoding.PEM))
    key = directory / "client.key"
    key.write_bytes(
        identity.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


def _as_given(path: Path, form: str) -> object:
    return {"path": str(path), "text": path.read_text(), "bytes": path.read_bytes()}[form]


@pytest.mark.parametrize("form", ["path", "text", "bytes"])
@pytest.mark.parametrize(("which", "label"), [(0, "CERTIFICATE"), (1, "PRIVATE KEY")])
def test_pem_is_named_with_the_way_out(
    pem_files: tuple[Path, Path], form: str, which: int, label: str
) -> None:
    store = tlsengine.IdentityStore()
    with pytest.raises(PKCS12FormatError) as caught:
        store.load(_as_given(pem_files[which], form), "pw")  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"PEM text (-----BEGIN {label}-----)" in message
    assert "load_cert_chain(certfile, keyfile)" in message
    assert "openssl pkcs12 -export" in message
    assert len(store) == 0


def test_the_same_pem_loads_where_the_message_points(pem_files: tuple[Path, Path]) -> None:
    ctx = tlsengine.SSLContext()
    ctx.load_cert_chain(str(pem_files[0]), str(pem_files[1]))  # no error: the advice holds


def test_inspect_of_a_pem_file_says_so(pem_files: tuple[Path, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tlsengine", "inspect", str(pem_files[0])],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 2
    assert "PEM text (-----BEGIN CERTIFICATE-----)" in done.stderr


def test_openssl_made_pem_is_named(tmp_path: Path) -> None:
    require_tool("openssl")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(tmp_path / "c.key"), "-out", str(tmp_path / "c.pem"),
         "-days", "1", "-subj", "/CN=me"],
        check=True, capture_output=True,
    )  # fmt: skip
    with pytest.raises(PKCS12FormatError, match=r"PEM text \(-----BEGIN CERTIFICATE-----\)"):
        tlsengine.load_pkcs12(str(tmp_path / "c.pem"), "pw")
