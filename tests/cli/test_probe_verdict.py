"""`tlsengine probe` reports the server's verdict and the signal it read (issue 7, item 2).

Every server that accepted our certificate used to be reported as `no-verdict-yet`, and a
server whose own certificate failed verification as having got an empty Certificate.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest
from conftest import require_tool
from peers import Peers

from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

from .helpers import tlsengine


@pytest.fixture(scope="module")
def fits_a(root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("probe") / "a.p12"
    path.write_bytes(build_pkcs12([root_ca.identity("probe-a", alias="probe-a")], None))
    return path


@pytest.fixture(scope="module")
def only_b(other_root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("probe") / "b.p12"
    path.write_bytes(build_pkcs12([other_root_ca.identity("probe-b", alias="probe-b")], None))
    return path


def probe(peers: Peers, port: int, p12: Path, *extra: str) -> dict:
    done = tlsengine(
        "probe", f"127.0.0.1:{port}", "--servername", "localhost",
        "--cafile", str(peers.pki.ca_file), "--pkcs12", str(p12), "--json", *extra,
    )  # fmt: skip
    report = json.loads(done.stdout)
    report["exit"] = done.returncode
    return report


def test_openssl_accepts_and_shows_it_with_a_ticket(peers: Peers, fits_a: Path, root_ca: CA):
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require")
    report = probe(peers, srv.port, fits_a)
    assert (report["outcome"], report["signal"]) == ("accepted", "NewSessionTicket")
    assert report["sent"] == "identity" and report["chosen"] == "probe-a"
    assert report["exit"] == 0


def test_gnutls_accepts_and_shows_it_with_a_ticket(peers: Peers, fits_a: Path, root_ca: CA):
    require_tool("gnutls-serv")
    srv = peers.gnutls(client_cas=peers.cas(root_ca))
    report = probe(peers, srv.port, fits_a)
    assert (report["outcome"], report["signal"]) == ("accepted", "NewSessionTicket")


def test_python_ssl_without_tickets_needs_a_request(peers: Peers, fits_a: Path) -> None:
    """No ticket, no data: only an HTTP request can show the verdict."""
    srv = peers.python_ssl(verify_mode=ssl.CERT_REQUIRED)
    quiet = probe(peers, srv.port, fits_a)
    assert (quiet["outcome"], quiet["signal"]) == ("no-verdict-yet", None)
    asked = probe(peers, srv.port, fits_a, "--http-get", "/")
    assert (asked["outcome"], asked["signal"], asked["http_status"]) == (
        "accepted",
        "http-response",
        200,
    )


def test_nginx_http_400_is_a_rejection(peers: Peers, only_b: Path, root_ca: CA) -> None:
    require_tool("nginx")
    srv = peers.nginx(client_cas=peers.cas(root_ca), verify_client="on")
    report = probe(peers, srv.port, only_b, "--http-get", "/")
    assert report["outcome"] == "rejected" and report["signal"] == "http-response"
    assert report["http_status"] == 400 and report["error"].startswith("HTTP 400")
    assert report["sent"] == "empty" and report["exit"] == 1


def test_nginx_accepting_an_identity(peers: Peers, fits_a: Path, root_ca: CA) -> None:
    require_tool("nginx")
    srv = peers.nginx(client_cas=peers.cas(root_ca), verify_client="on")
    report = probe(peers, srv.port, fits_a, "--http-get", "/")
    assert (report["outcome"], report["http_status"], report["sent"]) == (
        "accepted",
        200,
        "identity",
    )


def test_alert_is_a_rejection(peers: Peers, only_b: Path, root_ca: CA) -> None:
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require")
    report = probe(peers, srv.port, only_b)
    assert (report["outcome"], report["signal"], report["sent"]) == ("rejected", "alert", "empty")
    assert "certificate_required" in report["error"]


def test_unverified_server_got_nothing(peers: Peers, fits_a: Path, root_ca: CA) -> None:
    """The server's name does not match its certificate: we sent nothing at all."""
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require")
    args = ["probe", f"127.0.0.1:{srv.port}", "--servername", "wrong.example"]
    args += ["--cafile", str(peers.pki.ca_file), "--pkcs12", str(fits_a)]
    text = tlsengine(*args)
    assert text.returncode == 1
    assert "an empty Certificate" not in text.stdout
    assert "sent: nothing, because the server's certificate did not verify" in text.stdout
    assert "it would have got 'probe-a'" in text.stdout
    report = json.loads(tlsengine(*args, "--json").stdout)
    assert report["outcome"] == "failed" and report["sent"] == "nothing"
    assert report["chosen"] == "probe-a"  # what would go out once the server verifies
    assert "hostname-mismatch" in report["error"]


def test_tls12_finished_is_the_verdict(peers: Peers, fits_a: Path, root_ca: CA) -> None:
    """TLS 1.2: the server's Finished follows our certificate, so it carries the verdict."""
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require", tls="1.2")
    report = probe(peers, srv.port, fits_a)
    assert report["version"] == "TLSv1.2"
    assert (report["outcome"], report["signal"], report["sent"]) == (
        "accepted",
        "server-finished",
        "identity",
    )


def test_tls12_refusal_in_the_handshake(peers: Peers, only_b: Path, root_ca: CA) -> None:
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require", tls="1.2")
    report = probe(peers, srv.port, only_b)
    assert (report["outcome"], report["signal"], report["sent"]) == ("rejected", "alert", "empty")


@pytest.mark.parametrize(
    ("servername", "cafile", "remedy"),
    [
        ("wrong.example", "server", "(--servername NAME with a name it covers, or --insecure"),
        ("localhost", "other", "(--cafile FILE with its CA, or --insecure"),
    ],
)
def test_unverified_server_remedy_fits_the_failure(
    peers: Peers, fits_a: Path, root_ca: CA, other_root_ca: CA, tmp_path: Path,
    servername: str, cafile: str, remedy: str,
) -> None:  # fmt: skip
    """Met as a new user: a name mismatch was answered with '--cafile FILE with its CA',
    which cannot help; the fix for a wrong name is the name."""
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require")
    trust = peers.pki.ca_file if cafile == "server" else peers.cas(other_root_ca)
    args = ["probe", f"127.0.0.1:{srv.port}", "--servername", servername]
    text = tlsengine(*args, "--cafile", str(trust), "--pkcs12", str(fits_a))
    assert text.returncode == 1
    assert remedy in text.stdout, text.stdout
