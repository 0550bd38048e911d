"""The API's tables for one principal: rows of a run filtered to its programs and suppressed where its role
sees aggregates only. Pure over the run's tables (pandas frames); no I/O besides reading the run."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pandas as pd

from allpayer.reporting.sources import RunLike, frame, in_programs
from allpayer.reporting.suppression import suppress

Rows = list[dict[str, Any]]
TCOC_MARGINS = [["year", "dimension", "group"], ["year", "dimension", "payer_type"]]
KEYS = ("year", "payer_type", "dimension", "group", "persons", "as_of_date")
AS_TEXT = (Decimal, dt.date)  # exact money; dates without a time


def records(rows: pd.DataFrame | None) -> Rows:
    """JSON-ready rows: money stays exact as a string, dates are ISO strings, NaN becomes null."""
    if rows is None or not len(rows):
        return []
    exact = {c: rows[c].map(lambda v: str(v) if isinstance(v, AS_TEXT) else v) for c in rows.columns
             if rows[c].map(lambda v: isinstance(v, AS_TEXT)).any()}
    return json.loads(rows.assign(**exact).to_json(orient="records", date_format="iso", double_precision=15))


def metrics(run: RunLike, programs: list[str] | None, suppressed: bool, dimension: str | None,
            year: int | None) -> pd.DataFrame:
    """TCOC rows. Regulator (``programs=None``) and public (``[]``, suppressed): every row; otherwise the rows of
    its programs, plus the statewide totals for a role that is not suppressed (ACO, payer)."""
    tcoc = frame(run, "tcoc")
    if tcoc is None:
        return pd.DataFrame()
    if programs:
        own = tcoc[(tcoc["dimension"] == "program") & tcoc["group"].isin(programs)]
        tcoc = own if suppressed else pd.concat([tcoc[tcoc["dimension"] == "total"], own])
    elif programs is not None and not suppressed:
        tcoc = tcoc[tcoc["dimension"] == "total"]
    if dimension:
        tcoc = tcoc[tcoc["dimension"] == dimension]
    if year is not None:
        tcoc = tcoc[tcoc["year"] == year]
    tcoc = tcoc.sort_values(["year", "dimension", "group", "payer_type"])
    if suppressed:  # payer types add up to all-payer within a group; groups add up to the total within a type
        values = [c for c in tcoc.columns if c not in KEYS]
        tcoc = suppress(tcoc, ["persons"], values, TCOC_MARGINS)
    return tcoc


def scale(run: RunLike, programs: list[str] | None, suppressed: bool) -> dict[str, pd.DataFrame]:
    target, breakdown = frame(run, "scale_target"), frame(run, "scale_breakdown")
    out = {"scale_target": target if target is not None else pd.DataFrame()}
    if breakdown is None:
        return out
    if programs is not None and not suppressed:
        keep = (breakdown["dimension"] != "program") | breakdown["value"].isin(programs)
        breakdown = breakdown[keep]
    if suppressed:
        breakdown = breakdown.assign(not_attributed=breakdown["denominator"] - breakdown["numerator"])
        breakdown = suppress(breakdown.sort_values(["year", "scope", "dimension", "value"]),
                             ["numerator", "denominator", "not_attributed"], ["pct"], [["year", "scope", "dimension"]])
    out["scale_breakdown"] = breakdown
    return out


def quality(run: RunLike, programs: list[str] | None, suppressed: bool, public: bool) -> dict[str, pd.DataFrame]:
    out = {}
    scores = frame(run, "quality_score")
    if scores is not None:
        out["quality_score"] = scores if public else in_programs(scores, "program_id", programs)
    measures = frame(run, "quality_measure")
    if measures is not None and not public:
        measures = in_programs(measures, "program_id", programs)
        if suppressed:
            measures = suppress(measures, ["denominator"], [c for c in ("numerator", "rate") if c in measures])
        out["quality_measure"] = measures
    return out


SETTLEMENT_TABLES = ("settlement", "settlement_waterfall", "distribution", "value_payment", "expected_cost")
EMPLOYER_SETTLEMENT_COLUMNS = ["program_id", "year", "gross_savings", "shared", "payer_share"]


def settlements(run: RunLike, programs: list[str] | None, aggregates_only: bool) -> dict[str, pd.DataFrame]:
    """Settlement tables of the principal's programs; an employer sees only its group's outcome shares."""
    out = {}
    for name in SETTLEMENT_TABLES:
        rows = frame(run, name)
        if rows is None or "program_id" not in rows.columns:
            continue
        out[name] = in_programs(rows, "program_id", programs)
    if aggregates_only:
        settlement = out.get("settlement", pd.DataFrame(columns=EMPLOYER_SETTLEMENT_COLUMNS))
        return {"settlement": settlement[[c for c in EMPLOYER_SETTLEMENT_COLUMNS if c in settlement.columns]]}
    return out
