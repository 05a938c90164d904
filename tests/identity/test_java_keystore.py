"""A Java JKS or JCEKS keystore handed to a PKCS#12 loader says so and how to convert it.

Met as a new user: ``tlsengine inspect ks.jks`` (keytool's ``-storetype jks``) said
"not a PKCS#12 file (PFX: bad length field)", which names neither the format nor the fix.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

import tlsengine
from tlsengine.errors import PKCS12FormatError


@pytest.mark.parametrize(("storetype", "named"), [("jks", "Java JKS"), ("jceks", "Java JCEKS")])
def test_java_keystore_is_named_with_the_conversion(
    tmp_path: Path, storetype: str, named: str
) -> None:
    require_tool("keytool")
    path = tmp_path / f"ks.{storetype}"
    subprocess.run(
        ["keytool", "-genkeypair", "-alias", "me", "-keyalg", "EC", "-groupname", "secp256r1",
         "-dname", "CN=me", "-validity", "2", "-keystore", str(path), "-storetype", storetype,
         "-storepass", "secret", "-keypass", "secret"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    store = tlsengine.IdentityStore()
    with pytest.raises(PKCS12FormatError) as caught:
        store.load(path, "secret")
    assert f"not a PKCS#12 but a {named} keystore" in str(caught.value)
    assert "keytool -importkeystore" in str(caught.value)
    assert len(store) == 0
