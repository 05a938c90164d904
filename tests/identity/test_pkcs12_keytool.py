"""A Java keystore holding three identities: we return all three, cryptography only one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool
from cryptography.hazmat.primitives.serialization import pkcs12

import tlsengine
from tlsengine.errors import PKCS12PasswordError

from .conftest import PASSWORD
from .helpers import assert_identity

MEMBERS = ("rsa", "ec", "ec-inter")


def _import_all(pki, target: Path, *jvm_flags: str) -> Path:
    keytool = require_tool("keytool")
    for leaf in MEMBERS:
        source = pki.openssl_p12(leaf)
        cmd = [keytool, *jvm_flags, "-importkeystore", "-noprompt",
               "-srckeystore", str(source), "-srcstoretype", "PKCS12",
               "-srcstorepass", PASSWORD, "-srcalias", f"{leaf} alias",
               "-destkeystore", str(target), "-deststoretype", "PKCS12",
               "-deststorepass", PASSWORD, "-destalias", f"java-{leaf}"]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return target


@pytest.fixture(scope="module")
def keystore(pki) -> Path:
    return _import_all(pki, pki.directory / "java.p12")


@pytest.fixture(scope="module")
def legacy_keystore(pki) -> Path:
    # Older JDK defaults: PBEWithSHA1AndRC2_40 certificates, 3DES keys, HMAC-SHA1 MAC.
    return _import_all(pki, pki.directory / "java-legacy.p12", "-J-Dkeystore.pkcs12.legacy")


@pytest.mark.parametrize("which", ["keystore", "legacy_keystore"])
def test_keytool_keystore_yields_all_three_identities(pki, request, which: str) -> None:
    path = request.getfixturevalue(which)
    identities = tlsengine.load_pkcs12(path, PASSWORD)
    by_alias = {i.alias: i for i in identities}
    assert sorted(by_alias) == sorted(f"java-{m}" for m in MEMBERS)
    for member in MEMBERS:
        item = pki.leaves[member]
        assert_identity(by_alias[f"java-{member}"], item.cert, item.key, item.chain)
    assert len(by_alias["java-ec-inter"].chain) == 3
    assert {i.key_type for i in identities} == {"rsa", "ec"}


def test_cryptography_sees_only_one_key(keystore) -> None:
    loaded = pkcs12.load_pkcs12(keystore.read_bytes(), PASSWORD.encode())
    assert loaded.key is not None  # one key; the other two identities are invisible to it
    assert len(tlsengine.load_pkcs12(keystore, PASSWORD)) == 3


def test_keytool_keystore_wrong_password(keystore) -> None:
    with pytest.raises(PKCS12PasswordError):
        tlsengine.load_pkcs12(keystore, "wrong")
