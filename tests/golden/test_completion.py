"""Chain-ladder completion on a small hand-worked triangle (DuckDB and PySpark), checked against the
``chainladder`` package, plus the PMPM-trend fallback and the as-of labels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from allpayer.compute.completion import chain_ladder, payer_exposure
from allpayer.config.cost import CompletionSettings
from tests.cost_builders import enrollment, runner

D = dt.date
AS_OF = D(2020, 4, 30)
JAN, FEB, MAR, APR = (2020 * 12 + m - 1 for m in (1, 2, 3, 4))
# (incurred date, paid date, paid amount). Incremental triangle, payer P, lags 0..2 (max_lag 2):
#            lag0  lag1  lag2      cumulative
#   Jan 20   100    50    10       100 150 160
#   Feb 20   200   100    20       200 300 320
#   Mar 20   120    60     .       120 180
#   Apr 20    80     .     .        80
# The 999 paid in May is after the as-of date and ignored.
PAYMENTS = [
    (D(2020, 1, 5), D(2020, 1, 20), 100), (D(2020, 1, 5), D(2020, 2, 20), 50), (D(2020, 1, 5), D(2020, 3, 20), 10),
    (D(2020, 2, 5), D(2020, 2, 20), 200), (D(2020, 2, 5), D(2020, 3, 20), 100), (D(2020, 2, 5), D(2020, 4, 20), 20),
    (D(2020, 3, 5), D(2020, 3, 20), 120), (D(2020, 3, 5), D(2020, 4, 20), 60),
    (D(2020, 4, 5), D(2020, 4, 20), 80), (D(2020, 4, 5), D(2020, 5, 20), 999),
]


def _mi(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def lines(payments=PAYMENTS, payer="P") -> ibis.Table:
    return ibis.memtable(pa.table({
        "payer": [payer] * len(payments), "incurred_date": [p[0] for p in payments],
        "paid_date": [p[1] for p in payments], "incurred_month": pa.array([_mi(p[0]) for p in payments], pa.int64()),
        "paid_month": pa.array([_mi(p[1]) for p in payments], pa.int64()),
        "paid_amount": pa.array([Decimal(p[2]) for p in payments], pa.decimal128(18, 2))}))


@pytest.fixture
def run(backend, make_context):
    return runner(backend, make_context)


def test_chain_ladder_by_hand(run):
    # f0 = (150 + 300 + 180) / (100 + 200 + 120) = 630 / 420 = 1.5
    # f1 = (160 + 320) / (150 + 300) = 480 / 450 = 1.0666667; f2 = 1 (max lag: the tail is complete)
    # CF2 = 1, CF1 = 1 / 1.0666667 = 0.9375, CF0 = 1 / (1.5 x 1.0666667) = 0.625
    # Ultimates: Jan 160 (final), Feb 320 (final, 2 months run-out), Mar 180 / 0.9375 = 192.00 (IBNR 12),
    # Apr 80 / 0.625 = 128.00 (IBNR 48).
    result, fac = chain_ladder(lines(), AS_OF, CompletionSettings(max_lag=2))
    f = {r["lag"]: r for r in run(fac)}
    assert f[0]["age_to_age"] == pytest.approx(1.5) and f[1]["age_to_age"] == pytest.approx(480 / 450)
    assert [f[k]["completion_factor"] for k in (0, 1, 2)] == pytest.approx([0.625, 0.9375, 1.0])
    rows = {r["incurred_month"]: r for r in run(result)}
    got = {m: (r["paid_to_date"], r["ultimate"], r["ibnr"], r["status"], r["runout_months"])
           for m, r in rows.items()}
    assert got == {
        JAN: (Decimal("160.00"), Decimal("160.00"), Decimal("0.00"), "final", 3),
        FEB: (Decimal("320.00"), Decimal("320.00"), Decimal("0.00"), "final", 2),
        MAR: (Decimal("180.00"), Decimal("192.00"), Decimal("12.00"), "provisional", 1),
        APR: (Decimal("80.00"), Decimal("128.00"), Decimal("48.00"), "provisional", 0),
    }
    assert all(r["as_of_date"] == AS_OF and r["method"] == "chain_ladder" for r in rows.values())
    assert rows[APR]["completion_ratio"] == pytest.approx(1.6)


def test_payments_beyond_max_lag_count_at_max_lag(run):
    # max_lag 1: lag-2 payments join lag 1 (Jan 100 -> 160, Feb 200 -> 320, Mar 120 -> 180);
    # f0 = (160 + 320 + 180) / (100 + 200 + 120) = 660 / 420.
    result, fac = chain_ladder(lines(), AS_OF, CompletionSettings(max_lag=1))
    f = {r["lag"]: r["age_to_age"] for r in run(fac)}
    assert f[0] == pytest.approx(660 / 420)
    rows = {r["incurred_month"]: r for r in run(result)}
    assert rows[JAN]["paid_to_date"] == Decimal("160.00") and rows[FEB]["paid_to_date"] == Decimal("320.00")


def test_averaging_latest_months(run):
    # averaging_months 1: f0 from the latest month with lag 1 seen only (Mar: 180 / 120 = 1.5);
    # f1 from Feb only (320 / 300).
    _, fac = chain_ladder(lines(), AS_OF, CompletionSettings(max_lag=2, averaging_months=1))
    f = {r["lag"]: r["age_to_age"] for r in run(fac)}
    assert f[0] == pytest.approx(1.5) and f[1] == pytest.approx(320 / 300)


def test_pmpm_trend_fallback_for_the_latest_month(run):
    # fallback_months 1 (April), reference 2 months (Feb, Mar): ultimate 320 + 192 = 512 over 10 + 10 member
    # months = 25.60 PMPM; trend 0 -> April estimate 25.60 x 10 = 256.00 (above paid 80), IBNR 176.
    exposure = ibis.memtable(pa.table({"payer": ["P"] * 4, "month_index": pa.array([JAN, FEB, MAR, APR], pa.int64()),
                                       "member_months": pa.array([10, 10, 10, 10], pa.int64())}))
    settings = CompletionSettings(max_lag=2, fallback_months=1, fallback_reference_months=2, fallback_annual_trend=0)
    result, _ = chain_ladder(lines(), AS_OF, settings, exposure=exposure)
    rows = {r["incurred_month"]: r for r in run(result)}
    assert (rows[APR]["ultimate"], rows[APR]["ibnr"], rows[APR]["method"]) == (
        Decimal("256.00"), Decimal("176.00"), "pmpm_trend")
    assert rows[MAR]["method"] == "chain_ladder" and rows[MAR]["ultimate"] == Decimal("192.00")


def test_payer_exposure_counts_persons_covered_each_month(run):
    # Payer P, months Jan-Jun 2020 (as of June):
    #   A: Jan 1-10 and Jan 20-Feb 15 (two spans meeting inside January, counted once), then Apr 1 - open-ended
    #      (9999-12-31, counted to June only);
    #   B: Jan 5-15, Jan 18-20 and Jan 25-Mar 31 (three spans inside January: once);
    #   C: Feb 1 - Feb 29 and Mar 1 - Mar 31 (adjacent: merged);
    #   D: payer Q, Mar 1 - May 31 (another payer).
    # P: Jan A B = 2; Feb A B C = 3; Mar B C = 2; Apr A = 1; May A = 1; Jun A = 1.  Q: Mar-May 1.
    def span(pid, payer, start, end):
        return {"person_id": pid, "member_id": pid, "payer": payer, "payer_type": "commercial", "plan": "x",
                "enrollment_start_date": start, "enrollment_end_date": end, "data_source": "t"}

    spans = enrollment([
        span("A", "P", "2020-01-01", "2020-01-10"), span("A", "P", "2020-01-20", "2020-02-15"),
        span("A", "P", "2020-04-01", "9999-12-31"),
        span("B", "P", "2020-01-05", "2020-01-15"), span("B", "P", "2020-01-18", "2020-01-20"),
        span("B", "P", "2020-01-25", "2020-03-31"),
        span("C", "P", "2020-02-01", "2020-02-29"), span("C", "P", "2020-03-01", "2020-03-31"),
        span("D", "Q", "2020-03-01", "2020-05-31"),
    ])
    got = {(r["payer"], r["month_index"] - JAN + 1): r["member_months"]
           for r in run(payer_exposure(spans, JAN + 5))}
    assert got == {("P", 1): 2, ("P", 2): 3, ("P", 3): 2, ("P", 4): 1, ("P", 5): 1, ("P", 6): 1,
                   ("Q", 3): 1, ("Q", 4): 1, ("Q", 5): 1}


def _random_payments(seed: int) -> list[tuple]:
    import numpy as np

    rng = np.random.default_rng(seed)
    pattern = np.array([0.25, 0.45, 0.18, 0.06, 0.03, 0.02, 0.01])
    out = []
    for i in range(14):
        inc = D(2019 + (i // 12), i % 12 + 1, 3)
        for k, share in enumerate(pattern):
            paid_m = _mi(inc) + k
            paid = D(paid_m // 12, paid_m % 12 + 1, 15)
            if paid <= D(2020, 2, 29):
                out.append((inc, paid, int(10000 * share * rng.uniform(0.7, 1.3))))
    return out


def test_completion_factors_equal_the_chainladder_package():
    cl = pytest.importorskip("chainladder")
    import pandas as pd

    payments = _random_payments(7)
    as_of = D(2020, 2, 29)
    _, fac = chain_ladder(lines(payments), as_of, CompletionSettings(max_lag=6))
    ours = {r["lag"]: r for r in fac.to_pyarrow().to_pylist()}
    df = pd.DataFrame({"origin": [p[0].replace(day=1) for p in payments],
                       "valuation": [p[1].replace(day=1) for p in payments], "paid": [p[2] for p in payments]})
    tri = cl.Triangle(df, origin="origin", development="valuation", columns=["paid"], cumulative=False).incr_to_cum()
    dev = cl.Development().fit(tri)
    ldf = dev.ldf_.values[0, 0, 0]
    cdf = dev.cdf_.values[0, 0, 0]
    for k in range(6):
        assert ours[k]["age_to_age"] == pytest.approx(float(ldf[k]), rel=1e-9)
        assert ours[k]["completion_factor"] == pytest.approx(1 / float(cdf[k]), rel=1e-9)
