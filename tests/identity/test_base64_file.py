"""A path to a file holding base64 PKCS#12 loads like the same text passed as a string.

Met as a new user: the README says base64 text is accepted "as str, or as bytes read from a
file", so `base64 id.p12 > id.b64` then ``load_client_certificate("id.b64")`` (or
``tlsengine inspect id.b64``) should work; it failed with "PFX: 6033 unexpected bytes after
the value", while ``load_client_certificate(open("id.b64", "rb").read())`` worked.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tlsengine
from tlsengine.errors import PKCS12FormatError
from tlsengine.identity import build_pkcs12
from tlsengine.testing import CA


@pytest.fixture(scope="module")
def der() -> bytes:
    root = CA.root("B64 CA")
    return build_pkcs12([root.identity("one", "p256"), root.identity("two", "rsa2048")], "pw")


@pytest.mark.parametrize(
    "text",
    [
        lambda d: base64.b64encode(d),  # one line
        lambda d: base64.encodebytes(d),  # `base64` / `openssl base64`: 76-column lines
        lambda d: b"-----BEGIN PKCS12-----\n" + base64.encodebytes(d) + b"-----END PKCS12-----\n",
        lambda d: b"\xef\xbb\xbf" + base64.b64encode(d) + b"\r\n",  # a Windows editor's save
    ],
    ids=["one-line", "wrapped", "armoured", "bom-crlf"],
)
def test_base64_file_path_loads(tmp_path: Path, der: bytes, text) -> None:
    path = tmp_path / "id.b64"
    path.write_bytes(text(der))
    assert [i.alias for i in tlsengine.load_pkcs12(str(path), "pw")] == ["one", "two"]
    assert [i.alias for i in tlsengine.load_pkcs12(path, "pw")] == ["one", "two"]


def test_base64_file_wrong_password_is_still_a_password_error(tmp_path: Path, der: bytes) -> None:
    path = tmp_path / "id.b64"
    path.write_bytes(base64.encodebytes(der))
    with pytest.raises(tlsengine.PKCS12PasswordError):
        tlsengine.load_pkcs12(path, "wrong")


def test_text_file_that_is_not_base64_pkcs12_stays_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"just some notes, not a keystore\n")
    with pytest.raises(PKCS12FormatError, match="not a PKCS#12 file"):
        tlsengine.load_pkcs12(path, "pw")


def test_inspect_reads_a_base64_file(tmp_path: Path, der: bytes) -> None:
    path = tmp_path / "id.b64"
    path.write_bytes(base64.encodebytes(der))
    done = subprocess.run(
        [sys.executable, "-m", "tlsengine", "inspect", str(path), "--password-env", "P12PW"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        env={**os.environ, "P12PW": "pw"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 identities")
