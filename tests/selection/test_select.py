"""select_identity: Go's SupportsCertificate cases and Java NewSunX509's ranking, for real.

Every identity here is a real certificate chain from the session PKI; nothing is mocked.
"""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsengine.errors import IdentityError
from tlsengine.identity.index import IdentityIndex
from tlsengine.identity.model import Identity
from tlsengine.selection import CertificateRequestInfo, Verdict, select_identity

from .conftest import DAY, NOW


def tls13(*schemes: str, cas=(), cert=None, **kw) -> CertificateRequestInfo:
    return CertificateRequestInfo(
        version="TLSv1.3",
        signature_schemes=schemes,
        certificate_authorities=list(cas),
        signature_schemes_cert=cert,
        **kw,
    )


def tls12(*schemes: str, cas=(), types=("rsa_sign", "ecdsa_sign"), **kw) -> CertificateRequestInfo:
    return CertificateRequestInfo(
        version="TLSv1.2",
        signature_schemes=schemes,
        certificate_authorities=list(cas),
        certificate_types=types,
        **kw,
    )


def verdict_of(selection, identity) -> Verdict:
    (found,) = [v for v in selection.verdicts if v.identity is identity]
    return found


@pytest.fixture(scope="module")
def ids(pki):
    """One identity per key type under the EC root, and an RSA one under the intermediate."""
    return {
        "rsa": pki.identity("rsa", "rsa2048", pki.rsa_root),
        "rsa1024": pki.identity("rsa1024", "rsa1024", pki.rsa_root),
        "p256": pki.identity("p256", "p256"),
        "p384": pki.identity("p384", "p384"),
        "ed25519": pki.identity("ed25519", "ed25519"),
        "ed448": pki.identity("ed448", "ed448"),
        "inter": pki.identity("inter", "p256", pki.intermediate),
    }


# ------------------------------------------------------------------ Go's SupportsCertificate

# (identity, request, expected verdict) after Go's TestCertificateRequestInfo_SupportsCertificate
GO_CASES = [
    ("rsa", tls12("rsa_pkcs1_sha1"), "chosen"),
    ("rsa", tls12("rsa_pkcs1_sha256", "rsa_pkcs1_sha1"), "chosen"),
    ("rsa", tls12(), "no-common-scheme"),
    ("rsa", tls13("rsa_pkcs1_sha256"), "no-common-scheme"),  # no PKCS#1 in TLS 1.3
    ("rsa", tls13("rsa_pss_rsae_sha256"), "chosen"),
    ("rsa1024", tls13("rsa_pss_rsae_sha512"), "no-common-scheme"),  # modulus too small
    ("rsa1024", tls13("rsa_pss_rsae_sha512", "rsa_pss_rsae_sha384"), "chosen"),
    ("p256", tls12("rsa_pkcs1_sha1", "ecdsa_secp256r1_sha256"), "chosen"),
    ("p256", tls12("rsa_pkcs1_sha1", "ecdsa_secp384r1_sha384"), "chosen"),  # any hash in 1.2
    ("p256", tls12("rsa_pkcs1_sha1"), "no-common-scheme"),
    ("p256", tls13("ecdsa_secp384r1_sha384"), "no-common-scheme"),  # curve-bound in 1.3
    ("p256", tls13("ecdsa_secp256r1_sha256"), "chosen"),
    ("p256", tls13("ecdsa_sha1"), "no-common-scheme"),
    ("ed25519", tls12("ed25519"), "chosen"),
    ("ed25519", tls13("ed25519"), "chosen"),
    ("ed25519", tls13("ecdsa_secp256r1_sha256"), "no-common-scheme"),
    ("ed448", tls13("ed25519", "ed448"), "chosen"),
    # TLS 1.2 certificate_types narrow the offer (RFC 5246 7.4.4, as Go does)
    ("rsa", tls12("rsa_pss_rsae_sha256", types=("ecdsa_sign",)), "no-common-scheme"),
    ("ed25519", tls12("ed25519", types=("ecdsa_sign",)), "chosen"),
    ("p256", tls12("ecdsa_secp256r1_sha256", types=("rsa_sign",)), "no-common-scheme"),
]


@pytest.mark.parametrize(("name", "info", "expected"), GO_CASES)
def test_supports_certificate_like_go(ids, name, info, expected):
    selection = select_identity(info, [ids[name]])
    assert verdict_of(selection, ids[name]).verdict == expected
    assert (selection.identity is ids[name]) == (expected == "chosen")


def test_acceptable_cas_like_go(pki, ids):
    foo = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "foo")])
    info = tls13("rsa_pss_rsae_sha256", cas=[foo])
    assert verdict_of(select_identity(info, [ids["rsa"]]), ids["rsa"]).verdict == "ca-mismatch"
    info = tls13("rsa_pss_rsae_sha256", cas=[foo, pki.rsa_root.name])
    assert select_identity(info, [ids["rsa"]]).identity is ids["rsa"]


def test_scheme_is_first_in_server_order_the_key_can_make(ids):
    info = tls12("ecdsa_sha1", "rsa_pss_rsae_sha384", "ecdsa_secp521r1_sha512")
    assert select_identity(info, [ids["p256"]]).scheme == "ecdsa_sha1"
    info = tls13("ecdsa_sha1", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha256")
    assert select_identity(info, [ids["rsa"]]).scheme == "rsa_pss_rsae_sha384"


# ------------------------------------------------------------------ CA names


def test_intermediate_or_root_named_both_match(pki, ids):
    for ca in (pki.intermediate, pki.rsa_root):
        info = tls13("ecdsa_secp256r1_sha256", cas=[ca.name])
        assert select_identity(info, list(ids.values())).identity is ids["inter"]


def test_ca_named_in_another_spelling_matches_by_rfc5280(pki, ids):
    spelled = x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "TLSENGINE  test pki", _ASN1Type.UTF8String
            ),
            x509.NameAttribute(
                NameOID.COMMON_NAME, " selection test root ec ", _ASN1Type.PrintableString
            ),
        ]
    )
    assert spelled.public_bytes() != pki.ec_root.name.public_bytes()
    info = tls13("ecdsa_secp256r1_sha256", cas=[spelled])
    selection = select_identity(info, [ids["inter"], ids["p256"]])
    assert selection.identity is ids["p256"]
    assert verdict_of(selection, ids["inter"]).verdict == "ca-mismatch"


def test_ca_names_from_wire_der(pki, ids):
    info = CertificateRequestInfo.from_tls13(
        signature_schemes=[0x0403], certificate_authorities=[pki.ec_root.name.public_bytes()]
    )
    assert info.certificate_authorities == (pki.ec_root.name,)
    assert select_identity(info, [ids["inter"], ids["p256"]]).identity is ids["p256"]


def test_last_certificate_subject_counts(pki):
    cert, key = pki.ec_root.issue("lonely leaf", pki.keys["p256"])
    lonely = Identity.create(cert, key, (), alias="lonely")  # chain is just the leaf
    assert select_identity(tls13("ecdsa_secp256r1_sha256", cas=[cert.subject]), [lonely]).identity
    assert select_identity(tls13("ecdsa_secp256r1_sha256", cas=[cert.issuer]), [lonely]).identity


# ------------------------------------------------------------------ NewSunX509 ranking


def test_valid_beats_expired(pki):
    old = pki.expired("old")
    new = pki.identity("new")
    selection = select_identity(tls13("ecdsa_secp256r1_sha256"), [old, new])
    assert selection.identity is new
    assert verdict_of(selection, old) == (
        old,
        "outranked",
        ("expired",),
        verdict_of(selection, old).reason,
    )
    assert "not valid now" in verdict_of(selection, old).reason


def test_expired_but_right_beats_wrong_eku(pki):
    wrong = pki.server_only("server-only")
    old = pki.expired("old-but-right")
    selection = select_identity(tls13("ecdsa_secp256r1_sha256"), [wrong, old])
    assert selection.identity is old
    assert selection.verdicts[0].notes == ("expired",)
    assert verdict_of(selection, wrong).notes == ("eku-mismatch",)


def test_not_yet_valid_ranks_with_expired(pki):
    future = pki.identity("future", not_before=NOW + DAY, not_after=NOW + 30 * DAY)
    wrong = pki.server_only("wrong")
    selection = select_identity(tls13("ecdsa_secp256r1_sha256"), [wrong, future])
    assert selection.identity is future
    assert selection.verdicts[0].notes == ("not-yet-valid",)


def test_key_usage_mismatch_ranks_below_valid_above_expired(pki):
    ku = x509.KeyUsage(False, True, False, False, False, False, False, False, False)
    no_sign = pki.identity("no-digital-signature", key_usage=ku)
    good = pki.identity("good")
    old = pki.expired("old")
    info = tls13("ecdsa_secp256r1_sha256")
    assert select_identity(info, [no_sign, old, good]).identity is good
    selection = select_identity(info, [old, no_sign])
    assert selection.identity is no_sign
    assert selection.verdicts[0].notes == ("key-usage-mismatch",)


def test_no_eku_and_any_eku_are_fine(pki):
    bare = pki.identity("no-eku", eku=[])
    anything = pki.identity("any-eku", eku=[ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])
    wrong = pki.server_only("wrong")
    info = tls13("ecdsa_secp256r1_sha256")
    assert select_identity(info, [wrong, bare]).identity is bare
    assert select_identity(info, [wrong, anything]).identity is anything


def test_pin_beats_all(pki):
    good = pki.identity("good")
    pinned = pki.expired("pinned", eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    info = tls13("ecdsa_secp256r1_sha256", server_name="API.Example.")
    fingerprint = ":".join(pinned.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    selection = select_identity(info, [good, pinned], pins={"api.example": fingerprint})
    assert selection.identity is pinned
    assert selection.verdicts[0].notes == ("pinned", "expired", "eku-mismatch")
    assert "pinned" in verdict_of(selection, good).reason
    # pins for another host change nothing; a set of fingerprints works
    assert (
        select_identity(info, [good, pinned], pins={"other": pinned.fingerprint}).identity is good
    )
    pins = {"api.example": {pinned.fingerprint, "00" * 32}}
    assert select_identity(info, [good, pinned], pins=pins).identity is pinned


def test_pins_under_two_spellings_of_one_host_both_count(pki):
    first = pki.identity("first")
    second = pki.identity("second")
    info = tls13("ecdsa_secp256r1_sha256", server_name="api.example")
    pins = {"API.example.": second.fingerprint, "api.example": first.fingerprint}
    selection = select_identity(info, [first, second], pins=pins)
    assert selection.identity is first
    assert "pinned" in verdict_of(selection, first).notes
    assert "pinned" in verdict_of(selection, second).notes


def test_pin_does_not_override_hard_filters(pki):
    good = pki.identity("good")
    pinned = pki.identity("pinned-ed", "ed25519")
    info = tls13("ecdsa_secp256r1_sha256", server_name="a")
    selection = select_identity(info, [pinned, good], pins={"a": pinned.fingerprint})
    assert selection.identity is good
    assert verdict_of(selection, pinned).verdict == "no-common-scheme"


def test_chain_coverage_demotes_but_never_excludes(pki):
    under_rsa = pki.identity("under-rsa", "p256", pki.rsa_root)  # rsa_pkcs1_sha256 signature
    under_ec = pki.identity("under-ec", "p256", pki.ec_root)  # ecdsa_secp256r1_sha256
    info = tls13("ecdsa_secp256r1_sha256", cert=["ecdsa_secp256r1_sha256"])
    selection = select_identity(info, [under_rsa, under_ec])
    assert selection.identity is under_ec
    assert verdict_of(selection, under_rsa).notes == ("cert-sig-unsupported",)
    assert "signature_algorithms_cert" in verdict_of(selection, under_rsa).reason
    # nothing covered: the best uncovered identity is still sent, marked
    info = tls13("ecdsa_secp256r1_sha256", cert=["ed448"])
    selection = select_identity(info, [under_rsa])
    assert selection.identity is under_rsa
    assert selection.verdicts[0].notes == ("cert-sig-unsupported",)
    # without signature_algorithms_cert, signature_algorithms decides (RFC 8446 4.2.3)
    p384_rsa = pki.identity("p384-under-rsa", "p384", pki.rsa_root)
    p384_ec = pki.identity("p384-under-ec", "p384", pki.ec_root)
    info = tls13("ecdsa_secp384r1_sha384", "rsa_pkcs1_sha256")
    selection = select_identity(info, [p384_ec, p384_rsa])
    assert selection.identity is p384_rsa
    assert verdict_of(selection, p384_ec).notes == ("cert-sig-unsupported",)


def test_server_scheme_order_then_load_order(pki, ids):
    info = tls13("ed25519", "ecdsa_secp256r1_sha256")
    assert select_identity(info, [ids["p256"], ids["ed25519"]]).identity is ids["ed25519"]
    twin_a, twin_b = pki.identity("twin-a"), pki.identity("twin-b")
    assert select_identity(info, [twin_a, twin_b]).identity is twin_a
    selection = select_identity(info, [twin_b, twin_a])
    assert selection.identity is twin_b
    assert "loaded after" in verdict_of(selection, twin_a).reason


# ------------------------------------------------------------------ OID filters (RFC 8446 4.2.5)

CLIENT_AUTH_FILTER = ("2.5.29.37", bytes.fromhex("300a06082b06010505070302"))
DIGITAL_SIGNATURE_FILTER = ("2.5.29.15", bytes.fromhex("03020780"))


def test_oid_filters(pki):
    server_only = pki.server_only("server-only")
    ku = x509.KeyUsage(False, True, False, False, False, False, False, False, False)
    no_sign = pki.identity("no-sign", key_usage=ku)
    good = pki.identity("good")
    everyone = [server_only, no_sign, good]
    selection = select_identity(
        tls13("ecdsa_secp256r1_sha256", oid_filters=[CLIENT_AUTH_FILTER]), everyone
    )
    assert verdict_of(selection, server_only).verdict == "oid-filter-mismatch"
    assert "1.3.6.1.5.5.7.3.2" in verdict_of(selection, server_only).reason
    assert verdict_of(selection, no_sign).verdict == "outranked"
    info = tls13("ecdsa_secp256r1_sha256", oid_filters=dict([DIGITAL_SIGNATURE_FILTER]))
    selection = select_identity(info, [no_sign, good])
    assert selection.identity is good
    assert "digital_signature" in verdict_of(selection, no_sign).reason
    # unrecognised OIDs are skipped; malformed values for known OIDs match nothing
    info = tls13("ecdsa_secp256r1_sha256", oid_filters=[("1.2.3.4", b"\x05\x00")])
    assert select_identity(info, [no_sign]).identity is no_sign
    info = tls13("ecdsa_secp256r1_sha256", oid_filters=[("2.5.29.15", b"\x04\x00")])
    selection = select_identity(info, [good])
    assert selection.identity is None
    assert "malformed" in selection.verdicts[0].reason


# ------------------------------------------------------------------ callback and outputs


def test_callback_overrides_and_sees_verdicts(pki, ids):
    seen = []

    def pick_last(info, candidates):
        seen.extend(candidates)
        return candidates[-1].identity

    info = tls13("ecdsa_secp256r1_sha256", "ed25519")
    selection = select_identity(info, [ids["p256"], ids["ed25519"]], callback=pick_last)
    assert [v.verdict for v in seen] == ["chosen", "outranked"]
    assert selection.identity is ids["ed25519"] and selection.scheme == "ed25519"
    assert "chosen-by-callback" in selection.verdicts[0].notes
    assert "callback chose" in verdict_of(selection, ids["p256"]).reason

    declined = select_identity(info, [ids["p256"]], callback=lambda i, c: None)
    assert declined.identity is None and declined.scheme is None
    assert declined.verdicts[0].verdict == "callback-declined"

    with pytest.raises(IdentityError, match="cannot sign with any scheme"):
        select_identity(info, [ids["p256"]], callback=lambda i, c: ids["rsa"])


def test_every_identity_gets_a_verdict_and_outputs_render(pki, ids):
    info = tls13("ecdsa_secp256r1_sha256", cas=[pki.ec_root.name], server_name="x.example")
    everyone = list(ids.values())
    selection = select_identity(info, everyone)
    assert {id(v.identity) for v in selection.verdicts} == {id(i) for i in everyone}
    identity, verdict, notes, reason = selection.verdicts[0]
    assert (identity, verdict) == (ids["p256"], "chosen") and reason.endswith(".")
    data = json.loads(json.dumps(selection.to_dict()))
    assert data["chosen"] == "p256" and data["scheme"] == "ecdsa_secp256r1_sha256"
    assert {c["verdict"] for c in data["candidates"]} == {
        "chosen",
        "ca-mismatch",
        "no-common-scheme",
    }
    text = selection.explain()
    assert "x.example" in text and all(i.alias in text for i in everyone)
    assert "PRIVATE" not in text and "PRIVATE" not in repr(selection)


def test_nothing_loaded():
    selection = select_identity(tls13("ed25519"), [])
    assert selection.identity is None and selection.verdicts == []
    assert "no identities" in selection.explain()


def test_accepts_an_index_or_an_object_with_one(ids):
    index = IdentityIndex(tuple(ids.values()))

    class Store:
        pass

    store = Store()
    store.index = index
    info = tls13("ed448")
    assert select_identity(info, index).identity is ids["ed448"]
    assert select_identity(info, store).identity is ids["ed448"]


def test_bad_inputs_raise_documented_errors(ids):
    with pytest.raises(IdentityError):
        select_identity(tls13("ed25519"), ["not an identity"])
    with pytest.raises(IdentityError):
        select_identity({"version": "TLSv1.3"}, [])


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["2.5.29.15", "2.5.29.37"]), st.binary(max_size=24))
def test_any_filter_bytes_end_in_a_verdict(ids, oid, value):
    info = tls13("ecdsa_secp256r1_sha256", oid_filters=[(oid, value)])
    selection = select_identity(info, [ids["p256"]])
    assert selection.verdicts[0].verdict in ("chosen", "oid-filter-mismatch")


def test_identity_store_index_is_used(pki):
    store_module = pytest.importorskip("tlsengine.identity.store")
    store = store_module.IdentityStore()
    for n in range(3):
        store.add(pki.identity(f"store-{n}", ca=pki.intermediate if n == 2 else None))
    info = tls13("ecdsa_secp256r1_sha256", cas=[pki.intermediate.name])
    selection = select_identity(info, store)
    assert selection.identity.alias == "store-2"
    assert store.index is store.index  # cached per generation
    assert [v.verdict for v in selection.verdicts] == ["chosen", "ca-mismatch", "ca-mismatch"]
