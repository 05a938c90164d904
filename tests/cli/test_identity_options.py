"""--pkcs12 errors in get/probe: said before any connection, naming the file at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsengine.cli import main
from tlsengine.identity.pkcs12 import build_pkcs12
from tlsengine.testing import CA


@pytest.fixture(scope="module")
def good_p12(root_ca: CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("opts") / "good.p12"
    path.write_bytes(build_pkcs12([root_ca.identity("opts", "p256")], None))
    return path


@pytest.mark.parametrize("command", ["get", "probe"])
def test_a_directory_is_called_a_directory(command, good_p12, tmp_path, capsys) -> None:
    folder = tmp_path / "dir.p12"
    folder.mkdir()
    target = "https://127.0.0.1:9/" if command == "get" else "127.0.0.1:9"
    argv = [command, target, "--pkcs12", str(good_p12), "--pkcs12", str(folder)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.count(str(folder)) == 1 and "is a directory" in err


def test_a_missing_file_is_named(good_p12, tmp_path, capsys) -> None:
    missing = tmp_path / "missing.p12"
    assert main(["probe", "127.0.0.1:9", "--pkcs12", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "no such PKCS#12 file" in err and err.count(str(missing)) == 1
