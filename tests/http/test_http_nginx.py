"""request / Session / Response against nginx with two hosts that trust different client CAs.

One multi-identity PKCS#12 is loaded once into the process-wide store; each host must see
its own identity, keep-alive connections must be reused (nginx's connection serial stays
the same), and a redirect to the other host must run selection there afresh.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from httpservers import (  # noqa: F401 (fixtures)
    TwoHostNginx,
    _context,
    _http_pki,
    _identities,
    _loaded,
    _multi_p12,
    _nginx2,
    parse_text,
)

import tlsengine
from tlsengine import http
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

pytestmark = pytest.mark.interop


def test_session_alternates_hosts_each_sees_its_identity_and_reuses_connections(
    nginx2: TwoHostNginx, loaded: None, context: tlsengine.SSLContext, identities
) -> None:
    a, b = identities
    seen: dict[str, list[str]] = {"a": [], "b": []}
    with http.Session(context) as session:
        for _ in range(3):
            for host, ident in (("a", a), ("b", b)):
                r = session.get(nginx2.url(host))
                assert r.status == 200 and r.reason == "OK"
                fields = parse_text(r.text)
                assert fields["subject"] == ident.subject
                assert fields["verify"] == "SUCCESS"
                assert r.tls is not None and r.tls.client_identity == ident
                seen[host].append(fields["conn"])
    # one handshake per host: every request on a host rode the same connection
    assert len(set(seen["a"])) == 1 and len(set(seen["b"])) == 1
    assert seen["a"][0] != seen["b"][0]


def test_request_function_and_json(
    nginx2: TwoHostNginx, loaded: None, context: tlsengine.SSLContext, identities
) -> None:
    a, b = identities
    r = http.request("GET", nginx2.url("b", "/json?x=1"), context=context)
    doc = r.json()
    assert doc["subject"] == b.subject and doc["method"] == "GET" and doc["args"] == "x=1"
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("content-encoding") in (None, "gzip")


def test_redirect_to_the_other_host_runs_selection_there(
    nginx2: TwoHostNginx, loaded: None, context: tlsengine.SSLContext, identities
) -> None:
    a, b = identities
    with http.Session(context) as session:
        r = session.get(nginx2.url("a", "/to-b"))
        assert r.status == 200 and r.json()["subject"] == b.subject
        assert r.url.endswith("/json") and str(nginx2.port_b) in r.url
        no_follow = session.request("GET", nginx2.url("a", "/to-b"), allow_redirects=False)
        assert no_follow.status == 302 and "location" in no_follow.headers


def test_redirect_loop_stops_at_the_limit(
    nginx2: TwoHostNginx, loaded: None, context: tlsengine.SSLContext
) -> None:
    with http.Session(context, max_redirects=3) as session:
        with pytest.raises(http.TooManyRedirects):
            session.get(nginx2.url("a", "/loop"))


def test_gzip_is_decoded_and_streamed(
    nginx2: TwoHostNginx, loaded: None, context: tlsengine.SSLContext
) -> None:
    data = b"".join(b"line %d of a compressible file\n" % i for i in range(20000))
    (nginx2.static / "big.txt").write_bytes(data)
    with http.Session(context) as session:
        r = session.request("GET", nginx2.url("a", "/static/big.txt"), stream=True)
        assert r.headers.get("content-encoding") == "gzip"
        chunks = list(r.iter_content(4096))
        assert b"".join(chunks) == data and len(chunks) > 1
        whole = session.get(nginx2.url("a", "/static/big.txt"))
        assert whole.content == data
        assert len(gzip.compress(data)) < len(data)


def test_http_errors_are_answers_not_exceptions(
    nginx2: TwoHostNginx, loaded: None, context: tlsengine.SSLContext
) -> None:
    with http.Session(context) as session:
        r = session.get(nginx2.url("a", "/fail"))
        assert r.status == 500 and r.json() == {"error": "boom"}
        with pytest.raises(http.HTTPStatusError) as info:
            r.raise_for_status()
        assert info.value.status == 500
        text = session.get(nginx2.url("a", "/text"))
        with pytest.raises(http.InvalidJSON, match="not JSON"):
            text.json()


def test_no_identity_for_a_host_gets_nginx_400(
    nginx2: TwoHostNginx, context: tlsengine.SSLContext, identities, root_ca: CA
) -> None:
    a, _ = identities
    tlsengine.load_client_certificate(build_pkcs12([a], "pw"), "pw")
    try:
        with http.Session(context) as session:
            assert session.get(nginx2.url("a")).status == 200
            r = session.get(nginx2.url("b"))
            assert r.status == 400 and b"No required SSL certificate" in r.content
            assert r.tls is not None and r.tls.client_identity is None
            assert r.tls.selection is not None
    finally:
        tlsengine.clear_client_certificates()


def test_untrusted_server_is_a_verification_error(nginx2: TwoHostNginx, loaded: None) -> None:
    ctx = tlsengine.SSLContext()  # system roots: the test CA is not among them
    with pytest.raises(tlsengine.CertificateVerificationError):
        http.request("GET", nginx2.url("a"), context=ctx)


def test_overwrite_contract_end_to_end(
    nginx2: TwoHostNginx,
    context: tlsengine.SSLContext,
    root_ca: CA,
    tmp_path: Path,
) -> None:
    first = root_ca.identity("overwrite-A", "p256", alias="A")
    second = root_ca.identity("overwrite-B", "p256", alias="B")
    try:
        with http.Session(context) as session:
            tlsengine.load_client_certificate(build_pkcs12([first], "pw"), "pw")
            r1 = parse_text(session.get(nginx2.url("a")).text)
            assert r1["subject"] == first.subject
            tlsengine.load_client_certificate(build_pkcs12([second], "pw"), "pw")
            r2 = parse_text(session.get(nginx2.url("a")).text)
            assert r2["subject"] == second.subject
            assert r2["conn"] != r1["conn"]  # the connection made under A was not reused
            assert r2["reused"] == "."  # nor the TLS session made under A
            corrupt = tmp_path / "corrupt.p12"
            corrupt.write_bytes(b"\x30\x82 not a pkcs12")
            with pytest.raises(tlsengine.IdentityError):
                tlsengine.load_client_certificate(corrupt, "pw")
            r3 = parse_text(session.get(nginx2.url("a")).text)
            assert r3["subject"] == second.subject and r3["conn"] == r2["conn"]
            session.close()  # a new connection under B may resume B's session...
            r4 = parse_text(session.get(nginx2.url("a")).text)
            assert r4["subject"] == second.subject and r4["conn"] != r3["conn"]
            assert r4["reused"] == "r"
            tlsengine.load_client_certificate(build_pkcs12([first], "pw"), "pw")
            r5 = parse_text(session.get(nginx2.url("a")).text)  # ...but not across a load
            assert r5["subject"] == first.subject and r5["reused"] == "."
    finally:
        tlsengine.clear_client_certificates()


def test_bad_urls_and_methods_are_invalid_url(context: tlsengine.SSLContext) -> None:
    with http.Session(context) as session:
        for url in ("ftp://x/", "https://", "https://host:99999/", "not a url"):
            with pytest.raises(http.InvalidURL):
                session.get(url)
        with pytest.raises(http.InvalidURL):
            session.request("GE T", "https://localhost/")


def test_request_without_context_pools_in_the_default_session(
    nginx2: TwoHostNginx,
    loaded: None,
    context: tlsengine.SSLContext,
    identities,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``request()`` without a context goes through one process-wide session: alternating
    hosts, each keeps its own connection. (The default session is swapped for one that
    trusts the test CA; the real one trusts the system roots.)"""
    from tlsengine.http import client

    shared = http.Session(context)
    monkeypatch.setattr(client, "_default", shared)
    try:
        seen = {"a": set(), "b": set()}
        for _ in range(3):
            for host, ident in zip("ab", identities, strict=True):
                fields = parse_text(http.request("GET", nginx2.url(host)).text)
                assert fields["subject"] == ident.subject
                seen[host].add(fields["conn"])
        assert len(seen["a"]) == len(seen["b"]) == 1
        assert http.default_session() is shared
    finally:
        shared.close()


def test_a_resumed_connection_says_so_in_response_tls(
    nginx2: TwoHostNginx, loaded: None, context: tlsengine.SSLContext, identities
) -> None:
    """A new connection that resumes sees no CertificateRequest, so ``tls.selection`` is None;
    ``tls.session_reused`` says why, and the identity is the one the session was made with."""
    a, _ = identities
    with http.Session(context) as first:
        r1 = first.get(nginx2.url("a"))
    assert r1.tls is not None and not r1.tls.session_reused
    assert r1.tls.certificate_request is not None and r1.tls.client_identity == a
    with http.Session(context) as second:  # a new pool: a new connection, same context cache
        r2 = second.get(nginx2.url("a"))
    assert r2.tls is not None and r2.tls.session_reused
    assert r2.tls.certificate_request is None and r2.tls.selection is None
    assert r2.tls.client_identity == a
    assert parse_text(r2.text)["subject"] == a.subject
