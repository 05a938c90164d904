"""`build_pkcs12` round-trips, and OpenSSL reads what it writes."""

from __future__ import annotations

import subprocess

import pytest
from conftest import require_tool
from cryptography.hazmat.primitives.serialization import pkcs12

import tlsengine
from tlsengine.identity import build_pkcs12, der, pbe
from tlsengine.identity.model import Identity

from .helpers import assert_identity


@pytest.fixture(scope="module")
def identities(pki) -> list[Identity]:
    return [
        Identity.create(
            pki.leaves[name].cert,
            pki.leaves[name].key,
            (pki.leaves[name].cert, *pki.leaves[name].chain),
            alias=f"built {name}",
        )
        for name in ("ec-inter", "ed25519", "rsa", "p384")
    ]


@pytest.mark.parametrize("password", ["secret", "", "ünïcødé ✓", None])
def test_round_trip_keeps_every_identity(pki, identities, password) -> None:
    blob = build_pkcs12(identities, password)
    loaded = tlsengine.load_pkcs12(blob, password)
    assert [i.alias for i in loaded] == [i.alias for i in identities]
    for got, want in zip(loaded, identities, strict=True):
        assert_identity(got, want.certificate, want.private_key, want.chain[1:])


def test_shared_ca_certificates_are_stored_once(identities) -> None:
    blob = build_pkcs12(identities, None)
    root = (
        identities[0]
        .chain[-1]
        .public_bytes(__import__("cryptography").hazmat.primitives.serialization.Encoding.DER)
    )
    assert blob.count(root) == 1


def test_cryptography_reads_our_file(identities) -> None:
    blob = build_pkcs12(identities[:1], "secret")
    key, cert, extra = pkcs12.load_key_and_certificates(blob, b"secret")
    assert cert == identities[0].certificate
    assert set(extra) == set(identities[0].chain[1:])


@pytest.mark.parametrize("password", ["secret", "ünïcødé ✓", ""])
def test_openssl_reads_our_file(tmp_path, identities, password) -> None:
    openssl = require_tool("openssl")
    path = tmp_path / "built.p12"
    path.write_bytes(build_pkcs12(identities, password))
    out = subprocess.run(
        [openssl, "pkcs12", "-in", str(path), "-passin", f"pass:{password}", "-nodes"],
        check=True, capture_output=True, timeout=60,
    ).stdout.decode()  # fmt: skip
    assert out.count("-----BEGIN PRIVATE KEY-----") == len(identities)
    for ident in identities:
        assert f"friendlyName: {ident.alias}" in out
    info = subprocess.run(
        [openssl, "pkcs12", "-in", str(path), "-passin", f"pass:{password}", "-info", "-noout"],
        check=True, capture_output=True, timeout=60,
    ).stderr.decode()  # fmt: skip
    assert "MAC: sha256" in info
    assert "PBES2, PBKDF2, AES-256-CBC" in info


def test_two_hundred_identities(pki) -> None:
    many = [pki.root.identity(f"bulk {n}", "p256") for n in range(20)] * 10
    many = [Identity.create(i.certificate, i.private_key, i.chain, alias=f"a{n}")
            for n, i in enumerate(many)]  # fmt: skip
    loaded = tlsengine.load_pkcs12(build_pkcs12(many, "pw"), "pw")
    assert [i.alias for i in loaded] == [i.alias for i in many]


def _with_pbmac1(blob: bytes, password: str, iterations: int = 1000) -> bytes:
    """Replace the classic MAC with an RFC 9579 PBMAC1 (PBKDF2-HMAC-SHA256, HMAC-SHA256)."""
    import hashlib
    import hmac
    import os

    version, auth_safe, _ = der.parse(blob, "PFX").sequence("PFX")
    content = auth_safe.sequence("ci")[1].explicit(0, "ci").octet_string("ci")
    salt = os.urandom(16)
    key = pbe.pbkdf2("sha256", password.encode(), salt, iterations, 32)
    digest = hmac.new(key, content, hashlib.sha256).digest()
    params = der.sequence(
        der.algorithm(
            pbe.PBKDF2,
            der.sequence(
                der.octet_string(salt),
                der.integer(iterations),
                der.integer(32),
                der.algorithm(pbe.HMAC_OIDS["sha256"]),
            ),
        ),
        der.algorithm(pbe.HMAC_OIDS["sha256"]),
    )
    mac = der.sequence(
        der.sequence(der.algorithm(pbe.PBMAC1, params), der.octet_string(digest)),
        der.octet_string(b"NOT USED"),
        der.integer(1),
    )
    return der.sequence(version.encoded, auth_safe.encoded, mac)


def test_pbmac1(identities) -> None:
    blob = _with_pbmac1(build_pkcs12(identities[:2], "pw ✓"), "pw ✓")
    loaded = tlsengine.load_pkcs12(blob, "pw ✓")
    assert [i.alias for i in loaded] == [i.alias for i in identities[:2]]
    with pytest.raises(tlsengine.PKCS12PasswordError):
        tlsengine.load_pkcs12(blob, "other")
