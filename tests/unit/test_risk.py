"""CMS-HCC raw scores (set-based, allpayer.compute.risk_hcc) equal hccinfhir's on the same people; blend,
normalisation and coding adjustment; age/sex factors."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from allpayer.compute.risk import age_on, age_sex_scores, blend_table, demographic_factors, hcc_scores
from allpayer.compute.risk_hcc import raw_scores
from allpayer.config.cost import HccBlend, RiskSettings

# (person, age, sex, orec, dual code, diagnoses): community segments N/F/P x aged/disabled, interactions
# (CHF x COPD, diabetes x CHF, cancer x immune, substance use x psychiatric), hierarchies (E1122 vs E119 ...),
# originally disabled, payment-HCC counts, a person without diagnoses.
PEOPLE = [
    ("p1", 72, "female", "0", None, ["E119", "I509", "J449", "N184"]),
    ("p2", 58, "male", "1", "02", ["F200", "J449", "I509", "F1020"]),
    ("p3", 80, "male", "1", "01", ["C3490", "D8989", "E1122", "E119"]),
    ("p4", 67, "female", "0", None, []),
    ("p5", 91, "female", "0", "08", ["I5022", "E1165", "N186", "J9601", "I480", "G20"]),
    ("p6", 45, "female", "1", "04", ["F319", "F1120", "G409", "E6601"]),
    ("p7", 66, "male", "0", "03", ["I110", "I5030", "I130", "N1830", "E1140", "G629", "M810", "F329",
                                   "C50911", "J441", "L89154", "K5090"]),
    ("p8", 33, "male", "1", None, ["B20", "F1010", "F330", "Z940"]),
]


def _tables(people: list[tuple]) -> tuple[ibis.Table, ibis.Table]:
    demo = ibis.memtable(pa.table({
        "person_id": [p[0] for p in people], "year": [2022] * len(people), "age": [p[1] for p in people],
        "sex": [p[2] for p in people], "orec": [p[3] for p in people],
        "dual_status_code": pa.array([p[4] for p in people], pa.string())}))
    dx = [(p[0], c) for p in people for c in p[5]]
    dxt = ibis.memtable(pa.table({"person_id": pa.array([d[0] for d in dx], pa.string()),
                                  "year": pa.array([2022] * len(dx), pa.int64()),
                                  "diagnosis_code": pa.array([d[1] for d in dx], pa.string())}))
    return demo, dxt


@pytest.mark.parametrize("model", ["V24", "V28"])
def test_raw_scores_equal_hccinfhir(model: str):
    hccinfhir = pytest.importorskip("hccinfhir")
    demo, dx = _tables(PEOPLE)
    got = {r["person_id"]: r for r in raw_scores(demo, dx, model).to_pyarrow().to_pylist()}
    for pid, age, sex, orec, dual, codes in PEOPLE:
        ref = hccinfhir.calculate_raf(codes, model_name=f"CMS-HCC Model {model}", age=age,
                                      sex="F" if sex == "female" else "M", dual_elgbl_cd=dual or "NA", orec=orec,
                                      switch_edits=False)
        assert got[pid]["raw_score"] == pytest.approx(ref.risk_score, abs=1e-9), (pid, sorted(ref.coefficients))
        assert got[pid]["hcc_count"] == len(ref.hcc_list), pid


def test_demographic_only_person_scores_the_cell():
    # Aged, non-dual female of 67, no diagnoses: V24 CNA_F65_69 = 0.323 (CMS 2020+ V24 community table).
    demo, dx = _tables([("p4", 67, "female", "0", None, [])])
    assert raw_scores(demo, dx, "V24").to_pyarrow().to_pylist()[0]["raw_score"] == pytest.approx(0.323)


def test_blend_normalisation_and_coding():
    # p4: raw V24 0.323, raw V28 0.33 (CNA_F65_69 in both). Payment year 2022 blend 50/50 (hypothetical),
    # norms 1.1 and 1.0, coding 5%: (0.5 x 0.323 / 1.1 + 0.5 x 0.33 / 1.0) x 0.95
    #  = (0.146818... + 0.165) x 0.95 = 0.296227 (6 dp).
    settings = RiskSettings(blends=[HccBlend(payment_year=2022, v24_weight=0.5, v28_weight=0.5,
                                             v24_normalization=1.1, v28_normalization=1.0, coding_adjustment=0.05)])
    demo, dx = _tables([("p4", 67, "female", "0", None, [])])
    row = hcc_scores(demo, dx, settings).to_pyarrow().to_pylist()[0]
    assert row["risk_score"] == pytest.approx(0.296227, abs=1e-6)


def test_blend_year_lookup():
    s = RiskSettings(blends=[HccBlend(payment_year=2024, v24_weight=0.67, v28_weight=0.33),
                             HccBlend(payment_year=2026, v24_weight=0.0, v28_weight=1.0)])
    assert s.blend(2020).payment_year == 2024 and s.blend(2025).payment_year == 2024
    assert s.blend(2030).v28_weight == 1.0
    with pytest.raises(ValueError):
        HccBlend(payment_year=2024, v24_weight=0.5, v28_weight=0.6)
    # No blend configured: V24 alone for every year the blend table covers, 1990 included.
    assert RiskSettings().blend(1990).v24_weight == 1.0 and len(blend_table(RiskSettings()).to_pyarrow()) > 40


def test_age_on_first_of_february():
    t = ibis.memtable(pa.table({"b": [dt.date(1950, 2, 1), dt.date(1950, 2, 2), dt.date(1950, 12, 31)]}))
    out = t.select(a=age_on(t.b, ibis.literal(2020))).to_pyarrow()["a"].to_pylist()
    assert out == [70, 69, 69]


def test_age_sex_factors():
    # Commercial reference year 2020: women 20-34 (cell f 0_34) spend 300 over 12 mm = 25 PMPM, men 60-64
    # (m 60_64) 900 over 12 mm = 75 PMPM; payer PMPM = 1200 / 24 = 50 -> factors 0.5 and 1.5.
    person = ibis.memtable(pa.table({"person_id": ["a", "b"], "birth_date": [dt.date(1990, 1, 1),
                                     dt.date(1958, 1, 1)], "sex": ["female", "male"]}))
    py = ibis.memtable(pa.table({"person_id": ["a", "b"], "year": [2020, 2020], "payer_type": ["commercial"] * 2,
                                 "member_months": [12.0, 12.0], "tcoc": [300.0, 900.0]}))
    f = demographic_factors(py, person, 2020)
    scores = {r["person_id"]: r["risk_score"] for r in age_sex_scores(py, person, f).to_pyarrow().to_pylist()}
    assert scores == {"a": pytest.approx(0.5), "b": pytest.approx(1.5)}


def test_claim_diagnoses_from_final_action_lines():
    """Every position of final-action lines, blanks dropped, distinct per person and (offset) year: claim B is
    reversed by B2, so its code E119 never counts; A's code I10 on two lines and two positions counts once."""
    from allpayer.compute.risk import claim_diagnoses
    from tests.cost_builders import med, medical

    claims = medical([
        med("A", "p1", "2019-03-01", "10", diagnosis_code_1="I10", diagnosis_code_2="E785"),
        med("A", "p1", "2019-03-01", "10", line=2, diagnosis_code_1="", diagnosis_code_3="I10"),
        med("B", "p1", "2019-05-01", "10", diagnosis_code_1="E119"),
        med("B2", "p1", "2019-05-01", "-10", status="reversal", original="B", file_date="2019-06-01",
            diagnosis_code_1="E119"),
        med("C", "p2", "2018-12-31", "10", diagnosis_code_25="F329"),
    ])
    rows = claim_diagnoses(claims, offset=1).to_pyarrow().to_pylist()
    assert sorted((r["person_id"], r["year"], r["diagnosis_code"]) for r in rows) == [
        ("p1", 2020, "E785"), ("p1", 2020, "I10"), ("p2", 2019, "F329")]
    # Only the person-years to be scored: p1 in 2020 (its 2019 claims, offset 1), not p2.
    scored = ibis.memtable({"person_id": ["p1", "p2"], "year": [2020, 2020]})
    rows = claim_diagnoses(claims, offset=1, scored=scored).to_pyarrow().to_pylist()
    assert sorted((r["person_id"], r["year"], r["diagnosis_code"]) for r in rows) == [
        ("p1", 2020, "E785"), ("p1", 2020, "I10")]
    # The same from intake's list of superseded versions (the lines kept to the scored persons before final
    # action), and from lines already final.
    from allpayer.compute.final_action import final_action, superseded_versions

    listed = claim_diagnoses(claims, offset=1, scored=scored, superseded=superseded_versions(claims))
    final = claim_diagnoses(final_action(claims), offset=1, scored=scored)
    for other in (listed, final):
        assert sorted((r["person_id"], r["year"], r["diagnosis_code"]) for r in other.to_pyarrow().to_pylist()) \
            == [("p1", 2020, "E785"), ("p1", 2020, "I10")]


def test_claim_diagnoses_kept_to_mapped_codes():
    """With ``mapped`` (the codes a CMS-HCC model maps), only those stay, matched in the tables' form: "e11.65"
    is E1165 and stays as the claim wrote it; I10 maps to no condition category and is dropped."""
    from allpayer.compute.risk import claim_diagnoses
    from allpayer.compute.risk_hcc import mapped_diagnoses
    from tests.cost_builders import med, medical

    claims = medical([
        med("A", "p1", "2019-03-01", "10", diagnosis_code_1="I10", diagnosis_code_2="e11.65"),
        med("B", "p1", "2019-05-01", "10", diagnosis_code_1="I5020", diagnosis_code_3="I10"),
    ])
    rows = claim_diagnoses(claims, mapped=mapped_diagnoses()).to_pyarrow().to_pylist()
    assert sorted((r["person_id"], r["year"], r["diagnosis_code"]) for r in rows) == [
        ("p1", 2019, "I5020"), ("p1", 2019, "e11.65")]
    codes = set(mapped_diagnoses().to_pyarrow()["diagnosis_code"].to_pylist())
    assert {"E1165", "I5020", "E119"} <= codes and "I10" not in codes


def test_filled_values_lists_the_filled_positions_in_order():
    """Rows filling only the first positions list those; a row filling a later one lists every filled position
    in order; blanks and nulls are never listed; with ``first`` 0 a row filling nothing gets a null, not a list."""
    from allpayer.compute.risk import filled_values

    t = ibis.memtable(pa.table({
        "row": [1, 2, 3, 4, 5],
        "a": pa.array(["A1", "", None, "A4", None], pa.string()),
        "b": pa.array(["B1", "B2", None, None, None], pa.string()),
        "c": pa.array([None, None, "C3", "", None], pa.string()),
        "d": pa.array([None, "D2", None, None, None], pa.string()),
    }))
    listed = t.select("row", head=filled_values(t, ["a", "b", "c", "d"], first=2),
                      tail=filled_values(t, ["b", "c", "d"])).order_by("row").to_pyarrow().to_pylist()
    assert [(r["head"], r["tail"]) for r in listed] == [
        (["A1", "B1"], ["B1"]), (["B2", "D2"], ["B2", "D2"]), (["C3"], ["C3"]), (["A4"], []), ([], None)]
