"""Builders for the quality golden tests: an attributed population, claims and a runner per measure."""

from __future__ import annotations

from collections.abc import Callable

import ibis
import pyarrow as pa

from allpayer import Context
from allpayer.compute.quality import METHODS
from allpayer.compute.quality.frame import ClaimFacts, claim_facts, population
from allpayer.config import load_pack
from allpayer.refdata.quality import value_sets
from tests.cost_builders import med, medical, persons, pharmacy

REGISTRY = load_pack("vermont").quality
YEAR = 2019


def attribution_month(people: list[str], year: int = YEAR, months: dict[str, range] | None = None,
                      program: str = "prog", practice: str = "PR1") -> ibis.Table:
    """Attributed months of each person (all of ``year`` unless ``months`` says otherwise)."""
    rows = [(pid, m) for pid in people for m in (months or {}).get(pid, range(1, 13))]
    return ibis.memtable(pa.table({
        "program_id": pa.array([program] * len(rows), pa.string()),
        "year": pa.array([year] * len(rows), pa.int64()),
        "period": pa.array([1] * len(rows), pa.int64()),
        "person_id": pa.array([r[0] for r in rows], pa.string()),
        "month_index": pa.array([year * 12 + r[1] - 1 for r in rows], pa.int64()),
        "practice_id": pa.array([practice] * len(rows), pa.string()),
    }))


class QualityRunner:
    """Executes expressions on one backend; ``stage`` materialises shared intermediates (the tagged claims)
    so that Spark plans stay small."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __call__(self, expr: ibis.Table) -> list[dict]:
        return self.ctx.warehouse.con.to_pyarrow(expr).to_pylist()

    def stage(self, name: str, expr: ibis.Table) -> ibis.Table:
        return self.ctx.warehouse.materialize(name, expr)

    def facts(self, claims: list[dict], drugs: list[dict] = (), persons: ibis.Table | None = None) -> ClaimFacts:
        """Tagged claims (of ``persons`` when given), read from stored tables as a workspace's are (Spark re-plans
        an in-memory table in each of the code union's branches: three times slower)."""
        fills = self.stage("pharmacy_claim", pharmacy(list(drugs))) if drugs else None
        return claim_facts(self.stage("medical_claim", medical(claims)), fills, value_sets(), self.stage,
                           persons=persons)

    def population(self, people: list[dict], months: dict[str, range] | None = None) -> ibis.Table:
        return self.stage("pop", population(attribution_month([p["person_id"] for p in people], months=months),
                                            persons(people)))

    def units(self, measure_id: str, people: list[dict], claims: list[dict], drugs: list[dict] = (),
              months: dict[str, range] | None = None) -> ibis.Table:
        """The measure frame of ``measure_id`` (Vermont registry settings) for persons attributed in 2019."""
        m = REGISTRY.measure(measure_id)
        pop = self.population(people, months)
        # Tagged for the population only, as run_quality tags them
        return METHODS[m.method](m, pop, self.facts(claims, drugs, pop.select("person_id").distinct()))


def quality_runner(backend: str, make_context: Callable[..., Context]) -> QualityRunner:
    return QualityRunner(make_context(backend))


def by_person(rows: list[dict]) -> dict[str, tuple[float, bool]]:
    """Person-level frame rows -> {person_id: (numerator, excluded)}."""
    assert len({r["person_id"] for r in rows}) == len(rows), "one unit per person expected"
    return {r["person_id"]: (r["numerator"], r["excluded"]) for r in rows}


def by_event(rows: list[dict]) -> dict[tuple[str, str], tuple[float, bool]]:
    """Event-level frame rows -> {(person_id, 'YYYY-MM-DD'): (numerator, excluded)}."""
    return {(r["person_id"], r["unit_date"].isoformat()): (r["numerator"], r["excluded"]) for r in rows}



def visit(cid: str, pid: str, date: str, hcpcs: str = "99213", dx: str = "J069", **kw: object) -> dict:
    """A professional office claim line."""
    return med(cid, pid, date, "50.00", **{"hcpcs_code": hcpcs, "diagnosis_code_1": dx, "place_of_service_code": "11",
                                           **kw})


def ed(cid: str, pid: str, date: str, dx: str = "S93401A", **kw: object) -> dict:
    """An outpatient hospital ED claim line (TOB 131, revenue 0450)."""
    return med(cid, pid, date, "300.00", claim_type="institutional", bill_type_code="131",
               revenue_center_code="0450", hcpcs_code="99283", diagnosis_code_1=dx, **kw)


def stay(cid: str, pid: str, admit: str, discharge: str, disposition: str = "01", dx: str = "J189") -> dict:
    """An acute inpatient claim (TOB 111)."""
    return med(cid, pid, admit, "9000.00", claim_type="institutional", bill_type_code="111",
               revenue_center_code="0120", admission_date=admit, discharge_date=discharge, claim_end_date=discharge,
               discharge_disposition_code=disposition, diagnosis_code_1=dx)


def hospice(cid: str, pid: str, date: str) -> dict:
    """A hospice claim (TOB 812, revenue 0651)."""
    return med(cid, pid, date, "150.00", claim_type="institutional", bill_type_code="812",
               revenue_center_code="0651", diagnosis_code_1="C3490")
