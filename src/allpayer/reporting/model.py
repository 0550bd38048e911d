"""What a report is, independent of its format: facts, then sections of a table and an optional chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from allpayer.reporting.suppression import FLAG

Kind = Literal["text", "int", "money", "rate", "number"]


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: Kind = "text"


@dataclass
class Section:
    """One table (rows are dicts keyed by column name; a row with ``suppressed`` true shows its empty
    ``suppressible`` cells as suppressed) and optionally one Vega-Lite chart."""

    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    text: str = ""
    chart: dict | None = None
    chart_id: str = ""
    suppressible: tuple[str, ...] | None = None  # columns a suppressed row hides (default: every number)

    @classmethod
    def of(cls, title: str, frame: pd.DataFrame, columns: list[Column], **kwargs: Any) -> Section:
        columns = [c for c in columns if c.name in frame.columns]  # a run may predate a column
        keep = [c.name for c in columns] + ([FLAG] if FLAG in frame.columns else [])
        rows = frame[keep].astype(object).where(frame[keep].notna(), None).to_dict("records") if len(frame) else []
        return cls(title, columns, rows, **kwargs)


@dataclass
class Report:
    kind: str
    title: str
    run_id: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    public: bool = False
