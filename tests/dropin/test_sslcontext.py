"""`tlsengine.SSLContext` settings: what maps onto `ClientContext`, what is refused, and
``load_cert_chain``/``load_verify_locations`` with the inputs ``ssl`` accepts."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tlsengine
from tlsengine import (
    CertificateVerificationError,
    IdentityError,
    IdentityMismatchError,
    PKCS12PasswordError,
)
from tlsengine.identity.model import Identity
from tlsengine.testing import CA, cert_pem, key_pem

from .conftest import PASSWORD


def test_is_an_ssl_context_with_ssl_defaults() -> None:
    ctx = tlsengine.SSLContext()
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    engine = ctx.client_context
    assert engine.verify and engine.check_hostname
    assert (engine.minimum_version, engine.maximum_version) == ("TLSv1.2", "TLSv1.3")
    assert engine.identities is None  # the process-wide default store
    assert ctx.post_handshake_auth and engine.post_handshake_auth  # ssl's default is off
    assert ctx.client_context is engine  # reused while the settings hold


def test_settings_map_onto_the_client_context() -> None:
    ctx = tlsengine.SSLContext()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    ctx.post_handshake_auth = True
    engine = ctx.client_context
    assert not engine.verify and not engine.check_hostname
    assert engine.minimum_version == "TLSv1.3"
    assert engine.alpn_protocols == ("h2", "http/1.1")
    assert engine.post_handshake_auth


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"maximum_version": ssl.TLSVersion.TLSv1_2}, ("TLSv1.2", "TLSv1.2")),
        ({"options": ssl.OP_NO_TLSv1_3}, ("TLSv1.2", "TLSv1.2")),
        ({"options": ssl.OP_NO_TLSv1_2}, ("TLSv1.3", "TLSv1.3")),
        ({"minimum_version": ssl.TLSVersion.TLSv1}, ("TLSv1.2", "TLSv1.3")),
        ({"minimum_version": ssl.TLSVersion.MINIMUM_SUPPORTED}, ("TLSv1.2", "TLSv1.3")),
    ],
)
def test_versions(setting: dict[str, Any], expected: tuple[str, str]) -> None:
    ctx = tlsengine.SSLContext()
    for name, value in setting.items():
        setattr(ctx, name, getattr(ctx, name) | value if name == "options" else value)
    engine = ctx.client_context
    assert (engine.minimum_version, engine.maximum_version) == expected


def test_no_version_left_is_an_ssl_error() -> None:
    ctx = tlsengine.SSLContext()
    ctx.options |= ssl.OP_NO_TLSv1_2 | ssl.OP_NO_TLSv1_3
    with pytest.raises(ssl.SSLError, match="no TLS version left"):
        ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")


@pytest.mark.parametrize(
    ("action", "name"),
    [
        (lambda c: setattr(c, "maximum_version", ssl.TLSVersion.TLSv1_1), "maximum_version"),
        (lambda c: setattr(c, "hostname_checks_common_name", True), "common_name"),
        (lambda c: setattr(c, "verify_flags", ssl.VERIFY_CRL_CHECK_LEAF), "verify_flags"),
        (lambda c: setattr(c, "sni_callback", lambda *a: None), "sni_callback"),
        (lambda c: c.set_servername_callback(lambda *a: None), "set_servername_callback"),
        (lambda c: c.load_dh_params("dh.pem"), "load_dh_params"),
        (lambda c: c.set_ecdh_curve("prime256v1"), "set_ecdh_curve"),
        (lambda c: c.set_npn_protocols(["http/1.1"]), "set_npn_protocols"),
        (lambda c: c.set_ciphers("AES256-SHA"), "set_ciphers"),
    ],
)
def test_settings_we_cannot_honour_say_so(action: Any, name: str) -> None:
    with pytest.raises(NotImplementedError, match=name):
        action(tlsengine.SSLContext())


def test_settings_we_honour_are_accepted() -> None:
    ctx = tlsengine.SSLContext()
    ctx.hostname_checks_common_name = False
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET
    assert not ctx.hostname_checks_common_name
    assert ctx.verify_flags & ssl.VERIFY_X509_STRICT
    assert ctx.client_context.verify


def test_server_contexts_are_left_to_ssl(server_pki: Any) -> None:
    ctx = tlsengine.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(server_pki.cert_file, server_pki.key_file)
    ctx.set_ecdh_curve("prime256v1")
    bio = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)
    assert type(bio) is ssl.SSLObject


# --------------------------------------------------------------------------- trust


def test_load_verify_locations_forms(server_pki: Any, root_ca: CA, tmp_path: Path) -> None:
    ctx = tlsengine.SSLContext()
    with pytest.raises(TypeError):
        ctx.load_verify_locations()
    ctx.load_verify_locations(cafile=str(server_pki.ca_file))
    ctx.load_verify_locations(cafile=server_pki.ca_file)  # the same file again: no duplicate
    assert ctx.cert_store_stats()["x509"] == 1
    # get_ca_certs: the dicts ssl itself builds for the same file
    stdlib = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    stdlib.load_verify_locations(cafile=str(server_pki.ca_file))
    assert ctx.get_ca_certs() == stdlib.get_ca_certs()
    assert ctx.get_ca_certs(binary_form=True) == stdlib.get_ca_certs(binary_form=True)

    other = CA.root("second root")
    der = root_ca.certificate.public_bytes(Encoding.DER)
    both = tlsengine.SSLContext()
    both.load_verify_locations(cadata=der + other.certificate.public_bytes(Encoding.DER))
    both.load_verify_locations(cadata=other.pem.decode())
    assert both.cert_store_stats()["x509"] == 3
    directory = tmp_path / "capath"
    directory.mkdir()
    (directory / "a.pem").write_bytes(root_ca.pem)
    (directory / "README").write_text("not a certificate")
    by_dir = tlsengine.SSLContext()
    by_dir.load_verify_locations(capath=directory)
    assert by_dir.cert_store_stats()["x509"] == 1


def test_bad_roots_are_ssl_errors_of_ours(tmp_path: Path) -> None:
    ctx = tlsengine.SSLContext()
    with pytest.raises(ssl.SSLError) as info:
        ctx.load_verify_locations(cafile=tmp_path / "missing.pem")
    assert isinstance(info.value, CertificateVerificationError)
    with pytest.raises(CertificateVerificationError):
        ctx.load_verify_locations(cadata=b"\x30\x03\x02\x01\x01")


# --------------------------------------------------------------------------- identities


@pytest.fixture
def pem_files(identity_a: Identity, tmp_path: Path) -> dict[str, Path]:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(cert_pem(*identity_a.chain))
    key = tmp_path / "key.pem"
    key.write_bytes(key_pem(identity_a.private_key))
    combined = tmp_path / "combined.pem"
    combined.write_bytes(cert_pem(*identity_a.chain) + key_pem(identity_a.private_key))
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        identity_a.private_key.private_bytes(
            Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    return {"chain": chain, "key": key, "combined": combined, "encrypted": encrypted}


def test_load_cert_chain_pem(pem_files: dict[str, Path], identity_a: Identity) -> None:
    for certfile, keyfile, password in [
        (pem_files["chain"], pem_files["key"], None),
        (pem_files["combined"], None, None),
        (str(pem_files["chain"]), str(pem_files["encrypted"]), "s3cret"),
        (pem_files["chain"], pem_files["encrypted"], b"s3cret"),
        (pem_files["chain"], pem_files["encrypted"], lambda: "s3cret"),
    ]:
        ctx = tlsengine.SSLContext()
        ctx.load_cert_chain(certfile, keyfile, password)
        (identity,) = list(ctx.identities)
        assert identity.fingerprint == identity_a.fingerprint
        assert len(identity.chain) == len(identity_a.chain)
    assert len(tlsengine.default_store()) == 0  # the default store is never touched


def test_load_cert_chain_pkcs12_adds_every_identity(
    pkcs12_bytes: bytes, tmp_path: Path, identity_a: Identity, identity_b: Identity
) -> None:
    p12 = tmp_path / "both.p12"
    p12.write_bytes(pkcs12_bytes)
    ctx = tlsengine.SSLContext()
    ctx.load_cert_chain(p12, password=PASSWORD)
    assert [i.fingerprint for i in ctx.identities] == [
        identity_a.fingerprint,
        identity_b.fingerprint,
    ]
    with pytest.raises(IdentityError, match="keyfile"):
        ctx.load_cert_chain(p12, p12, PASSWORD)


def test_load_cert_chain_errors(
    pem_files: dict[str, Path], identity_b: Identity, tmp_path: Path
) -> None:
    ctx = tlsengine.SSLContext()
    with pytest.raises(PKCS12PasswordError) as info:
        ctx.load_cert_chain(pem_files["chain"], pem_files["encrypted"])
    assert isinstance(info.value, ssl.SSLError)  # what urllib3 and friends catch
    with pytest.raises(PKCS12PasswordError):
        ctx.load_cert_chain(pem_files["chain"], pem_files["encrypted"], "wrong")
    other_key = tmp_path / "other.key"
    other_key.write_bytes(key_pem(identity_b.private_key))
    with pytest.raises(IdentityMismatchError):
        ctx.load_cert_chain(pem_files["chain"], other_key)
    with pytest.raises(IdentityError):
        ctx.load_cert_chain(tmp_path / "missing.pem")
    with pytest.raises(TypeError):
        ctx.load_cert_chain(pem_files["combined"], password=42)
    assert ctx.identities is None  # nothing half-loaded


def test_derive_copies_settings_and_leaves_the_original(server_pki: Any, identities: Any):
    ctx = tlsengine.SSLContext(identities=identities)
    ctx.load_verify_locations(cafile=server_pki.ca_file)
    ctx.set_alpn_protocols(["http/1.1"])
    insecure = ctx.derive(verify=False)
    assert not insecure.client_context.verify and insecure.identities is ctx.identities
    assert insecure.client_context.alpn_protocols == ("http/1.1",)
    more = ctx.derive(verify=str(server_pki.ca_file))
    assert more.cert_store_stats() == ctx.cert_store_stats()  # same file: no duplicate
    assert ctx.client_context.verify and ctx.verify_mode == ssl.CERT_REQUIRED


_PEM_PIECES = st.sampled_from(
    [
        b"-----BEGIN CERTIFICATE-----\n",
        b"-----END CERTIFICATE-----\n",
        b"-----BEGIN PRIVATE KEY-----\n",
        b"-----END PRIVATE KEY-----\n",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
        b"MIIBkTCB+wIJAK\n",
        b"\x30\x82\x01\x00",
    ]
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=400), st.lists(_PEM_PIECES | st.binary(max_size=40)).map(b"".join)
    ),
    password=st.sampled_from([None, "pw", b"pw"]),
)
def test_fuzzed_cert_files_end_in_identity_errors(
    tmp_path: Path, data: bytes, password: Any
) -> None:
    """Whatever the file holds, load_cert_chain raises an IdentityError (also ssl.SSLError)
    and leaves the context as it was."""
    path = tmp_path / "fuzz.pem"
    path.write_bytes(data)
    ctx = tlsengine.SSLContext()
    with pytest.raises(IdentityError) as info:
        ctx.load_cert_chain(path, password=password)
    assert isinstance(info.value, ssl.SSLError)
    assert ctx.identities is None
