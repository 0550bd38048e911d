"""Benchmark: member months and attribution for a 630k-person, ~20M-line synthetic canonical data set.

Builds the data directly in DuckDB (SQL with a fixed seed; no synth package), then times:

1. member months (any day) and statewide primary-payer months;
2. the engine's plurality attribution for one retrospective program-year (Medicare 2019, 12-month window);
3. the same attribution hand-written in DuckDB SQL (the reference);
4. the whole Vermont pack (four programs) for 2019;
5. the same work hand-written (``year_reference.py``'s attribute step: primary-payer months, every program's
   plurality attribution, attributed months, scale).

Prints seconds, rows and the process's peak RSS after each step, and the time of each intermediate table the
engine stores; makes no assertions. ``--db FILE`` keeps the built data for the next run.

    python bench/bench_attribution.py [--persons 630000] [--lines 20000000] [--threads N] [--memory-limit 1500MB]
                                      [--db FILE]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import duckdb
import ibis

from allpayer.compute.attribution import AttributionInputs, attribute
from allpayer.compute.enrollment import (
    expand_primary_runs,
    expand_runs,
    member_month_runs,
    primary_payer_runs,
    residency,
)
from allpayer.config import load_pack
from allpayer.config.models import Attribution, Pack, PerformanceYear, Program, ProgramMatch
from allpayer.refdata import attribution as ref
from allpayer.warehouse import DuckDBWarehouse

PCP_CODES = ["99213", "99214", "99215", "99203", "99204", "G0439", "99309", "99490", "99495"]
OTHER_CODES = ["80053", "85025", "71046", "93000", "36415", "97110", "J1100", "G0008", "81002", "99283"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(con: ibis.BaseBackend, persons: int, lines: int) -> None:
    """person, enrollment, provider and medical_claim tables, generated set-based in DuckDB."""
    sql = con.raw_sql
    sql("SELECT setseed(0.42)")
    sql("CREATE OR REPLACE MACRO h(i, k, m) AS (hash(i, k) % m)::BIGINT")
    sql(f"""CREATE OR REPLACE TABLE person AS
        SELECT 'P' || lpad(i::VARCHAR, 7, '0') AS person_id, DATE '1940-01-01' + (h(i, 1, 29000))::INT AS
        birth_date, CASE WHEN h(i, 2, 2) = 0 THEN 'female' ELSE 'male' END AS sex,
        CASE WHEN h(i, 3, 100) < 4 THEN DATE '2017-01-01' + (h(i, 4, 2190))::INT END AS death_date,
        CASE WHEN h(i, 5, 100) < 97 THEN 'VT' ELSE 'NH' END AS state,
        (['05401','05403','05701','05301','05602','05819','05201','05753','05443','05156'])[1 + h(i, 6, 10)]
        AS zip_code FROM range({persons}) t(i)""")
    # Payer mix by person; churn: 20% start late, 20% end early; 5% uninsured (no span).
    sql(f"""CREATE OR REPLACE TABLE enrollment AS
        WITH p AS (SELECT i, 'P' || lpad(i::VARCHAR, 7, '0') AS person_id, h(i, 7, 100) AS r FROM range({persons})
        t(i)), k AS (SELECT *, CASE WHEN r < 22 THEN 'medicare' WHEN r < 28 THEN 'medicare_advantage'
        WHEN r < 48 THEN 'medicaid' WHEN r < 83 THEN 'commercial' WHEN r < 95 THEN 'self_funded' END AS payer_type
        FROM p)
        SELECT person_id, person_id AS member_id,
          CASE payer_type WHEN 'medicare' THEN 'medicare' WHEN 'medicare_advantage' THEN 'mvp'
            WHEN 'medicaid' THEN 'medicaid' ELSE 'bcbsvt' END AS payer, payer_type,
          CASE payer_type WHEN 'medicare' THEN 'medicare_ffs' WHEN 'medicare_advantage' THEN 'mvp_ma'
            WHEN 'medicaid' THEN 'vmng' WHEN 'commercial' THEN 'bcbsvt_qhp_gold' ELSE 'bcbsvt_aso_ppo' END AS plan,
          CASE WHEN payer_type = 'self_funded' THEN 'G' || (i % 40)::VARCHAR END AS group_id,
          CASE WHEN h(i, 8, 100) < 20 THEN DATE '2017-01-01' + (h(i, 9, 900))::INT ELSE DATE '2017-01-01'
            END AS enrollment_start_date,
          CASE WHEN h(i, 10, 100) < 20 THEN DATE '2019-06-01' + (h(i, 11, 1000))::INT ELSE DATE '2022-12-31'
            END AS enrollment_end_date, payer AS data_source
        FROM k WHERE payer_type IS NOT NULL""")
    # 3,000 clinicians in 600 TINs; half the TINs in the ACO.
    sql("""CREATE OR REPLACE TABLE provider AS
        SELECT lpad((1000000000 + i)::VARCHAR, 10, '0') AS npi, 'T' || (i % 600)::VARCHAR AS tin,
          'clinician ' || i AS provider_name, 'individual' AS entity_type, '207Q00000X' AS taxonomy_code,
          (['08','11','37','08','50','97','06','13','30','93','89','26'])[1 + i % 12] AS specialty_code,
          'PR' || (i % 600)::VARCHAR AS practice_id, 'Practice ' || (i % 600)::VARCHAR AS practice_name,
          'Burlington' AS hsa, CASE WHEN (i % 600) % 2 = 0 THEN 'onecare' END AS aco_id,
          CASE WHEN (i % 600) % 2 = 0 THEN DATE '2016-01-01' END AS aco_start_date, NULL::DATE AS aco_end_date
        FROM range(3000) t(i)""")
    # Claim lines: each person has a home clinician (60% of lines); 40% of lines are primary-care codes.
    sql(f"""CREATE OR REPLACE TABLE medical_claim AS
        WITH l AS (SELECT i, h(i, 12, {persons}) AS p, random() AS r1, random() AS r2, random() AS r3
                   FROM range({lines}) t(i)),
        e AS (SELECT person_id, payer, plan, row_number() OVER (PARTITION BY person_id ORDER BY payer) AS k
              FROM enrollment)
        SELECT 'C' || i AS claim_id, 1::BIGINT AS claim_line_number, 'professional' AS claim_type,
          'P' || lpad(p::VARCHAR, 7, '0') AS person_id, e.payer, e.plan,
          DATE '2017-01-01' + (r1 * 2190)::INT AS claim_start_date, NULL::DATE AS claim_line_start_date,
          CASE WHEN r2 < 0.4 THEN ({PCP_CODES!r})[1 + (r3 * {len(PCP_CODES)})::INT % {len(PCP_CODES)}]
               ELSE ({OTHER_CODES!r})[1 + (r3 * {len(OTHER_CODES)})::INT % {len(OTHER_CODES)}] END AS hcpcs_code,
          CASE WHEN r3 < 0.05 THEN '31' ELSE '11' END AS place_of_service_code,
          lpad((1000000000 + CASE WHEN r3 < 0.6 THEN p % 3000 ELSE (r2 * 1e6)::INT % 3000 END)::VARCHAR, 10, '0')
            AS rendering_npi,
          NULL::VARCHAR AS rendering_tin,
          'T' || ((CASE WHEN r3 < 0.6 THEN p % 3000 ELSE (r2 * 1e6)::INT % 3000 END) % 600)::VARCHAR AS billing_tin,
          (20 + r1 * 180)::DECIMAL(18, 2) AS allowed_amount
        FROM l JOIN e ON e.person_id = 'P' || lpad(l.p::VARCHAR, 7, '0') AND e.k = 1""")


def reference_sql(year: int) -> str:
    """Hand-written plurality attribution (retrospective, 12-month window = the year, steps 1 and 2)."""
    codes = ", ".join(f"('{c}')" for c in ref.primary_care_codes(year, window=(year * 12, year * 12 + 11)))
    snf = ", ".join(f"('{c}', '{p}')" for c, p in ref.snf_exclusions(year)) or "(NULL, NULL)"
    spec = ", ".join(f"('{s}', '{c}')" for s, c in ref.specialty_categories(year).items())
    return f"""
    WITH codes(hcpcs_code) AS (VALUES {codes}), snf(hcpcs_code, pos) AS (VALUES {snf}),
    spec(specialty_code, category) AS (VALUES {spec}),
    elig AS (SELECT DISTINCT e.person_id FROM enrollment e LEFT JOIN person p USING (person_id)
             WHERE e.payer_type = 'medicare' AND e.enrollment_start_date <= DATE '{year}-12-31'
               AND e.enrollment_end_date >= DATE '{year}-01-01'
               AND (p.death_date IS NULL OR p.death_date >= GREATEST(e.enrollment_start_date, DATE '{year}-01-01'))),
    tin_aco AS (SELECT tin, min(aco_id) AS aco_id FROM provider WHERE aco_id IS NOT NULL GROUP BY tin
                HAVING count(DISTINCT aco_id) = 1),
    npi_spec AS (SELECT npi, min(specialty_code) AS specialty_code FROM provider GROUP BY npi),
    lines AS (
      SELECT c.person_id, c.rendering_npi AS npi, coalesce(c.billing_tin, c.rendering_tin) AS tin,
             coalesce(c.allowed_amount, 0) AS allowed, coalesce(c.claim_line_start_date, c.claim_start_date) AS d,
             CASE WHEN s.category = 'specialist' THEN 2 ELSE 1 END AS step
      FROM medical_claim c JOIN codes USING (hcpcs_code)
      JOIN npi_spec n ON n.npi = c.rendering_npi JOIN spec s ON s.specialty_code = n.specialty_code
      WHERE c.payer = 'medicare' AND c.plan = 'medicare_ffs'
        AND coalesce(c.claim_line_start_date, c.claim_start_date) BETWEEN DATE '{year}-01-01' AND DATE '{year}-12-31'
        AND NOT EXISTS (SELECT 1 FROM snf WHERE snf.hcpcs_code = c.hcpcs_code
                        AND snf.pos = coalesce(c.place_of_service_code, ''))
        AND c.person_id IN (SELECT person_id FROM elig)),
    stepped AS (SELECT l.*, coalesce(t.aco_id, 'TIN:' || l.tin) AS entity,
                       min(step) OVER (PARTITION BY person_id) AS person_step
                FROM lines l LEFT JOIN tin_aco t USING (tin)),
    clin AS (SELECT person_id, entity, tin, npi, sum(allowed) AS allowed, max(d) AS last_d
             FROM stepped WHERE step = person_step GROUP BY ALL),
    ranked AS (SELECT *, row_number() OVER (PARTITION BY person_id, entity ORDER BY allowed DESC, last_d DESC, npi,
                      tin) AS cr FROM clin),
    ent AS (SELECT person_id, entity, sum(allowed) AS allowed, max(last_d) AS last_d,
                   min(npi) FILTER (WHERE cr = 1) AS lead_npi FROM ranked GROUP BY ALL),
    win AS (SELECT * FROM ent QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY allowed DESC, last_d DESC,
                   lead_npi, entity) = 1)
    SELECT e.person_id, coalesce(w.entity = 'onecare', false) AS attributed, w.entity, w.lead_npi, w.allowed
    FROM elig e LEFT JOIN win w USING (person_id)"""


def bench_pack(year: int) -> Pack:
    program = Program(program_id="bench", name="bench", payer_scope="medicare", aco_id="onecare", years=[year],
                      match=ProgramMatch(payer_type=["medicare"]), scale_target=True,
                      attribution=Attribution(timing="retrospective", lookback_months=12))
    return Pack(name="bench", version="0", description="bench", performance_years=[PerformanceYear(year=year)],
                programs={"bench": program})


def timed(label: str, fn) -> tuple[object, float]:
    """``fn()`` and its seconds, printed with the peak RSS after it."""
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<58} {seconds:8.1f} s   peak RSS {peak_mb():8,.0f} MB", flush=True)
    return out, seconds


def _timed_stage(wh: DuckDBWarehouse):
    """The engine's ``stage`` (``Warehouse.materialize``): each intermediate stored as the workspace stores it, with
    its time printed (indented under its step)."""
    def stage(name: str, expr: ibis.Table) -> ibis.Table:
        start = time.perf_counter()
        out = wh.materialize(name, expr)
        print(f"    stage {name:<50} {time.perf_counter() - start:8.1f} s", flush=True)
        return out
    return stage


def same_work_by_hand(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, float]:
    """Seconds of each pass of ``year_reference.attribute_sql`` (primary-payer months, the pack's plurality
    attribution, attributed months, scale) for ``year`` on the bench data, whose claim lines are all final."""
    from year_reference import attribute_sql, timed_passes

    with tempfile.TemporaryDirectory() as tmp:
        return timed_passes(con, attribute_sql(con, Path(tmp), [year], medical="medical_claim"), "by hand")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=630_000)
    parser.add_argument("--lines", type=int, default=20_000_000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--year", type=int, default=2019)
    parser.add_argument("--memory-limit", default="1500MB", help="DuckDB memory_limit (spills to disk beyond it)")
    parser.add_argument("--db", default=None,
                        help="DuckDB file to build the data in and keep; an existing file is reused as it is")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "bench.duckdb"
        built = db.exists()
        # The warehouse's own connection: settings, and intermediates stored as Parquet files beside the data.
        wh = DuckDBWarehouse(db, threads=args.threads)
        con = wh.con
        con.raw_sql(f"SET memory_limit = '{args.memory_limit}'")
        if built:
            print(f"reusing the data built in {db}")
        else:
            timed(f"build {args.persons:,} persons, {args.lines:,} claim lines",
                  lambda: build(con, args.persons, args.lines))
            # As in a workspace after intake: tables written to the file, not held in the write-ahead log.
            con.raw_sql("CHECKPOINT")
        t = {n: con.table(n) for n in ("person", "enrollment", "provider", "medical_claim")}
        print(f"  DuckDB {duckdb.__version__}; enrollment spans {t['enrollment'].count().execute():,}, "
              f"claim lines {t['medical_claim'].count().execute():,}")
        # Stored as month runs, as attribution publishes them (``member_month_run``, ``primary_payer_run``).
        mm, mm_seconds = timed("member months (any day), materialised as month runs",
                   lambda: wh.materialize("mm", member_month_runs(t["enrollment"], t["person"])))
        print(f"  month runs {mm.count().execute():,}, member-month rows {expand_runs(mm).count().execute():,}")
        pk = load_pack("vermont")
        res = residency(t["person"], pk.residency.states)
        runs, pp_seconds = timed("primary payer months (any day, from those runs), materialised as month runs",
                     lambda: wh.materialize("pp", primary_payer_runs(t["enrollment"], t["person"], pk.payer_hierarchy,
                                                                     "any_day", res, mm)))
        pp = expand_primary_runs(runs)
        print(f"  month runs {runs.count().execute():,}, person-month rows {pp.count().execute():,}")
        inputs = AttributionInputs(t["enrollment"], t["person"], t["medical_claim"], t["provider"], primary=pp)
        stage = _timed_stage(wh)
        engine, _ = timed(f"engine: plurality attribution, Medicare {args.year} (1 program)", lambda: wh.materialize(
            "att", attribute(bench_pack(args.year), inputs, [args.year], stage=stage).attribution))
        reference, _ = timed(f"reference: hand-written DuckDB SQL, Medicare {args.year}", lambda: wh.materialize(
            "ref", con.sql(reference_sql(args.year))))
        e_att = engine.filter(engine.attributed).count().execute()
        r_att = reference.filter(reference.attributed).count().execute()
        agree = con.sql("SELECT count(*) AS n FROM _scratch_att a JOIN _scratch_ref r USING (person_id) "
                        "WHERE a.attributed = r.attributed AND a.entity_id IS NOT DISTINCT FROM r.entity "
                        "AND a.npi IS NOT DISTINCT FROM r.lead_npi").execute()["n"][0]
        print(f"  eligible {engine.count().execute():,}; attributed engine {e_att:,} / reference {r_att:,}; "
              f"identical decisions {agree:,}")
        _, pack_seconds = timed(f"engine: Vermont pack, 4 programs, {args.year} (3 tables)", lambda: [
            wh.materialize(f"full_{name}", expr)
            for name, expr in attribute(pk, inputs, [args.year], stage=stage).tables().items()])
        by_hand = same_work_by_hand(con.con, args.year)
        total = sum(by_hand.values())
        print(f"same work by hand: bench/year_reference.py's attribute step {total:8.1f} s   "
              f"peak RSS {peak_mb():8,.0f} MB")
        print(f"  engine, months and pack {mm_seconds + pp_seconds + pack_seconds:.1f} s: "
              f"{(mm_seconds + pp_seconds + pack_seconds) / total:.2f} x the same work by hand")
        wh.drop_scratch()
        wh.close()


if __name__ == "__main__":
    main()
