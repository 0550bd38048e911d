"""Care-management lists, worked by hand: open care gaps and the highest-risk persons. Runs on DuckDB and
PySpark."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from allpayer.compute.quality.care import care_gaps, high_risk
from allpayer.compute.quality.frame import FRAME_COLUMNS
from allpayer.compute.quality.results import registry_table
from allpayer.config.quality import HighRisk
from tests.cost_builders import person
from tests.quality_builders import REGISTRY, ed, quality_runner, stay


@pytest.fixture
def run(backend, make_context):
    return quality_runner(backend, make_context)


def frames(rows: list[tuple]) -> ibis.Table:
    """(measure_id, person_id, unit_date, numerator, excluded) -> a measure frame in program prog, 2019."""
    return ibis.memtable(pa.table({
        "measure_id": [r[0] for r in rows], "program_id": ["prog"] * len(rows),
        "year": pa.array([2019] * len(rows), pa.int64()), "practice_id": ["PR1"] * len(rows),
        "person_id": [r[1] for r in rows], "unit_date": pa.array([r[2] for r in rows], pa.date32()),
        "denominator": pa.array([1.0] * len(rows)), "numerator": pa.array([float(r[3]) for r in rows]),
        "excluded": pa.array([r[4] for r in rows], pa.bool_())}, schema=pa.schema(
        [(c, {"string": pa.string(), "int64": pa.int64(), "date": pa.date32(), "float64": pa.float64(),
              "boolean": pa.bool_()}[t]) for c, t in FRAME_COLUMNS.items()])))


def test_care_gaps(run):
    # primary-care access (higher is better): P1 without a visit -> gap; P2 with one -> none; P3 excluded -> none.
    # HbA1c poor control (lower is better): P1 in the numerator -> gap; P2 controlled -> none.
    # Prevalence is not a care gap. FUM: P2's ED visit of 1 March without follow-up -> gap dated 1 March.
    f = frames([("primary_care_access", "P1", None, 0, False), ("primary_care_access", "P2", None, 1, False),
                ("primary_care_access", "P3", None, 0, True), ("hba1c_poor_control", "P1", None, 1, False),
                ("hba1c_poor_control", "P2", None, 0, False), ("prevalence_diabetes", "P1", None, 0, False),
                ("followup_ed_mental_illness", "P2", dt.date(2019, 3, 1), 0, False)])
    got = {(r["person_id"], r["measure_id"], r["event_date"]) for r in run(care_gaps(f, registry_table(REGISTRY)))}
    assert got == {("P1", "primary_care_access", None), ("P1", "hba1c_poor_control", None),
                   ("P2", "followup_ed_mental_illness", dt.date(2019, 3, 1))}


def test_high_risk_list(run):
    # Eight persons with risk scores R1=1.0 ... R8=8.0; the top 25% of 8 scored persons = R8, R7. R1 has two
    # admissions (>= 2) and R2 three ED visits (>= 3); R9 has no risk score but two admissions. R4 has one
    # admission only. Outreach order in the practice: R8, R7, R2, R1, then R9 (no score last).
    people = [f"R{i}" for i in range(1, 10)]
    claims = [stay("s1", "R1", "2019-02-01", "2019-02-03"), stay("s2", "R1", "2019-05-01", "2019-05-03"),
              ed("e1", "R2", "2019-01-05"), ed("e2", "R2", "2019-03-05"), ed("e3", "R2", "2019-07-05"),
              stay("s3", "R9", "2019-02-01", "2019-02-03"), stay("s4", "R9", "2019-08-01", "2019-08-03"),
              stay("s5", "R4", "2019-02-01", "2019-02-03")]
    risk = ibis.memtable(pa.table({"person_id": people[:8], "year": pa.array([2019] * 8, pa.int64()),
                                   "model": ["test"] * 8, "risk_score": [float(i) for i in range(1, 9)]}))
    pop = run.population([person(p, "1950-01-01") for p in people])
    facts = run.facts(claims)
    rows = run(high_risk(pop, facts, risk, HighRisk(top_risk_share=0.25, min_admissions=2, min_ed_visits=3)))
    got = {r["person_id"]: (r["outreach_rank"], r["top_risk"], r["frequent_admissions"], r["frequent_ed"],
                            r["admissions"], r["ed_visits"]) for r in rows}
    assert got == {"R8": (1, True, False, False, 0, 0), "R7": (2, True, False, False, 0, 0),
                   "R2": (3, False, False, True, 0, 3), "R1": (4, False, True, False, 2, 0),
                   "R9": (5, False, True, False, 2, 0)}
