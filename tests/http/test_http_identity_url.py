"""load_client_certificate_from_url and package-resource identities, end to end.

The keystore is served by the scripted stdlib server; after loading, nginx must see the
loaded identity. Every failure (HTTP status, size, untrusted server, bad data, wrong
password) raises and leaves the identities loaded before untouched.
"""

from __future__ import annotations

import importlib.resources
import sys
import zipfile
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
    answer,
    parse_text,
)
from peers import ServerPKI

import tlsengine
from tlsengine import http
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

pytestmark = pytest.mark.interop


@pytest.fixture
def keystores(root_ca: CA) -> dict[str, bytes]:
    return {
        "/first.p12": build_pkcs12([root_ca.identity("url-first", "p256", alias="u1")], "pw"),
        "/second.p12": build_pkcs12([root_ca.identity("url-second", "p256", alias="u2")], "pw"),
        "/corrupt.p12": b"\x30\x03\x02\x01\x03",
        "/huge.p12": b"\x30" * 5000,
    }


@pytest.fixture
def store_server(http_pki: ServerPKI, keystores: dict[str, bytes]) -> Iterator[ScriptedHTTPS]:
    def serve(ex: Exchange) -> bytes:
        path = ex.head.split(b" ")[1].decode()
        if path not in keystores:
            return answer(b"missing", status="404 Not Found", content_type="text/plain")
        return answer(keystores[path], content_type="application/x-pkcs12")

    server = ScriptedHTTPS(http_pki, serve)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        tlsengine.clear_client_certificates()


def _subject_seen(nginx2: TwoHostNginx, context: tlsengine.SSLContext) -> str:
    return parse_text(http.request("GET", nginx2.url("a"), context=context).text)["subject"]


def test_loaded_from_url_then_used_and_replaced_only_on_success(
    store_server: ScriptedHTTPS, nginx2: TwoHostNginx, context: tlsengine.SSLContext
) -> None:
    loaded = tlsengine.load_client_certificate_from_url(
        store_server.url("/first.p12"), "pw", context=context
    )
    assert [i.alias for i in loaded] == ["u1"]
    assert _subject_seen(nginx2, context) == "CN=url-first"
    tlsengine.load_client_certificate_from_url(
        store_server.url("/second.p12"), "pw", context=context
    )
    assert _subject_seen(nginx2, context) == "CN=url-second"
    failures = [
        ("/corrupt.p12", "pw", {}, tlsengine.IdentityError),
        ("/second.p12", "wrong", {}, tlsengine.PKCS12PasswordError),
        ("/nowhere.p12", "pw", {}, http.HTTPStatusError),
        ("/huge.p12", "pw", {"max_size": 1000}, http.ResponseTooLarge),
    ]
    for path, password, kw, error in failures:
        with pytest.raises(error):
            tlsengine.load_client_certificate_from_url(
                store_server.url(path), password, context=context, **kw
            )
        assert [i.alias for i in tlsengine.default_store()] == ["u2"], path
    assert _subject_seen(nginx2, context) == "CN=url-second"


def test_the_keystore_server_is_verified(store_server: ScriptedHTTPS) -> None:
    with pytest.raises(tlsengine.CertificateVerificationError):
        tlsengine.load_client_certificate_from_url(
            store_server.url("/first.p12"), "pw", context=tlsengine.SSLContext()
        )
    assert len(tlsengine.default_store()) == 0


def test_only_https_urls(store_server: ScriptedHTTPS) -> None:
    with pytest.raises(http.InvalidURL, match="https"):
        tlsengine.load_client_certificate_from_url(f"http://localhost:{store_server.port}/x")


def test_bundled_package_resource_loads(
    tmp_path: Path, root_ca: CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keystore shipped inside an app's package, here a zipped one (as in a wheel or
    zipapp), loads through importlib.resources."""
    p12 = build_pkcs12([root_ca.identity("bundled", "p256", alias="bundled")], "pw")
    archive = tmp_path / "app.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("bundledapp/__init__.py", "")
        z.writestr("bundledapp/certs/client.p12", p12)
    monkeypatch.syspath_prepend(str(archive))
    try:
        resource = importlib.resources.files("bundledapp") / "certs" / "client.p12"
        assert not isinstance(resource, Path)  # really from the zip, not the file system
        identities = tlsengine.load_client_certificate(resource, "pw")
        assert [i.alias for i in identities] == ["bundled"]
        missing = importlib.resources.files("bundledapp") / "certs" / "nope.p12"
        with pytest.raises(tlsengine.PKCS12FormatError, match="not a file"):
            tlsengine.load_client_certificate(missing, "pw")
        assert [i.alias for i in tlsengine.default_store()] == ["bundled"]
    finally:
        sys.modules.pop("bundledapp", None)
        tlsengine.clear_client_certificates()
