"""Benchmark reference: each step of a performance year hand-written in DuckDB SQL, on the canonical tables of a
workspace that ``bench_year.py`` loaded. Prints each pass's time and the process's peak RSS; no assertions.

    python bench/year_reference.py WORKSPACE [--years 2018-2019] [--memory-limit 1200MB] [--out DIR]
                                   [--steps attribute,tcoc,quality,run]

The passes read only what intake stored (person, enrollment, provider, the claim tables and their lists of
superseded versions) and the packaged reference data, and write every result to Parquet, as the engine's steps
do. They compute what a SQL analyst would write for each step's main outputs, with simpler rules where the
engine's are long; the closing lines compare their counts with the engine's published tables, so a reader can see
how close the work is:

- **attribute**: primary payer per person-month (from the enrollment spans, cut at death, by the pack's
  hierarchy), and step-wise plurality attribution for every program-year of the pack (the program's plans, its
  look-back window and primary-care codes, specialist step, TIN to ACO; eligibility: the program's payer type is
  primary in a month of the year; no voluntary alignment, no expanded Medicaid rule), with the attributed months;
- **tcoc**: final-action spend per person, claim payer, incurred month and service category with the claim's
  payer type (issue 4's spend table), the completion triangle and chain-ladder ratios per payer, completed
  person-years of the target services on the primary-payer months, the TCOC per year and payer type, unenrolled
  spend, and CMS-HCC condition categories (both models, hierarchies applied) with their coefficients summed per
  Medicare person-year (community, non-dual, aged segment only);
- **quality**: value-set tags of the attributed persons' final-action claim codes (HCPCS, revenue, place of
  service, bill type, diagnosis positions 1-6: those the synthetic claims fill) and pharmacy NDCs, and persons
  per program, year and value set (the measures' inputs; not the fifteen measures' own logic);
- **run**: per program, member months and completed paid of the attributed persons in the base year and the
  performance year (the experience that expected cost and settlement read), everyone's base year per payer type
  (the region), and the attributed persons' paid per billing TIN (the savings pool's split); the settlement
  arithmetic on these few rows is left out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from allpayer.compute.attribution_setup import program_periods
from allpayer.compute.spending import category_rules, service_categories
from allpayer.config import load_pack
from allpayer.config.cost import CostSettings, FinancialTargetServices
from allpayer.refdata import attribution as att_ref
from allpayer.refdata.quality import value_sets

HCC_DIR = Path(__import__("allpayer").__file__).parent / "refdata" / "hcc"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def values(rows: list[tuple], columns: str, alias: str = "v") -> str:
    """A VALUES list as a table expression named ``alias`` with ``columns``."""
    def lit(v: object) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"
    body = ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)
    return f"(VALUES {body}) AS {alias}({columns})"


MONTH = "(year({d}) * 12 + month({d}) - 1)"


def month(d: str) -> str:
    return MONTH.format(d=d)


def category_case() -> str:
    """The service-category rules as one CASE giving each medical line its category number."""
    ids = {c: i for i, c in enumerate(service_categories())}
    branches: dict[str, list[str]] = {}
    for r in category_rules():
        target = ids[("medical", r.service_category_1, r.service_category_2)]
        if r.match == "any":
            test = "true"
        else:
            field = f"upper({r.field})" if any(ch.isalpha() for v in r.values for ch in v) else r.field
            vals = ", ".join(f"'{v.upper()}'" for v in r.values)
            test = (f"{field} IN ({vals})" if r.match == "equals"
                    else " OR ".join(f"starts_with({field}, '{v.upper()}')" for v in r.values))
        branches.setdefault(r.claim_type, []).append(f"WHEN coalesce({test}, false) THEN {target}")
    other = ids[("medical", "other", "other")]
    per_type = " ".join(f"WHEN '{t}' THEN CASE {' '.join(b)} ELSE {other} END" for t, b in branches.items())
    return f"CASE claim_type {per_type} ELSE {other} END"


def target_ids(services: FinancialTargetServices) -> str:
    """The category numbers of the financial target services, as a SQL list's items."""
    excluded = set(services.exclude_subcategories or ())
    return ", ".join(str(i) for i, (_, c1, c2) in enumerate(service_categories())
                     if c1 in services.include_categories and c2 not in excluded)


def completed(amount: str) -> str:
    """``amount`` of a spend row ``s`` divided by its month's completion ratio (``c``), rounded to the cent."""
    return (f"CASE WHEN coalesce(c.completion_ratio, 1) = 1 THEN s.{amount} "
            f"ELSE round(s.{amount}::DOUBLE / c.completion_ratio, 2)::DECIMAL(18, 2) END")


def vermont_services() -> FinancialTargetServices:
    """The Vermont pack's financial target services, as the engine reads them (its cost settings, or the defaults)."""
    return (load_pack("vermont").cost or CostSettings()).financial_target_services


FINAL_MEDICAL = ("(SELECT * FROM medical_claim ANTI JOIN medical_claim_superseded "
                 "USING (source_file, source_row))")
FINAL_PHARMACY = ("(SELECT * FROM pharmacy_claim ANTI JOIN pharmacy_claim_superseded "
                  "USING (source_file, source_row))")


# ----------------------------------------------------------------------------------------------- attribute

def primary_payer_months(out: Path, hierarchy: list[str], person: str = "person") -> tuple[str, str]:
    """(person_id, month_index, payer_type): each person-month's primary payer type by ``hierarchy``, from the
    enrollment spans cut at death (any day of a month counts)."""
    rank = values([(t, i) for i, t in enumerate(hierarchy)], "payer_type, rank", "r")
    return ("primary payer months", f"""
COPY (
  WITH spans AS (
    SELECT e.person_id, e.payer_type, {month('e.enrollment_start_date')} AS f,
           least({month('e.enrollment_end_date')}, coalesce({month('p.death_date')}, 999999)) AS l
    FROM enrollment e LEFT JOIN {person} p USING (person_id)),
  months AS (SELECT person_id, payer_type, unnest(range(f, l + 1)) AS month_index FROM spans WHERE l >= f)
  SELECT m.person_id, m.month_index, arg_min(m.payer_type, r.rank) AS payer_type
  FROM months m JOIN {rank} USING (payer_type) GROUP BY ALL
) TO '{out}/member_months.parquet' (FORMAT parquet)""")


def attribute_sql(con: duckdb.DuckDBPyConnection, out: Path, years: list[int], medical: str = FINAL_MEDICAL
                  ) -> list[tuple[str, str]]:
    """``medical``: the final-action medical lines (a table expression)."""
    pack = load_pack("vermont")
    plans = con.execute("SELECT DISTINCT payer, payer_type, plan FROM enrollment").fetchall()
    periods, program_plans, codes, snf, spec = [], [], set(), set(), set()
    for program in pack.programs.values():
        for year in [y for y in years if y in program.years]:
            for p in program_periods(program, year):
                periods.append((p["program_id"], year, p["month_first"], p["month_last"], p["window_first"],
                                p["window_last"], p["specialist_step"], program.payer_scope,
                                p["asof_date"].isoformat(), program.aco_id))
                window = (p["window_first"], p["window_last"])
                codes |= {(program.program_id, year, c) for c in att_ref.primary_care_codes(year, window=window)}
                snf |= {(program.program_id, year, c, pos) for c, pos in att_ref.snf_exclusions(year)}
                spec |= {(program.program_id, year, s, c) for s, c in att_ref.specialty_categories(year).items()}
        m = program.match
        for payer, payer_type, plan in plans:
            if ((not m.payer or payer in m.payer) and (not m.payer_type or payer_type in m.payer_type)
                    and (not m.plan or any(fnmatch.fnmatch(plan or "", g) for g in m.plan))):
                program_plans.append((program.program_id, payer, plan))
    per = values(periods, "program_id, year, month_first, month_last, window_first, window_last, "
                          "specialist_step, payer_type, asof_day, aco_id", "p")
    return [
        primary_payer_months(out, pack.payer_hierarchy),
        ("plurality attribution, every program-year", f"""
COPY (
  WITH periods AS (SELECT * FROM {per}),
  plans AS (SELECT * FROM {values(program_plans, 'program_id, payer, plan')}),
  codes AS (SELECT * FROM {values(sorted(codes), 'program_id, year, hcpcs_code')}),
  snf AS (SELECT * FROM {values(sorted(snf), 'program_id, year, hcpcs_code, pos')}),
  spec AS (SELECT * FROM {values(sorted(spec), 'program_id, year, specialty_code, category')}),
  mm AS (SELECT * FROM '{out}/member_months.parquet'),
  eligible AS (
    SELECT DISTINCT p.program_id, p.year, m.person_id FROM periods p
    JOIN mm m ON m.payer_type = p.payer_type AND m.month_index BETWEEN p.month_first AND p.month_last),
  tin_aco AS (SELECT p.program_id, p.year, r.tin, min(r.aco_id) AS aco_id FROM provider r JOIN periods p
                ON (r.aco_start_date IS NULL OR r.aco_start_date <= p.asof_day::DATE)
               AND (r.aco_end_date IS NULL OR r.aco_end_date >= p.asof_day::DATE)
              WHERE r.aco_id IS NOT NULL GROUP BY ALL HAVING count(DISTINCT r.aco_id) = 1),
  npi_spec AS (SELECT npi, min(specialty_code) AS specialty_code FROM provider GROUP BY npi),
  lines AS (
    SELECT p.program_id, p.year, c.person_id, c.rendering_npi AS npi, coalesce(c.billing_tin, c.rendering_tin) AS tin,
           coalesce(c.allowed_amount, 0) AS allowed, coalesce(c.claim_line_start_date, c.claim_start_date) AS d,
           CASE WHEN s.category = 'specialist' THEN 2 ELSE 1 END AS step, p.specialist_step
    FROM {medical} c
    JOIN plans pl ON pl.payer = c.payer AND pl.plan = c.plan
    JOIN periods p ON p.program_id = pl.program_id
     AND {month('coalesce(c.claim_line_start_date, c.claim_start_date)')} BETWEEN p.window_first AND p.window_last
    JOIN codes k ON k.program_id = p.program_id AND k.year = p.year AND k.hcpcs_code = c.hcpcs_code
    JOIN npi_spec n ON n.npi = c.rendering_npi
    JOIN spec s ON s.program_id = p.program_id AND s.year = p.year AND s.specialty_code = n.specialty_code
    WHERE NOT EXISTS (SELECT 1 FROM snf WHERE snf.program_id = p.program_id AND snf.year = p.year
                        AND snf.hcpcs_code = c.hcpcs_code AND snf.pos = coalesce(c.place_of_service_code, ''))),
  kept AS (SELECT l.* FROM lines l SEMI JOIN eligible e USING (program_id, year, person_id)
           WHERE l.step = 1 OR l.specialist_step),
  stepped AS (SELECT k.*, coalesce(t.aco_id, 'TIN:' || k.tin) AS entity,
                     min(step) OVER (PARTITION BY program_id, year, person_id) AS person_step
              FROM kept k LEFT JOIN tin_aco t USING (program_id, year, tin)),
  clin AS (SELECT program_id, year, person_id, entity, tin, npi, sum(allowed) AS allowed, max(d) AS last_d
           FROM stepped WHERE step = person_step GROUP BY ALL),
  ranked AS (SELECT *, row_number() OVER (PARTITION BY program_id, year, person_id, entity
                                          ORDER BY allowed DESC, last_d DESC, npi, tin) AS cr FROM clin),
  ent AS (SELECT program_id, year, person_id, entity, sum(allowed) AS allowed, max(last_d) AS last_d,
                 min(npi) FILTER (WHERE cr = 1) AS lead_npi, min(tin) FILTER (WHERE cr = 1) AS lead_tin
          FROM ranked GROUP BY ALL),
  win AS (SELECT * FROM ent QUALIFY row_number() OVER (PARTITION BY program_id, year, person_id
                                                        ORDER BY allowed DESC, last_d DESC, lead_npi, entity) = 1)
  SELECT e.program_id, e.year, e.person_id, coalesce(w.entity = p.aco_id, false) AS attributed, w.entity,
         w.lead_npi, w.lead_tin, w.allowed
  FROM eligible e JOIN periods p USING (program_id, year) LEFT JOIN win w USING (program_id, year, person_id)
) TO '{out}/attribution.parquet' (FORMAT parquet)"""),
        ("attributed months", f"""
COPY (
  SELECT a.program_id, a.year, a.person_id, m.month_index, a.lead_tin AS tin
  FROM '{out}/attribution.parquet' a JOIN {per} USING (program_id, year)
  JOIN '{out}/member_months.parquet' m ON m.person_id = a.person_id AND m.payer_type = p.payer_type
   AND m.month_index BETWEEN p.month_first AND p.month_last
  WHERE a.attributed
) TO '{out}/attribution_month.parquet' (FORMAT parquet)"""),
        ("scale: attributed residents of each year", f"""
COPY (
  WITH residents AS (SELECT person_id FROM person WHERE state IN ('VT', 'Vermont')),
  eligible AS (SELECT DISTINCT month_index // 12 AS year, person_id FROM '{out}/member_months.parquet'
               SEMI JOIN residents USING (person_id)
               WHERE payer_type IN ('medicare', 'medicaid', 'commercial', 'self_funded') AND month_index % 12 = 11),
  attributed AS (SELECT DISTINCT year, person_id FROM '{out}/attribution_month.parquet')
  SELECT e.year, count(*) AS eligible, count(a.person_id) AS attributed
  FROM eligible e LEFT JOIN attributed a USING (year, person_id) GROUP BY ALL
) TO '{out}/scale.parquet' (FORMAT parquet)"""),
    ]


# ----------------------------------------------------------------------------------------------------- tcoc

def tcoc_sql(con: duckdb.DuckDBPyConnection, out: Path, years: list[int], medical: str = FINAL_MEDICAL,
             pharmacy: str | None = FINAL_PHARMACY, with_risk: bool = True, as_of: dt.date | None = None,
             services: FinancialTargetServices | None = None) -> list[tuple[str, str]]:
    """``medical`` and ``pharmacy``: the final-action lines (a table expression; no pharmacy when None);
    ``as_of``: the paid-through date (the latest paid or file date when None); ``services``: the financial target
    (the Vermont pack's when None)."""
    as_of = as_of or con.execute("SELECT max(greatest(coalesce(paid_date, file_date), coalesce(file_date, paid_date))) "
                                 f"FROM {medical}").fetchone()[0]
    fill_id = next(i for i, (k, c1, _) in enumerate(service_categories()) if k == "pharmacy" and c1 == "pharmacy")
    width = len(service_categories())
    fills = "" if pharmacy is None else f"""UNION ALL
    SELECT person_id, payer, {month('dispensing_date')} * {width} + {fill_id}, allowed_amount, paid_amount
    FROM {pharmacy} WHERE coalesce(paid_date, file_date, dispensing_date) <= DATE '{as_of}'"""
    target = target_ids(services or vermont_services())
    first, last = min(years), max(years)
    passes = [
        ("spend per person-month and category, claim payer type", f"""
COPY (
  WITH lines AS (
    SELECT person_id, payer, {month('claim_start_date')} * {width} + {category_case()} AS cell,
           allowed_amount, paid_amount
    FROM {medical} WHERE coalesce(paid_date, file_date, claim_start_date) <= DATE '{as_of}'
    {fills}),
  cells AS (SELECT person_id, payer, cell // {width} AS month_index, (cell % {width})::SMALLINT AS category_id,
                   sum(allowed_amount) AS allowed, sum(paid_amount) AS paid, count(*) AS lines
            FROM lines GROUP BY person_id, payer, cell),
  spans AS (SELECT person_id, payer, payer_type, {month('enrollment_start_date')} AS f,
                   {month('enrollment_end_date')} AS l FROM enrollment),
  typed AS (SELECT c.person_id, c.payer, c.month_index, c.category_id, any_value(c.allowed) AS allowed,
                   any_value(c.paid) AS paid, any_value(c.lines) AS lines, min(s.payer_type) AS payer_type
            FROM cells c LEFT JOIN spans s ON s.person_id = c.person_id AND s.payer = c.payer
                                           AND c.month_index BETWEEN s.f AND s.l
            GROUP BY ALL)
  SELECT person_id, payer, coalesce(payer_type, 'other') AS payer_type, payer_type IS NOT NULL AS enrolled,
         month_index, category_id, allowed, paid, lines FROM typed
) TO '{out}/spend.parquet' (FORMAT parquet)"""),
        ("completion triangle and chain-ladder ratios", f"""
COPY (
  WITH tri AS (
    SELECT payer, {month('claim_start_date')} AS incurred, {month('coalesce(paid_date, file_date, claim_start_date)')}
           - {month('claim_start_date')} AS lag, sum(paid_amount) AS paid
    FROM {medical} WHERE coalesce(paid_date, file_date, claim_start_date) <= DATE '{as_of}'
    GROUP BY ALL),
  cum AS (SELECT payer, incurred, lag, sum(paid) OVER (PARTITION BY payer, incurred ORDER BY lag) AS cum,
                 {month(f"DATE '{as_of}'")} - incurred AS age FROM tri WHERE lag >= 0),
  pairs AS (SELECT a.payer, a.lag, sum(b.cum) / nullif(sum(a.cum), 0) AS f
            FROM cum a JOIN cum b ON b.payer = a.payer AND b.incurred = a.incurred AND b.lag = a.lag + 1
            WHERE a.age > a.lag GROUP BY ALL),
  tail AS (SELECT payer, lag, exp(sum(ln(greatest(f, 1e-9))) OVER (PARTITION BY payer ORDER BY lag DESC)) AS to_ult
           FROM pairs),
  months AS (SELECT DISTINCT payer, incurred, least(age, 36) AS age FROM cum)
  SELECT m.payer, m.incurred AS incurred_month, 1 / coalesce(t.to_ult, 1) AS completion_ratio
  FROM months m LEFT JOIN tail t ON t.payer = m.payer AND t.lag = m.age
) TO '{out}/completion.parquet' (FORMAT parquet)"""),
        ("completed person-years on the primary-payer months", f"""
COPY (
  WITH s AS (
    SELECT s.person_id, s.month_index, s.payer_type AS claim_type, sum(s.allowed) AS allowed, sum(s.paid) AS paid,
           sum({completed('allowed')}) AS allowed_completed
    FROM '{out}/spend.parquet' s LEFT JOIN '{out}/completion.parquet' c
      ON c.payer = s.payer AND c.incurred_month = s.month_index
    WHERE s.category_id IN ({target}) AND s.month_index BETWEEN {first * 12} AND {last * 12 + 11}
    GROUP BY ALL),
  mm AS (SELECT * FROM '{out}/member_months.parquet' WHERE month_index BETWEEN {first * 12} AND {last * 12 + 11}),
  exposure AS (SELECT person_id, month_index // 12 AS year, payer_type, count(*) AS member_months FROM mm
               GROUP BY ALL),
  spent AS (SELECT m.person_id, m.month_index // 12 AS year, m.payer_type, sum(s.allowed) AS allowed,
                   sum(s.paid) AS paid, sum(s.allowed_completed) AS allowed_completed,
                   sum(s.allowed_completed) FILTER (WHERE s.claim_type = m.payer_type) AS own_payer_completed
            FROM mm m JOIN s ON s.person_id = m.person_id AND s.month_index = m.month_index GROUP BY ALL)
  SELECT e.person_id, e.year, e.payer_type, e.member_months, coalesce(s.allowed, 0) AS allowed,
         coalesce(s.paid, 0) AS paid, coalesce(s.allowed_completed, 0) AS allowed_completed,
         coalesce(s.own_payer_completed, 0) AS own_payer_completed
  FROM exposure e LEFT JOIN spent s USING (person_id, year, payer_type)
) TO '{out}/person_years.parquet' (FORMAT parquet)"""),
        ("TCOC per year and payer type, and unenrolled spend", f"""
COPY (
  SELECT year, payer_type, count(*) AS persons, sum(member_months) AS member_months,
         sum(allowed_completed) AS allowed_completed, sum(own_payer_completed) AS own_payer_completed,
         sum(allowed_completed) / sum(member_months) * 12 AS pbpy,
         (SELECT sum(allowed) FROM '{out}/spend.parquet' s ANTI JOIN '{out}/member_months.parquet' m
            USING (person_id, month_index)) AS unenrolled_allowed
  FROM '{out}/person_years.parquet' GROUP BY ALL
) TO '{out}/tcoc.parquet' (FORMAT parquet)"""),
    ]
    return [*passes, risk_sql(out, medical)] if with_risk else passes


def risk_sql(out: Path, medical: str) -> tuple[str, str]:
    return ("CMS-HCC condition categories and coefficients per person-year", f"""
COPY (
  WITH scored AS (SELECT DISTINCT person_id, month_index // 12 AS year FROM '{out}/member_months.parquet'
                  WHERE payer_type = 'medicare'),
  lines AS (SELECT * FROM {medical} c SEMI JOIN scored s
              ON s.person_id = c.person_id AND s.year = year(c.claim_start_date)),
  dx AS (SELECT DISTINCT person_id, year(claim_start_date) AS year, replace(upper(code), '.', '') AS code
         FROM (SELECT person_id, claim_start_date, unnest([diagnosis_code_1, diagnosis_code_2, diagnosis_code_3,
                      diagnosis_code_4, diagnosis_code_5, diagnosis_code_6]) AS code FROM lines)
         WHERE code IS NOT NULL),
  map AS (SELECT model, diagnosis_code, cc::VARCHAR AS cc FROM read_csv('{HCC_DIR}/dx_to_cc.csv', all_varchar=true)),
  cc AS (SELECT DISTINCT d.person_id, d.year, m.model, m.cc FROM dx d JOIN map m ON m.diagnosis_code = d.code),
  hier AS (SELECT * FROM read_csv('{HCC_DIR}/hierarchies.csv', all_varchar=true)),
  kept AS (SELECT * FROM cc c WHERE NOT EXISTS (SELECT 1 FROM hier h JOIN cc p ON p.cc = h.cc_parent
           AND p.model = h.model WHERE h.model = c.model AND h.cc_child = c.cc AND p.person_id = c.person_id
           AND p.year = c.year)),
  coef AS (SELECT model, variable, value::DOUBLE AS value FROM read_csv('{HCC_DIR}/coefficients.csv', all_varchar=true)
           WHERE segment = 'CNA')
  SELECT k.person_id, k.year, k.model, count(*) AS hccs, sum(coalesce(f.value, 0)) AS hcc_score
  FROM kept k LEFT JOIN coef f ON f.model = k.model AND f.variable = 'hcc' || k.cc
  GROUP BY ALL
) TO '{out}/risk.parquet' (FORMAT parquet)""")


# -------------------------------------------------------------------------------------------------- quality

def quality_sql(con: duckdb.DuckDBPyConnection, out: Path, years: list[int]) -> list[tuple[str, str]]:
    vs = value_sets()
    rows = list(zip(*(vs[c].to_pylist() for c in ("value_set", "system", "code", "prefix_length", "first_year",
                                                  "last_year")), strict=True))
    sets = values(rows, "value_set, system, code, prefix_length, first_year, last_year")
    lengths = sorted({r[3] for r in rows} | {0})
    keyed = " UNION ALL ".join(
        f"SELECT system, code, {n} AS n, {'code' if n == 0 else f'left(code, {n})'} AS key FROM distinct_codes"
        for n in lengths)
    dx = ", ".join(f"diagnosis_code_{i}" for i in range(1, 7))
    codes = f"""
    SELECT person_id, claim_start_date AS d, 'hcpcs' AS system, upper(hcpcs_code) AS code FROM lines
      WHERE hcpcs_code IS NOT NULL
    UNION ALL SELECT person_id, claim_start_date, 'revenue', lpad(revenue_center_code, 4, '0') FROM lines
      WHERE revenue_center_code IS NOT NULL
    UNION ALL SELECT person_id, claim_start_date, 'pos', place_of_service_code FROM lines
      WHERE place_of_service_code IS NOT NULL
    UNION ALL SELECT person_id, claim_start_date, 'bill_type', bill_type_code FROM lines
      WHERE bill_type_code IS NOT NULL
    UNION ALL SELECT person_id, claim_start_date, 'icd10cm', replace(upper(code), '.', '')
      FROM (SELECT person_id, claim_start_date, unnest([{dx}]) AS code FROM lines) WHERE code IS NOT NULL
    UNION ALL SELECT person_id, dispensing_date, 'ndc', ndc_code FROM {FINAL_PHARMACY} f
      SEMI JOIN (SELECT DISTINCT person_id FROM '{out}/attribution_month.parquet') USING (person_id)
      WHERE ndc_code IS NOT NULL"""
    # The lines are stored first: a common table expression that five branches read is materialised in
    # memory, and at 630k persons ran out of the 1.2 GB limit.
    return [
        ("the attributed persons' final-action lines, code columns", f"""
COPY (
  SELECT person_id, claim_start_date, hcpcs_code, revenue_center_code, place_of_service_code, bill_type_code, {dx}
  FROM {FINAL_MEDICAL} c SEMI JOIN (SELECT DISTINCT person_id FROM '{out}/attribution_month.parquet') USING (person_id)
) TO '{out}/quality_lines.parquet' (FORMAT parquet)"""),
        ("value-set tags of the attributed persons' claims", f"""
COPY (
  WITH lines AS (SELECT * FROM '{out}/quality_lines.parquet'),
  codes AS ({codes}),
  distinct_codes AS (SELECT DISTINCT system, code FROM codes),
  keyed AS ({keyed}),
  sets AS (SELECT * FROM {sets})
  SELECT k.system, k.code, s.value_set, s.first_year, s.last_year FROM keyed k JOIN sets s
    ON s.system = k.system AND s.prefix_length = k.n AND s.code = k.key
) TO '{out}/matched_codes.parquet' (FORMAT parquet);
COPY (
  WITH lines AS (SELECT * FROM '{out}/quality_lines.parquet'),
  codes AS ({codes})
  SELECT DISTINCT c.person_id, c.d AS service_date, m.value_set
  FROM codes c JOIN '{out}/matched_codes.parquet' m ON m.system = c.system AND m.code = c.code
   AND year(c.d) BETWEEN m.first_year AND coalesce(m.last_year, 9999)
) TO '{out}/tags.parquet' (FORMAT parquet)"""),
        ("persons per program, year and value set", f"""
COPY (
  SELECT a.program_id, a.year, t.value_set, count(DISTINCT a.person_id) AS persons, count(*) AS services
  FROM (SELECT DISTINCT program_id, year, person_id FROM '{out}/attribution_month.parquet') a
  JOIN '{out}/tags.parquet' t ON t.person_id = a.person_id AND year(t.service_date) = a.year
  GROUP BY ALL
) TO '{out}/quality.parquet' (FORMAT parquet)"""),
    ]


# ------------------------------------------------------------------------------------------------------ run

def run_sql(con: duckdb.DuckDBPyConnection, out: Path, years: list[int]) -> list[tuple[str, str]]:
    year = max(years)
    target = target_ids(vermont_services())
    return [
        ("base and performance experience per program", f"""
COPY (
  WITH persons AS (SELECT DISTINCT program_id, person_id FROM '{out}/attribution_month.parquet' WHERE year = {year}),
  paid AS (
    SELECT s.person_id, s.month_index, s.payer_type,
           sum({completed('paid')}) AS paid
    FROM '{out}/spend.parquet' s SEMI JOIN persons p USING (person_id)
    LEFT JOIN '{out}/completion.parquet' c ON c.payer = s.payer AND c.incurred_month = s.month_index
    WHERE s.category_id IN ({target}) GROUP BY ALL),
  base AS (SELECT p.program_id, m.month_index // 12 AS year, m.person_id, m.month_index, m.payer_type
           FROM persons p JOIN '{out}/member_months.parquet' m USING (person_id)
           WHERE m.month_index BETWEEN {(year - 1) * 12} AND {year * 12 - 1}),
  base_paid AS (SELECT b.program_id, b.year, b.person_id, b.month_index, p.paid FROM base b LEFT JOIN paid p
                ON p.person_id = b.person_id AND p.month_index = b.month_index AND p.payer_type = b.payer_type),
  perf AS (SELECT a.program_id, a.year, a.person_id, a.month_index, p.paid
           FROM (SELECT DISTINCT program_id, year, person_id, month_index FROM '{out}/attribution_month.parquet'
                 WHERE year = {year}) a
           LEFT JOIN (SELECT person_id, month_index, sum(paid) AS paid FROM paid GROUP BY ALL) p
             ON p.person_id = a.person_id AND p.month_index = a.month_index),
  months AS (SELECT * FROM base_paid UNION ALL SELECT * FROM perf)
  SELECT program_id, year, count(*) AS member_months, count(DISTINCT person_id) AS persons, sum(paid) AS paid
  FROM months GROUP BY ALL
) TO '{out}/experience.parquet' (FORMAT parquet)"""),
        ("regional experience: everyone's base year per payer type", f"""
COPY (
  WITH mm AS (SELECT * FROM '{out}/member_months.parquet'
              WHERE month_index BETWEEN {(year - 1) * 12} AND {year * 12 - 1}),
  paid AS (SELECT s.person_id, s.month_index, s.payer_type,
                  sum({completed('paid')}) AS paid
           FROM '{out}/spend.parquet' s
           LEFT JOIN '{out}/completion.parquet' c ON c.payer = s.payer AND c.incurred_month = s.month_index
           WHERE s.category_id IN ({target}) AND s.month_index BETWEEN {(year - 1) * 12} AND {year * 12 - 1}
           GROUP BY ALL)
  SELECT m.payer_type, count(*) AS member_months, sum(p.paid) AS paid
  FROM mm m LEFT JOIN paid p USING (person_id, month_index, payer_type) GROUP BY ALL
) TO '{out}/regional.parquet' (FORMAT parquet)"""),
        ("paid per attributed person, month and billing TIN (the savings pool's split)", f"""
COPY (
  SELECT person_id, {month('claim_start_date')} AS month_index, billing_tin, sum(paid_amount) AS paid
  FROM {FINAL_MEDICAL} c SEMI JOIN (SELECT DISTINCT person_id FROM '{out}/attribution_month.parquet'
                                    WHERE year = {year}) USING (person_id)
  WHERE year(claim_start_date) = {year} GROUP BY ALL
) TO '{out}/provider_spend.parquet' (FORMAT parquet)"""),
    ]


def timed_passes(con: duckdb.DuckDBPyConnection, passes: list[tuple[str, str]], step: str) -> dict[str, float]:
    """Execute each (label, sql) pass in order, printing and returning its seconds."""
    seconds = {}
    for label, sql in passes:
        started = time.perf_counter()
        con.execute(sql)
        seconds[label] = time.perf_counter() - started
        print(f"    {step:9s} {label:<58} {seconds[label]:6.1f} s", flush=True)
    return seconds


STEPS: dict[str, Callable[[duckdb.DuckDBPyConnection, Path, list[int]], list[tuple[str, str]]]] = {
    "attribute": attribute_sql, "tcoc": tcoc_sql, "quality": quality_sql, "run": run_sql}


def connect(workspace: Path, memory_limit: str, spill: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = '{spill}'")
    con.execute(f"SET file_search_path = '{workspace}'")
    return con


def run_reference(workspace: Path, years: list[int], memory_limit: str = "1200MB", out: Path | None = None,
                  steps: list[str] | None = None) -> dict[str, float]:
    """Run the passes of ``steps`` (every step's, in order, when None) with their results in ``out`` (a new
    folder when None; a step reads the results of the steps before it); returns seconds per step."""
    with tempfile.TemporaryDirectory() as tmp:
        out = out or Path(tmp)
        con = connect(workspace, memory_limit, Path(tmp) / "spill")
        times: dict[str, float] = {}
        for step, sql_of in STEPS.items():
            if steps and step not in steps:
                continue
            times[step] = sum(timed_passes(con, sql_of(con, out, years), step).values())
            print(f"  reference {step:9s} {times[step]:8.1f} s   peak RSS {peak_mb():8,.0f} MB", flush=True)
        if not steps:
            compare(con, out, years)
        con.close()
    return times


def compare(con: duckdb.DuckDBPyConnection, out: Path, years: list[int]) -> None:
    """Counts beside the engine's published tables, where the workspace has them."""
    published = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    ref = con.execute(f"SELECT program_id, year, count(*) FILTER (WHERE attributed) FROM '{out}/attribution.parquet' "
                      "GROUP BY ALL ORDER BY ALL").fetchall()
    engine = dict(((p, y), n) for p, y, n in con.execute(
        "SELECT program_id, year, count(DISTINCT person_id) FILTER (WHERE attributed) FROM attribution "
        "GROUP BY ALL").fetchall()) if "attribution" in published else {}
    for program, year, n in ref:
        print(f"  attributed {program:22s} {year}  reference {n:>9,d}  engine {engine.get((program, year), 0):>9,d}")
    rows = con.execute(f"SELECT year, payer_type, pbpy FROM '{out}/tcoc.parquet' ORDER BY ALL").fetchall()
    if "tcoc" in published:
        pbpy = dict(((y, t), v) for y, t, v in con.execute(
            "SELECT year, payer_type, tcoc_pbpy FROM tcoc WHERE dimension = 'total'").fetchall())
        for year, payer_type, value in rows:
            print(f"  PBPY {year} {payer_type:18s} reference {value:>10,.2f}  engine "
                  f"{pbpy.get((year, payer_type), 0) or 0:>10,.2f}")
    spend = con.execute(f"SELECT count(*), sum(allowed) FROM '{out}/spend.parquet'").fetchone()
    print(f"  spend rows {spend[0]:,} allowed {spend[1]:,.2f}", end="")
    if "cost_spend" in published:
        engine_spend = con.execute("SELECT count(*), sum(allowed_amount) FROM cost_spend").fetchone()
        print(f"  (engine {engine_spend[0]:,} rows, allowed {engine_spend[1]:,.2f})", end="")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--years", default="2018-2019", help="the years the workspace holds (first-last)")
    parser.add_argument("--memory-limit", default="1200MB", help="DuckDB memory_limit (the engine's default)")
    parser.add_argument("--out", type=Path, help="keep the results in this folder (default: a temporary one)")
    parser.add_argument("--steps", help="comma-separated steps to run, reading earlier steps' results in --out")
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    years = list(range(int(first), int(last or first) + 1))
    times = run_reference(args.workspace, years, args.memory_limit, args.out,
                          args.steps.split(",") if args.steps else None)
    print(f"  reference, all steps {sum(times.values()):8.1f} s")


if __name__ == "__main__":
    main()
