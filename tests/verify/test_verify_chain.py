"""Server chain verification: each rule we name, under both profiles, on generated chains."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsengine.cli.pki import CA, generate_key
from tlsengine.errors import CertificateVerificationError
from tlsengine.verify import ServerVerifier, TrustRoots
from tlsengine.verify.chain import PROFILES

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def pki() -> dict[str, object]:
    root = CA.root("verify root")
    other = CA.root("verify other root")
    inter = root.intermediate("verify intermediate")
    return {"root": root, "other": other, "inter": inter, "key": generate_key("p256")}


def der(*certs: x509.Certificate) -> list[bytes]:
    from cryptography.hazmat.primitives.serialization import Encoding

    return [c.public_bytes(Encoding.DER) for c in certs]


def server_leaf(ca: CA, **kw: object) -> x509.Certificate:
    kw.setdefault("dns", ["localhost", "*.example.test"])
    kw.setdefault("ips", ["127.0.0.1", "::1"])
    cert, _ = ca.issue("server", client=False, server=True, **kw)  # type: ignore[arg-type]
    return cert


def hand_leaf(
    issuer: CA,
    key: object,
    *,
    aki: bool = True,
    san: bool = True,
    bc_critical: bool = True,
    signer: object | None = None,
) -> x509.Certificate:
    """A leaf built by hand, to break exactly one Web PKI rule at a time."""
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(issuer.name)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 30 * DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), bc_critical)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    )
    if aki:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
    return b.sign(signer or issuer.key, hashes.SHA256())  # type: ignore[arg-type]


def roots(*cas: CA) -> TrustRoots:
    return TrustRoots(tuple(ca.certificate for ca in cas), "test")


def rule_of(verifier: ServerVerifier, chain: list[bytes], name: str | None) -> str | None:
    with pytest.raises(CertificateVerificationError) as info:
        verifier(chain, name)
    return info.value.rule


@pytest.mark.parametrize("profile", PROFILES)
def test_good_chain_through_intermediate_passes(pki, profile) -> None:
    leaf = server_leaf(pki["inter"])
    v = ServerVerifier(roots(pki["root"]), profile=profile)
    path = v(der(leaf, pki["inter"].certificate), "localhost")
    assert path[0] == leaf and path[-1] == pki["root"].certificate


@pytest.mark.parametrize("name", ["127.0.0.1", "::1", "[::1]", "a.example.test", "LOCALHOST."])
def test_dns_and_ip_subjects_match(pki, name) -> None:
    ServerVerifier(roots(pki["root"]))(der(server_leaf(pki["root"])), name)


@pytest.mark.parametrize("name", ["127.0.0.2", "other.test", "a.b.example.test", "::2"])
def test_hostname_or_ip_mismatch_is_named(pki, name) -> None:
    v = ServerVerifier(roots(pki["root"]))
    assert rule_of(v, der(server_leaf(pki["root"])), name) == "hostname-mismatch"


def test_check_hostname_off_still_validates_path(pki) -> None:
    leaf = server_leaf(pki["root"])
    ServerVerifier(roots(pki["root"]), check_hostname=False)(der(leaf), "wrong.test")
    other = ServerVerifier(roots(pki["other"]), check_hostname=False)
    assert rule_of(other, der(leaf), None) == "unknown-issuer"


def test_check_hostname_without_name_is_refused(pki) -> None:
    v = ServerVerifier(roots(pki["root"]))
    with pytest.raises(CertificateVerificationError, match="server_hostname"):
        v(der(server_leaf(pki["root"])), None)


@pytest.mark.parametrize("profile", PROFILES)
def test_unknown_ca_is_named(pki, profile) -> None:
    v = ServerVerifier(roots(pki["other"]), profile=profile)
    with pytest.raises(CertificateVerificationError) as info:
        v(der(server_leaf(pki["root"])), "localhost")
    assert info.value.rule == "unknown-issuer"
    assert "verify root" in str(info.value)


def test_missing_intermediate_is_unknown_issuer(pki) -> None:
    v = ServerVerifier(roots(pki["root"]))
    assert rule_of(v, der(server_leaf(pki["inter"])), "localhost") == "unknown-issuer"


@pytest.mark.parametrize("profile", PROFILES)
def test_expired_and_not_yet_valid_are_told_apart(pki, profile) -> None:
    v = ServerVerifier(roots(pki["root"]), profile=profile)
    old = server_leaf(pki["root"], not_before=NOW - 10 * DAY, not_after=NOW - DAY)
    young = server_leaf(pki["root"], not_before=NOW + DAY, not_after=NOW + 10 * DAY)
    assert rule_of(v, der(old), "localhost") == "expired"
    assert rule_of(v, der(young), "localhost") == "not-yet-valid"


def test_validation_time_is_pinnable(pki) -> None:
    leaf = server_leaf(pki["root"])
    later = ServerVerifier(roots(pki["root"]), now=NOW + 400 * DAY)
    assert rule_of(later, der(leaf), "localhost") == "expired"


@pytest.mark.parametrize("profile", PROFILES)
def test_bad_signature_is_named(pki, profile) -> None:
    forged = hand_leaf(pki["root"], pki["key"], signer=pki["other"].key)
    v = ServerVerifier(roots(pki["root"]), profile=profile)
    assert rule_of(v, der(forged), "localhost") == "invalid-signature"


def test_leaf_without_aki_rejected_by_webpki_accepted_by_relaxed(pki) -> None:
    leaf = hand_leaf(pki["root"], pki["key"], aki=False)
    strict = ServerVerifier(roots(pki["root"]))
    with pytest.raises(CertificateVerificationError) as info:
        strict(der(leaf), "localhost")
    assert info.value.rule == "policy"
    assert "relaxed" in str(info.value)
    ServerVerifier(roots(pki["root"]), profile="relaxed")(der(leaf), "localhost")


def test_relaxed_accepts_non_critical_basic_constraints_on_leaf(pki) -> None:
    leaf = hand_leaf(pki["root"], pki["key"], aki=False, bc_critical=False)
    ServerVerifier(roots(pki["root"]), profile="relaxed")(der(leaf), "localhost")


def test_relaxed_still_requires_a_ca_issuer(pki) -> None:
    not_ca_cert, not_ca_key = pki["root"].issue("not a ca", client=False, server=True)
    fake = CA(not_ca_cert, not_ca_key, (pki["root"].certificate,))
    leaf = hand_leaf(fake, pki["key"])
    v = ServerVerifier(roots(pki["root"]), profile="relaxed")
    assert rule_of(v, der(leaf, not_ca_cert), "localhost") == "not-a-ca"


def test_relaxed_still_checks_hostname_and_server_eku(pki) -> None:
    v = ServerVerifier(roots(pki["root"]), profile="relaxed")
    leaf = hand_leaf(pki["root"], pki["key"], aki=False)
    assert rule_of(v, der(leaf), "elsewhere.test") == "hostname-mismatch"
    client_only, _ = pki["root"].issue("client", client=True, server=False, dns=["localhost"])
    assert rule_of(v, der(client_only), "localhost") == "eku-mismatch"
    assert rule_of(ServerVerifier(roots(pki["root"])), der(client_only), "localhost") == (
        "eku-mismatch"
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_leaf_without_san_is_named(pki, profile) -> None:
    leaf = hand_leaf(pki["root"], pki["key"], san=False)
    v = ServerVerifier(roots(pki["root"]), profile=profile)
    assert rule_of(v, der(leaf), "localhost") == "missing-san"


def test_garbage_and_empty_chains(pki) -> None:
    v = ServerVerifier(roots(pki["root"]))
    assert rule_of(v, [], "localhost") == "empty-chain"
    assert rule_of(v, [b"\x30\x03\x02\x01\x01"], "localhost") == "malformed"
    assert rule_of(v, [b""], "localhost") == "malformed"


def test_bind_gives_the_protocol_callable(pki) -> None:
    leaf = server_leaf(pki["root"])
    good = ServerVerifier(roots(pki["root"])).bind("localhost")
    assert good(der(leaf)) is None
    bad = ServerVerifier(roots(pki["root"])).bind("nope.test")
    with pytest.raises(CertificateVerificationError):
        bad(der(leaf))


def test_unknown_profile_is_refused(pki) -> None:
    with pytest.raises(CertificateVerificationError, match="relaxed"):
        ServerVerifier(roots(pki["root"]), profile="lenient")  # type: ignore[arg-type]


def _bare(subject: str, issuer: str, key: object, signer: object, exts: list) -> x509.Certificate:
    """A certificate with only the extensions given: how many private CAs issue them."""
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 30 * DAY)
    )
    for ext, critical in exts:
        b = b.add_extension(ext, critical)
    return b.sign(signer, hashes.SHA256())  # type: ignore[arg-type]


def test_private_pki_without_key_ids_only_passes_relaxed() -> None:
    rk, ik, lk = (generate_key("p256") for _ in range(3))
    ca_bc = (x509.BasicConstraints(ca=True, path_length=None), False)  # not critical
    san = (x509.SubjectAlternativeName([x509.DNSName("svc.internal")]), False)
    root = _bare("private root", "private root", rk, rk, [ca_bc])
    inter = _bare("private issuing", "private root", ik, rk, [ca_bc])
    leaf = _bare("svc", "private issuing", lk, ik, [san])
    chain = der(leaf, inter)
    anchors = TrustRoots((root,), "test")
    assert rule_of(ServerVerifier(anchors), chain, "svc.internal") == "policy"
    path = ServerVerifier(anchors, profile="relaxed")(chain, "svc.internal")
    assert path == [leaf, inter, root]
    relaxed = ServerVerifier(anchors, profile="relaxed")
    assert rule_of(relaxed, chain, "other.internal") == "hostname-mismatch"
    bare_root = _bare("private root", "private root", rk, rk, [])
    no_bc = ServerVerifier(TrustRoots((bare_root,), "test"), profile="relaxed")
    assert rule_of(no_bc, chain, "svc.internal") == "not-a-ca"


@pytest.mark.parametrize("profile", PROFILES)
def test_small_rsa_server_key_is_weak(pki, profile) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    leaf, _ = pki["root"].issue("s", small, client=False, server=True, dns=["localhost"])
    v = ServerVerifier(roots(pki["root"]), profile=profile)
    assert rule_of(v, der(leaf), "localhost") == "weak-key"
    assert rule_of(ServerVerifier(roots(pki["root"]), check_hostname=False), der(leaf), None) == (
        "weak-key"
    )


@pytest.mark.parametrize("name", ["localhost", None])
def test_undecodable_subject_is_malformed_not_key_error(pki, name) -> None:
    """A name attribute with string tag 0 makes cryptography's lazy ``subject`` raise
    KeyError; the chain is refused as malformed before any message needs the name."""
    raw = bytearray(der(server_leaf(pki["root"]))[0])
    raw[raw.index(b"\x0c\x06server")] = 0  # the CN's UTF8String tag
    verifier = ServerVerifier(roots(pki["root"]), check_hostname=name is not None)
    assert rule_of(verifier, [bytes(raw)], name) == "malformed"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_chains_end_in_verification_error(pki, data) -> None:
    if "leaf_der" not in pki:  # one leaf for every example: hypothesis replays draws
        pki["leaf_der"] = der(server_leaf(pki["root"]))[0]
    raw = bytearray(pki["leaf_der"])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    chain = [bytes(raw[:cut])]
    name = data.draw(st.sampled_from(["localhost", "127.0.0.1", None]))
    v = ServerVerifier(roots(pki["root"]), check_hostname=name is not None)
    try:
        v(chain, name)
    except CertificateVerificationError as exc:
        assert exc.rule
