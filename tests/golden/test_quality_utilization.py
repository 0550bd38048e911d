"""Golden cases, worked by hand, for ED visits per 1,000 member-years and 30-day all-cause readmissions.
Runs on DuckDB and PySpark."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from allpayer.compute.quality.results import aggregate, registry_table
from tests.cost_builders import med, person
from tests.quality_builders import REGISTRY, by_event, ed, quality_runner, stay, visit


@pytest.fixture
def run(backend, make_context):
    return quality_runner(backend, make_context)


def test_ed_visits_per_1000(run):
    # A (12 months): ED on 1 Feb 2019 billed twice (facility 0450 + professional at POS 23) = one visit, and
    #   another on 1 May 2019 -> 2 visits.
    # B (6 months attributed): ED on 1 Mar 2019 followed by an admission on 2 Mar -> excluded.
    # C (12 months): ED visit in 2018 only -> 0.
    # Member-years 1 + 0.5 + 1 = 2.5; rate = 2 / 2.5 x 1,000 = 800 per 1,000; 1 exclusion.
    people = [person(p, "1970-01-01") for p in "ABC"]
    claims = [ed("a1", "A", "2019-02-01"), visit("a2", "A", "2019-02-01", hcpcs="99284", place_of_service_code="23"),
              ed("a3", "A", "2019-05-01"), ed("b1", "B", "2019-03-01"), stay("b2", "B", "2019-03-02", "2019-03-05"),
              ed("c1", "C", "2018-07-01")]
    frames = run.units("ed_visits_per_1000", people, claims, months={"B": range(1, 7)})
    events = {k: v for k, v in by_event([r for r in run(frames) if r["unit_date"]]).items()}
    assert events == {("A", "2019-02-01"): (1.0, False), ("A", "2019-05-01"): (1.0, False),
                      ("B", "2019-03-01"): (1.0, True)}
    program = [r for r in run(aggregate(frames, registry_table(REGISTRY))) if r["level"] == "program"]
    assert len(program) == 1
    row = program[0]
    assert (row["denominator"], row["numerator"], row["exclusions"], row["persons"]) == (2.5, 2.0, 1, 3)
    assert row["rate"] == pytest.approx(800.0)


def test_readmission_30(run):
    # A (60): discharged 5 Mar, readmitted 4 Apr (day 30) -> index 1 counts; the 4-8 Apr stay is an index with
    #   no readmission -> 0.
    # B: discharged 3 May, readmitted 3 Jun (day 31) -> 0 (and the June stay -> 0).
    # C: died in hospital (disposition 20) -> excluded. D: transferred (02) -> excluded; the receiving stay is an
    #   index of its own -> 0. E: delivery (principal O80) -> excluded. F: discharged 10 Dec -> out (after 1 Dec).
    # G: age 17 -> out.
    people = [person(p, "1959-01-01") for p in "ABCDEF"] + [person("G", "2002-06-01")]
    claims = [stay("a1", "A", "2019-03-01", "2019-03-05"), stay("a2", "A", "2019-04-04", "2019-04-08"),
              stay("b1", "B", "2019-05-01", "2019-05-03"), stay("b2", "B", "2019-06-03", "2019-06-06"),
              stay("c1", "C", "2019-07-01", "2019-07-01", disposition="20"),
              stay("d1", "D", "2019-07-28", "2019-08-01", disposition="02"),
              stay("d2", "D", "2019-08-01", "2019-08-05"),
              stay("e1", "E", "2019-09-01", "2019-09-03", dx="O80"),
              stay("f1", "F", "2019-12-05", "2019-12-10"), stay("g1", "G", "2019-03-01", "2019-03-04")]
    got = by_event(run(run.units("readmission_30", people, claims)))
    assert got == {("A", "2019-03-05"): (1.0, False), ("A", "2019-04-08"): (0.0, False),
                   ("B", "2019-05-03"): (0.0, False), ("B", "2019-06-06"): (0.0, False),
                   ("C", "2019-07-01"): (0.0, True), ("D", "2019-08-01"): (0.0, True),
                   ("D", "2019-08-05"): (0.0, False), ("E", "2019-09-03"): (0.0, True)}


def test_claim_facts_keep_to_the_measured_persons_final_action(run):
    # A is measured: ED claim a1 counts; a2 was reversed by a2r (filed later), so the family drops out; stay a3's
    #   header is kept. B is not measured: neither its ED claim b1 nor its stay b2 is tagged or kept.
    claims = [ed("a1", "A", "2019-02-01"), ed("a2", "A", "2019-03-01", file_date="2019-03-10"),
              ed("a2r", "A", "2019-03-01", status="reversal", original="a2", file_date="2019-04-10"),
              stay("a3", "A", "2019-06-01", "2019-06-04"), ed("b1", "B", "2019-02-01"),
              stay("b2", "B", "2019-06-01", "2019-06-04")]
    measured = run.stage("measured", ibis.memtable({"person_id": ["A"]}))
    facts = run.facts(claims, persons=measured)
    assert sorted(r["claim_id"] for r in run(facts.tagged("ed_visit"))) == ["a1"]
    assert {r["person_id"] for r in run(facts.tags)} == {"A"}
    assert [r["claim_id"] for r in run(facts.claims)] == ["a3"]


def test_codes_match_in_their_normal_form_whatever_the_stored_form(run):
    # a1: revenue code stored as '450' (no leading zero) is ED revenue 0450; a2: diagnosis stored 'e10.9' (lower
    # case, with a dot) falls in the diabetes prefix E10; a3: 'E10.9' and 'E109' on one line tag the claim once.
    claims = [med("a1", "A", "2019-02-01", "10.00", claim_type="institutional", bill_type_code="131",
                  revenue_center_code="450"),
              med("a2", "A", "2019-03-01", "10.00", diagnosis_code_1="e10.9"),
              med("a3", "A", "2019-04-01", "10.00", diagnosis_code_1="E10.9", diagnosis_code_2="E109")]
    facts = run.facts(claims)
    assert [r["claim_id"] for r in run(facts.tagged("ed_visit"))] == ["a1"]
    diabetes = run(facts.tagged("diabetes_dx"))
    assert sorted((r["claim_id"], r["principal"]) for r in diabetes) == [("a2", True), ("a3", False), ("a3", True)]


def test_member_years_sum_exactly_whatever_the_order(run):
    # 120,000 persons attributed 7 months each: 840,000 months = 70,000 member-years exactly. Each unit's
    # denominator is 7/12, which no float holds: summed as floats the total misses 70,000 by more than the
    # rounding to 9 places hides, and by an amount that depends on the order the rows are added in.
    n = 120_000
    frames = ibis.memtable(pa.table({
        "measure_id": ["ed_visits_per_1000"] * n, "program_id": ["P"] * n, "year": pa.array([2019] * n, pa.int64()),
        "practice_id": [f"X{i % 7}" for i in range(n)], "person_id": [f"p{i}" for i in range(n)],
        "unit_date": pa.nulls(n, pa.date32()), "denominator": [7 / 12] * n, "numerator": [0.0] * n,
        "excluded": [False] * n}))
    rows = run(aggregate(frames, registry_table(REGISTRY)))
    program = [r for r in rows if r["level"] == "program"]
    assert [(r["denominator"], r["persons"]) for r in program] == [(70_000.0, n)]
    # Practice X0 has the persons numbered 0, 7, 14, ...: 17,143 persons x 7/12 = 10,000.083333333... member-years.
    x0 = [r for r in rows if r["practice_id"] == "X0"]
    assert [(r["denominator"], r["persons"]) for r in x0] == [(round(17_143 * 7 / 12, 9), 17_143)]
