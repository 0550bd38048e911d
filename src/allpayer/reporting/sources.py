"""Reading a run for reports: tables as pandas frames, the model pack it was made with, its program scope."""

from __future__ import annotations

from typing import Protocol

import pandas as pd
import pyarrow as pa

from allpayer.config import Pack, load_pack

# Columns that give the order of a waterfall's steps (run tables are stored sorted on every column).
ORDER_COLUMNS = ("position", "seq", "step_index", "step_no", "order")


class RunLike(Protocol):
    """What reports need of a run (``allpayer.runs.Run``)."""

    run_id: str
    manifest: dict

    def tables(self) -> list[str]: ...

    def table(self, name: str) -> pa.Table: ...


def frame(run: RunLike, name: str) -> pd.DataFrame | None:
    """The run's table ``name`` as a frame (decimals stay :class:`~decimal.Decimal`), or None when absent."""
    return run.table(name).to_pandas() if name in run.tables() else None


def pack_name(run: RunLike) -> str:
    pack = run.manifest.get("pack", "")
    return str(pack.get("name", "") if isinstance(pack, dict) else pack)


def run_pack(run: RunLike) -> Pack | None:
    """The model pack the run names (built-in or folder), or None when it cannot be loaded here."""
    try:
        return load_pack(pack_name(run) or "vermont")
    except (FileNotFoundError, KeyError, ValueError):
        return None


def in_programs(frame: pd.DataFrame, column: str, programs: list[str] | None) -> pd.DataFrame:
    """Rows of the given programs (all rows when ``programs`` is None)."""
    return frame if programs is None else frame[frame[column].isin(programs)]


def step_order(steps: pd.DataFrame) -> pd.DataFrame:
    """Waterfall steps in their recorded order, with a ``position`` column."""
    order = next((c for c in ORDER_COLUMNS if c in steps.columns), None)
    steps = steps.sort_values(order) if order else steps
    return steps.assign(position=range(1, len(steps) + 1))
