"""Thin command line over :class:`allpayer.Context`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from allpayer import __version__
from allpayer.cli_output import console, err, print_table
from allpayer.context import Context
from allpayer.intake.load import LoadReport
from allpayer.intake.staging import FileError

app = typer.Typer(help="allpayer: run an all-payer accountable care model from raw claims.", no_args_is_help=True,
                  add_completion=False)

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
    print_table(table)


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
    print_table(table)
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
    print_table(table)


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
        print_table(table)
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
        justify = "right" if isinstance(rows[0][column], int | float | Decimal) else "left"
        if column.endswith("_id"):  # identifiers are copied into other commands: never cut or wrapped
            width = max(len(str(row[column] or "")) for row in rows)
            table.add_column(column, justify=justify, no_wrap=True, min_width=width)
        else:
            table.add_column(column, justify=justify)
    for row in rows:
        table.add_row(*[_cell(name, value) for name, value in row.items()])
    print_table(table)


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


# ---------------------------------------------------------------- attribution and scale

PackOpt = Annotated[str, typer.Option("--pack", "-p", help="Model pack: built-in name (vermont, mssp) or folder.")]
YearOpt = Annotated[list[int] | None, typer.Option("--year", "-y", help="Performance year (repeatable).")]
explain_app = typer.Typer(help="Explain a result for one person.", no_args_is_help=True)
app.add_typer(explain_app, name="explain")


def _cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or column in ("year", "period", "month"):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.1%}" if column in ("pct", "target") else f"{value:,.1f}"
    return str(value)


def _sorted(expr: object, order: list[str]) -> list[dict]:
    return expr.order_by(order).to_pyarrow().to_pylist()  # type: ignore[attr-defined]


@app.command()
def attribute(
    workspace: WorkspaceOpt = Path("workspace"),
    backend: BackendOpt = "duckdb",
    pack: PackOpt = "vermont",
    year: YearOpt = None,
    program: Annotated[list[str] | None, typer.Option("--program", help="Program id (repeatable).")] = None,
    voluntary: Annotated[Path | None, typer.Option(help="Voluntary alignment file (CSV/Parquet).")] = None,
    payer_file: Annotated[Path | None, typer.Option(help="Payer attribution file (CSV/Parquet).")] = None,
) -> None:
    """Member months, primary payer and attribution; stores the tables in the workspace and prints a summary."""
    from allpayer.config import PackError

    with Context(workspace, backend) as ctx:
        try:
            ctx.load_attribution_files(voluntary, payer_file)
            with _steps("attribute"):
                out = ctx.attribute(pack, year or None, program or None)
        except (PackError, KeyError, ValueError) as exc:
            _fail(str(exc).strip("'\""))
        a = out["attribution"]
        summary = a.group_by(["program_id", "year"]).aggregate(
            eligible=a.person_id.nunique(), attributed=a.person_id.nunique(where=a.attributed))
        _print_frame("Attribution by program and year", _sorted(summary, ["program_id", "year"]))
        steps = a.filter(a.attributed).group_by(["program_id", "year", "step"]).aggregate(persons=a.person_id.nunique())
        _print_frame("Attributed persons by step", _sorted(steps, ["program_id", "year", "step"]))
        mm = out["member_month"]
        by = mm.group_by(["payer_type", "year"]).aggregate(member_months=mm.member_month.sum().round(1))
        _print_frame("Member months by payer type and year", _sorted(by, ["payer_type", "year"]))


@app.command()
def scale(
    workspace: WorkspaceOpt = Path("workspace"),
    backend: BackendOpt = "duckdb",
    pack: PackOpt = "vermont",
    year: YearOpt = None,
) -> None:
    """Scale targets (all-payer and Medicare) from the stored attribution, with breakdowns."""
    from allpayer.config import PackError

    with Context(workspace, backend) as ctx:
        try:
            out = ctx.scale(pack, year or None)
        except (PackError, KeyError, ValueError) as exc:
            _fail(str(exc).strip("'\""))
        _print_frame("Scale targets", _sorted(out["scale_target"], ["year", "scope"]))
        b = out["scale_breakdown"]
        for dim in ("payer_type", "program", "hsa"):
            _print_frame(f"Scale by {dim}", _sorted(b.filter(b.dimension == dim).drop("dimension"),
                                                ["year", "scope", "value"]))
        _print_frame("ACO network", _sorted(out["provider_participation"], ["year", "aco_id"]))


@explain_app.command("attribution")
def explain_attribution(
    person_id: Annotated[str, typer.Argument(help="Person identifier.")],
    program: Annotated[str, typer.Option("--program", help="Program id.")],
    year: Annotated[int, typer.Option("--year", help="Performance year.")],
    workspace: WorkspaceOpt = Path("workspace"),
    backend: BackendOpt = "duckdb",
) -> None:
    """Why a person is (or is not) attributed: the step, the winner and every candidate's allowed dollars."""
    with Context(workspace, backend) as ctx:
        try:
            found = ctx.explain_attribution(person_id, program, year)
        except ValueError as exc:
            _fail(str(exc))
        if not found["decision"]:
            _fail(f"person {person_id} is not eligible for {program} in {year} (no attribution row)")
        for d in found["decision"]:
            verdict = "attributed" if d["attributed"] else "not attributed"
            console.print(f"[bold]{person_id}[/bold] {program} {year} period {d['period']} (as of {d['asof_date']}): "
                          f"[bold]{verdict}[/bold] by step {d['step']}; winner {d['entity_id'] or '-'} "
                          f"(ACO {d['aco_id'] or '-'}), clinician {d['npi'] or '-'}, TIN {d['tin'] or '-'}, "
                          f"practice {d['practice_name'] or d['practice_id'] or '-'}, "
                          f"allowed {d['allowed'] if d['allowed'] is not None else '-'}", highlight=False)
        keep = ("period", "step_name", "entity_rank", "entity_id", "aco_id", "entity_allowed", "clinician_rank", "tin",
                "npi", "specialty_code", "category", "allowed", "services", "last_service_date")
        _print_frame("Candidates", [{k: c[k] for k in keep} for c in found["candidates"]])



# ---------------------------------------------------------------- total cost of care and growth (docs/cost.md)


def _cost_cell(value: object, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if column in ("yoy_growth", "cagr", "national_cagr") or column.startswith("remaining"):
            return f"{value:.2%}"
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool) and column != "year":
        return f"{value:,}"
    return str(value)


def _print_cost(title: str, rows: list[dict]) -> None:
    if not rows:
        console.print(f"{title}: none")
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column, justify="left" if isinstance(rows[0][column], str) else "right")
    for row in rows:
        table.add_row(*[_cost_cell(v, k) for k, v in row.items()])
    print_table(table)


@app.command()
def tcoc(
    workspace: WorkspaceOpt = Path("workspace"),
    backend: BackendOpt = "duckdb",
    pack: Annotated[str, typer.Option("--pack", "-p", help="Model pack: built-in name or folder.")] = "vermont",
    as_of: Annotated[str | None, typer.Option(help="Paid-through date YYYY-MM-DD (default: latest paid date).")]
    = None,
    dimension: Annotated[str, typer.Option(help="total, aco, program, hsa or practice.")] = "total",
    risk: Annotated[bool, typer.Option(help="Compute risk scores (CMS-HCC for Medicare, age/sex otherwise).")]
    = True,
) -> None:
    """Total cost of care per member month and per beneficiary per year, completed, by payer type."""
    import datetime as dt

    with Context(workspace, backend) as ctx:
        try:
            with _steps("tcoc"):
                out = ctx.tcoc(pack, dt.date.fromisoformat(as_of) if as_of else None, with_risk=risk)
        except (KeyError, ValueError) as exc:
            _fail(str(exc).strip("'\""))
        t = out["tcoc"]
        t = t.filter(t.dimension == dimension)
        cols = ["year", "payer_type", "group", "member_months", "tcoc_pmpm", "tcoc_pbpy", "mean_risk",
                "risk_adjusted_pmpm"]
        _print_cost(f"Total cost of care by {dimension} (as of {str(t.as_of_date.max().execute())[:10]})",
                    t.select(*cols).order_by(["year", "payer_type", "group"]).to_pyarrow().to_pylist())
        c = out["cost_completion"]
        summary = c.group_by("year").aggregate(
            paid_to_date=c.paid_to_date.sum(), ibnr=c.ibnr.sum(), ultimate=c.ultimate.sum(),
            provisional_months=c.incurred_month.nunique(where=c.status == "provisional"))
        _print_cost("Claims completion by incurred year", summary.order_by("year").to_pyarrow().to_pylist())
        u = out["tcoc_unenrolled"]
        _print_cost("Spend outside enrollment", u.drop("as_of_date").order_by(["year", "payer_type"]).to_pyarrow()
                    .to_pylist())


@app.command()
def growth(
    workspace: WorkspaceOpt = Path("workspace"),
    backend: BackendOpt = "duckdb",
    pack: Annotated[str, typer.Option("--pack", "-p", help="Model pack: built-in name or folder.")] = "vermont",
) -> None:
    """Year-over-year and compound growth of TCOC per beneficiary against the target and cap (run tcoc first)."""
    with Context(workspace, backend) as ctx:
        try:
            g = ctx.growth(pack)
        except (KeyError, ValueError) as exc:
            _fail(str(exc).strip("'\""))
        cols = ["series", "year", "pbpy", "yoy_growth", "cagr", "status", "remaining_growth_within_target",
                "national_cagr", "gap_pp", "medicare_status"]
        _print_cost("TCOC growth per beneficiary", g.select(*cols).order_by(["series", "year"]).to_pyarrow()
                    .to_pylist())


# Settlement runs live in their own module (allpayer.cli_runs); registered here so `allpayer run` and
# `allpayer runs list|diff` appear in the main help.
from allpayer.cli_runs import run_command, runs_app  # noqa: E402

app.command("run")(run_command)
app.add_typer(runs_app, name="runs")

# Reports, the API server and tokens (allpayer.cli_reports).
from allpayer.cli_reports import report_command, serve_command, token_app  # noqa: E402

app.command("report")(report_command)
app.command("serve")(serve_command)
app.add_typer(token_app, name="token")

# Quality (docs/measures.md) lives in allpayer.cli_quality.
from allpayer.cli_quality import quality_command  # noqa: E402

app.command("quality")(quality_command)

if __name__ == "__main__":
    app()
