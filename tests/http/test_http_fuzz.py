"""Whatever a server answers, request() ends in a Response or a tlsengine error, and
invoke_service in a dict: never a bare ValueError, http.client error or urllib3 wrapper.

The server is real (stdlib ssl, one per test); hypothesis writes its answers: valid heads
with hostile framing (lengths, chunk sizes, encodings that lie) and raw garbage.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from httpservers import Exchange, ScriptedHTTPS, _context, _http_pki  # noqa: F401 (fixtures)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from peers import ServerPKI

import tlsengine
from tlsengine import http

pytestmark = pytest.mark.interop

HEADER_LINES = st.sampled_from(
    [
        b"Content-Length: 5",
        b"Content-Length: -1",
        b"Content-Length: 99999999999999999999",
        b"Content-Length: 3, 4",
        b"Content-Length: abc",
        b"Transfer-Encoding: chunked",
        b"Transfer-Encoding: gzip, chunked",
        b"Content-Encoding: gzip",
        b"Content-Encoding: br",
        b"Content-Encoding: deflate",
        b"Content-Encoding: bogus",
        b"Content-Type: application/json; charset=nonsense",
        b"Content-Type: text/plain; charset=rot13",
        b"Content-Type: text/plain; charset=utf-16",
        b"Content-Type: application/json",
        b"Location: https://[::1",
        b"Location: /elsewhere",
        b"Connection: close",
        b"X-Nul: a\x00b",
        b"Bad Header Line",
    ]
)
BODIES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\nhi\r\n", gzip.compress(b"{}")[:10],
                     b'{"opstatus": "x"}', b"[1, 2]", b"\xff\xfe{"]),
)  # fmt: skip
STATUS_LINES = st.sampled_from(
    [b"HTTP/1.1 200 OK", b"HTTP/1.1 302 Found", b"HTTP/1.1 500 Oops", b"HTTP/1.1 999 X",
     b"HTTP/1.1 abc Bad", b"HTTP/1.0 204 No Content", b"HTTP/2 200", b"NOT HTTP AT ALL"]
)  # fmt: skip
ANSWERS = st.one_of(
    st.builds(
        lambda status, headers, body: status + b"\r\n" + b"".join(h + b"\r\n" for h in headers)
        + b"\r\n" + body,
        STATUS_LINES, st.lists(HEADER_LINES, max_size=4), BODIES,
    ),
    st.binary(max_size=200),
)  # fmt: skip


class Reply:
    answer = b""

    def __call__(self, exchange: Exchange) -> bytes:
        return self.answer


@pytest.fixture(scope="module")
def fuzz_server(http_pki: ServerPKI) -> Iterator[tuple[ScriptedHTTPS, Reply]]:
    reply = Reply()
    server = ScriptedHTTPS(http_pki, reply, after_answer="cut")
    server.start()
    try:
        yield server, reply
    finally:
        server.stop()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answer=ANSWERS)
@example(answer=b"HTTP/1.1 302 Found\r\nLocation: https://[::1\r\n\r\n")  # urljoin ValueError
def test_any_answer_ends_in_a_response_or_our_error(
    fuzz_server: tuple[ScriptedHTTPS, Reply], context: tlsengine.SSLContext, answer: bytes
) -> None:
    server, reply = fuzz_server
    reply.answer = answer
    with http.Session(context, retries=0, max_redirects=1, trust_env=False) as session:
        try:
            response = session.get(server.url(), timeout=5)
        except tlsengine.TLSEngineError:
            pass
        else:
            assert isinstance(response.status, int)
            assert isinstance(response.text, str)
            try:
                response.json()
            except http.InvalidJSON:
                pass
        result = tlsengine.invoke_service(server.url(), {"a": 1}, session=session, timeout=5)
    assert isinstance(result["opstatus"], int) and "httpStatusCode" in result
    if result["opstatus"] != 0 or "errcode" in result:
        assert result["errcode"] != 1000, result  # no failure we did not foresee
