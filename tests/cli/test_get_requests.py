"""`tlsengine get` tells what each CertificateRequest got (issue 7, items 3, 11 and 12).

Each test reproduces the report the way it was met: a real server on 127.0.0.1 and the
CLI run as a user runs it.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from conftest import require_tool
from peers import Peers

from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

from .helpers import PostHandshakeAuthServer, tlsengine

ROOT_A = "CN=tlsengine Test Root A"


def p12_file(directory: Path, *identities: Identity) -> Path:
    path = directory / "ids.p12"
    path.write_bytes(build_pkcs12(list(identities), None))
    return path


@pytest.fixture(scope="module")
def only_b(other_root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One identity under CA-B: nothing fits a server that names CA-A."""
    return p12_file(tmp_path_factory.mktemp("only-b"), other_root_ca.identity("b", alias="b"))


def test_rejection_line_says_why_nothing_fitted(peers: Peers, only_b: Path, root_ca: CA) -> None:
    """Item 12: 'none fitted (certificate_required)' alone did not say why."""
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require")
    done = tlsengine(
        "get", f"https://localhost:{srv.port}/", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", str(only_b),
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "server required a client certificate and none fitted" in lines[0]
    assert f"no identity is under the 1 CA name the server sent: {ROOT_A}" in lines[0]
    assert lines[0].endswith("; -v for the table")


def test_nginx_http_400_for_no_certificate_is_said_on_stderr(
    peers: Peers, only_b: Path, root_ca: CA
) -> None:
    """Item 3: nginx answers 400 when nothing was sent; get printed the page, silently."""
    require_tool("nginx")
    srv = peers.nginx(client_cas=peers.cas(root_ca), verify_client="on")
    done = tlsengine(
        "get", f"https://localhost:{srv.port}/", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", str(only_b),
    )  # fmt: skip
    assert done.returncode == 0  # an HTTP answer came: DESIGN's exit status for 2xx-5xx
    assert "No required SSL certificate was sent" in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "HTTP 400: the server asked for a client certificate and none was sent" in lines[0]
    assert f"no identity is under the 1 CA name the server sent: {ROOT_A}" in lines[0]


def test_nginx_http_400_after_an_identity_was_sent_is_said(
    peers: Peers, root_ca: CA, tmp_path: Path
) -> None:
    """Item 3, second half: a certificate went out and the server answered 4xx."""
    require_tool("nginx")
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    expired = root_ca.identity(
        "expired", alias="expired", not_before=past, not_after=past + datetime.timedelta(days=1)
    )
    srv = peers.nginx(client_cas=peers.cas(root_ca), verify_client="on")
    done = tlsengine(
        "get", f"https://localhost:{srv.port}/", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", str(p12_file(tmp_path, expired)),
    )  # fmt: skip
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tlsengine: note: HTTP 400 after we sent 'expired' (expired")
    assert ROOT_A in lines[0]


def test_accepted_identity_gives_no_note(peers: Peers, root_ca: CA, tmp_path: Path) -> None:
    require_tool("nginx")
    srv = peers.nginx(client_cas=peers.cas(root_ca), verify_client="on")
    ids = p12_file(tmp_path, root_ca.identity("fits", alias="fits"))
    done = tlsengine(
        "get", f"https://localhost:{srv.port}/", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", str(ids),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "subject=CN=fits" in done.stdout and "verify=SUCCESS" in done.stdout
    assert done.stderr == ""


def test_verbose_summary_covers_post_handshake_requests(
    peers: Peers, root_ca: CA, other_root_ca: CA, tmp_path: Path
) -> None:
    """Item 11: -v said 'server did not ask' although it answered a post-handshake request."""
    ids = p12_file(tmp_path, root_ca.identity("pha-a", alias="pha-a"))
    cas = peers.cas(root_ca)
    with PostHandshakeAuthServer(peers.pki.cert_file, peers.pki.key_file, cas) as srv:
        done = tlsengine(
            "get", f"https://localhost:{srv.port}/", "--cafile", str(peers.pki.ca_file),
            "--pkcs12", str(ids), "-v",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert srv.asked_in_handshake is False and srv.error is None
    assert done.stdout == "subject=CN=pha-a\n"  # the server validated what we sent
    assert "did not ask" not in done.stderr
    assert (
        "* server asked for a client certificate after the handshake (TLSv1.3, 0 CA names); "
        "sent: pha-a" in done.stderr
    )
    assert "*   chosen  pha-a" in done.stderr


def test_verbose_summary_of_a_request_in_the_handshake(
    peers: Peers, root_ca: CA, tmp_path: Path
) -> None:
    ids = p12_file(tmp_path, root_ca.identity("both", alias="both"))
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="request")
    done = tlsengine(
        "get", f"https://localhost:{srv.port}/", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", str(ids), "-v",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    asked = [line for line in done.stderr.splitlines() if "server asked for" in line]
    expected = "* server asked for a client certificate in the handshake (TLSv1.3, 1 CA name)"
    assert asked == [f"{expected}; sent: both"]


def test_tls12_rejection_with_verbose_shows_the_request(
    peers: Peers, only_b: Path, root_ca: CA
) -> None:
    """A TLS 1.2 server refuses inside the handshake: -v still shows what it asked for."""
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require", tls="1.2")
    done = tlsengine(
        "get", f"https://localhost:{srv.port}/", "--cafile", str(peers.pki.ca_file),
        "--pkcs12", str(only_b), "-v",
    )  # fmt: skip
    assert done.returncode == 1
    assert (
        "* server asked for a client certificate in the handshake (TLSv1.2, 1 CA name); "
        "sent: an empty Certificate" in done.stderr
    )
    assert done.stderr.splitlines()[-1].startswith("tlsengine: error: server required")
    assert f"no identity is under the 1 CA name the server sent: {ROOT_A}" in done.stderr
