"""Bad input ends in a documented IdentityError with a message that says what is wrong."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec
from cryptography.hazmat.primitives.serialization import pkcs12
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tlsengine
from tlsengine.errors import (
    IdentityError,
    IdentityMismatchError,
    PKCS12FormatError,
    PKCS12PasswordError,
    UnsupportedKeyError,
)
from tlsengine.identity import build_pkcs12, der
from tlsengine.identity.model import Identity

from .conftest import PASSWORD


def _self_signed(key, cn: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def _cryptography_p12(key, cert, cas=None, password=b"pw") -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"x", key, cert, cas, serialization.BestAvailableEncryption(password)
    )


def test_dsa_key_is_unsupported() -> None:
    key = dsa.generate_private_key(2048)
    blob = _cryptography_p12(key, _self_signed(key, "dsa"))
    with pytest.raises(UnsupportedKeyError, match="DSA"):
        tlsengine.load_pkcs12(blob, "pw")


def test_unsupported_curve_is_unsupported() -> None:
    key = ec.generate_private_key(ec.SECP256K1())
    blob = _cryptography_p12(key, _self_signed(key, "k1"))
    with pytest.raises(UnsupportedKeyError, match="secp256k1"):
        tlsengine.load_pkcs12(blob, "pw")


def test_certificates_without_key(pki) -> None:
    blob = pkcs12.serialize_key_and_certificates(
        b"x", None, None, [pki.root.certificate], serialization.BestAvailableEncryption(b"pw")
    )
    with pytest.raises(IdentityMismatchError, match="no private key"):
        tlsengine.load_pkcs12(blob, "pw")


def test_key_without_its_certificate(pki) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    mismatched = Identity.create(pki.leaves["ec"].cert, other)  # the model does not check
    blob = build_pkcs12([mismatched], "pw")
    with pytest.raises(IdentityMismatchError, match="no certificate matches"):
        tlsengine.load_pkcs12(blob, "pw")


@pytest.mark.parametrize(
    "data, pattern",
    [
        (b"", "not a PKCS#12"),
        (b"\x30\x03\x02\x01\x03", "not a PKCS#12|PFX"),
        (b"hello world, not DER", "not a PKCS#12"),
        ("definitely not base64 !!!", "neither an existing file nor valid base64"),
        ("/no/such/dir/file.p12", "neither an existing file nor valid base64"),
        (12345, "cannot load a PKCS#12 from int"),
    ],
)
def test_garbage_is_a_format_error(data, pattern) -> None:
    with pytest.raises(PKCS12FormatError, match=pattern):
        tlsengine.load_pkcs12(data, "pw")


def test_certificate_der_is_not_a_pfx(pki) -> None:
    with pytest.raises(PKCS12FormatError):
        tlsengine.load_pkcs12(pki.root.certificate.public_bytes(serialization.Encoding.DER))


def test_directory_and_missing_path(tmp_path) -> None:
    with pytest.raises(PKCS12FormatError, match="directory"):
        tlsengine.load_pkcs12(tmp_path)
    with pytest.raises(PKCS12FormatError, match="no such PKCS#12 file"):
        tlsengine.load_pkcs12(tmp_path / "missing.p12")


def test_mac_mismatch_with_decryptable_content_is_corruption(pki) -> None:
    ident = Identity.create(pki.leaves["ec"].cert, pki.leaves["ec"].key, alias="ZZZZ")
    blob = build_pkcs12([ident], "pw")
    alias = "ZZZZ".encode("utf-16-be")
    damaged = blob.replace(alias, "ZZZY".encode("utf-16-be"))
    assert damaged != blob
    with pytest.raises(PKCS12FormatError, match="corrupted"):
        tlsengine.load_pkcs12(damaged, "pw")
    with pytest.raises(PKCS12PasswordError, match="wrong password"):
        tlsengine.load_pkcs12(damaged, "other")


def test_hostile_iteration_count_is_refused(pki) -> None:
    ident = Identity.create(pki.leaves["ec"].cert, pki.leaves["ec"].key)
    version, auth_safe, mac = der.parse(build_pkcs12([ident], "pw"), "PFX").sequence("PFX")
    digest_info, salt, _ = mac.sequence("MacData")
    hostile_mac = der.sequence(digest_info.encoded, salt.encoded, der.integer(2**31 - 1))
    hostile = der.sequence(version.encoded, auth_safe.encoded, hostile_mac)
    with pytest.raises(PKCS12FormatError, match="iteration count"):
        tlsengine.load_pkcs12(hostile, "pw")


# --------------------------------------------------------------------------- property tests


@pytest.fixture(scope="module")
def samples(pki) -> list[tuple[bytes, str]]:
    leaf = pki.leaves["ec-inter"]
    ident = Identity.create(leaf.cert, leaf.key, leaf.chain)
    files = [(build_pkcs12([ident], "pw", iterations=16), "pw"), (build_pkcs12([ident], None), "")]
    for flags in ((), ("-legacy",), ("-nomac",), ("-nomac", "-keypbe", "NONE", "-certpbe", "NONE")):
        path = pki.openssl_p12("ec-inter", *flags, "-iter", "16")
        files.append((path.read_bytes(), PASSWORD))
    return files


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _only_identity_errors(blob: bytes, password: str) -> None:
    try:
        tlsengine.load_pkcs12(blob, password)
    except IdentityError:
        pass


@FUZZ
@given(data=st.data())
def test_truncations_raise_only_identity_errors(samples, data) -> None:
    blob, password = data.draw(st.sampled_from(samples))
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(IdentityError):
        tlsengine.load_pkcs12(blob[:cut], password)


@FUZZ
@given(data=st.data())
def test_bit_flips_raise_only_identity_errors(samples, data) -> None:
    blob, password = data.draw(st.sampled_from(samples))
    flips = data.draw(st.lists(st.integers(0, len(blob) * 8 - 1), min_size=1, max_size=4))
    damaged = bytearray(blob)
    for bit in flips:
        damaged[bit // 8] ^= 1 << (bit % 8)
    _only_identity_errors(bytes(damaged), password)


@FUZZ
@given(data=st.data())
def test_splices_raise_only_identity_errors(samples, data) -> None:
    (a, password), (b, _) = data.draw(st.sampled_from(samples)), data.draw(st.sampled_from(samples))
    i = data.draw(st.integers(0, len(a)))
    j = data.draw(st.integers(0, len(b)))
    junk = data.draw(st.binary(max_size=16))
    _only_identity_errors(a[:i] + junk + b[j:], password)


@FUZZ
@given(data=st.data())
def test_failed_load_client_certificate_keeps_previous_identities(samples, data) -> None:
    good, good_password = samples[0]
    blob, password = data.draw(st.sampled_from(samples))
    flips = data.draw(st.lists(st.integers(0, len(blob) * 8 - 1), min_size=1, max_size=3))
    damaged = bytearray(blob)
    for bit in flips:
        damaged[bit // 8] ^= 1 << (bit % 8)
    try:
        tlsengine.load_client_certificate(good, good_password)
        before = tlsengine.default_store().snapshot()
        generation = tlsengine.default_store().generation
        try:
            loaded = tlsengine.load_client_certificate(bytes(damaged), password)
        except IdentityError:
            assert tlsengine.default_store().snapshot() is before
            assert tlsengine.default_store().generation == generation
        else:
            assert list(tlsengine.default_store().snapshot()) == loaded
    finally:
        tlsengine.clear_client_certificates()
