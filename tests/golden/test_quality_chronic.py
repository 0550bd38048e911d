"""Golden cases, worked by hand, for HbA1c poor control, controlling high blood pressure (CPT II result
codes) and claims-based prevalence. Runs on DuckDB and PySpark."""

from __future__ import annotations

import pytest

from tests.cost_builders import person
from tests.quality_builders import by_person, hospice, quality_runner, visit


@pytest.fixture
def run(backend, make_context):
    return quality_runner(backend, make_context)


def test_hba1c_poor_control(run):
    # Denominator: 18-75 with diabetes diagnosed in 2019 or 2018. Numerator (lower is better): latest result > 9%
    # or no result in 2019.
    # A: 3044F (Mar) then 3046F (Sep) -> poor. B: 3046F (Mar) then 3044F (Sep) -> controlled.
    # C: diabetes diagnosed in 2018 only, untested in 2019 -> poor. D: 3046F and 3051F the same day -> the lowest
    # (3051F) counts -> controlled. E: age 76 -> out. F: no diabetes -> out. G: hospice -> excluded.
    people = [person(p, "1969-01-01") for p in "ABCDFG"] + [person("E", "1943-01-01")]
    claims = [visit("a1", "A", "2019-03-01", dx="E119"), visit("a2", "A", "2019-03-01", hcpcs="3044F", dx="E119"),
              visit("a3", "A", "2019-09-01", hcpcs="3046F", dx="E119"),
              visit("b1", "B", "2019-03-01", hcpcs="3046F", dx="E119"), visit("b2", "B", "2019-09-01", hcpcs="3044F",
                                                                                dx="E119"),
              visit("c1", "C", "2018-05-01", dx="E1165"),
              visit("d1", "D", "2019-10-01", hcpcs="3046F", dx="E119"),
              visit("d2", "D", "2019-10-01", hcpcs="3051F", dx="E119"),
              visit("e1", "E", "2019-10-01", hcpcs="3046F", dx="E119"), visit("f1", "F", "2019-10-01", hcpcs="3046F"),
              visit("g1", "G", "2019-10-01", hcpcs="3044F", dx="E119"), hospice("g2", "G", "2019-11-01")]
    got = by_person(run(run.units("hba1c_poor_control", people, claims)))
    assert got == {"A": (1.0, False), "B": (0.0, False), "C": (1.0, False), "D": (0.0, False), "G": (0.0, True)}


def _bp(cid: str, pid: str, date: str, *codes: str) -> list[dict]:
    return [visit(f"{cid}{i}", pid, date, hcpcs=c, dx="I10") for i, c in enumerate(codes)]


def test_controlling_blood_pressure(run):
    # Denominator: 18-85 with hypertension on 2+ dates in 2018-2019. Numerator: latest 2019 date with both a
    # systolic and a diastolic code reads < 140/90.
    # A: 3075F + 3079F (138/88) on the latest date -> controlled. B: controlled in March, 3077F + 3078F in
    # October -> not. C: one hypertension date -> out. D: full reading in May (controlled), systolic only in
    # November -> May counts -> controlled. E: ESRD (N186, 2017) -> excluded. F: age 86 -> out. G: no reading -> not.
    people = [person(p, "1959-01-01") for p in "ABCDEG"] + [person("F", "1933-01-01")]
    claims = [visit("a0", "A", "2019-02-01", dx="I10"), *_bp("a", "A", "2019-06-01", "3075F", "3079F"),
              visit("b0", "B", "2018-05-01", dx="I10"), *_bp("b", "B", "2019-03-01", "3074F", "3078F"),
              *_bp("bb", "B", "2019-10-01", "3077F", "3078F"),
              visit("c0", "C", "2019-02-01", dx="I10"),
              visit("d0", "D", "2019-02-01", dx="I10"), *_bp("d", "D", "2019-05-01", "3074F", "3078F"),
              *_bp("dd", "D", "2019-11-01", "3074F"),
              visit("e0", "E", "2017-02-01", dx="N186"), visit("e1", "E", "2019-02-01", dx="I10"),
              *_bp("e", "E", "2019-05-01", "3074F", "3078F"),
              visit("f0", "F", "2019-02-01", dx="I10"), *_bp("f", "F", "2019-05-01", "3074F", "3078F"),
              visit("g0", "G", "2019-02-01", dx="I10"), visit("g1", "G", "2019-04-01", dx="I10")]
    got = by_person(run(run.units("controlling_blood_pressure", people, claims)))
    assert got == {"A": (1.0, False), "B": (0.0, False), "D": (1.0, False), "E": (1.0, True), "G": (0.0, False)}


def test_prevalence_of_diabetes(run):
    # Adults 18+. A: E1165 in diagnosis position 3 in 2019 -> yes. B: E119 in 2018 only -> no. C: age 17 -> out.
    people = [person("A", "1979-01-01"), person("B", "1979-01-01"), person("C", "2002-06-01")]
    claims = [visit("a1", "A", "2019-03-01", diagnosis_code_3="E1165"), visit("b1", "B", "2018-03-01", dx="E119"),
              visit("c1", "C", "2019-03-01", dx="E119")]
    got = by_person(run(run.units("prevalence_diabetes", people, claims)))
    assert got == {"A": (1.0, False), "B": (0.0, False)}


@pytest.mark.parametrize(("measure", "code"), [("prevalence_hypertension", "I10"), ("prevalence_copd", "J449")])
def test_prevalence_of_hypertension_and_copd(run, measure, code):
    # A: the condition coded in 2019 -> yes; B: only an unrelated diagnosis -> no.
    claims = [visit("a1", "A", "2019-03-01", dx=code), visit("b1", "B", "2019-03-01", dx="J069")]
    got = by_person(run(run.units(measure, [person("A", "1960-01-01"), person("B", "1960-01-01")], claims)))
    assert got == {"A": (1.0, False), "B": (0.0, False)}
