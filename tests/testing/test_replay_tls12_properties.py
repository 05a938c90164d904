"""Hypothesis over the replay harness with a TLS 1.2 flight: whatever the mutation, the
client ends in the error tree or completes through the oracle's Finished, never hangs,
and never answers out of RFC 5246 7.3's order as `Oracle12` judges it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from tlsengine.testing.replay import Recording12, replay
from tlsengine.testing.strategies import (
    flight_mutations12,
    framings,
    key_exchange_edits12,
    request_edits12,
)

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(mutations=flight_mutations12(), framing=framings())
def test_message_mutations_never_escape_or_break_wire_order(
    recording12: Recording12, mutations: list[Any], framing: str | int
) -> None:
    outcome = replay(recording12, mutations, framing=framing)
    assert outcome.ok, (mutations, outcome.violations)
    assert outcome.completed or outcome.error is not None or outcome.client_names == []


@SETTINGS
@given(framing=framings())
def test_every_legal_framing_completes(recording12: Recording12, framing: str | int) -> None:
    outcome = replay(recording12, framing=framing)
    assert outcome.completed and outcome.ok, (outcome.error, outcome.violations)


@SETTINGS
@given(edit=request_edits12())
def test_request_edits_reach_selection_safely(recording12: Recording12, edit: Any) -> None:
    """A TLS 1.2 CertificateRequest is not signed: every edit reaches the client whole."""
    outcome = replay(recording12, [edit])
    assert outcome.ok, (edit, outcome.violations)
    if outcome.completed:  # the client judged the request legal and answered it
        assert outcome.client_names[0] == "Certificate"
        assert outcome.connection.selection is not None
    else:
        assert outcome.alert == "decode_error" and outcome.client_names == []


@SETTINGS
@given(edit=key_exchange_edits12())
def test_resigned_key_exchange_edits_are_refused_or_keyed_safely(
    recording12: Recording12, server_key_and_cert: tuple[Any, Any], edit: Any
) -> None:
    """Re-signed, a hostile group or point reaches the key exchange: the client refuses it
    with illegal_parameter (RFC 8422 5.4, 5.11) before sending anything, or (a valid
    point) completes under keys the oracle derived from that very point."""
    outcome = replay(recording12, [edit], resign_flight=True, server_key=server_key_and_cert[1])
    assert outcome.ok, (edit, outcome.violations)
    if not outcome.completed:
        assert outcome.alert == "illegal_parameter", (edit, outcome.error)
        assert outcome.client_names == []
