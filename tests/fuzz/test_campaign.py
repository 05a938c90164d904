"""The fuzz campaign (``make fuzz``) and its CI profile, and regressions it found.

The CI profile is >= 20,000 flights and 10,000 PKCS#12 files (issue 12's acceptance); it
runs under ``CI=true`` or ``TLSENGINE_FUZZ_PROFILE=ci``. Locally a small smoke run keeps
the suite quick.
"""

from __future__ import annotations

import os

import pytest

from tlsengine.errors import PKCS12FormatError
from tlsengine.identity import der
from tlsengine.testing import fuzz

CI_PROFILE = os.environ.get("CI") == "true" or os.environ.get("TLSENGINE_FUZZ_PROFILE") == "ci"
FLIGHTS, FILES = (20_000, 10_000) if CI_PROFILE else (800, 800)


def assert_clean(tally: fuzz.Tally, count: int) -> None:
    assert tally.total == count
    assert tally.escapes == [], tally.escapes[:3]
    assert tally.hangs == [], tally.hangs[:3]
    assert tally.violations == [], tally.violations[:3]


@pytest.mark.slow
def test_flight_campaign_profile_has_no_escape_hang_or_violation() -> None:
    tally = fuzz.flight_campaign(FLIGHTS, seed=int(os.environ.get("FUZZ_SEED", "0")))
    assert_clean(tally, FLIGHTS)
    assert set(tally.runs) == set(fuzz.FLIGHT_FAMILIES)
    # the families reach where they are meant to: refusals and completed (re-signed) flights
    assert tally.outcomes.get("completed", 0) >= FLIGHTS // 4  # every legal framing at least
    assert tally.outcomes.get("bad_record_mac", 0) > 0  # damage outside the encryption
    assert tally.outcomes.get("illegal_parameter", 0) > 0  # edits that reach the decoders


@pytest.mark.slow
def test_pkcs12_campaign_profile_has_no_escape_or_hang() -> None:
    tally = fuzz.pkcs12_campaign(FILES, seed=int(os.environ.get("FUZZ_SEED", "0")))
    assert_clean(tally, FILES)
    assert set(tally.runs) == set(fuzz.PKCS12_LEVELS)
    # some mutated files still load: the sealed and re-MACed levels get past the MAC
    assert any(label.startswith("loaded") for label in tally.outcomes)


def test_oracle_would_report_an_escape_as_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The campaign can fail: an exception outside the error tree is counted."""

    def explode(data: bytes, password: object = None) -> object:
        raise KeyError("boom")

    monkeypatch.setattr(fuzz, "load_pkcs12", explode)
    tally = fuzz.pkcs12_campaign(8)
    assert len(tally.escapes) == 8 and not tally.clean


@pytest.mark.parametrize("length", [31, 33, 37])
def test_ed25519_key_of_wrong_length_is_a_format_error(length: int) -> None:
    """Found by the campaign's sealed level (7 of 10,000 files): OpenSSL refuses an
    Ed25519 PKCS#8 whose inner key is not 32 bytes with cryptography's InternalError,
    which escaped load_pkcs12. Reproduced as found: an unencrypted file with that key."""
    from tlsengine.identity.pkcs12 import KEY_BAG, load_pkcs12

    pkcs8 = der.sequence(
        der.integer(0),
        der.sequence(der.oid("1.3.101.112")),
        der.octet_string(der.octet_string(bytes(range(length)))),
    )
    bag = der.sequence(der.oid(KEY_BAG), der.explicit(0, pkcs8))
    data_oid = "1.2.840.113549.1.7.1"

    def info(content: bytes) -> bytes:
        return der.sequence(der.oid(data_oid), der.explicit(0, der.octet_string(content)))

    pfx = der.sequence(der.integer(3), info(der.sequence(info(der.sequence(bag)))))
    with pytest.raises(PKCS12FormatError, match="PKCS#8"):
        load_pkcs12(pfx)
