"""Calibration figures measured on generated files (DuckDB SQL), to compare with synthetic-calibration.md."""

from __future__ import annotations

from pathlib import Path

import duckdb

PRIMARY_CARE_VISITS = ("99202", "99203", "99204", "99205", "99212", "99213", "99214", "99215", "G0438", "G0439",
                       *(f"9938{i}" for i in range(1, 8)), *(f"9939{i}" for i in range(1, 8)))
CONDITION_DX = {"diabetes": ("E119", "E1165"), "hypertension": ("I10",), "copd": ("J449", "J441"),
                "depression": ("F329", "F331"), "sud": ("F1020", "F1120")}


# Headline targets from docs/synthetic-calibration.md (shares of residents; PMPM allowed incl. pharmacy).
CALIBRATION_TARGETS: dict[str, float] = {
    "share_medicare": 0.22, "share_medicaid": 0.26, "share_commercial": 0.23, "share_self_funded": 0.23,
    "share_uninsured": 0.05, "share_dual": 0.04, "medicare_ffs_share": 0.80, "medicaid_child_share": 0.40,
    "age65_share": 0.20, "medicaid_monthly_churn": 0.02,
}


def calibration_rows(measured: dict, tolerance: float = 0.25) -> list[dict]:
    """Measured against target for the headline figures, with whether each is within ``tolerance``."""
    return [{"figure": key, "measured": round(measured[key], 3), "target": target,
             "within_25pct": abs(measured[key] - target) <= tolerance * target}
            for key, target in CALIBRATION_TARGETS.items()]


def _src(out_dir: Path, stem: str) -> str:
    for ext in ("parquet", "csv"):
        path = out_dir / f"{stem}.{ext}"
        if path.exists():
            reader = "read_parquet" if ext == "parquet" else "read_csv_auto"
            return f"{reader}('{path}')"
    raise FileNotFoundError(out_dir / stem)


def measure(out_dir: Path | str, year: int, persons: int) -> dict:
    """Figures for one calendar year of a generated data set of ``persons`` people."""
    out = Path(out_dir)
    con = duckdb.connect()
    con.execute(f"create view elig as select * from {_src(out, 'eligibility')}")
    con.execute(f"create view med as select * from {_src(out, 'medical_claim')} where claim_status = 'original'")
    con.execute(f"create view rx as select * from {_src(out, 'pharmacy_claim')} where claim_status = 'original'")
    mid = f"date '{year}-07-01'"
    ys, ye = f"date '{year}-01-01'", f"date '{year}-12-31'"
    res: dict = {}

    def one(sql: str) -> object:
        return con.execute(sql).fetchone()[0]

    on_mid = f"enrollment_start_date <= {mid} and enrollment_end_date >= {mid}"
    for t in ("medicare", "medicaid", "commercial", "self_funded"):
        pts = "('medicare', 'medicare_advantage')" if t == "medicare" else f"('{t}')"
        res[f"share_{t}"] = one(f"select count(distinct person_id) from elig where {on_mid} and payer_type in {pts}"
                                ) / persons
    res["share_uninsured"] = 1 - one(f"select count(distinct person_id) from elig where {on_mid}") / persons
    res["medicare_ffs_share"] = one(
        f"select avg((payer_type = 'medicare')::int) from elig where {on_mid} and payer_type like 'medicare%'")
    res["share_dual"] = one(
        f"select count(distinct person_id) from elig where {on_mid} and dual_status_code is not null") / persons
    res["medicaid_child_share"] = one(
        f"select avg((date_diff('year', birth_date, {mid}) < 19)::int) from elig "
        f"where {on_mid} and payer_type = 'medicaid'")
    res["age65_share"] = one(
        f"select avg((date_diff('day', birth_date, {mid}) / 365.25 >= 65)::int) from "
        f"(select distinct person_id, birth_date from elig where {on_mid})")
    months = f"""
        select person_id, payer_type, birth_date,
               unnest(generate_series(date_trunc('month', greatest(enrollment_start_date, {ys}))::timestamp,
                                      least(enrollment_end_date, {ye})::timestamp, interval 1 month))::date as month
        from elig where enrollment_start_date <= {ye} and enrollment_end_date >= {ys}"""
    con.execute(f"create temp table mm as {months}")
    window_end = one("select max(enrollment_end_date) from elig")
    leaves = one(f"""select count(*) from elig where payer_type = 'medicaid' and enrollment_end_date between {ys}
                     and {ye} and enrollment_end_date < date '{window_end}'
                     and (death_date is null or death_date > enrollment_end_date)""")
    res["medicaid_monthly_churn"] = leaves / one("select count(*) from mm where payer_type = 'medicaid'")
    pm = con.execute("select payer_type, count(*) from mm group by 1").fetchall()
    member_months = dict(pm)
    for name, tbl in (("medical", "med"), ("pharmacy", "rx")):
        date_col = "claim_start_date" if tbl == "med" else "dispensing_date"
        rows = con.execute(f"""select e.payer_type, sum(allowed_amount)::double from {tbl} c
                               join (select distinct payer, plan, payer_type from elig) e using (payer, plan)
                               where {date_col} between {ys} and {ye} group by 1""").fetchall()
        for pt, total in rows:
            res[f"pmpm_{name}_{pt}"] = total / member_months[pt]
    person_years = one("select count(*) from (select distinct person_id, month from mm)") / 12
    py65 = one(f"""select count(*) from (select distinct person_id, month from mm
                   where date_diff('day', birth_date, {mid}) / 365.25 >= 65)""") / 12
    old = f"person_id in (select person_id from mm where date_diff('day', birth_date, {mid}) / 365.25 >= 65)"
    in_year = f"claim_start_date between {ys} and {ye}"
    res["lines_per_person_year"] = one(f"select count(*) from med where {in_year}") / person_years
    res["lines_per_person_year_65"] = one(f"select count(*) from med where {in_year} and {old}") / py65
    rx_year = f"dispensing_date between {ys} and {ye}"
    res["fills_per_person_year"] = one(f"select count(*) from rx where {rx_year}") / person_years
    res["fills_per_person_year_65"] = one(f"select count(*) from rx where {rx_year} and {old}") / py65
    pc = ", ".join(f"'{c}'" for c in PRIMARY_CARE_VISITS)
    res["pc_visits_per_1000"] = 1000 * one(f"select count(*) from med where {in_year} and hcpcs_code in ({pc})"
                                           ) / person_years
    res["ed_visits_per_1000"] = 1000 * one(f"select count(distinct claim_id) from med where {in_year} "
                                           "and revenue_center_code = '0450' and bill_type_code = '131'") / person_years
    res["admits_per_1000"] = 1000 * one(f"select count(distinct claim_id) from med where {in_year} "
                                        "and bill_type_code = '111'") / person_years
    res["readmission_rate"] = one(f"""
        with s as (select distinct claim_id, person_id, admission_date::date as admission_date,
                          discharge_date::date as discharge_date from med
                   where bill_type_code = '111' and {in_year})
        select avg((exists (select 1 from s b where b.person_id = a.person_id and b.admission_date > a.discharge_date
                            and b.admission_date <= a.discharge_date + 30))::int) from s a""")
    adults = f"""(select distinct person_id, date_diff('day', birth_date, {mid}) / 365.25 as age from mm
                 where date_diff('day', birth_date, {mid}) / 365.25 >= 18)"""
    for cond, dxs in CONDITION_DX.items():
        codes = ", ".join(f"'{c}'" for c in dxs)
        cols = " or ".join(f"diagnosis_code_{i} in ({codes})" for i in range(1, 9))
        row = con.execute(f"""with hit as (select distinct person_id from med where {in_year} and ({cols}))
            select avg(case when age < 65 then (h.person_id is not null)::int end),
                   avg(case when age >= 65 then (h.person_id is not null)::int end)
            from {adults} a left join hit h using (person_id)""").fetchone()
        res[f"prevalence_{cond}_18_64"], res[f"prevalence_{cond}_65"] = row
    spend = f"""(select person_id, coalesce(m.s, 0) + coalesce(r.s, 0) as s from (select distinct person_id from mm) p
        left join (select person_id, sum(allowed_amount)::double s from med where {in_year} group by 1) m
        using (person_id)
        left join (select person_id, sum(allowed_amount)::double s from rx where {rx_year} group by 1) r
        using (person_id))"""
    res["no_claims_share"] = one(f"select avg((s = 0)::int) from {spend}")
    res["top1_share"] = one(f"""select sum(s) filter (where rk <= 0.01) / sum(s) from
        (select s, percent_rank() over (order by s desc) rk from {spend})""")
    res["top5_share"] = one(f"""select sum(s) filter (where rk <= 0.05) / sum(s) from
        (select s, percent_rank() over (order by s desc) rk from {spend})""")
    lag = con.execute(f"""
        select sum(allowed_amount)::double, date_diff('month', date_trunc('month', claim_start_date),
               date_trunc('month', paid_date)) as lag from med where {in_year} group by 2""").fetchall()
    total = sum(v for v, _ in lag)
    res["runout"] = {k: sum(v for v, m in lag if m <= k) / total for k in (0, 1, 2, 3, 6, 12)}
    con.close()
    return res
