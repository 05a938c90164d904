"""Client-side MUSTs of RFC 8446 sections 4.3.2, 4.4.2, 4.4.3, 4.6.2 and 4.6.3, driven
through the record/mutate/replay harness: a live server's flight, edited inside the
encryption, re-signed where the edit must reach the client's later stages, and judged by
the oracle's own key schedule (tests/protocol/test_rfc8446_*.py drive the same rules
through the in-process server)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from tlsengine.identity.model import Identity
from tlsengine.protocol.keyschedule import Transcript
from tlsengine.selection.schemes import verify
from tlsengine.testing.replay import Corrupt, Edit, EditRequest, Outcome, Recording, replay


def vec(data: bytes, size: int) -> bytes:
    return len(data).to_bytes(size, "big") + data


def handshake_message(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + vec(body, 3)


def resigned(recording: Recording, key_cert: tuple[Any, Any], *mutations: Any) -> Outcome:
    return replay(recording, list(mutations), resign_flight=True, server_key=key_cert[1])


def refused(outcome: Outcome, alert: str) -> None:
    assert outcome.ok, outcome.violations
    assert outcome.error is not None and outcome.alert == alert, (outcome.error, outcome.alert)
    assert "Certificate" not in outcome.client_names


# ------------------------------------------------------------------ 4.3.2 CertificateRequest


def test_4_3_2_handshake_request_context_must_be_empty(recording, server_key_and_cert) -> None:
    refused(
        resigned(recording, server_key_and_cert, EditRequest(context=b"\x01")), "illegal_parameter"
    )


def test_4_3_2_signature_algorithms_must_be_specified(recording, server_key_and_cert) -> None:
    def drop_sigalgs(request: Any) -> None:
        request.extensions = [e for e in request.extensions if e.extType != 13]

    outcome = resigned(recording, server_key_and_cert, Edit("CertificateRequest", drop_sigalgs))
    refused(outcome, "missing_extension")


def test_4_3_2_unrecognised_extensions_are_ignored(recording, server_key_and_cert) -> None:
    outcome = resigned(
        recording, server_key_and_cert, EditRequest(extra_extensions=((0x1234, b"?"),))
    )
    assert outcome.ok and outcome.completed
    assert outcome.client_names == ["Certificate", "CertificateVerify", "Finished"]


def test_4_3_2_certificate_authorities_narrow_the_choice(
    recording, server_key_and_cert, other_root_ca
) -> None:
    """Only a stranger CA named: our identity is excluded (ca-mismatch), so the client
    sends an empty Certificate rather than none (4.4.2)."""
    names = (other_root_ca.name.public_bytes(),)
    outcome = resigned(recording, server_key_and_cert, EditRequest(certificate_authorities=names))
    assert outcome.ok and outcome.completed
    assert outcome.client_names == ["Certificate", "Finished"]
    assert outcome.connection.selection.verdicts[0].verdict == "ca-mismatch"


# ------------------------------------------------------------------ 4.4.2 Certificate


def test_4_4_2_4_empty_server_certificate_is_decode_error(recording, server_key_and_cert) -> None:
    empty = handshake_message(11, vec(b"", 1) + vec(b"", 3))
    refused(
        resigned(recording, server_key_and_cert, Edit("Certificate", lambda m: empty)),
        "decode_error",
    )


def test_4_4_2_server_certificate_context_must_be_empty(recording, server_key_and_cert) -> None:
    def with_context(message: Any) -> bytes:
        body = bytes(message.write())[4:]
        return handshake_message(11, vec(b"\x07", 1) + body[1:])

    outcome = resigned(recording, server_key_and_cert, Edit("Certificate", with_context))
    refused(outcome, "decode_error")


def test_4_4_2_client_sends_its_chain_leaf_first_in_an_empty_context(
    recording, client_identity: Identity
) -> None:
    outcome = replay(recording)
    body = outcome.client_messages[0][4:]
    assert body[0] == 0  # the handshake request's (empty) context
    leaf = client_identity.certificate.public_bytes(Encoding.DER)
    assert body[1 + 3 + 3 : 1 + 3 + 3 + len(leaf)] == leaf


# ------------------------------------------------------------------ 4.4.3 CertificateVerify


def test_4_4_3_server_scheme_must_be_one_we_offered(recording) -> None:
    def sha1_scheme(message: Any) -> bytes:
        raw = bytes(message.write())
        return raw[:4] + b"\x02\x03" + raw[6:]  # ecdsa_sha1: never offered for TLS 1.3

    refused(replay(recording, [Edit("CertificateVerify", sha1_scheme)]), "illegal_parameter")


def test_4_4_3_signature_that_does_not_verify_is_decrypt_error(recording) -> None:
    refused(replay(recording, [Corrupt("CertificateVerify", -2)]), "decrypt_error")


def test_4_4_3_our_signature_covers_the_transcript_with_the_client_context(
    recording, client_identity: Identity
) -> None:
    outcome = replay(recording)
    certificate, cert_verify = outcome.client_messages[:2]
    transcript = Transcript()
    transcript.start(recording.suite.hash_name)
    for raw in (recording.client_hello, recording.server_hello, *outcome.delivered, certificate):
        transcript.update(raw)
    content = b" " * 64 + b"TLS 1.3, client CertificateVerify\x00" + transcript.digest()
    scheme_code = int.from_bytes(cert_verify[4:6], "big")
    assert scheme_code == 0x0403
    verify(
        client_identity.certificate.public_key(),
        "ecdsa_secp256r1_sha256",
        cert_verify[8:],
        content,
        version="TLSv1.3",
    )


# ------------------------------------------------------------------ 4.6.2 post-handshake auth


def post_request(context: bytes) -> bytes:
    sigalgs = (13).to_bytes(2, "big") + vec(vec(b"\x04\x03", 2), 2)
    return handshake_message(13, vec(context, 1) + vec(sigalgs, 2))


def test_4_6_2_post_handshake_request_is_answered_under_application_keys(recording) -> None:
    outcome = replay(recording, post=[post_request(b"\x2a")])
    assert outcome.ok, outcome.violations
    assert outcome.error is None
    assert [m[0] for m in outcome.client_post] == [11, 15, 20]
    assert outcome.client_post[0][4:6] == b"\x01\x2a"  # the request's context, echoed


def test_4_6_2_post_handshake_request_needs_a_context(recording) -> None:
    outcome = replay(recording, post=[post_request(b"")])
    assert outcome.ok and outcome.alert == "illegal_parameter"
    assert outcome.client_post == []


def test_4_6_2_context_may_not_repeat(recording) -> None:
    outcome = replay(recording, post=[post_request(b"\x01"), post_request(b"\x01")])
    assert outcome.ok and outcome.alert == "illegal_parameter"
    assert [m[0] for m in outcome.client_post] == [11, 15, 20]  # only the first answered


# ------------------------------------------------------------------ 4.6.3 KeyUpdate


def key_update(value: int) -> bytes:
    return handshake_message(24, bytes((value,)))


def test_4_6_3_update_requested_is_answered_and_both_keys_move_on(recording) -> None:
    """The oracle follows both sides' key changes: the second KeyUpdate is sealed under
    the server's next secret, and the client's answer decrypts under its own next one."""
    outcome = replay(recording, post=[key_update(1), key_update(1)])
    assert outcome.ok, outcome.violations
    assert outcome.error is None
    assert outcome.client_post == [key_update(0), key_update(0)]


def test_4_6_3_update_not_requested_is_not_answered(recording) -> None:
    outcome = replay(recording, post=[key_update(0)])
    assert outcome.ok and outcome.error is None
    assert outcome.client_post == []


def test_4_6_3_other_request_update_values_are_illegal_parameter(recording) -> None:
    outcome = replay(recording, post=[key_update(2)])
    assert outcome.ok and outcome.alert == "illegal_parameter"


def test_4_6_3_key_update_must_end_its_record(recording) -> None:
    outcome = replay(recording, post=[key_update(0) + key_update(0)])
    assert outcome.ok and outcome.alert == "unexpected_message"
