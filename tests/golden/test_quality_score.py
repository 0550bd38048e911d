"""Quality scores, worked by hand (target attainment and benchmark percentiles), and the score feeding a
settlement (gate, modifier, withhold earned back) through the settlement module's own API.
Runs on DuckDB and PySpark."""

from __future__ import annotations

from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from allpayer.compute.program_results import ProgramYear, quality_results
from allpayer.compute.quality.results import registry_table
from allpayer.compute.quality.score import measure_points, quality_score
from allpayer.compute.settlement import SettlementInput, settle
from allpayer.config import load_pack
from allpayer.config.quality import QualitySettings
from allpayer.config.terms import Quality, Withhold, YearTerms
from tests.quality_builders import quality_runner

D = Decimal


def settings(method: str = "target_attainment", reporting_only: tuple[int, ...] = (2020,)) -> QualitySettings:
    common = {"steward": "test", "spec": "test", "spec_version": "1", "tier": "delivery_system", "source": "external"}
    return QualitySettings.model_validate({
        "version": "test",
        "measures": [
            {"id": "m_hi", "name": "higher is better", "direction": "higher", "baseline": {"year": 2017, "value": 0.5},
             "target": {"value": 0.6}, "benchmarks": {30: 0.5, 50: 0.6, 90: 0.7}, **common},
            {"id": "m_lo", "name": "lower is better", "direction": "lower", "baseline": {"year": 2017, "value": 0.3},
             "target": {"value": 0.2}, "benchmarks": {30: 0.3, 50: 0.25, 90: 0.15}, **common},
            {"id": "m_nt", "name": "no target", "direction": "higher", "baseline": {"year": 2017, "value": 0.4},
             **common},
        ],
        "scoring": {"method": method, "gate": 0.5, "reporting_only_years": list(reporting_only),
                    "percentile_points": [{"percentile": 30, "points": 1.1}, {"percentile": 50, "points": 1.4},
                                          {"percentile": 90, "points": 2.0}]},
    })


def results(rates: dict[tuple[int, str], float | None]) -> ibis.Table:
    keys = list(rates)
    return ibis.memtable(pa.table({
        "measure_id": [k[1] for k in keys], "program_id": ["P"] * len(keys),
        "year": pa.array([k[0] for k in keys], pa.int64()), "level": ["program"] * len(keys),
        "practice_id": pa.array([None] * len(keys), pa.string()),
        "rate": pa.array([rates[k] for k in keys], pa.float64())}))


SCORED = ibis.memtable(pa.table({"program_id": ["P"] * 6, "year": pa.array([2019] * 3 + [2020] * 3, pa.int64()),
                                 "measure_id": ["m_hi", "m_lo", "m_nt"] * 2}))
RATES = {(2019, "m_hi"): 0.65, (2019, "m_lo"): 0.25, (2019, "m_nt"): 0.30,
         (2020, "m_hi"): 0.55, (2020, "m_lo"): 0.35, (2020, "m_nt"): None}


@pytest.fixture
def run(backend, make_context):
    return quality_runner(backend, make_context)


def _scores(run, s: QualitySettings) -> dict[int, dict]:
    points = measure_points(results(RATES), registry_table(s), SCORED, s)
    return {r["year"]: r for r in run(quality_score(points, s))}


def test_target_attainment(run):
    # 2019: m_hi 0.65 meets 0.6 -> 2; m_lo 0.25 misses 0.2 but beats the 0.3 baseline -> 1; m_nt has no target
    # and 0.30 is worse than its 0.4 baseline -> 0. 3 of 6 points = 0.5: gate 0.5 met.
    # 2020: m_hi 0.55 beats its baseline -> 1; m_lo 0.35 -> 0; m_nt has no data -> left out. 1 of 4 = 0.25, and
    # 2020 is a reporting-only year.
    got = _scores(run, settings())
    assert (got[2019]["points_earned"], got[2019]["points_possible"], got[2019]["score"]) == (D(3), D(6), D("0.5"))
    assert got[2019]["gate_met"] is True and got[2019]["reporting_only"] is False
    assert (got[2020]["points_earned"], got[2020]["points_possible"], got[2020]["score"]) == (D(1), D(4), D("0.25"))
    assert got[2020]["gate_met"] is False and got[2020]["reporting_only"] is True
    assert got[2019]["measures_scored"] == 3 and got[2020]["measures_scored"] == 2


def test_benchmark_percentiles(run):
    # 2019: m_hi 0.65 reaches the 50th percentile (0.6) but not the 90th (0.7) -> 1.4; m_lo 0.25 reaches the
    # 50th (0.25, lower is better) -> 1.4; m_nt has no benchmarks -> 0. 2.8 / 6 = 0.4667: gate missed.
    got = _scores(run, settings("benchmark_percentile"))
    assert (got[2019]["points_earned"], got[2019]["score"], got[2019]["gate_met"]) == (D("2.8"), D("0.4667"), False)
    # 2020: m_hi 0.55 reaches the 30th (0.5) -> 1.1; m_lo 0.35 reaches none -> 0. 1.1 / 4 = 0.275.
    assert (got[2020]["points_earned"], got[2020]["score"]) == (D("1.1"), D("0.275"))


# ------------------------------------------------------------------ the quality score changes a settlement

NO_FIXED = D(0)


def _settle(score_row: dict, terms: YearTerms, fixed: Decimal = NO_FIXED):
    program = load_pack("vermont").program("medicaid_vmng")
    # the scored program-year stands for medicaid_vmng 2019 in the settlement
    row = {**score_row, "program_id": "medicaid_vmng", "year": 2019}
    quality = quality_results(pa.Table.from_pylist([row]), [ProgramYear(program, 2019, terms)])
    assert quality["medicaid_vmng"].measured
    return settle(SettlementInput("medicaid_vmng", 2019, expected=D("1000000"), ffs_paid=D("900000") - fixed,
                                  fixed_payments=fixed, quality=quality["medicaid_vmng"]), terms)


def test_quality_score_changes_a_settlement(run):
    # Expected 1,000,000, actual 900,000: gross savings 100,000, shared at 50% = 50,000 before quality.
    target = _scores(run, settings(reporting_only=()))  # 2019 score 0.5 (gate met), 2020 0.25 (gate missed)
    met, missed = target[2019], target[2020]
    gate = YearTerms(sharing_rate=D("0.5"), quality=Quality(gate=True))
    assert _settle(met, gate).settlement == D("50000.00")
    # gate failing: the 0.25 score is below the 0.5 gate -> no savings shared
    assert _settle(missed, gate).settlement == D("0.00")
    # modifier: shared savings x score 0.5 -> 25,000
    modifier = YearTerms(sharing_rate=D("0.5"), quality=Quality(gate=True, modifier="score"))
    assert _settle(met, modifier).settlement == D("25000.00")
    # withhold: 5% of 200,000 fixed payments = 10,000 held; score 0.5 earns back half -> 5,000 kept by the payer
    withhold = YearTerms(sharing_rate=D("0.5"), quality=Quality(gate=True, withhold=Withhold(rate=D("0.05"))))
    assert _settle(met, withhold, fixed=D("200000")).settlement == D("45000.00")
    # with the gate missed nothing is earned back (and nothing shared): -10,000
    assert _settle(missed, withhold, fixed=D("200000")).settlement == D("-10000.00")
    # in a pay-for-reporting year the same 0.25 score earns full credit: 50,000 shared, withhold all earned back
    reporting = _scores(run, settings())[2020]
    assert reporting["reporting_only"] and _settle(reporting, withhold, fixed=D("200000")).settlement == D("50000.00")
