"""A keytool-made keystore with three identities under three CAs: each CA list picks its own.

The keystore is built the way Java users build theirs: openssl makes one .p12 per identity,
``keytool -importkeystore`` merges them into one PKCS#12 file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

import tlsengine
from tlsengine.selection import CertificateRequestInfo, select_identity
from tlsengine.testing import CA, cert_pem, key_pem

pytest.importorskip("tlsengine.identity.pkcs12", reason="the PKCS#12 loader has not landed")

PASSWORD = "changeit"
SCHEMES = ["ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha256", "ecdsa_secp256r1_sha256"]


@pytest.fixture(scope="module")
def cas(pki) -> dict[str, CA]:
    third_root = CA.root("Keytool Test Root C", key="p256")
    return {
        "ec-member": pki.ec_root,
        "rsa-member": pki.rsa_root,
        "inter-member": third_root.intermediate("Keytool Test Issuing CA C", key="p256"),
    }


@pytest.fixture(scope="module")
def keystore(pki, cas, tmp_path_factory) -> Path:
    openssl, keytool = require_tool("openssl"), require_tool("keytool")
    directory = tmp_path_factory.mktemp("keytool-selection")
    target = directory / "three.p12"
    keys = {"ec-member": "p256", "rsa-member": "rsa2048", "inter-member": "p384"}
    for alias, ca in cas.items():
        cert, key = ca.issue(alias, pki.keys[keys[alias]])
        (directory / f"{alias}.crt").write_bytes(cert_pem(cert))
        (directory / f"{alias}.key").write_bytes(key_pem(key))
        (directory / f"{alias}.chain").write_bytes(cert_pem(ca.certificate, *ca.parents))
        single = directory / f"{alias}.p12"
        subprocess.run(
            [openssl, "pkcs12", "-export", "-name", alias,
             "-in", str(directory / f"{alias}.crt"), "-inkey", str(directory / f"{alias}.key"),
             "-certfile", str(directory / f"{alias}.chain"),
             "-passout", f"pass:{PASSWORD}", "-out", str(single)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        subprocess.run(
            [keytool, "-importkeystore", "-noprompt",
             "-srckeystore", str(single), "-srcstoretype", "PKCS12", "-srcstorepass", PASSWORD,
             "-destkeystore", str(target), "-deststoretype", "PKCS12",
             "-deststorepass", PASSWORD],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return target


def test_each_ca_list_selects_its_identity(keystore, cas):
    identities = tlsengine.load_pkcs12(keystore, PASSWORD)
    assert sorted(i.alias for i in identities) == sorted(cas)
    for alias, ca in cas.items():
        info = CertificateRequestInfo(
            version="TLSv1.3", certificate_authorities=[ca.name], signature_schemes=SCHEMES
        )
        selection = select_identity(info, identities)
        assert selection.identity is not None and selection.identity.alias == alias
        verdicts = {v.identity.alias: v.verdict for v in selection.verdicts}
        assert verdicts == {a: "chosen" if a == alias else "ca-mismatch" for a in cas}


def test_root_of_the_intermediate_also_selects_it(keystore, cas):
    identities = tlsengine.load_pkcs12(keystore, PASSWORD)
    root = cas["inter-member"].parents[0]
    info = CertificateRequestInfo(
        version="TLSv1.2",
        certificate_authorities=[root.subject],
        signature_schemes=["rsa_pkcs1_sha256", "ecdsa_secp256r1_sha256"],
        certificate_types=["rsa_sign", "ecdsa_sign"],
    )
    selection = select_identity(info, identities)
    assert selection.identity.alias == "inter-member"
    assert selection.scheme == "ecdsa_secp256r1_sha256"  # TLS 1.2: any ECDSA hash, any curve
