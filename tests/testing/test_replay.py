"""Record a live server's flight, replay it byte for byte, mutate it inside the encryption."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tlsengine.errors import TLSError
from tlsengine.protocol import ClientConfig
from tlsengine.testing.replay import (
    Corrupt,
    Drop,
    Duplicate,
    Edit,
    Insert,
    Oracle,
    Recording,
    Swap,
    replay,
)

FULL = ["EncryptedExtensions", "CertificateRequest", "Certificate", "CertificateVerify", "Finished"]


def test_recording_holds_the_decrypted_flight_and_no_secret_in_its_repr(
    recording: Recording,
) -> None:
    assert recording.names() == FULL
    assert recording.shared_secret.hex() not in repr(recording)


def test_unmodified_replay_completes_and_is_byte_for_byte_repeatable(
    recording: Recording,
) -> None:
    first = replay(recording)
    assert first.ok, first.violations
    assert first.completed and first.error is None
    assert first.client_names == ["Certificate", "CertificateVerify", "Finished"]
    second = replay(recording)
    # byte for byte up to the client's signature (ECDSA draws a fresh nonce per signature)
    assert second.client_messages[0] == first.client_messages[0]
    assert second.connection.transcript == first.connection.transcript


@pytest.mark.parametrize("framing", ["message", "coalesced", 1, 7, 100])
def test_legal_reframings_are_accepted(recording: Recording, framing: str | int) -> None:
    outcome = replay(recording, framing=framing)
    assert outcome.ok and outcome.completed, (outcome.error, outcome.violations)


@pytest.mark.parametrize(
    ("mutation", "alert"),
    [
        (Drop("EncryptedExtensions"), "unexpected_message"),
        (Drop("CertificateVerify"), "unexpected_message"),
        (Duplicate("CertificateRequest"), "unexpected_message"),
        (Swap("Certificate", "CertificateRequest"), "unexpected_message"),
        (Corrupt("Finished", 10), "decrypt_error"),
        (Corrupt("CertificateVerify", -3), "decrypt_error"),
        (Insert(0, b"\x63\x00\x00\x00"), "unexpected_message"),
    ],
    ids=repr,
)
def test_each_mutation_is_refused_with_the_right_alert_and_no_certificate(
    recording: Recording, mutation: Any, alert: str
) -> None:
    outcome = replay(recording, [mutation])
    assert outcome.ok, outcome.violations
    assert isinstance(outcome.error, TLSError)
    assert outcome.alert == alert
    assert "Certificate" not in outcome.client_names


def test_edited_request_without_resigning_fails_at_the_finished(recording: Recording) -> None:
    """The edit changes the transcript, so the recorded Finished no longer verifies."""

    def drop_ca_names(request: Any) -> None:
        request.extensions = [e for e in request.extensions if e.extType != 47]

    outcome = replay(recording, [Edit("CertificateRequest", drop_ca_names)])
    assert outcome.alert == "decrypt_error" and outcome.ok
    assert outcome.client_names == []


def test_edited_request_reaches_selection_when_resigned(
    recording: Recording, server_key_and_cert: tuple[Any, Any]
) -> None:
    """Re-signed (CertificateVerify) and re-MACed (Finished), an edited request is
    authentic again: the client selects against it and answers with the oracle's blessing."""

    def only_ed25519(request: Any) -> None:
        request.supported_signature_algs = [(8, 7)]  # ed25519: our P-256 identity cannot sign

    outcome = replay(
        recording,
        [Edit("CertificateRequest", only_ed25519)],
        resign_flight=True,
        server_key=server_key_and_cert[1],
    )
    assert outcome.ok, outcome.violations
    assert outcome.completed
    assert list(outcome.connection.certificate_request.signature_schemes) == ["ed25519"]
    assert outcome.connection.client_identity is None  # nothing fitted: empty Certificate
    assert outcome.client_names == ["Certificate", "Finished"]


def test_resigned_dropped_request_sends_no_certificate(
    recording: Recording, server_key_and_cert: tuple[Any, Any]
) -> None:
    outcome = replay(
        recording,
        [Drop("CertificateRequest")],
        resign_flight=True,
        server_key=server_key_and_cert[1],
    )
    assert outcome.ok and outcome.completed, outcome.violations
    assert outcome.client_names == ["Finished"]


def test_oracle_flags_an_answer_to_an_unauthentic_flight(recording: Recording) -> None:
    """The oracle can fail: the client's real answer to the genuine flight, judged as if
    the flight had carried a forged Finished (or no request), is a violation."""
    genuine = replay(recording)
    forged = list(recording.messages)
    forged[-1] = forged[-1][:-1] + bytes((forged[-1][-1] ^ 1,))
    for delivered, why in (
        (forged, "after an unauthentic or misordered flight"),
        ([m for m in recording.messages if m[0] != 13], "no CertificateRequest came"),
    ):
        judged = replace(genuine, violations=[], client_messages=[], events=[])
        Oracle(recording, delivered).judge(genuine.answer, judged)
        assert any(why in v for v in judged.violations), judged.violations


def test_save_and_load_round_trip_with_private_file_mode(
    recording: Recording, tmp_path: Path
) -> None:
    path = tmp_path / "flight.json"
    recording.save(path)
    assert path.stat().st_mode & 0o077 == 0
    loaded = Recording.load(path, recording.config)
    assert loaded.messages == recording.messages
    assert replay(loaded).completed


def test_loading_garbage_is_a_tls_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"format": "nope"}')
    with pytest.raises(TLSError, match="not a tlsengine recording"):
        Recording.load(path)


def test_replay_with_another_config_is_refused(recording: Recording) -> None:
    with pytest.raises(TLSError, match="another ClientHello"):
        replay(recording, config=ClientConfig(server_name="other.example"))
