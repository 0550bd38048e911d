"""`allpayer run` on a small synthetic workspace: an immutable run with a manifest, reproduced byte for byte by a
second run; `allpayer runs list` and `allpayer runs diff` (identical runs, then an earlier as-of date)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import ibis
import pytest
from typer.testing import CliRunner

from allpayer import Context, cost_basis
from allpayer.cli import app
from allpayer.fingerprint import INPUTS, LOAD_FINGERPRINTS, LOADED, table_fingerprint
from allpayer.runs import list_runs, open_run
from tests.conftest import synthetic_workspace

ENV = {"COLUMNS": "240"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    with synthetic_workspace(root, persons=400, seed=5) as ctx:
        ctx.attribute("vermont", years=[2018, 2019])
        ctx.tcoc("vermont")
    return root / "ws"


@pytest.mark.slow
def test_run_is_reproducible_and_diffable(workspace: Path):
    runner = CliRunner()
    first = runner.invoke(app, ["run", "-w", str(workspace), "--pack", "vermont", "--year", "2019"], env=ENV)
    assert first.exit_code == 0, first.output
    assert "Settlement 2019" in first.output and "illustrative terms" in first.output
    second = runner.invoke(app, ["run", "-w", str(workspace), "--year", "2019"], env=ENV)
    assert second.exit_code == 0, second.output

    runs = list_runs(workspace)
    assert len(runs) == 2
    a, b = open_run(workspace, runs[0].run_id), open_run(workspace, runs[1].run_id)
    assert {"settlement", "settlement_waterfall", "expected_cost", "value_payment", "distribution",
            "tcoc"} <= set(a.tables())
    # Same inputs: every data file byte-identical, and the manifest records the same input digest.
    assert a.tables() == b.tables()
    for name in a.tables():
        assert (a.path / f"{name}.parquet").read_bytes() == (b.path / f"{name}.parquet").read_bytes(), name
    assert a.manifest["inputs_digest"] == b.manifest["inputs_digest"]
    assert a.verify() == []
    for key in ("pack", "code", "inputs", "as_of", "status", "parameters"):
        assert key in a.manifest

    # Every settlement line: actual = FFS + fixed payments; the waterfall's changes add up to the settlement.
    steps = a.table("settlement_waterfall").to_pylist()
    for row in a.table("settlement").to_pylist():
        assert row["actual_cost"] == row["ffs_paid"] + row["fixed_payments"]
        own = [s["change"] for s in steps if s["program_id"] == row["program_id"]]
        assert sum(own, Decimal(0)) == row["settlement"]
        assert row["quality_measured"] is False   # no quality_score table in this workspace

    listed = runner.invoke(app, ["runs", "list", "-w", str(workspace)], env=ENV)
    assert listed.exit_code == 0 and runs[0].run_id in listed.output
    same = runner.invoke(app, ["runs", "diff", runs[0].run_id, runs[1].run_id, "-w", str(workspace)], env=ENV)
    assert same.exit_code == 0, same.output
    assert same.output.count("unchanged") == len(a.table("settlement"))


@pytest.mark.slow
def test_provisional_run_as_of_a_past_date(workspace: Path):
    with Context(workspace) as ctx:
        final = ctx.run("vermont", 2019, programs=["medicare_vmng"])
        early = ctx.run("vermont", 2019, as_of=dt.date(2019, 9, 30), programs=["medicare_vmng"])
    assert early.manifest["status"] == "provisional" and early.manifest["as_of"] == "2019-09-30"
    result = CliRunner().invoke(app, ["runs", "diff", final.run_id, early.run_id, "-w", str(workspace)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "as_of" in result.output and "medicare_vmng 2019" in result.output


@pytest.mark.slow
def test_run_reuses_tcoc_spend_only_while_its_basis_holds(workspace: Path):
    """TCOC published its spend with the load and date it came from: a run as of that date over that load reads
    it (and says so in its manifest); once the basis no longer matches, the run computes spend afresh, and both
    ways give the same settlement to the cent."""
    with Context(workspace) as ctx:
        stored = ctx.table(cost_basis.BASIS).to_pyarrow().to_pylist()
        assert len(stored) == 1 and stored[0]["load_id"] == ctx.loads()[-1].load_id
        reused = ctx.run("vermont", 2019)
        assert reused.manifest["reused"][cost_basis.SPEND]["load_id"] == stored[0]["load_id"]
        assert reused.manifest["reused"][cost_basis.SPEND]["as_of_date"] == reused.manifest["as_of"]
        # A later intake (another load id) makes the published spend stale.
        stale = {**stored[0], "load_id": "an-earlier-load"}
        ctx.warehouse.publish({cost_basis.BASIS: cost_basis.basis_table(stale)})
        try:
            fresh = ctx.run("vermont", 2019)
        finally:
            ctx.warehouse.publish({cost_basis.BASIS: cost_basis.basis_table(stored[0])})
        other_date = ctx.run("vermont", 2019, as_of=dt.date(2019, 12, 31), programs=["medicare_vmng"])
    assert fresh.manifest["reused"] == {} and other_date.manifest["reused"] == {}
    # The network's part of a pool is split by paid spend per billing TIN: read from the claims on both paths.
    assert any(row["split"] == "network" for row in reused.table("distribution").to_pylist())
    for name in ("settlement", "settlement_waterfall", "expected_cost", "value_payment", "distribution"):
        key = lambda row: tuple(str(v) for v in row.values())  # noqa: E731
        assert sorted(reused.table(name).to_pylist(), key=key) == sorted(fresh.table(name).to_pylist(), key=key), \
            name


def test_run_without_attribution_fails_clearly(tmp_path: Path):
    result = CliRunner().invoke(app, ["run", "-w", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "run `allpayer attribute`" in result.output


@pytest.mark.slow
def test_manifest_fingerprints_are_intakes_for_the_current_load_only(workspace: Path):
    """Intake fingerprinted the canonical tables of its load; a run records those, which equal the tables hashed
    now. Fingerprints of another load are not used: the run hashes the tables itself, with the same result."""
    with Context(workspace) as ctx:
        stored = ctx.table(LOAD_FINGERPRINTS).to_pyarrow().to_pylist()
        assert {r["table_name"] for r in stored} == set(LOADED)
        assert {r["load_id"] for r in stored} == {ctx.loads()[-1].load_id}
        run = ctx.run("vermont", 2019, programs=["medicare_vmng"])
        fresh = {name: table_fingerprint(ctx.table(name), INPUTS[name]) for name in run.manifest["inputs"]}
        assert run.manifest["inputs"] == fresh
        wrong = [{**r, "digest": "0" * 64} for r in stored]
        ctx.warehouse.publish({LOAD_FINGERPRINTS: ibis.memtable(
            [{**r, "load_id": "an-earlier-load"} for r in wrong])})
        try:
            recomputed = ctx.run("vermont", 2019, programs=["medicare_vmng"])
        finally:
            ctx.warehouse.publish({LOAD_FINGERPRINTS: ibis.memtable(stored)})
    assert recomputed.manifest["inputs"] == fresh
