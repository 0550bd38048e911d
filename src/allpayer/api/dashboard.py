"""The dashboard: server-rendered pages (Jinja2) with the reports' inline-SVG Vega-Lite charts.

``/dashboard`` shows the model at a glance for the caller's role (growth vs band, scale vs target, quality vs
target, settlements); ``/dashboard/drill/{by}`` breaks cost and scale down by payer, program, service area or
practice. ``/public`` is the same for the public, whatever token the browser holds.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from allpayer.api import access, data
from allpayer.api.tokens import COOKIE, PUBLIC, Principal, authenticate
from allpayer.reporting import builders, charts, render
from allpayer.reporting.model import Column, Section
from allpayer.reporting.sources import run_pack
from allpayer.runs import list_runs

DRILLS = {"payer": ("total", "payer_type"), "program": ("program", "program"), "hsa": ("hsa", "hsa"),
          "practice": ("practice", None)}
Drill = Literal["payer", "program", "hsa", "practice"]


def environment() -> Environment:
    env = Environment(loader=ChoiceLoader([PackageLoader("allpayer.api", "templates"),
                                           PackageLoader("allpayer.reporting", "templates")]),
                      autoescape=select_autoescape())
    env.globals.update(render.environment().globals)
    return env


def settlement_section(settled: pd.DataFrame) -> Section:
    """Settlements with a bar per program (the employer sees the shares only)."""
    amount = "settlement" if "settlement" in settled.columns else "shared"
    chart = charts.bars_against_target(settled, "program_id", amount, None, f"{amount.capitalize()} by program",
                                       "$,.0f") if len(settled) and amount in settled.columns else None
    return Section.of("Settlements", settled, builders.SETTLEMENT_COLUMNS, chart=chart, chart_id="settlements")


def glance(run: object, who: Principal) -> list[Section]:
    """The model's status for ``who``: growth vs band, scale vs target, quality vs target, settlements."""
    programs = access.programs_for(who, run_pack(run))
    sections = [builders.growth_section(run), builders.scale_section(run),
                builders.quality_section(run, None if who.role == "public" else programs)]
    if who.role != "public":
        settled = data.settlements(run, programs, aggregates_only=who.role == "employer")["settlement"] \
            if "settlement" in run.tables() else pd.DataFrame()
        sections.append(settlement_section(settled))
    if who.role == "public":
        sections.append(builders.scale_breakdown_section(run, "hsa", public=True))
    return sections


DRILL_COST = [Column("year", "year"), Column("group", "group"), Column("payer_type", "payer type"),
              Column("persons", "persons", "int"), Column("member_months", "member months", "number"),
              Column("tcoc_pmpm", "TCOC PMPM", "money"), Column("tcoc_pbpy", "TCOC per beneficiary per year", "money"),
              Column("risk_adjusted_pmpm", "risk-adjusted PMPM", "money")]
DRILL_SCALE = [Column("year", "year"), Column("scope", "scope"), Column("value", "group"),
               Column("numerator", "attributed", "int"), Column("denominator", "eligible", "int"),
               Column("pct", "share", "rate")]


def drill(run: object, who: Principal, by: str) -> list[Section]:
    """Cost and scale of the run's performance year by payer type, program, HSA or practice."""
    programs = access.programs_for(who, run_pack(run))
    dimension, scale_dimension = DRILLS[by]
    year = run.manifest.get("year")
    cost = data.metrics(run, programs, who.suppressed, dimension, year)
    sections = [Section.of(f"Total cost of care by {by}, {year}", cost, DRILL_COST)]
    if scale_dimension:
        breakdown = data.scale(run, programs, who.suppressed).get("scale_breakdown", pd.DataFrame())
        if len(breakdown):
            breakdown = breakdown[(breakdown["dimension"] == scale_dimension) & (breakdown["year"] == year)]
        sections.append(Section.of(f"Scale by {by}, {year}", breakdown, DRILL_SCALE))
    return sections


def routes(principal: Callable[..., Principal], find_run: Callable) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    env = environment()

    def page(request: Request, who: Principal, run_id: str | None, title: str,
             make: Callable[[object], list[Section]], base: str) -> HTMLResponse:
        workspace: Path = request.app.state.workspace
        runs = [info.run_id for info in list_runs(workspace)]
        run = find_run(workspace, run_id or "latest")
        if run is None:
            raise HTTPException(404, "no run in this workspace" if not runs else f"no run {run_id!r}")
        body = env.get_template("dashboard.html").render(
            title=title, who=who, run=run, runs=runs, sections=make(run), base=base, drills=list(DRILLS),
            notes=[builders.SUPPRESSION_NOTE] if who.suppressed else [])
        return HTMLResponse(body)

    Who = Annotated[Principal, Depends(principal)]

    @router.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    @router.get("/dashboard")
    def dashboard(request: Request, who: Who, run: str | None = None) -> HTMLResponse:
        return page(request, who, run, "Model status", lambda r: glance(r, who), "/dashboard")

    @router.get("/dashboard/drill/{by}")
    def dashboard_drill(request: Request, by: Drill, who: Who, run: str | None = None) -> HTMLResponse:
        return page(request, who, run, f"Drill-down by {by}", lambda r: drill(r, who, by), "/dashboard")

    @router.get("/public")
    def public(request: Request, run: str | None = None) -> HTMLResponse:
        return page(request, PUBLIC, run, "Public view", lambda r: glance(r, PUBLIC), "/public")

    @router.get("/public/drill/{by}")
    def public_drill(request: Request, by: Drill, run: str | None = None) -> HTMLResponse:
        return page(request, PUBLIC, run, f"Public view by {by}", lambda r: drill(r, PUBLIC, by), "/public")

    @router.get("/login")
    def login_form() -> HTMLResponse:
        return HTMLResponse(env.get_template("login.html").render(title="Sign in", error=""))

    @router.post("/login", response_model=None)
    def login(request: Request, token: Annotated[str, Form()]) -> HTMLResponse | RedirectResponse:
        if authenticate(request.app.state.workspace, token) in (None, PUBLIC):
            return HTMLResponse(env.get_template("login.html").render(title="Sign in", error="unknown token"), 401)
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    @router.get("/logout")
    def logout() -> RedirectResponse:
        response = RedirectResponse("/public", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    return router
