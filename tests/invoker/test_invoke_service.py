"""invoke_service / invoke_service_async against JSON services behind mutual TLS.

nginx's two hosts (tests/httpservers.py) give the success dict and the HTTP-level
failures; the stdlib ssl server gives TLS-level rejection and the body echo; a socket that
never answers gives the timeout. Every failure must come back as a dict, never raised.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

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
)
from peers import HOST, ServerPKI, write_cas

import tlsengine
from tlsengine import http
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.invoker import ErrorCode
from tlsengine.testing import CA

pytestmark = pytest.mark.interop


def _echo(exchange: Exchange) -> bytes:
    head = exchange.head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return answer(
        {
            "request_line": head[0],
            "content_type": fields.get("Content-Type", ""),
            "body": exchange.body.decode(),
        }
    )


@pytest.fixture
def echo(http_pki: ServerPKI) -> Iterator[ScriptedHTTPS]:
    server = ScriptedHTTPS(http_pki, _echo)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_success_dict_each_host_sees_its_identity_and_connections_are_reused(
    nginx2: TwoHostNginx, loaded: None, session: http.Session, identities
) -> None:
    a, b = identities
    conns: dict[str, set[str]] = {"a": set(), "b": set()}
    for _ in range(2):
        for host, ident in (("a", a), ("b", b)):
            result = tlsengine.invoke_service(nginx2.url(host, "/json"), session=session)
            assert result["opstatus"] == 0 and result["httpStatusCode"] == 200, result
            assert result["subject"] == ident.subject and result["method"] == "POST"
            assert "errcode" not in result
            conns[host].add(result["conn"])
    assert len(conns["a"]) == 1 and len(conns["b"]) == 1


def test_params_form_encoded_by_default_json_when_asked_query_for_get(
    echo: ScriptedHTTPS, session: http.Session
) -> None:
    params = {"user": "ana lu", "n": 3}
    form = tlsengine.invoke_service(echo.url("/svc"), params, session=session)
    assert form["opstatus"] == 0
    assert form["content_type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(form["body"]) == {"user": ["ana lu"], "n": ["3"]}
    as_json = tlsengine.invoke_service(echo.url("/svc"), params, session=session, as_json=True)
    assert as_json["content_type"] == "application/json"
    assert json.loads(as_json["body"]) == params
    by_header = tlsengine.invoke_service(
        echo.url("/svc"), params, session=session, headers={"Content-Type": "application/json"}
    )
    assert json.loads(by_header["body"]) == params
    get = tlsengine.invoke_service(echo.url("/svc?a=1"), params, method="GET", session=session)
    assert get["request_line"] == "GET /svc?a=1&user=ana+lu&n=3 HTTP/1.1" and get["body"] == ""


def test_http_500_is_a_failure_dict_with_the_body_keys(
    nginx2: TwoHostNginx, loaded: None, session: http.Session
) -> None:
    result = tlsengine.invoke_service(nginx2.url("a", "/fail"), session=session)
    assert result["opstatus"] == result["errcode"] == ErrorCode.HTTP_ERROR == 1012
    assert result["httpStatusCode"] == 500 and result["error"] == "boom"
    assert "HTTP 500" in result["errmsg"]


def test_non_json_body_is_a_failure_dict(
    nginx2: TwoHostNginx, loaded: None, session: http.Session
) -> None:
    result = tlsengine.invoke_service(nginx2.url("a", "/text"), session=session)
    assert result["errcode"] == ErrorCode.INVALID_JSON and result["httpStatusCode"] == 200
    assert "not JSON" in result["errmsg"] and "text/plain" in result["errmsg"]


def test_untrusted_server_certificate_is_a_failure_dict(nginx2: TwoHostNginx, loaded: None) -> None:
    with http.Session(tlsengine.SSLContext()) as system_roots_only:
        result = tlsengine.invoke_service(nginx2.url("a", "/json"), session=system_roots_only)
    assert result["errcode"] == ErrorCode.SERVER_CERT_INVALID
    assert result["httpStatusCode"] == 0 and result["errmsg"]


def test_identity_from_the_wrong_ca_is_rejected_in_the_handshake(
    http_pki: ServerPKI, other_root_ca: CA, root_ca: CA, session: http.Session, tmp_path: Path
) -> None:
    """The stdlib server requires a certificate from other_root_ca and sends no CA names:
    the only identity (root_ca's) is sent and refused with an alert."""
    tlsengine.load_client_certificate(
        build_pkcs12([root_ca.identity("wrong-ca", "p256", alias="wrong")], "pw"), "pw"
    )
    server = ScriptedHTTPS(
        http_pki, _echo, client_cas=write_cas(tmp_path / "cas.pem", other_root_ca)
    )
    server.start()
    try:
        result = tlsengine.invoke_service(server.url("/svc"), {"a": 1}, session=session)
    finally:
        server.stop()
        tlsengine.clear_client_certificates()
    assert result["errcode"] == ErrorCode.CLIENT_CERT_REJECTED, result
    assert result["httpStatusCode"] == 0 and "wrong" in result["errmsg"]


def test_expired_identity_refused_by_nginx_says_expired(
    nginx2: TwoHostNginx, root_ca: CA, session: http.Session
) -> None:
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
    expired = root_ca.identity(
        "expired-client",
        "p256",
        alias="old",
        not_before=past - datetime.timedelta(days=30),
        not_after=past,
    )
    tlsengine.load_client_certificate(build_pkcs12([expired], "pw"), "pw")
    try:
        result = tlsengine.invoke_service(nginx2.url("a", "/json"), session=session)
    finally:
        tlsengine.clear_client_certificates()
    assert result["errcode"] == ErrorCode.HTTP_ERROR and result["httpStatusCode"] == 400
    assert "client certificate sent: old (expired" in result["errmsg"]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_timeout_is_a_failure_dict(silent_port: int, session: http.Session) -> None:
    started = time.monotonic()
    result = tlsengine.invoke_service(
        f"https://localhost:{silent_port}/svc", timeout=0.5, session=session
    )
    assert result["errcode"] == ErrorCode.TIMEOUT, result
    assert time.monotonic() - started < 5


def test_bad_input_is_a_failure_dict_not_an_exception(session: http.Session) -> None:
    assert tlsengine.invoke_service("ftp://x/")["errcode"] == ErrorCode.INVALID_REQUEST
    result = tlsengine.invoke_service("https://localhost:1/", ["not", "a", "mapping"])  # type: ignore[arg-type]
    assert result["errcode"] == ErrorCode.INVALID_REQUEST
    refused = tlsengine.invoke_service("https://127.0.0.1:1/", session=session)
    assert refused["errcode"] == ErrorCode.NETWORK and refused["httpStatusCode"] == 0


def test_async_callback_runs_once_on_a_worker_with_the_same_dict(
    nginx2: TwoHostNginx, loaded: None, session: http.Session, identities
) -> None:
    calls: list[tuple[dict, str]] = []

    def callback(result: dict) -> None:
        calls.append((result, threading.current_thread().name))

    futures = [
        tlsengine.invoke_service_async(
            nginx2.url(host, "/json"), {"i": i}, callback, session=session
        )
        for i, host in enumerate("abab")
    ]
    results = [f.result(timeout=30) for f in futures]
    assert [r["subject"] for r in results] == [identities[i % 2].subject for i in range(4)]
    assert len(calls) == 4
    assert sorted(id(r) for r, _ in calls) == sorted(id(r) for r in results)
    assert all(name.startswith("tlsengine-invoker") for _, name in calls)


def test_async_failure_and_a_raising_callback_still_complete(session: http.Session) -> None:
    def broken(result: dict) -> None:
        raise RuntimeError("bug in the app's callback")

    future = tlsengine.invoke_service_async("https://127.0.0.1:1/", None, broken, session=session)
    assert future.result(timeout=30)["errcode"] == ErrorCode.NETWORK
    assert future.exception() is None


def test_pending_async_calls_finish_before_the_interpreter_exits(
    nginx2: TwoHostNginx, multi_p12: bytes, http_pki: ServerPKI, tmp_path: Path
) -> None:
    p12 = tmp_path / "id.p12"
    p12.write_bytes(multi_p12)
    script = textwrap.dedent(
        f"""
        import os
        import tlsengine
        from tlsengine import http
        tlsengine.load_client_certificate({str(p12)!r}, "pw")
        ctx = tlsengine.SSLContext()
        ctx.load_verify_locations(cafile={str(http_pki.ca_file)!r})
        session = http.Session(ctx)
        for _ in range(3):
            tlsengine.invoke_service_async(
                {nginx2.url("a", "/json")!r}, None,
                lambda r: os.write(1, b"done %d\\n" % r["opstatus"]), session=session,
            )
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
        env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n").count("done 0") == 3
    assert "Traceback" not in done.stderr
