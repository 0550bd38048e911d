"""``allpayer quality``: measure results by program, practice and year with trend and target status, and the
quality scores. Prints only aggregates (small cells suppressed); the care-gap and high-risk lists with person
identifiers stay in the workspace (role-restricted)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from allpayer.cli_output import console, err, print_table
from allpayer.context import Context

MEASURE_COLUMNS = ["measure_id", "program_id", "year", "denominator", "numerator", "exclusions", "rate", "target",
                   "status", "trend"]


def _fmt(column: str, value: object, unit: str | None) -> str:
    if value is None:
        return "·" if column in ("denominator", "numerator", "exclusions", "rate") else ""
    if column in ("rate", "target", "baseline_value"):
        return f"{value:.1%}" if unit == "share" else f"{value:,.1f}"
    if isinstance(value, Decimal):
        return f"{value:.4f}" if column in ("score", "gate") else f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"
    return str(value)


def _print(title: str, rows: list[dict], columns: list[str]) -> None:
    if not rows:
        console.print(f"{title}: none")
        return
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="left" if c in ("measure_id", "program_id", "practice_id", "status", "trend",
                                                    "method") else "right")
    for row in rows:
        table.add_row(*[_fmt(c, row.get(c), row.get("unit")) for c in columns])
    print_table(table)


def quality_command(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder.")] = Path("workspace"),
    backend: Annotated[str, typer.Option("--backend", "-b", help="duckdb or pyspark.")] = "duckdb",
    pack: Annotated[str, typer.Option("--pack", "-p", help="Model pack: built-in name or folder.")] = "vermont",
    year: Annotated[list[int] | None, typer.Option("--year", "-y", help="Performance year (repeatable).")] = None,
    program: Annotated[list[str] | None, typer.Option("--program", help="Program id (repeatable).")] = None,
    practice: Annotated[list[str] | None, typer.Option("--practice", help="Practice id (repeatable): print its "
                                                                          "measure results.")] = None,
    external: Annotated[Path | None, typer.Option(help="External measures CSV (survey, vital statistics).")] = None,
) -> None:
    """Quality measures (claims and external), scores and care lists; stores quality_measure, quality_points,
    quality_score, care_gap and high_risk in the workspace and prints results by program, practice and year
    (run `allpayer attribute` first; `allpayer tcoc` adds risk scores to the high-risk list)."""
    from allpayer.config import PackError
    from allpayer.intake.external_measures import ExternalMeasureError

    with Context(workspace, backend) as ctx:
        try:
            out = ctx.quality(pack, year or None, program or None, external)
        except (PackError, ExternalMeasureError, KeyError, ValueError) as exc:
            err.print(f"[red]error:[/red] {str(exc).strip(chr(39) + chr(34))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        q = out["quality_measure"]
        cols = [*MEASURE_COLUMNS, "unit"]
        program_rows = q.filter(q.level == "program").select(*cols)
        _print("Quality measures by program and year", program_rows.order_by(["program_id", "measure_id", "year"])
               .to_pyarrow().to_pylist(), MEASURE_COLUMNS)
        state = q.filter(q.level == "state").select(*cols)
        _print("Population measures (external)", state.order_by(["measure_id", "year"]).to_pyarrow().to_pylist(),
               MEASURE_COLUMNS)
        p = q.filter(q.level == "practice")
        if practice:
            rows = p.filter(p.practice_id.isin(practice)).select("practice_id", *cols)
            _print("Quality measures by practice", rows.order_by(["practice_id", "program_id", "measure_id", "year"])
                   .to_pyarrow().to_pylist(), ["practice_id", *MEASURE_COLUMNS])
        else:
            s = p.group_by(["program_id", "year"]).aggregate(
                practices=p.practice_id.nunique(), results=p.measure_id.count(),
                met=(p.status == "met").sum(), not_met=(p.status == "not met").sum(),
                suppressed=p.suppressed.sum())
            _print("Practice results (use --practice ID to list one)",
                   s.order_by(["program_id", "year"]).to_pyarrow().to_pylist(),
                   ["program_id", "year", "practices", "results", "met", "not_met", "suppressed"])
        score = out["quality_score"]
        _print("Quality score by program and year", score.order_by(["program_id", "year"]).to_pyarrow().to_pylist(),
               ["program_id", "year", "method", "measures_scored", "points_earned", "points_possible", "score",
                "gate", "gate_met", "reporting_only"])
        console.print("care_gap and high_risk (person-level, role-restricted) are stored in the workspace.")
