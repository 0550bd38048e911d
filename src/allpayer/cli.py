"""Thin command line over :class:`allpayer.Context`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from allpayer import __version__
from allpayer.context import Context
from allpayer.intake.load import LoadReport
from allpayer.intake.staging import FileError

app = typer.Typer(help="allpayer: run an all-payer accountable care model from raw claims.", no_args_is_help=True,
                  add_completion=False)
console = Console()
err = Console(stderr=True)

WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder (holds the warehouse).")]
BackendOpt = Annotated[str, typer.Option("--backend", "-b", help="duckdb (default), duckdb://PATH or pyspark[://MASTER].")]


@contextmanager
def _steps(label: str) -> Iterator[callable]:
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task(label)
        yield lambda message: progress.update(task, description=f"{label}: {message}")


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the Tuva-format files.")] = Path("synthetic"),
    persons: Annotated[int, typer.Option(help="Number of persons (residents).")] = 20_000,
    years: Annotated[str, typer.Option(help="First-last year, e.g. 2017-2022.")] = "2017-2022",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    dirty: Annotated[bool, typer.Option(help="Add a known number of bad rows for every rule.")] = False,
    file_format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
) -> None:
    """Generate a synthetic Vermont population as Tuva input-layer files."""
    from allpayer.synth import SynthConfig, generate

    first, _, last = years.partition("-")
    config = SynthConfig(persons=persons, first_year=int(first), last_year=int(last or first), seed=seed,
                         dirty=dirty, file_format=file_format)
    with _steps("synth") as step:
        summary = generate(config, out, progress=step)
    _print_synth(summary, out)


def _print_synth(summary: object, out: Path) -> None:
    data = summary.to_dict()  # type: ignore[attr-defined]
    table = Table(title=f"Synthetic population in {out}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("persons", "claim_lines", "pharmacy_lines", "providers", "seconds"):
        if key in data:
            table.add_row(key, f"{data[key]:,}" if isinstance(data[key], int) else str(data[key]))
    for payer, count in sorted(data.get("persons_by_payer_type", {}).items()):
        table.add_row(f"persons: {payer}", f"{count:,}")
    for rule, count in sorted(data.get("dirty_rows_by_rule", {}).items()):
        table.add_row(f"dirty rows: {rule}", f"{count:,}")
    console.print(table)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
    workspace: WorkspaceOpt = Path("workspace"),
    backend: BackendOpt = "duckdb",
    adapter: Annotated[str, typer.Option(help="Input format: tuva or canonical.")] = "tuva",
) -> None:
    """Validate and load source files into the workspace (replaces the canonical tables)."""
    with Context(workspace, backend) as ctx:
        try:
            with _steps("ingest") as step:
                report = ctx.ingest(paths, adapter=adapter, progress=step)
        except FileError as exc:
            _fail(str(exc))
        except ValueError as exc:
            _fail(str(exc))
        _print_load(report)


def _print_load(report: LoadReport) -> None:
    table = Table(title=f"Load {report.load_id}")
    for name in ("file", "input", "read", "accepted", "rejected", "warned"):
        table.add_column(name, justify="left" if name in ("file", "input") else "right")
    for f in report.files:
        table.add_row(f.source_file, f.input, f"{f.read:,}", f"{f.accepted:,}", f"{f.rejected:,}", f"{f.warned:,}")
    table.add_row("[bold]total", "", f"{report.read:,}", f"{report.accepted:,}", f"{report.rejected:,}", "")
    console.print(table)
    _print_counts("Rejected rows by rule", report.rejected_by_rule())
    _print_counts("Warnings by rule", report.warned_by_rule())


def _print_counts(title: str, counts: dict[str, int]) -> None:
    if not counts:
        return
    table = Table(title=title)
    table.add_column("rule")
    table.add_column("rows", justify="right")
    for rule, n in counts.items():
        table.add_row(rule, f"{n:,}")
    console.print(table)


@app.command()
def status(workspace: WorkspaceOpt = Path("workspace"), backend: BackendOpt = "duckdb") -> None:
    """Show the workspace: tables, row counts and the last load."""
    with Context(workspace, backend) as ctx:
        state = ctx.status()
        table = Table(title=f"Workspace {state.workspace.resolve()} ({state.backend})")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in sorted(state.tables.items()):
            table.add_row(name, f"{rows:,}")
        console.print(table)
        if state.last_load is not None:
            _print_load(state.last_load)


@app.command()
def demo(
    workspace: WorkspaceOpt = Path("workspace"),
    persons: Annotated[int, typer.Option(help="Synthetic persons.")] = 20_000,
    years: Annotated[str, typer.Option(help="First-last year.")] = "2017-2022",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Generate a synthetic Vermont population, load it through intake and summarise it."""
    from allpayer.summary import population_summary

    out = workspace / "input"
    synth(out=out, persons=persons, years=years, seed=seed, dirty=True, file_format="csv")
    ingest(paths=[out], workspace=workspace, backend="duckdb", adapter="tuva")
    with Context(workspace) as ctx:
        for title, frame in population_summary(ctx).items():
            _print_frame(title, frame)
    _print_calibration(out, years, persons)
    console.print(f"Workspace: [bold]{workspace.resolve()}[/bold]")


def _print_calibration(out: Path, years: str, persons: int) -> None:
    from allpayer.synth.measure import calibration_rows, measure

    first, _, last = years.partition("-")
    year = (int(first) + int(last or first)) // 2
    rows = calibration_rows(measure(out, year, persons))
    _print_frame(f"Calibration in {year}: generated vs docs/synthetic-calibration.md", rows)


def _print_frame(title: str, rows: list[dict]) -> None:
    if not rows:
        console.print(f"{title}: none")
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column, justify="right" if isinstance(rows[0][column], int | float | Decimal) else "left")
    for row in rows:
        table.add_row(*[_cell(name, value) for name, value in row.items()])
    console.print(table)


def _cell(name: str, value: object) -> str:
    if isinstance(value, bool) or name in ("year", "month", "performance_year"):
        return str(value)
    if isinstance(value, int | Decimal):
        return f"{value:,}"
    return str(value)


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="Folder for canonical Parquet files.")],
    workspace: WorkspaceOpt = Path("workspace"),
    backend: BackendOpt = "duckdb",
) -> None:
    """Write the canonical tables as Parquet (readable again with --adapter canonical)."""
    from allpayer.intake.contract import TABLES

    out.mkdir(parents=True, exist_ok=True)
    with Context(workspace, backend) as ctx:
        for name in TABLES:
            table = ctx.table(name)
            rows = int(table.count().execute())
            if rows == 0:
                console.print(f"skipped {name} (no rows)")
                continue
            table.drop("source_file", "source_row").to_parquet(out / f"{name}.parquet")
            console.print(f"wrote {out / f'{name}.parquet'} ({rows:,} rows)")


@app.command()
def contract() -> None:
    """Print the canonical data contract (Markdown)."""
    from allpayer.intake.contract import render_markdown

    sys.stdout.write(render_markdown())


@app.command()
def rules() -> None:
    """Print the validation rules (Markdown)."""
    from allpayer.intake.rules import render_markdown

    sys.stdout.write(render_markdown())


if __name__ == "__main__":
    app()
