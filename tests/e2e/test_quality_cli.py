"""`allpayer quality` on the hand-made workspace of test_attribution_cli (P1 and P4 attributed to the Medicare
program in 2019) plus 2019 claims: P1 has an office visit and an annual wellness visit, P4 nothing.
Checks the published tables, small-cell suppression and that no person identifier is printed."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from allpayer import Context
from allpayer.cli import app
from allpayer.refdata.quality import HERE
from tests.e2e.test_attribution_cli import N1, build, claim, write

runner = CliRunner()


def test_quality_cli(tmp_path: Path, monkeypatch) -> None:
    from allpayer import cli_quality

    monkeypatch.setattr(cli_quality.console, "width", 250)
    src = build(tmp_path)
    with (src / "medical_claim.csv").open(newline="") as f:
        claims = list(csv.DictReader(f))
    write(src / "medical_claim.csv", [*claims, claim(6, "P1", "2019-03-01", N1, "T1", "90.00"),
                                      {**claim(7, "P1", "2019-04-01", N1, "T1", "170.00"), "hcpcs_code": "G0438"}])
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["ingest", str(src), "--workspace", str(ws)]).exit_code == 0
    assert runner.invoke(app, ["attribute", "--workspace", str(ws), "--year", "2019"]).exit_code == 0

    result = runner.invoke(app, ["quality", "--workspace", str(ws), "--year", "2019", "--program", "medicare_vmng",
                                 "--practice", "PR-T1", "--external", str(HERE / "external_sample.csv")])
    assert result.exit_code == 0, result.output
    assert "Quality measures by program and year" in result.output and "annual_wellness_visit" in result.output
    assert "suicide_deaths" in result.output and "Quality score by program and year" in result.output
    assert "Quality measures by practice" in result.output and "PR-T1" in result.output
    assert "P1" not in result.output and "P4" not in result.output  # identifiers never printed

    with Context(ws) as ctx:
        q = {(r["measure_id"], r["level"]): r for r in ctx.table("quality_measure").to_pyarrow().to_pylist()}
        awv = q[("annual_wellness_visit", "program")]
        # 2 attributed persons (< 11): counts and rate suppressed, status kept
        assert awv["suppressed"] and awv["rate"] is None and awv["denominator"] is None
        assert q[("suicide_deaths", "state")]["rate"] is not None and not q[("suicide_deaths", "state")]["suppressed"]
        raw = ctx.quality("vermont", [2019], ["medicare_vmng"], publish=False)["quality_points"]
        points = {r["measure_id"]: r for r in raw.to_pyarrow().to_pylist()}
        assert points["annual_wellness_visit"]["rate"] == 0.5  # P1 of P1, P4
        gaps = ctx.table("care_gap").to_pyarrow().to_pylist()
        assert {(g["person_id"], g["measure_id"]) for g in gaps if g["measure_id"] == "annual_wellness_visit"} == {
            ("P4", "annual_wellness_visit")}
        assert ctx.table("quality_score").count().execute() == 1


def test_quality_needs_attribution(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    runner.invoke(app, ["ingest", str(build(tmp_path)), "--workspace", str(ws)])
    result = runner.invoke(app, ["quality", "--workspace", str(ws)])
    assert result.exit_code == 2 and "run `allpayer attribute`" in result.output
