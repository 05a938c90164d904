"""RFC 5246 section 7.4.8, Certificate Verify: each rule that binds the client, one test
each. The oracle (rfc5246_peer.py) keeps its own transcript of what went over the wire and
the signature is checked with `cryptography` directly, not with the engine's verify()."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proto_helpers import choose
from rfc5246_peer import (
    CERTIFICATE,
    CERTIFICATE_VERIFY,
    CLIENT_KEY_EXCHANGE,
    FINISHED,
    OracleServer12,
    certificate_request12,
    connect,
    der_chain,
    read_client_flight,
)

ECDSA_SIGN, RSA_SIGN = 0x40, 0x01
_HASHES = {0x04: hashes.SHA256(), 0x05: hashes.SHA384(), 0x06: hashes.SHA512()}


def _flight(server_material, identities, request: bytes | None, **config):
    chain, key = server_material
    srv = OracleServer12(chain, key, request=request)
    conn, srv, _ = connect(server_material, identities, server=srv, **config)
    flight = read_client_flight(srv, conn.data_to_send())
    assert flight.finished_verifies
    return flight


def _check_signature(public_key, scheme: int, signature: bytes, data: bytes) -> None:
    """RFC 5246 4.7 / 7.4.1.4.1 pairs (hash, signature); RFC 8446 codes for PSS and EdDSA."""
    if scheme in (0x0807, 0x0808):  # Ed25519, Ed448
        public_key.verify(signature, data)
    elif scheme >> 8 == 0x08:  # rsa_pss_rsae_sha256/384/512: 0x0804..0x0806
        algorithm = _HASHES[scheme - 0x0800]
        pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
        public_key.verify(signature, data, pss, algorithm)
    elif scheme & 0xFF == 0x01:
        public_key.verify(signature, data, padding.PKCS1v15(), _HASHES[scheme >> 8])
    else:
        assert scheme & 0xFF == 0x03, hex(scheme)
        public_key.verify(signature, data, ec.ECDSA(_HASHES[scheme >> 8]))


def _certificate_verify(flight) -> tuple[int, bytes]:
    body = flight.body(CERTIFICATE_VERIFY)
    length = int.from_bytes(body[2:4], "big")
    assert len(body) == 4 + length
    return int.from_bytes(body[:2], "big"), body[4:]


def test_7_4_8_certificate_verify_immediately_follows_client_key_exchange(
    server_material, client_identity
):
    """ "When sent, it MUST immediately follow the client key exchange message.\""""
    flight = _flight(server_material, [client_identity], certificate_request12())
    assert flight.types == [CERTIFICATE, CLIENT_KEY_EXCHANGE, CERTIFICATE_VERIFY, FINISHED]
    assert flight.before_ccs == 3  # and before our ChangeCipherSpec


@pytest.mark.parametrize("request_sent", [True, False], ids=["empty-certificate", "no-request"])
def test_7_4_8_no_certificate_verify_without_a_certificate_that_can_sign(
    server_material, request_sent
):
    """ "This message is only sent following a client certificate that has signing
    capability": never after an empty Certificate, never without a request."""
    flight = _flight(server_material, [], certificate_request12() if request_sent else None)
    assert CERTIFICATE_VERIFY not in flight.types
    assert flight.types == [CERTIFICATE, CLIENT_KEY_EXCHANGE, FINISHED][1 - request_sent :]


@pytest.mark.parametrize(
    ("key", "types", "schemes"),
    [
        ("p256", ECDSA_SIGN, (0x0403,)),
        ("p384", ECDSA_SIGN, (0x0503,)),
        ("p256", ECDSA_SIGN, (0x0603,)),  # TLS 1.2 ECDSA: the hash is not bound to the curve
        ("rsa2048", RSA_SIGN, (0x0401,)),
        ("rsa2048", RSA_SIGN, (0x0501,)),
        ("rsa2048", RSA_SIGN, (0x0804,)),
        ("rsa2048", RSA_SIGN, (0x0806,)),
        ("ed25519", ECDSA_SIGN, (0x0807,)),  # RFC 8422 5.6: ecdsa_sign covers EdDSA
    ],
    ids=[
        "ecdsa_secp256r1_sha256",
        "ecdsa_secp384r1_sha384",
        "p256-with-sha512",
        "rsa_pkcs1_sha256",
        "rsa_pkcs1_sha384",
        "rsa_pss_rsae_sha256",
        "rsa_pss_rsae_sha512",
        "ed25519",
    ],
)
def test_7_4_8_signature_covers_exactly_the_handshake_messages_so_far(
    server_material, root_ca, key, types, schemes
):
    """ "handshake_messages refers to all handshake messages sent or received, starting at
    client hello and up to, but not including, this message, including the type and length
    fields of the handshake messages", signed with the listed pair's own hash (not the PRF
    hash: the suite here is SHA-256)."""
    identity = root_ca.identity(f"cv {key}", key)
    request = certificate_request12(bytes((types,)), schemes)
    flight = _flight(server_material, [identity], request)
    scheme, signature = _certificate_verify(flight)
    assert scheme == schemes[0]
    public_key = identity.certificate.public_key()
    _check_signature(public_key, scheme, signature, flight.signed)
    assert flight.signed.endswith(flight.message(CLIENT_KEY_EXCHANGE))
    with pytest.raises(InvalidSignature):  # a control: not over the transcript minus the CKE
        _check_signature(
            public_key,
            scheme,
            signature,
            flight.signed[: -len(flight.message(CLIENT_KEY_EXCHANGE))],
        )


@pytest.mark.parametrize(
    ("key", "listed", "expected"),
    [
        ("p256", (0x0804, 0x0401, 0x0503), 0x0503),
        ("rsa2048", (0x0403, 0x0503, 0x0805), 0x0805),
        ("rsa2048", (0x0403, 0x0201, 0x0501), 0x0501),  # RFC 9155: never SHA-1, even listed
    ],
    ids=["ecdsa-key", "rsa-key-pss", "rsa-key-pkcs1"],
)
def test_7_4_8_scheme_is_listed_by_the_request_and_compatible_with_the_key(
    server_material, root_ca, key, listed, expected
):
    """ "The hash and signature algorithms used in the signature MUST be one of those present
    in the supported_signature_algorithms field of the CertificateRequest message. In
    addition, the hash and signature algorithms MUST be compatible with the key in the
    client's end-entity certificate.\""""
    identity = root_ca.identity(f"listed {key}", key)
    request = certificate_request12(bytes((ECDSA_SIGN, RSA_SIGN)), listed)
    scheme, signature = _certificate_verify(_flight(server_material, [identity], request))
    assert scheme == expected


@pytest.mark.parametrize(
    ("key", "listed"),
    [("rsa2048", (0x0403, 0x0503)), ("p256", (0x0401, 0x0804)), ("rsa2048", (0x0201,))],
    ids=["rsa-key-ecdsa-only", "ecdsa-key-rsa-only", "sha1-only"],
)
def test_7_4_8_no_listed_scheme_fits_the_key_means_no_certificate_verify(
    server_material, root_ca, key, listed
):
    """With no listed pair the key can make, the client cannot satisfy 7.4.8: it sends an
    empty Certificate (7.4.6) and no CertificateVerify, rather than an unlisted pair. A
    SHA-1 pair does not count: RFC 9155 (updating RFC 5246) forbids MD5 and SHA-1 in TLS
    1.2 signatures, whatever the server lists."""
    identity = root_ca.identity(f"unlisted {key}", key)
    request = certificate_request12(bytes((ECDSA_SIGN, RSA_SIGN)), listed)
    flight = _flight(server_material, [identity], request)
    assert flight.body(CERTIFICATE) == b"\x00\x00\x00"
    assert CERTIFICATE_VERIFY not in flight.types


@pytest.mark.parametrize("listed", [(0x0403,), (0x0401,)], ids=["listed-fits", "none-fits"])
def test_7_4_8_a_select_callback_cannot_make_the_client_sign_with_an_unlisted_scheme(
    server_material, client_identity, listed
):
    """A user ``select`` callback answering with a scheme the request did not list: the
    client signs with a listed one the key can make, or sends no certificate at all."""
    select = choose(client_identity, "ecdsa_secp521r1_sha512")
    request = certificate_request12(bytes((ECDSA_SIGN, RSA_SIGN)), listed)
    flight = _flight(server_material, [client_identity], request, select=select)
    if listed == (0x0403,):
        assert _certificate_verify(flight)[0] == 0x0403
    else:
        assert flight.body(CERTIFICATE) == b"\x00\x00\x00"
        assert CERTIFICATE_VERIFY not in flight.types


# ----------------------------------------------------------------------------- every request

_ECDSA_PAIRS, _RSA_PAIRS = (
    {0x0403, 0x0503, 0x0603},
    {0x0401, 0x0501, 0x0601, 0x0804, 0x0805, 0x0806},
)
_ANY_PAIR = sorted(_ECDSA_PAIRS | _RSA_PAIRS | {0x0201, 0x0203, 0x0101, 0x0807, 0x0808, 0xFEFE})


@pytest.fixture(scope="module")
def four_keys(root_ca):
    return [root_ca.identity(f"any {k}", k) for k in ("p256", "p384", "rsa2048", "ed25519")]


def _can_answer(identity, types: set[int], listed: set[int]) -> bool:
    key = identity.certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return 1 in types and bool(listed & _RSA_PAIRS)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return 64 in types and bool(listed & _ECDSA_PAIRS)
    return 64 in types and 0x0807 in listed  # Ed25519: ecdsa_sign covers EdDSA (RFC 8422)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    types=st.lists(st.sampled_from([1, 2, 64, 65, 66, 0xFF]), min_size=1, max_size=4),
    listed=st.lists(st.sampled_from(_ANY_PAIR), min_size=1, max_size=8),
)
def test_7_4_8_every_request_gets_a_listed_fitting_pair_over_the_transcript(
    server_material, four_keys, types, listed
):
    """All of 7.4.6 and 7.4.8 at once, for any certificate_types and pair list: a non-empty
    Certificate is followed by a CertificateVerify right after ClientKeyExchange, with a
    listed pair (never MD5/SHA-1) that the leaf's key makes and a certificate type allows,
    verifying over the oracle's transcript; an empty one only when no identity could do it."""
    request = certificate_request12(bytes(types), listed)
    flight = _flight(server_material, four_keys, request)
    leaf_list = flight.body(CERTIFICATE)
    possible = any(_can_answer(i, set(types), set(listed)) for i in four_keys)
    if leaf_list == b"\x00\x00\x00":
        assert CERTIFICATE_VERIFY not in flight.types and not possible
        return
    (identity,) = [i for i in four_keys if leaf_list[6:].startswith(der_chain(i)[0])]
    assert flight.types == [CERTIFICATE, CLIENT_KEY_EXCHANGE, CERTIFICATE_VERIFY, FINISHED]
    scheme, signature = _certificate_verify(flight)
    assert scheme in listed and scheme >> 8 not in (1, 2)
    assert _can_answer(identity, set(types), {scheme})
    _check_signature(identity.certificate.public_key(), scheme, signature, flight.signed)
