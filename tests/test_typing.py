"""Issue 7, item 8: the top-level names keep their types for a user's type checker, and
``dir(tlsengine)`` shows the public names only.

The package resolves names lazily (a module ``__getattr__``), which would make every name
``Any`` to mypy; a ``TYPE_CHECKING`` block gives mypy the real imports instead. These tests
run ``mypy --strict`` on a small user program, as a user's CI would.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tlsengine

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
    from __future__ import annotations

    import tlsengine
    from tlsengine import ClientCertificateRejected, Identity


    def fetch(host: str) -> bytes:
        ctx = tlsengine.ClientContext(cafile="server-ca.pem", trace=True)
        try:
            with ctx.connect((host, 443)) as sock:
                sock.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
                return sock.recv(65536)
        except ClientCertificateRejected as exc:
            print(exc.selection)
            raise


    loaded: list[Identity] = tlsengine.load_client_certificate("client.p12", password="pw")
    store: tlsengine.IdentityStore = tlsengine.default_store()
    reveal_type(tlsengine.ClientContext)
    reveal_type(tlsengine.load_pkcs12)
    reveal_type(tlsengine.select_identity)
"""

BAD = """
    import tlsengine

    ctx = tlsengine.ClientContext(cafil="server-ca.pem")
    count: int = tlsengine.load_pkcs12(b"...")
    tlsengine.ClientContxt()
"""


def run_mypy(tmp_path: Path, *files: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "mypy.ini").write_text("[mypy]\n")  # not the project's own settings
    env = {**os.environ, "MYPYPATH": str(ROOT)}  # the source tree, as an installed copy
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--config-file", "mypy.ini", "--cache-dir", str(tmp_path / "cache"), *files],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One mypy run over both programs (a cold run takes seconds; one is enough)."""
    tmp = tmp_path_factory.mktemp("typing")
    (tmp / "good.py").write_text(textwrap.dedent(GOOD))
    (tmp / "bad.py").write_text(textwrap.dedent(BAD))
    result = run_mypy(tmp, "good.py", "bad.py")
    return result.stdout + result.stderr


def lines_of(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{name}:")]


def test_misspelt_keyword_fails_strict_mypy(mypy_output: str) -> None:
    bad = "\n".join(lines_of(mypy_output, "bad.py"))
    assert 'Unexpected keyword argument "cafil" for "ClientContext"' in bad, mypy_output
    assert "list[Identity]" in bad and 'variable has type "int"' in bad, mypy_output
    assert 'Module has no attribute "ClientContxt"' in bad, mypy_output


def test_correct_program_passes_strict_mypy_with_real_types(mypy_output: str) -> None:
    good = lines_of(mypy_output, "good.py")
    errors = [line for line in good if ": error:" in line]
    assert not errors, mypy_output
    revealed = [line.split("Revealed type is ", 1)[1] for line in good if "Revealed" in line]
    assert len(revealed) == 3, mypy_output
    assert "cafile:" in revealed[0] and "tlsengine.socket.context.ClientContext" in revealed[0]
    assert "-> list[tlsengine.identity.model.Identity]" in revealed[1]
    assert "tlsengine.selection.select.Selection" in revealed[2]
    assert not any("Any" == r.strip('"') for r in revealed), revealed


def test_lazy_table_and_type_checking_block_list_the_same_names() -> None:
    """The two places a new public name goes must agree (see tlsengine/__init__.py)."""
    tree = ast.parse((ROOT / "tlsengine" / "__init__.py").read_text())
    typed: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                for alias in stmt.names:
                    assert alias.asname == alias.name, f"{alias.name}: write 'X as X'"
                    typed[alias.name] = "." * stmt.level + (stmt.module or "")
    assert typed == tlsengine._LAZY


def test_dir_shows_public_names_only() -> None:
    names = dir(tlsengine)
    for helper in ("Any", "annotations", "importlib", "TYPE_CHECKING", "_LAZY", "_PLANNED"):
        assert helper not in names
    assert set(tlsengine.__all__) <= set(names)
    assert "__version__" in names
    public = [n for n in names if not n.startswith("__")]
    assert sorted(public) == sorted(tlsengine.__all__)


def test_import_stays_lazy() -> None:
    """Typing the names must not import the layers: ``import tlsengine`` stays cheap."""
    code = "import sys, tlsengine; print(sorted(m for m in sys.modules if m[:10] == 'tlsengine.'))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "['tlsengine.errors']"
