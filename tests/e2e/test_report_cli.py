"""`allpayer report`, `allpayer token create` and `allpayer serve --help` on the hand-built run."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from allpayer.api.tokens import TOKENS_FILE, authenticate
from allpayer.cli import app
from tests.report_builders import RUN_ID, write_sample_run


def test_report_writes_html_and_xlsx(tmp_path: Path):
    ws = tmp_path / "ws"
    write_sample_run(ws)
    runner = CliRunner()
    for file_format in ("html", "xlsx"):
        result = runner.invoke(app, ["report", "public", "--run", RUN_ID[:8], "--format", file_format,
                                     "--out", str(tmp_path / "out"), "-w", str(ws)])
        assert result.exit_code == 0, result.output
        path = tmp_path / "out" / f"public-{RUN_ID}.{file_format}"
        assert path.exists() and str(path) in result.output.splitlines()
    assert "suppressed" in (tmp_path / "out" / f"public-{RUN_ID}.html").read_text()


def test_report_default_folder_and_errors(tmp_path: Path):
    ws = tmp_path / "ws"
    write_sample_run(ws)
    runner = CliRunner()
    assert runner.invoke(app, ["report", "scale", "--run", RUN_ID, "-w", str(ws)]).exit_code == 0
    assert (ws / "reports" / f"scale-{RUN_ID}.html").exists()
    assert runner.invoke(app, ["report", "nonsense", "--run", RUN_ID, "-w", str(ws)]).exit_code == 2
    assert runner.invoke(app, ["report", "scale", "--run", "nope", "-w", str(ws)]).exit_code == 2


def test_token_create_prints_the_token_once_and_stores_its_hash(tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(app, ["token", "create", "--role", "payer", "--scope", "bcbsvt", "-w", str(tmp_path)])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    who = authenticate(tmp_path, token)
    assert (who.role, who.scope) == ("payer", ("bcbsvt",))
    stored = json.loads((tmp_path / TOKENS_FILE).read_text())
    assert token not in json.dumps(stored)
    assert runner.invoke(app, ["token", "create", "--role", "aco", "-w", str(tmp_path)]).exit_code == 2  # no scope


def test_serve_help():
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output
