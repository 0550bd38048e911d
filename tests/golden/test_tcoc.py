"""Total cost of care, hand-worked (DuckDB and PySpark): member-month weighting, all-payer roll-up,
truncation, partial months, own-payer spend, completion, dimensions, risk adjustment, unenrolled spend."""

from __future__ import annotations

from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from allpayer.compute.member_months import any_day_member_months
from allpayer.compute.spending import incurred_spend, service_lines
from allpayer.compute.tcoc import primary_member_months, tcoc, unenrolled_spend
from allpayer.config.cost import CostSettings, Truncation
from tests.cost_builders import enrollment, med, medical, member_months, months_of, runner, span

SPANS = [span("A", "2019-01-01", "2020-12-31"),
         span("B", "2019-01-01", "2019-06-30", "commercial", "bcbs"),
         span("C", "2019-01-01", "2019-12-31", "commercial", "bcbs"),
         span("D", "2020-01-01", "2020-12-31"), span("D", "2020-01-01", "2020-12-31", "commercial", "bcbs")]
CLAIMS = [med("a1", "A", "2019-02-10", "1200.00"),
          med("b1", "B", "2019-03-10", "600.00", payer="bcbs"),
          med("c1", "C", "2019-07-10", "12000.00", payer="bcbs"),
          med("d1", "D", "2020-01-10", "100.00"), med("d2", "D", "2020-01-11", "60.00", payer="bcbs"),
          med("e1", "E", "2019-05-01", "75.00", payer="bcbs")]
# 2019: A medicare 12 months, B commercial 6 months (Jan-Jun), C commercial 12 months.
# 2020 January: D half Medicare, half commercial (a partial-month convention), weights 0.5 + 0.5.
MM = (months_of("A", "medicare", 2019, range(1, 13)) + months_of("B", "commercial", 2019, range(1, 7))
      + months_of("C", "commercial", 2019, range(1, 13))
      + [("D", "medicare", 2020, 1, 0.5), ("D", "commercial", 2020, 1, 0.5)])


@pytest.fixture
def run(backend, make_context):
    return runner(backend, make_context)


def _spend():
    e = enrollment(SPANS)
    return incurred_spend(service_lines(medical(CLAIMS)), e)


def _rows(run, expr, dimension="total"):
    return {(r["year"], r["payer_type"], r["group"]): r for r in run(expr) if r["dimension"] == dimension}


def test_member_month_weighted_tcoc_and_partial_months(run):
    rows = _rows(run, tcoc(_spend(), member_months(MM), dimensions=["total"]))
    # Commercial 2019: (600 + 12000) / (6 + 12) mm = 700.00 PMPM, PBPY 8400. Medicare 1200 / 12 = 100 PMPM.
    com, mcr = rows[(2019, "commercial", "all")], rows[(2019, "medicare", "all")]
    allp = rows[(2019, "all_payer", "all")]
    assert (com["tcoc"], com["member_months"], com["tcoc_pmpm"], com["tcoc_pbpy"]) == (
        Decimal("12600.00"), 18.0, 700.0, 8400.0)
    assert (mcr["tcoc"], mcr["tcoc_pmpm"], mcr["persons"]) == (Decimal("1200.00"), 100.0, 1)
    # All-payer 2019 is member-month weighted: 13800 / 30 = 460 PMPM (not the mean of person PMPMs, 400).
    assert (allp["tcoc"], allp["member_months"], allp["tcoc_pmpm"], allp["persons"]) == (
        Decimal("13800.00"), 30.0, 460.0, 3)
    # D, January 2020: 160 of spend shared by weight 0.5 / 0.5 -> 80 under each payer type, 0.5 mm each.
    d_m, d_c = rows[(2020, "medicare", "all")], rows[(2020, "commercial", "all")]
    assert (d_m["tcoc"], d_m["member_months"], d_m["tcoc_pmpm"]) == (Decimal("80.00"), 0.5, 160.0)
    assert d_c["tcoc"] == Decimal("80.00")
    # D is one person in all-payer 2020, though a row under each payer type (one under each of them).
    assert (rows[(2020, "all_payer", "all")]["tcoc"], rows[(2020, "all_payer", "all")]["persons"]) == (
        Decimal("160.00"), 1)
    assert d_m["persons"] == d_c["persons"] == 1


def test_own_payer_spend_for_the_medicare_series(run):
    # own_payer_only: D's Medicare row takes only the Medicare claim (100) and the commercial row the bcbs one (60).
    rows = _rows(run, tcoc(_spend(), member_months(MM), dimensions=["total"], own_payer_only=True))
    assert rows[(2020, "medicare", "all")]["tcoc"] == Decimal("100.00")
    assert rows[(2020, "commercial", "all")]["tcoc"] == Decimal("60.00")


def test_truncation_at_a_percentile(run):
    # Commercial 2019 persons sorted: B 600, C 12000; nearest rank of the 50th percentile = ceil(0.5 x 2) = 1
    # -> cap 600; C is cut to 600: (600 + 600) / 18 mm = 66.6667 PMPM. Medicare (one person): cap = own spend.
    settings = CostSettings(truncation=Truncation(percentile=0.5))
    rows = _rows(run, tcoc(_spend(), member_months(MM), settings, dimensions=["total"]))
    com = rows[(2019, "commercial", "all")]
    assert (com["tcoc"], com["allowed_completed"], com["tcoc_pmpm"]) == (
        Decimal("1200.00"), Decimal("12600.00"), 66.6667)
    assert rows[(2019, "medicare", "all")]["tcoc"] == Decimal("1200.00")


def test_completion_dimensions_and_risk(run):
    # Completion: bcbs July 2019 ratio 1.1 -> C's 12000 completes to 13200; commercial 2019 = 13800 / 18.
    completion = ibis.memtable(pa.table({"payer": ["bcbs"], "incurred_month": pa.array([2019 * 12 + 6], pa.int64()),
                                         "completion_ratio": [1.1]}))
    attribution = ibis.memtable(pa.table({"person_id": ["A"], "year": pa.array([2019], pa.int64()),
                                          "aco_id": ["ACO1"], "practice_id": ["X"], "program": ["medicare_aco"]}))
    hsa = ibis.memtable(pa.table({"person_id": ["A", "B", "C"], "hsa": ["Burlington", "Rutland", "Rutland"]}))
    risk = ibis.memtable(pa.table({"person_id": ["A", "B", "C"], "year": pa.array([2019] * 3, pa.int64()),
                                   "risk_score": [2.0, 1.0, 1.0]}))
    # One execution, every dimension read from it (each execution on Spark costs seconds).
    rows = run(tcoc(_spend(), member_months(MM), completion=completion, attribution=attribution, person_hsa=hsa,
                    risk=risk))

    def by(dimension):
        return {(r["year"], r["payer_type"], r["group"]): r for r in rows if r["dimension"] == dimension}

    com = by("total")[(2019, "commercial", "all")]
    assert (com["allowed"], com["tcoc"], com["tcoc_pmpm"]) == (Decimal("12600.00"), Decimal("13800.00"),
                                                                766.6667)
    # ACO vs not attributed (all payers, 2019): A 1200 / 12 mm = 100 PMPM; B + C 13800 / 18 = 766.6667.
    aco = by("aco")
    assert aco[(2019, "all_payer", "aco")]["tcoc_pmpm"] == 100.0
    assert aco[(2019, "all_payer", "not_attributed")]["tcoc_pmpm"] == 766.6667
    assert by("practice")[(2019, "all_payer", "X")]["member_months"] == 12.0
    assert by("program")[(2019, "medicare", "medicare_aco")]["persons"] == 1
    rut = by("hsa")[(2019, "commercial", "Rutland")]
    assert rut["tcoc"] == Decimal("13800.00")
    # Risk: Medicare 2019 PMPM 100 / mean risk 2.0 = 50; all-payer mean risk (2 x 12 + 1 x 18) / 30 = 1.4.
    total = by("total")
    assert total[(2019, "medicare", "all")]["risk_adjusted_pmpm"] == 50.0
    assert total[(2019, "all_payer", "all")]["mean_risk"] == pytest.approx(1.4)


def test_unenrolled_spend_and_interim_primary_payer(run):
    # E has a 75.00 claim and no enrollment at all: reported by year and claim payer type.
    rows = run(unenrolled_spend(_spend(), member_months(MM)))
    assert [(r["year"], r["payer_type"], r["allowed"], r["persons"]) for r in rows] == [
        (2019, "commercial", Decimal("75.00"), 1)]
    # Interim primary payer: D is in Medicare and commercial in 2020 -> Medicare first in the hierarchy.
    e = enrollment(SPANS)
    pm = run(primary_member_months(any_day_member_months(e), CostSettings().primary_payer_hierarchy))
    d2020 = {r["payer_type"] for r in pm if r["person_id"] == "D" and r["year"] == 2020}
    assert d2020 == {"medicare"} and sum(1 for r in pm if r["person_id"] == "D") == 12


def test_primary_payer_months_need_no_shares(run):
    # Without D's shared January, every person-month has one row: the person-years of one_row_per_month (ranges,
    # no shares computed) are the same rows to the cent as those of the general path's person-months.
    from allpayer.compute.tcoc import person_months, person_years, spend_person_years

    unique = member_months([m for m in MM if m[0] != "D"])
    key = lambda r: (r["person_id"], r["year"], r["payer_type"])  # noqa: E731
    general = sorted(run(person_years(person_months(_spend(), unique))), key=key)
    assert general == sorted(run(spend_person_years(_spend(), unique, one_row_per_month=True)), key=key)
    assert sum(r["allowed"] for r in general) == Decimal("13800.00")  # A 1200 + B 600 + C 12000 (E: no months)


# Ranges (coverage_ranges): F is covered Jan-Mar and Jul-Dec 2019 (a gap: month-level path), G is commercial
# Jan-Jun then Medicare Jul-Dec 2019 (two gapless ranges: range path), H is Medicare Jan-Dec 2019 (range path).
RANGE_SPANS = [span("F", "2019-01-01", "2019-03-31"), span("F", "2019-07-01", "2019-12-31"),
               span("G", "2019-01-01", "2019-06-30", "commercial", "bcbs"), span("G", "2019-07-01", "2019-12-31"),
               span("H", "2019-01-01", "2019-12-31")]
RANGE_CLAIMS = [med("f1", "F", "2019-02-01", "100.00"), med("f2", "F", "2019-05-01", "40.00"),
                med("f3", "F", "2019-08-01", "10.00"),
                med("g1", "G", "2019-03-01", "300.00", payer="bcbs"), med("g2", "G", "2019-09-01", "50.00"),
                med("g3", "G", "2019-10-01", "7.00", payer="bcbs"),
                med("h1", "H", "2019-12-31", "20.00"), med("h2", "H", "2020-01-02", "5.00")]
RANGE_MM = (months_of("F", "medicare", 2019, [1, 2, 3, 7, 8, 9, 10, 11, 12])
            + months_of("G", "commercial", 2019, range(1, 7)) + months_of("G", "medicare", 2019, range(7, 13))
            + months_of("H", "medicare", 2019, range(1, 13)))


def test_person_years_on_coverage_ranges(run):
    from allpayer.compute.tcoc import coverage_ranges, person_months, person_years, spend_person_years

    spend = incurred_spend(service_lines(medical(RANGE_CLAIMS)), enrollment(RANGE_SPANS))
    mm = member_months(RANGE_MM)
    ranges = {(r["person_id"], r["payer_type"]): r for r in run(coverage_ranges(mm))}
    assert (ranges[("F", "medicare")]["gapless"], ranges[("F", "medicare")]["simple_year"]) == (False, False)
    assert (ranges[("G", "commercial")]["simple_year"], ranges[("G", "medicare")]["first_month"] % 12) == (True, 6)
    key = lambda r: (r["person_id"], r["payer_type"])  # noqa: E731
    by = {key(r): r for r in run(spend_person_years(spend, mm, one_row_per_month=True))}
    # F: 100 (Feb) + 10 (Aug); May has no member month. G: commercial 300 (Mar); Medicare 50 (Sep) + 7 (Oct, a
    # commercial claim in a Medicare month: all spend of the month goes to its primary payer). H: 20 (2019 only).
    assert {k: (r["member_months"], r["allowed"]) for k, r in by.items()} == {
        ("F", "medicare"): (9.0, Decimal("110.00")), ("G", "commercial"): (6.0, Decimal("300.00")),
        ("G", "medicare"): (6.0, Decimal("57.00")), ("H", "medicare"): (12.0, Decimal("20.00"))}
    # Own payer only: G's 7.00 commercial claim in a Medicare month counts nowhere.
    own = {key(r): r["allowed"] for r in run(spend_person_years(spend, mm, own_payer_only=True))}
    assert own[("G", "medicare")] == Decimal("50.00") and own[("G", "commercial")] == Decimal("300.00")
    # The same rows as the month-level join, to the cent, both ways. Own payer: each payer type's claims meet that
    # type's member months alone.
    months = run(person_years(person_months(spend, mm)))
    assert sorted(run(spend_person_years(spend, mm, one_row_per_month=True)), key=key) == sorted(months, key=key)
    own_months = [row for t in ("commercial", "medicare") for row in run(person_years(person_months(
        spend.filter(spend.payer_type == t), mm.filter(mm.payer_type == t))))]
    ranged = run(spend_person_years(spend, mm, own_payer_only=True, one_row_per_month=True))
    assert sorted(ranged, key=key) == sorted(own_months, key=key)
    # Ranges are numbered from 0 and months in gapped years below it: without F, G's commercial range is number 0.
    no_f = mm.filter(mm.person_id != "F")
    assert {key(r): r["allowed"] for r in run(spend_person_years(spend, no_f, one_row_per_month=True))} == {
        ("G", "commercial"): Decimal("300.00"), ("G", "medicare"): Decimal("57.00"),
        ("H", "medicare"): Decimal("20.00")}
    # Unenrolled: F's May claim (40.00) and H's January 2020 claim (5.00), by year.
    rows = run(unenrolled_spend(spend, mm, one_row_per_month=True))
    assert sorted((r["year"], r["allowed"]) for r in rows) == [(2019, Decimal("40.00")), (2020, Decimal("5.00"))]


def test_coverage_ranges_of_month_runs(run):
    """Ranges from month runs without expanding them, worked by hand, and the same as from their months."""
    from allpayer.compute.tcoc import coverage_ranges, coverage_ranges_of_runs, months_of_runs

    nov_2018, jan_2019 = 2018 * 12 + 10, 2019 * 12
    runs = ibis.memtable(pa.table({
        # P: Nov 2018 (half) .. Mar 2019 (a quarter), then June 2019 alone (0.4); Q: all 2019.
        "person_id": ["P", "P", "Q"], "payer_type": ["medicare", "medicare", "commercial"],
        "first_month": [nov_2018, jan_2019 + 5, jan_2019], "last_month": [jan_2019 + 2, jan_2019 + 5, jan_2019 + 11],
        "first_weight": [0.5, 0.4, 1.0], "last_weight": [0.25, 0.4, 1.0]}))
    got = {(r["person_id"], r["year"]): r for r in run(coverage_ranges_of_runs(runs))}
    p18, p19, q19 = got[("P", 2018)], got[("P", 2019)], got[("Q", 2019)]
    # 2018: Nov 0.5 + Dec 1. 2019: Jan 1 + Feb 1 + Mar 0.25 + Jun 0.4, Jan..Jun with April and May missing.
    assert (p18["member_months"], p18["first_month"] % 12, p18["last_month"] % 12) == (1.5, 10, 11)
    assert p18["gapless"]
    assert (round(p19["member_months"], 9), p19["first_month"] % 12, p19["last_month"] % 12) == (2.65, 0, 5)
    assert (p19["gapless"], p19["simple_year"], q19["member_months"], q19["simple_year"]) == (False, False, 12.0, True)
    from_months = run(coverage_ranges(months_of_runs(runs)))
    key = lambda r: (r["person_id"], r["year"], r["payer_type"])  # noqa: E731
    rounded = lambda rows: sorted(({**r, "member_months": round(r["member_months"], 9)} for r in rows), key=key)  # noqa: E731
    assert rounded(from_months) == rounded(got.values())


def test_run_tcoc_takes_member_months_or_their_runs_not_both():
    """The months and the runs they expand from are two forms of one input: passing both (one would go unread)
    or neither is refused before anything is computed."""
    import datetime as dt

    from allpayer.compute.tcoc import run_tcoc

    claims = medical([med("A", "p1", "2019-01-05", "10")])
    spans = enrollment([span("p1", "2019-01-01", "2019-12-31")])
    person = ibis.memtable({"person_id": ["p1"]})
    months = ibis.memtable({"person_id": ["p1"], "payer_type": ["medicare"], "month_index": [2019 * 12],
                            "year": [2019], "weight": [1.0]})
    for mm, runs in ((months, months), (None, None)):
        with pytest.raises(ValueError, match="one of the two"):
            run_tcoc(claims, None, spans, person, mm, CostSettings(), dt.date(2019, 12, 31), month_runs=runs)


def test_partial_member_months_and_risk_sum_exactly_whatever_the_order(run):
    """90,000 Medicaid person-years of a third of a member month each, 1.00 of spend and a risk score of 1.1:
    30,000 member months, 3.00 PMPM, mean risk 1.1. Added as floats in row order the thirds come to
    29,999.99999996 and a re-run may add them in another order; the sums every summary adds up (stored through
    ``stage`` as ``tcoc_partial_sums``) are decimals (allpayer.compute.exact): the same in any order, and the
    true totals to 9 places."""
    from allpayer.compute.tcoc import summarise_years

    n = 90_000
    money = pa.array([Decimal("1.00")] * n, pa.decimal128(18, 2))
    py = ibis.memtable(pa.table({
        "person_id": [f"p{i:05d}" for i in range(n)], "year": [2019] * n, "payer_type": ["medicaid"] * n,
        "member_months": [1 / 3] * n, "allowed": money, "paid": money, "allowed_completed": money,
        "paid_completed": money}))
    risk = ibis.memtable(pa.table({"person_id": [f"p{i:05d}" for i in range(n)], "year": [2019] * n,
                                   "risk_score": [1.1] * n}))
    results = []
    for order in ("person_id", ibis.desc("person_id")):
        stored: dict[str, ibis.Table] = {}

        def stage(name: str, expr: ibis.Table, stored=stored) -> ibis.Table:
            stored[name] = expr
            return expr

        out = run(summarise_years(py.order_by(order), risk=risk, dimensions=["total"], stage=stage))
        partial = {r["payer_type"]: r for r in run(stored["tcoc_partial_sums"])}["medicaid"]
        summary = {r["payer_type"]: r for r in out}["medicaid"]
        results.append((partial["member_months"], partial["_risk"], summary))
    assert results[0] == results[1]
    member_months, risk_months, summary = results[0]
    assert round(member_months, 9) == Decimal("30000") and round(risk_months, 9) == Decimal("33000")
    assert (summary["member_months"], summary["tcoc"], summary["tcoc_pmpm"], summary["mean_risk"]) == (
        30000.0, Decimal("90000.00"), 3.0, 1.1)
    assert summary["risk_adjusted_pmpm"] == pytest.approx(3.0 / 1.1, abs=1e-4)
    assert sum([1 / 3] * n) != 30_000  # the float sum, added in row order
