"""The replay harness over TLS 1.2: a live tlslite-ng server's first flight (plaintext in
1.2) replayed, mutated, re-signed, and judged by `Oracle12`, which derives the extended
master secret itself and answers with the server's ChangeCipherSpec and Finished."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tlsengine.errors import TLSError
from tlsengine.identity.model import Identity
from tlsengine.protocol import ClientConfig
from tlsengine.testing import TestServer
from tlsengine.testing.replay import (
    Corrupt,
    Drop,
    Duplicate,
    Edit,
    Insert,
    Oracle12,
    Recording12,
    Swap,
    record,
    record12,
    replay,
)

FLIGHT = ["Certificate", "ServerKeyExchange", "CertificateRequest", "ServerHelloDone"]
ANSWER = ["Certificate", "ClientKeyExchange", "CertificateVerify", "Finished"]


def test_recording_holds_the_plaintext_flight_and_no_secret(recording12: Recording12) -> None:
    assert recording12.names() == FLIGHT
    assert recording12.suite.name == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    assert recording12.seed.hex() not in repr(recording12)


def test_unmodified_replay_completes_through_the_oracles_finished(
    recording12: Recording12,
) -> None:
    outcome = replay(recording12)
    assert outcome.ok, outcome.violations
    assert outcome.completed and outcome.error is None
    assert outcome.client_names == ANSWER
    again = replay(recording12)
    assert again.client_messages[:2] == outcome.client_messages[:2]  # seeded: same CKE


@pytest.mark.parametrize("framing", ["message", "coalesced", 1, 5, 100])
def test_legal_reframings_are_accepted(recording12: Recording12, framing: str | int) -> None:
    outcome = replay(recording12, framing=framing)
    assert outcome.ok and outcome.completed, (outcome.error, outcome.violations)


@pytest.mark.parametrize(
    ("mutation", "alert"),
    [
        (Drop("Certificate"), "unexpected_message"),
        (Drop("ServerKeyExchange"), "unexpected_message"),
        (Duplicate("Certificate"), "unexpected_message"),
        (Swap("Certificate", "ServerKeyExchange"), "unexpected_message"),
        (Corrupt("ServerKeyExchange", -3), "decrypt_error"),
        (Insert(0, b"\x63\x00\x00\x00"), "unexpected_message"),
        (Insert(3, b"\x0e\x00\x00\x01\x00"), "decode_error"),  # a ServerHelloDone with a body
    ],
    ids=repr,
)
def test_each_mutation_is_refused_with_the_right_alert_and_no_certificate(
    recording12: Recording12, mutation: Any, alert: str
) -> None:
    outcome = replay(recording12, [mutation])
    assert outcome.ok, outcome.violations
    assert isinstance(outcome.error, TLSError) and outcome.alert == alert, outcome.error
    assert outcome.client_names == []


def test_edited_key_exchange_is_refused_unless_resigned(
    recording12: Recording12, server_key_and_cert: tuple[Any, Any]
) -> None:
    """A ServerKeyExchange with another (valid) x25519 point: its signature breaks; re-signed
    it is authentic again, and the oracle derives the keys from the new point."""
    point = bytes(range(1, 33))

    def new_point(ske: Any) -> None:
        ske.ecdh_Ys = bytearray(point)

    edit = Edit("ServerKeyExchange", new_point, version=(3, 3))
    refused = replay(recording12, [edit])
    assert refused.alert == "decrypt_error" and refused.ok
    outcome = replay(recording12, [edit], resign_flight=True, server_key=server_key_and_cert[1])
    assert outcome.ok and outcome.completed, (outcome.error, outcome.violations)
    assert outcome.delivered[1] != recording12.messages[1]


def test_oracle_flags_an_answer_to_an_unauthentic_flight(recording12: Recording12) -> None:
    """The oracle can fail: the client's real answer, judged as if the flight had carried
    a forged ServerKeyExchange (or no request), is a violation."""
    genuine = replay(recording12)
    forged = list(recording12.messages)
    forged[1] = forged[1][:-1] + bytes((forged[1][-1] ^ 1,))
    for delivered, why in (
        (forged, "after an unauthentic or misordered flight"),
        ([m for m in recording12.messages if m[0] != 13], "no CertificateRequest came"),
    ):
        judged = replace(genuine, violations=[], client_messages=[], events=[])
        Oracle12(recording12, delivered).judge(genuine.answer, judged)
        assert any(why in v for v in judged.violations), judged.violations


def test_oracle_flags_a_certificate_verify_over_the_wrong_transcript(
    recording12: Recording12,
) -> None:
    genuine = replay(recording12)
    judged = replace(genuine, violations=[], client_messages=[], events=[])
    oracle = Oracle12(recording12, recording12.messages)
    oracle.recording = replace(recording12, client_hello=recording12.client_hello[:-1] + b"\x01")
    oracle.judge(genuine.answer, judged)
    assert "client CertificateVerify does not verify over the transcript" in judged.violations


def test_save_and_load_round_trip_with_private_file_mode(
    recording12: Recording12, tmp_path: Path
) -> None:
    path = tmp_path / "flight12.json"
    recording12.save(path)
    assert path.stat().st_mode & 0o077 == 0
    loaded = Recording12.load(path, recording12.config)
    assert loaded.messages == recording12.messages
    assert replay(loaded).completed
    with pytest.raises(TLSError, match="not a tlsengine recording"):
        Recording12.load(tmp_path / "missing.json")


def test_replay_with_another_config_is_refused(recording12: Recording12) -> None:
    with pytest.raises(TLSError, match="another ClientHello"):
        replay(recording12, config=ClientConfig(server_name="other.example"))


@pytest.mark.parametrize(
    ("suite", "aead", "prf_hash"),
    [
        ("TLS_CHACHA20_POLY1305_SHA256", "chacha20", "sha256"),
        ("TLS_AES_256_GCM_SHA384", "aesgcm", "sha384"),
    ],
)
def test_other_suites_replay_and_the_wrong_recorder_is_told_apart(
    server_key_and_cert: tuple[Any, Any],
    client_identity: Identity,
    suite: str,
    aead: str,
    prf_hash: str,
) -> None:
    cert, key = server_key_and_cert
    config = ClientConfig(server_name="localhost", identities=[client_identity])
    with TestServer(
        [cert],
        key,
        versions=("TLSv1.2",),
        groups=["x25519"],
        cipher_suites=[suite],
        app="echo",
    ) as srv:
        recording = record12(srv.address, config)
        with pytest.raises(TLSError, match="record12"):
            record(srv.address, config)
    assert (recording.suite.aead, recording.suite.hash_name) == (aead, prf_hash)
    outcome = replay(recording)
    assert outcome.ok and outcome.completed, outcome.violations
    assert outcome.client_names == ["ClientKeyExchange", "Finished"]


def test_a_server_group_without_a_seeded_share_is_refused_at_recording(
    server_key_and_cert: tuple[Any, Any],
) -> None:
    cert, key = server_key_and_cert
    with TestServer([cert], key, versions=("TLSv1.2",), groups=["secp256r1"], app="echo") as srv:
        with pytest.raises(TLSError, match="no seeded share"):
            record12(srv.address, ClientConfig(server_name="localhost"))
