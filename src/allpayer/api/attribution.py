"""Attribution lookup for one person: from the run when it holds ``attribution``, else the workspace's stored
attribution. Person level, so every call is audited (without the person's id)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from allpayer.api import audit
from allpayer.api.tokens import Principal
from allpayer.reporting.sources import RunLike, frame

COLUMNS = ["program_id", "year", "period", "attributed", "step", "aco_id", "npi", "tin", "practice_id"]


def lookup(workspace: Path, run: RunLike, who: Principal, programs: list[str] | None, person_id: str,
           program_id: str | None, year: int | None) -> pd.DataFrame:
    rows = _person_rows(workspace, run, person_id)
    if programs is not None:
        rows = rows[rows["program_id"].isin(programs)]
    if program_id is not None:
        rows = rows[rows["program_id"] == program_id]
    if year is not None:
        rows = rows[rows["year"] == year]
    rows = rows[[c for c in COLUMNS if c in rows.columns]].sort_values(["program_id", "year", "period"])
    audit.record(workspace, who, "attribution_lookup", len(rows), run_id=run.run_id, program_id=program_id,
                 year=year)
    return rows


def _person_rows(workspace: Path, run: RunLike, person_id: str) -> pd.DataFrame:
    stored = frame(run, "attribution")
    if stored is not None:
        return stored[stored["person_id"] == person_id]
    from allpayer.context import Context

    with Context(workspace) as ctx:
        if not ctx.warehouse.has("attribution"):
            return pd.DataFrame(columns=COLUMNS)
        table = ctx.table("attribution")
        return table.filter(table.person_id == person_id).to_pandas()
