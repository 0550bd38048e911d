"""Expected cost (target) and value-payment PMPM per program-year (docs/settlement.md; domain.md §8.7–8.10).

Set-based part (Ibis, any backend) reduces claims to small aggregates per program, year, quarter and service
category; the arithmetic on those few rows is exact Decimal in :func:`expected_costs` and :func:`value_payments`.

- **Population**: persons attributed to the program in the performance year (``attribution_month``).
- **Base years**: the population's member months of the program's payer type and their completed paid claims of
  that payer type in those months. ``prior_year_incurred`` = one base year (PY − 1); ``historical_benchmark`` =
  weights over PY − n … PY − 1, each year trended to the PY, blended with the region (everyone of the payer type).
- ``expected_pmpm = blend(base PMPM) × (1 + trend)^(PY − base year) × risk ratio × (1 − discount)``, where the
  risk ratio is mean risk PY / mean risk in the last base year (member-month weighted), capped at 1 + cap.
- ``expected_cost = expected_pmpm × attributed member months in the PY``.
- **Quarterly re-estimation**: emerging completed experience through each quarter gives the PMPM to date, the
  re-estimated year (expected PMPM × member months run-rate) and the value payment PMPM for the next quarter:
  ``base × clamp(1 + sensitivity × (expected − actual) / expected, min, max)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.calendar import year_of
from allpayer.compute.exact import exact_sum
from allpayer.compute.native import quotient
from allpayer.compute.spending import level_1_categories, level_1_number
from allpayer.config.models import PAYER_TYPES, Program
from allpayer.config.terms import YearTerms

MONEY = "decimal(18, 2)"
CENT = Decimal("0.01")
RATIO = Decimal("0.000001")


@dataclass(frozen=True)
class ProgramYear:
    program: Program
    year: int
    terms: YearTerms

    @property
    def base_years(self) -> list[int]:
        n = len(self.terms.target.base_year_weights)
        return list(range(self.year - n, self.year))


def program_table(runs: list[ProgramYear]) -> ir.Table:
    return ibis.memtable(pa.table({
        "program_id": [r.program.program_id for r in runs], "target_year": [r.year for r in runs],
        "payer_type": [r.program.payer_scope for r in runs],
        "first_base_year": [r.base_years[0] if r.base_years else r.year for r in runs]}))


def claims_by_person_month(spend: ir.Table) -> ir.Table:
    """(person_id, month_index, year, payer_type, service_category_1, paid): completed paid spend of financial
    target services; ``spend`` from :func:`allpayer.compute.tcoc.completed_spend`.

    Grouped on the person and one integer holding the month, the payer type (its place in the contract's list;
    any other type is kept as text beside it, null otherwise) and the level-1 category. On five keys, two of them
    text, the grouping of 10.7M spend rows took 2.7 s at 630k persons; on these, 1.7 s."""
    s = spend.filter(spend.financial_target)
    types, levels = list(PAYER_TYPES), level_1_categories()
    unknown = len(types)
    type_no = s.payer_type.cases(*[(t, i) for i, t in enumerate(types)], else_=unknown)
    cell = (s.month_index.cast("int64") * (unknown + 1) + type_no) * len(levels) + level_1_number(s)
    other = ibis.ifelse(type_no == unknown, s.payer_type, ibis.null("string"))
    g = s.group_by([s.person_id, cell.name("_cell"), other.name("_other")]).aggregate(
        paid=s.paid_completed.sum().cast(MONEY))
    month = quotient(g._cell, (unknown + 1) * len(levels))
    # The list has a place (null) for the unknown number, so indexing never runs past its end (an error on Spark)
    # and a missing type stays missing.
    type_at = (quotient(g._cell, len(levels)) % (unknown + 1)).cast("int32")  # Spark indexes lists by INT
    named_type = ibis.literal([*types, None], type="array<string>")[type_at]
    level_at = (g._cell % len(levels)).cast("int32")
    return g.select("person_id", month_index=month, year=year_of(month),
                    payer_type=ibis.coalesce(g._other, named_type),
                    service_category_1=ibis.literal(levels, type="array<string>")[level_at], paid=g.paid)


def regional_claims(spend: ir.Table) -> ir.Table:
    """(person_id, month_index, year, payer_type, paid): completed paid spend of financial target services, one row
    per spend row (:func:`regional_experience` sums them, so they need no grouping by person-month);
    ``spend`` from :func:`allpayer.compute.tcoc.completed_spend`."""
    s = spend.filter(spend.financial_target)
    return s.select("person_id", "month_index", year=year_of(s.month_index), payer_type=s.payer_type,
                    paid=s.paid_completed)


def base_experience(programs: ir.Table, attribution_month: ir.Table, member_months: ir.Table,
                    claims: ir.Table, risk: ir.Table | None) -> ir.Table:
    """Per program, target year, base-or-performance year and category: member months, paid and mean risk of
    the target year's attributed persons, over their member months of the program's payer type."""
    persons = attribution_month.select("program_id", target_year=attribution_month.year,
                                       person_id=attribution_month.person_id).distinct()
    pop = persons.join(programs, ["program_id", "target_year"])
    mm = member_months.select(_p="person_id", _t="payer_type", month_index="month_index", year="year",
                              weight=member_months.weight.cast("float64"))
    j = pop.join(mm, [pop.person_id == mm._p, pop.payer_type == mm._t,
                      mm.year.between(pop.first_base_year, pop.target_year - 1)])
    return _with_claims_and_risk(j, claims, risk)


def performance_experience(programs: ir.Table, attribution_month: ir.Table, claims: ir.Table,
                           risk: ir.Table | None) -> ir.Table:
    """The same measures over the attributed months of the performance year (weight 1 per attributed month)."""
    am = attribution_month.select("program_id", "person_id", "month_index", target_year=attribution_month.year,
                                  year=attribution_month.year, weight=ibis.literal(1.0))
    j = am.join(programs, ["program_id", "target_year"])
    return _with_claims_and_risk(j, claims, risk)


def _with_claims_and_risk(months: ir.Table, claims: ir.Table, risk: ir.Table | None) -> ir.Table:
    keys = ["program_id", "target_year", "year", "quarter"]
    m = months.mutate(quarter=((months.month_index % 12) // 3 + 1).cast("int64"))
    if risk is not None:
        r = risk.select(_rp=risk.person_id, _ry=risk.year, _risk=risk.risk_score.cast("float64"))
        m = m.left_join(r, [m.person_id == r._rp, m.year == r._ry]).drop("_rp", "_ry")
    else:
        m = m.mutate(_risk=ibis.null("float64"))
    # Summed as decimals: the same in any row order (allpayer.compute.exact), so a re-run settles to the same cent.
    exposure = m.group_by(keys).aggregate(
        member_months=exact_sum(m.weight), persons=m.person_id.nunique().cast("int64"),
        risk_mm=exact_sum(m._risk * m.weight), risk_weight=exact_sum(ibis.ifelse(m._risk.notnull(), m.weight, 0.0)))
    c = claims.select(_cp="person_id", _cm="month_index", _ct="payer_type", category="service_category_1",
                      paid="paid")
    spend = m.join(c, [m.person_id == c._cp, m.month_index == c._cm, m.payer_type == c._ct])
    paid = spend.group_by([*keys, "category"]).aggregate(paid=spend.paid.sum().cast(MONEY))
    return exposure.left_join(paid, keys).drop(*[f"{k}_right" for k in keys])


def regional_experience(member_months: ir.Table, claims: ir.Table, years: list[int]) -> ir.Table:
    """Per payer type and year of ``years`` (the base years a blend reads): member months and paid of everyone
    (the region for a benchmark blend). Other years are left out before the semi-join, whose build side is every
    member month kept (at 630k persons, 13.8M member months of two years took 1.4 s; one year's, 0.7 s)."""
    member_months = member_months.filter(member_months.year.isin(years))
    claims = claims.filter(claims.year.isin(years))
    mm = member_months.group_by(["payer_type", "year"]).aggregate(member_months=exact_sum(member_months.weight))
    # A semi-join, not a join to the distinct keys: the same claims, without grouping 14M member months first.
    keys = member_months.select(_p="person_id", _m="month_index", _t="payer_type")
    c = claims.semi_join(keys, [claims.person_id == keys._p, claims.month_index == keys._m,
                                claims.payer_type == keys._t])
    paid = c.group_by(["payer_type", "year"]).aggregate(paid=c.paid.sum().cast(MONEY))
    return mm.left_join(paid, ["payer_type", "year"]).select("payer_type", "year", "member_months", "paid")


# ------------------------------------------------------------------ exact arithmetic on the aggregates


@dataclass(frozen=True)
class Aggregate:
    member_months: Decimal
    paid: Decimal
    covered_paid: Decimal
    risk: Decimal | None
    persons: int

    @property
    def pmpm(self) -> Decimal:
        return self.paid / self.member_months if self.member_months else Decimal(0)


def rounded_member_months(total: Decimal | None) -> Decimal:
    """A sum of member months as a result keeps it: to 6 places (partial months are fractions of a month)."""
    return round(total or Decimal(0), 6)


def aggregate(rows: list[dict], covered: list[str]) -> Aggregate:
    """Sum pre-grouped rows (one per quarter × category) into one :class:`Aggregate`."""
    exposure = {(r["year"], r["quarter"]): r for r in rows}.values()
    mm = sum((rounded_member_months(r["member_months"]) for r in exposure), Decimal(0))
    risk_w = sum((r["risk_weight"] or Decimal(0) for r in exposure), Decimal(0))
    risk = round(sum((r["risk_mm"] or Decimal(0) for r in exposure), Decimal(0)) / risk_w, 6) if risk_w else None
    paid = sum((r["paid"] or Decimal(0) for r in rows), Decimal(0))
    covered_paid = sum((r["paid"] or Decimal(0) for r in rows if r["category"] in covered), Decimal(0))
    return Aggregate(mm, paid, covered_paid, risk, max((r["persons"] for r in exposure), default=0))


def expected_cost_row(py: ProgramYear, base: dict[int, Aggregate], performance: Aggregate,
                      regional: dict[int, Aggregate]) -> dict:
    """One ``expected_cost`` row: the target for one program-year from its aggregates."""
    target = py.terms.target
    none = Aggregate(Decimal(0), Decimal(0), Decimal(0), None, 0)
    own = regional_pmpm = own_trended = regional_trended = Decimal(0)
    for weight, year in zip(target.base_year_weights, py.base_years, strict=True):  # one to three base years
        growth = (1 + target.trend) ** (py.year - year)
        own += weight * base.get(year, none).pmpm
        own_trended += weight * base.get(year, none).pmpm * growth
        regional_pmpm += weight * regional.get(year, none).pmpm
        regional_trended += weight * regional.get(year, none).pmpm * growth
    blended = (1 - target.regional_blend) * own_trended + target.regional_blend * regional_trended
    last = base.get(py.year - 1)
    ratio = Decimal(1)
    if target.risk_adjust and last and last.risk and performance.risk:
        ratio = performance.risk / last.risk
        if target.risk_ratio_cap is not None:
            ratio = min(ratio, 1 + target.risk_ratio_cap)
    expected_pmpm = (blended * ratio * (1 - target.discount)).quantize(CENT, ROUND_HALF_UP)
    covered_share = (last.covered_paid / last.paid) if last and last.paid else Decimal(0)
    fixed = py.terms.fixed_payment
    fixed_payments = (expected_pmpm * performance.member_months * covered_share * fixed.share_of_expected
                      if fixed else Decimal(0))
    base_mm = sum((a.member_months for a in base.values()), Decimal(0))
    return {
        "program_id": py.program.program_id, "year": py.year, "method": target.method,
        "base_years": ",".join(str(y) for y in py.base_years), "persons": performance.persons,
        "base_member_months": base_mm, "base_pmpm": own.quantize(CENT, ROUND_HALF_UP),
        "regional_pmpm": regional_pmpm.quantize(CENT, ROUND_HALF_UP), "trend": target.trend,
        "regional_blend": target.regional_blend, "trended_pmpm": blended.quantize(CENT, ROUND_HALF_UP),
        "risk_base": last.risk if last else None, "risk_performance": performance.risk,
        "risk_ratio": ratio.quantize(RATIO, ROUND_HALF_UP), "discount": target.discount,
        "expected_pmpm": expected_pmpm, "member_months": performance.member_months,
        "expected_cost": (expected_pmpm * performance.member_months).quantize(CENT, ROUND_HALF_UP),
        "fixed_payments": fixed_payments.quantize(CENT, ROUND_HALF_UP),
        "covered_share": covered_share.quantize(RATIO, ROUND_HALF_UP),
        "ffs_paid": (performance.paid - (performance.covered_paid if fixed else 0)).quantize(CENT, ROUND_HALF_UP),
        "fixed_covered_ffs_equivalent": (performance.covered_paid if fixed else Decimal(0)).quantize(CENT),
        "illustrative": ",".join(py.terms.illustrative_terms()),
    }


def value_payment_rows(py: ProgramYear, expected_pmpm: Decimal, quarters: dict[int, Aggregate],
                       status: dict[int, str]) -> list[dict]:
    """Quarterly re-estimation and value payment PMPM per quarter (the first quarter at the base PMPM)."""
    vp = py.terms.value_payment
    base_pmpm = vp.pmpm if vp else Decimal(0)
    pmpm, rows = base_pmpm, []
    mm_to_date = paid_to_date = Decimal(0)
    for quarter in (1, 2, 3, 4):  # four quarters
        q = quarters.get(quarter, Aggregate(Decimal(0), Decimal(0), Decimal(0), None, 0))
        mm_to_date += q.member_months
        paid_to_date += q.paid
        actual_pmpm = paid_to_date / mm_to_date if mm_to_date else Decimal(0)
        performance = (expected_pmpm - actual_pmpm) / expected_pmpm if expected_pmpm and mm_to_date else Decimal(0)
        factor = Decimal(1)
        if vp and vp.quarterly_adjustment and mm_to_date:
            rule = vp.quarterly_adjustment
            factor = min(max(1 + rule.sensitivity * performance, rule.min_factor), rule.max_factor)
        run_rate = mm_to_date * 4 / quarter
        rows.append({
            "program_id": py.program.program_id, "year": py.year, "quarter": quarter, "member_months": q.member_months,
            "member_months_to_date": mm_to_date, "paid_to_date": paid_to_date.quantize(CENT),
            "actual_pmpm_to_date": actual_pmpm.quantize(CENT, ROUND_HALF_UP), "expected_pmpm": expected_pmpm,
            "performance_to_date": performance.quantize(RATIO, ROUND_HALF_UP),
            "reestimated_expected_cost": (expected_pmpm * run_rate).quantize(CENT, ROUND_HALF_UP),
            "projected_actual_cost": (actual_pmpm * run_rate).quantize(CENT, ROUND_HALF_UP),
            "value_payment_pmpm": pmpm.quantize(CENT, ROUND_HALF_UP),
            "value_payment": (pmpm.quantize(CENT, ROUND_HALF_UP) * q.member_months).quantize(CENT, ROUND_HALF_UP),
            "next_quarter_pmpm": (base_pmpm * factor).quantize(CENT, ROUND_HALF_UP),
            "status": status.get(quarter, "provisional"),
        })
        pmpm = base_pmpm * factor
    return rows
