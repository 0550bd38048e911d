"""Hand-worked attribution cases. ACO1 = TIN T1 (PCP N1, NP N2, cardiologist N4); T2 is unaffiliated (PCPs N3
and N7, radiologist N5); T3 belongs to another ACO (PCP N6). Amounts are allowed dollars of primary-care
lines (99213 unless stated)."""

from __future__ import annotations

from decimal import Decimal

from allpayer.compute.attribution import AttributionInputs, attribute
from tests.attribution_builders import (
    Duck,
    clinician,
    designation,
    line,
    npi,
    pack,
    person,
    program,
    span,
    tables,
)

N1, N2, N3, N4, N5, N6, N7 = (npi(i) for i in range(1, 8))
ROSTER = [
    clinician(N1, "T1", "08", aco="ACO1"), clinician(N2, "T1", "50", aco="ACO1"),
    clinician(N4, "T1", "06", aco="ACO1"), clinician(N3, "T2", "11"), clinician(N7, "T2", "08"),
    clinician(N5, "T2", "30"), clinician(N6, "T3", "08", aco="ACO2"),
]


def run(pk, persons, spans, claims, voluntary=None, years=(2019,)):
    t = Duck(tables(persons, spans, claims, ROSTER, voluntary))
    inputs = AttributionInputs(t["enrollment"], t["person"], t["medical_claim"], t["provider"],
                               t.get("voluntary_alignment"))
    result = attribute(pk, inputs, years, stage=t.stage)
    rows = result.attribution.to_pyarrow().to_pylist()
    return {(r["person_id"], r["year"], r["period"]): r for r in rows}, result


def covered(*pids, start="2016-01-01", end="2022-12-31", payer_type="medicare"):
    return [person(p) for p in pids], [span(p, start, end, payer_type) for p in pids]


RETRO = pack(program(timing="retrospective", lookback_months=12))


def test_plurality_sums_clinicians_of_the_aco():
    # A: ACO1 has N1 $100 + N2 (NP) $50 = $150 against T2's $120 -> ACO1 wins; its lead clinician is N1 ($100).
    persons, spans = covered("A")
    claims = [line("A", "2019-02-01", N1, "T1", "100"), line("A", "2019-03-01", N2, "T1", "50"),
              line("A", "2019-04-01", N3, "T2", "120")]
    out, result = run(RETRO, persons, spans, claims)
    a = out[("A", 2019, 0)]
    assert (a["attributed"], a["step"], a["npi"], a["tin"], a["aco_id"]) == (True, "primary_care", N1, "T1", "ACO1")
    assert a["allowed"] == Decimal("150.00") and a["candidate_entities"] == 2
    cands = {(c["entity_id"], c["npi"]): c for c in result.candidates.to_pyarrow().to_pylist()}
    assert cands[("TIN:T2", N3)]["entity_allowed"] == Decimal("120.00")
    assert cands[("TIN:T2", N3)]["entity_rank"] == 2 and cands[("ACO1", N2)]["clinician_rank"] == 2


def test_ties_go_to_the_most_recent_visit_then_the_lowest_npi():
    # B: ACO1 $100 last seen 2019-03-01, T2 $100 last seen 2019-06-01 -> T2 (more recent) -> not attributed.
    # C: both $100 on the same day 2019-05-01 -> lowest lead NPI: N1 (ACO1) < N3 (T2) -> attributed.
    # D: the same tie between T2's N3 and N7 inside one entity picks N3 as the lead clinician (lower NPI).
    persons, spans = covered("B", "C", "D")
    claims = [line("B", "2019-03-01", N1, "T1", "100"), line("B", "2019-06-01", N3, "T2", "100"),
              line("C", "2019-05-01", N3, "T2", "100"), line("C", "2019-05-01", N1, "T1", "100"),
              line("D", "2019-05-01", N7, "T2", "60"), line("D", "2019-05-01", N3, "T2", "60"),
              line("D", "2019-01-01", N1, "T1", "100")]
    out, _ = run(RETRO, persons, spans, claims)
    assert out[("B", 2019, 0)]["attributed"] is False and out[("B", 2019, 0)]["entity_id"] == "TIN:T2"
    assert out[("C", 2019, 0)]["attributed"] is True and out[("C", 2019, 0)]["npi"] == N1
    d = out[("D", 2019, 0)]  # T2 $120 > ACO1 $100
    assert (d["attributed"], d["entity_id"], d["npi"]) == (False, "TIN:T2", min(N3, N7))


def test_step_two_only_without_primary_care_from_pcps():
    # E: no PCP/NP service; cardiologist N4 (ACO1) $80 -> step 2 -> attributed; the radiologist N5 ($500 of
    #    99213) is not an assignment specialty and does not count.
    # F: one PCP visit at T2 ($10) makes step 1 apply, so the cardiologist's $500 in ACO1 is ignored.
    persons, spans = covered("E", "F")
    claims = [line("E", "2019-02-01", N4, "T1", "80"), line("E", "2019-02-02", N5, "T2", "500"),
              line("F", "2019-02-01", N3, "T2", "10"), line("F", "2019-02-03", N4, "T1", "500")]
    out, _ = run(RETRO, persons, spans, claims)
    e, f = out[("E", 2019, 0)], out[("F", 2019, 0)]
    assert (e["attributed"], e["step"], e["npi"], e["allowed"]) == (True, "specialist", N4, Decimal("80.00"))
    assert (f["attributed"], f["step"], f["entity_id"]) == (False, "primary_care", "TIN:T2")


def test_specialist_step_can_be_switched_off():
    persons, spans = covered("E")
    out, _ = run(pack(program(timing="retrospective", specialist_step=False)), persons, spans,
                 [line("E", "2019-02-01", N4, "T1", "80")])
    assert (out[("E", 2019, 0)]["attributed"], out[("E", 2019, 0)]["step"]) == (False, "none")


def test_lookback_window_boundaries():
    # Prospective PY2019, 12-month look-back, no offset: window = Jan 2018 .. Dec 2018.
    # G: T2 $999 on 2017-12-31 (one day before the window), ACO1 $10 on 2018-01-01 (first day), T2 $999 on
    #    2019-01-01 (after the window) -> only the $10 counts -> ACO1.
    # With a 24-month look-back (Jan 2017 .. Dec 2018) the 2017-12-31 visit counts -> T2 ($999 > $10).
    persons, spans = covered("G")
    claims = [line("G", "2017-12-31", N3, "T2", "999"), line("G", "2018-01-01", N1, "T1", "10"),
              line("G", "2019-01-01", N3, "T2", "999")]
    out12, _ = run(pack(program(timing="prospective", lookback_months=12)), persons, spans, claims)
    out24, _ = run(pack(program(timing="prospective", lookback_months=24)), persons, spans, claims)
    assert out12[("G", 2019, 0)]["attributed"] is True and out12[("G", 2019, 0)]["allowed"] == Decimal("10.00")
    assert out24[("G", 2019, 0)]["attributed"] is False and out24[("G", 2019, 0)]["entity_id"] == "TIN:T2"
    # An offset of 6 months moves the window to Jul 2017 .. Jun 2018: the 2017-12-31 visit is in again.
    off, _ = run(pack(program(timing="prospective", window_offset_months=6)), persons, spans, claims)
    assert off[("G", 2019, 0)]["entity_id"] == "TIN:T2"


def test_voluntary_alignment_both_ways():
    # H: claims go to T2 ($300 vs 0) but H designated N1 (ACO1) in 2018 -> attributed, step voluntary.
    # I: claims go to ACO1 ($300) but I designated N3 (T2) -> blocked, not attributed.
    # J: designated N3 only on 2020-02-01, after the as-of date (2019-12-31) -> claims decide -> ACO1.
    # K: designated N3 in 2017, then N1 in 2018: the latest designation (N1) wins -> attributed.
    persons, spans = covered("H", "I", "J", "K")
    claims = [line("H", "2019-02-01", N3, "T2", "300"), line("I", "2019-02-01", N1, "T1", "300"),
              line("J", "2019-02-01", N1, "T1", "300")]
    vol = [designation("H", N1, "2018-05-01"), designation("I", N3, "2018-05-01"),
           designation("J", N3, "2020-02-01"), designation("K", N3, "2017-01-01"), designation("K", N1, "2018-01-01")]
    pk = pack(program(timing="retrospective", voluntary_alignment=True))
    out, _ = run(pk, persons, spans, claims, vol)
    assert (out[("H", 2019, 0)]["attributed"], out[("H", 2019, 0)]["step"], out[("H", 2019, 0)]["npi"]) == \
        (True, "voluntary", N1)
    assert (out[("I", 2019, 0)]["attributed"], out[("I", 2019, 0)]["step"]) == (False, "voluntary_blocked")
    assert (out[("J", 2019, 0)]["attributed"], out[("J", 2019, 0)]["step"]) == (True, "primary_care")
    assert (out[("K", 2019, 0)]["attributed"], out[("K", 2019, 0)]["step"]) == (True, "voluntary")
    # Switched off, designations are ignored: H goes with the claims to T2.
    off, _ = run(RETRO, persons, spans, claims, vol)
    assert off[("H", 2019, 0)]["attributed"] is False and off[("I", 2019, 0)]["attributed"] is True


def test_snf_place_of_service_exclusion_by_year():
    # L: 99309 at POS 31 (SNF) by N1/ACO1 $200, 99213 office visit by N3/T2 $100, in each year.
    # PY2016: no SNF exclusion -> ACO1 $200 > $100 -> attributed.
    # PY2018: 99304-99318 at POS 31 is excluded (42 CFR 425.400(c)(1)(iii)) -> only T2's $100 -> not attributed.
    persons, spans = covered("L")
    claims = [line("L", f"{y}-03-01", N1, "T1", "200", hcpcs="99309", pos="31") for y in (2016, 2018)] + \
             [line("L", f"{y}-04-01", N3, "T2", "100") for y in (2016, 2018)]
    out, _ = run(RETRO, persons, spans, claims, years=(2016, 2018))
    assert out[("L", 2016, 0)]["attributed"] is True and out[("L", 2016, 0)]["allowed"] == Decimal("200.00")
    assert out[("L", 2018, 0)]["attributed"] is False and out[("L", 2018, 0)]["allowed"] == Decimal("100.00")


def test_primary_care_codes_follow_the_performance_year():
    # M: a virtual check-in G2012 ($50, ACO1) is primary care from PY2021 only (and in PHE windows): in
    #    PY2019 (window 2019) it does not count, so T2's $20 office visit wins.
    persons, spans = covered("M")
    claims = [line("M", "2019-03-01", N1, "T1", "50", hcpcs="G2012"), line("M", "2019-04-01", N3, "T2", "20")]
    out, _ = run(RETRO, persons, spans, claims)
    assert out[("M", 2019, 0)]["attributed"] is False


def test_prospective_list_loses_members_month_by_month():
    # Prospective PY2019 (window 2018): N, O and P are attributed to ACO1 as of January.
    # N loses Medicare after 2019-06-15 -> attributed Jan..Jun (any day counts). O dies 2019-03-10 -> Jan..Mar.
    # P re-enters: covered Jan..Feb and Nov..Dec -> 4 months. Q enrolls in March: not eligible in January, so
    # not on the prospective list at all (no new members during the year).
    persons = [person("N"), person("O", death="2019-03-10"), person("P"), person("Q")]
    spans = [span("N", "2016-01-01", "2019-06-15"), span("O", "2016-01-01", "2022-12-31"),
             span("P", "2016-01-01", "2019-02-28"), span("P", "2019-11-01", "2022-12-31"),
             span("Q", "2018-01-01", "2018-12-31"), span("Q", "2019-03-01", "2022-12-31")]
    claims = [line(p, "2018-05-01", N1, "T1", "100") for p in "NOPQ"]
    out, result = run(pack(program(timing="prospective")), persons, spans, claims)
    assert all(out[(p, 2019, 0)]["attributed"] for p in "NOP") and ("Q", 2019, 0) not in out
    months = result.months.to_pyarrow().to_pylist()
    by_person = {p: sorted(r["month"] for r in months if r["person_id"] == p) for p in "NOPQ"}
    assert by_person == {"N": [1, 2, 3, 4, 5, 6], "O": [1, 2, 3], "P": [1, 2, 11, 12], "Q": []}


def test_retrospective_and_quarterly_timing():
    # Q (enrolled from March 2019) is attributed retrospectively on 2019 claims: Mar..Dec = 10 months.
    # Quarterly prospective: Q is not eligible on Jan 1; from the April run on, windows are the 12 months
    # before each quarter (Apr 2018..Mar 2019 holds the 2019-02-01 ACO1 visit) -> Q2..Q4 = 9 months.
    persons, spans = [person("Q")], [span("Q", "2019-03-01", "2022-12-31")]
    claims = [line("Q", "2019-02-01", N1, "T1", "100")]
    _, retro = run(RETRO, persons, spans, claims)
    assert len(retro.months.to_pyarrow()) == 10
    out, quarterly = run(pack(program(timing="quarterly")), persons, spans, claims)
    assert sorted(k[2] for k in out) == [1, 2, 3]
    assert sorted(r["month"] for r in quarterly.months.to_pyarrow().to_pylist()) == list(range(4, 13))


def test_medicare_advantage_months_block_attribution():
    # R had one month of Medicare Advantage in the window -> not eligible when exclude_coverage lists MA.
    persons = [person("R")]
    spans = [span("R", "2016-01-01", "2022-12-31"), span("R", "2019-05-01", "2019-05-31", "medicare_advantage")]
    claims = [line("R", "2019-02-01", N1, "T1", "100")]
    out, _ = run(pack(program(timing="retrospective", eligibility={"exclude_coverage": ["medicare_advantage"]})),
                 persons, spans, claims)
    assert ("R", 2019, 0) not in out
    out, _ = run(RETRO, persons, spans, claims)
    assert out[("R", 2019, 0)]["attributed"] is True


def test_other_aco_and_multi_aco_tins():
    # S: T3 (ACO2) $200 beats ACO1 $100 -> not attributed to ACO1; the winner's ACO is reported.
    persons, spans = covered("S")
    out, _ = run(RETRO, persons, spans, [line("S", "2019-02-01", N6, "T3", "200"),
                                          line("S", "2019-03-01", N1, "T1", "100")])
    assert (out[("S", 2019, 0)]["attributed"], out[("S", 2019, 0)]["aco_id"]) == (False, "ACO2")


MEDICAID = pack(program("vmng", "medicaid", timing="prospective",
                        expanded={"enabled": True, "first_year": 2020},
                        eligibility={"require_primary_payer": True}))


def test_medicaid_expanded_attribution():
    # PY2020 prospective, window 2019. U: Medicaid only, no primary care -> expanded.
    # V: Medicaid plus commercial coverage in January -> "other insurance" -> not attributed.
    # W: Medicaid only but a T2 visit in 2019 -> has primary-care history -> claims decide -> T2, not attributed.
    # X: dual (Medicare + Medicaid): Medicare is the primary payer, so X is not eligible for the Medicaid program.
    # In PY2019 (before expanded attribution starts) U is eligible but not attributed.
    persons = [person(p) for p in "UVWX"]
    spans = [span(p, "2018-01-01", "2022-12-31", "medicaid") for p in "UVWX"] + \
            [span("V", "2020-01-01", "2020-06-30", "commercial"), span("X", "2018-01-01", "2022-12-31")]
    claims = [line("W", "2019-05-01", N3, "T2", "40", payer="medicaid")]
    out, _ = run(MEDICAID, persons, spans, claims, years=(2019, 2020))
    assert (out[("U", 2020, 0)]["attributed"], out[("U", 2020, 0)]["step"], out[("U", 2020, 0)]["aco_id"]) == \
        (True, "expanded", "ACO1")
    assert out[("U", 2019, 0)]["attributed"] is False and out[("U", 2019, 0)]["step"] == "none"
    assert out[("V", 2020, 0)]["attributed"] is False
    assert (out[("W", 2020, 0)]["attributed"], out[("W", 2020, 0)]["entity_id"]) == (False, "TIN:T2")
    assert ("X", 2020, 0) not in out


def test_claims_of_other_payers_do_not_count():
    # Y is Medicare-covered; a commercial claim with ACO1 is not a Medicare primary-care service.
    persons, spans = covered("Y")
    out, _ = run(RETRO, persons, spans, [line("Y", "2019-02-01", N1, "T1", "100", payer="bcbsvt")])
    assert out[("Y", 2019, 0)]["step"] == "none"


def test_program_months_follow_the_primary_payer_and_count_once():
    # PY2020 prospective (window 2019); both have an ACO1 visit in 2019 on Medicaid.
    # Z: Medicaid throughout and Medicare from 2020-07-01. Medicare is then the primary payer, so Z's months in
    #    the Medicaid program end in June (months 1-6).
    # AA: Medicaid on plan "medicaid" to 2020-03-15, then on plan "medicaid_b": two spans in March, one month
    #    (months 1-12, March once).
    # Both have two spans touching one month, so their months go through the month-level path; N (one span,
    # the run path) is attributed all year beside them.
    persons = [person("Z"), person("AA"), person("N")]
    spans = [span("Z", "2018-01-01", "2022-12-31", "medicaid"), span("Z", "2020-07-01", "2022-12-31"),
             span("AA", "2018-01-01", "2020-03-15", "medicaid"),
             span("AA", "2020-03-16", "2022-12-31", "medicaid", plan="medicaid_b"),
             span("N", "2018-01-01", "2022-12-31", "medicaid")]
    claims = [line(p, "2019-05-01", N1, "T1", "100", payer="medicaid") for p in ("Z", "AA", "N")]
    out, result = run(MEDICAID, persons, spans, claims, years=(2020,))
    assert all(out[(p, 2020, 0)]["attributed"] for p in ("Z", "AA", "N"))
    months = result.months.to_pyarrow().to_pylist()
    by_person = {p: sorted(r["month"] for r in months if r["person_id"] == p) for p in ("Z", "AA", "N")}
    assert by_person == {"Z": [1, 2, 3, 4, 5, 6], "AA": list(range(1, 13)), "N": list(range(1, 13))}
