"""The intake commands driven as a user would, through the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES
from tests.dirty import write_dirty_copy

ALLPAYER = [sys.executable, "-m", "allpayer.cli"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ALLPAYER, *args], capture_output=True, text=True, timeout=300,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_ingest_reports_rows_by_rule_and_status_lists_tables(tmp_path):
    write_dirty_copy(tmp_path / "in")
    ws = tmp_path / "ws"
    result = _run("ingest", str(tmp_path / "in"), "--workspace", str(ws))
    assert result.returncode == 0, result.stderr
    assert "Rejected rows by rule" in result.stdout
    for rule in ("NPI_LUHN", "DUPLICATE_KEY", "NO_ENROLLMENT"):
        assert rule in result.stdout
    status = _run("status", "--workspace", str(ws))
    assert status.returncode == 0, status.stderr
    assert "medical_claim" in status.stdout and "2,076" in status.stdout  # 2,075 + 1 duplicate read


def test_broken_file_exits_2_with_one_line(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES / "tuva_seed", folder)
    text = (folder / "eligibility.csv").read_text()
    (folder / "eligibility.csv").write_text(text.replace("enrollment_end_date", "end_date", 1))
    result = _run("ingest", str(folder), "--workspace", str(tmp_path / "ws"))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "eligibility.csv: missing column enrollment_end_date" in lines[0]
    assert not (Path(tmp_path / "ws") / "loads").exists()


def test_contract_command_prints_the_document():
    result = _run("contract")
    assert result.returncode == 0
    assert result.stdout.startswith("# Canonical data contract")
