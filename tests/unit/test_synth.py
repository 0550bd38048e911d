"""The synthetic-data generator: determinism, calibration, valid codes, dirty rows and an intake round trip."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from allpayer.intake.contract import PROVIDER
from allpayer.intake.parse import npi_check_digit
from allpayer.synth import SynthConfig, generate
from allpayer.synth.measure import CALIBRATION_TARGETS, measure
from allpayer.synth.util import luhn_check_digits

YEAR = 2019
PERSONS = 5_000


def _close(value: float, target: float, tolerance: float = 0.25) -> bool:
    return abs(value - target) <= tolerance * target


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.name != "synth_manifest.json"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, dict]:
    out = tmp_path_factory.mktemp("synth")
    summary = generate(SynthConfig(persons=PERSONS, first_year=YEAR, last_year=YEAR, seed=11), out)
    return out, summary, measure(out, YEAR, PERSONS)


def test_same_seed_same_files(tmp_path: Path) -> None:
    cfg = SynthConfig(persons=1_500, first_year=2020, last_year=2021, seed=3, dirty=True, chunk_persons=700)
    generate(cfg, tmp_path / "a")
    generate(cfg, tmp_path / "b")
    generate(SynthConfig(persons=1_500, first_year=2020, last_year=2021, seed=4, dirty=True, chunk_persons=700),
             tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["medical_claim.parquet"] != _digest(tmp_path / "c")["medical_claim.parquet"]


def test_summary_and_manifest(sample: tuple) -> None:
    out, summary, _ = sample
    manifest = json.loads((out / "synth_manifest.json").read_text())
    assert manifest["config"]["persons"] == PERSONS
    assert manifest["summary"]["claim_lines"] == summary.claim_lines == pq.read_metadata(
        out / "medical_claim.parquet").num_rows
    assert summary.pharmacy_lines == pq.read_metadata(out / "pharmacy_claim.parquet").num_rows
    assert set(summary.member_months_by_payer_type) >= {"medicare", "medicaid", "commercial", "self_funded"}
    assert {p.name for p in summary.files} == {"provider.parquet", "eligibility.parquet", "medical_claim.parquet",
                                               "pharmacy_claim.parquet"}
    assert pq.read_schema(out / "provider.parquet").names == PROVIDER.column_names
    elig = pq.read_schema(out / "eligibility.parquet").names
    assert "gender" in elig and "sex" not in elig
    med = pq.read_schema(out / "medical_claim.parquet").names
    assert {f"diagnosis_code_{i}" for i in range(1, 26)} <= set(med)
    assert {"claim_status", "original_claim_id"} <= set(med)


def test_payer_mix_and_ages(sample: tuple) -> None:
    m = sample[2]
    # calibration shares of residents (duals counted in both Medicare and Medicaid)
    for key, target in CALIBRATION_TARGETS.items():
        assert _close(m[key], target), (key, m[key])


def test_spending_and_concentration(sample: tuple) -> None:
    m = sample[2]
    assert _close(m["pmpm_medical_medicare"], 800)
    assert _close(m["pmpm_medical_medicaid"] + m["pmpm_pharmacy_medicaid"], 500)
    assert _close(m["pmpm_medical_commercial"] + m["pmpm_pharmacy_commercial"], 550)
    assert _close(m["no_claims_share"], 0.15)
    assert 0.15 <= m["top1_share"] <= 0.30
    assert _close(m["top5_share"], 0.50)


def test_utilisation(sample: tuple) -> None:
    m = sample[2]
    assert 15 * 0.75 <= m["lines_per_person_year"] <= 25 * 1.25
    assert _close(m["lines_per_person_year_65"], 40)
    assert 8 * 0.75 <= m["fills_per_person_year"] <= 12 * 1.25
    assert _close(m["fills_per_person_year_65"], 30)
    assert 2500 * 0.75 <= m["pc_visits_per_1000"] <= 3500 * 1.25
    assert _close(m["ed_visits_per_1000"], 400)
    assert 80 * 0.75 <= m["admits_per_1000"] <= 100 * 1.25
    # readmissions are few on a 5,000-person sample (about 450 discharges): a wider band
    assert 0.12 * 0.6 <= m["readmission_rate"] <= 0.16 * 1.4


@pytest.mark.parametrize(("condition", "young", "old"), [
    ("hypertension", 0.25, 0.60), ("diabetes", 0.07, 0.25), ("copd", 0.04, 0.12), ("depression", 0.175, 0.15),
    ("sud", 0.05, 0.02)])
def test_prevalence(sample: tuple, condition: str, young: float, old: float) -> None:
    m = sample[2]
    assert _close(m[f"prevalence_{condition}_18_64"], young), m[f"prevalence_{condition}_18_64"]
    # 65+ SUD is rare: allow a wider band on a 5,000-person sample
    assert _close(m[f"prevalence_{condition}_65"], old, 0.25 if condition != "sud" else 0.5)


def test_runout(sample: tuple) -> None:
    runout = sample[2]["runout"]
    for lag, target in ((0, 0.25), (1, 0.70), (2, 0.88), (3, 0.94), (6, 0.985), (12, 0.998)):
        assert _close(runout[lag], target), (lag, runout[lag])


def test_claims_are_consistent(sample: tuple) -> None:
    out = sample[0]
    con = duckdb.connect()
    med = f"read_parquet('{out}/medical_claim.parquet')"
    prov = f"read_parquet('{out}/provider.parquet')"
    bad = con.execute(f"""select count(*) from {med} where claim_status <> 'reversal' and
        (paid_amount > allowed_amount or charge_amount < allowed_amount or paid_amount < 0)""").fetchone()[0]
    assert bad == 0
    # every rendering and billing NPI+TIN pair is on the roster
    missing = con.execute(f"""select count(*) from {med} m where rendering_npi is not null and not exists
        (select 1 from {prov} p where p.npi = m.rendering_npi and p.tin = m.rendering_tin)""").fetchone()[0]
    missing += con.execute(f"""select count(*) from {med} m where not exists
        (select 1 from {prov} p where p.npi = m.billing_npi and p.tin = m.billing_tin)""").fetchone()[0]
    assert missing == 0
    versions = dict(con.execute(f"select claim_status, count(distinct claim_id) from {med} group by 1").fetchall())
    originals = versions["original"]
    assert _close(versions["adjustment"] / originals, 0.02, 0.5)
    assert _close(versions["reversal"] / originals, 0.005, 0.6)
    assert versions["denial"] > 0
    orphans = con.execute(f"""select count(*) from {med} v where original_claim_id is not null and not exists
        (select 1 from {med} o where o.claim_id = v.original_claim_id and o.claim_status = 'original')""").fetchone()[0]
    assert orphans == 0
    # claims fall in enrollment spans (a few percent outside is tolerated by design)
    outside = con.execute(f"""select avg((not exists (select 1 from read_parquet('{out}/eligibility.parquet') e
        where e.person_id = m.person_id and m.claim_start_date between e.enrollment_start_date
        and e.enrollment_end_date))::int) from {med} m""").fetchone()[0]
    assert outside < 0.03
    codes = con.execute(f"""select count(*) filter (where hcpcs_code = 'G2211'),
        count(*) filter (where place_of_service_code in ('02', '10')), count(*) filter (where hcpcs_code in
        ('3044F', '3046F', '3051F', '3052F')), count(*) filter (where drg_code is not null and admission_date is null)
        from {med}""").fetchone()
    assert codes[0] == 0 and codes[1] == 0 and codes[2] > 0 and codes[3] == 0  # 2019: no G2211, no telehealth


def test_npis_pass_luhn(sample: tuple) -> None:
    npis = pq.read_table(sample[0] / "provider.parquet").column("npi").to_pylist()
    assert len(set(npis)) == len(npis)
    assert all(len(n) == 10 and int(n[9]) == npi_check_digit(n[:9]) for n in npis)
    first = np.array([int(n[:9]) for n in npis[:50]])
    assert list(luhn_check_digits(first)) == [npi_check_digit(n[:9]) for n in npis[:50]]


def test_ingest_accepts_clean_and_quarantines_dirty(tmp_path: Path) -> None:
    from allpayer import Context
    from allpayer.intake.validate import IntakeSettings

    out = tmp_path / "data"
    summary = generate(SynthConfig(persons=800, first_year=2022, last_year=2022, seed=5, dirty=True,
                                   dirty_rows_per_rule=2, file_format="csv"), out)
    manifest = json.loads((out / "synth_manifest.json").read_text())
    assert manifest["expected_dirty"] == summary.dirty_rows_by_rule
    later = duckdb.connect().execute(f"""select count(*) filter (where hcpcs_code = 'G2211'),
        count(*) filter (where place_of_service_code in ('02', '10')) from read_csv('{out}/medical_claim.csv',
        all_varchar = true)""").fetchone()
    assert later[0] > 0 and later[1] > 0  # 2022: visit-complexity add-on and telehealth
    assert len(summary.dirty_rows_by_rule) == 12 and set(summary.dirty_rows_by_rule.values()) == {2}
    with Context(tmp_path / "ws") as ctx:
        report = ctx.ingest([out], settings=IntakeSettings(max_date=dt.date.fromisoformat(summary.max_date)))
    assert report.rejected_by_rule() == summary.dirty_rows_by_rule
    clean = summary.claim_lines + summary.pharmacy_lines + summary.eligibility_rows + summary.providers
    assert report.accepted == clean
    assert report.table_rows["medical_claim"] == summary.claim_lines
    assert report.table_rows["pharmacy_claim"] == summary.pharmacy_lines
    # only reversals (negative paid above negative allowed) may raise the paid-over-allowed warning
    assert set(report.warned_by_rule()) <= {"PAID_OVER_ALLOWED"}


def test_no_birth_date_collides_with_the_null_marker() -> None:
    """Day -1 marks nulls in integer-coded dates; a person born on 1969-12-31 must keep a birth date."""
    from allpayer.synth import geography, population, providers

    cfg = SynthConfig(persons=110_000, first_year=2022, last_year=2022, seed=11, chunk_persons=110_000)
    geo = geography.load()
    pop = population.build(cfg, geo, providers.build(cfg, geo))
    assert len(pop.birth) == 110_000
    assert (pop.birth != -1).all()
