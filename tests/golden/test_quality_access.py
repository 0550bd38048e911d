"""Golden cases, worked by hand, for the access and prevention measures: primary-care access, well-care
visits, annual wellness visits, depression screening. Everyone is attributed all of 2019; ages are on
31 December 2019. Runs on DuckDB and PySpark."""

from __future__ import annotations

import pytest

from tests.cost_builders import person
from tests.quality_builders import by_person, ed, hospice, quality_runner, visit


@pytest.fixture
def run(backend, make_context):
    return quality_runner(backend, make_context)


def test_primary_care_access(run):
    # A: office visit 99213 in 2019 -> numerator. B: only an ED visit -> in the denominator, not the numerator.
    # C: office visit on 31 Dec 2018 only -> not this year. D: office visit but hospice in 2019 -> excluded.
    # E: annual wellness visit G0439 counts as primary care.
    people = [person(p, "1960-01-01") for p in "ABCDE"]
    claims = [visit("a1", "A", "2019-03-01"), ed("b1", "B", "2019-03-01"), visit("c1", "C", "2018-12-31"),
              visit("d1", "D", "2019-02-01"), hospice("d2", "D", "2019-06-01"),
              visit("e1", "E", "2019-05-01", hcpcs="G0439", dx="Z0000")]
    got = by_person(run(run.units("primary_care_access", people, claims)))
    assert got == {"A": (1.0, False), "B": (0.0, False), "C": (0.0, False), "D": (1.0, True), "E": (1.0, False)}


def test_well_care_visits_ages_and_codes(run):
    # Ages 3-21 on 31 Dec 2019. A: born 31 Dec 2016 (age 3), 99392 -> yes. B: born 1 Jan 2017 (age 2) -> out.
    # C: age 21, office visit with the well-exam diagnosis Z0000 -> yes (diagnosis route).
    # D: born 31 Dec 1997 (age 22) -> out. E: age 10, sick visit only -> no. F: age 10, 99393 but hospice -> excluded.
    people = [person("A", "2016-12-31"), person("B", "2017-01-01"), person("C", "1998-01-01"),
              person("D", "1997-12-31"), person("E", "2009-05-05"), person("F", "2009-05-05")]
    claims = [visit("a1", "A", "2019-04-01", hcpcs="99392", dx="Z00129"), visit("b1", "B", "2019-04-01", hcpcs="99392"),
              visit("c1", "C", "2019-04-01", dx="Z0000"), visit("d1", "D", "2019-04-01", hcpcs="99395"),
              visit("e1", "E", "2019-04-01"), visit("f1", "F", "2019-04-01", hcpcs="99393"),
              hospice("f2", "F", "2019-09-01")]
    got = by_person(run(run.units("well_care_visits", people, claims)))
    assert got == {"A": (1.0, False), "C": (1.0, False), "E": (0.0, False), "F": (1.0, True)}


def test_annual_wellness_visit(run):
    # A: G0438 in 2019 -> yes. B: G0439 in 2018 only -> no. C: preventive 99397 is not an AWV -> no.
    people = [person(p, "1945-01-01") for p in "ABC"]
    claims = [visit("a1", "A", "2019-02-01", hcpcs="G0438"), visit("b1", "B", "2018-11-01", hcpcs="G0439"),
              visit("c1", "C", "2019-02-01", hcpcs="99397")]
    got = by_person(run(run.units("annual_wellness_visit", people, claims)))
    assert got == {"A": (1.0, False), "B": (0.0, False), "C": (0.0, False)}


def test_depression_screening(run):
    # Denominator: 12+ with a primary-care visit in 2019.
    # A: visit + G8510 (negative screen) -> yes. B: visit, no screen -> no. C: age 11 -> out.
    # D: G8510 on a lab claim, no primary-care visit -> out. E: depression diagnosed in 2018 -> excluded.
    # F: depression first diagnosed in 2019 with G8431 -> counted (only earlier diagnoses exclude).
    # G: G8433 (not screened for a medical reason) -> excluded.
    people = [person(p, "1989-01-01") for p in "ABDEFG"] + [person("C", "2008-01-02")]
    claims = [visit("a1", "A", "2019-03-01"), visit("a2", "A", "2019-03-01", hcpcs="G8510"),
              visit("b1", "B", "2019-03-01"),
              visit("c1", "C", "2019-03-01"), visit("c2", "C", "2019-03-01", hcpcs="G8510"),
              visit("d1", "D", "2019-03-01", hcpcs="80053"), visit("d2", "D", "2019-03-01", hcpcs="G8510"),
              visit("e0", "E", "2018-06-01", dx="F329"), visit("e1", "E", "2019-03-01", dx="F329"),
              visit("e2", "E", "2019-03-01", hcpcs="G8431"),
              visit("f1", "F", "2019-03-01", dx="F329"), visit("f2", "F", "2019-03-01", hcpcs="G8431"),
              visit("g1", "G", "2019-03-01"), visit("g2", "G", "2019-03-01", hcpcs="G8433")]
    got = by_person(run(run.units("depression_screening", people, claims)))
    assert got == {"A": (1.0, False), "B": (0.0, False), "E": (1.0, True), "F": (1.0, False), "G": (0.0, True)}


def test_population_takes_the_practice_of_the_latest_month(run):
    # One program-year of quarterly periods (months do not repeat within it). P1: PR1 in Jan-Jun, PR2 in Jul-Sep ->
    # PR2, 9 months. P2: PR1 in Jan-Mar, then attributed with no practice (expanded) in Apr-Dec -> no practice,
    # 12 months: the latest month's practice, missing or not.
    import ibis
    import pyarrow as pa

    from allpayer.compute.quality.frame import population
    from tests.cost_builders import persons

    rows = [("P1", m, "PR1") for m in range(1, 7)] + [("P1", m, "PR2") for m in range(7, 10)] + \
        [("P2", m, "PR1") for m in range(1, 4)] + [("P2", m, None) for m in range(4, 13)]
    months = ibis.memtable(pa.table({
        "program_id": ["prog"] * len(rows), "year": pa.array([2019] * len(rows), pa.int64()),
        "period": pa.array([(m - 1) // 3 for _, m, _ in rows], pa.int64()), "person_id": [r[0] for r in rows],
        "month_index": pa.array([2019 * 12 + m - 1 for _, m, _ in rows], pa.int64()),
        "practice_id": pa.array([r[2] for r in rows], pa.string())}))
    people = persons([person("P1", "1950-06-01"), person("P2", "2000-01-01", "male")])
    got = {r["person_id"]: (r["practice_id"], r["months"], r["age"], r["sex"]) for r in run(population(months, people))}
    assert got == {"P1": ("PR2", 9, 69, "female"), "P2": (None, 12, 19, "male")}
