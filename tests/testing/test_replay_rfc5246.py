"""Client-side MUSTs of RFC 5246 sections 7.4.4 (CertificateRequest), 7.4.6 (client
Certificate) and 7.4.8 (CertificateVerify), driven through the record/mutate/replay
harness: a live tlslite-ng TLS 1.2 server's flight, edited message by message, replayed
against the client and judged by `Oracle12`, which derives the extended master secret
itself and checks the client's flight (tests/protocol/test_rfc5246_7_4_*.py drive the same
rules through the in-process server, as a second check)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from tlsengine.identity.model import Identity
from tlsengine.testing import CA
from tlsengine.testing.replay import (
    Drop,
    Duplicate,
    Edit,
    EditRequest12,
    Outcome,
    Recording12,
    Swap,
    replay,
)

ECDSA_SIGN, RSA_SIGN = b"\x40", b"\x01"
HASHES = {4: hashes.SHA256(), 5: hashes.SHA384(), 6: hashes.SHA512()}
EMPTY_CERTIFICATE = b"\x0b\x00\x00\x03\x00\x00\x00"


def vec(data: bytes, size: int) -> bytes:
    return len(data).to_bytes(size, "big") + data


def raw_request(body: bytes) -> Edit:
    """Replace the CertificateRequest by ``body`` as it is (no re-encoding)."""
    message = b"\x0d" + vec(body, 3)
    return Edit("CertificateRequest", lambda request: message, version=(3, 3))


def run(recording: Recording12, *mutations: Any, identities: Any = None) -> Outcome:
    config = recording.config
    if identities is not None:
        config = replace(config, identities=list(identities))
    return replay(recording, list(mutations), config=config)


def refused(outcome: Outcome, alert: str) -> None:
    assert outcome.ok, outcome.violations
    assert outcome.error is not None and outcome.alert == alert, (outcome.error, outcome.alert)
    assert outcome.client_names == []  # not even a ClientKeyExchange


def answered(outcome: Outcome) -> list[bytes]:
    """The oracle accepted the client's flight and the handshake completed: its messages."""
    assert outcome.ok, outcome.violations
    assert outcome.completed, outcome.error
    return outcome.client_messages


def chain_sent(outcome: Outcome) -> list[bytes]:
    body = outcome.client_messages[0][7:]
    out = []
    while body:
        size = int.from_bytes(body[:3], "big")
        out.append(body[3 : 3 + size])
        body = body[3 + size :]
    return out


def der(identity: Identity) -> list[bytes]:
    return [c.public_bytes(Encoding.DER) for c in identity.chain]


@pytest.fixture(scope="module")
def rsa_identity(root_ca: CA) -> Identity:
    return root_ca.identity("replay rsa client", "rsa2048")


# ------------------------------------------------------------------ 7.4.4 CertificateRequest


def test_7_4_4_empty_certificate_types_is_decode_error(recording12: Recording12) -> None:
    """``ClientCertificateType certificate_types<1..2^8-1>``."""
    refused(run(recording12, EditRequest12(certificate_types=b"")), "decode_error")


def test_7_4_4_empty_supported_signature_algorithms_is_decode_error(
    recording12: Recording12,
) -> None:
    """``supported_signature_algorithms<2..2^16-2>``."""
    refused(run(recording12, EditRequest12(signature_algorithms=())), "decode_error")


def test_7_4_4_odd_length_signature_algorithms_is_decode_error(recording12: Recording12) -> None:
    body = vec(ECDSA_SIGN, 1) + vec(b"\x04\x03\x04", 2) + vec(b"", 2)
    refused(run(recording12, raw_request(body)), "decode_error")


@pytest.mark.parametrize(
    "names",
    [vec(b"\x00\x10\x30\x00", 2), vec(vec(b"\x30\x03\x31", 2), 2), vec(b"", 2) + b"\x00"],
    ids=["overrun", "not-der", "trailing"],
)
def test_7_4_4_certificate_authorities_must_decode(recording12: Recording12, names: bytes) -> None:
    """``DistinguishedName certificate_authorities<0..2^16-1>``, each a DER Name."""
    body = vec(ECDSA_SIGN, 1) + vec(b"\x04\x03", 2) + names
    refused(run(recording12, raw_request(body)), "decode_error")


@pytest.mark.parametrize(
    "mutation",
    [Swap("ServerKeyExchange", "CertificateRequest"), Duplicate("CertificateRequest")],
    ids=["before-server-key-exchange", "twice"],
)
def test_7_4_4_certificate_request_only_right_after_server_key_exchange(
    recording12: Recording12, mutation: Any
) -> None:
    """ "This message, if sent, will immediately follow the ServerKeyExchange message"."""
    refused(run(recording12, mutation), "unexpected_message")


def test_7_4_4_certificate_types_decide_the_key_type_sent(
    recording12: Recording12, client_identity: Identity, rsa_identity: Identity
) -> None:
    """certificate_types lists "the types of certificates the client may offer"."""
    both = (0x0403, 0x0401)
    for types, expected in ((RSA_SIGN, rsa_identity), (ECDSA_SIGN, client_identity)):
        edit = EditRequest12(certificate_types=types, signature_algorithms=both)
        outcome = run(recording12, edit, identities=[client_identity, rsa_identity][::-1])
        answered(outcome)
        assert chain_sent(outcome)[0] == der(expected)[0]


def test_7_4_4_unknown_types_and_algorithms_are_ignored(recording12: Recording12) -> None:
    edit = EditRequest12(certificate_types=b"\x02\xfe\x40", signature_algorithms=(0xFEFE, 0x0403))
    outcome = run(recording12, edit)
    assert [m[0] for m in answered(outcome)] == [11, 16, 15, 20]


def test_7_4_4_certificate_authorities_narrow_the_choice(
    recording12: Recording12, other_root_ca: CA
) -> None:
    edit = EditRequest12(certificate_authorities=(other_root_ca.name.public_bytes(),))
    outcome = run(recording12, edit)
    assert answered(outcome)[0] == EMPTY_CERTIFICATE
    assert outcome.connection.selection.verdicts[0].verdict == "ca-mismatch"


# ------------------------------------------------------------------ 7.4.6 client Certificate


def test_7_4_6_certificate_is_the_first_message_after_server_hello_done(
    recording12: Recording12,
) -> None:
    """ "This is the first message the client can send after receiving a ServerHelloDone
    message. This message is only sent if the server requests a certificate.\""""
    outcome = run(recording12)
    assert outcome.client_names == [
        "Certificate",
        "ClientKeyExchange",
        "CertificateVerify",
        "Finished",
    ]
    answered(outcome)


def test_7_4_6_no_request_means_no_certificate(recording12: Recording12) -> None:
    outcome = run(recording12, Drop("CertificateRequest"))
    answered(outcome)
    assert outcome.client_names == ["ClientKeyExchange", "Finished"]


@pytest.mark.parametrize("why", ["key-type", "ca-name"])
def test_7_4_6_no_suitable_certificate_sends_a_certificate_with_no_certificates(
    recording12: Recording12, rsa_identity: Identity, other_root_ca: CA, why: str
) -> None:
    """ "If no suitable certificate is available, the client MUST send a certificate
    message containing no certificates.\""""
    if why == "key-type":  # an RSA identity, an ecdsa_sign-only request
        edit = EditRequest12(certificate_types=ECDSA_SIGN)
    else:  # our identity, a request naming only a stranger CA
        edit = EditRequest12(certificate_authorities=(other_root_ca.name.public_bytes(),))
    identities = [rsa_identity] if why == "key-type" else None
    outcome = run(recording12, edit, identities=identities)
    assert answered(outcome)[0] == EMPTY_CERTIFICATE
    assert outcome.client_names == ["Certificate", "ClientKeyExchange", "Finished"]


def test_7_4_6_chain_is_x509v3_leaf_first_each_certifying_the_one_before(
    recording12: Recording12, root_ca: CA
) -> None:
    """7.4.2, which 7.4.6 uses: "The sender's certificate MUST come first in the list.
    Each following certificate MUST directly certify the one preceding it.\""""
    identity = root_ca.intermediate("tlsengine Replay Intermediate").identity("replay chained")
    outcome = run(recording12, identities=[identity])
    answered(outcome)
    certs = [x509.load_der_x509_certificate(d) for d in chain_sent(outcome)]
    # leaf, intermediate; the self-signed root "MAY be omitted" (7.4.2) and is by default
    assert [c.public_bytes(Encoding.DER) for c in certs] == der(identity)[:-1]
    assert len(certs) == 2
    assert all(c.version is x509.Version.v3 for c in certs)
    for subject, issuer in zip(certs, certs[1:], strict=False):
        subject.verify_directly_issued_by(issuer)


@pytest.mark.parametrize(
    ("types", "key_class"),
    [(RSA_SIGN, rsa.RSAPublicKey), (ECDSA_SIGN, ec.EllipticCurvePublicKey)],
    ids=["rsa_sign", "ecdsa_sign"],
)
def test_7_4_6_end_entity_key_is_compatible_with_the_certificate_types(
    recording12: Recording12,
    client_identity: Identity,
    rsa_identity: Identity,
    types: bytes,
    key_class: type,
) -> None:
    edit = EditRequest12(certificate_types=types, signature_algorithms=(0x0403, 0x0401, 0x0804))
    for order in ([client_identity, rsa_identity], [rsa_identity, client_identity]):
        outcome = run(recording12, edit, identities=order)
        answered(outcome)
        leaf = x509.load_der_x509_certificate(chain_sent(outcome)[0])
        assert isinstance(leaf.public_key(), key_class)


# ------------------------------------------------------------------ 7.4.8 CertificateVerify


def test_7_4_8_certificate_verify_immediately_follows_client_key_exchange(
    recording12: Recording12,
) -> None:
    """ "When sent, it MUST immediately follow the client key exchange message.\""""
    types = [m[0] for m in answered(run(recording12))]
    assert types[types.index(16) + 1] == 15


@pytest.mark.parametrize("request_sent", [True, False], ids=["empty-certificate", "no-request"])
def test_7_4_8_no_certificate_verify_without_a_certificate_that_can_sign(
    recording12: Recording12, request_sent: bool
) -> None:
    """ "This message is only sent following a client certificate that has signing
    capability.\""""
    unsuitable = EditRequest12(certificate_types=RSA_SIGN)  # our identity is P-256
    outcome = run(recording12, unsuitable if request_sent else Drop("CertificateRequest"))
    answered(outcome)
    assert "CertificateVerify" not in outcome.client_names


def test_7_4_8_signature_covers_exactly_the_handshake_messages_so_far(
    recording12: Recording12, client_identity: Identity
) -> None:
    """ "handshake_messages refers to all handshake messages sent or received, starting at
    client hello and up to, but not including, this message": checked here with
    `cryptography` over our own concatenation, besides the oracle's check."""
    outcome = run(recording12)
    certificate, cke, cv, _ = answered(outcome)
    signed = (
        recording12.client_hello
        + recording12.server_hello
        + b"".join(outcome.delivered)
        + certificate
        + cke
    )
    assert cv[5] == 3 and cv[4] in HASHES  # ecdsa, with the listed pair's own hash
    signature, algorithm = cv[8:], ec.ECDSA(HASHES[cv[4]])
    key = client_identity.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, signed, algorithm)
    with pytest.raises(InvalidSignature):  # a control: not over the transcript minus the CKE
        key.verify(signature, signed[: -len(cke)], algorithm)


@pytest.mark.parametrize(
    ("key", "listed", "expected"),
    [
        ("ec", (0x0804, 0x0401, 0x0503), 0x0503),
        ("rsa", (0x0403, 0x0503, 0x0805), 0x0805),
        ("rsa", (0x0403, 0x0201, 0x0501), 0x0501),  # RFC 9155: never SHA-1, even listed
    ],
    ids=["ecdsa-key", "rsa-key-pss", "rsa-key-pkcs1"],
)
def test_7_4_8_scheme_is_listed_by_the_request_and_compatible_with_the_key(
    recording12: Recording12,
    client_identity: Identity,
    rsa_identity: Identity,
    key: str,
    listed: tuple[int, ...],
    expected: int,
) -> None:
    """ "The hash and signature algorithms used in the signature MUST be one of those
    present in the supported_signature_algorithms field ... MUST be compatible with the
    key in the client's end-entity certificate" (the oracle checks the signature)."""
    identity = client_identity if key == "ec" else rsa_identity
    edit = EditRequest12(certificate_types=ECDSA_SIGN + RSA_SIGN, signature_algorithms=listed)
    outcome = run(recording12, edit, identities=[identity])
    cv = answered(outcome)[2]
    assert int.from_bytes(cv[4:6], "big") == expected
    if key == "rsa" and expected == 0x0501:
        public = rsa_identity.certificate.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        signed = b"".join(
            [recording12.client_hello, recording12.server_hello, *outcome.delivered]
            + outcome.client_messages[:2]
        )
        public.verify(cv[8:], signed, padding.PKCS1v15(), hashes.SHA384())


@pytest.mark.parametrize(
    ("key", "listed"),
    [("rsa", (0x0403, 0x0503)), ("ec", (0x0401, 0x0804)), ("rsa", (0x0201,))],
    ids=["rsa-key-ecdsa-only", "ecdsa-key-rsa-only", "sha1-only"],
)
def test_7_4_8_no_listed_scheme_fits_the_key_means_no_certificate_verify(
    recording12: Recording12,
    client_identity: Identity,
    rsa_identity: Identity,
    key: str,
    listed: tuple[int, ...],
) -> None:
    identity = client_identity if key == "ec" else rsa_identity
    edit = EditRequest12(certificate_types=ECDSA_SIGN + RSA_SIGN, signature_algorithms=listed)
    outcome = run(recording12, edit, identities=[identity])
    assert answered(outcome)[0] == EMPTY_CERTIFICATE
    assert "CertificateVerify" not in outcome.client_names
