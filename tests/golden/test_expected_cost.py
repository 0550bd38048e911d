"""Expected cost worked by hand: prior-year incurred (Vermont Medicare) through the Ibis aggregates and the
settlement, and the MSSP historical benchmark with base-year weights and a regional blend."""

from __future__ import annotations

from decimal import Decimal as D

import ibis
import pyarrow as pa

from allpayer.compute.expected_cost import Aggregate, ProgramYear, expected_cost_row
from allpayer.compute.program_results import ProgramInputs, program_results
from allpayer.config import load_pack

MONEY = pa.decimal128(18, 2)


def mi(year: int, month: int) -> int:
    return year * 12 + month - 1


def _inputs() -> ProgramInputs:
    # A: attributed all 2019, Medicare all 2018. B: attributed Jan–Jun 2019, Medicare Jul–Dec 2018.
    # C: never attributed, Medicare all 2018 (only in the region).
    att = [("A", m) for m in range(1, 13)] + [("B", m) for m in range(1, 7)]
    am = pa.table({"program_id": ["medicare_vmng"] * len(att), "year": [2019] * len(att),
                   "person_id": [p for p, _ in att], "month_index": [mi(2019, m) for _, m in att],
                   "month": [m for _, m in att], "practice_id": ["PR1"] * len(att), "tin": ["T1"] * len(att)})
    months = [("A", m) for m in range(1, 13)] + [("B", m) for m in range(7, 13)] + [("C", m) for m in range(1, 13)]
    months += [("A", 12 + m) for m in range(1, 13)] + [("B", 12 + m) for m in range(1, 7)]
    mm = pa.table({"person_id": [p for p, _ in months], "payer_type": ["medicare"] * len(months),
                   "month_index": [mi(2018, m) for _, m in months], "year": [2018 + (m > 12) for _, m in months],
                   "weight": [1.0] * len(months)})
    claims = [("A", mi(2018, 1), "1200"), ("B", mi(2018, 8), "600"), ("C", mi(2018, 3), "900"),
              ("A", mi(2019, 2), "1000"), ("B", mi(2019, 3), "500")]
    cl = pa.table({"person_id": [c[0] for c in claims], "month_index": [c[1] for c in claims],
                   "year": [c[1] // 12 for c in claims], "payer_type": ["medicare"] * 5,
                   "service_category_1": ["professional"] * 5, "paid": pa.array([D(c[2]) for c in claims], MONEY)})
    risk = pa.table({"person_id": ["A", "B", "A", "B"], "year": [2018, 2018, 2019, 2019],
                     "risk_score": [1.0, 1.0, 1.2, 1.0]})
    spend = pa.table({"person_id": ["A"], "month_index": [mi(2019, 2)], "billing_tin": ["T9"],
                      "paid_amount": pa.array([D("1000")], MONEY)})
    return ProgramInputs(ibis.memtable(am), ibis.memtable(mm), ibis.memtable(cl), ibis.memtable(spend),
                         ibis.memtable(risk))


def test_prior_year_incurred_to_settlement():
    out = program_results(load_pack("vermont"), 2019, _inputs(), programs=["medicare_vmng"])
    e = out["expected_cost"].to_pylist()[0]
    # Base 2018: 18 member months (A 12 + B 6), paid 1,200 + 600 = 1,800 → 100.00 PMPM. Region: 30 months, 2,700.
    assert (e["base_member_months"], e["base_pmpm"], e["regional_pmpm"]) == (D(18), D("100.00"), D("90.00"))
    # Trended one year: 103.50. Risk: PY (1.2 × 12 + 1.0 × 6) / 18 = 1.1333 vs 1.0 → capped at 1.03.
    assert (e["trended_pmpm"], e["risk_ratio"]) == (D("103.50"), D("1.030000"))
    # 100 × 1.035 × 1.03 × (1 − 0.005) = 106.071975 → 106.07; × 18 PY member months = 1,909.26.
    assert (e["expected_pmpm"], e["expected_cost"]) == (D("106.07"), D("1909.26"))
    s = out["settlement"].to_pylist()[0]
    # Actual 1,500; gross 409.26; cap 5% = 95.46; × 80% = 76.37; sequestration 2% → 74.84;
    # advances 14.00 × 18 = 252.00 → −177.16.
    assert (s["actual_cost"], s["gross_savings"], s["shared"], s["settlement"]) == (
        D("1500.00"), D("409.26"), D("74.84"), D("-177.16"))
    # A negative settlement leaves no savings pool: an empty distribution that still has its columns.
    assert out["distribution"].num_rows == 0 and "amount" in out["distribution"].column_names
    vp = {r["quarter"]: r for r in out["value_payment"].to_pylist()}
    # Q1: A 3 months + B 3 months = 6; paid 1,000 + 500 → 250.00 PMPM to date.
    assert (vp[1]["member_months_to_date"], vp[1]["actual_pmpm_to_date"]) == (D(6), D("250.00"))
    assert vp[4]["member_months_to_date"] == D(18)



def test_claims_of_the_attributed_with_the_region_apart():
    """As a run passes them: person-month claims of the attributed persons only (A and B), and everyone's spend
    rows for the region (C's 900 split in two rows). The same base, region and expected cost as above."""
    from dataclasses import replace

    from allpayer.compute.expected_cost import regional_claims

    inputs = _inputs()
    claims = inputs.claims.filter(inputs.claims.person_id.isin(["A", "B"]))
    rows = [("A", mi(2018, 1), "1200.00"), ("B", mi(2018, 8), "600.00"), ("C", mi(2018, 3), "400.00"),
            ("C", mi(2018, 3), "500.00"), ("C", mi(2018, 4), "77.00")]
    spend = ibis.memtable(pa.table({
        "person_id": [r[0] for r in rows], "month_index": pa.array([r[1] for r in rows], pa.int64()),
        "payer_type": ["medicare"] * len(rows), "financial_target": [True] * 4 + [False],
        "paid_completed": pa.array([D(r[2]) for r in rows], MONEY)}))
    out = program_results(load_pack("vermont"), 2019, replace(inputs, claims=claims,
                                                              regional_claims=regional_claims(spend)),
                          programs=["medicare_vmng"])
    e = out["expected_cost"].to_pylist()[0]
    assert (e["base_member_months"], e["base_pmpm"], e["regional_pmpm"]) == (D(18), D("100.00"), D("90.00"))
    assert (e["expected_pmpm"], e["expected_cost"]) == (D("106.07"), D("1909.26"))

def test_historical_benchmark_weights_and_regional_blend():
    program = load_pack("mssp").program("mssp_retrospective")
    py = ProgramYear(program, 2019, program.financial.for_year(2019))
    agg = lambda pmpm: Aggregate(D(100), D(pmpm) * 100, D(0), None, 10)  # noqa: E731
    row = expected_cost_row(py, {2016: agg(80), 2017: agg(90), 2018: agg(100)}, agg(0),
                            {2016: agg(90), 2017: agg(90), 2018: agg(90)})
    # Weighted base: 0.1 × 80 + 0.3 × 90 + 0.6 × 100 = 95.00; region 90.00.
    # Trended own: 0.1 × 80 × 1.035³ + 0.3 × 90 × 1.035² + 0.6 × 100 × 1.035 = 99.892818;
    # trended region: 90 × (0.1 × 1.035³ + 0.3 × 1.035² + 0.6 × 1.035) = 94.791536;
    # blend 35%: 0.65 × 99.892818 + 0.35 × 94.791536 = 98.107369 → 98.11; no risk scores → ratio 1.
    assert row["base_years"] == "2016,2017,2018"
    assert (row["base_pmpm"], row["regional_pmpm"]) == (D("95.00"), D("90.00"))
    assert (row["trended_pmpm"], row["expected_pmpm"]) == (D("98.11"), D("98.11"))


def test_claims_by_person_month_keeps_every_key(backend, make_context):
    """Month, payer type and level-1 category are grouped as one integer and named again: a type outside the
    contract's list keeps its text, a missing type stays missing, and non-target spend is left out."""
    from allpayer.compute.expected_cost import claims_by_person_month
    from allpayer.compute.spending import category_id
    from tests.cost_builders import runner

    office = category_id("medical", "professional", "office_visit")
    inpatient = category_id("medical", "inpatient", "acute_inpatient")
    rows = [("A", mi(2019, 1), "medicare", office, True, "10.00"), ("A", mi(2019, 1), "medicare", office, True, "5.00"),
            ("A", mi(2019, 1), "medicare", inpatient, True, "100.00"),
            ("A", mi(2019, 2), "tricare", office, True, "7.00"), ("B", mi(2019, 12), None, office, True, "3.00"),
            ("B", mi(2019, 12), "medicaid", office, False, "99.00")]
    spend = ibis.memtable(pa.table({
        "person_id": [r[0] for r in rows], "month_index": pa.array([r[1] for r in rows], pa.int64()),
        "payer_type": [r[2] for r in rows], "category_id": pa.array([r[3] for r in rows], pa.int16()),
        "financial_target": [r[4] for r in rows], "paid_completed": pa.array([D(r[5]) for r in rows], MONEY)}))
    out = runner(backend, make_context)(claims_by_person_month(spend))
    got = sorted((r["person_id"], r["month_index"], r["year"], r["payer_type"] or "", r["service_category_1"],
                  r["paid"]) for r in out)
    assert got == [("A", mi(2019, 1), 2019, "medicare", "inpatient", D("100.00")),
                   ("A", mi(2019, 1), 2019, "medicare", "professional", D("15.00")),
                   ("A", mi(2019, 2), 2019, "tricare", "professional", D("7.00")),
                   ("B", mi(2019, 12), 2019, "", "professional", D("3.00"))]


def test_regional_experience_reads_only_the_base_years(backend, make_context):
    """The region is everyone's member months and paid per payer type and base year; claims outside a member month
    and years that are not base years are left out. By hand for 2018: Medicare 3 member months (A Jan-Feb, C Mar),
    paid 100 + 40 = 140 (C's 5 in April has no member month); Medicaid 1 member month (B Jan), paid 0."""
    from allpayer.compute.expected_cost import regional_experience
    from tests.cost_builders import runner

    months = [("A", mi(2018, 1), "medicare"), ("A", mi(2018, 2), "medicare"), ("C", mi(2018, 3), "medicare"),
              ("B", mi(2018, 1), "medicaid"), ("A", mi(2019, 1), "medicare")]
    mm = ibis.memtable(pa.table({"person_id": [m[0] for m in months], "payer_type": [m[2] for m in months],
                                 "month_index": [m[1] for m in months], "year": [m[1] // 12 for m in months],
                                 "weight": [1.0] * len(months)}))
    claims = [("A", mi(2018, 2), "medicare", "100.00"), ("C", mi(2018, 3), "medicare", "40.00"),
              ("C", mi(2018, 4), "medicare", "5.00"), ("A", mi(2019, 1), "medicare", "70.00")]
    cl = ibis.memtable(pa.table({
        "person_id": [c[0] for c in claims], "month_index": [c[1] for c in claims],
        "year": [c[1] // 12 for c in claims], "payer_type": [c[2] for c in claims],
        "service_category_1": ["professional"] * len(claims), "paid": pa.array([D(c[3]) for c in claims], MONEY)}))
    out = runner(backend, make_context)(regional_experience(mm, cl, [2018]))
    got = sorted((r["payer_type"], r["year"], r["member_months"], r["paid"] or D(0)) for r in out)
    assert got == [("medicaid", 2018, 1.0, D(0)), ("medicare", 2018, 3.0, D("140.00"))]


def test_partial_member_months_sum_to_the_same_total_in_any_order(backend, make_context):
    """Member months of partial months are fractions no float holds: 90,000 thirds of a month are 30,000 member
    months. Summed as floats in some row order they miss it; as decimals (allpayer.compute.exact) the total is
    the same in any order and rounds to 30,000 exactly."""
    from allpayer.compute.expected_cost import regional_experience, rounded_member_months
    from tests.cost_builders import runner

    n = 90_000
    mm = ibis.memtable(pa.table({"person_id": [f"p{i}" for i in range(n)], "payer_type": ["medicaid"] * n,
                                 "month_index": [mi(2018, 1 + i % 12) for i in range(n)], "year": [2018] * n,
                                 "weight": [1 / 3] * n}))
    cl = ibis.memtable(pa.table({"person_id": ["p0"], "month_index": [mi(2018, 1)], "year": [2018],
                                 "payer_type": ["medicaid"], "service_category_1": ["professional"],
                                 "paid": pa.array([D("10.00")], MONEY)}))
    run = runner(backend, make_context)
    totals = [run(regional_experience(mm.order_by(order), cl, [2018]))[0]["member_months"]
              for order in ("person_id", ibis.desc("person_id"), "month_index")]
    assert len(set(totals)) == 1
    assert rounded_member_months(totals[0]) == D("30000")
    assert sum([1 / 3] * n) != 30_000  # the float sum, added in row order
