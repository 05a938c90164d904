"""Audit 2: README.md statements a test can check."""

from __future__ import annotations

import copy
import inspect
import os
import pickle
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

import pytest

import tlsengine
from tlsengine.errors import IdentityError, TLSEngineError
from tlsengine.identity import IdentityStore, build_pkcs12
from tlsengine.testing import CA, cert_pem, key_pem


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsengine", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ),
    )


@pytest.fixture(scope="module")
def pair(root_ca: CA) -> tuple[object, object, bytes]:
    a = root_ca.identity("readme a", "p256", alias="a")
    b = root_ca.identity("readme b", "p256", alias="b")
    return a, b, build_pkcs12([a, b], "pw")


def test_identity_refuses_pickle_and_copy(pair: tuple[object, object, bytes]) -> None:
    a = pair[0]
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            attempt(a)
    assert "PRIVATE" not in repr(a) and "private_key" not in repr(a)


@pytest.mark.parametrize(
    ("data", "password", "kw"),
    [
        (b"garbage", None, {}),
        (b"", None, {}),
        ("not base64 !!", None, {}),
        (None, "wrong", {}),
        (None, "wrong", {"replace": False}),
        (12, None, {}),
    ],
    ids=["garbage", "empty", "bad-base64", "wrong-password", "wrong-password-append", "int"],
)
def test_failed_load_leaves_identities_pins_generation(
    pair: tuple[object, object, bytes], data: object, password: str | None, kw: dict[str, bool]
) -> None:
    store = IdentityStore()
    store.load(pair[2], "pw")
    store.pin("h.example", "a")
    before = ([i.fingerprint for i in store], store.generation, repr(store))
    with pytest.raises(IdentityError):
        store.load(pair[2] if data is None else data, password, **kw)
    assert ([i.fingerprint for i in store], store.generation, repr(store)) == before


def test_documented_signatures() -> None:
    assert "callback" in inspect.signature(tlsengine.select_identity).parameters
    params = inspect.signature(tlsengine.ClientContext).parameters
    assert params["verify_profile"].default == "webpki"
    wrap = inspect.signature(tlsengine.ClientContext.wrap_socket).parameters
    assert wrap["do_handshake_on_connect"].default is True
    from tlsengine.socket.aio import open_connection  # noqa: F401

    assert issubclass(tlsengine.TLSTimeout, TimeoutError)
    assert issubclass(tlsengine.TLSError, TLSEngineError)


def test_tls12_maximum_is_refused_by_a_tls13_only_server() -> None:
    """maximum_version='TLSv1.2' offers TLS 1.2 alone (README: TLS 1.2 is implemented), so a
    server that speaks only TLS 1.3 fails the handshake with a documented error."""
    ca = CA.root("readme tls12 root")
    cert, key = ca.issue("localhost", "p256", client=False, server=True, dns=["localhost"])
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1_3
    with tempfile.TemporaryDirectory() as d:
        open(f"{d}/c.pem", "wb").write(cert_pem(cert))
        open(f"{d}/k.pem", "wb").write(key_pem(key))
        server.load_cert_chain(f"{d}/c.pem", f"{d}/k.pem")
    with socket.create_server(("127.0.0.1", 0)) as ls:

        def serve() -> None:
            conn, _ = ls.accept()
            try:
                server.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

        threading.Thread(target=serve, daemon=True).start()
        ctx = tlsengine.ClientContext(maximum_version="TLSv1.2", identities=[], verify=False)
        with pytest.raises(tlsengine.TLSError):
            ctx.connect(ls.getsockname(), timeout=5)


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ("inspect", ["--password-env", "--json"]),
        (
            "probe",
            ["--servername", "--cafile", "--insecure", "--pkcs12", "--password-env",
             "--tls1.2", "--tls1.3", "--json"],
        ),
        (
            "get",
            ["--pkcs12", "--password-env", "--cafile", "--insecure", "-X", "-d", "-H",
             "--tls1.2", "--tls1.3", "-v", "--trace"],
        ),
        ("demo", []),
    ],
)  # fmt: skip
def test_cli_synopsis_flags_exist(command: str, flags: list[str]) -> None:
    done = cli(command, "--help")
    assert done.returncode == 0, done.stderr
    for flag in flags:
        assert flag in done.stdout, (command, flag)


def test_probe_cafile_and_insecure_are_exclusive() -> None:
    done = cli("probe", "127.0.0.1:1", "--cafile", "x.pem", "--insecure")
    assert done.returncode == 2 and "not allowed with" in done.stderr


def test_get_cafile_and_insecure_are_exclusive() -> None:
    done = cli("get", "https://127.0.0.1:1/", "--cafile", "x.pem", "--insecure")
    assert done.returncode == 2 and "not allowed with" in done.stderr
