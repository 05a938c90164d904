"""Issue 3's properties, driven by the shipped strategies (tlsengine.testing.strategies).

The reference below re-derives filters and ranking straight from the certificates, without
the index or the grouping select_identity uses, so the fast path is checked against the rules.
"""

from __future__ import annotations

import random

from cryptography import x509
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tlsengine.identity.model import Identity
from tlsengine.selection import CertificateRequestInfo, select_identity
from tlsengine.selection import oid_filters as oidf
from tlsengine.selection.names import names_match
from tlsengine.selection.schemes import (
    SCHEMES,
    can_make,
    certificate_signature_scheme,
    key_profile,
    sign,
    verify,
)
from tlsengine.testing.strategies import (
    certificate_request_infos,
    default_pool,
    identities,
    identity_sets,
)

NOW = default_pool().now
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLIENT_AUTH = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH
ANY = x509.oid.ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE


def offered(info: CertificateRequestInfo) -> list[str]:
    """signature_algorithms narrowed by TLS 1.2 certificate_types (RFC 5246 7.4.4)."""
    out = [s for s in info.signature_schemes if s in SCHEMES]
    if info.version == "TLSv1.2" and info.certificate_types is not None:
        rsa_ok = "rsa_sign" in info.certificate_types
        ec_ok = "ecdsa_sign" in info.certificate_types
        out = [s for s in out if (rsa_ok if s.startswith("rsa") else ec_ok)]
    return out


def usable(info: CertificateRequestInfo, identity: Identity) -> list[str]:
    profile = key_profile(identity.private_key)
    return [s for s in offered(info) if can_make(profile, SCHEMES[s], info.version)]


def passes(info: CertificateRequestInfo, identity: Identity) -> bool:
    if not usable(info, identity):
        return False
    if info.certificate_authorities:
        names = [c.issuer for c in identity.chain] + [identity.chain[-1].subject]
        if not any(names_match(ca, n) for ca in info.certificate_authorities for n in names):
            return False
    return oidf.mismatch(identity.certificate, info.oid_filters) is None


def _ext(cert: x509.Certificate, kind: type) -> object | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def covered(info: CertificateRequestInfo, identity: Identity) -> bool:
    cert_list = info.signature_schemes_cert
    allowed = set(info.signature_schemes if cert_list is None else cert_list)
    chain = identity.chain
    for n, cert in enumerate(chain):
        if cert.subject == cert.issuer:
            continue
        issuer = next((c for c in chain[n + 1 :] if c.subject == cert.issuer), None)
        key_oid = issuer.public_key_algorithm_oid.dotted_string if issuer else None
        hash_name = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else None
        scheme = certificate_signature_scheme(
            cert.signature_algorithm_oid.dotted_string, hash_name, key_oid
        )
        if scheme not in allowed:
            return False
    return True


def reference_key(info, identity, position, pinned) -> tuple:
    eku = _ext(identity.certificate, x509.ExtendedKeyUsage)
    ku = _ext(identity.certificate, x509.KeyUsage)
    valid = identity.not_before <= NOW <= identity.not_after
    return (
        identity.fingerprint not in pinned,
        eku is not None and CLIENT_AUTH not in eku and ANY not in eku,
        not valid,
        ku is not None and not ku.digital_signature,
        not covered(info, identity),
        offered(info).index(usable(info, identity)[0]),
        position,
    )


def reference_choice(info, ids, pinned=frozenset()) -> Identity | None:
    keyed = [
        (reference_key(info, identity, n, pinned), identity)
        for n, identity in enumerate(ids)
        if passes(info, identity)
    ]
    return min(keyed, key=lambda pair: pair[0])[1] if keyed else None


@SETTINGS
@given(certificate_request_infos(), identity_sets(min_size=2), st.data())
def test_choice_matches_the_rules(info, ids, data):
    pins, pinned = None, frozenset()
    if ids and info.server_name and data.draw(st.booleans()):
        target = data.draw(st.sampled_from(ids))
        pins, pinned = {info.server_name: target.fingerprint}, frozenset({target.fingerprint})
    selection = select_identity(info, ids, pins=pins, now=NOW)
    assert selection.identity is reference_choice(info, ids, pinned)
    assert len(selection.verdicts) == len(ids)


@SETTINGS
@given(certificate_request_infos(), identity_sets())
def test_chosen_passes_every_hard_filter_and_one_is_chosen_if_any_can_be(info, ids):
    selection = select_identity(info, ids, now=NOW)
    if selection.identity is not None:
        assert passes(info, selection.identity)
        assert selection.verdicts[0].verdict == "chosen"
    assert (selection.identity is None) == (not any(passes(info, i) for i in ids))
    for v in selection.verdicts:
        assert (v.verdict in ("chosen", "outranked")) == passes(info, v.identity)


@SETTINGS
@given(certificate_request_infos(), identity_sets(min_size=1), st.randoms(use_true_random=False))
def test_load_order_is_only_the_last_tie_break(info, ids, rnd: random.Random):
    shuffled = list(ids)
    rnd.shuffle(shuffled)
    first = select_identity(info, ids, now=NOW)
    second = select_identity(info, shuffled, now=NOW)
    assert (first.identity is None) == (second.identity is None)
    if first.identity is not None:
        assert first.rank_of(first.identity)[:-1] == second.rank_of(second.identity)[:-1]
        assert first.scheme == second.scheme


@SETTINGS
@given(certificate_request_infos(), identity_sets(), identities(), st.integers(0, 6))
def test_adding_an_excluded_identity_never_changes_the_choice(info, ids, extra, where):
    assume(not passes(info, extra) and all(extra.fingerprint != i.fingerprint for i in ids))
    before = select_identity(info, ids, now=NOW)
    grown = list(ids)
    grown.insert(min(where, len(grown)), extra)
    after = select_identity(info, grown, now=NOW)
    assert after.identity is before.identity and after.scheme == before.scheme


@SETTINGS
@given(certificate_request_infos(), identity_sets(min_size=1))
def test_returned_scheme_is_offered_and_usable(info, ids):
    selection = select_identity(info, ids, now=NOW)
    if selection.identity is None:
        assert selection.scheme is None
        return
    scheme = selection.scheme
    assert scheme in info.signature_schemes and scheme in offered(info)
    assert scheme == usable(info, selection.identity)[0]  # first in the server's order
    if info.version == "TLSv1.3":
        assert not scheme.startswith("rsa_pkcs1") and "sha1" not in scheme
    key = selection.identity.private_key
    signature = sign(key, scheme, b"transcript")
    verify(key.public_key(), scheme, signature, b"transcript", version=info.version)
