"""The REST API and the dashboard, one FastAPI app over a workspace's runs (``allpayer serve``).

Access is by bearer token (``Authorization: Bearer ap_...``; the dashboard also reads the token from the
``allpayer_token`` cookie set by its login form). Without a token the caller is ``public``. See ``access`` for
what each role sees; person-level reads are written to the audit log.
"""

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from allpayer import __version__
from allpayer.api import access, data
from allpayer.api.attribution import lookup
from allpayer.api.runs_index import find_run
from allpayer.api.tokens import COOKIE, Principal, authenticate
from allpayer.reporting.builders import build
from allpayer.reporting.render import html, pdf_from_html, xlsx
from allpayer.reporting.sources import run_pack
from allpayer.runs import Run, list_runs

ReportKind = Literal["tcoc", "scale", "settlement", "employer", "aco-budget", "public"]
Dimension = Literal["total", "aco", "program", "hsa", "practice"]
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
bearer = HTTPBearer(auto_error=False, description="a token from `allpayer token create`; none for public data")


class RunSummary(BaseModel):
    run_id: str
    pack: str
    year: int
    as_of: str | None
    status: str
    created_at: str


class RunDetail(RunSummary):
    tables: list[str]


class Tables(BaseModel):
    run_id: str
    role: str
    tables: dict[str, list[dict[str, Any]]]


class Me(BaseModel):
    role: str
    scope: list[str]
    token_id: str


class AttributionQuery(BaseModel):
    person_id: str = Field(min_length=1, max_length=64)
    program_id: str | None = Field(None, max_length=64)
    year: int | None = Field(None, ge=1990, le=2100)


def create_app(workspace: Path | str) -> FastAPI:
    workspace = Path(workspace)
    app = FastAPI(title="allpayer", version=__version__, description=(
        "Runs, metrics, growth, scale, quality, settlements, reports and attribution lookup of an all-payer "
        "accountable care model, by role: regulator, aco, payer, employer, public (no token)."))
    app.state.workspace = workspace

    def principal(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                               Depends(bearer)]) -> Principal:
        token = credentials.credentials if credentials else request.cookies.get(COOKIE)
        who = authenticate(workspace, token)
        if who is None:
            raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        return who

    Who = Annotated[Principal, Depends(principal)]

    def the_run(run_id: str) -> Run:
        run = find_run(workspace, run_id)
        if run is None:
            raise HTTPException(404, f"no run {run_id!r}")
        return run

    def tables(run: Run, who: Principal, frames: dict) -> Tables:
        return Tables(run_id=run.run_id, role=who.role, tables={k: data.records(v) for k, v in frames.items()})

    @app.get("/api/runs", response_model=list[RunSummary], tags=["runs"])
    def runs(who: Who) -> list[RunSummary]:
        return [_summary(info) for info in list_runs(workspace)]

    @app.get("/api/runs/{run_id}", response_model=RunDetail, tags=["runs"], responses={404: {}})
    def run_detail(run_id: str, who: Who) -> RunDetail:
        run = the_run(run_id)
        return RunDetail(**_summary(run.info()).model_dump(), tables=run.tables())

    @app.get("/api/me", response_model=Me, tags=["runs"], responses={401: {}})
    def me(who: Who) -> Me:
        if who.role == "public":
            raise HTTPException(401, "no token", headers={"WWW-Authenticate": "Bearer"})
        return Me(role=who.role, scope=list(who.scope), token_id=who.token_id)

    @app.get("/api/runs/{run_id}/metrics", response_model=Tables, tags=["metrics"], responses={404: {}})
    def metrics(run_id: str, who: Who, dimension: Dimension | None = None,
                year: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> Tables:
        run = the_run(run_id)
        programs = access.programs_for(who, run_pack(run))
        return tables(run, who, {"tcoc": data.metrics(run, programs, who.suppressed, dimension, year)})

    @app.get("/api/runs/{run_id}/growth", response_model=Tables, tags=["metrics"], responses={404: {}})
    def growth(run_id: str, who: Who) -> Tables:
        run = the_run(run_id)
        return tables(run, who, {"growth": data.frame(run, "growth")})

    @app.get("/api/runs/{run_id}/scale", response_model=Tables, tags=["scale"], responses={404: {}})
    def scale(run_id: str, who: Who) -> Tables:
        run = the_run(run_id)
        return tables(run, who, data.scale(run, access.programs_for(who, run_pack(run)), who.suppressed))

    @app.get("/api/runs/{run_id}/quality", response_model=Tables, tags=["quality"], responses={404: {}})
    def quality(run_id: str, who: Who) -> Tables:
        run = the_run(run_id)
        programs = access.programs_for(who, run_pack(run))
        return tables(run, who, data.quality(run, programs, who.suppressed, who.role == "public"))

    @app.get("/api/runs/{run_id}/settlements", response_model=Tables, tags=["settlements"],
             responses={401: {}, 404: {}})
    def settlements(run_id: str, who: Who) -> Tables:
        if who.role == "public":
            raise HTTPException(401, "settlements need a token", headers={"WWW-Authenticate": "Bearer"})
        run = the_run(run_id)
        programs = access.programs_for(who, run_pack(run))
        return tables(run, who, data.settlements(run, programs, aggregates_only=who.role == "employer"))

    @app.get("/api/runs/{run_id}/reports/{kind}", tags=["reports"], responses={
        200: {"content": {m: {} for m in MEDIA.values()}}, 401: {}, 403: {}, 404: {}, 503: {}})
    def report(run_id: str, kind: ReportKind, who: Who,
               file_format: Annotated[Literal["html", "pdf", "xlsx"], Query(alias="format")] = "html") -> Response:
        if not access.may_report(who, kind):
            if who.role == "public":
                raise HTTPException(401, f"the {kind} report needs a token", headers={"WWW-Authenticate": "Bearer"})
            raise HTTPException(403, f"a {who.role} may not read the {kind} report")
        run = the_run(run_id)
        programs = access.programs_for(who, run_pack(run)) if kind != "public" else None
        return _report_response(build(kind, run, programs), file_format)

    @app.post("/api/runs/{run_id}/attribution", response_model=Tables, tags=["attribution"],
              responses={401: {}, 403: {}, 404: {}})
    def attribution(run_id: str, query: AttributionQuery, who: Who) -> Tables:
        """Attribution of one person (person-level: audited). The person id travels in the body, never in a
        URL, so it cannot reach access logs."""
        if who.role == "public":
            raise HTTPException(401, "attribution lookup needs a token", headers={"WWW-Authenticate": "Bearer"})
        if who.role not in access.PERSON_LEVEL:
            raise HTTPException(403, f"a {who.role} sees aggregates only")
        run = the_run(run_id)
        programs = access.programs_for(who, run_pack(run))
        rows = lookup(workspace, run, who, programs, query.person_id, query.program_id, query.year)
        return tables(run, who, {"attribution": rows})

    from allpayer.api.dashboard import routes

    app.include_router(routes(principal, find_run))
    return app


def _summary(info: Any) -> RunSummary:
    return RunSummary(run_id=info.run_id, pack=info.pack, year=info.year, as_of=info.as_of, status=info.status,
                      created_at=info.created_at)


def _report_response(report: Any, file_format: str) -> Response:
    name = f"{report.kind}-{report.run_id}.{file_format}"
    if file_format == "html":
        return Response(html(report), media_type=MEDIA["html"])
    with tempfile.TemporaryDirectory() as scratch:  # one folder per request: concurrent requests never collide
        path = Path(scratch) / name
        try:
            if file_format == "xlsx":
                xlsx(report, path)
            else:
                pdf_from_html(html(report), path)
        except RuntimeError as exc:  # no Chromium on this machine
            raise HTTPException(503, str(exc)) from None
        return Response(path.read_bytes(), media_type=MEDIA[file_format],
                        headers={"Content-Disposition": f'inline; filename="{name}"'})
