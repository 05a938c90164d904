"""Truncation, retry and proxy rules, with servers that misbehave on purpose.

- A body that ends before its Content-Length is `IncompleteBody`, never a short success.
- A request is re-sent only when that is safe: an idempotent method, or a connection that
  was found dead before a byte of the request went out. A POST whose connection died
  after it was written is never sent twice.
- HTTPS_PROXY / NO_PROXY and explicit proxies go through a CONNECT tunnel.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator

import brotli
import pytest
from httpservers import (  # noqa: F401 (fixtures)
    ConnectProxy,
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
from peers import ServerPKI

import tlsengine
from tlsengine import http
from tlsengine.invoker import ErrorCode

pytestmark = pytest.mark.interop


@pytest.fixture
def scripted(http_pki: ServerPKI) -> Iterator[callable]:
    started: list[ScriptedHTTPS] = []

    def make(script, **kw) -> ScriptedHTTPS:
        server = ScriptedHTTPS(http_pki, script, **kw)
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def test_body_shorter_than_its_length_is_incomplete(scripted, session: http.Session) -> None:
    server = scripted(lambda ex: answer(b"0123456789", length=100), after_answer="cut")
    with pytest.raises(http.IncompleteBody, match="truncated"):
        session.get(server.url())
    streamed = session.request("GET", server.url(), stream=True)
    with pytest.raises(http.IncompleteBody):
        b"".join(streamed.iter_content(4))
    result = tlsengine.invoke_service(server.url(), session=session)
    assert result["errcode"] == ErrorCode.TRUNCATED


@pytest.mark.parametrize(
    "cut",
    [b"5\r\nhello\r\n", b"50\r\nhello", b"5\r\nhel"],
    ids=["before-last-chunk", "inside-a-chunk", "inside-a-small-chunk"],
)
def test_chunked_body_cut_short_is_incomplete(scripted, session: http.Session, cut) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = scripted(lambda ex: head + cut, after_answer="cut")
    with pytest.raises(http.IncompleteBody):
        session.get(server.url())


def _fail_first(exchange: Exchange) -> bytes | None:
    """Drop connection 0 after reading its request; answer on any later connection."""
    if exchange.connection == 0:
        return None
    return answer({"connection": exchange.connection})


def test_post_whose_connection_died_after_writing_is_not_resent(
    scripted, session: http.Session
) -> None:
    server = scripted(_fail_first)
    with pytest.raises(http.ConnectError):
        session.post(server.url("/pay"), body=b"amount=10")
    assert len(server.exchanges) == 1 and server.exchanges[0].body == b"amount=10"


def test_get_whose_connection_died_is_retried(scripted, session: http.Session) -> None:
    server = scripted(_fail_first)
    assert session.get(server.url()).json() == {"connection": 1}
    assert [e.connection for e in server.exchanges] == [0, 1]


def test_post_on_a_pooled_connection_found_dead_before_writing_goes_on_a_new_one(
    scripted, session: http.Session
) -> None:
    """The server closes each connection after answering (TCP FIN, no close_notify); the
    pooled connection is seen dead before the POST is written, so it is sent once, on a
    fresh connection."""
    server = scripted(lambda ex: answer({"c": ex.connection}), after_answer="cut")
    assert session.get(server.url()).json() == {"c": 0}
    time.sleep(0.2)  # let the FIN arrive
    assert session.post(server.url(), body=b"x").json() == {"c": 1}
    assert [e.connection for e in server.exchanges] == [0, 1]


def test_retries_zero_never_resends(scripted, context: tlsengine.SSLContext) -> None:
    server = scripted(_fail_first)
    with http.Session(context, retries=0, trust_env=False) as session:
        with pytest.raises(http.ConnectError):
            session.get(server.url())
    assert len(server.exchanges) == 1


def test_brotli_and_gzip_bodies_are_decoded(scripted, session: http.Session) -> None:
    data = b"compressed " * 1000

    def encoded(ex: Exchange) -> bytes:
        accept = ex.head.lower()
        assert b"accept-encoding:" in accept and b"br" in accept
        kind = "br" if ex.head.startswith(b"GET /br") else "gzip"
        packed = brotli.compress(data) if kind == "br" else gzip.compress(data)
        return answer(packed, content_type="text/plain", headers={"Content-Encoding": kind})

    server = scripted(encoded)
    for path in ("/br", "/gz"):
        r = session.get(server.url(path))
        assert r.content == data and r.headers["content-encoding"] in ("br", "gzip")


def test_explicit_proxy_tunnels_with_connect(
    nginx2: TwoHostNginx, loaded: None, context: tlsengine.SSLContext, identities
) -> None:
    proxy = ConnectProxy()
    proxy.start()
    try:
        with http.Session(context, proxies={"https": proxy.url}) as session:
            for host, ident in zip("abab", identities * 2, strict=True):
                fields = parse_text(session.get(nginx2.url(host)).text)
                assert fields["subject"] == ident.subject
    finally:
        proxy.stop()
    # one tunnel per host: the tunnelled connections were pooled and reused
    assert sorted(proxy.tunnels) == sorted(
        [f"localhost:{nginx2.port}", f"localhost:{nginx2.port_b}"]
    )


def test_https_proxy_from_the_environment_and_no_proxy(
    nginx2: TwoHostNginx,
    loaded: None,
    context: tlsengine.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = ConnectProxy()
    proxy.start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with http.Session(context) as session:
            assert session.get(nginx2.url("a")).status == 200
        assert proxy.tunnels == [f"localhost:{nginx2.port}"]
        monkeypatch.setenv("NO_PROXY", "localhost")
        with http.Session(context) as session:
            assert session.get(nginx2.url("b")).status == 200
        assert len(proxy.tunnels) == 1
    finally:
        proxy.stop()


def test_dead_proxy_is_a_connect_error(context: tlsengine.SSLContext) -> None:
    with http.Session(context, proxies={"https": "http://127.0.0.1:1"}, retries=0) as session:
        with pytest.raises(http.ConnectError, match="proxy"):
            session.get("https://localhost:4433/")


def test_total_timeout_bounds_the_whole_call(scripted, session: http.Session) -> None:
    """The server sends 10 of 100 bytes and then nothing: the read timeout (5 s) would
    wait; the total (1 s) ends the call."""
    import urllib3

    server = scripted(lambda ex: answer(b"0123456789", length=100))
    started = time.monotonic()
    with pytest.raises(tlsengine.TLSTimeout):
        session.request("GET", server.url(), timeout=urllib3.Timeout(connect=5, read=5, total=1))
    assert time.monotonic() - started < 3  # one attempt: no read retry past the total
    with pytest.raises(tlsengine.TLSTimeout):
        session.get(server.url(), timeout=(5, 0.5))  # (connect, read)
