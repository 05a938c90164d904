"""Audit of the selection layer's public entry points: CertificateRequestInfo's keyword
constructor and select_identity, with bad input and against the ranking of docs/selection.md."""

from __future__ import annotations

import datetime

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

import tlsengine
from tlsengine.selection.request import CertificateRequestInfo

from .checks import only_documented_errors

NOW = datetime.datetime.now(datetime.UTC)


def _info(**kw) -> CertificateRequestInfo:
    kw.setdefault("version", "TLSv1.3")
    kw.setdefault("signature_schemes", ["ecdsa_secp256r1_sha256"])
    return CertificateRequestInfo(**kw)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"signature_schemes": [("a", "b")]},
        {"signature_schemes": [(1.5, 2)]},
        {"signature_schemes": 5},
        {"signature_schemes_cert": 5},
        {"certificate_authorities": 5},
        {"version": "TLSv1.2", "certificate_types": 5},
        {"certificate_authorities_der": 5},
    ],
    ids=[
        "str-pair",
        "float-pair",
        "schemes-int",
        "cert-schemes-int",
        "cas-int",
        "types-int",
        "der-int",
    ],
)
def test_request_info_bad_input_is_a_documented_error(kwargs):
    only_documented_errors(_info, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"now": "2024-01-01"},
        {"pins": {"h.example": 5}},
        {"pins": {5: "ab"}},
        {"pins": "h.example"},
        {"identities": None},
    ],
    ids=["now-str", "pin-int", "pin-host-int", "pins-str", "identities-none"],
)
def test_select_identity_bad_arguments_are_documented_errors(root_ca, kwargs):
    identities = kwargs.pop("identities", [root_ca.identity("sel", "p256")])
    only_documented_errors(
        tlsengine.select_identity, _info(server_name="h.example"), identities, **kwargs
    )


def test_design_ranking_order(root_ca, other_root_ca):
    """docs/selection.md: pinned, valid+EKU+KU, valid, expired, EKU mismatch; coverage demotes."""
    day = datetime.timedelta(days=1)
    expired = root_ca.identity("expired", "p256", not_before=NOW - 30 * day, not_after=NOW - day)
    wrong_eku = root_ca.identity("server-eku", "p256", eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    good = root_ca.identity("good", "p256")
    info = _info(server_name="h.example")
    # expired-but-right beats valid-with-wrong-EKU (Java NewSunX509)
    assert tlsengine.select_identity(info, [wrong_eku, expired]).identity is expired
    assert tlsengine.select_identity(info, [expired, good]).identity is good
    # a pin beats everything, even an expired identity
    pins = {"H.example.": expired.fingerprint}
    chosen = tlsengine.select_identity(info, [good, expired], pins=pins)
    assert chosen.identity is expired
    # chain coverage demotes but never excludes
    narrow = _info(signature_schemes_cert=["ed25519"])
    selection = tlsengine.select_identity(narrow, [good])
    assert selection.identity is good
    assert "cert-sig-unsupported" in selection.verdicts[0].notes
    codes = {
        v.identity.alias: v.verdict
        for v in tlsengine.select_identity(
            _info(certificate_authorities=[other_root_ca.name]), [good]
        ).verdicts
    }
    assert codes == {"good": "ca-mismatch"}
