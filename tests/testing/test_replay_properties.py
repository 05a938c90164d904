"""Hypothesis over the replay harness: whatever the mutation, the client ends in the error
tree or completes, never hangs, and never breaks wire order as the oracle judges it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from tlsengine.testing.replay import Recording, replay
from tlsengine.testing.strategies import flight_mutations, framings, request_edits

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(mutations=flight_mutations(), framing=framings())
def test_message_mutations_never_escape_or_break_wire_order(
    recording: Recording, mutations: list[Any], framing: str | int
) -> None:
    outcome = replay(recording, mutations, framing=framing)
    assert outcome.ok, (mutations, outcome.violations)
    assert outcome.completed or outcome.error is not None or outcome.client_names == []


@SETTINGS
@given(framing=framings())
def test_every_legal_framing_completes(recording: Recording, framing: str | int) -> None:
    outcome = replay(recording, framing=framing)
    assert outcome.completed and outcome.ok, (outcome.error, outcome.violations)


@SETTINGS
@given(edit=request_edits())
def test_resigned_request_edits_reach_selection_safely(
    recording: Recording, server_key_and_cert: tuple[Any, Any], edit: Any
) -> None:
    outcome = replay(recording, [edit], resign_flight=True, server_key=server_key_and_cert[1])
    assert outcome.ok, (edit, outcome.violations)
    if outcome.completed:  # the client judged the request legal and answered it
        assert outcome.client_names[0] == "Certificate"
        assert outcome.connection.selection is not None
