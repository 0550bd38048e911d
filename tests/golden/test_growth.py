"""Growth against the 3.5% target / 4.3% cap and Medicare against national growth, hand-worked
(DuckDB and PySpark)."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from allpayer.compute.growth import growth, national_medicare_series
from allpayer.config.cost import GrowthSettings
from tests.cost_builders import runner

SERIES = [("all_payer", 2017, 10000.0), ("all_payer", 2018, 10400.0), ("all_payer", 2019, 10712.0),
          ("all_payer", 2020, 11500.0), ("medicare", 2017, 9000.0), ("medicare", 2019, 9500.0)]
NATIONAL = [(2017, 100.0), (2018, 103.4), (2019, 107.2258)]


@pytest.fixture
def run(backend, make_context):
    return runner(backend, make_context)


def _series(rows):
    return ibis.memtable(pa.table({"series": [r[0] for r in rows], "year": pa.array([r[1] for r in rows], pa.int64()),
                                   "pbpy": [r[2] for r in rows]}))


def _national():
    return ibis.memtable(pa.table({"year": pa.array([r[0] for r in NATIONAL], pa.int64()),
                                   "per_capita_index": [r[1] for r in NATIONAL]}))


def test_compound_growth_status_and_remaining_allowance(run):
    out = {(r["series"], r["year"]): r for r in run(growth(_series(SERIES), GrowthSettings(), _national()))}
    a = {y: out[("all_payer", y)] for y in (2017, 2018, 2019, 2020)}
    # Year over year: 10400 / 10000 - 1 = 4%; 10712 / 10400 - 1 = 3%; 11500 / 10712 - 1 = 7.3562%.
    assert a[2017]["yoy_growth"] is None
    assert [a[y]["yoy_growth"] for y in (2018, 2019)] == pytest.approx([0.04, 0.03])
    assert a[2020]["yoy_growth"] == pytest.approx(11500 / 10712 - 1, abs=1e-8)
    # CAGR from 2017: 2018 4.0% (watch: above 3.5, not above 4.3); 2019 sqrt(1.0712) - 1 = 3.4988% (on target);
    # 2020 1.15 ^ (1/3) - 1 = 4.7713% (corrective-action trigger).
    assert a[2017]["status"] == "baseline" and a[2017]["cagr"] is None
    assert (a[2018]["cagr"], a[2018]["status"]) == (pytest.approx(0.04), "watch")
    assert (a[2019]["cagr"], a[2019]["status"]) == (pytest.approx(1.0712 ** 0.5 - 1, abs=1e-8), "on_target")
    assert (a[2020]["cagr"], a[2020]["status"]) == (pytest.approx(1.15 ** (1 / 3) - 1, abs=1e-8),
                                                    "corrective_action_trigger")
    # Remaining allowance after 2020 (2 years left of the 5-year term): the 2022 level may reach
    # 10000 x 1.035^5 = 11876.86; from 11500 that is (11876.86 / 11500)^(1/2) - 1 = 1.6253% a year.
    assert a[2020]["remaining_growth_within_target"] == pytest.approx((1.035 ** 5 * 10000 / 11500) ** 0.5 - 1,
                                                                      abs=1e-8)
    assert a[2020]["remaining_growth_within_target"] == pytest.approx(0.016253, abs=1e-6)
    assert a[2020]["remaining_growth_within_cap"] == pytest.approx((1.043 ** 5 * 10000 / 11500) ** 0.5 - 1,
                                                                   abs=1e-8)
    # At the baseline the allowance is the target itself.
    assert a[2017]["remaining_growth_within_target"] == pytest.approx(0.035)


def test_medicare_against_national(run):
    out = {(r["series"], r["year"]): r for r in run(growth(_series(SERIES), GrowthSettings(), _national()))}
    m = out[("medicare", 2019)]
    # 2018 is missing, so no year-over-year figure for 2019. National CAGR 2019: sqrt(1.072258) - 1 = 3.5523%;
    # Vermont: sqrt(9500 / 9000) - 1 = 2.7402%; gap = 100 x (0.035523 - 0.027402) = 0.8121 pp >= 0.2 -> met.
    assert m["yoy_growth"] is None
    assert m["national_cagr"] == pytest.approx(1.072258 ** 0.5 - 1, abs=1e-8)
    assert m["gap_pp"] == pytest.approx(100 * ((1.072258 ** 0.5) - (9500 / 9000) ** 0.5), abs=1e-6)
    assert m["medicare_status"] == "met"
    assert out[("all_payer", 2019)]["gap_pp"] is None


def test_medicare_gap_thresholds(run):
    # Vermont grows 3.50% a year against national 3.65% -> gap 0.15 pp: watch (>= 0.1, < 0.2); 3.60% -> 0.05: trigger.
    national = ibis.memtable(pa.table({"year": pa.array([2017, 2018], pa.int64()),
                                       "per_capita_index": [100.0, 103.65]}))
    series = _series([("medicare", 2017, 100.0), ("medicare", 2018, 103.5)])
    series2 = _series([("medicare", 2017, 100.0), ("medicare", 2018, 103.6)])
    assert run(growth(series, GrowthSettings(), national))[1]["medicare_status"] == "watch"
    assert run(growth(series2, GrowthSettings(), national))[1]["medicare_status"] == "trigger"


def test_packaged_national_series_is_an_index():
    rows = national_medicare_series().to_pyarrow().to_pylist()
    assert rows[0] == {"year": 2017, "per_capita_index": 100.0}
