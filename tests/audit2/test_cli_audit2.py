"""Audit 2: `tlsengine` CLI error paths, JSON shapes and secrecy, against real peers."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_tool
from cryptography.hazmat.primitives import serialization
from peers import Peers

from tlsengine.identity.model import Identity
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

PASSWORD = "Audit2-S3cret-pw"

DESIGN_PROBE_KEYS = {
    "requested",
    "version",
    "certificate_authorities",
    "signature_schemes",
    "signature_schemes_cert",
    "certificate_types",
    "chosen",
    "scheme",
    "candidates",
}
DESIGN_CANDIDATE_KEYS = {"alias", "fingerprint", "verdict", "notes", "reason"}
DESIGN_INSPECT_KEYS = {
    "alias",
    "subject",
    "issuer",
    "key_type",
    "not_before",
    "not_after",
    "fingerprint",
    "chain",
}


def tlsengine(
    *args: str | bytes, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsengine", *args],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=30,
        env={**os.environ, "A2_PW": PASSWORD, **(env or {})},
    )


def one_clean_line(done: subprocess.CompletedProcess[str]) -> None:
    """A failure: non-zero, exactly one stderr line, no traceback."""
    assert done.returncode != 0, done
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr[-1500:]


@pytest.fixture(scope="module")
def identity(root_ca: CA) -> Identity:
    return root_ca.identity("audit2 cli client", "p256", alias="audit2-cli")


@pytest.fixture(scope="module")
def p12(identity: Identity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("a2cli") / "id.p12"
    path.write_bytes(build_pkcs12([identity], PASSWORD))
    return path


@pytest.fixture
def https(peers: Peers) -> tuple[str, str]:
    """A stdlib TLS 1.3 server that needs no client certificate: (base URL, cafile)."""
    srv = peers.python_ssl(verify_mode=ssl.CERT_NONE)
    host, port = srv.address
    return f"https://{host}:{port}", str(peers.pki.ca_file)


# ----------------------------------------------------------------------------- URL forms


def test_get_unterminated_ipv6_literal_is_one_line() -> None:
    one_clean_line(tlsengine("get", "https://[::1/"))


def test_probe_overlong_dns_label_is_one_line() -> None:
    one_clean_line(tlsengine("probe", "a" * 70 + ".example:443", "--insecure"))


def test_get_overlong_dns_label_is_one_line() -> None:
    one_clean_line(tlsengine("get", "https://" + "a" * 70 + ".example/", "--insecure"))


@pytest.mark.parametrize(
    "url",
    ["https://host:99999/", "https://host:abc/", "http://127.0.0.1/", "https:///nohost"],
)
def test_get_bad_url_forms_are_one_line(url: str) -> None:
    one_clean_line(tlsengine("get", url))


@pytest.mark.parametrize("target", ["host:0", ":443", "host:", "[::1]:70000"])
def test_probe_bad_targets_are_one_line(target: str) -> None:
    one_clean_line(tlsengine("probe", target))


def test_get_non_ascii_path_is_one_line_or_percent_encoded(https: tuple[str, str]) -> None:
    base, cafile = https
    done = tlsengine("get", f"{base}/caf\u00e9?q=\u00fc", "--cafile", cafile)
    assert "Traceback" not in done.stderr, done.stderr[-1500:]


def test_get_non_ascii_header_is_one_line(https: tuple[str, str]) -> None:
    base, cafile = https
    done = tlsengine("get", f"{base}/", "--cafile", cafile, "-H", "X-Name: Jos\u00e9")
    assert "Traceback" not in done.stderr, done.stderr[-1500:]


def test_get_undecodable_data_argument_is_one_line(https: tuple[str, str]) -> None:
    base, cafile = https
    done = tlsengine("get", f"{base}/", "--cafile", cafile, "-d", b"caf\xe9")
    assert "Traceback" not in done.stderr, done.stderr[-1500:]


# ----------------------------------------------------------------------------- servers


@pytest.fixture
def raw_server() -> Iterator[tuple[socket.socket, list[socket.socket]]]:
    ls = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    yield ls, held
    for s in held:
        s.close()
    ls.close()


def _serve(ls: socket.socket, held: list[socket.socket], answer: bytes | None) -> None:
    def run() -> None:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        held.append(c)
        if answer is not None:
            c.settimeout(3)
            try:
                c.recv(4096)
                c.sendall(answer)
            except OSError:
                pass
            c.close()

    threading.Thread(target=run, daemon=True).start()


@pytest.mark.parametrize("cmd", ["get", "probe"])
def test_silent_server_times_out_with_one_line(raw_server, cmd: str) -> None:
    ls, held = raw_server
    _serve(ls, held, None)
    port = ls.getsockname()[1]
    target = f"https://127.0.0.1:{port}/" if cmd == "get" else f"127.0.0.1:{port}"
    done = tlsengine(cmd, target, "--insecure", "--timeout", "1")
    one_clean_line(done)
    assert "timed out" in done.stderr


def test_connection_refused_is_one_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    one_clean_line(tlsengine("get", f"https://127.0.0.1:{port}/"))
    one_clean_line(tlsengine("probe", f"127.0.0.1:{port}"))


def test_connection_refused_names_the_target() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    done = tlsengine("get", f"https://127.0.0.1:{port}/")
    assert str(port) in done.stderr, done.stderr


def test_plain_http_server_is_reported_as_not_tls(raw_server) -> None:
    ls, held = raw_server
    _serve(ls, held, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    done = tlsengine("get", f"https://127.0.0.1:{ls.getsockname()[1]}/", "--insecure")
    one_clean_line(done)
    assert "TLS" in done.stderr or "HTTP" in done.stderr, done.stderr


def test_plain_http_server_is_one_line(raw_server) -> None:
    ls, held = raw_server
    _serve(ls, held, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    one_clean_line(tlsengine("probe", f"127.0.0.1:{ls.getsockname()[1]}", "--insecure"))


def test_tls12_only_server_is_answered(peers: Peers) -> None:
    """TLS 1.2 is implemented: a 1.2-only server gets a full exchange, not a refusal."""
    srv = peers.python_ssl(
        verify_mode=ssl.CERT_NONE,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        maximum_version=ssl.TLSVersion.TLSv1_2,
    )
    host, port = srv.address
    done = tlsengine("get", f"https://{host}:{port}/", "--cafile", str(peers.pki.ca_file), "-v")
    assert done.returncode == 0, done
    assert done.stdout == "subject=\n"
    assert srv.next_record().version == "TLSv1.2"
    done = tlsengine("probe", f"{host}:{port}", "--cafile", str(peers.pki.ca_file), "--json")
    assert done.returncode == 0, done
    assert json.loads(done.stdout)["version"] == "TLSv1.2"


def test_tls12_flag_against_a_tls13_only_server_is_one_line(https: tuple[str, str]) -> None:
    base, cafile = https
    done = tlsengine("get", f"{base}/", "--cafile", cafile, "--tls1.2")
    one_clean_line(done)
    assert "max_version=" not in done.stderr, done.stderr


# ----------------------------------------------------------------------------- HTTP answers


class TLSAnswer:
    """A stdlib TLS server that answers one request with fixed bytes, then closes."""

    def __init__(self, peers: Peers, answer: bytes) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(peers.pki.cert_file, peers.pki.key_file)
        self.ls = socket.create_server(("127.0.0.1", 0))
        self.port = self.ls.getsockname()[1]
        self.cafile = str(peers.pki.ca_file)

        def run() -> None:
            try:
                c, _ = self.ls.accept()
                c.settimeout(5)
                with ctx.wrap_socket(c, server_side=True) as t:
                    got = b""
                    while b"\r\n\r\n" not in got:
                        chunk = t.recv(4096)
                        if not chunk:
                            return
                        got += chunk
                    t.sendall(answer)
            except OSError:
                pass

        threading.Thread(target=run, daemon=True).start()

    def get(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return tlsengine("get", f"https://127.0.0.1:{self.port}/", "--cafile", self.cafile, *extra)


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "hello"),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close", "until close"),
        (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops", "oops"),
    ],
    ids=["chunked", "close-delimited", "500"],
)
def test_get_http_answers(peers: Peers, answer: bytes, body: str) -> None:
    done = TLSAnswer(peers, answer).get("-v")
    assert done.returncode == 0, done.stderr
    assert done.stdout == body
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\nContent-Length: 2\r\n\r\nok",
        b"NOT HTTP\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
    ],
    ids=["huge-header", "not-http", "truncated-body"],
)
def test_get_bad_http_answers_are_one_line(peers: Peers, answer: bytes) -> None:
    one_clean_line(TLSAnswer(peers, answer).get())


# ----------------------------------------------------------------------------- identities


def test_identity_option_errors_are_one_line(tmp_path: Path, https: tuple[str, str]) -> None:
    base, cafile = https
    garbage = tmp_path / "garbage.p12"
    garbage.write_bytes(os.urandom(600))
    (tmp_path / "dir.p12").mkdir()
    for extra in (
        ["--pkcs12", str(garbage)],
        ["--pkcs12", str(tmp_path / "missing.p12")],
        ["--pkcs12", str(tmp_path / "dir.p12")],
        ["--pkcs12", str(garbage), "--password-env", "A2_UNSET_VAR"],
    ):
        for cmd in (["get", f"{base}/"], ["probe", base.removeprefix("https://")]):
            one_clean_line(tlsengine(*cmd, "--cafile", cafile, *extra))


def test_inspect_json_has_exactly_the_design_keys(p12: Path) -> None:
    done = tlsengine("inspect", str(p12), "--password-env", "A2_PW", "--json")
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert [set(i) for i in items] == [DESIGN_INSPECT_KEYS]
    assert items[0]["chain"][0] == "CN=audit2 cli client"


def test_probe_json_has_exactly_the_documented_keys(peers: Peers, p12: Path, root_ca: CA) -> None:
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require")
    host, port = srv.address
    done = tlsengine(
        "probe", f"{host}:{port}", "--servername", "localhost", "--cafile",
        str(peers.pki.ca_file), "--pkcs12", str(p12), "--password-env", "A2_PW", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert all(set(c) == DESIGN_CANDIDATE_KEYS for c in report["candidates"])
    readme_extras = {"sent", "outcome", "signal", "http_status", "error"}
    assert set(report) == DESIGN_PROBE_KEYS | readme_extras
    assert report["outcome"] == "accepted" and report["error"] is None


def _secrets(identity: Identity) -> list[str]:
    key = identity.private_key
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    value = key.private_numbers().private_value  # type: ignore[union-attr]
    return [
        PASSWORD,
        der.hex(),
        der.hex().upper(),
        base64.b64encode(der).decode()[40:100],
        f"{value:x}",
        f"{value:X}",
        str(value),
        "PRIVATE KEY",
    ]


def test_no_secret_in_any_output(peers: Peers, p12: Path, identity: Identity, root_ca: CA) -> None:
    require_tool("openssl")
    srv = peers.openssl(client_cas=peers.cas(root_ca), verify="require")
    host, port = srv.address
    ca = str(peers.pki.ca_file)
    ids = ["--pkcs12", str(p12), "--password-env", "A2_PW"]
    runs = [
        tlsengine("get", f"https://localhost:{port}/", "--cafile", ca, *ids, "-v", "--trace"),
        tlsengine("probe", f"{host}:{port}", "--servername", "localhost", "--cafile", ca, *ids),
        tlsengine("probe", f"{host}:{port}", "--insecure", *ids, "--json"),
        tlsengine("inspect", str(p12), "--password-env", "A2_PW"),
        tlsengine("inspect", str(p12), "--password-env", "A2_PW", "--json"),
        tlsengine(
            "get",
            f"https://localhost:{port}/",
            "--cafile",
            ca,
            *ids,
            "--trace",
            env={"A2_PW": PASSWORD + "x"},
        ),  # fmt: skip
        tlsengine("inspect", str(p12), "--password-env", "A2_PW", env={"A2_PW": PASSWORD + "x"}),
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert "audit2-cli" in runs[0].stderr  # the trace did run
    secrets = _secrets(identity)
    for done in runs:
        for secret in secrets:
            assert secret not in done.stdout + done.stderr, (done.args, secret)
