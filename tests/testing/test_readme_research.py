"""The README's "Record, mutate, replay" block runs as written and says what it shows."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_readme_record_mutate_replay_block_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### Record, mutate, replay", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) < 20  # the bound
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "['EncryptedExtensions', 'CertificateRequest', 'Certificate', 'CertificateVerify', "
        "'Finished']",
        "True ['Certificate', 'Finished']",
        "True",
    ]
    assert (tmp_path / "flight.json").stat().st_mode & 0o077 == 0
