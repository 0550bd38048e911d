"""Small builders for the cost golden tests: canonical rows with only the fields a case needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import ibis
import pyarrow as pa

from allpayer import Context
from allpayer.intake.contract import ENROLLMENT, MEDICAL_CLAIM, PERSON, PHARMACY_CLAIM, Table

D = dt.date.fromisoformat


def _arrow_type(t: object) -> pa.DataType:
    name = str(t)
    if name.startswith("decimal"):
        return pa.decimal128(18, 2) if "(18, 2)" in name else pa.decimal128(18, 4)
    return {"string": pa.string(), "date": pa.date32(), "int64": pa.int64(), "boolean": pa.bool_()}[name]


def table(spec: Table, rows: list[dict]) -> ibis.Table:
    """A memtable with every contract column of ``spec`` (missing values null)."""
    cols = {}
    for col in spec.columns:
        typ = _arrow_type(col.ibis_type)
        values = [r.get(col.name) for r in rows]
        if pa.types.is_decimal(typ):
            # Spark's memtable path cannot take null decimals: absent amounts are zero in these cases.
            values = [Decimal(0) if v is None else Decimal(str(v)) for v in values]
        if pa.types.is_date32(typ):
            values = [D(v) if isinstance(v, str) else v for v in values]
        cols[col.name] = pa.array(values, typ)
    return ibis.memtable(pa.table(cols))


def med(claim_id: str, person: str, start: str, allowed: str, paid: str | None = None, *, line: int = 1,
        payer: str = "mcare", paid_date: str | None = None, claim_type: str = "professional", status: str = "original",
        original: str | None = None, file_date: str | None = None, **kw: object) -> dict:
    return {"claim_id": claim_id, "claim_line_number": line, "data_source": "src", "claim_type": claim_type,
            "claim_status": status, "original_claim_id": original, "person_id": person, "payer": payer,
            "claim_start_date": start, "paid_date": paid_date or start, "allowed_amount": allowed,
            "paid_amount": paid if paid is not None else allowed, "file_date": file_date, **kw}


def rx(claim_id: str, person: str, date: str, allowed: str, payer: str = "mcare", **kw: object) -> dict:
    return {"claim_id": claim_id, "claim_line_number": 1, "data_source": "src", "claim_status": "original",
            "person_id": person, "payer": payer, "dispensing_date": date, "ndc_code": "00002143380",
            "paid_date": date, "allowed_amount": allowed, "paid_amount": allowed, **kw}


def span(person: str, start: str, end: str, payer_type: str = "medicare", payer: str = "mcare", **kw: object) -> dict:
    return {"person_id": person, "member_id": person, "payer": payer, "payer_type": payer_type, "plan": "p",
            "enrollment_start_date": start, "enrollment_end_date": end, "data_source": "src", **kw}


def person(pid: str, birth: str = "1950-06-01", sex: str = "female", zip_code: str | None = None) -> dict:
    return {"person_id": pid, "birth_date": birth, "sex": sex, "state": "VT", "zip_code": zip_code}


def medical(rows: list[dict]) -> ibis.Table:
    return table(MEDICAL_CLAIM, rows)


def pharmacy(rows: list[dict]) -> ibis.Table:
    return table(PHARMACY_CLAIM, rows)


def enrollment(rows: list[dict]) -> ibis.Table:
    return table(ENROLLMENT, rows)


def persons(rows: list[dict]) -> ibis.Table:
    return table(PERSON, rows)


def member_months(rows: list[tuple]) -> ibis.Table:
    """(person_id, payer_type, year, month, weight) -> the member-months table the TCOC functions take."""
    return ibis.memtable(pa.table({
        "person_id": [r[0] for r in rows], "payer_type": [r[1] for r in rows],
        "month_index": pa.array([r[2] * 12 + r[3] - 1 for r in rows], pa.int64()),
        "year": pa.array([r[2] for r in rows], pa.int64()), "weight": pa.array([float(r[4]) for r in rows])}))


def months_of(pid: str, payer_type: str, year: int, months: range | list[int], weight: float = 1.0) -> list[tuple]:
    return [(pid, payer_type, year, m, weight) for m in months]


def runner(backend: str, make_context: Callable[..., Context]) -> Callable[[ibis.Table], list[dict]]:
    """Execute an expression built on memtables on the given backend; rows as dicts."""
    ctx = make_context(backend)
    con = ctx.warehouse.con

    def run(expr: ibis.Table) -> list[dict]:
        return con.to_pyarrow(expr).to_pylist()

    return run
