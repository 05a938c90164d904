"""HttpRequest (the XMLHttpRequest model) against nginx's two hosts and scripted servers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from httpservers import (  # noqa: F401 (fixtures)
    Exchange,
    ScriptedHTTPS,
    TwoHostNginx,
    _context,
    _http_pki,
    _identities,
    _loaded,
    _multi_p12,
    _nginx2,
    _session,
    answer,
    parse_text,
)
from peers import HOST, ServerPKI

import tlsengine
from tlsengine import http
from tlsengine.http import HttpRequest

pytestmark = pytest.mark.interop


def run(req: HttpRequest, data: object = None) -> list[tuple[int, str]]:
    """send() and wait; the (state, thread name) of every change."""
    changes: list[tuple[int, str]] = []
    req.on_ready_state_change = lambda r: changes.append(
        (r.ready_state, threading.current_thread().name)
    )
    req.send(data)
    assert req.wait(30)
    return changes


def test_async_request_walks_the_states_on_a_worker_and_alternates_hosts(
    nginx2: TwoHostNginx, loaded: None, session: http.Session, identities
) -> None:
    conns = {"a": set(), "b": set()}
    for _ in range(2):
        for host, ident in zip("ab", identities, strict=True):
            req = HttpRequest(session)
            req.open("GET", nginx2.url(host))
            changes = run(req)
            assert [s for s, _ in changes] == [2, 3, 4]
            assert all(name == "tlsengine-HttpRequest" for _, name in changes)
            assert req.ready_state == HttpRequest.DONE and req.error is None
            assert req.status == 200 and req.status_text == "OK"
            fields = parse_text(req.response_text)
            assert fields["subject"] == ident.subject
            assert req.tls.client_identity == ident
            conns[host].add(fields["conn"])
    assert len(conns["a"]) == len(conns["b"]) == 1


def test_sync_request_runs_on_the_callers_thread_and_decodes_json(
    nginx2: TwoHostNginx, loaded: None, session: http.Session, identities
) -> None:
    req = HttpRequest(session)
    states = []
    req.on_ready_state_change = lambda r: states.append(
        (r.ready_state, threading.current_thread() is threading.main_thread())
    )
    req.open("POST", nginx2.url("b", "/json?q=1"), async_=False)
    req.send({"k": "v"})
    assert states == [(1, True), (2, True), (3, True), (4, True)]
    assert req.response["subject"] == identities[1].subject
    assert req.response["method"] == "POST"
    assert req.get_response_header("content-type").startswith("application/json")
    assert req.get_response_header("CONTENT-TYPE") == req.get_response_header("content-type")
    assert req.get_response_header("x-missing") is None
    assert "content-type: application/json" in req.get_all_response_headers()
    assert req.get_all_response_headers().endswith("\r\n")


def _echo(exchange: Exchange) -> bytes:
    head = exchange.head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (h.split(": ", 1) for h in head[1:])}
    return answer({"type": headers.get("content-type"), "x": headers.get("x-app"),
                   "body": exchange.body.decode()})  # fmt: skip


@pytest.fixture
def echo(http_pki: ServerPKI) -> Iterator[ScriptedHTTPS]:
    server = ScriptedHTTPS(http_pki, _echo)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("data", "header", "kind", "body"),
    [
        (b"\x00raw", None, None, "\x00raw"),
        ("text é", None, "text/plain; charset=utf-8", "text é"),
        ({"a": "1 2", "b": "x"}, None, "application/x-www-form-urlencoded", "a=1+2&b=x"),
        ({"a": 1}, "application/json", "application/json", '{"a":1}'),
        ([1, 2], None, "application/json", "[1,2]"),
    ],
)
def test_send_encodes_bytes_str_form_and_json(
    echo: ScriptedHTTPS, session: http.Session, data, header, kind, body
) -> None:
    req = HttpRequest(session)
    req.open("POST", echo.url("/e"))
    req.set_request_header("X-App", "one")
    req.set_request_header("x-app", "two")
    if header:
        req.set_request_header("Content-Type", header)
    run(req, data)
    assert req.error is None and req.response == {"type": kind, "x": "one, two", "body": body}


def test_state_errors_are_invalid_state(session: http.Session, echo: ScriptedHTTPS) -> None:
    req = HttpRequest(session)
    with pytest.raises(http.InvalidStateError):
        req.set_request_header("A", "b")
    with pytest.raises(http.InvalidStateError):
        req.send()
    with pytest.raises(http.InvalidURL):
        req.open("GET", "ftp://x/")
    req.open("GET", echo.url(), async_=False)
    req.send()
    with pytest.raises(http.InvalidStateError):
        req.send()
    with pytest.raises(http.InvalidURL):
        req.open("GE T", echo.url())


def test_rejection_is_a_clear_error_in_done_never_an_exception(
    nginx2: TwoHostNginx, loaded: None
) -> None:
    with http.Session(tlsengine.SSLContext()) as system_roots:
        req = HttpRequest(system_roots)
        req.open("GET", nginx2.url("a"))
        changes = run(req)
    assert [s for s, _ in changes] == [4]
    assert isinstance(req.error, tlsengine.CertificateVerificationError)
    assert req.status == 0 and req.response is None and req.response_text == ""


def test_timeout_ends_in_done_with_tls_timeout(session: http.Session) -> None:
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen(1)
        req = HttpRequest(session)
        req.timeout = 0.5
        req.open("GET", f"https://localhost:{silent.getsockname()[1]}/")
        run(req)
    assert isinstance(req.error, tlsengine.TLSTimeout) and req.ready_state == 4


def test_abort_ends_in_done_then_unsent_and_reports_nothing_more(
    http_pki: ServerPKI, session: http.Session
) -> None:
    release = threading.Event()

    def slow(exchange: Exchange) -> bytes:
        release.wait(5)
        return answer({"late": True})

    server = ScriptedHTTPS(http_pki, slow)
    server.start()
    try:
        req = HttpRequest(session)
        states: list[int] = []
        req.on_ready_state_change = lambda r: states.append(r.ready_state)
        req.open("GET", server.url())
        req.send()
        req.abort()
        assert isinstance(req.error, http.Aborted) and req.ready_state == 0
        release.set()
        req.wait(5)
        threading.Event().wait(0.3)
        assert states == [1, 4]
    finally:
        release.set()
        server.stop()


def test_a_raising_callback_does_not_escape(nginx2: TwoHostNginx, loaded: None, session) -> None:
    req = HttpRequest(session)
    req.open("GET", nginx2.url("a", "/json"))
    seen = []

    def broken(r: HttpRequest) -> None:
        seen.append(r.ready_state)
        raise RuntimeError("app bug")

    req.on_ready_state_change = broken
    req.send()
    assert req.wait(30)
    assert seen == [2, 3, 4] and req.error is None and json.dumps(req.response)
