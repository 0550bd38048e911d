"""Attribution: which persons each payer program attributes to its ACO, and to whom (domain.md §6.1, §8.6).

Plurality method (MSSP step-wise, 42 CFR 425.402), per program, performance year and period:

1. *Eligible*: program coverage in the period's as-of month (prospective, quarterly) or in any month of the
   year (retrospective); no month of an excluded coverage (e.g. Medicare Advantage) in the window; for
   ``require_primary_payer`` programs, the program's payer type is the person's primary payer that month.
2. *Services*: final-action claim lines of the program's payer and plan, dated in the look-back window, with a
   primary-care HCPCS code of the performance year's list, except SNF place-of-service exclusions of that year.
   The rendering NPI's CMS specialty (roster ``specialty_code``, else NUCC taxonomy crosswalk) gives its
   category: ``pcp`` or ``npp`` (step 1) or ``specialist`` (step 2); other specialties do not count.
3. *Entities*: a line's billing TIN belongs to the ACO it participates in on the as-of date (roster
   ``aco_id`` and dates); other TINs stand alone (``TIN:<tin>``). Lines of TINs in more than one ACO are
   dropped (§425.400).
4. *Step*: step 1 if the person has any step-1 service, else step 2 (when the program has a specialist step).
5. *Plurality*: entities ranked by allowed dollars (desc), then the most recent service date (desc), then
   the lowest lead NPI, then entity id; the clinician (NPI under a TIN) leading an entity is ranked the same
   way. The person is attributed when the winning entity is the program's ACO.
6. *Voluntary alignment* (when on): the latest designation signed on or before the as-of date wins over
   claims: a designated clinician in the ACO attributes the person (``voluntary``); one outside blocks
   claims-based attribution (``voluntary_blocked``).
7. *Expanded attribution* (when on for the year): eligible persons with no counted service at all, a
   full-benefit plan and no other coverage in the as-of month are attributed (``expanded``).

Payer-file method: the payer's monthly attribution rows are taken as given.

Outputs (:class:`AttributionResult`): ``attribution`` (one row per program, year, period and eligible or
designating person), ``candidates`` (every entity and clinician with their allowed dollars: the explanation),
``months`` (attributed person-months; prospective lists lose members in months without program coverage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from allpayer.compute.attribution_setup import (
    code_tables,
    glob_any,
    match_predicate,
    month_end,
    month_start,
    periods_table,
    select_programs,
    tag_program,
    union_all,
)
from allpayer.compute.calendar import month_index
from allpayer.compute.enrollment import COVERAGE_KEYS, coverage_spans, member_months, overlapping_persons, primary_payer
from allpayer.compute.stage import Stage, lazy
from allpayer.config.models import Pack, Program
from allpayer.refdata import attribution as ref

K = ["program_id", "year", "period"]

STEP_NAMES = {1: "primary_care", 2: "specialist"}
ATTRIBUTION_COLUMNS = {
    "program_id": "string", "year": "int64", "period": "int64", "person_id": "string", "attributed": "boolean",
    "step": "string", "aco_id": "string", "entity_id": "string", "npi": "string", "tin": "string",
    "practice_id": "string", "practice_name": "string", "practice_hsa": "string", "allowed": "decimal(18, 2)",
    "candidate_entities": "int64", "asof_date": "date",
}
MONTH_COLUMNS = {
    "program_id": "string", "year": "int64", "period": "int64", "person_id": "string", "month_index": "int64",
    "month": "int64", "aco_id": "string", "npi": "string", "tin": "string", "practice_id": "string",
    "step": "string",
}


@dataclass(frozen=True)
class AttributionInputs:
    enrollment: ir.Table
    person: ir.Table
    medical_claim: ir.Table  # final-action lines
    provider: ir.Table
    voluntary: ir.Table | None = None  # person_id, npi, tin, signed_date
    payer_file: ir.Table | None = None  # Tuva provider_attribution shape (see docs/attribution.md)
    primary: ir.Table | None = None  # precomputed primary_payer_months(...), if at hand
    overlapping: ir.Table | None = None  # precomputed enrollment.overlapping_persons(enrollment, person), if at hand


@dataclass(frozen=True)
class AttributionResult:
    attribution: ir.Table
    candidates: ir.Table
    months: ir.Table

    def tables(self) -> dict[str, ir.Table]:
        return {"attribution": self.attribution, "attribution_candidate": self.candidates,
                "attribution_month": self.months}


def _conform(table: ir.Table, columns: dict[str, str]) -> ir.Table:
    return table.select(**{c: table[c].cast(t) for c, t in columns.items()})


# ---------------------------------------------------------------- eligibility


def program_months(pack: Pack, programs: list[Program], cov: ir.Table,
                   months: tuple[int, int] | None = None, primary: ir.Table | None = None) -> ir.Table:
    """``program_id``, ``person_id``, ``month_index``, ``plan``: months with program coverage (within
    ``months``, first and last month index, if given); ``cov`` is
    :func:`~allpayer.compute.enrollment.member_months` (cut at death); ``primary`` the primary payer per person
    and month with the number of ``coverages`` (:func:`~allpayer.compute.enrollment.primary_payer_months`) for
    every month of ``cov``, computed from ``cov`` if not given."""
    if months is not None:
        cov = cov.filter(cov.month_index.between(*months))
    tagged = tag_program(cov, programs, lambda p: match_predicate(cov, p.match))
    primary_only = [p.program_id for p in programs if p.attribution.eligibility.require_primary_payer]
    if primary_only:
        if primary is None:
            primary = primary_payer(cov, pack.payer_hierarchy)
        elif months is not None:
            primary = primary.filter(primary.month_index.between(*months))
        # A person-month with one coverage has it as primary: only the few with several are looked up.
        several = primary.filter(primary.coverages > 1)
        prim = several.select("person_id", "month_index", primary_type="payer_type")
        j = tagged.left_join(prim, ["person_id", "month_index"])
        keep = ~j.program_id.isin(primary_only) | j.primary_type.isnull() | (j.primary_type == j.payer_type)
        tagged = j.filter(keep).drop("primary_type")
    return tagged.select("program_id", "person_id", "month_index", "plan")


def span_runs(spans: ir.Table) -> ir.Table:
    """Enrollment spans (:func:`~allpayer.compute.enrollment.coverage_spans`, cut at death) with their first and
    last month indexes (``first_month``, ``last_month``)."""
    return spans.select(*COVERAGE_KEYS, first_month=month_index(spans.start_date),
                        last_month=month_index(spans.end_date))


def coverage_runs(pack: Pack, programs: list[Program], spans: ir.Table, overlapping: ir.Table, cov: ir.Table,
                  months: tuple[int, int], primary: ir.Table | None = None) -> ir.Table:
    """``program_id``, ``person_id``, ``plan``, ``first_month``, ``last_month``: runs of months with program
    coverage, within ``months`` (first and last month index).

    A person outside ``overlapping`` (:func:`~allpayer.compute.enrollment.overlapping_persons`) has one coverage
    in each covered month, which is therefore their primary payer: each of their ``spans`` (cut at death) that
    matches a program is one run. The others' months (``cov``: their member months, cut at death) go through
    :func:`program_months` (``primary`` as there), each month a run of one. At 630k persons the runs are 0.7M
    spans and 1.0M months, where the program months were 12.0M rows."""
    lo, hi = months
    single = span_runs(spans.anti_join(overlapping, "person_id"))
    tagged = tag_program(single, programs, lambda p: match_predicate(single, p.match))
    tagged = tagged.select("program_id", "person_id", "plan", first_month=ibis.greatest(tagged.first_month, lo),
                           last_month=ibis.least(tagged.last_month, hi))
    tagged = tagged.filter(tagged.first_month <= tagged.last_month)
    several = program_months(pack, programs, cov, months, primary)
    several = several.select("program_id", "person_id", "plan", first_month="month_index",
                             last_month="month_index")
    return tagged.union(several, distinct=False)


def _covers(runs: ir.Table, first: ir.IntegerValue, last: ir.IntegerValue) -> ir.BooleanValue:
    """Whether a run of months shares a month with the months ``first`` to ``last``."""
    return (runs.first_month <= last) & (runs.last_month >= first)


def _other_coverage(programs: list[Program], spans: ir.Table) -> ir.Table | None:
    """Runs of coverage outside the program (``program_id``, ``person_id``, ``first_month``, ``last_month``), for
    expanded attribution ("no other insurance")."""
    chosen = [p for p in programs if p.attribution.expanded.enabled]
    if not chosen:
        return None
    runs = span_runs(spans)
    return tag_program(runs, chosen, lambda p: ~match_predicate(runs, p.match)).select(
        "program_id", "person_id", "first_month", "last_month")


def _excluded_coverage(programs: list[Program], spans: ir.Table) -> ir.Table | None:
    """Runs of an excluded coverage (e.g. Medicare Advantage) per program that excludes it."""
    chosen = [p for p in programs if p.attribution.eligibility.exclude_coverage]
    if not chosen:
        return None
    runs = span_runs(spans)
    return tag_program(runs, chosen, lambda p: runs.payer_type.isin(p.attribution.eligibility.exclude_coverage)) \
        .select("program_id", "person_id", "first_month", "last_month")


def eligible_persons(periods: ir.Table, runs: ir.Table, excluded: ir.Table | None) -> ir.Table:
    """``K`` + ``person_id`` for persons eligible in each period: program coverage (``runs``, from
    :func:`coverage_runs`) in the as-of month (prospective, quarterly) or in a month of the period
    (retrospective), and no ``excluded`` coverage in the look-back window."""
    prospective = periods.timing != "retrospective"
    j = periods.join(runs, [
        periods.program_id == runs.program_id,
        ibis.ifelse(prospective, _covers(runs, periods.asof_month, periods.asof_month),
                    _covers(runs, periods.month_first, periods.month_last)),
    ])
    out = j.select(*K, "person_id").distinct()
    if excluded is None:
        return out
    hit = periods.join(excluded, [periods.program_id == excluded.program_id,
                                  _covers(excluded, periods.window_first, periods.window_last)])
    return out.anti_join(hit.select(*K, "person_id").distinct(), [*K, "person_id"])


# ---------------------------------------------------------------- providers


def clinician_specialty(provider: ir.Table) -> ir.Table:
    """One CMS specialty per NPI: the roster's code, else the NUCC taxonomy crosswalk (lowest if several)."""
    xwalk = ibis.memtable(ref.taxonomy_specialty())
    j = provider.left_join(xwalk, provider.taxonomy_code == xwalk.taxonomy_code)
    spec = ibis.coalesce(j.specialty_code.nullif(""), j.xwalk_specialty_code)
    return j.group_by(npi=j.npi).aggregate(specialty_code=spec.min())


def tin_participation(periods: ir.Table, provider: ir.Table) -> ir.Table:
    """``K`` + ``tin``, ``aco_id``, ``aco_count``: the ACO of each participating TIN on the as-of date."""
    roster = provider.filter(provider.aco_id.notnull() & (provider.aco_id != "")).select(
        "tin", "aco_start_date", "aco_end_date", tin_aco="aco_id")
    j = periods.select(*K, "asof_date").join(roster, [
        roster.aco_start_date.isnull() | (roster.aco_start_date <= periods.asof_date),
        roster.aco_end_date.isnull() | (roster.aco_end_date >= periods.asof_date),
    ])
    pairs = j.select(*K, "tin", aco_id=j.tin_aco).distinct()
    return pairs.mutate(aco_count=pairs.count().over(ibis.window(group_by=[*K, "tin"])))


def practices(provider: ir.Table) -> ir.Table:
    """One practice row per (NPI, TIN)."""
    return provider.group_by(["npi", "tin"]).aggregate(
        practice_id=provider.practice_id.min(), practice_name=provider.practice_name.min(),
        practice_hsa=provider.hsa.min())


# ---------------------------------------------------------------- services and plurality


def claim_lines(medical_claim: ir.Table, prefilter: tuple[list[str], dt.date, dt.date] | None = None) -> ir.Table:
    """The claim lines that may count: a procedure code and a rendering NPI; with ``prefilter`` (every code of
    any period, first and last window day) only those codes and dates. Narrow, so it is cheap to store."""
    c = medical_claim
    service_date = ibis.coalesce(c.claim_line_start_date, c.claim_start_date)
    keep = c.hcpcs_code.notnull() & c.rendering_npi.notnull()
    if prefilter is not None:
        all_codes, first_day, last_day = prefilter
        keep = keep & c.hcpcs_code.isin(all_codes) & service_date.between(first_day, last_day)
    return c.filter(keep).select(
        "person_id", "payer", "plan", "hcpcs_code", npi=c.rendering_npi,
        tin=ibis.coalesce(c.billing_tin, c.rendering_tin), pos=c.place_of_service_code.fill_null(""),
        allowed=c.allowed_amount.fill_null(0), service_date=service_date, month_index=month_index(service_date))


def primary_care_lines(inputs: AttributionInputs, programs: list[Program], periods: ir.Table, codes: ir.Table,
                       snf: ir.Table, spec: ir.Table, eligible: ir.Table,
                       prefilter: tuple[list[str], dt.date, dt.date] | None = None, stage: Stage = lazy) -> ir.Table:
    """Counted primary-care lines per period with entity, step and category. The :func:`claim_lines` of the
    programs' plans, and then the lines matched to periods and codes, are staged: the joins that follow are then
    planned on true sizes (plans built on estimates held millions of lines in a join's hash table and ran out of
    memory at 630k)."""
    enr = inputs.enrollment
    # The programs' plans are stored first, so the join below knows they are a handful of rows: estimated from
    # the enrollment, they looked larger than the lines, and DuckDB built its hash table of the lines (1.7 s of
    # 4.3 s for the 3.9M lines at 630k persons).
    plans = stage("att_plans", tag_program(enr, programs, lambda p: match_predicate(enr, p.match)).select(
        "program_id", "payer", "plan").distinct())
    # The program goes on the stored lines: joined after the periods and codes instead, it met a product of
    # lines and every program's periods (23M rows for 3.9M lines at 630k) that the plans then cut to 5M. Payer and
    # plan, read by nothing after, are not stored.
    lines = stage("att_claim_lines", claim_lines(inputs.medical_claim, prefilter).join(plans, ["payer", "plan"])
                  .drop("payer", "plan"))
    lines = lines.join(periods, [lines.program_id == periods.program_id,
                                 lines.month_index.between(periods.window_first, periods.window_last)])
    lines = lines.select(*K, "person_id", "hcpcs_code", "npi", "tin", "pos", "allowed", "service_date",
                         "specialist_step")
    # Kept to the eligible persons before they are stored: a third of the lines matched to periods and codes at
    # 630k persons (1.8M of 5.3M).
    lines = lines.join(codes, [*K, "hcpcs_code"]).anti_join(snf, [*K, "hcpcs_code", "pos"])
    lines = stage("att_period_lines", lines.semi_join(eligible, [*K, "person_id"]))
    lines = lines.join(clinician_specialty(inputs.provider), "npi").join(spec, [*K, "specialty_code"])
    step = ibis.ifelse(lines.category == "specialist", 2, 1)
    lines = lines.mutate(step=step).filter((step == 1) | lines.specialist_step)
    tins = tin_participation(periods, inputs.provider)
    j = lines.left_join(tins, [*K, "tin"])
    j = j.filter(j.aco_count.fill_null(1) <= 1)
    entity = ibis.coalesce(j.aco_id, ibis.literal("TIN:") + j.tin, ibis.literal("NPI:") + j.npi)
    return j.select(*K, "person_id", "npi", "tin", "allowed", "service_date", "step", "specialty_code", "category",
                    aco_id=j.aco_id, entity_id=entity)


def candidates(lines: ir.Table) -> ir.Table:
    """The explanation: per person and period, every (entity, TIN, NPI) of the step used, with allowed dollars,
    services, last service date, the clinician's rank within its entity and the entity's rank."""
    person_step = lines.group_by([*K, "person_id"]).aggregate(person_step=lines.step.min())
    used = lines.join(person_step, [*K, "person_id"])
    used = used.filter(used.step == used.person_step)
    c = used.group_by([*K, "person_id", "step", "entity_id", "aco_id", "tin", "npi", "specialty_code", "category"]) \
        .aggregate(allowed=used.allowed.sum(), services=used.count(), last_service_date=used.service_date.max())
    clin_w = ibis.window(group_by=[c.program_id, c.year, c.period, c.person_id, c.entity_id],
                         order_by=[ibis.desc(c.allowed), ibis.desc(c.last_service_date), c.npi, c.tin])
    c = c.mutate(clinician_rank=ibis.row_number().over(clin_w) + 1)
    ent = c.group_by([*K, "person_id", "entity_id"]).aggregate(
        entity_allowed=c.allowed.sum(), entity_last=c.last_service_date.max(),
        lead_npi=c.npi.min(where=c.clinician_rank == 1))
    ent_w = ibis.window(group_by=[ent.program_id, ent.year, ent.period, ent.person_id],
                        order_by=[ibis.desc(ent.entity_allowed), ibis.desc(ent.entity_last), ent.lead_npi,
                                  ent.entity_id])
    ent = ent.mutate(entity_rank=ibis.row_number().over(ent_w) + 1,
                     candidate_entities=ent.count().over(ibis.window(group_by=[*K, "person_id"])))
    return c.join(ent, [*K, "person_id", "entity_id"]).mutate(
        step_name=ibis.ifelse(ibis._.step == 1, STEP_NAMES[1], STEP_NAMES[2]))


# ---------------------------------------------------------------- overrides


def voluntary_designations(voluntary: ir.Table, periods: ir.Table, provider: ir.Table,
                           eligible: ir.Table) -> ir.Table:
    """``K`` + person_id, ``vol_inside``, ``vol_npi``, ``vol_tin`` for programs with voluntary alignment.

    The designated clinician is inside when a roster row of the NPI (under the designated TIN, if given)
    participates in the program's ACO on the as-of date."""
    vp = periods.filter(periods.voluntary)
    d = voluntary.select("person_id", "npi", tin=voluntary.tin.cast("string"), signed_date=voluntary.signed_date)
    j = d.join(vp, d.signed_date <= vp.asof_date).select(*K, "aco_id", "asof_date", "person_id", "npi", "tin",
                                                         "signed_date")
    w = ibis.window(group_by=[j.program_id, j.year, j.period, j.person_id],
                    order_by=[ibis.desc(j.signed_date), j.npi, j.tin.fill_null("")])
    latest = j.mutate(_r=ibis.row_number().over(w)).filter(ibis._._r == 0).drop("_r")
    latest = latest.semi_join(eligible, [*K, "person_id"])
    roster = provider.select(r_npi="npi", r_tin="tin", r_aco="aco_id", r_start="aco_start_date",
                             r_end="aco_end_date")
    r = latest.left_join(roster, [latest.npi == roster.r_npi, latest.tin.isnull() | (latest.tin == roster.r_tin)])
    active = (r.r_start.isnull() | (r.r_start <= r.asof_date)) & (r.r_end.isnull() | (r.r_end >= r.asof_date))
    r = r.select(*K, "person_id", vol_npi=r.npi, tin=ibis.coalesce(r.r_tin, r.tin),
                 inside=((r.r_aco == r.aco_id) & active).fill_null(False))
    return r.group_by([*K, "person_id", "vol_npi"]).aggregate(
        vol_inside=r.inside.max(), vol_tin=ibis.coalesce(r.tin.min(where=r.inside), r.tin.min()))


def expanded_persons(periods: ir.Table, programs: list[Program], runs: ir.Table, other: ir.Table | None,
                     eligible: ir.Table, lines: ir.Table) -> ir.Table:
    """Persons eligible for expanded attribution (no counted service, full benefits, no other insurance in the
    as-of month); ``runs`` and ``other`` are runs of months of program and other coverage."""
    ep = periods.filter(periods.expanded)
    full = tag_program(runs, [p for p in programs if p.attribution.expanded.enabled],
                       lambda p: glob_any(runs.plan, p.attribution.expanded.full_benefit_plans))
    j = ep.join(full, [ep.program_id == full.program_id, _covers(full, ep.asof_month, ep.asof_month)])
    out = j.select(*K, "person_id").distinct().semi_join(eligible, [*K, "person_id"])
    out = out.anti_join(lines.select(*K, "person_id").distinct(), [*K, "person_id"])
    if other is not None:
        hit = ep.join(other, [ep.program_id == other.program_id, _covers(other, ep.asof_month, ep.asof_month)])
        out = out.anti_join(hit.select(*K, "person_id").distinct(), [*K, "person_id"])
    return out.mutate(expanded_ok=ibis.literal(True))


# ---------------------------------------------------------------- assembly


def _clean(t: ir.Table) -> ir.Table:
    """Drop the right-hand copies of join keys."""
    right = [c for c in t.columns if c.endswith("_right")]
    return t.drop(*right) if right else t


def _decide(periods: ir.Table, eligible: ir.Table, cands: ir.Table, vol: ir.Table | None, exp: ir.Table | None,
            provider: ir.Table) -> ir.Table:
    win = cands.filter((cands.entity_rank == 1) & (cands.clinician_rank == 1)).select(
        *K, "person_id", "step_name", "candidate_entities", win_entity="entity_id", win_aco="aco_id",
        win_npi="npi", win_tin="tin", win_allowed="entity_allowed")
    base = eligible
    if vol is not None:
        base = base.union(vol.select(*K, "person_id")).distinct()
    t = _clean(base.left_join(win, [*K, "person_id"]))
    t = t.join(periods.select(*K, "aco_id", "asof_date"), K)
    if vol is None:
        t = t.mutate(vol_inside=ibis.null("boolean"), vol_npi=ibis.null("string"), vol_tin=ibis.null("string"))
    else:
        t = _clean(t.left_join(vol, [*K, "person_id"]))
    no_exp = exp is None
    t = t.mutate(expanded_ok=ibis.literal(False)) if no_exp else _clean(t.left_join(exp, [*K, "person_id"]))
    inside, blocked = t.vol_inside.fill_null(False), (t.vol_inside == False).fill_null(False)  # noqa: E712
    claims_win = (t.win_aco == t.aco_id).fill_null(False) & ~blocked
    expanded = t.expanded_ok.fill_null(False) & t.win_entity.isnull() & ~blocked & ~inside
    step = ibis.cases((inside, "voluntary"), (blocked, "voluntary_blocked"), (t.win_entity.notnull(), t.step_name),
                      (expanded, "expanded"), else_="none")
    attributed = inside | claims_win | expanded
    npi = ibis.ifelse(inside | blocked, t.vol_npi, t.win_npi)
    tin = ibis.ifelse(inside | blocked, t.vol_tin, t.win_tin)
    out = t.select(*K, "person_id", "asof_date", attributed=attributed, step=step,
                   aco_id=ibis.ifelse(attributed, t.aco_id, t.win_aco),
                   entity_id=ibis.ifelse(inside, t.aco_id, ibis.ifelse(expanded, t.aco_id, t.win_entity)),
                   npi=npi, tin=tin, allowed=t.win_allowed, candidate_entities=t.candidate_entities.fill_null(0))
    prac = practices(provider)
    out = out.left_join(prac, [out.npi == prac.npi, out.tin == prac.tin]).drop("npi_right", "tin_right")
    return _conform(out, ATTRIBUTION_COLUMNS)


def _attributed_months(attribution: ir.Table, periods: ir.Table, runs: ir.Table, overlapping: ir.Table) -> ir.Table:
    """Months of program coverage within each attributed person's period: the attributed persons' runs of months
    (:func:`coverage_runs`) cut to the period and expanded. A person in ``overlapping`` may hold two coverages of
    one program in a month, so their months are made distinct; the others' runs are their spans, which never
    share a month (made distinct and joined to the persons again, every month took 0.8 s at 630k persons)."""
    attributed = attribution.filter(attribution.attributed).select(*K, "person_id", "aco_id", "npi", "tin",
                                                                   "practice_id", "step")
    a = attributed.join(periods.select(*K, "month_first", "month_last"), K)
    r = runs.select(_program="program_id", _person="person_id", first_month="first_month", last_month="last_month")
    hit = a.join(r, [a.program_id == r._program, a.person_id == r._person, _covers(r, a.month_first, a.month_last)])
    first, last = ibis.greatest(hit.first_month, hit.month_first), ibis.least(hit.last_month, hit.month_last)
    months = hit.select(*attributed.columns, month_index=ibis.range(first, last + 1).unnest())
    months = months.anti_join(overlapping, "person_id").union(
        months.semi_join(overlapping, "person_id").distinct(), distinct=False)
    return _conform(months.mutate(month=months.month_index % 12 + 1), MONTH_COLUMNS)


def plurality(pack: Pack, inputs: AttributionInputs, runs: list[tuple[Program, int]],
              stage: Stage = lazy) -> AttributionResult:
    programs = list({p.program_id: p for p, _ in runs}.values())
    period_arrow = periods_table(runs)
    code_arrow, snf_arrow, spec_arrow = code_tables(period_arrow, {p.program_id: p for p in programs})
    codes, snf, spec = ibis.memtable(code_arrow), ibis.memtable(snf_arrow), ibis.memtable(spec_arrow)
    first, last = min(period_arrow["window_first"].to_pylist()), max(period_arrow["window_last"].to_pylist())
    prefilter = (sorted(set(code_arrow["hcpcs_code"].to_pylist())), month_start(first), month_end(last))
    periods = ibis.memtable(period_arrow)
    spans = coverage_spans(inputs.enrollment, inputs.person)
    overlapping = inputs.overlapping if inputs.overlapping is not None else stage(
        "att_overlapping", overlapping_persons(inputs.enrollment, inputs.person))
    # Month rows are needed only for the persons whose coverage overlaps (see coverage_runs): expanded from their
    # spans, not read from every member month (coverage runs 1.4 s -> 1.2 s at 630k persons).
    cov = member_months(inputs.enrollment.semi_join(overlapping, "person_id"), inputs.person)
    span = (min(period_arrow["month_first"].to_pylist()), max(period_arrow["month_last"].to_pylist()))
    runs = stage("att_coverage_runs", coverage_runs(pack, programs, spans, overlapping, cov, span, inputs.primary))
    excluded = _excluded_coverage(programs, spans)
    eligible = stage("att_eligible", eligible_persons(periods, runs, excluded))
    lines = stage("att_lines", primary_care_lines(inputs, programs, periods, codes, snf, spec, eligible, prefilter,
                                                  stage))
    cands = stage("att_candidates", candidates(lines))
    vol = None
    if inputs.voluntary is not None and any(p.attribution.voluntary_alignment for p in programs):
        vol = voluntary_designations(inputs.voluntary, periods, inputs.provider, eligible)
    exp = None
    if any(p.attribution.expanded.enabled for p in programs):
        other = _other_coverage(programs, spans)
        exp = expanded_persons(periods, programs, runs, other, eligible, lines)
    attribution = stage("att_attribution", _decide(periods, eligible, cands, vol, exp, inputs.provider))
    cand_out = cands.select(*K, "person_id", "step_name", "entity_id", "aco_id", "tin", "npi", "specialty_code",
                            "category", "allowed", "services", "last_service_date", "clinician_rank",
                            "entity_allowed", "entity_rank")
    return AttributionResult(attribution, cand_out, _attributed_months(attribution, periods, runs, overlapping))


def payer_file(inputs: AttributionInputs, runs: list[tuple[Program, int]]) -> AttributionResult:
    """Payer-supplied monthly attribution (Tuva ``provider_attribution`` columns), taken as given."""
    f = inputs.payer_file
    ym = f.year_month.cast("string").replace("-", "").cast("int64")
    f = f.mutate(month_index=(ym // 100) * 12 + ym % 100 - 1, year=ym // 100)
    parts = []
    for program, year in runs:
        sel = f.filter(match_predicate(f, program.match) & (f.year == year)
                       & (f.payer_attributed_provider_organization == program.aco_id))
        parts.append(sel.select(
            "person_id", "month_index", program_id=ibis.literal(program.program_id), year=ibis.literal(year),
            period=ibis.literal(0), aco_id=ibis.literal(program.aco_id), npi=sel.payer_attributed_provider,
            tin=ibis.null("string"), practice_id=sel.payer_attributed_provider_practice,
            step=ibis.literal("payer_file"), month=sel.month_index % 12 + 1))
    months = _conform(union_all(parts), MONTH_COLUMNS).distinct()
    w = ibis.window(group_by=[months.program_id, months.year, months.person_id],
                    order_by=[ibis.desc(months.month_index), months.npi])
    last = months.mutate(_r=ibis.row_number().over(w)).filter(ibis._._r == 0)
    att = last.select(*K, "person_id", "aco_id", "npi", "tin", "practice_id", "step",
                      attributed=ibis.literal(True), entity_id=last.aco_id, practice_name=ibis.null("string"),
                      practice_hsa=ibis.null("string"), allowed=ibis.null("decimal(18, 2)"),
                      candidate_entities=ibis.literal(0), asof_date=ibis.null("date"))
    empty = att.limit(0).select(*K, "person_id", step_name=att.step, entity_id=att.entity_id, aco_id=att.aco_id,
                                tin=att.tin, npi=att.npi, specialty_code=ibis.null("string"),
                                category=ibis.null("string"), allowed=att.allowed, services=ibis.literal(0),
                                last_service_date=ibis.null("date"), clinician_rank=ibis.literal(0),
                                entity_allowed=att.allowed, entity_rank=ibis.literal(0))
    return AttributionResult(_conform(att, ATTRIBUTION_COLUMNS), empty, months)


CANDIDATE_COLUMNS = {
    "program_id": "string", "year": "int64", "period": "int64", "person_id": "string", "step_name": "string",
    "entity_id": "string", "aco_id": "string", "tin": "string", "npi": "string", "specialty_code": "string",
    "category": "string", "allowed": "decimal(18, 2)", "services": "int64", "last_service_date": "date",
    "clinician_rank": "int64", "entity_allowed": "decimal(18, 2)", "entity_rank": "int64",
}


def attribute(pack: Pack, inputs: AttributionInputs, years: Iterable[int] | None = None,
              program_ids: Iterable[str] | None = None, stage: Stage = lazy) -> AttributionResult:
    """Run every selected program-year of ``pack``; the results of all methods in one set of tables.
    ``stage`` optionally computes intermediate tables once (see :data:`Stage`)."""
    results = []
    runs = select_programs(pack, years, program_ids, "plurality")
    if runs:
        results.append(plurality(pack, inputs, runs, stage))
    file_runs = select_programs(pack, years, program_ids, "payer_file")
    if file_runs:
        if inputs.payer_file is None:
            raise ValueError(f"programs {sorted({p.program_id for p, _ in file_runs})} take a payer attribution "
                             "file, and none was given")
        results.append(payer_file(inputs, file_runs))
    if not results:
        raise ValueError("no program-year to attribute: check --program and --year against the pack")
    return AttributionResult(
        union_all([_conform(r.attribution, ATTRIBUTION_COLUMNS) for r in results]),
        union_all([_conform(r.candidates, CANDIDATE_COLUMNS) for r in results]),
        union_all([_conform(r.months, MONTH_COLUMNS) for r in results]),
    )
