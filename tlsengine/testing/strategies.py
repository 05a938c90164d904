"""Hypothesis strategies for fuzzing identity selection in your own test suites.

``certificate_request_infos()`` draws what a server might ask for (either TLS version, CA
names from the pool and strangers, schemes in any order including unknown code points,
TLS 1.2 certificate types, TLS 1.3 OID filters, a server name). ``identity_sets()`` draws lists
of real identities: varied key types, issuing CAs (roots and an intermediate), validity,
EKU and key usage. Certificates come from a shared `StrategyPool` that generates each key
once and memoises each certificate, so examples stay fast::

    from hypothesis import given
    from tlsengine.testing.strategies import certificate_request_infos, identity_sets

    @given(certificate_request_infos(), identity_sets())
    def test_my_policy(info, identities):
        selection = tlsengine.select_identity(info, identities)
        ...

``flight_mutations()``, ``request_edits()`` and ``framings()`` draw mutations of a recorded
server flight for `tlsengine.testing.replay.replay` (message-level, inside the encryption).

Requires the ``hypothesis`` package (the project's ``test`` extra).
"""

from __future__ import annotations

import datetime
import functools
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import strategies as st

from ..cli.pki import CA, SigningHash, generate_key, key_usage_with
from ..identity.model import Identity, PrivateKey
from ..protocol.config import DEFAULT_SIGNATURE_SCHEMES
from ..selection.request import CertificateRequestInfo
from .replay import (
    Corrupt,
    Drop,
    Duplicate,
    Edit,
    EditRequest,
    EditRequest12,
    Insert,
    Mutation,
    Swap,
)

#: Key specs drawn for identities (RSA-1024 exercises the RSA-PSS size rule).
KEY_SPECS = ("p256", "p384", "p521", "ed25519", "ed448", "rsa2048", "rsa1024")
VALIDITY = ("valid", "expired", "not-yet-valid")
EKUS = ("client", "none", "server-only", "any")
KEY_USAGES = ("default", "no-digital-signature", "absent")
ISSUERS = ("ec-root", "rsa-root", "ec-intermediate")

# Offered in requests: every scheme the client offers, a few legacy ones, and unknown code points.
REQUEST_SCHEMES = (
    *DEFAULT_SIGNATURE_SCHEMES,
    "rsa_pss_pss_sha256",
    "rsa_pkcs1_sha1",
    "ecdsa_sha1",
    "rsa_pkcs1_sha224",
    "0x0904",
    "0xfe00",
)
CERTIFICATE_TYPES = ("rsa_sign", "ecdsa_sign", "dss_sign")
SERVER_NAMES = ("a.example", "b.example", None)

_NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@dataclass(repr=False)
class StrategyPool:
    """Pre-generated CAs and keys, and a memo of issued identities (thread-safe)."""

    cas: dict[str, CA] = field(default_factory=dict)
    keys: dict[str, PrivateKey] = field(default_factory=dict)
    now: datetime.datetime = _NOW
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _memo: dict[tuple[str, ...], Identity] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls) -> StrategyPool:
        ec_root = CA.root("tlsengine Strategy Root EC", key="p256")
        rsa_root = CA.root("tlsengine Strategy Root RSA", key="rsa2048")
        pool = cls(
            cas={
                "ec-root": ec_root,
                "rsa-root": rsa_root,
                "ec-intermediate": rsa_root.intermediate("tlsengine Strategy Issuing CA", "p384"),
            }
        )
        for spec in KEY_SPECS:
            pool.keys[spec] = generate_key(spec)
        return pool

    def __repr__(self) -> str:
        return f"StrategyPool({len(self.cas)} CAs, {len(self._memo)} identities issued)"

    @property
    def ca_names(self) -> list[x509.Name]:
        return [ca.name for ca in self.cas.values()]

    def identity(
        self, issuer: str, key: str, validity: str, eku: str, key_usage: str, copy: int
    ) -> Identity:
        """The memoised identity with these traits (``copy`` tells otherwise-equal ones apart)."""
        memo_key = (issuer, key, validity, eku, key_usage, str(copy))
        with self._lock:
            found = self._memo.get(memo_key)
            if found is None:
                found = self._memo[memo_key] = self._issue(*memo_key)
        return found

    def _issue(
        self, issuer: str, key: str, validity: str, eku: str, key_usage: str, copy: str
    ) -> Identity:
        ca = self.cas[issuer]
        day = datetime.timedelta(days=1)
        start, end = self.now - day, self.now + 365 * day
        if validity == "expired":
            start, end = self.now - 400 * day, self.now - day
        elif validity == "not-yet-valid":
            start, end = self.now + day, self.now + 400 * day
        ekus = {
            "client": [ExtendedKeyUsageOID.CLIENT_AUTH],
            "none": [],
            "server-only": [ExtendedKeyUsageOID.SERVER_AUTH],
            "any": [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE],
        }[eku]
        ku = None
        if key_usage == "no-digital-signature":
            ku = key_usage_with(digital_signature=False, content_commitment=True)
        cn = f"{key}/{validity}/{eku}/{key_usage}#{copy}"[:64]
        cert, private_key = ca.issue(
            cn, self.keys[key], eku=ekus, key_usage=ku, not_before=start, not_after=end
        )
        if key_usage == "absent":
            cert = _without_key_usage(ca, cert, private_key)
        chain = (cert, ca.certificate, *ca.parents)
        return Identity.create(cert, private_key, chain, alias=f"{cn}@{issuer}")


def _without_key_usage(ca: CA, cert: x509.Certificate, key: PrivateKey) -> x509.Certificate:
    """Re-issue ``cert`` with its extensions minus key usage (CA.issue always adds one)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(key.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
    )
    for ext in cert.extensions:
        if not isinstance(ext.value, x509.KeyUsage):
            builder = builder.add_extension(ext.value, ext.critical)
    algorithm = cert.signature_hash_algorithm
    if algorithm is not None and not isinstance(algorithm, SigningHash):
        raise ValueError(f"cannot re-issue a certificate signed with {algorithm.name}")
    return builder.sign(ca.key, algorithm)


@functools.lru_cache(maxsize=1)
def default_pool() -> StrategyPool:
    """The process-wide pool the strategies use unless given one."""
    return StrategyPool.create()


def identities(pool: StrategyPool | None = None) -> st.SearchStrategy[Identity]:
    """One identity with drawn issuer, key type, validity, EKU and key usage."""
    pool = pool or default_pool()
    return st.builds(
        pool.identity,
        st.sampled_from(ISSUERS),
        st.sampled_from(KEY_SPECS),
        st.sampled_from(VALIDITY),
        st.sampled_from(EKUS),
        st.sampled_from(KEY_USAGES),
        st.integers(0, 2),
    )


def identity_sets(
    pool: StrategyPool | None = None, *, min_size: int = 0, max_size: int = 6
) -> st.SearchStrategy[list[Identity]]:
    """Lists of distinct identities, in a drawn load order."""
    return st.lists(
        identities(pool), min_size=min_size, max_size=max_size, unique_by=lambda i: i.fingerprint
    )


def _stranger_name() -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some Other CA")])


@st.composite
def certificate_request_infos(
    draw: st.DrawFn,
    pool: StrategyPool | None = None,
    *,
    versions: tuple[str, ...] = ("TLSv1.2", "TLSv1.3"),
) -> CertificateRequestInfo:
    """A CertificateRequestInfo as a TLS 1.2 or 1.3 server could send it."""
    pool = pool or default_pool()
    version = draw(st.sampled_from(versions))
    names = draw(
        st.just([])
        | st.lists(st.sampled_from([*pool.ca_names, _stranger_name()]), unique=True, max_size=3)
    )
    schemes = draw(st.lists(st.sampled_from(REQUEST_SCHEMES), unique=True, min_size=1, max_size=12))
    schemes_cert = draw(
        st.none() | st.lists(st.sampled_from(REQUEST_SCHEMES), unique=True, max_size=8)
    )
    certificate_types: list[str] | None = None
    oid_filters: list[tuple[str, bytes]] = []
    context = b""
    post_handshake = False
    if version == "TLSv1.2":
        certificate_types = draw(
            st.none() | st.lists(st.sampled_from(CERTIFICATE_TYPES), unique=True, min_size=1)
        )
    else:
        oid_filters = draw(
            st.just([])
            | st.lists(
                st.sampled_from(
                    [
                        ("2.5.29.37", bytes.fromhex("300a06082b06010505070302")),  # clientAuth
                        ("2.5.29.15", bytes.fromhex("03020780")),  # digitalSignature
                        ("2.5.29.37", b""),  # EKU present
                        ("1.2.3.4", b"\x05\x00"),  # unrecognised: ignored
                    ]
                ),
                unique=True,
                max_size=2,
            )
        )
        context = draw(st.binary(max_size=8))
        post_handshake = draw(st.booleans())
    return CertificateRequestInfo(
        version=version,
        certificate_authorities=names,
        signature_schemes=schemes,
        signature_schemes_cert=schemes_cert,
        certificate_types=certificate_types,
        oid_filters=oid_filters,
        context=context,
        post_handshake=post_handshake,
        server_name=draw(st.sampled_from(SERVER_NAMES)),
    )


# ---------------------------------------------------------------------------- flights

#: Targets of message-level mutations: a name (first occurrence) or a position.
FLIGHT_TARGETS = (
    "EncryptedExtensions",
    "CertificateRequest",
    "Certificate",
    "CertificateVerify",
    "Finished",
)
#: Code points drawn into mutated requests: known schemes, legacy, unknown, GREASE.
SCHEME_CODE_POINTS = (
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0808, 0x0401, 0x0501,
    0x0601, 0x0201, 0x0203, 0x0809, 0x0904, 0x0A0A, 0xFE00, 0x0000, 0xFFFF,
)  # fmt: skip


def _targets() -> st.SearchStrategy[str | int]:
    return st.sampled_from(FLIGHT_TARGETS) | st.integers(0, 6)


def _handshake_messages() -> st.SearchStrategy[bytes]:
    """Whole handshake messages of any type, mostly well framed, sometimes not."""
    framed = st.builds(
        lambda t, body: bytes((t,)) + len(body).to_bytes(3, "big") + body,
        st.sampled_from((4, 8, 11, 13, 15, 20, 24, 99)),
        st.binary(max_size=64),
    )
    return framed | st.binary(min_size=1, max_size=16)


def request_edits(pool: StrategyPool | None = None) -> st.SearchStrategy[EditRequest]:
    """Edits of a CertificateRequest: schemes (unknown and empty lists included), CA
    names (the pool's, strangers', garbage, none), context, extra extensions."""
    pool = pool or default_pool()
    names = [n.public_bytes() for n in (*pool.ca_names, _stranger_name())]
    return st.builds(
        EditRequest,
        signature_algorithms=st.none()
        | st.lists(st.sampled_from(SCHEME_CODE_POINTS), max_size=8).map(tuple),
        certificate_authorities=st.none()
        | st.lists(st.sampled_from(names) | st.binary(max_size=12), max_size=3).map(tuple),
        context=st.none() | st.binary(max_size=4),
        extra_extensions=st.lists(
            st.tuples(st.sampled_from((0, 16, 43, 47, 50, 51, 0x1234)), st.binary(max_size=8)),
            max_size=2,
        ).map(tuple),
    )


def message_mutations() -> st.SearchStrategy[Mutation]:
    """One message-level mutation made inside the encryption."""
    return st.one_of(
        st.builds(Drop, _targets()),
        st.builds(Duplicate, _targets()),
        st.builds(Swap, _targets(), _targets()),
        st.builds(Insert, st.integers(0, 6), _handshake_messages()),
        st.builds(Corrupt, _targets(), st.integers(0, 4096), st.integers(1, 255)),
        request_edits(),
    )


def flight_mutations(max_size: int = 3) -> st.SearchStrategy[list[Mutation]]:
    """Lists of message-level mutations, applied in order (use with `replay`)."""
    return st.lists(message_mutations(), min_size=1, max_size=max_size)


#: Targets in a TLS 1.2 first flight (plaintext: the mutations need no re-encryption).
FLIGHT_TARGETS_12 = ("Certificate", "ServerKeyExchange", "CertificateRequest", "ServerHelloDone")


def _targets12() -> st.SearchStrategy[str | int]:
    return st.sampled_from(FLIGHT_TARGETS_12) | st.integers(0, 5)


def request_edits12(pool: StrategyPool | None = None) -> st.SearchStrategy[EditRequest12]:
    """Edits of a TLS 1.2 CertificateRequest: certificate types (unknown and empty
    included), schemes (unknown, legacy and empty lists), CA names (garbage too)."""
    pool = pool or default_pool()
    names = [n.public_bytes() for n in (*pool.ca_names, _stranger_name())]
    return st.builds(
        EditRequest12,
        certificate_types=st.none()
        | st.lists(st.sampled_from((1, 2, 64, 65, 66, 0xFF)), max_size=4).map(bytes),
        signature_algorithms=st.none()
        | st.lists(st.sampled_from(SCHEME_CODE_POINTS), max_size=8).map(tuple),
        certificate_authorities=st.none()
        | st.lists(st.sampled_from(names) | st.binary(max_size=12), max_size=3).map(tuple),
    )


@dataclass(frozen=True)
class _KeyExchangeEdit:
    """Set a ServerKeyExchange's group and point (a readable repr for hypothesis)."""

    group: int
    point: bytes

    def __call__(self, ske: Any) -> None:
        ske.named_curve = self.group
        ske.ecdh_Ys = bytearray(self.point)


def key_exchange_edits12() -> st.SearchStrategy[Edit]:
    """Edits of a TLS 1.2 ServerKeyExchange: groups offered or not, points of the right
    size (zero, low order, random), of the wrong size, empty. Replay them with
    ``resign_flight=True`` and the server key, so each reaches the key exchange."""
    sizes = {29: 32, 23: 65, 24: 97, 30: 56, 0x11EC: 1216, 0x0A0A: 4}
    group = st.sampled_from(sorted(sizes))
    point = st.one_of(
        st.binary(min_size=1, max_size=130),
        group.flatmap(lambda g: st.binary(min_size=sizes[g], max_size=sizes[g])),
        st.sampled_from((bytes(32), b"\x01" + bytes(31), b"\x04" + bytes(64), b"\x04" * 65)),
    )
    return st.builds(_KeyExchangeEdit, group, point).map(
        lambda change: Edit("ServerKeyExchange", change, version=(3, 3))
    )


def message_mutations12() -> st.SearchStrategy[Mutation]:
    """One message-level mutation of a TLS 1.2 first flight."""
    framed = st.builds(
        lambda t, body: bytes((t,)) + len(body).to_bytes(3, "big") + body,
        st.sampled_from((0, 2, 4, 11, 12, 13, 14, 20, 99)),
        st.binary(max_size=64),
    )
    return st.one_of(
        st.builds(Drop, _targets12()),
        st.builds(Duplicate, _targets12()),
        st.builds(Swap, _targets12(), _targets12()),
        st.builds(Insert, st.integers(0, 5), framed | st.binary(min_size=1, max_size=16)),
        st.builds(Corrupt, _targets12(), st.integers(0, 4096), st.integers(1, 255)),
        request_edits12(),
    )


def flight_mutations12(max_size: int = 3) -> st.SearchStrategy[list[Mutation]]:
    """Lists of mutations of a TLS 1.2 flight (use with `replay` and a `Recording12`)."""
    return st.lists(message_mutations12(), min_size=1, max_size=max_size)


def framings() -> st.SearchStrategy[str | int]:
    """Legal record framings: one record per message, coalesced, or n-byte records."""
    return st.sampled_from(("message", "coalesced")) | st.integers(1, 2**14)


__all__ = [
    "FLIGHT_TARGETS",
    "FLIGHT_TARGETS_12",
    "flight_mutations12",
    "key_exchange_edits12",
    "message_mutations12",
    "request_edits12",
    "StrategyPool",
    "certificate_request_infos",
    "flight_mutations",
    "framings",
    "message_mutations",
    "request_edits",
    "default_pool",
    "identities",
    "identity_sets",
]
