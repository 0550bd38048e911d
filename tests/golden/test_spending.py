"""Incurred spending, hand-worked: incurred month by first date of service, final action, categories,
financial target services and spend outside enrollment. Runs on DuckDB and PySpark."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pytest

from allpayer.compute.final_action import superseded_lines, superseded_versions
from allpayer.compute.spending import (
    claim_spend,
    completion_lines,
    incurred_spend,
    medical_paid_by_tin,
    reachable_level_1,
    service_lines,
    spend_by_category,
    spend_columns,
)
from allpayer.config.cost import FinancialTargetServices
from tests.cost_builders import enrollment, med, medical, pharmacy, runner, rx, span


@pytest.fixture
def run(backend, make_context):
    return runner(backend, make_context)


SPANS = [span("A", "2019-01-01", "2020-12-31"), span("B", "2019-01-01", "2019-06-30", "commercial", "bcbs")]


def _spend(run, claims, drugs=(), spans=SPANS):
    e = enrollment(spans)
    lines = service_lines(medical(claims), pharmacy(list(drugs)) if drugs else None)
    return run(incurred_spend(lines, e))


def test_incurred_month_is_the_first_date_of_service_at_a_year_edge(run):
    # Service 31 Dec 2019 to 2 Jan 2020, paid 10 Feb 2020: incurred in December 2019 (year 2019, month 12),
    # whatever the end or paid dates. A claim starting 1 Jan 2020 falls in January 2020.
    rows = _spend(run, [med("c1", "A", "2019-12-31", "100.00", paid_date="2020-02-10", claim_end_date="2020-01-02"),
                        med("c2", "A", "2020-01-01", "40.00")])
    got = sorted((r["year"], r["month"], r["allowed_amount"]) for r in rows)
    assert got == [(2019, 12, Decimal("100.00")), (2020, 1, Decimal("40.00"))]


def test_adjustments_and_reversals_use_the_final_version(run):
    # c1: original 100 (2 lines 60 + 40) adjusted to one line of 120 -> 120, not 220.
    # c2: original 80 reversed -> nothing. Total March 2019 spend = 120.00.
    claims = [med("c1", "A", "2019-03-05", "60.00", line=1, file_date="2019-04-01"),
              med("c1", "A", "2019-03-05", "40.00", line=2, file_date="2019-04-01"),
              med("c1a", "A", "2019-03-05", "120.00", status="adjustment", original="c1", file_date="2019-05-01"),
              med("c2", "A", "2019-03-07", "80.00", file_date="2019-04-01"),
              med("c2r", "A", "2019-03-07", "-80.00", status="reversal", original="c2", file_date="2019-05-01")]
    rows = _spend(run, claims)
    assert sum(r["allowed_amount"] for r in rows) == Decimal("120.00")
    assert sum(r["lines"] for r in rows) == 1


def test_service_categories_and_financial_target_services(run):
    # Rules in refdata/service_categories.csv, first match wins. Pharmacy is not a target service.
    claims = [
        med("ip", "A", "2019-02-01", "1000.00", claim_type="institutional", bill_type_code="111"),
        med("er", "A", "2019-02-01", "300.00", claim_type="institutional", bill_type_code="131",
            revenue_center_code="0450"),
        med("ov", "A", "2019-02-01", "90.00", hcpcs_code="99213", place_of_service_code="11"),
        med("th", "A", "2019-02-01", "70.00", hcpcs_code="99213", place_of_service_code="02"),
        med("lb", "A", "2019-02-01", "15.00", hcpcs_code="80053", place_of_service_code="81"),
        med("dm", "A", "2019-02-01", "200.00", hcpcs_code="E0601", place_of_service_code="12"),
        med("hh", "A", "2019-02-01", "400.00", claim_type="institutional", bill_type_code="0321"),
    ]
    rows = _spend(run, claims, [rx("r1", "A", "2019-02-03", "55.00")])
    got = {(r["service_category_1"], r["service_category_2"]): (r["allowed_amount"], r["financial_target"])
           for r in rows}
    assert got == {
        ("inpatient", "acute_inpatient"): (Decimal("1000.00"), True),
        ("outpatient", "emergency"): (Decimal("300.00"), True),
        ("professional", "office_visit"): (Decimal("90.00"), True),
        ("professional", "telehealth"): (Decimal("70.00"), True),
        ("professional", "lab"): (Decimal("15.00"), True),
        ("other", "dme"): (Decimal("200.00"), True),
        ("other", "home_health"): (Decimal("400.00"), True),
        ("pharmacy", "retail_pharmacy"): (Decimal("55.00"), False),
    }


def test_codes_match_in_any_case_and_unknown_claim_types_are_other(run):
    # Rules compare upper-cased codes where their values have letters (E, GT); digits need no casing. A claim type
    # no rule names falls to ("other", "other").
    claims = [
        med("dm", "A", "2019-02-01", "200.00", hcpcs_code="e0601", place_of_service_code="12"),
        med("tm", "A", "2019-02-01", "80.00", hcpcs_code="99213", place_of_service_code="11", hcpcs_modifier_1="gt"),
        med("ed", "A", "2019-02-01", "150.00", hcpcs_code="99284", place_of_service_code="23"),
        med("ux", "A", "2019-02-01", "10.00", claim_type="dental"),
    ]
    got = {(r["service_category_1"], r["service_category_2"]): r["allowed_amount"] for r in _spend(run, claims)}
    assert got == {
        ("other", "dme"): Decimal("200.00"),
        ("professional", "telehealth"): Decimal("80.00"),
        ("professional", "emergency"): Decimal("150.00"),
        ("other", "other"): Decimal("10.00"),
    }


def test_spend_outside_enrollment_is_reported_not_dropped(run):
    # B is covered by bcbs (commercial) January-June 2019; a bcbs claim in August 2019 keeps its 50.00 with
    # enrolled = False and the payer's usual type (commercial).
    rows = _spend(run, [med("b1", "B", "2019-05-10", "30.00", payer="bcbs"),
                        med("b2", "B", "2019-08-10", "50.00", payer="bcbs")])
    got = sorted((r["month"], r["enrolled"], r["payer_type"], r["allowed_amount"]) for r in rows)
    assert got == [(5, True, "commercial", Decimal("30.00")), (8, False, "commercial", Decimal("50.00"))]


SEVERAL_SPANS = [*SPANS, span("C", "2019-01-01", "2019-03-20", "self_funded", "bcbs"),
                 span("C", "2019-03-15", "2019-12-31", "commercial", "bcbs")]
SEVERAL_CLAIMS = [
    med("c1", "C", "2019-02-10", "10.00", payer="bcbs"), med("c2", "C", "2019-03-10", "20.00", payer="bcbs"),
    med("c3", "C", "2019-07-10", "30.00", payer="bcbs"), med("c4", "C", "2020-01-10", "40.00", payer="bcbs"),
    med("c5", "C", "2019-07-11", "50.00", payer="mcare")]
SEVERAL_EXPECTED = [
    ("bcbs", 2019, 2, True, "self_funded", Decimal("10.00")),
    ("bcbs", 2019, 3, True, "commercial", Decimal("20.00")),
    ("bcbs", 2019, 7, True, "commercial", Decimal("30.00")),
    ("bcbs", 2020, 1, False, "commercial", Decimal("40.00")),
    ("mcare", 2019, 7, False, "medicare", Decimal("50.00")),
]


def test_claim_payer_type_over_several_spans_of_one_payer(run):
    # C has two bcbs spans: self-funded January-March, commercial from 15 March to December 2019 (both touch
    # March), and none in 2020. March takes the first type by name (commercial); a claim in 2020 is outside
    # enrollment and takes the payer's usual type (commercial, the first by name of bcbs's types); a claim with
    # mcare, with which C has no enrollment, is outside enrollment too (mcare's usual type: medicare).
    got = sorted((r["payer"], r["year"], r["month"], r["enrolled"], r["payer_type"], r["allowed_amount"])
                 for r in _spend(run, SEVERAL_CLAIMS, spans=SEVERAL_SPANS))
    assert got == SEVERAL_EXPECTED


def test_pair_coverage_staged_apart_gives_the_same_spend(backend, make_context):
    # The pairs' lists of spans are an aggregate DuckDB cannot spill, so a warehouse stores them before the lines
    # are grouped (spend_grain's stage). Staged or not, the spend of the several-spans case above is the same.
    ctx = make_context(backend)
    staged: list[str] = []

    def stage(name: str, expr: ibis.Table) -> ibis.Table:
        staged.append(name)
        return ctx.warehouse.materialize(name, expr)

    args = (medical(SEVERAL_CLAIMS), None, enrollment(SEVERAL_SPANS), ibis.literal(dt.date(2021, 1, 1)))
    runs = {kind: ctx.warehouse.con.to_pyarrow(spend_columns(claim_spend(*args, **options))).to_pylist()
            for kind, options in (("lazy", {}), ("staged", {"stage": stage}))}
    assert staged == ["spend_enrollment_pairs"]
    for rows in runs.values():
        got = sorted((r["payer"], r["year"], r["month"], r["enrolled"], r["payer_type"], r["allowed_amount"])
                     for r in rows)
        assert got == SEVERAL_EXPECTED


def test_medical_lines_and_fills_grouped_apart_give_the_spend_of_their_union(run):
    # claim_spend groups each claim kind on its own; their categories differ, so no cell has lines of both kinds.
    # A's March 2019: two professional lines (10 + 5.50) and two fills (7 + 3); B's only fill is outside its
    # enrollment (July). Grouped apart or as one union, the same rows: medical 15.50 (2 lines), pharmacy 10.00
    # (2 lines) for A in March, pharmacy 4.00 unenrolled for B in July.
    claims = [med("m1", "A", "2019-03-02", "10.00"), med("m2", "A", "2019-03-20", "5.50")]
    drugs = [rx("r1", "A", "2019-03-05", "7.00"), rx("r2", "A", "2019-03-25", "3.00"),
             rx("r3", "B", "2019-07-01", "4.00", payer="bcbs")]
    as_of = ibis.literal(dt.date(2020, 1, 1))
    apart = run(spend_columns(claim_spend(medical(claims), pharmacy(drugs), enrollment(SPANS), as_of)))
    union = _spend(run, claims, drugs)

    def rows(spend: list[dict]) -> list[tuple]:
        return sorted((r["person_id"], r["month"], r["claim_kind"], r["enrolled"], r["allowed_amount"], r["lines"])
                      for r in spend)

    assert rows(apart) == rows(union) == [
        ("A", 3, "medical", True, Decimal("15.50"), 2), ("A", 3, "pharmacy", True, Decimal("10.00"), 2),
        ("B", 7, "pharmacy", False, Decimal("4.00"), 1)]


def test_claim_payer_type_over_open_ended_spans(run):
    # D has two mcare spans: medicare from 1966 to June 2019, medicare advantage from July 2019 with no end (9999).
    # The spans are never expanded into months: June is medicare, August medicare advantage.
    spans = [*SPANS, span("D", "1966-01-01", "2019-06-30", "medicare", "mcare"),
             span("D", "2019-07-01", "9999-12-31", "medicare_advantage", "mcare")]
    claims = [med("d1", "D", "2019-06-10", "10.00"), med("d2", "D", "2019-08-10", "20.00")]
    got = sorted((r["month"], r["enrolled"], r["payer_type"]) for r in _spend(run, claims, spans=spans))
    assert got == [(6, True, "medicare"), (8, True, "medicare_advantage")]


def test_spend_by_category_rolls_up(run):
    e = enrollment(SPANS)
    lines = service_lines(medical([med("a", "A", "2019-02-01", "10.00"), med("b", "A", "2019-07-01", "5.50")]))
    rows = run(spend_by_category(incurred_spend(lines, e), FinancialTargetServices()))
    assert [(r["year"], r["allowed_amount"], r["lines"]) for r in rows] == [(2019, Decimal("15.50"), 2)]


def test_paid_by_tin_of_the_year_and_persons_after_final_action(run):
    # Network split basis for 2019, persons A and C (B is not attributed), as of 30 June 2019:
    # A: c1 adjusted from 100 to 120 (TIN T1) -> 120; c2 reversed -> nothing; c3 served in 2018 -> not in 2019;
    #    c4 paid 1 July, after the paid-through date -> nothing. C: c5 in March (TIN T2) -> 30. B: c6 -> not read.
    # With no list of superseded lines or versions, final action is worked out from every line first.
    claims = [med("c1", "A", "2019-03-05", "100.00", billing_tin="T1", file_date="2019-04-01"),
              med("c1a", "A", "2019-03-05", "120.00", billing_tin="T1", status="adjustment", original="c1",
                  file_date="2019-05-01"),
              med("c2", "A", "2019-03-07", "80.00", billing_tin="T1", file_date="2019-04-01"),
              med("c2r", "A", "2019-03-07", "-80.00", billing_tin="T1", status="reversal", original="c2",
                  file_date="2019-05-01"),
              med("c3", "A", "2018-12-31", "50.00", billing_tin="T1"),
              med("c4", "A", "2019-06-20", "70.00", billing_tin="T1", paid_date="2019-07-01"),
              med("c5", "C", "2019-03-01", "30.00", billing_tin="T2"), med("c6", "B", "2019-03-01", "90.00",
                                                                          billing_tin="T1")]
    persons = ibis.memtable({"person_id": ["A", "C"]})
    lines = medical(claims)
    # Intake's list names lines by their lineage (here one file, a row per claim); an older list names versions.
    lineaged = lines.mutate(source_file=ibis.literal("claims.csv"),
                            source_row=ibis.row_number().over(order_by="claim_id") + 1)
    for claims_read, superseded in ((lineaged, superseded_lines(lineaged)), (lines, superseded_versions(lines)),
                                    (lines, None)):
        rows = run(medical_paid_by_tin(claims_read, superseded, ibis.literal(dt.date(2019, 6, 30)), 2019, persons))
        got = sorted((r["person_id"], r["billing_tin"], r["month_index"], r["paid_amount"]) for r in rows)
        assert got == [("A", "T1", 2019 * 12 + 2, Decimal("120.00")), ("C", "T2", 2019 * 12 + 2, Decimal("30.00"))]


def test_completion_lines_read_categories_only_where_they_decide(run):
    # Medical lines can be inpatient, outpatient, professional or other (the contract's claim types); fills only
    # pharmacy. ip (inpatient 1000) and ov (professional 90) are final; c2 (80) is reversed; r1 is a fill (55).
    assert reachable_level_1("medical") == {"inpatient", "outpatient", "professional", "other"}
    assert reachable_level_1("pharmacy") == {"pharmacy"}
    claims = medical([
        med("ip", "A", "2019-02-01", "1000.00", claim_type="institutional", bill_type_code="111"),
        med("ov", "A", "2019-03-01", "90.00", hcpcs_code="99213", place_of_service_code="11"),
        med("c2", "A", "2019-03-07", "80.00", file_date="2019-04-01"),
        med("c2r", "A", "2019-03-07", "-80.00", status="reversal", original="c2", file_date="2019-05-01"),
    ])
    fills = pharmacy([rx("r1", "A", "2019-02-03", "55.00")])

    def paid(include: list[str], by_category: bool = False) -> list[tuple]:
        lines = completion_lines(claims, fills, FinancialTargetServices(include_categories=include), by_category)
        return sorted((r["incurred_month"] % 12 + 1, r["paid_amount"], r.get("service_category_1"))
                      for r in run(lines))

    # Every medical category counts, pharmacy does not (the Vermont pack): all medical lines, no fills.
    assert paid(["inpatient", "outpatient", "professional", "other"]) == [
        (2, Decimal("1000.00"), None), (3, Decimal("90.00"), None)]
    # Some medical categories: the lines are categorised and filtered.
    assert paid(["inpatient"]) == [(2, Decimal("1000.00"), None)]
    # Pharmacy only: the fills, no medical line.
    assert paid(["pharmacy"]) == [(2, Decimal("55.00"), None)]
    # By category: named, even where every category counts.
    assert paid(["inpatient", "outpatient", "professional", "other", "pharmacy"], by_category=True) == [
        (2, Decimal("55.00"), "pharmacy"), (2, Decimal("1000.00"), "inpatient"), (3, Decimal("90.00"), "professional")]
    assert paid([]) == []
