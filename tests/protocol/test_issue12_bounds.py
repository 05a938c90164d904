"""Issue 12's per-connection bounds: NewSessionTickets taken per connection, and a trace that
keeps the newest entries instead of growing without end (found: about 13 MB per 100,000
post-handshake messages with trace=True). KeyUpdates in a row: test_rfc8446_4_6_3.py."""

from __future__ import annotations

import pytest
from proto_helpers import choose
from rfc8446_peer import handshake, post_handshake, vec

from tlsengine.protocol import SessionTicketReceived
from tlsengine.protocol.tls13 import (
    MAX_KEY_UPDATES,
    MAX_SESSION_TICKETS,
    MAX_TICKETS_PER_CONNECTION,
)
from tlsengine.protocol.trace import MAX_TRACE_ENTRIES, Trace


def _ticket(n: int) -> bytes:
    return (
        (60).to_bytes(4, "big") + bytes(4) + vec(b"n%d" % n, 1) + vec(b"T%d" % n, 2) + vec(b"", 2)
    )


def test_tickets_beyond_the_bound_are_dropped_unread(server_material, client_identity):
    conn, server, _ = handshake(server_material, client_identity, select=choose(None), trace=True)
    total = MAX_TICKETS_PER_CONNECTION + 10
    records = b"".join(post_handshake(server, 4, _ticket(n)) for n in range(total))
    events = conn.receive_data(records)
    assert [type(e) for e in events] == [SessionTicketReceived] * MAX_TICKETS_PER_CONNECTION
    kept = [t.ticket for t in conn.session_tickets]
    last = MAX_TICKETS_PER_CONNECTION
    assert kept == [b"T%d" % n for n in range(last - MAX_SESSION_TICKETS, last)]
    dropped = [t for t in conn.transcript if t.get("reason") == "too many"]
    assert len(dropped) == 1  # said once, not once per ticket


def test_trace_keeps_the_newest_entries_and_counts_the_rest(server_material, client_identity):
    conn, server, _ = handshake(server_material, client_identity, select=choose(None), trace=True)
    first = len(conn.transcript)
    rounds = MAX_TRACE_ENTRIES // MAX_KEY_UPDATES + 2
    for n in range(rounds):
        batch = b"".join(server.key_update() for _ in range(MAX_KEY_UPDATES))
        conn.receive_data(batch + server.app(23, b"%d" % n))
    total = first + rounds * MAX_KEY_UPDATES
    assert len(conn.transcript) == MAX_TRACE_ENTRIES
    assert conn.transcript.dropped == total - MAX_TRACE_ENTRIES
    assert conn.transcript[0]["type"] == "KeyUpdate"  # the ClientHello entry was let go
    assert conn.transcript[-1] == {
        "direction": "in",
        "type": "KeyUpdate",
        "update_requested": False,
    }


def test_trace_reads_like_a_list():
    trace = Trace(maxlen=3)
    assert trace == [] and not trace
    for n in range(5):
        trace.append({"n": n})
    assert trace == [{"n": 2}, {"n": 3}, {"n": 4}] and trace.dropped == 2
    assert trace[-1] == {"n": 4} and trace[:2] == [{"n": 2}, {"n": 3}]
    assert [e["n"] for e in trace] == [2, 3, 4] and len(trace) == 3
    assert "dropped=2" in repr(trace)
    trace.clear()
    assert trace == [] and trace.dropped == 0
    with pytest.raises(ValueError):
        Trace(maxlen=0)
