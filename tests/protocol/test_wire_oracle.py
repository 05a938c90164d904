"""protocol.wire's hot-path codecs held against tlslite-ng, the reference encoding.

Each direct encoder must produce tlslite-ng's bytes and each direct decoder must read what
tlslite-ng reads, for fixed messages and for hypothesis-drawn fields.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tlslite.constants import TLS_1_3_HRR, CertificateType
from tlslite.extensions import (
    ALPNExtension,
    ClientKeyShareExtension,
    CookieExtension,
    HRRKeyShareExtension,
    KeyShareEntry,
    PreSharedKeyExtension,
    PskIdentity,
    PskKeyExchangeModesExtension,
    ServerKeyShareExtension,
    SignatureAlgorithmsCertExtension,
    SignatureAlgorithmsExtension,
    SNIExtension,
    SrvPreSharedKeyExtension,
    SrvSupportedVersionsExtension,
    SupportedGroupsExtension,
    SupportedVersionsExtension,
    TLSExtension,
)
from tlslite.messages import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Finished,
    ServerHello,
)
from tlslite.x509 import X509
from tlslite.x509certchain import X509CertChain

from tlsengine.errors import DecodeError, HandshakeError
from tlsengine.protocol import wire
from tlsengine.protocol.wire import chain_der, decode
from tlsengine.testing import CA

# --------------------------------------------------------------------------- client chain


@pytest.fixture(scope="module")
def root_ca_certs(root_ca: CA) -> list[bytes]:
    leaf, _ = root_ca.issue("oracle leaf", "p256")
    other, _ = root_ca.issue("oracle leaf 2", "rsa2048")
    return [_der(leaf), _der(other), _der(root_ca.certificate)]


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def test_chain_der_leaves_out_the_self_signed_root(root_ca: CA) -> None:
    identity = root_ca.identity("chain leaf", "p256")
    assert len(identity.chain) == 2
    assert chain_der(identity.chain, False) == (_der(identity.certificate),)
    assert chain_der(identity.chain, True) == tuple(_der(c) for c in identity.chain)


def test_chain_der_keeps_an_intermediate_that_ends_the_chain(root_ca: CA) -> None:
    intermediate = root_ca.intermediate("chain intermediate")
    identity = intermediate.identity("chain leaf 2", "p256")
    partial = identity.chain[:2]  # leaf, intermediate: no root to leave out
    assert chain_der(partial, False) == tuple(_der(c) for c in partial)
    assert chain_der(identity.chain, False) == tuple(_der(c) for c in identity.chain[:2])


def test_chain_der_sends_a_lone_self_signed_leaf(root_ca: CA) -> None:
    assert chain_der((root_ca.certificate,), False) == (_der(root_ca.certificate),)


def test_chain_der_keeps_a_same_name_certificate_signed_by_another_key(root_ca: CA) -> None:
    """Subject equal to issuer is not enough: the signature must verify with its own key."""
    identity = root_ca.identity("chain leaf 3", "p256")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not a root")])
    now = datetime.datetime.now(datetime.UTC)
    impostor = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    chain = (identity.certificate, impostor)
    assert chain_der(chain, False) == tuple(_der(c) for c in chain)


# --------------------------------------------------------------------------- helpers


def _plain(value: object) -> object:
    """bytearray -> bytes, lists/tuples element-wise, so both sides compare alike."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


#: Per extension type, the parsed attributes the handshake reads besides extType/extData.
EXT_FIELDS = {
    43: ("version",),
    41: ("selected",),
    10: ("groups",),
    16: ("protocol_names",),
    13: ("sigalgs",),
    50: ("sigalgs",),
}


def ext_view(ext: object) -> tuple[object, ...]:
    ext_type = ext.extType  # type: ignore[attr-defined]
    fields = [ext_type, bytes(ext.extData)]  # type: ignore[attr-defined]
    if ext_type == 51:
        share = ext.server_share  # type: ignore[attr-defined]
        fields += [share.group, bytes(share.key_exchange)]
    fields += [_plain(getattr(ext, name)) for name in EXT_FIELDS.get(ext_type, ())]
    return tuple(fields)


def message_view(message: object, names: tuple[str, ...]) -> tuple[object, ...]:
    head = tuple(_plain(getattr(message, n)) for n in names)
    exts = getattr(message, "extensions", None)
    return head + (None if exts is None else tuple(ext_view(e) for e in exts),)


SH_FIELDS = ("server_version", "random", "session_id", "cipher_suite", "compression_method")
CR_FIELDS = ("certificate_request_context",)
CV_FIELDS = ("signatureAlgorithm", "signature")


def lite_server_hello(raw: bytes) -> object:
    return decode(ServerHello, raw, "ServerHello")


def lite_encrypted_extensions(raw: bytes) -> object:
    return decode(EncryptedExtensions, raw, "EncryptedExtensions")


def lite_certificate_request(raw: bytes) -> object:
    return decode(lambda: CertificateRequest((3, 4)), raw, "CertificateRequest")


def lite_certificate_verify(raw: bytes) -> object:
    return decode(lambda: CertificateVerify((3, 4)), raw, "CertificateVerify")


DECODERS = {
    "ServerHello": (wire.ServerHello13, wire.decode_server_hello, lite_server_hello, SH_FIELDS),
    "EncryptedExtensions": (
        wire.EncryptedExtensions13,
        wire.decode_encrypted_extensions,
        lite_encrypted_extensions,
        (),
    ),
    "CertificateRequest": (
        wire.CertificateRequest13,
        wire.decode_certificate_request13,
        lite_certificate_request,
        CR_FIELDS,
    ),
    "CertificateVerify": (
        wire.CertificateVerify13,
        wire.decode_certificate_verify13,
        lite_certificate_verify,
        CV_FIELDS,
    ),
}


def assert_same_decoding(kind: str, raw: bytes, *, fast_expected: bool = True) -> None:
    """Our decoder and tlslite-ng's read the same fields; the fast path took the message."""
    fast_cls, ours, lite, fields = DECODERS[kind]
    got = ours(raw)
    assert isinstance(got, fast_cls) is fast_expected
    assert message_view(got, fields) == message_view(lite(raw), fields)


def assert_fast_path_agrees(kind: str, raw: bytes) -> None:
    """Whatever bytes: when the fast path accepts them, tlslite-ng parses the same fields."""
    fast_cls, _, lite, fields = DECODERS[kind]
    try:
        fast = fast_cls(raw)
    except wire._NotFast:
        return
    assert message_view(fast, fields) == message_view(lite(raw), fields)


# --------------------------------------------------------------------------- builders (tlslite)

groups_st = st.lists(st.sampled_from([0x001D, 0x0017, 0x0018, 0x11EC, 0x0100]), max_size=5)
schemes_st = st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=12)
key_st = st.binary(min_size=1, max_size=120)


def lite_sh(
    random: bytes, session_id: bytes, suite: int, group: int, key: bytes, psk: int | None
) -> bytes:
    exts = [
        SrvSupportedVersionsExtension().create((3, 4)),
        ServerKeyShareExtension().create(KeyShareEntry().create(group, bytearray(key))),
    ]
    if psk is not None:
        exts.append(SrvPreSharedKeyExtension().create(psk))
    hello = ServerHello().create((3, 3), bytearray(random), bytearray(session_id), suite)
    hello.extensions = exts
    return bytes(hello.write())


def lite_ee(groups: list[int], alpn: list[bytes] | None, sni: bool) -> bytes:
    exts: list[object] = []
    if sni:
        exts.append(TLSExtension(extType=0).create(bytearray()))
    if groups:
        exts.append(SupportedGroupsExtension().create(groups))
    if alpn is not None:
        exts.append(ALPNExtension().create([bytearray(n) for n in alpn]))
    return bytes(EncryptedExtensions().create(exts).write())


def lite_cr(
    context: bytes, schemes: list[int], cert_schemes: list[int] | None, cas: bytes | None
) -> bytes:
    exts: list[object] = [SignatureAlgorithmsExtension().create([divmod(s, 256) for s in schemes])]
    if cert_schemes is not None:
        exts.append(
            SignatureAlgorithmsCertExtension().create([divmod(s, 256) for s in cert_schemes])
        )
    if cas is not None:
        exts.append(TLSExtension(extType=47).create(bytearray(cas)))
    message = CertificateRequest((3, 4)).create(context=bytearray(context), extensions=exts)
    return bytes(message.write())


def _lite_x509(der: bytes) -> X509:
    cert = X509()
    cert.parseBinary(bytearray(der))
    return cert


def lite_cv(scheme: int, signature: bytes) -> bytes:
    message = CertificateVerify((3, 4)).create(bytearray(signature), divmod(scheme, 256))
    return bytes(message.write())


# --------------------------------------------------------------------------- decoders


def test_server_hello_fixed() -> None:
    raw = lite_sh(bytes(range(32)), bytes(32), 0x1301, 0x001D, bytes(32), None)
    assert_same_decoding("ServerHello", raw)
    assert wire.decode_server_hello(raw).extensions[1].server_share.group == 0x001D


@given(
    random=st.binary(min_size=32, max_size=32),
    session_id=st.binary(max_size=32),
    suite=st.integers(0, 0xFFFF),
    group=st.integers(0, 0xFFFF),
    key=key_st,
    psk=st.none() | st.integers(0, 0xFFFF),
)
def test_server_hello_drawn(
    random: bytes, session_id: bytes, suite: int, group: int, key: bytes, psk: int | None
) -> None:
    raw = lite_sh(random, session_id, suite, group, key, psk)
    fast = random != bytes(wire.HELLO_RETRY_RANDOM)
    assert_same_decoding("ServerHello", raw, fast_expected=fast)


def test_hello_retry_request_goes_to_tlslite() -> None:
    hrr = ServerHello().create((3, 3), bytearray(TLS_1_3_HRR), bytearray(32), 0x1301)
    hrr.extensions = [
        SrvSupportedVersionsExtension().create((3, 4)),
        HRRKeyShareExtension().create(0x0017),
    ]
    raw = bytes(hrr.write())
    decoded = wire.decode_server_hello(raw)
    assert not isinstance(decoded, wire.ServerHello13)
    assert decoded.extensions[1].selected_group == 0x0017


@pytest.mark.parametrize(
    "extensions",
    [
        [TLSExtension(extType=0xFF01).create(bytearray(b"\x00"))],
        [],  # an empty extension block
        [SrvSupportedVersionsExtension().create((3, 3))],
    ],
)
def test_tls12_server_hello_goes_to_tlslite(extensions: list[object]) -> None:
    hello = ServerHello().create((3, 3), bytearray(32), bytearray(32), 0xC02B)
    hello.extensions = extensions
    raw = bytes(hello.write())
    assert not isinstance(wire.decode_server_hello(raw), wire.ServerHello13)


@given(
    groups=groups_st,
    alpn=st.none() | st.lists(st.binary(min_size=1, max_size=20), min_size=1, max_size=3),
    sni=st.booleans(),
)
def test_encrypted_extensions_drawn(groups: list[int], alpn: list[bytes] | None, sni: bool) -> None:
    assert_same_decoding("EncryptedExtensions", lite_ee(groups, alpn, sni))


def test_encrypted_extensions_with_other_extensions_go_to_tlslite() -> None:
    raw = bytes(
        EncryptedExtensions()
        .create([TLSExtension(extType=28).create(bytearray(b"\x40\x01"))])
        .write()
    )
    assert_same_decoding("EncryptedExtensions", raw, fast_expected=False)


@given(
    context=st.binary(max_size=8),
    schemes=schemes_st,
    cert_schemes=st.none() | schemes_st,
    cas=st.none() | st.binary(max_size=40),
)
def test_certificate_request_drawn(
    context: bytes, schemes: list[int], cert_schemes: list[int] | None, cas: bytes | None
) -> None:
    assert_same_decoding("CertificateRequest", lite_cr(context, schemes, cert_schemes, cas))


@given(scheme=st.integers(0, 0xFFFF), signature=st.binary(min_size=1, max_size=600))
def test_certificate_verify_drawn(scheme: int, signature: bytes) -> None:
    assert_same_decoding("CertificateVerify", lite_cv(scheme, signature))


def _mutations() -> st.SearchStrategy[tuple[str, bytes]]:
    """A valid message of each kind with one byte changed, cut short or extended."""
    samples = {
        "ServerHello": lite_sh(bytes(range(32)), b"\x01" * 32, 0x1301, 0x001D, b"k" * 32, 0),
        "EncryptedExtensions": lite_ee([0x001D, 0x0017], [b"h2"], True),
        "CertificateRequest": lite_cr(b"", [0x0403, 0x0804], [0x0401], b"\x00\x03abc"),
        "CertificateVerify": lite_cv(0x0403, b"s" * 70),
    }

    @st.composite
    def mutate(draw: st.DrawFn) -> tuple[str, bytes]:
        kind = draw(st.sampled_from(sorted(samples)))
        raw = bytearray(samples[kind])
        how = draw(st.sampled_from(["flip", "cut", "grow"]))
        if how == "flip":
            at = draw(st.integers(4, len(raw) - 1))
            raw[at] = draw(st.integers(0, 255))
        elif how == "cut":
            raw = raw[: draw(st.integers(4, len(raw) - 1))]
            raw[1:4] = (len(raw) - 4).to_bytes(3, "big")
        else:
            raw += draw(st.binary(min_size=1, max_size=4))
            raw[1:4] = (len(raw) - 4).to_bytes(3, "big")
        return kind, bytes(raw)

    return mutate()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(case=_mutations())
def test_mutated_messages_fast_path_never_disagrees_with_tlslite(case: tuple[str, bytes]) -> None:
    """The fast path accepts only what tlslite-ng parses the same way; all else falls back
    to tlslite-ng (and so ends in DecodeError where it always did)."""
    kind, raw = case
    try:
        assert_fast_path_agrees(kind, raw)
    except DecodeError:
        pytest.fail(f"fast path accepted a {kind} tlslite-ng rejects: {raw.hex()}")


@given(kind=st.sampled_from(sorted(DECODERS)), raw=st.binary(max_size=80))
def test_random_bytes_end_in_decode_error_or_agree(kind: str, raw: bytes) -> None:
    msg_type = {"ServerHello": 2, "EncryptedExtensions": 8, "CertificateRequest": 13}.get(kind, 15)
    message = bytes((msg_type,)) + len(raw).to_bytes(3, "big") + raw
    _, ours, _, _ = DECODERS[kind]
    try:
        ours(message)
    except DecodeError:
        return
    assert_fast_path_agrees(kind, message)


# --------------------------------------------------------------------------- encoders


def lite_client_hello(
    random: bytes,
    session_id: bytes,
    suites: list[int],
    host: bytes | None,
    groups: list[int],
    schemes: list[int],
    alpn: list[bytes],
    pha: bool,
    cookie: bytes | None,
    shares: list[tuple[int, bytes]],
    versions: tuple[int, ...] = (0x0304,),
) -> bytes:
    exts: list[object] = []
    if host is not None:
        exts.append(SNIExtension().create(bytearray(host)))
    exts.append(SupportedGroupsExtension().create(groups))
    exts.append(SignatureAlgorithmsExtension().create([divmod(s, 256) for s in schemes]))
    if alpn:
        exts.append(ALPNExtension().create([bytearray(p) for p in alpn]))
    exts.append(SupportedVersionsExtension().create([divmod(v, 256) for v in versions]))
    exts.append(PskKeyExchangeModesExtension().create([1]))
    if pha:
        exts.append(TLSExtension(extType=49).create(bytearray()))
    if cookie is not None:
        exts.append(CookieExtension().create(bytearray(cookie)))
    exts.append(
        ClientKeyShareExtension().create(
            [KeyShareEntry().create(g, bytearray(k)) for g, k in shares]
        )
    )
    hello = ClientHello().create(
        (3, 3), bytearray(random), bytearray(session_id), suites, extensions=exts
    )
    return bytes(hello.write())


def our_client_hello(
    random: bytes,
    session_id: bytes,
    suites: list[int],
    host: bytes | None,
    groups: list[int],
    schemes: list[int],
    alpn: list[bytes],
    pha: bool,
    cookie: bytes | None,
    shares: list[tuple[int, bytes]],
    versions: tuple[int, ...] = (0x0304,),
) -> bytes:
    exts = []
    if host is not None:
        exts.append(wire.ext_server_name(host))
    exts.append(wire.ext_supported_groups(groups))
    exts.append(wire.ext_signature_algorithms(schemes))
    if alpn:
        exts.append(wire.ext_alpn(alpn))
    exts.append(wire.ext_supported_versions(versions))
    exts.append(wire.ext_psk_key_exchange_modes([1]))
    if pha:
        exts.append(wire.ext_empty(49))
    if cookie is not None:
        exts.append(wire.ext_cookie(cookie))
    exts.append(wire.ext_key_share(shares))
    return wire.encode_client_hello(random, session_id, suites, exts)


def test_client_hello_fixed() -> None:
    args = (
        bytes(range(32)), bytes(32), [0x1301, 0x1302, 0x1303], b"example.com",
        [0x001D, 0x0017, 0x0018, 0x11EC], [0x0403, 0x0804, 0x0401], [b"h2", b"http/1.1"],
        True, None, [(0x001D, bytes(32))],
    )  # fmt: skip
    assert our_client_hello(*args) == lite_client_hello(*args)  # type: ignore[arg-type]


@given(
    random=st.binary(min_size=32, max_size=32),
    session_id=st.binary(max_size=32),
    suites=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=6),
    host=st.none() | st.from_regex(rb"[a-z0-9]{1,20}(\.[a-z0-9]{1,20}){0,3}", fullmatch=True),
    groups=groups_st.filter(bool),
    schemes=schemes_st,
    alpn=st.lists(st.binary(min_size=1, max_size=16), max_size=3),
    pha=st.booleans(),
    cookie=st.none() | st.binary(min_size=1, max_size=64),
    shares=st.lists(st.tuples(st.integers(0, 0xFFFF), key_st), min_size=1, max_size=2),
    versions=st.sampled_from([(0x0304,), (0x0304, 0x0303)]),
)
def test_client_hello_drawn(**fields: object) -> None:
    assert our_client_hello(**fields) == lite_client_hello(**fields)  # type: ignore[arg-type]


@given(
    context=st.binary(max_size=8),
    count=st.integers(0, 3),
)
def test_certificate_encoding_matches_tlslite(
    root_ca_certs: list[bytes], context: bytes, count: int
) -> None:
    ders = root_ca_certs[:count]
    ours = wire.encode_certificate13(context, ders)
    chain = X509CertChain([_lite_x509(d) for d in ders])
    lite = Certificate(CertificateType.x509, (3, 4)).create(chain, bytearray(context))
    assert ours == bytes(lite.write())
    assert wire.decode_certificate13(ours) == (context, list(ders))


def _handshake(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


EDGE_CASES = [
    # CertificateRequest: empty signature_algorithms list, odd-length list, empty ALPN name
    ("CertificateRequest", _handshake(13, b"\x00" + b"\x00\x06" + b"\x00\x0d\x00\x02\x00\x00")),
    ("CertificateRequest", _handshake(13, b"\x00" + b"\x00\x07" + b"\x00\x0d\x00\x03\x00\x01\x04")),
    ("EncryptedExtensions", _handshake(8, b"\x00\x07" + b"\x00\x10\x00\x03\x00\x01\x00")),
    # EncryptedExtensions: a server_name answer with a body, empty supported_groups
    ("EncryptedExtensions", _handshake(8, b"\x00\x05" + b"\x00\x00\x00\x01\x00")),
    ("EncryptedExtensions", _handshake(8, b"\x00\x06" + b"\x00\x0a\x00\x02\x00\x00")),
    # ServerHello: no extension block at all; key_share without a key
    ("ServerHello", _handshake(2, b"\x03\x03" + bytes(32) + b"\x00\x13\x01\x00")),
    (
        "ServerHello",
        _handshake(
            2, b"\x03\x03" + bytes(32) + b"\x00\x13\x01\x00\x00\x06\x00\x33\x00\x02\x00\x1d"
        ),
    ),
    # CertificateVerify: empty signature
    ("CertificateVerify", _handshake(15, b"\x04\x03\x00\x00")),
]


@pytest.mark.parametrize(("kind", "raw"), EDGE_CASES)
def test_edge_cases_agree_or_fall_back(kind: str, raw: bytes) -> None:
    _, ours, lite, fields = DECODERS[kind]
    try:
        expected = message_view(lite(raw), fields)
    except DecodeError:
        with pytest.raises(DecodeError):
            ours(raw)
        return
    assert message_view(ours(raw), fields) == expected


# --------------------------------------------------------------------------- per-bytes caches


def test_server_leaf_is_parsed_once_per_der_and_failures_are_not_cached(
    root_ca_certs: list[bytes],
) -> None:
    from cryptography.hazmat.primitives.serialization import PublicFormat

    first = wire.server_leaf(root_ca_certs[0])
    assert wire.server_leaf(bytes(bytearray(root_ca_certs[0]))) is first
    expected = x509.load_der_x509_certificate(root_ca_certs[0])
    assert first.subject == expected.subject.rfc4514_string()
    assert first.public_key.public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    ) == expected.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    misses = wire.server_leaf.cache_info().misses
    for _ in range(2):
        with pytest.raises(ValueError):
            wire.server_leaf(b"\x30\x03\x02\x01\x00")
    assert wire.server_leaf.cache_info().misses == misses + 2


def test_certificate_request_info_is_decoded_once_per_message() -> None:
    from tlsengine.protocol.tls13 import _request_info

    raw = lite_cr(b"", [0x0403, 0x0804], [0x0401], None)
    first = _request_info(raw, "WAIT_CERT_CR", False, "example.com")
    assert _request_info(bytes(bytearray(raw)), "WAIT_CERT_CR", False, "example.com") is first
    assert first.signature_schemes == ("ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256")
    other_host = _request_info(raw, "WAIT_CERT_CR", False, "other.example")
    assert other_host is not first and other_host.server_name == "other.example"
    for _ in range(2):  # missing signature_algorithms: raised every time, never cached
        with pytest.raises(HandshakeError, match="signature_algorithms"):
            _request_info(_handshake(13, b"\x00\x00\x00"), "WAIT_CERT_CR", False, None)


@given(scheme=st.integers(0, 0xFFFF), signature=st.binary(min_size=1, max_size=600))
def test_our_certificate_verify_encoding_matches_tlslite(scheme: int, signature: bytes) -> None:
    assert wire.encode_certificate_verify13(scheme, signature) == lite_cv(scheme, signature)


@given(verify_data=st.binary(min_size=32, max_size=48))
def test_finished_encoding_matches_tlslite(verify_data: bytes) -> None:
    lite = Finished((3, 4), len(verify_data)).create(bytearray(verify_data))
    assert wire.encode_handshake(20, verify_data) == bytes(lite.write())


@given(
    ticket=st.binary(min_size=1, max_size=200),
    age=st.integers(0, 2**32 - 1),
    size=st.sampled_from([32, 48]),
    binder=st.data(),
)
def test_pre_shared_key_and_its_truncation_match_tlslite(
    ticket: bytes, age: int, size: int, binder: st.DataObject
) -> None:
    """Our ClientHello with pre_shared_key last equals tlslite-ng's, and cutting off the
    binders list (what the binder signs, RFC 8446 4.2.11.2) equals its psk_truncate()."""
    shares = [(0x001D, bytes(32))]
    ours = wire.encode_client_hello(
        bytes(32),
        bytes(32),
        [0x1301],
        [wire.ext_key_share(shares), wire.ext_pre_shared_key([(ticket, age)], [size])],
    )
    identity = PskIdentity().create(bytearray(ticket), age)
    hello = ClientHello().create(
        (3, 3),
        bytearray(32),
        bytearray(32),
        [0x1301],
        extensions=[
            ClientKeyShareExtension().create([KeyShareEntry().create(0x001D, bytearray(32))]),
            PreSharedKeyExtension().create([identity], [bytearray(size)]),
        ],
    )
    assert ours == bytes(hello.write())
    assert ours[: -(2 + 1 + size)] == bytes(hello.psk_truncate())
    value = binder.draw(st.binary(min_size=size, max_size=size))
    signed = ours[: -(2 + 1 + size)] + (size + 1).to_bytes(2, "big") + bytes((size,)) + value
    hello.extensions[-1].binders = [bytearray(value)]
    assert signed == bytes(hello.write())
