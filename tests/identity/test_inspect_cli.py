"""`tlsengine inspect`: text and JSON listings, one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tlsengine.cli import main
from tlsengine.identity import build_pkcs12
from tlsengine.identity.model import Identity

JSON_KEYS = {"alias", "subject", "issuer", "key_type", "not_before", "not_after",
             "fingerprint", "chain"}  # fmt: skip


@pytest.fixture(scope="module")
def keystore(pki, tmp_path_factory) -> tuple[str, list[Identity]]:
    idents = [
        Identity.create(pki.leaves[n].cert, pki.leaves[n].key, pki.leaves[n].chain, alias=n)
        for n in ("ec-inter", "rsa", "ed448")
    ]
    path = tmp_path_factory.mktemp("inspect") / "three.p12"
    path.write_bytes(build_pkcs12(idents, "s3cret"))
    return str(path), idents


def test_json_lists_every_identity(keystore, monkeypatch, capsys) -> None:
    path, idents = keystore
    monkeypatch.setenv("P12_PASSWORD", "s3cret")
    assert main(["inspect", path, "--password-env", "P12_PASSWORD", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [entry["alias"] for entry in listing] == ["ec-inter", "rsa", "ed448"]
    for entry, ident in zip(listing, idents, strict=True):
        assert set(entry) == JSON_KEYS
        assert entry["fingerprint"] == ident.fingerprint
        assert entry["key_type"] == ident.key_type
        assert entry["subject"] == ident.subject
        assert entry["chain"] == [c.subject.rfc4514_string() for c in ident.chain]
    assert len(listing[0]["chain"]) == 3


def test_text_output(keystore, monkeypatch, capsys) -> None:
    path, idents = keystore
    monkeypatch.setenv("P12_PASSWORD", "s3cret")
    assert main(["inspect", path, "--password-env", "P12_PASSWORD"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 identities")
    for ident in idents:
        assert ident.fingerprint in out and f"] {ident.alias}" in out
    assert "EC secp256r1" in out and "RSA 2048" in out and "Ed448" in out
    assert "PRIVATE" not in out


@pytest.mark.parametrize(
    "argv, env, message",
    [
        (["--password-env", "P12_PASSWORD"], {"P12_PASSWORD": "nope"}, "wrong password"),
        ([], {}, "no password was given"),
        (["--password-env", "UNSET_VAR_XYZ"], {}, "UNSET_VAR_XYZ is not set"),
    ],
)
def test_errors_are_one_line_exit_2(keystore, monkeypatch, capsys, argv, env, message) -> None:
    path, _ = keystore
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["inspect", path, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_missing_file_via_subprocess(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tlsengine", "inspect", str(tmp_path / "none.p12")],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "no such PKCS#12 file" in proc.stderr
    assert "Traceback" not in proc.stderr
