"""The six reports, each built from one run as a :class:`Report` (format-free; see ``render``).

Public and employer reports pass every person-count cell through :func:`suppress`. Builders only read the run's
tables: they never recompute a figure the run does not hold (docs/reports.md lists the columns they read).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd

from allpayer.reporting import charts
from allpayer.reporting.exposure import max_downside
from allpayer.reporting.kinds import KINDS
from allpayer.reporting.model import Column, Report, Section
from allpayer.reporting.sources import RunLike, frame, in_programs, pack_name, run_pack, step_order
from allpayer.reporting.suppression import THRESHOLD, suppress

SUPPRESSION_NOTE = (f"Cells built from fewer than {THRESHOLD} persons are suppressed, with complementary cells, so "
                    "that they cannot be recovered from totals.")
GROWTH_COLUMNS = [Column("series", "series"), Column("year", "year"), Column("pbpy", "TCOC per beneficiary per year",
                  "money"), Column("yoy_growth", "growth on prior year", "rate"),
                  Column("cagr", "compound growth since baseline", "rate"), Column("status", "status"),
                  Column("national_cagr", "national Medicare growth", "rate"),
                  Column("gap_pp", "below national (pp)", "number"), Column("medicare_status", "Medicare status")]
COST_COLUMNS = [Column("year", "year"), Column("payer_type", "payer type"), Column("persons", "persons", "int"),
                Column("member_months", "member months", "number"), Column("tcoc_pmpm", "TCOC PMPM", "money"),
                Column("tcoc_pbpy", "TCOC per beneficiary per year", "money")]
SCALE_COLUMNS = [Column("year", "year"), Column("scope", "scope"), Column("numerator", "attributed", "int"),
                 Column("denominator", "eligible", "int"), Column("pct", "share", "rate"),
                 Column("target", "target", "rate"), Column("status", "status")]


def _facts(run: RunLike, extra: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    m = run.manifest
    status = str(m.get("status", "")) or "unknown"
    return [("run", run.run_id), ("model pack", pack_name(run) or "-"), ("performance year", str(m.get("year", "-"))),
            ("claims paid through", str(m.get("as_of") or "-")), ("status", status), *extra]


def _missing(title: str, table: str) -> Section:
    return Section(title, [], [], text=f"This run has no `{table}` table.")


def _quarter(as_of: object) -> str:
    text = str(as_of or "")
    return f"{text[:4]} Q{(int(text[5:7]) - 1) // 3 + 1}" if len(text) >= 7 and text[5:7].isdigit() else "-"


# ------------------------------------------------------------------------------------------ cost and growth

def growth_section(run: RunLike) -> Section:
    growth = frame(run, "growth")
    if growth is None:
        return _missing("Growth against the target band", "growth")
    growth = growth.sort_values(["series", "year"])
    target, cap = float(growth["target"].iloc[0]), float(growth["cap"].iloc[0])
    return Section.of("Growth against the target band", growth, GROWTH_COLUMNS, chart=charts.growth_chart(
        growth, target, cap), chart_id="growth", text=f"Compound annual growth of TCOC per beneficiary from the "
        f"baseline; target {target:.1%}, cap {cap:.1%}.")


def cost_by_payer(run: RunLike, public: bool) -> Section:
    tcoc = frame(run, "tcoc")
    if tcoc is None:
        return _missing("TCOC by payer type", "tcoc")
    rows = tcoc[tcoc["dimension"] == "total"].sort_values(["year", "payer_type"])
    parts = rows[rows["payer_type"] != "all_payer"]
    if public:  # the payer types of a year add up to all-payer: suppress within each year
        parts = suppress(parts, ["persons"], ["member_months", "tcoc_pmpm", "tcoc_pbpy"], [["year"]])
    return Section.of("TCOC by payer type", parts, COST_COLUMNS)


def completion_section(run: RunLike) -> Section:
    tcoc = frame(run, "tcoc")
    if tcoc is None:
        return _missing("Claims completion", "tcoc")
    rows = tcoc[(tcoc["dimension"] == "total") & (tcoc["payer_type"] == "all_payer")].sort_values("year")
    completed = rows["paid_completed"].astype(float)
    rows = rows.assign(ibnr=rows["paid_completed"] - rows["paid"],
                       ibnr_share=((completed - rows["paid"].astype(float)) / completed.where(completed != 0)))
    return Section.of("Claims completion", rows, [
        Column("year", "year"), Column("paid", "paid to date", "money"),
        Column("paid_completed", "paid, completed", "money"), Column("ibnr", "incurred but not reported", "money"),
        Column("ibnr_share", "share estimated", "rate")],
        text="Provisional figures include an estimate of claims incurred but not yet paid (chain ladder).")


def tcoc_report(run: RunLike, programs: list[str] | None = None) -> Report:
    return Report("tcoc", f"Total cost of care, as of {_quarter(run.manifest.get('as_of'))}", run.run_id,
                  _facts(run), [growth_section(run), cost_by_payer(run, public=False), completion_section(run)],
                  notes=_provisional(run))


def _provisional(run: RunLike) -> list[str]:
    if run.manifest.get("status") == "final":
        return []
    return [f"Provisional: claims paid through {run.manifest.get('as_of') or 'the latest paid date'}; figures "
            "change as claims run out."]


# ------------------------------------------------------------------------------------------ scale

def scale_section(run: RunLike) -> Section:
    target = frame(run, "scale_target")
    if target is None:
        return _missing("Scale against targets", "scale_target")
    target = target.sort_values(["year", "scope"]).assign(label=lambda t: t["year"].astype(str) + " " + t["scope"])
    chart = charts.bars_against_target(target, "label", "pct", "target", "Share attributed against the scale target")
    return Section.of("Scale against targets", target, SCALE_COLUMNS, chart_id="scale", chart=chart)


def scale_breakdown_section(run: RunLike, dimension: str, public: bool, programs: list[str] | None = None,
                            title: str = "", year: int | None = None) -> Section:
    title = title or f"Scale by {dimension.replace('_', ' ')}"
    breakdown = frame(run, "scale_breakdown")
    if breakdown is None:
        return _missing(title, "scale_breakdown")
    rows = breakdown[(breakdown["dimension"] == dimension) & ((breakdown["year"] == year) if year else True)]
    rows = rows.sort_values(["year", "scope", "value"])
    if dimension == "program":
        rows = in_programs(rows, "value", programs)
    rows = rows.assign(not_attributed=rows["denominator"] - rows["numerator"])
    if public:  # the cells of a year and scope add up to the statewide figures
        rows = suppress(rows, ["numerator", "denominator", "not_attributed"], ["pct"], [["year", "scope"]])
    return Section.of(title, rows, [
        Column("year", "year"), Column("scope", "scope"), Column("value", dimension.replace("_", " ")),
        Column("numerator", "attributed", "int"), Column("denominator", "eligible", "int"),
        Column("pct", "share", "rate")])


def scale_report(run: RunLike, programs: list[str] | None = None) -> Report:
    sections = [scale_section(run), *(scale_breakdown_section(run, d, False) for d in ("payer_type", "program", "hsa"))]
    return Report("scale", "Annual scale targets and alignment", run.run_id, _facts(run), sections)


# ------------------------------------------------------------------------------------------ settlement

def _settlements(run: RunLike, programs: list[str] | None) -> pd.DataFrame | None:
    settlement = frame(run, "settlement")
    return None if settlement is None else in_programs(settlement, "program_id", programs).sort_values(
        ["program_id", "year"])


def waterfall_section(run: RunLike, program: str) -> Section:
    steps = frame(run, "settlement_waterfall")
    if steps is None:
        return _missing("Waterfall", "settlement_waterfall")
    steps = step_order(steps[steps["program_id"] == program])
    return Section.of(f"Waterfall: {program}", steps, [
        Column("position", "#", "int"), Column("step", "step"), Column("change", "change", "money"),
        Column("amount", "running amount", "money"), Column("note", "note")],
        chart=charts.waterfall_chart(steps) if len(steps) else None, chart_id=f"waterfall-{program}")


def program_table(run: RunLike, table: str, program: str, columns: list[Column], title: str,
                  years: list[int] | None = None) -> Section:
    """Rows of one program (and of ``years``, when given) from a run table."""
    rows = frame(run, table)
    if rows is None:
        return _missing(title, table)
    if "program_id" not in rows.columns:  # an empty table written without columns
        return Section(title, [], [], text="no rows")
    rows = rows[(rows["program_id"] == program) & (rows["year"].isin(years) if years else True)]
    present = [c for c in columns if c.name in rows.columns]
    return Section.of(title, rows.sort_values([c.name for c in present[:2]]), present)


QUALITY_COLUMNS = [Column("year", "year"), Column("score", "quality score", "rate"), Column("gate", "gate", "rate"),
                   Column("gate_met", "gate met")]
MEASURE_COLUMNS = [Column("measure_id", "measure"), Column("measure_name", "name"), Column("year", "year"),
                   Column("denominator", "denominator", "int"),
                   Column("numerator", "numerator", "int"), Column("rate", "rate", "rate"),
                   Column("target", "target", "rate"), Column("per_1000", "per 1,000", "number"),
                   Column("target_per_1000", "target per 1,000", "number")]
DISTRIBUTION_COLUMNS = [Column("split", "split"), Column("recipient_id", "recipient"),
                        Column("basis", "basis", "number"), Column("amount", "amount", "money")]
SETTLEMENT_COLUMNS = [Column("program_id", "program"), Column("year", "year"),
                      Column("expected_cost", "expected", "money"),
                      Column("actual_cost", "actual", "money"), Column("gross_savings", "gross savings", "money"),
                      Column("shared", "shared with the ACO", "money"), Column("payer_share", "kept by the payer",
                      "money"), Column("settlement", "settlement", "money")]


def settlement_report(run: RunLike, programs: list[str] | None = None) -> Report:
    settlement = _settlements(run, programs)
    report = Report("settlement", "Settlement statement", run.run_id, _facts(run), notes=[
        "Sign: positive amounts are owed by the payer to the ACO, negative by the ACO to the payer."])
    if settlement is None:
        report.sections.append(_missing("Settlement", "settlement"))
        return report
    report.sections.append(Section.of("Settlement by program", settlement, SETTLEMENT_COLUMNS))
    for program in settlement["program_id"].drop_duplicates():  # a handful of programs
        years = sorted(settlement.loc[settlement["program_id"] == program, "year"].unique())
        report.sections += [
            waterfall_section(run, program),
            program_table(run, "quality_score", program, QUALITY_COLUMNS, f"Quality: {program}", years),
            program_table(run, "distribution", program, DISTRIBUTION_COLUMNS, f"Distribution: {program}")]
    return report


# ------------------------------------------------------------------------------------------ employer

def employer_cost(run: RunLike, programs: list[str] | None) -> Section:
    tcoc = frame(run, "tcoc")
    if tcoc is None:
        return _missing("Cost per member per month and trend", "tcoc")
    # the group's whole cost (all payer types of its members): a split by primary payer would only add small cells
    rows = tcoc[(tcoc["dimension"] == "program") & (tcoc["payer_type"] == "all_payer")]
    rows = in_programs(rows, "group", programs).sort_values(["group", "year"])
    pmpm = rows["tcoc_pmpm"].astype(float)
    rows = rows.assign(trend=pmpm / pmpm.groupby(rows["group"]).shift(1) - 1)
    rows = suppress(rows, ["persons"], ["member_months", "tcoc_pmpm", "trend"])
    return Section.of("Cost per member per month and trend", rows, [
        Column("group", "program"), Column("year", "year"),
        Column("persons", "persons", "int"), Column("member_months", "member months", "number"),
        Column("tcoc_pmpm", "TCOC PMPM", "money"), Column("trend", "trend on prior year", "rate")])


def employer_measures(run: RunLike, programs: list[str] | None) -> Section:
    measures = frame(run, "quality_measure")
    if measures is None:
        return _missing("Quality and utilisation", "quality_measure")
    rows = in_programs(measures, "program_id", programs)
    if "practice_id" in rows.columns:  # program level only: practices would identify small panels
        rows = rows[rows["practice_id"].isna()]
    rows = suppress(rows.sort_values(["measure_id", "year"]), ["denominator"], ["numerator", "rate"])
    return Section.of("Quality and utilisation", per_unit(rows), MEASURE_COLUMNS,
                      suppressible=("denominator", "numerator", "rate", "per_1000"))


def per_unit(measures: pd.DataFrame) -> pd.DataFrame:
    """Shares in ``rate``/``target``; rates per 1,000 in their own columns (a per-1,000 rate is not a share)."""
    if "unit" not in measures.columns:
        return measures
    per_1000 = measures["unit"] == "per_1000"
    rate, target = measures["rate"], measures["target"]
    return measures.assign(per_1000=rate.where(per_1000), target_per_1000=target.where(per_1000),
                           rate=rate.where(~per_1000), target=target.where(~per_1000))


def employer_outcome(run: RunLike, programs: list[str] | None) -> list[Section]:
    settlement = _settlements(run, programs)
    payments = frame(run, "value_payment_practice_month")
    sections = [Section.of("Share of the outcome", settlement, [
        Column("program_id", "program"), Column("year", "year"), Column("gross_savings", "gross savings", "money"),
        Column("shared", "ACO share", "money"), Column("payer_share", "plan share", "money")])
        if settlement is not None else _missing("Share of the outcome", "settlement")]
    if payments is None:
        return [*sections, _missing("Value payments paid", "value_payment_practice_month")]
    paid = in_programs(payments, "program_id", programs).groupby(["program_id", "year"], as_index=False)["amount"].sum()
    return [*sections, Section.of("Value payments paid", paid, [
        Column("program_id", "program"), Column("year", "year"), Column("amount", "paid", "money")])]


def employer_report(run: RunLike, programs: list[str] | None = None) -> Report:
    programs = programs if programs is not None else _programs_of_type(run, "self_funded")
    return Report("employer", "Employer report: self-funded group", run.run_id,
                  _facts(run, [("programs", ", ".join(programs) or "-")]),
                  [employer_cost(run, programs), employer_measures(run, programs), *employer_outcome(run, programs)],
                  notes=["Aggregates only.", SUPPRESSION_NOTE], public=True)


def _programs_of_type(run: RunLike, payer_scope: str) -> list[str]:
    pack = run_pack(run)
    return sorted(p.program_id for p in pack.programs.values() if p.payer_scope == payer_scope) if pack else []


# ------------------------------------------------------------------------------------------ ACO budget review

def exposure_rows(run: RunLike, expected: pd.DataFrame) -> pd.DataFrame:
    """Per program-year: expected revenue and the maximum downside under the program's corridors and caps."""
    pack = run_pack(run)

    def downside(program: str, year: int, amount: Decimal) -> Decimal | None:
        prog = pack.programs.get(program) if pack else None
        if prog is None or prog.financial is None:
            return None
        return max_downside(prog.financial.for_year(int(year)), Decimal(amount))

    # one call per program-year: a handful of contract lines, not member rows
    exposure = [downside(p, y, e) for p, y, e in zip(expected["program_id"], expected["year"],
                                                      expected["expected_cost"], strict=True)]
    ratio = [None if d is None or not e else float(d) / float(e)
             for d, e in zip(exposure, expected["expected_cost"], strict=True)]
    return expected.assign(max_downside=exposure, downside_share=ratio,
                           limit=["uncapped" if d is None else "capped" for d in exposure])


def aco_budget_report(run: RunLike, programs: list[str] | None = None) -> Report:
    report = Report("aco-budget", "ACO budget review", run.run_id, _facts(run), notes=[
        "Maximum downside: the most the ACO can owe under each program's loss corridors and caps; "
        "'uncapped' when the terms set no limit."])
    report.sections.append(scale_breakdown_section(run, "payer_type", False, title="Attributed lives by payer",
                                                   year=run.manifest.get("year")))
    settlement = _settlements(run, programs)
    if settlement is None:
        report.sections.append(_missing("Expected revenue and downside", "settlement"))
        return report
    rows = exposure_rows(run, settlement)
    report.sections.append(Section.of("Expected revenue and maximum downside", rows, [
        Column("program_id", "program"), Column("year", "year"), Column("persons", "attributed persons", "int"),
        Column("expected_cost", "expected revenue", "money"), Column("max_downside", "maximum downside", "money"),
        Column("downside_share", "as share of revenue", "rate"), Column("limit", "limit")]))
    if {"ffs_paid", "fixed_payments"} <= set(settlement.columns):
        total = settlement["ffs_paid"].astype(float) + settlement["fixed_payments"].astype(float)
        mix = settlement.assign(fixed_share=settlement["fixed_payments"].astype(float) / total.where(total != 0))
        report.sections.append(Section.of("Fixed and fee-for-service payments", mix, [
            Column("program_id", "program"), Column("year", "year"), Column("fixed_payments", "fixed", "money"),
            Column("ffs_paid", "fee for service", "money"), Column("fixed_share", "share fixed", "rate")]))
    return report


# ------------------------------------------------------------------------------------------ public

def quality_section(run: RunLike, programs: list[str] | None = None) -> Section:
    scores = frame(run, "quality_score")
    if scores is None:
        return _missing("Quality against targets", "quality_score")
    scores = in_programs(scores, "program_id", programs).sort_values(["program_id", "year"])
    chart = charts.bars_against_target(scores.assign(label=scores["program_id"] + " " + scores["year"].astype(str)),
                                       "label", "score", "gate" if "gate" in scores else None,
                                       "Quality score against the gate") if len(scores) else None
    return Section.of("Quality against targets", scores, [Column("program_id", "program"), *QUALITY_COLUMNS],
                      chart=chart, chart_id="quality")


def public_report(run: RunLike, programs: list[str] | None = None) -> Report:
    return Report("public", f"Public quarterly report, as of {_quarter(run.manifest.get('as_of'))}", run.run_id,
                  _facts(run), [growth_section(run), cost_by_payer(run, public=True), scale_section(run),
                                scale_breakdown_section(run, "hsa", public=True), quality_section(run)],
                  notes=[*_provisional(run), SUPPRESSION_NOTE], public=True)


BUILDERS: dict[str, Callable[[RunLike, list[str] | None], Report]] = {
    "tcoc": tcoc_report, "scale": scale_report, "settlement": settlement_report, "employer": employer_report,
    "aco-budget": aco_budget_report, "public": public_report}



def build(kind: str, run: RunLike, programs: list[str] | None = None) -> Report:
    if kind not in BUILDERS:
        raise KeyError(f"unknown report {kind!r}; choose one of {', '.join(KINDS)}")
    return BUILDERS[kind](run, programs)
