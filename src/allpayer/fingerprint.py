"""Fingerprints of the tables a settlement run reads, recorded in its manifest (docs/settlement.md).

A fingerprint is the row count and a digest of per-column hash sums: order-independent and computed in the
warehouse. The canonical tables change only when intake loads, so intake fingerprints them once, after it
publishes, into ``load_fingerprint`` (keyed by the load); a run takes those for the current load and hashes
only the tables derived since (attribution, primary payer, risk and quality scores).
"""

from __future__ import annotations

import hashlib
import json

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.native import hash_residue
from allpayer.warehouse import Warehouse

LOAD_FINGERPRINTS = "load_fingerprint"
# Input tables and the columns a run reads from them (None = every column). Claims are hashed on their keys,
# dates, payer and amounts only: hashing all ~90 claim columns would dominate a full-size run.
INPUTS: dict[str, tuple[str, ...] | None] = {
    "medical_claim": ("data_source", "claim_id", "claim_line_number", "claim_status", "person_id", "payer",
                      "claim_start_date", "paid_date", "file_date", "allowed_amount", "paid_amount", "billing_tin"),
    "pharmacy_claim": ("data_source", "claim_id", "claim_line_number", "person_id", "payer", "dispensing_date",
                       "paid_date", "file_date", "allowed_amount", "paid_amount"),
    "enrollment": None, "person": None, "provider": None,
    "attribution_month": ("program_id", "year", "person_id", "month_index", "practice_id", "tin"),
    # The month runs primary_payer_month is expanded from (a twentieth of its rows), every column.
    "primary_payer_run": None,
    "risk_score": None, "quality_score": None,
}
LOADED = ("medical_claim", "pharmacy_claim", "enrollment", "person", "provider")  # replaced only by intake
MODULUS = 2147483647


def table_fingerprint(table: ir.Table, columns: tuple[str, ...] | None = None) -> dict:
    """Rows and a digest of per-column hash sums over ``columns`` (default all)."""
    table = table.select(*[c for c in columns if c in table.columns]) if columns else table
    sums = table.aggregate(_rows=table.count(),
                           **{f"h{i}": hash_residue(table[c], MODULUS).sum()
                              for i, c in enumerate(table.columns)}).to_pyarrow().to_pylist()[0]
    digest = hashlib.sha256(json.dumps([table.columns, [str(t) for t in table.schema().types], sums],
                                       default=str).encode()).hexdigest()
    return {"rows": int(sums["_rows"]), "digest": digest}


def load_fingerprints(warehouse: Warehouse, load_id: str) -> ir.Table:
    """``load_fingerprint`` rows for the published canonical tables of load ``load_id``."""
    found = {name: table_fingerprint(warehouse.table(name), INPUTS[name]) for name in LOADED if warehouse.has(name)}
    return ibis.memtable(pa.table({
        "load_id": pa.array([load_id] * len(found), pa.string()),
        "table_name": pa.array(list(found), pa.string()),
        "rows": pa.array([f["rows"] for f in found.values()], pa.int64()),
        "digest": pa.array([f["digest"] for f in found.values()], pa.string()),
    }))


def input_fingerprints(warehouse: Warehouse, load_id: str | None) -> dict[str, dict]:
    """The fingerprint of every input table present: intake's for the canonical tables of ``load_id``, the
    others computed now."""
    stored: dict[str, dict] = {}
    if load_id and warehouse.has(LOAD_FINGERPRINTS):
        t = warehouse.table(LOAD_FINGERPRINTS)
        rows = t.filter(t.load_id == load_id).to_pyarrow().to_pylist()
        stored = {r["table_name"]: {"rows": int(r["rows"]), "digest": r["digest"]} for r in rows}
    return {name: stored.get(name) or table_fingerprint(warehouse.table(name), columns)
            for name, columns in INPUTS.items() if warehouse.has(name)}
