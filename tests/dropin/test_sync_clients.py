"""Blocking clients on a `tlsengine.SSLContext`: http.client, urllib, urllib3, requests, httpx.

Each one completes mTLS requests to two servers that trust different CAs, from one
multi-identity PKCS#12, and reuses one connection (one handshake) for 20 requests where
the library keeps connections alive.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.request
from typing import Any

import httpx
import pytest
import requests
import urllib3

import tlsengine
from tlsengine import ClientCertificateRejected
from tlsengine.http import HTTPTransport, TLSEngineAdapter

from .conftest import REQUESTS, CountingContext, Target, find_in_chain
from .servers import Echo

pytestmark = pytest.mark.interop


def assert_one_handshake_each(ctx: CountingContext, targets: list[Target]) -> None:
    assert ctx.wraps == len(targets)
    for target in targets:
        assert target.server_handshakes() in (None, 1), target.name


def test_http_client_keep_alive(ctx: CountingContext, targets: list[Target]) -> None:
    for target in targets:
        conn = http.client.HTTPSConnection(target.host, target.port, context=ctx, timeout=10)
        for _ in range(REQUESTS):
            conn.request("GET", "/")
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, body
            assert Echo.parse(body).subject == target.subject, target.name
        assert conn.sock.version() in ("TLSv1.3", "TLSv1.2")
        assert isinstance(conn.sock, tlsengine.TLSSocket)
        assert conn.sock.client_identity.subject == target.subject
        conn.close()
    assert_one_handshake_each(ctx, targets)


def test_urllib_request(ctx: CountingContext, targets: list[Target]) -> None:
    """urllib closes after each response (it sends Connection: close): one handshake each."""
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx))
    for target in targets:
        for _ in range(2):
            with opener.open(target.url, timeout=10) as response:
                assert response.status == 200
                assert Echo.parse(response.read()).subject == target.subject
    assert ctx.wraps == 2 * len(targets)


def test_urllib3_pool_manager(ctx: CountingContext, targets: list[Target]) -> None:
    with urllib3.PoolManager(ssl_context=ctx) as pool:
        for target in targets:
            for _ in range(REQUESTS):
                response = pool.request("GET", target.url, timeout=10)
                assert response.status == 200, response.data
                assert Echo.parse(response.data).subject == target.subject
    assert_one_handshake_each(ctx, targets)


def test_requests_adapter(ctx: CountingContext, targets: list[Target]) -> None:
    with requests.Session() as session:
        session.mount("https://", TLSEngineAdapter(ctx))
        for target in targets:
            for i in range(REQUESTS):
                if i % 2:
                    response = session.post(target.url, json={"n": i}, timeout=10)
                else:
                    response = session.get(target.url, timeout=10)
                assert response.status_code == 200, response.text
                echo = Echo.parse(response.text)
                assert echo.subject == target.subject
                if target.name == "python-ssl":  # nginx echoes only the subject
                    assert echo.fields["method"] == ("POST" if i % 2 else "GET")
    assert_one_handshake_each(ctx, targets)


def test_requests_adapter_verify_false_leaves_the_context_alone(
    ctx: CountingContext, targets: list[Target]
) -> None:
    target = targets[0]
    adapter = TLSEngineAdapter(ctx)
    with requests.Session() as session:
        session.mount("https://", adapter)
        response = session.get(target.url, verify=False, timeout=10)
    assert Echo.parse(response.text).subject == target.subject
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_requests_adapter_ca_bundle_env_adds_roots(
    ctx: CountingContext, targets: list[Target], monkeypatch: pytest.MonkeyPatch
) -> None:
    """REQUESTS_CA_BUNDLE adds to the context's roots (as with a stdlib context), on a
    derived context: the one given to the adapter keeps only what it was given."""
    from tlsengine.verify.roots import system_bundle_path

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", system_bundle_path() or "")
    before = ctx.cert_store_stats()["x509"]
    with requests.Session() as session:
        session.mount("https://", TLSEngineAdapter(ctx))
        for _ in range(3):
            response = session.get(targets[0].url, timeout=10)
            assert Echo.parse(response.text).subject == targets[0].subject
    assert ctx.cert_store_stats()["x509"] == before
    assert targets[0].server_handshakes() == 1


def test_requests_adapter_refuses_cert_argument(ctx: CountingContext, targets: list[Target]):
    with requests.Session() as session:
        session.mount("https://", TLSEngineAdapter(ctx))
        with pytest.raises(NotImplementedError, match="cert="):
            session.get(targets[0].url, cert=("c.pem", "k.pem"), timeout=10)


# --------------------------------------------------------------------------- rejection


def test_rejection_through_http_client(ctx: CountingContext, rejecting_server) -> None:
    conn = http.client.HTTPSConnection("127.0.0.1", rejecting_server.port, context=ctx, timeout=10)
    with pytest.raises(ClientCertificateRejected) as info:
        conn.request("GET", "/")
        conn.getresponse()
    assert isinstance(info.value, ssl.SSLError)  # what http.client users already catch
    assert info.value.selection is not None and info.value.selection.identity is not None
    conn.close()


def test_rejection_through_requests(ctx: CountingContext, rejecting_server) -> None:
    with requests.Session() as session:
        session.mount("https://", TLSEngineAdapter(ctx))
        with pytest.raises(requests.exceptions.SSLError) as info:
            session.get(f"https://127.0.0.1:{rejecting_server.port}/", timeout=10)
    ours = find_in_chain(info.value, ClientCertificateRejected)
    assert ours is not None, info.value
    assert ours.selection is not None  # type: ignore[attr-defined]


def test_rejection_through_urllib3(ctx: CountingContext, rejecting_server) -> None:
    with urllib3.PoolManager(ssl_context=ctx, retries=False) as pool:
        with pytest.raises(urllib3.exceptions.SSLError) as info:
            pool.request("GET", f"https://127.0.0.1:{rejecting_server.port}/", timeout=10)
    assert find_in_chain(info.value, ClientCertificateRejected) is not None


# --------------------------------------------------------------------------- httpx


@pytest.mark.parametrize("how", ["transport", "verify"])
def test_httpx_sync(ctx: CountingContext, targets: list[Target], how: str) -> None:
    kw = {"transport": HTTPTransport(ctx)} if how == "transport" else {"verify": ctx}
    with httpx.Client(**kw) as client:  # type: ignore[arg-type]
        for target in targets:
            for _ in range(REQUESTS):
                response = client.get(target.url, timeout=10)
                assert response.status_code == 200, response.text
                assert Echo.parse(response.text).subject == target.subject
    assert_one_handshake_each(ctx, targets)


def test_rejection_through_httpx(ctx: CountingContext, rejecting_server) -> None:
    with httpx.Client(transport=HTTPTransport(ctx)) as client:
        with pytest.raises(httpx.HTTPError) as info:
            client.get(f"https://127.0.0.1:{rejecting_server.port}/", timeout=10)
    assert find_in_chain(info.value, ClientCertificateRejected) is not None


def test_rejection_through_urllib_request(ctx: CountingContext, rejecting_server) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx))
    with pytest.raises(Exception) as info:
        opener.open(f"https://127.0.0.1:{rejecting_server.port}/", timeout=10)
    assert find_in_chain(info.value, ClientCertificateRejected) is not None, repr(info.value)


def test_adapters_take_a_client_context(
    identities: list, server_pki: Any, targets: list[Target]
) -> None:
    """A ClientContext works as is: same identities, roots, and its own session cache."""
    client_context = tlsengine.ClientContext(identities=identities, cafile=server_pki.ca_file)
    adapter = TLSEngineAdapter(client_context)
    assert adapter.context.client_context is client_context
    # urllib3 sets ALPN on the context per connection: the ClientContext is rebuilt then,
    # but the session cache stays the one of the given ClientContext
    with requests.Session() as session:
        session.mount("https://", adapter)
        for target in targets:
            assert Echo.parse(session.get(target.url, timeout=10).text).subject == target.subject
    with httpx.Client(transport=HTTPTransport(client_context)) as client:
        assert Echo.parse(client.get(targets[1].url).text).subject == targets[1].subject
    assert len(client_context.sessions) >= 1  # its cache kept what the servers handed out
    assert adapter.context.client_context.sessions is client_context.sessions


def test_new_pools_resume_through_the_context(ctx: CountingContext, targets: list[Target]):
    """The context's session cache outlives pools: a new PoolManager resumes (OpenSSL says
    so), and the resumed connection still reports the identity sent the first time."""
    python_ssl = targets[0]
    for _ in range(2):
        with urllib3.PoolManager(ssl_context=ctx) as pool:
            response = pool.request("GET", python_ssl.url, timeout=10)
            assert Echo.parse(response.data).subject == python_ssl.subject
    first, second = python_ssl.server.handshakes
    assert not first.reused and second.reused
    assert second.subject == python_ssl.subject  # the server kept the client identity too


def test_tls12_through_requests_and_urllib3(ctx: CountingContext, targets: list[Target]) -> None:
    """maximum_version=TLSv1_2: the TLS 1.2 core, CA names from the TLS 1.2 field."""
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with requests.Session() as session:
        session.mount("https://", TLSEngineAdapter(ctx))
        for target in targets:
            for _ in range(REQUESTS - 1):
                response = session.get(target.url, timeout=10)
                assert Echo.parse(response.text).subject == target.subject
            with session.get(target.url, stream=True, timeout=10) as response:
                assert response.raw.connection.sock.version() == "TLSv1.2"
    assert_one_handshake_each(ctx, targets)
    assert targets[0].server.handshakes[0].version == "TLSv1.2"


def test_tls12_rejection_comes_in_the_handshake(ctx: CountingContext, rejecting_server):
    """In TLS 1.2 the server judges us before its Finished: the handshake itself fails."""
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with urllib3.PoolManager(ssl_context=ctx, retries=False) as pool:
        with pytest.raises(urllib3.exceptions.SSLError) as info:
            pool.request("GET", f"https://127.0.0.1:{rejecting_server.port}/", timeout=10)
    ours = find_in_chain(info.value, ClientCertificateRejected)
    assert ours is not None and ours.selection is not None  # type: ignore[attr-defined]


def test_requests_through_a_connect_proxy(ctx: CountingContext, targets: list[Target]) -> None:
    """Proxies stay requests' business: our TLS runs inside urllib3's CONNECT tunnel."""
    from .servers import ConnectProxy

    with ConnectProxy() as proxy, requests.Session() as session:
        session.mount("https://", TLSEngineAdapter(ctx))
        proxies = {"https": f"http://127.0.0.1:{proxy.port}"}
        for target in targets:
            for _ in range(3):
                response = session.get(target.url, proxies=proxies, timeout=10)
                assert Echo.parse(response.text).subject == target.subject
        assert proxy.tunnels == [f"{t.host}:{t.port}" for t in targets]  # one tunnel each
    assert_one_handshake_each(ctx, targets)


def test_urllib3_tls_in_tls_through_an_https_proxy(
    ctx: CountingContext, targets: list[Target], server_pki: Any
) -> None:
    """An HTTPS proxy: urllib3 runs the target's TLS over the proxy's TLS through
    ``wrap_bio`` (its SSLTransport), so TLSObject carries TLS inside our own TLSSocket."""
    from .servers import ConnectProxy

    proxy_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    proxy_tls.load_cert_chain(server_pki.cert_file, server_pki.key_file)
    with ConnectProxy(proxy_tls) as proxy:
        url = f"https://localhost:{proxy.port}"
        with urllib3.ProxyManager(url, proxy_ssl_context=ctx, ssl_context=ctx) as pool:
            for target in targets:
                for _ in range(3):
                    response = pool.request("GET", target.url, timeout=10)
                    assert Echo.parse(response.data).subject == target.subject
    assert ctx.wraps == 2 * len(targets)  # per target: the proxy's TLS and the tunnelled one
