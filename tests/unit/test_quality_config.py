"""The quality registry (pack section), value sets and the external-measure CSV loader: validation with
errors that name the file, row and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from allpayer.config import load_pack
from allpayer.config.quality import QualitySettings
from allpayer.intake.external_measures import ExternalMeasureError, load_external_measures
from allpayer.refdata.quality import HERE, expand, value_sets

REGISTRY = load_pack("vermont").quality
MEASURE = {"id": "x", "name": "x", "steward": "s", "spec": "s", "spec_version": "1", "tier": "process",
           "direction": "higher", "source": "claims", "method": "primary_care_access"}


def test_vermont_registry_loads_with_every_required_field():
    assert REGISTRY is not None and REGISTRY.version
    ids = {m.id for m in REGISTRY.measures}
    assert {"adults_personal_doctor", "suicide_deaths", "overdose_deaths", "hba1c_poor_control",
            "followup_ed_mental_illness", "aod_engagement", "prevalence_copd"} <= ids
    for m in REGISTRY.measures:
        assert m.steward and m.spec and m.spec_version and m.tier and m.direction and m.source
    # VMNG scores six measures (domain.md §4.2); Medicare scores the AWV, Medicaid does not
    assert len(REGISTRY.scored_measures("medicaid_vmng", "medicaid")) == 6
    assert "annual_wellness_visit" in {m.id for m in REGISTRY.scored_measures("medicare_vmng", "medicare")}


def test_registry_rejects_bad_entries():
    with pytest.raises(ValidationError, match="claims measure needs a method"):
        QualitySettings.model_validate({"version": "1", "measures": [{**MEASURE, "method": None}]})
    with pytest.raises(ValidationError, match="listed twice"):
        QualitySettings.model_validate({"version": "1", "measures": [MEASURE, MEASURE]})
    with pytest.raises(ValidationError, match="unknown measures"):
        QualitySettings.model_validate({"version": "1", "measures": [MEASURE],
                                        "scoring": {"programs": {"p": ["nope"]}}})
    with pytest.raises(ValidationError, match="extra"):
        QualitySettings.model_validate({"version": "1", "measures": [{**MEASURE, "typo": 1}]})


def test_value_set_ranges_expand_on_reference_rows_only():
    assert expand("3074F", "3075F") == ["3074F", "3075F"]
    assert expand("F20", "F22") == ["F20", "F21", "F22"]
    assert expand("0450", "0452") == ["0450", "0451", "0452"]
    with pytest.raises(ValueError, match="bad code range"):
        expand("F20", "G22")
    vs = value_sets().to_pylist()
    assert {"value_set": "hba1c_above_9", "system": "hcpcs", "code": "3046F"} in [
        {k: r[k] for k in ("value_set", "system", "code")} for r in vs]
    assert {r["value_set"] for r in vs} >= {"ed_visit", "hospice", "aod_dx", "mental_illness_dx", "well_care"}


def test_sample_external_file_loads():
    t = load_external_measures(HERE / "external_sample.csv", REGISTRY)
    rows = {(r["measure_id"], r["year"]): r for r in t.to_pylist()}
    # 112 suicide deaths / 623,657 residents x 100,000 = 17.96 per 100,000 (rate computed from the counts)
    assert rows[("suicide_deaths", 2017)]["rate"] == pytest.approx(17.958, abs=1e-3)
    assert rows[("adults_personal_doctor", 2017)]["rate"] == 0.87


def test_external_file_errors_name_file_row_and_field(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("measure_id,year,geography,numerator,denominator,rate,source\n"
                   "suicide_deaths,2019,statewide,100,500000,99,vs\n"        # rate != 100/500000 x 100,000 = 20
                   "nope,2019,statewide,,,0.5,x\n"                             # unknown measure
                   "adults_personal_doctor,20x9,statewide,,,0.8,brfss\n"      # year not an integer
                   "adults_personal_doctor,2019,statewide,,,1.4,brfss\n"      # share above 1
                   "hba1c_poor_control,2019,statewide,,,0.2,x\n"              # a claims measure
                   "overdose_deaths,2019,statewide,5,,,vs\n"                  # numerator without denominator
                   "adults_personal_doctor,2018,statewide,,,0.8,brfss\n"
                   "adults_personal_doctor,2018,statewide,,,0.8,brfss\n")     # duplicate
    with pytest.raises(ExternalMeasureError) as exc:
        load_external_measures(bad, REGISTRY)
    lines = str(exc.value).splitlines()
    assert lines[0].startswith(f"{bad}: row 1, field rate: 99.0 does not match")
    assert any(f"{bad}: row 2, field measure_id: unknown measure 'nope'" in x for x in lines)
    assert any(f"{bad}: row 3, field year: not an integer" in x for x in lines)
    assert any(f"{bad}: row 4, field rate:" in x and "between 0 and 1" in x for x in lines)
    assert any(f"{bad}: row 5, field measure_id:" in x and "claims measure" in x for x in lines)
    assert any(f"{bad}: row 6, fields numerator/denominator: give both or neither" in x for x in lines)
    assert any(f"{bad}: row 8: duplicate" in x for x in lines)
    missing = tmp_path / "missing.csv"
    missing.write_text("measure_id,year\n")
    with pytest.raises(ExternalMeasureError, match="header: missing columns"):
        load_external_measures(missing, REGISTRY)
