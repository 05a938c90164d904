"""Argument handling: no abbreviations, no secret echoed, --version, CLI words in messages
(issue 7, items 4, 9 and 14)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from peers import Peers

from tlsengine import __version__
from tlsengine.cli import SUBCOMMANDS, build_parser
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA

from .helpers import tlsengine

SECRET = "S3cret!pw"


@pytest.fixture(scope="module")
def locked_p12(root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("args") / "locked.p12"
    path.write_bytes(build_pkcs12([root_ca.identity("args", alias="args")], SECRET))
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["inspect", "{p12}", "--password", SECRET],  # the report: an abbreviation of -env
        ["inspect", "{p12}", f"--password={SECRET}"],
        ["inspect", "{p12}", "--pass", SECRET],
        ["probe", "--password", SECRET, "127.0.0.1:9"],  # would be taken as HOST:PORT
        ["get", "https://127.0.0.1:9/", "--pkcs12", "{p12}", "--passin", SECRET],
        ["inspect", "{p12}", "--password-env", SECRET],  # the secret where a name goes
    ],
)
def test_a_password_on_the_command_line_is_never_echoed(locked_p12: Path, argv: list[str]):
    done = tlsengine(*[a.replace("{p12}", str(locked_p12)) for a in argv])
    assert done.returncode == 2
    assert SECRET not in done.stdout + done.stderr
    assert "--password-env" in done.stderr


def test_password_env_names_a_conventional_variable_that_is_unset(locked_p12: Path) -> None:
    done = tlsengine("inspect", str(locked_p12), "--password-env", "NO_SUCH_P12_VAR")
    assert done.returncode == 2 and "NO_SUCH_P12_VAR is not set" in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "https://127.0.0.1:9/", "--insec"],
        ["get", "https://127.0.0.1:9/", "--pkcs", "x.p12"],
        ["probe", "127.0.0.1:9", "--server", "localhost"],
        ["inspect", "x.p12", "--js"],
    ],
)
def test_no_option_is_taken_by_a_prefix(argv: list[str]) -> None:
    done = tlsengine(*argv)
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr


def test_every_parser_refuses_abbreviations() -> None:
    parser = build_parser()
    subparsers = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(subparsers) == set(SUBCOMMANDS)
    assert not parser.allow_abbrev
    assert all(not p.allow_abbrev for p in subparsers.values())


def test_version() -> None:
    done = tlsengine("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"tlsengine {__version__}\n", "")


def test_help_lists_every_command_without_importing_them() -> None:
    done = tlsengine("--help")
    assert done.returncode == 0
    for name, (_, help_line) in SUBCOMMANDS.items():
        assert name in done.stdout and help_line in done.stdout


def test_unknown_issuer_names_the_cli_option(peers: Peers) -> None:
    """Item 9: a CLI user was told to pass cafile=/cadata=."""
    srv = peers.python_ssl(verify_mode=ssl.CERT_NONE)
    host, port = srv.address
    for argv in (["get", f"https://localhost:{port}/"], ["probe", f"{host}:{port}"]):
        done = tlsengine(*argv)
        assert done.returncode == 1
        assert "unknown-issuer" in done.stderr and "--cafile FILE" in done.stderr
        assert "cafile=" not in done.stderr and "cadata" not in done.stderr


def test_a_version_the_server_lacks_is_named(peers: Peers) -> None:
    """Item 9: 'peer sent fatal alert: protocol_version' gave no word about versions."""
    srv = peers.python_ssl(
        verify_mode=ssl.CERT_NONE,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        maximum_version=ssl.TLSVersion.TLSv1_2,
    )
    done = tlsengine("get", f"https://localhost:{srv.address[1]}/", "--tls1.3", "--insecure")
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1
    assert "protocol_version" in done.stderr
    assert "does not speak TLS 1.3, the only version we offered; try without --tls1.3" in (
        done.stderr
    )
    assert "TLS_AES_128_GCM_SHA256" not in done.stderr  # the suites are beside the point


def test_a_default_get_reaches_a_tls12_only_server(peers: Peers) -> None:
    """Item 9's report: a 1.2-only server once gave a bare protocol_version alert."""
    srv = peers.python_ssl(
        verify_mode=ssl.CERT_NONE,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        maximum_version=ssl.TLSVersion.TLSv1_2,
    )
    done = tlsengine("get", f"https://localhost:{srv.address[1]}/", "--insecure", "-v")
    assert done.returncode == 0, done.stderr
    assert "* TLSv1.2 " in done.stderr


def test_a_malformed_header_is_not_echoed() -> None:
    """-H often carries a credential (Authorization); a malformed one is not printed back."""
    done = tlsengine("get", "https://127.0.0.1:9/", "-H", f"Bearer {SECRET}")
    assert done.returncode == 2 and "'Name: value'" in done.stderr
    assert SECRET not in done.stderr
