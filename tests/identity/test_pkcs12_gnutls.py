"""PKCS#12 files written by GnuTLS `certtool --to-p12` (a second, independent encoder)."""

from __future__ import annotations

import subprocess

import pytest
from conftest import require_tool

import tlsengine

from .helpers import assert_identity


@pytest.mark.parametrize(
    "flags",
    [[], ["--pkcs-cipher", "3des-pkcs12", "--hash", "SHA512"]],
    ids=["default", "3des-pkcs12-sha512"],
)
def test_certtool_file_loads(pki, tmp_path, flags) -> None:
    certtool = require_tool("certtool")
    leaf = pki.leaves["ec-inter"]
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(leaf.cert_file.read_bytes() + leaf.chain_file.read_bytes())
    out = tmp_path / "gnutls.p12"
    subprocess.run(
        [certtool, "--to-p12", "--load-certificate", str(bundle), "--load-privkey",
         str(leaf.key_file), "--p12-name", "gnutls id", "--password", "gnu pw", "--outder",
         "--outfile", str(out), *flags],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    [identity] = tlsengine.load_pkcs12(out, "gnu pw")
    assert identity.alias == "gnutls id"
    assert identity.certificate == leaf.cert
    assert_identity(identity, leaf.cert, leaf.key, leaf.chain)
