"""The golden attribution cases, all in one data set, give identical results on DuckDB and PySpark."""

from __future__ import annotations

import ibis

from allpayer.compute.attribution import AttributionInputs, attribute
from allpayer.compute.enrollment import member_months, primary_payer_months, residency
from allpayer.compute.scale import scale
from tests.attribution_builders import designation, line, pack, person, program, span, tables
from tests.golden.test_attribution import N1, N2, N3, N4, N6, N7, ROSTER

PACK = pack(
    program("retro", timing="retrospective", voluntary_alignment=True),
    program("pros", timing="quarterly", lookback_months=24, scale_target=False),
    program("vmng", "medicaid", timing="prospective", expanded={"enabled": True, "first_year": 2020},
            eligibility={"require_primary_payer": True}),
    targets={2019: (0.5, 0.75), 2020: (0.58, 0.79)},
)


def data() -> dict:
    mcr = ["A", "B", "C", "E", "F", "H", "I", "L", "N", "O"]
    persons = [person(p) for p in mcr if p != "O"] + [person("O", death="2019-03-10")]
    persons += [person(p) for p in "UVW"]
    spans = [span(p, "2016-01-01", "2022-12-31") for p in mcr if p != "N"] + [span("N", "2016-01-01", "2019-06-15")]
    spans += [span(p, "2018-01-01", "2022-12-31", "medicaid") for p in "UVW"]
    spans += [span("V", "2020-01-01", "2020-06-30", "commercial")]
    claims = [
        line("A", "2019-02-01", N1, "T1", "100"), line("A", "2019-03-01", N2, "T1", "50"),
        line("A", "2019-04-01", N3, "T2", "120"),
        line("B", "2019-03-01", N1, "T1", "100"), line("B", "2019-06-01", N3, "T2", "100"),
        line("C", "2019-05-01", N3, "T2", "100"), line("C", "2019-05-01", N1, "T1", "100"),
        line("C", "2019-05-01", N7, "T2", "100"),
        line("E", "2019-02-01", N4, "T1", "80"), line("F", "2019-02-01", N3, "T2", "10"),
        line("F", "2019-02-03", N4, "T1", "500"), line("H", "2019-02-01", N3, "T2", "300"),
        line("I", "2019-02-01", N1, "T1", "300"),
        line("L", "2018-03-01", N1, "T1", "200", hcpcs="99309", pos="31"), line("L", "2018-04-01", N6, "T3", "100"),
        line("N", "2018-05-01", N1, "T1", "100"), line("O", "2018-05-01", N1, "T1", "100"),
        line("W", "2019-05-01", N3, "T2", "40", payer="medicaid"),
    ]
    vol = [designation("H", N1, "2018-05-01"), designation("I", N3, "2018-05-01")]
    return tables(persons, spans, claims, ROSTER, vol)


def run(ctx) -> dict:
    ctx.warehouse.publish({name: ibis.memtable(t) for name, t in data().items()})
    t = {name: ctx.table(name) for name in ("person", "enrollment", "medical_claim", "provider",
                                            "voluntary_alignment")}
    inputs = AttributionInputs(t["enrollment"], t["person"], t["medical_claim"], t["provider"],
                               t["voluntary_alignment"])
    result = attribute(PACK, inputs, [2019, 2020], stage=ctx.warehouse.materialize)
    primary = primary_payer_months(t["enrollment"], t["person"], PACK.payer_hierarchy, "partial",
                                   residency(t["person"], ["VT"]))
    primary = ctx.warehouse.materialize("primary", primary)
    out = scale(PACK, ctx.warehouse.materialize("months", result.months), primary, [2019, 2020])
    mm = member_months(t["enrollment"], t["person"], "partial")
    return {**result.tables(), "scale_target": out["scale_target"], "scale_breakdown": out["scale_breakdown"],
            "member_month": mm.mutate(member_month=mm.member_month.round(9))}


def test_attribution_parity(parity):
    key = ["program_id", "year", "period", "person_id"]
    out = parity(run, {
        "attribution": key,
        "attribution_candidate": [*key, "entity_id", "tin", "npi"],
        "attribution_month": [*key, "month_index"],
        "scale_target": ["year", "scope"],
        "scale_breakdown": ["year", "scope", "dimension", "value"],
        "member_month": ["person_id", "payer", "plan", "month_index"],
    })
    attributed = {(r["program_id"], r["year"], r["period"], r["person_id"]) for r in out["attribution"]
                  if r["attributed"]}
    # A sample of the golden verdicts, on both backends.
    assert ("retro", 2019, 0, "A") in attributed and ("retro", 2019, 0, "H") in attributed
    assert ("retro", 2019, 0, "I") not in attributed and ("vmng", 2020, 0, "U") in attributed
    assert ("vmng", 2020, 0, "V") not in attributed
