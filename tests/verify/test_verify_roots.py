"""Trust roots from cafile, cadata (PEM str/bytes, DER) and the system bundle."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tlsengine.cli.pki import CA, cert_pem, key_pem
from tlsengine.errors import CertificateVerificationError
from tlsengine.verify import ServerVerifier, load_roots, system_roots
from tlsengine.verify.roots import system_bundle_path


@pytest.fixture(scope="module")
def cas() -> tuple[CA, CA]:
    return CA.root("roots A"), CA.root("roots B")


def test_cafile_with_many_roots_and_a_stray_key(tmp_path, cas) -> None:
    a, b = cas
    path = tmp_path / "bundle.pem"
    path.write_bytes(cert_pem(a.certificate) + key_pem(a.key) + cert_pem(b.certificate))
    roots = load_roots(cafile=path)
    assert list(roots) == [a.certificate, b.certificate]
    leaf, _ = b.issue("s", client=False, server=True, dns=["localhost"])
    ServerVerifier(roots)([leaf.public_bytes(Encoding.DER)], "localhost")


@pytest.mark.parametrize("form", ["pem-str", "pem-bytes", "der"])
def test_cadata_forms(cas, form) -> None:
    a, _ = cas
    data = {
        "pem-str": cert_pem(a.certificate).decode(),
        "pem-bytes": cert_pem(a.certificate),
        "der": a.certificate.public_bytes(Encoding.DER),
    }[form]
    assert list(load_roots(cadata=data)) == [a.certificate]


def test_cafile_and_cadata_combine_without_duplicates(tmp_path, cas) -> None:
    a, b = cas
    path = tmp_path / "a.pem"
    path.write_bytes(cert_pem(a.certificate))
    roots = load_roots(cafile=path, cadata=cert_pem(a.certificate, b.certificate))
    assert len(roots) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cadata": b"not a certificate"},
        {"cadata": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
        {"cadata": b""},
        {"cadata": 42},
        {"cafile": "/nonexistent/ca.pem"},
        {"cafile": 5},
        {"cafile": "ca\x00.pem"},
    ],
)
def test_bad_roots_raise_verification_error(kwargs) -> None:
    with pytest.raises(CertificateVerificationError) as info:
        load_roots(**kwargs)
    assert info.value.rule == "trust-roots"


def test_system_roots_are_cached_and_nonempty() -> None:
    assert system_bundle_path() is not None
    first = system_roots()
    assert len(first) > 10
    assert system_roots() is first
    assert load_roots() is first
    assert first.store is first.store


def test_ssl_cert_file_overrides_the_system_bundle(tmp_path, cas, monkeypatch) -> None:
    a, _ = cas
    path = tmp_path / "only-a.pem"
    path.write_bytes(cert_pem(a.certificate))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    assert system_bundle_path() == str(path)
    assert list(system_roots()) == [a.certificate]
    monkeypatch.delenv("SSL_CERT_FILE")
    assert len(system_roots()) > 10
