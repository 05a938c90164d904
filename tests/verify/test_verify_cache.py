"""The server-chain verification cache: what it keys on, when entries end, its bounds."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tlsengine.cli.pki import CA
from tlsengine.errors import CertificateVerificationError
from tlsengine.socket import ClientContext
from tlsengine.verify import ServerVerifier, TrustRoots
from tlsengine.verify.cache import DEFAULT_TTL, VerificationCache, roots_identity

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


class CountingVerifier(ServerVerifier):
    """A real verifier that counts the full verifications it runs."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.full = 0

    def __call__(self, chain_der: list[bytes], server_name: str | None) -> list[x509.Certificate]:
        self.full += 1
        return super().__call__(chain_der, server_name)


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def pki() -> dict[str, Any]:
    root = CA.root("cache root")
    other = CA.root("cache other root")
    cert, _ = root.issue("server", client=False, server=True, dns=["localhost", "a.test"])
    return {"root": root, "other": other, "chain": [cert.public_bytes(Encoding.DER)]}


def roots(ca: CA) -> TrustRoots:
    return TrustRoots((ca.certificate,), "test")


def test_a_verified_chain_is_not_verified_again(pki) -> None:
    v = CountingVerifier(roots(pki["root"]), cache=VerificationCache())
    check = v.bind("localhost")
    check(pki["chain"])
    check(pki["chain"])
    assert v.full == 1
    assert len(v.cache) == 1


def test_another_server_name_misses_and_is_checked(pki) -> None:
    v = CountingVerifier(roots(pki["root"]), cache=VerificationCache())
    v.bind("localhost")(pki["chain"])
    v.bind("a.test")(pki["chain"])
    with pytest.raises(CertificateVerificationError) as info:
        v.bind("b.test")(pki["chain"])
    assert info.value.rule == "hostname-mismatch"
    assert v.full == 3


def test_a_shared_cache_never_answers_for_other_trust_roots(pki) -> None:
    shared = VerificationCache()
    ServerVerifier(roots(pki["root"]), cache=shared).bind("localhost")(pki["chain"])
    stranger = CountingVerifier(roots(pki["other"]), cache=shared)
    with pytest.raises(CertificateVerificationError) as info:
        stranger.bind("localhost")(pki["chain"])
    assert info.value.rule == "unknown-issuer"
    assert roots_identity([pki["root"].certificate]) != roots_identity([pki["other"].certificate])


def test_profile_and_hostname_checking_are_part_of_the_key(pki) -> None:
    shared = VerificationCache()
    strict = CountingVerifier(roots(pki["root"]), cache=shared)
    relaxed = CountingVerifier(roots(pki["root"]), cache=shared, profile="relaxed")
    no_name = CountingVerifier(roots(pki["root"]), cache=shared, check_hostname=False)
    for v in (strict, relaxed, no_name):
        v.bind("localhost")(pki["chain"])
        assert v.full == 1
    assert len(shared) == 3


def test_failures_are_never_cached(pki) -> None:
    v = CountingVerifier(roots(pki["other"]), cache=VerificationCache())
    for _ in range(2):
        with pytest.raises(CertificateVerificationError):
            v.bind("localhost")(pki["chain"])
    assert v.full == 2
    assert len(v.cache) == 0


def test_entries_expire_after_the_ttl(pki) -> None:
    clock = Clock(NOW.timestamp())
    v = CountingVerifier(roots(pki["root"]), cache=VerificationCache(ttl=10, clock=clock))
    check = v.bind("localhost")
    check(pki["chain"])
    clock.now += 9.9
    check(pki["chain"])
    assert v.full == 1
    clock.now += 0.2
    check(pki["chain"])
    assert v.full == 2


def test_entries_end_at_the_earliest_not_after(pki) -> None:
    """A certificate expiring inside the TTL cuts the entry short."""
    root: CA = pki["root"]
    soon = NOW + datetime.timedelta(seconds=30)
    leaf, _ = root.issue("short", client=False, server=True, dns=["localhost"])
    cache = VerificationCache(ttl=DEFAULT_TTL)
    key = cache.key([b"x"], "localhost", b"r", "webpki", True)

    class Short:  # the one field remember() reads from a certificate
        not_valid_after_utc = soon

    cache.remember(key, [leaf, Short()], now=NOW.timestamp())  # type: ignore[list-item]
    assert cache.hit(key, now=soon.timestamp() - 1)
    assert not cache.hit(key, now=soon.timestamp())
    assert len(cache) == 0  # the expired entry is dropped


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = VerificationCache(max_entries=2, clock=Clock(NOW.timestamp()))
    keys = [cache.key([bytes([n])], "h", b"r", "webpki", True) for n in range(3)]
    leaf = CA.root("bound").certificate
    cache.remember(keys[0], [leaf])
    cache.remember(keys[1], [leaf])
    assert cache.hit(keys[0])  # now the most recent
    cache.remember(keys[2], [leaf])
    assert len(cache) == 2
    assert cache.hit(keys[0]) and cache.hit(keys[2]) and not cache.hit(keys[1])


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        VerificationCache(ttl=0)
    with pytest.raises(ValueError):
        VerificationCache(max_entries=0)


def test_client_context_cache_is_on_by_default_and_can_be_turned_off(pki, tmp_path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki["root"].pem)
    assert isinstance(ClientContext(cafile=ca).verify_cache, VerificationCache)
    assert ClientContext(cafile=ca).verify_cache is not ClientContext(cafile=ca).verify_cache
    off = ClientContext(cafile=ca, verify_cache=False)
    assert off.verify_cache is None
    assert off._server_verifier().cache is None
    mine = VerificationCache(ttl=5)
    assert ClientContext(cafile=ca, verify_cache=mine)._server_verifier().cache is mine


def test_roots_identity_is_order_free_and_remembered_per_roots_object(pki) -> None:
    both = TrustRoots((pki["root"].certificate, pki["other"].certificate), "a")
    swapped = TrustRoots((pki["other"].certificate, pki["root"].certificate), "b")
    assert roots_identity(both) == roots_identity(swapped) == roots_identity(list(both))
    assert roots_identity(both) is roots_identity(both)  # the memo, not a recomputation
    assert roots_identity(both) != roots_identity(roots(pki["root"]))
