"""Command line for settlement runs: ``allpayer run``, ``allpayer runs list``, ``allpayer runs diff`` (registered
on the main app in :mod:`allpayer.cli`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from allpayer.context import Context
from allpayer.run_diff import manifest_changes, settlement_changes
from allpayer.runs import list_runs, open_run

runs_app = typer.Typer(help="List and compare immutable runs.", no_args_is_help=True)
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder (holds the warehouse).")]
SETTLEMENT_COLUMNS = ("program_id", "persons", "member_months", "expected_cost", "actual_cost", "gross_savings",
                      "gross_savings_pct", "shared", "settlement", "payer_share", "payer_share_label",
                      "quality_measured", "status", "illustrative")


def run_command(
    workspace: WorkspaceOpt = Path("workspace"),
    backend: Annotated[str, typer.Option("--backend", "-b", help="duckdb (default) or pyspark.")] = "duckdb",
    pack: Annotated[str, typer.Option("--pack", "-p", help="Model pack: built-in name or folder.")] = "vermont",
    year: Annotated[int, typer.Option(help="Performance year.")] = 2019,
    as_of: Annotated[str | None, typer.Option(help="Paid-through date YYYY-MM-DD (default: latest paid date); "
                                                   "runs before full run-out are provisional.")] = None,
    program: Annotated[list[str] | None, typer.Option(help="Only these programs (repeatable).")] = None,
) -> None:
    """Expected cost, value payments, settlement and distribution for a year, written as an immutable run."""
    from allpayer.cli import _fail, _print_frame, _steps
    from allpayer.cli_output import console

    with Context(workspace, backend) as ctx:
        try:
            with _steps("run"):
                run = ctx.run(pack, year, dt.date.fromisoformat(as_of) if as_of else None, program or None)
        except (KeyError, ValueError) as exc:
            _fail(str(exc).strip("'\""))
    rows = [{k: r[k] for k in SETTLEMENT_COLUMNS} for r in run.table("settlement").to_pylist()]
    _print_frame(f"Settlement {year} ({run.manifest['status']}, as of {run.manifest['as_of']}); positive = payer "
                 "pays the ACO", rows)
    flagged = sorted({r["program_id"] for r in rows if r["illustrative"]})
    if flagged:
        console.print(f"[yellow]illustrative terms[/yellow] (not known publicly) used for: {', '.join(flagged)}")
    console.print(f"Run [bold]{run.run_id}[/bold] in {run.path}")


@runs_app.command("list")
def list_command(workspace: WorkspaceOpt = Path("workspace")) -> None:
    """Runs in the workspace, oldest first."""
    from allpayer.cli import _print_frame

    _print_frame("Runs", [{"run_id": i.run_id, "pack": i.pack, "year": i.year, "as_of": i.as_of or "",
                           "status": i.status, "created_at": i.created_at} for i in list_runs(workspace)])


@runs_app.command("diff")
def diff_command(run_a: Annotated[str, typer.Argument(help="Run id (or unique prefix).")],
                 run_b: Annotated[str, typer.Argument(help="Run id (or unique prefix).")],
                 workspace: WorkspaceOpt = Path("workspace")) -> None:
    """Explain the difference between two runs, settlement line by settlement line."""
    from allpayer.cli import _fail, _print_frame
    from allpayer.cli_output import console

    try:
        a, b = open_run(workspace, run_a), open_run(workspace, run_b)
    except KeyError as exc:
        _fail(str(exc).strip("'\""))
    _print_frame(f"What differs between {a.run_id} (A) and {b.run_id} (B)", manifest_changes(a, b))
    for line in settlement_changes(a, b):
        console.print(f"[bold]{line['program_id']} {line['year']}[/bold]: {line['settlement_a']} → "
                      f"{line['settlement_b']}: {line['explanation']}", highlight=False, soft_wrap=True)
