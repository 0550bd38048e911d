"""Command line for reports, the API server and tokens: ``allpayer report``, ``allpayer serve``,
``allpayer token create`` (registered on the main app in :mod:`allpayer.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allpayer.context import Context
from allpayer.reporting.kinds import DESCRIPTIONS, FORMATS, KINDS

token_app = typer.Typer(help="Bearer tokens for the API and dashboard.", no_args_is_help=True)
WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder (holds the runs).")]
KIND_HELP = "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items())


def report_command(
    kind: Annotated[str, typer.Argument(help=f"One of {', '.join(KINDS)}. {KIND_HELP}.")],
    run: Annotated[str, typer.Option("--run", "-r", help="Run id, a unique prefix or 'latest'.")],
    file_format: Annotated[str, typer.Option("--format", "-f", help="html, pdf or xlsx.")] = "html",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder (default WORKSPACE/reports).")] = None,
    program: Annotated[list[str] | None, typer.Option(help="Only these programs (repeatable).")] = None,
    workspace: WorkspaceOpt = Path("workspace"),
) -> None:
    """Write a report of a run as HTML, PDF (headless Chromium) or XLSX."""
    from allpayer.cli import _fail

    if kind not in KINDS or file_format not in FORMATS:
        _fail(f"choose a report from {', '.join(KINDS)} and a format from {', '.join(FORMATS)}")
    try:
        path = Context(workspace).report(kind, run, file_format, out, program or None)
    except ImportError as exc:
        _fail(f"reports need the reports extra (pip install 'allpayer[reports]'): {exc}")
    except (KeyError, RuntimeError) as exc:
        _fail(str(exc).strip("'\""))
    typer.echo(str(path))  # plain: a path must not be wrapped


def serve_command(
    workspace: WorkspaceOpt = Path("workspace"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the REST API (OpenAPI at /docs) and the dashboard (/dashboard, public view at /public)."""
    import uvicorn

    from allpayer.api import create_app

    uvicorn.run(create_app(workspace), host=host, port=port)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="regulator, aco, payer or employer.")],
    scope: Annotated[list[str] | None, typer.Option(help="ACO id, program id, payer name or group id "
                                                         "(repeatable); none for regulator.")] = None,
    workspace: WorkspaceOpt = Path("workspace"),
) -> None:
    """Create a token; it is printed once and only its hash is stored (WORKSPACE/tokens.json)."""
    from allpayer.api.tokens import create_token
    from allpayer.cli import _fail
    from allpayer.cli_output import console

    try:
        console.print(create_token(workspace, role, scope or []), highlight=False, soft_wrap=True)
    except ValueError as exc:
        _fail(str(exc))
