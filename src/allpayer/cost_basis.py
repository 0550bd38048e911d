"""What TCOC's published spend was computed from, so that a settlement run can reuse it instead of computing
the same final-action lines and spend again (at 630k persons, most of a run's time).

``allpayer tcoc`` publishes ``cost_spend`` beside ``cost_basis``: one row with the paid-through date, the intake
load the claims and enrollment came from, and the code version. A run as of the same date, over the same load,
by the same code, reads ``cost_spend``; anything else, or a workspace whose tables were not loaded by
``allpayer ingest``, computes spend afresh. I/O at the edge: the computations stay in ``compute/``.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.warehouse import Warehouse

SPEND, BASIS, LOADS = "cost_spend", "cost_basis", "load_file"


def latest_paid_date(warehouse: Warehouse) -> dt.date:
    """The default paid-through date of TCOC and runs: the latest paid date of the medical claims."""
    latest = warehouse.table("medical_claim").paid_date.max().execute()
    return latest.date() if hasattr(latest, "date") else latest


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5, check=True)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def code_version() -> str:
    from allpayer import __version__

    return f"{__version__}+{git_commit() or 'unknown'}"


def current_load(warehouse: Warehouse) -> str | None:
    """The intake load the canonical tables come from (one per ``ingest``), or None when they were not loaded by
    intake (then nothing derived from them is reused)."""
    if not warehouse.has(LOADS):
        return None
    loads = warehouse.table(LOADS).load_id.cast("string").fill_null("").to_pyarrow().unique().to_pylist()
    return loads[0] if len(loads) == 1 and loads[0] else None


def basis(warehouse: Warehouse, as_of: dt.date) -> dict:
    return {"as_of_date": as_of, "load_id": current_load(warehouse), "code_version": code_version()}


def basis_table(record: dict) -> ir.Table:
    """One row: the basis of spend computed now, published with it."""
    return ibis.memtable(pa.table({
        "as_of_date": pa.array([record["as_of_date"]], pa.date32()),
        "load_id": pa.array([record["load_id"]], pa.string()),
        "code_version": pa.array([record["code_version"]], pa.string()),
    }))


def reusable_spend(warehouse: Warehouse, as_of: dt.date) -> tuple[ir.Table, dict] | None:
    """The published ``cost_spend`` and its basis when it was computed as of ``as_of`` from the current load by
    this code version; otherwise None."""
    if not (warehouse.has(SPEND) and warehouse.has(BASIS)):
        return None
    rows = warehouse.table(BASIS).to_pyarrow().to_pylist()
    wanted = basis(warehouse, as_of)
    if len(rows) != 1 or wanted["load_id"] is None:
        return None
    stored = rows[0]
    stored_as_of = stored["as_of_date"].date() if isinstance(stored["as_of_date"], dt.datetime) \
        else stored["as_of_date"]
    if (stored_as_of, stored["load_id"], stored["code_version"]) != \
            (as_of, wanted["load_id"], wanted["code_version"]):
        return None
    return warehouse.table(SPEND), {**stored, "as_of_date": stored_as_of.isoformat()}
