"""`allpayer tcoc` and `allpayer growth` on a small synthetic population: the growth table shows each year's
all-payer and Medicare growth and status."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from allpayer import Context
from allpayer.cli import app
from tests.conftest import synthetic_workspace

YEARS = range(2017, 2021)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cost")
    synthetic_workspace(root, persons=400, seed=11).close()
    return root / "ws"


@pytest.mark.slow
def test_tcoc_then_growth(workspace: Path):
    runner = CliRunner()
    result = runner.invoke(app, ["tcoc", "-w", str(workspace)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Total cost of care by total" in result.output and "Claims completion" in result.output
    result = runner.invoke(app, ["growth", "-w", str(workspace)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "TCOC growth per beneficiary" in result.output

    with Context(workspace) as ctx:
        rows = ctx.table("growth").to_pyarrow().to_pylist()
        tcoc = ctx.table("tcoc").to_pyarrow().to_pylist()
    got = {(r["series"], r["year"]): r for r in rows}
    statuses = {"on_target", "watch", "corrective_action_trigger"}
    for series in ("all_payer", "medicare"):
        assert got[(series, 2017)]["status"] == "baseline"
        for year in YEARS[1:]:
            row = got[(series, year)]
            assert row["pbpy"] > 0 and row["cagr"] is not None and row["status"] in statuses
    assert all(got[("medicare", y)]["medicare_status"] in {"met", "watch", "trigger"} for y in YEARS[1:])
    # Piped into a 60-column console, every figure still prints whole: rich had cut them to "6,18…".
    narrow = runner.invoke(app, ["growth", "-w", str(workspace)], env={"COLUMNS": "60"})
    assert narrow.exit_code == 0, narrow.output
    assert "…" not in narrow.output
    for r in rows:
        assert f"{r['pbpy']:,.2f}" in narrow.output and (r["cagr"] is None or f"{r['cagr']:.2%}" in narrow.output)
    # PMPM is spend over member months on every row.
    for r in tcoc:
        if r["member_months"] > 0:
            assert r["tcoc_pmpm"] == pytest.approx(float(r["tcoc"]) / r["member_months"], abs=1e-3)


def test_growth_without_tcoc_fails_clearly(tmp_path: Path):
    result = CliRunner().invoke(app, ["growth", "-w", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "run `allpayer tcoc`" in result.output
