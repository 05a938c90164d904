"""Issue 12's PKCS#12 findings, each reproduced as the audit found it: integers from the file
too large to print, and files that demand unbounded work (key validations, PBKDF2 rounds)
or report their damage only after doing it. Work is counted, never timed: a test patches
the expensive steps to count their calls and asserts none ran before the refusal."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import tlsengine
from tlsengine.errors import IdentityError, PKCS12FormatError
from tlsengine.identity import PKCS12Budget, build_pkcs12, der, pbe, pkcs12
from tlsengine.identity.model import Identity
from tlsengine.identity.store import IdentityStore

from .helpers import private_der

HUGE = 10**5000  # 5,001 digits: str() of it raises ValueError on Python >= 3.11


@pytest.fixture
def work(monkeypatch) -> dict[str, int]:
    """Counts of the expensive steps a load ran: key validations and key derivations."""
    counts = {"keys": 0, "pbkdf2": 0, "kdf": 0}

    def counting(name, real):
        def run(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)

        return run

    ser = pkcs12.serialization
    monkeypatch.setattr(pkcs12, "serialization", type("S", (), dict(vars(ser))))
    pkcs12.serialization.load_der_private_key = staticmethod(  # type: ignore[attr-defined]
        counting("keys", ser.load_der_private_key)
    )
    monkeypatch.setattr(pbe, "pbkdf2", counting("pbkdf2", pbe.pbkdf2))
    monkeypatch.setattr(pbe, "pkcs12_kdf", counting("kdf", pbe.pkcs12_kdf))
    return counts


@pytest.fixture(scope="module")
def rsa_key_der() -> bytes:
    return private_der(rsa.generate_private_key(65537, 2048))


def _pfx(*content_infos: bytes, mac: bytes | None = None) -> bytes:
    parts = [der.integer(3), pkcs12._data_info(der.sequence(*content_infos))]
    return der.sequence(*parts, *([mac] if mac else []))


def _key_bags(pkcs8: bytes, count: int) -> bytes:
    return pkcs12._data_info(
        der.sequence(*(pkcs12._safe_bag(pkcs12.KEY_BAG, pkcs8, None) for _ in range(count)))
    )


# --------------------------------------------------------------------------- integers


def test_oid_arc_of_5000_digits_is_a_format_error() -> None:
    """Found: ValueError from int -> str in _decode_oid (identity/der.py)."""
    arc = bytearray()
    value = HUGE
    while value:
        arc.insert(0, (value & 0x7F) | (0x80 if arc else 0))
        value >>= 7
    content_info = der.sequence(der.tlv(der.OID, b"\x2a" + bytes(arc)), der.explicit(0, b""))
    with pytest.raises(PKCS12FormatError, match="arc wider than 128 bits"):
        tlsengine.load_pkcs12(_pfx(content_info))


def test_uuid_oid_arcs_still_decode() -> None:
    """2.25.<128-bit UUID> (X.667) is the widest arc in use: it must stay readable."""
    dotted = f"2.25.{2**128 - 1}"
    assert der.decode_oid(der.oid(dotted)[2:]) == dotted


@pytest.mark.parametrize("where", ["version", "mac iterations"])
def test_integer_of_5000_digits_is_a_format_error(pki, where) -> None:
    """Found: ValueError from an iteration count and a PFX version put into messages."""
    ident = Identity.create(pki.leaves["ec"].cert, pki.leaves["ec"].key)
    version, auth_safe, mac = der.parse(build_pkcs12([ident], "pw"), "PFX").sequence("PFX")
    if where == "version":
        blob = der.sequence(der.integer(HUGE), auth_safe.encoded, mac.encoded)
    else:
        digest_info, salt, _ = mac.sequence("MacData")
        hostile = der.sequence(digest_info.encoded, salt.encoded, der.integer(HUGE))
        blob = der.sequence(version.encoded, auth_safe.encoded, hostile)
    with pytest.raises(PKCS12FormatError, match="INTEGER of 2077 bytes is out of range"):
        tlsengine.load_pkcs12(blob, "pw")


def test_pbkdf2_key_length_of_5000_digits_is_a_format_error(work) -> None:
    kdf = der.algorithm(
        pbe.PBKDF2,
        der.sequence(der.octet_string(b"s" * 8), der.integer(2048), der.integer(HUGE)),
    )
    alg = der.algorithm(
        pbe.PBES2, der.sequence(kdf, der.algorithm(pbe.AES256_CBC, der.octet_string(bytes(16))))
    )
    bag = pkcs12._safe_bag(
        pkcs12.SHROUDED_KEY_BAG, der.sequence(alg, der.octet_string(bytes(32))), None
    )
    with pytest.raises(PKCS12FormatError, match="out of range"):
        tlsengine.load_pkcs12(_pfx(pkcs12._data_info(der.sequence(bag))), "pw")
    assert work["pbkdf2"] == 0


# --------------------------------------------------------------------------- work


def test_201_rsa_key_bags_and_a_truncated_content_info_fail_before_any_key_is_validated(
    rsa_key_der, work
) -> None:
    """Found: 5.7 s of RSA key validation before the truncation was reported."""
    truncated = der.sequence(der.oid(pkcs12.DATA), der.explicit(0, b"\x04\x82\x10\x00abc"))
    blob = _pfx(_key_bags(rsa_key_der, 201), truncated)
    roomy = PKCS12Budget(max_key_work=10_000)
    with pytest.raises(PKCS12FormatError, match="truncated"):
        tlsengine.load_pkcs12(blob, budget=roomy)
    assert work["keys"] == 0


def test_201_rsa_key_bags_are_over_the_default_key_budget(rsa_key_der, work) -> None:
    blob = _pfx(_key_bags(rsa_key_der, 201))
    with pytest.raises(pbe.BudgetExceeded, match=r"201 RSA-2048 .* 128 \(max_key_work\)"):
        tlsengine.load_pkcs12(blob)
    assert work["keys"] == 0
    with pytest.raises(pbe.BudgetExceeded, match=r"201 private keys.*max_keys=\.\.\."):
        tlsengine.load_pkcs12(blob, budget=PKCS12Budget(max_keys=200, max_key_work=10_000))
    assert work["keys"] == 0


def test_key_work_grows_with_the_rsa_modulus(rsa_key_der) -> None:
    assert pkcs12._key_work(rsa_key_der) == 1
    assert pkcs12._key_work(b"not a key") == 0


def _ten_million_iteration_file() -> bytes:
    """The OpenSSL 3 shape (MAC, encrypted certificate safe, shrouded key) with PBKDF2 at
    10,000,000 iterations; its ciphertexts are random: the budget must refuse it unread."""

    def alg() -> bytes:  # a salt of its own, as in files where every bag is salted apart
        return pbe.pbes2_algorithm(os.urandom(16), 10_000_000, os.urandom(16))

    sealed = der.sequence(
        der.integer(0),
        der.sequence(der.oid(pkcs12.DATA), alg(), der.implicit_primitive(0, os.urandom(64))),
    )
    cert_info = der.sequence(der.oid(pkcs12.ENCRYPTED_DATA), der.explicit(0, sealed))
    key = pkcs12._safe_bag(
        pkcs12.SHROUDED_KEY_BAG, der.sequence(alg(), der.octet_string(os.urandom(64))), None
    )
    key_info = pkcs12._data_info(der.sequence(key))
    mac = pbe.mac_data(der.sequence(cert_info, key_info), "pw", os.urandom(16), 2048)
    return _pfx(cert_info, key_info, mac=mac)


def test_ten_million_iteration_file_is_refused_before_any_derivation(work) -> None:
    """Found: PBKDF2 at 10,000,000 iterations cost 1.1 s per encrypted bag."""
    blob = _ten_million_iteration_file()
    work.update(keys=0, pbkdf2=0, kdf=0)  # building it computed a MAC
    with pytest.raises(pbe.BudgetExceeded, match=r"20,002,048 .*16,000,000 \(max_iterations\)"):
        tlsengine.load_pkcs12(blob, "pw")
    assert work == {"keys": 0, "pbkdf2": 0, "kdf": 0}


def test_iterations_inside_an_encrypted_safe_are_charged_before_they_run(work) -> None:
    """Key bags sealed inside an encrypted safe show their cost only once it is decrypted:
    the safe's own derivation runs, theirs are refused."""
    salt, iv = os.urandom(16), os.urandom(16)
    bags = [
        pkcs12._safe_bag(
            pkcs12.SHROUDED_KEY_BAG,
            der.sequence(
                pbe.pbes2_algorithm(os.urandom(16), 10_000_000, iv), der.octet_string(bytes(64))
            ),
            None,
        )
        for _ in range(2)
    ]
    key = pbe.pbkdf2("sha256", b"pw", salt, 16, 32)
    work["pbkdf2"] = 0
    body = pbe.encrypt_aes_cbc(key, iv, der.sequence(*bags))
    sealed = der.sequence(
        der.integer(0),
        der.sequence(
            der.oid(pkcs12.DATA), pbe.pbes2_algorithm(salt, 16, iv), der.implicit_primitive(0, body)
        ),
    )
    blob = _pfx(der.sequence(der.oid(pkcs12.ENCRYPTED_DATA), der.explicit(0, sealed)))
    with pytest.raises(pbe.BudgetExceeded, match="max_iterations"):
        tlsengine.load_pkcs12(blob, "pw")
    assert work["pbkdf2"] == 1  # the safe's 16 iterations, none of the keys' 10,000,000


def test_size_budget(pki) -> None:
    ident = Identity.create(pki.leaves["ec"].cert, pki.leaves["ec"].key)
    blob = build_pkcs12([ident], "pw", iterations=16)
    with pytest.raises(pbe.BudgetExceeded, match=r"max_size"):
        tlsengine.load_pkcs12(blob, "pw", budget=PKCS12Budget(max_size=len(blob) - 1))
    assert len(tlsengine.load_pkcs12(blob, "pw", budget=PKCS12Budget(max_size=len(blob)))) == 1


def test_budget_keyword_on_the_store_and_the_module_default(pki, monkeypatch) -> None:
    ident = Identity.create(pki.leaves["ec"].cert, pki.leaves["ec"].key)
    blob = build_pkcs12([ident], "pw", iterations=1000)  # MAC + one PBKDF2: 2,000
    store = IdentityStore()
    store.load(blob, "pw")
    before = store.snapshot()
    with pytest.raises(pbe.BudgetExceeded):
        store.load(blob, "pw", budget=PKCS12Budget(max_iterations=1500))
    assert store.snapshot() == before  # a refused load changes nothing
    monkeypatch.setattr(pkcs12, "DEFAULT_BUDGET", PKCS12Budget(max_iterations=1500))
    with pytest.raises(pbe.BudgetExceeded, match="DEFAULT_BUDGET"):
        tlsengine.load_pkcs12(blob, "pw")
    assert len(tlsengine.load_pkcs12(blob, "pw", budget=PKCS12Budget(max_iterations=2000))) == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_budget_fields_must_be_positive_ints(bad) -> None:
    with pytest.raises(IdentityError, match="positive int"):
        PKCS12Budget(max_iterations=bad)
    with pytest.raises(IdentityError, match="PKCS12Budget"):
        tlsengine.load_pkcs12(b"\x30\x00", budget="big")  # type: ignore[arg-type]
