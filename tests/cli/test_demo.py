"""`tlsengine demo` end to end: the README's first command must keep telling the truth."""

from __future__ import annotations

import subprocess
import sys


def test_demo_chooses_per_server_and_explains_the_rejection() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tlsengine", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    sections = out.split("== 4. GET ")
    assert len(sections) == 5, out
    finance, ops, public, partners = sections[1:]
    assert "sending 'alice@finance'" in finance and "server saw client: CN=alice" in finance
    assert "sending 'bob@ops'" in ops and "server saw client: CN=bob\n" in ops
    assert "no identity sent" in public and "server saw client: no client certificate" in public
    assert "REJECTED" in partners and "ca-mismatch" in partners
    assert "PKCS12PasswordError" in out
    assert "PRIVATE KEY" not in out and "PRIVATE KEY" not in done.stderr
