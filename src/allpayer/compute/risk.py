"""Risk scores per person-year: CMS-HCC for Medicare, age/sex demographic factors for other payers.

- CMS-HCC (``risk_hcc``): ``score = (w24 x raw24 / norm24 + w28 x raw28 / norm28) x (1 - coding_adjustment)``
  with the blend of the payment year (``RiskSettings.blends``). Diagnoses come from final-action medical
  claims of the same year (``diagnosis_year_offset = 0``, concurrent) or the year before (``1``, prospective).
- Age/sex factors for other payers: ``factor(payer type, sex, age band) = PMPM of the cell / PMPM of the payer
  type`` in the reference year (cells without member months get 1.0).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.exact import exact_float_sum
from allpayer.compute.final_action import final_action_among
from allpayer.compute.risk_hcc import age_band, normal_diagnosis, raw_scores
from allpayer.compute.stage import Stage, lazy
from allpayer.config.cost import RiskSettings

DIAGNOSIS_POSITIONS = 25
DIAGNOSIS_COLUMNS = tuple(f"diagnosis_code_{i}" for i in range(1, DIAGNOSIS_POSITIONS + 1))
SECONDARY_DIAGNOSES = DIAGNOSIS_COLUMNS[1:]  # may be absent from the claims risk and quality read
YEARS = range(1990, 2041)


def filled_values(table: ir.Table, columns: Sequence[str], first: int = 0) -> ir.ArrayValue:
    """The filled (not null, not empty) values of ``columns`` of each row, in order, as a list.

    Most claim lines fill one or two of their 25 diagnosis positions, and a list of every position costs the
    same filled or not. So the list of every column is built only for a row that fills one after the ``first``
    columns; any other row lists those ``first`` columns, or with ``first`` 0 gets a null and no list at all.
    Listing 7.3M lines' 25 positions took 2.6 s, 1.3 s so; writing 8M lines' lists of positions 3-25 took
    1.4 s built on every line, 0.6 s so (1.8 s as 23 columns)."""
    values = [table[c] for c in columns]

    def listed(part: list[ir.StringValue]) -> ir.ArrayValue:
        return ibis.array(part).filter(lambda code: code.notnull() & (code != ""))

    every = listed(values)
    if first >= len(values):
        return every
    head = listed(values[:first]) if first else ibis.null(every.type())
    return ibis.ifelse(ibis.coalesce(*values[first:]).isnull(), head, every)


def age_on(birth_date: ir.DateValue, year: ir.IntegerValue, month: int = 2, day: int = 1) -> ir.IntegerValue:
    """Whole years of age on ``month``/``day`` of ``year`` (CMS: 1 February of the payment year)."""
    before = (birth_date.month() > month) | ((birth_date.month() == month) & (birth_date.day() > day))
    return (year - birth_date.year() - ibis.ifelse(before, 1, 0)).cast("int64")


def claim_diagnoses(medical_claim: ir.Table, offset: int = 0, scored: ir.Table | None = None,
                    superseded: ir.Table | None = None, mapped: ir.Table | None = None) -> ir.Table:
    """Distinct (person_id, year, diagnosis_code) from final-action medical claims; ``year`` is the service
    year plus ``offset`` (the year the diagnosis is scored in). ``scored`` (person_id, year), if given, keeps only
    the person-years that will be scored: the positions of everyone else's claims are never turned into rows.
    ``mapped`` (``diagnosis_code``, in :func:`normal_diagnosis` form), if given, keeps only the codes it lists
    (those a CMS-HCC model maps: 13% of the scored persons' distinct codes at 630k persons), before they are made
    distinct. ``medical_claim`` may be final-action lines, or the lines as loaded with the ``superseded`` versions
    (worked out from them when None): then the lines are kept to the scored person-years before final action, so
    its anti-join reads those only (7.3M of 20.5M lines at 630k persons)."""
    dated = medical_claim.mutate(year=(medical_claim.claim_start_date.year() + offset).cast("int64"))
    kept = dated if scored is None else dated.semi_join(scored, ["person_id", "year"])
    fa = final_action_among(medical_claim, kept, superseded)
    cols = [name for name in DIAGNOSIS_COLUMNS if name in fa.columns]
    narrow = fa.select("person_id", *cols, "year")
    # One scan; each line's filled positions become rows. Most of the 25 positions are empty: dropping them
    # before they are rows, not after, saves turning 183M position values into rows at 630k persons.
    out = narrow.select("person_id", "year", diagnosis_code=filled_values(narrow, cols, first=2).unnest())
    if mapped is not None:
        out = out.semi_join(mapped, normal_diagnosis(out.diagnosis_code) == mapped.diagnosis_code)
    return out.distinct()


def hcc_person_years(member_months: ir.Table, payer_types: list[str]) -> ir.Table:
    """(person_id, year) with member months in ``payer_types``: the person-years CMS-HCC scores. ``member_months``
    needs only person_id, year and payer_type, so the member months' ranges per person, year and payer type
    (:func:`allpayer.compute.tcoc.coverage_ranges`) give the same person-years from a twelfth of the rows."""
    mm = member_months.filter(member_months.payer_type.isin(payer_types))
    return mm.select("person_id", "year").distinct()


def medicare_demographics(person: ir.Table, enrollment: ir.Table, member_months: ir.Table,
                          payer_types: list[str]) -> ir.Table:
    """(person_id, year, age, sex, orec, dual_status_code) for person-years with member months in
    ``payer_types``; status codes come from the span of those payer types that ends last in the year."""
    py = hcc_person_years(member_months, payer_types)
    spans = enrollment.filter(enrollment.payer_type.isin(payer_types))
    j = py.join(spans, (py.person_id == spans.person_id)
                & (spans.enrollment_start_date.year() <= py.year) & (spans.enrollment_end_date.year() >= py.year))
    win = ibis.window(group_by=[j.person_id, j.year], order_by=[ibis.desc(j.enrollment_end_date),
                                                                  ibis.desc(j.enrollment_start_date), j.member_id])
    latest = j.mutate(_rn=ibis.row_number().over(win)).filter(lambda t: t._rn == 0)
    latest = latest.select("person_id", "year", orec=latest.original_reason_entitlement_code,
                           dual_status_code=latest.dual_status_code)
    full = py.left_join(latest, ["person_id", "year"]).select(py.person_id, py.year, "orec", "dual_status_code")
    p = person.select(_p=person.person_id, birth_date=person.birth_date, sex=person.sex)
    out = full.join(p, full.person_id == p._p)
    return out.select("person_id", "year", age=age_on(out.birth_date, out.year), sex=out.sex, orec=out.orec,
                      dual_status_code=out.dual_status_code)


def blend_table(settings: RiskSettings) -> ir.Table:
    blends = [settings.blend(y) for y in YEARS]
    return ibis.memtable(pa.table({
        "year": pa.array(list(YEARS), pa.int64()),
        "w24": [b.v24_weight for b in blends], "w28": [b.v28_weight for b in blends],
        "n24": [b.v24_normalization for b in blends], "n28": [b.v28_normalization for b in blends],
        "coding": [b.coding_adjustment for b in blends],
    }))


def hcc_scores(demographics: ir.Table, diagnoses: ir.Table, settings: RiskSettings,
               stage: Stage = lazy) -> ir.Table:
    """(person_id, year, raw_v24, raw_v28, risk_score, model) with the payment-year blend applied."""
    v24 = raw_scores(demographics, diagnoses, "V24", stage).rename(raw_v24="raw_score", hcc_count_v24="hcc_count")
    v28 = raw_scores(demographics, diagnoses, "V28", stage).select(_p="person_id", _y="year", raw_v28="raw_score")
    j = v24.join(v28, [v24.person_id == v28._p, v24.year == v28._y]).drop("_p", "_y")
    b = blend_table(settings)
    j = j.join(b, "year")
    score = (j.w24 * j.raw_v24 / j.n24 + j.w28 * j.raw_v28 / j.n28) * (1 - j.coding)
    return j.select("person_id", "year", "raw_v24", "raw_v28", "hcc_count_v24", risk_score=score.round(6),
                    model=ibis.literal("cms_hcc"))


def demographic_factors(person_years: ir.Table, person: ir.Table, reference_year: int) -> ir.Table:
    """(payer_type, sex, age_band, factor) from person-years (person_id, year, payer_type, member_months,
    and an amount column ``tcoc``) of the reference year."""
    ref = _with_cells(person_years.filter(person_years.year == reference_year), person)
    # Summed exactly, so a factor does not move with the order the rows are added in.
    cell = ref.group_by(["payer_type", "sex", "age_band"]).aggregate(
        amt=exact_float_sum(ref.tcoc), mm=exact_float_sum(ref.member_months))
    tot = ref.group_by("payer_type").aggregate(t_amt=exact_float_sum(ref.tcoc), t_mm=exact_float_sum(ref.member_months))
    j = cell.join(tot, "payer_type")
    ok = (j.mm > 0) & (j.t_amt > 0)
    factor = ibis.ifelse(ok, (j.amt / j.mm) / (j.t_amt / j.t_mm), 1.0)
    return j.select("payer_type", "sex", "age_band", factor=factor.round(6))


def _with_cells(py: ir.Table, person: ir.Table) -> ir.Table:
    p = person.select(_p=person.person_id, birth_date=person.birth_date, sex=person.sex)
    j = py.join(p, py.person_id == p._p).drop("_p")
    return j.mutate(age_band=age_band(age_on(j.birth_date, j.year)))


def age_sex_scores(person_years: ir.Table, person: ir.Table, factors: ir.Table) -> ir.Table:
    """(person_id, year, payer_type, risk_score, model) from the demographic factors (1.0 where missing)."""
    j = _with_cells(person_years, person)
    f = factors.rename(_pt="payer_type", _sex="sex", _band="age_band")
    j = j.left_join(f, [j.payer_type == f._pt, j.sex == f._sex, j.age_band == f._band])
    return j.select("person_id", "year", "payer_type", risk_score=j.factor.fill_null(1.0),
                    model=ibis.literal("age_sex"))


def risk_scores(person_years: ir.Table, person: ir.Table, enrollment: ir.Table, member_months: ir.Table,
                diagnoses: ir.Table, settings: RiskSettings, stage: Stage = lazy) -> ir.Table:
    """One score per person-year: CMS-HCC if the person has member months in ``hcc_payer_types`` that year,
    else the age/sex factor of the person's (first) payer type. Columns: person_id, year, model, risk_score.
    ``stage`` may store the demographics, condition categories and HCC scores once: each is read several
    times."""
    demo = stage("risk_demographics", medicare_demographics(person, enrollment, member_months,
                                                            settings.hcc_payer_types))
    hcc = stage("risk_hcc", hcc_scores(demo, diagnoses, settings, stage).select("person_id", "year", "model",
                                                                                "risk_score"))
    ref_year = settings.demographic_reference_year or person_years.year.min().execute()
    factors = demographic_factors(person_years, person, int(ref_year))
    others = person_years.anti_join(hcc, ["person_id", "year"])
    first = others.group_by(["person_id", "year"]).aggregate(payer_type=others.payer_type.min())
    first = first.join(others.select("person_id", "year", "payer_type", "member_months", "tcoc"),
                       ["person_id", "year", "payer_type"]).select("person_id", "year", "payer_type",
                                                                   "member_months", "tcoc")
    demo_scores = age_sex_scores(first, person, factors).select("person_id", "year", "model", "risk_score")
    return hcc.union(demo_scores)
