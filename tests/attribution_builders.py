"""Tiny typed builders for hand-made canonical tables used by the attribution, enrollment and scale tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.config.models import Attribution, Pack, PerformanceYear, Program, ProgramMatch, ScaleTargets


def npi(seed: int) -> str:
    """A valid NPI (Luhn with the 80840 prefix) from a small integer."""
    base = f"1{seed:08d}"
    digits = [int(c) for c in "80840" + base]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return base + str((10 - total % 10) % 10)


def d(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


PERSON = pa.schema([("person_id", pa.string()), ("birth_date", pa.date32()), ("sex", pa.string()),
                    ("death_date", pa.date32()), ("state", pa.string()), ("zip_code", pa.string())])
ENROLLMENT = pa.schema([("person_id", pa.string()), ("member_id", pa.string()), ("payer", pa.string()),
                        ("payer_type", pa.string()), ("plan", pa.string()), ("group_id", pa.string()),
                        ("enrollment_start_date", pa.date32()), ("enrollment_end_date", pa.date32()),
                        ("data_source", pa.string())])
CLAIM = pa.schema([("claim_id", pa.string()), ("claim_line_number", pa.int64()), ("person_id", pa.string()),
                   ("payer", pa.string()), ("plan", pa.string()), ("claim_type", pa.string()),
                   ("claim_start_date", pa.date32()), ("claim_line_start_date", pa.date32()),
                   ("hcpcs_code", pa.string()), ("place_of_service_code", pa.string()),
                   ("rendering_npi", pa.string()), ("rendering_tin", pa.string()), ("billing_tin", pa.string()),
                   ("allowed_amount", pa.decimal128(18, 2))])
PROVIDER = pa.schema([("npi", pa.string()), ("tin", pa.string()), ("provider_name", pa.string()),
                      ("entity_type", pa.string()), ("taxonomy_code", pa.string()), ("specialty_code", pa.string()),
                      ("practice_id", pa.string()), ("practice_name", pa.string()), ("hsa", pa.string()),
                      ("aco_id", pa.string()), ("aco_start_date", pa.date32()), ("aco_end_date", pa.date32())])
VOLUNTARY = pa.schema([("person_id", pa.string()), ("npi", pa.string()), ("tin", pa.string()),
                       ("signed_date", pa.date32())])


def person(pid: str, state: str = "VT", zip_code: str = "05401", death: str | None = None) -> dict:
    return {"person_id": pid, "birth_date": dt.date(1950, 1, 1), "sex": "female", "death_date": d(death),
            "state": state, "zip_code": zip_code}


def span(pid: str, start: str, end: str, payer_type: str = "medicare", payer: str | None = None,
         plan: str | None = None, group_id: str | None = None, source: str = "s") -> dict:
    payer = payer or payer_type
    return {"person_id": pid, "member_id": pid, "payer": payer, "payer_type": payer_type, "plan": plan or payer,
            "group_id": group_id, "enrollment_start_date": d(start), "enrollment_end_date": d(end),
            "data_source": source}


_claim_ids = iter(range(1, 10**9))


def line(pid: str, date: str, clinician: str, tin: str, allowed: str, hcpcs: str = "99213", pos: str = "11",
         payer: str = "medicare", plan: str | None = None) -> dict:
    return {"claim_id": f"c{next(_claim_ids)}", "claim_line_number": 1, "person_id": pid, "payer": payer,
            "plan": plan or payer, "claim_type": "professional", "claim_start_date": d(date),
            "claim_line_start_date": d(date), "hcpcs_code": hcpcs, "place_of_service_code": pos,
            "rendering_npi": clinician, "rendering_tin": tin, "billing_tin": tin, "allowed_amount": Decimal(allowed)}


def clinician(npi_: str, tin: str, specialty: str = "08", practice: str | None = None, aco: str | None = None,
              aco_start: str | None = "2010-01-01", aco_end: str | None = None, hsa: str = "Burlington") -> dict:
    return {"npi": npi_, "tin": tin, "provider_name": f"clinician {npi_}", "entity_type": "individual",
            "taxonomy_code": "207Q00000X", "specialty_code": specialty, "practice_id": practice or f"P-{tin}",
            "practice_name": f"Practice {tin}", "hsa": hsa, "aco_id": aco,
            "aco_start_date": d(aco_start) if aco else None, "aco_end_date": d(aco_end) if aco else None}


def designation(pid: str, npi_: str, signed: str, tin: str | None = None) -> dict:
    return {"person_id": pid, "npi": npi_, "tin": tin, "signed_date": d(signed)}


def tables(persons: list[dict], spans: list[dict], claims: list[dict], providers: list[dict],
           voluntary: list[dict] | None = None) -> dict[str, pa.Table]:
    out = {"person": _table(persons, PERSON), "enrollment": _table(spans, ENROLLMENT),
           "medical_claim": _table(claims, CLAIM), "provider": _table(providers, PROVIDER)}
    if voluntary is not None:
        out["voluntary_alignment"] = _table(voluntary, VOLUNTARY)
    return out


def memtables(arrow: dict[str, pa.Table]) -> dict[str, ir.Table]:
    return {name: ibis.memtable(t) for name, t in arrow.items()}


def program(program_id: str = "mcr", payer_type: str = "medicare", aco: str = "ACO1",
            years: tuple[int, ...] = (2016, 2017, 2018, 2019, 2020, 2021), scale_target: bool = True,
            **attribution: object) -> Program:
    return Program(program_id=program_id, name=program_id, payer_scope=payer_type, aco_id=aco, years=list(years),
                   match=ProgramMatch(payer_type=[payer_type]), scale_target=scale_target,
                   attribution=Attribution(**attribution))


def pack(*programs: Program, targets: dict[int, tuple[float, float]] | None = None, **kw: object) -> Pack:
    targets = targets or {}
    years = [PerformanceYear(year=y, scale_targets=ScaleTargets(all_payer=targets[y][0], medicare=targets[y][1])
                             if y in targets else None) for y in range(2015, 2024)]
    return Pack(name="test", version="0", description="hand-made", performance_years=years,
                programs={p.program_id: p for p in programs}, **kw)


class Duck:
    """An in-memory DuckDB holding hand-made tables, with a ``stage`` that computes intermediates once."""

    def __init__(self, arrow: dict[str, pa.Table]) -> None:
        self.con = ibis.duckdb.connect()
        self.tables = {name: self.con.create_table(name, t) for name, t in arrow.items()}

    def __getitem__(self, name: str) -> ir.Table:
        return self.tables[name]

    def get(self, name: str) -> ir.Table | None:
        return self.tables.get(name)

    def stage(self, name: str, expr: ir.Table) -> ir.Table:
        return self.con.create_table(f"_stage_{name}", expr, overwrite=True)
