"""Files made by `openssl pkcs12 -export` load with every identity, key and chain intact."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

import tlsengine
from tlsengine.errors import PKCS12PasswordError

from .conftest import PASSWORD
from .helpers import assert_identity, private_der

# (flags, leaf) pairs: every PBE, MAC and password mode OpenSSL 3 can write.
VARIANTS = {
    "default": ((), "ec-inter"),
    "legacy": (("-legacy",), "ec-inter"),
    "nomac": (("-nomac",), "ec-inter"),
    "descert": (("-descert",), "ec"),
    "aes128-key-aes192-certs": (("-keypbe", "aes-128-cbc", "-certpbe", "aes-192-cbc"), "ec"),
    "des3-key-aes256-certs": (("-keypbe", "des-ede3-cbc", "-certpbe", "aes-256-cbc"), "p384"),
    "pbe-3des-rc2-40": (
        ("-legacy", "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-RC2-40"),
        "ec-inter",
    ),
    "pbe-2des-rc2-128": (
        ("-legacy", "-keypbe", "PBE-SHA1-2DES", "-certpbe", "PBE-SHA1-RC2-128"),
        "ec-inter",
    ),
    "pbe-rc4": (("-legacy", "-keypbe", "PBE-SHA1-RC4-128", "-certpbe", "PBE-SHA1-RC4-40"), "ec"),
    "certs-unencrypted": (("-certpbe", "NONE"), "ec-inter"),
    "macalg-sha512": (("-macalg", "sha512"), "ec-inter"),
    "macalg-sha1": (("-macalg", "sha1"), "ec"),
    "macalg-sha384": (("-macalg", "sha384"), "ec"),
    "macalg-sha224": (("-macalg", "sha224"), "ec"),
    "iter-1": (("-iter", "1"), "ec"),
    "noiter-nomaciter": (("-noiter", "-nomaciter"), "ec"),
    "rsa": ((), "rsa"),
    "ed25519": ((), "ed25519"),
    "ed448": ((), "ed448"),
}


def _expected(pki, leaf: str):
    item = pki.leaves[leaf]
    return item.cert, item.key, item.chain


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_openssl_variant_loads_like_cryptography(pki, variant: str) -> None:
    flags, leaf = VARIANTS[variant]
    path = pki.openssl_p12(leaf, *flags)
    [identity] = tlsengine.load_pkcs12(path, PASSWORD)
    assert_identity(identity, *_expected(pki, leaf))
    assert identity.alias == f"{leaf} alias"
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(path.read_bytes(), PASSWORD.encode())
    except ValueError:  # cryptography's OpenSSL lacks the legacy RC2/RC4 ciphers
        return
    assert identity.certificate == cert
    assert private_der(identity.private_key) == private_der(key)
    assert set(identity.chain[1:]) == set(extra)


@pytest.mark.parametrize("variant", ["default", "legacy", "descert", "pbe-2des-rc2-128"])
def test_wrong_password_is_a_password_error(pki, variant: str) -> None:
    flags, leaf = VARIANTS[variant]
    path = pki.openssl_p12(leaf, *flags)
    with pytest.raises(PKCS12PasswordError, match="wrong password"):
        tlsengine.load_pkcs12(path, "not the password")
    with pytest.raises(PKCS12PasswordError, match="no password"):
        tlsengine.load_pkcs12(path)


def test_nomac_wrong_password_is_a_password_error(pki) -> None:
    path = pki.openssl_p12("ec", "-nomac")
    with pytest.raises(PKCS12PasswordError, match="no MAC"):
        tlsengine.load_pkcs12(path, "not the password")


@pytest.mark.parametrize("given", ["", None])
def test_empty_password_file_opens_with_empty_or_no_password(pki, given) -> None:
    path = pki.openssl_p12("ec-inter", password="")
    [identity] = tlsengine.load_pkcs12(path, given)
    assert_identity(identity, *_expected(pki, "ec-inter"))
    with pytest.raises(PKCS12PasswordError):
        tlsengine.load_pkcs12(path, "x")


@pytest.mark.parametrize("given", ["", None])
def test_unprotected_file_opens_without_password(pki, given) -> None:
    path = pki.openssl_p12("ec-inter", "-nomac", "-keypbe", "NONE", "-certpbe", "NONE", password="")
    [identity] = tlsengine.load_pkcs12(path, given)
    assert_identity(identity, *_expected(pki, "ec-inter"))


@pytest.mark.parametrize("legacy", [False, True])
def test_non_ascii_password(pki, legacy: bool) -> None:
    password = "pässwörd ☃ 🔑"
    path = pki.openssl_p12("ec", *(["-legacy"] if legacy else []), password=password)
    [identity] = tlsengine.load_pkcs12(path, password)
    assert_identity(identity, *_expected(pki, "ec"))
    [same] = tlsengine.load_pkcs12(path, password.encode("utf-8"))
    assert same.fingerprint == identity.fingerprint
    with pytest.raises(PKCS12PasswordError):
        tlsengine.load_pkcs12(path, "passwörd ☃ 🔑")


def test_sources_bytes_base64_and_path(pki) -> None:
    import base64

    path = pki.openssl_p12("ec")
    raw = path.read_bytes()
    b64 = base64.encodebytes(raw).decode()
    armoured = f"-----BEGIN PKCS12-----\n{b64}-----END PKCS12-----\n"
    for source in (raw, bytearray(raw), memoryview(raw), str(path), path, b64, armoured):
        [identity] = tlsengine.load_pkcs12(source, PASSWORD)
        assert identity.certificate == pki.leaves["ec"].cert
