"""Scale targets worked by hand on a ten-person population, measured in December 2019.

Residents (Vermont): M1..M4 Medicare FFS, D1 Medicaid, C1..C2 BCBSVT QHP, S1 self-funded, U1 uninsured (no
coverage), A1 Medicare Advantage; N1 lives in New Hampshire (Medicare). Two scale-target programs of ACO1:
Medicare (retrospective) and commercial (retrospective); Medicaid has a non-scale program.
Attributed in Dec 2019: M1, M2 (Medicare), C1 (commercial), D1 (Medicaid, but not a scale-target program),
N1 (Medicare, but not a Vermont resident).

Medicare scope: denominator = Vermont residents whose primary payer is Medicare FFS = M1..M4 = 4 (A1 is MA,
N1 is not a resident); numerator = M1, M2 = 2 -> 50.0%, target 75% -> missed.
All-payer scope: denominator = Medicare, Medicaid, commercial and self-funded residents = M1..M4, D1, C1, C2,
S1 = 8; numerator = M1, M2, C1 = 3 (D1's program does not count) -> 37.5%, target 50% -> missed.
"""

from __future__ import annotations

from allpayer.compute.attribution import AttributionInputs, attribute
from allpayer.compute.enrollment import primary_payer_months, residency
from allpayer.compute.scale import participation, scale
from tests.attribution_builders import clinician, line, memtables, npi, pack, person, program, span, tables

N1_ = npi(1)
PACK = pack(
    program("mcr", "medicare", timing="retrospective"),
    program("qhp", "commercial", timing="retrospective"),
    program("vmng", "medicaid", timing="retrospective", scale_target=False),
    targets={2019: (0.50, 0.75)},
)


def population():
    persons = [person(p) for p in ("M1", "M2", "M3", "M4", "D1", "C1", "C2", "S1", "U1", "A1")]
    persons.append(person("N1", state="NH", zip_code="03755"))
    spans = [span(p, "2019-01-01", "2019-12-31") for p in ("M1", "M2", "M3", "M4", "N1")]
    spans += [span("D1", "2019-01-01", "2019-12-31", "medicaid"),
              span("C1", "2019-01-01", "2019-12-31", "commercial"),
              span("C2", "2019-01-01", "2019-12-31", "commercial"),
              span("S1", "2019-01-01", "2019-12-31", "self_funded"),
              span("A1", "2019-01-01", "2019-12-31", "medicare_advantage")]
    claims = [line(p, "2019-03-01", N1_, "T1", "100") for p in ("M1", "M2", "N1")]
    claims += [line("C1", "2019-03-01", N1_, "T1", "100", payer="commercial"),
               line("D1", "2019-03-01", N1_, "T1", "100", payer="medicaid")]
    roster = [clinician(N1_, "T1", "08", aco="ACO1"), clinician(npi(2), "T1", "50", aco="ACO1"),
              {**clinician(npi(3), "T1", "08", aco="ACO1", practice="P-2"), "entity_type": "organization"},
              clinician(npi(4), "T9", "08", aco="ACO1", aco_start="2020-01-01")]
    return memtables(tables(persons, spans, claims, roster))


def test_scale_numerator_denominator_and_status():
    t = population()
    result = attribute(PACK, AttributionInputs(t["enrollment"], t["person"], t["medical_claim"], t["provider"]),
                       [2019])
    res = residency(t["person"], ["VT"])
    primary = primary_payer_months(t["enrollment"], t["person"], PACK.payer_hierarchy, "any_day", res)
    out = scale(PACK, result.months, primary, [2019])
    summary = {r["scope"]: r for r in out["scale_target"].to_pyarrow().to_pylist()}
    assert (summary["medicare"]["numerator"], summary["medicare"]["denominator"]) == (2, 4)
    assert summary["medicare"]["pct"] == 0.5 and summary["medicare"]["status"] == "missed"
    assert (summary["all_payer"]["numerator"], summary["all_payer"]["denominator"]) == (3, 8)
    assert summary["all_payer"]["pct"] == 0.375 and summary["all_payer"]["target"] == 0.5

    rows = out["scale_breakdown"].to_pyarrow().to_pylist()
    by = {(r["scope"], r["dimension"], r["value"]): (r["numerator"], r["denominator"]) for r in rows}
    # All-payer by primary payer type: Medicare 2/4, Medicaid 0/1, commercial 1/2, self-funded 0/1.
    assert by[("all_payer", "payer_type", "medicare")] == (2, 4)
    assert by[("all_payer", "payer_type", "medicaid")] == (0, 1)
    assert by[("all_payer", "payer_type", "commercial")] == (1, 2)
    assert by[("all_payer", "payer_type", "self_funded")] == (0, 1)
    # By program: the commercial program's 1 against the 2 commercial residents; no row for the Medicaid one.
    assert by[("all_payer", "program", "qhp")] == (1, 2) and ("all_payer", "program", "vmng") not in by
    # No ZIP crosswalk given: every resident is in HSA "unknown".
    assert by[("all_payer", "hsa", "unknown")] == (3, 8)

    # Network on 2019-12-31: individuals N1, N2 (the organisation row and T9, which joins in 2020, do not count),
    # practices P-T1 and P-2, one TIN.
    net = participation(t["provider"], PACK, [2019]).to_pyarrow().to_pylist()
    assert net == [{"year": 2019, "aco_id": "ACO1", "clinicians": 2, "practices": 2, "tins": 1}]


def test_status_met_and_no_target():
    t = population()
    result = attribute(PACK, AttributionInputs(t["enrollment"], t["person"], t["medical_claim"], t["provider"]),
                       [2019])
    primary = primary_payer_months(t["enrollment"], t["person"], PACK.payer_hierarchy, "any_day",
                                   residency(t["person"], ["VT"]))
    low = pack(*PACK.programs.values(), targets={2019: (0.30, 0.50)})
    summary = {r["scope"]: r["status"] for r in scale(low, result.months, primary, [2019])["scale_target"]
               .to_pyarrow().to_pylist()}
    assert summary == {"all_payer": "met", "medicare": "met"}  # 37.5% >= 30%, 50% >= 50%
    # 2022 has a target but no enrollment: no eligible resident, so no share to judge.
    later = pack(*PACK.programs.values(), targets={2019: (0.30, 0.50), 2022: (0.70, 0.90)})
    rows = scale(later, result.months, primary, [2019, 2022])["scale_target"].to_pyarrow().to_pylist()
    assert {(r["year"], r["scope"]): (r["denominator"], r["pct"], r["status"]) for r in rows if r["year"] == 2022} \
        == {(2022, "all_payer"): (0, None, "no data"), (2022, "medicare"): (0, None, "no data")}
    none = pack(*PACK.programs.values())
    statuses = {r["status"] for r in scale(none, result.months, primary, [2019])["scale_target"]
                .to_pyarrow().to_pylist()}
    assert statuses == {"no target"}
