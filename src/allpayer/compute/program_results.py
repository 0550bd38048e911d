"""One performance year of every program with financial terms: expected cost, value payments, settlement with its
waterfall, and provider distribution (docs/settlement.md). Inputs are tables; outputs are small Arrow tables
ready for a run folder."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from allpayer.compute import distribution as dist
from allpayer.compute.expected_cost import (
    Aggregate,
    ProgramYear,
    aggregate,
    base_experience,
    expected_cost_row,
    performance_experience,
    program_table,
    regional_experience,
    rounded_member_months,
    value_payment_rows,
)
from allpayer.compute.settlement import QualityResult, SettlementInput, settle
from allpayer.config.models import Pack

MONEY = pa.decimal128(18, 2)
# Fixed so a year without a savings pool still writes a table with its columns.
DISTRIBUTION_SCHEMA = pa.schema([("program_id", pa.string()), ("year", pa.int64()), ("split", pa.string()),
                                 ("recipient_id", pa.string()), ("basis", pa.decimal128(24, 6)), ("amount", MONEY)])


@dataclass(frozen=True)
class ProgramInputs:
    attribution_month: ir.Table   # program_id, year, person_id, month_index, month, practice_id, tin
    member_months: ir.Table       # person_id, payer_type, month_index, year, weight
    claims: ir.Table              # expected_cost.claims_by_person_month (of the attributed persons at least)
    provider_spend: ir.Table      # person_id, month_index, billing_tin, paid_amount (for the network split)
    risk: ir.Table | None = None  # person_id, year, risk_score
    quality: pa.Table | None = None  # program_id, year, score, gate_met
    as_of: dt.date | None = None
    runout_months: int = 24
    # person_id, month_index, year, payer_type, paid of everyone, for the region (expected_cost.regional_claims);
    # ``claims`` when None
    regional_claims: ir.Table | None = None


def program_years(pack: Pack, year: int, programs: list[str] | None = None) -> list[ProgramYear]:
    chosen = [p for p in pack.programs_in(year) if p.financial and (not programs or p.program_id in programs)]
    return [ProgramYear(p, year, p.financial.for_year(year)) for p in chosen]  # type: ignore[union-attr]


def base_years(runs: list[ProgramYear]) -> list[int]:
    """Every base year of the program-years, in order."""
    return sorted({y for py in runs for y in py.base_years})


def claim_years(pack: Pack, year: int, programs: list[str] | None = None) -> tuple[int, int]:
    """The first and last year of claims a run of ``year`` reads: its programs' earliest base year through ``year``."""
    return min(base_years(program_years(pack, year, programs)), default=year), year


def quality_results(quality: pa.Table | None, runs: list[ProgramYear]) -> dict[str, QualityResult]:
    """Measured quality from ``quality_score`` rows, else each program's configured default (not measured). A
    pay-for-reporting year (``reporting_only``) earns full credit: score 1, gate met."""
    measured = {}
    for row in quality.to_pylist() if quality is not None else []:  # one row per program-year
        if row.get("reporting_only"):
            result = QualityResult(Decimal(1), True, True)
        else:
            score = Decimal(str(row["score"])) if row.get("score") is not None else Decimal(0)
            result = QualityResult(score, bool(row["gate_met"]), True)
        measured[(row["program_id"], int(row["year"]))] = result
    out = {}
    for py in runs:
        default = py.terms.quality.when_not_measured
        out[py.program.program_id] = measured.get((py.program.program_id, py.year),
                                                   QualityResult(default.score, default.gate_met, False))
    return out


def quarter_status(year: int, as_of: dt.date | None, runout_months: int) -> dict[int, str]:
    """``final`` once ``runout_months`` have passed after a quarter's last month, else ``provisional``."""
    if as_of is None:
        return dict.fromkeys((1, 2, 3, 4), "provisional")
    reached = as_of.year * 12 + as_of.month - 1
    return {q: "final" if reached >= year * 12 + 3 * q - 1 + runout_months else "provisional" for q in (1, 2, 3, 4)}


def _grouped(rows: list[dict], key: str) -> dict:
    out: dict = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def program_results(pack: Pack, year: int, inputs: ProgramInputs, programs: list[str] | None = None
                    ) -> dict[str, pa.Table]:
    runs = program_years(pack, year, programs)
    if not runs:
        raise ValueError(f"no program of pack {pack.name!r} has financial terms for {year}")
    table = program_table(runs)
    base = base_experience(table, inputs.attribution_month, inputs.member_months, inputs.claims,
                           inputs.risk).to_pyarrow().to_pylist()
    perf = performance_experience(table, inputs.attribution_month, inputs.claims, inputs.risk).to_pyarrow().to_pylist()
    everyone = inputs.claims if inputs.regional_claims is None else inputs.regional_claims
    regional = regional_experience(inputs.member_months, everyone, base_years(runs)).to_pyarrow().to_pylist()
    base_by, perf_by = _grouped(base, "program_id"), _grouped(perf, "program_id")
    quality = quality_results(inputs.quality, runs)
    status = quarter_status(year, inputs.as_of, inputs.runout_months)
    out: dict[str, list] = defaultdict(list)
    for py in runs:  # a handful of programs
        pid = py.program.program_id
        covered = py.terms.fixed_payment.covered_categories if py.terms.fixed_payment else []
        by_year = {y: aggregate(rows, covered) for y, rows in _grouped(base_by.get(pid, []), "year").items()}
        region = {r["year"]: Aggregate(rounded_member_months(r["member_months"]), r["paid"] or Decimal(0), Decimal(0),
                                       None, 0)
                  for r in regional if r["payer_type"] == py.program.payer_scope}
        performance = aggregate(perf_by.get(pid, []), covered)
        quarters = {q: aggregate(rows, covered) for q, rows in _grouped(perf_by.get(pid, []), "quarter").items()}
        expected = expected_cost_row(py, by_year, performance, region)
        out["expected_cost"].append(expected)
        out["value_payment"].extend(value_payment_rows(py, expected["expected_pmpm"], quarters, status))
        result = settle(SettlementInput(pid, year, expected["expected_cost"], expected["ffs_paid"],
                                        expected["fixed_payments"], performance.persons, performance.member_months,
                                        quality[pid]), py.terms)
        out["settlement"].append(_settlement_row(py, expected, result, quality[pid], status))
        out["settlement_waterfall"].extend(
            {"program_id": pid, "year": year, "step_no": i + 1, "step": s.step, "change": s.change,
             "amount": s.amount, "note": s.note} for i, s in enumerate(result.waterfall))
        out["distribution"].extend(_savings_pool(py, result.settlement, inputs))
    tables = {name: pa.Table.from_pylist(rows) for name, rows in out.items()}
    tables["distribution"] = pa.Table.from_pylist(out["distribution"], schema=DISTRIBUTION_SCHEMA)
    with_payments = [py.program.program_id for py in runs if py.terms.value_payment]
    value = tables["value_payment"].select(["program_id", "year", "quarter", "value_payment_pmpm"])
    value = value.filter(pc.is_in(value["program_id"], pa.array(with_payments, pa.string())))
    practice_months = dist.value_payments_by_practice(inputs.attribution_month.filter(
        inputs.attribution_month.year == year), ibis.memtable(value)).to_pyarrow()
    tables["value_payment_practice_month"] = practice_months
    return tables


def _settlement_row(py: ProgramYear, expected: dict, result, quality: QualityResult, status: dict[int, str]) -> dict:
    fixed = expected["fixed_payments"]
    return {
        "program_id": py.program.program_id, "year": py.year, "program": py.program.name,
        "payer_type": py.program.payer_scope, "persons": expected["persons"],
        "member_months": expected["member_months"], "expected_cost": result.expected,
        "ffs_paid": expected["ffs_paid"], "fixed_payments": fixed, "actual_cost": result.actual,
        "gross_savings": result.gross_savings,
        "gross_savings_pct": (result.gross_savings / result.expected).quantize(Decimal("0.0001"))
        if result.expected else Decimal(0),
        "shared": result.shared, "settlement": result.settlement,
        "settlement_pct": (result.settlement / result.expected).quantize(Decimal("0.0001"))
        if result.expected else Decimal(0),
        "payer_share": result.payer_share,
        "payer_share_label": "employer" if py.terms.report_employer_share else "payer",
        "fixed_payment_performance": (fixed - expected["fixed_covered_ffs_equivalent"]) if fixed else Decimal(0),
        "quality_score": quality.score, "quality_gate_met": quality.gate_met, "quality_measured": quality.measured,
        "status": "final" if all(s == "final" for s in status.values()) else "provisional",
        "illustrative": expected["illustrative"],
    }


def _savings_pool(py: ProgramYear, settlement: Decimal, inputs: ProgramInputs) -> list[dict]:
    policy = py.terms.distribution
    pool = max(settlement, Decimal(0)) * policy.pool_share
    if pool <= 0:
        return []
    pid, year = py.program.program_id, py.year
    am = inputs.attribution_month
    practices = am.filter((am.program_id == pid) & (am.year == year) & am.tin.notnull()).select("tin").distinct()
    bases = {
        "attributed_member_months": dist.recipients_by_member_months(am, pid, year).to_pyarrow(),
        "spend": dist.recipients_by_spend(inputs.provider_spend, am, pid, year, practices).to_pyarrow(),
    }
    split = dist.split_pool(pool.quantize(Decimal("0.01")), policy, bases)
    return [{"program_id": pid, "year": year, **row} for row in split.to_pylist()]
