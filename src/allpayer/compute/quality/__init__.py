"""Quality and population health (docs/measures.md): claims-based measures over the attributed population,
external (survey and vital statistics) measures, quality scores and care-management lists.

Each claims measure is a function ``(Measure, population, ClaimFacts) -> measure frame`` (see
:mod:`.frame`), named by the measure's ``method`` in the registry; :func:`run_quality` computes every
registry measure for the programs whose payer scope it covers and assembles the published tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.quality import access, behavioral, chronic, utilization
from allpayer.compute.quality.care import care_gaps, high_risk
from allpayer.compute.quality.frame import FRAME_COLUMNS, ClaimFacts, claim_facts, population
from allpayer.compute.quality.results import aggregate, publishable, registry_table
from allpayer.compute.quality.score import measure_points, quality_score, scored_measures
from allpayer.compute.stage import Stage, lazy
from allpayer.config.models import Pack
from allpayer.config.quality import Measure, QualitySettings
from allpayer.refdata.quality import value_sets

MeasureFn = Callable[[Measure, ir.Table, ClaimFacts], ir.Table]
METHODS: dict[str, MeasureFn] = {
    "primary_care_access": access.primary_care_access,
    "well_care_visits": access.well_care_visits,
    "annual_wellness_visit": access.annual_wellness_visit,
    "depression_screening": access.depression_screening,
    "ed_visits": utilization.ed_visit_rate,
    "readmission_30": utilization.readmission_30,
    "followup_after_ed_mental_illness": behavioral.followup_after_ed_mental_illness,
    "followup_after_ed_aod": behavioral.followup_after_ed_aod,
    "aod_initiation": behavioral.aod_initiation,
    "aod_engagement": behavioral.aod_engagement,
    "hba1c_poor_control": chronic.hba1c_poor_control,
    "controlling_blood_pressure": chronic.controlling_blood_pressure,
    "prevalence_diabetes": chronic.prevalence_diabetes,
    "prevalence_hypertension": chronic.prevalence_hypertension,
    "prevalence_copd": chronic.prevalence_copd,
}


@dataclass(frozen=True)
class QualityInputs:
    attribution_month: ir.Table
    person: ir.Table
    medical_claim: ir.Table  # lines as loaded, every version
    pharmacy_claim: ir.Table | None = None
    medical_superseded: ir.Table | None = None  # intake's lists of the versions final action drops
    pharmacy_superseded: ir.Table | None = None
    risk_score: ir.Table | None = None
    external: pa.Table | None = None  # validated rows from allpayer.intake.external_measures


def empty_frame() -> ir.Table:
    return ibis.memtable(pa.table({c: pa.array([], _arrow(t)) for c, t in FRAME_COLUMNS.items()}))


def _arrow(t: str) -> pa.DataType:
    return {"string": pa.string(), "int64": pa.int64(), "date": pa.date32(), "float64": pa.float64(),
            "boolean": pa.bool_()}[t]


def measure_frames(pack: Pack, settings: QualitySettings, pop: ir.Table, facts: ClaimFacts,
                   stage: Stage = lazy) -> ir.Table:
    """Every claims measure's units, for the programs whose payer scope the measure covers. ``stage`` stores each
    measure's frame on its own (``q_frame_<measure id>``): at 630k persons the fifteen frames took 7.5 s one by one
    and 11-13 s as one query, which spilled to disk."""
    frames = []
    for m in settings.measures:
        if m.source != "claims":
            continue
        programs = [p.program_id for p in pack.programs.values() if m.applies_to(p.payer_scope)]
        if programs:
            frames.append(stage(f"q_frame_{m.id}",
                                METHODS[m.method](m, pop.filter(pop.program_id.isin(programs)), facts)))
    out = frames[0] if frames else empty_frame()
    for f in frames[1:]:
        out = out.union(f, distinct=False)
    return out


def external_results(external: pa.Table) -> ir.Table:
    """External rows in the shape of :func:`.results.aggregate` (level ``state``, program = geography)."""
    e = ibis.memtable(external)
    return e.select("measure_id", program_id=e.geography, year=e.year, level=ibis.literal("state"),
                    practice_id=ibis.null().cast("string"), denominator=e.denominator.fill_null(0.0),
                    numerator=e.numerator.fill_null(0.0), exclusions=ibis.literal(0, "int64"),
                    persons=e.denominator.fill_null(0.0).cast("int64"), rate=e.rate)


def run_quality(pack: Pack, settings: QualitySettings, inputs: QualityInputs, years: list[int] | None = None,
                programs: list[str] | None = None, stage: Stage | None = None) -> dict[str, ir.Table]:
    """``quality_measure`` (public: suppressed), ``quality_score``, ``quality_points`` (per scored measure),
    ``care_gap`` and ``high_risk`` (role-restricted: person identifiers)."""
    keep = stage or lazy
    pop = population(inputs.attribution_month, inputs.person)
    if years:  # the year before each requested year too, for the trend
        pop = pop.filter(pop.year.isin(sorted(set(years) | {y - 1 for y in years})))
    if programs:
        pop = pop.filter(pop.program_id.isin(programs))
    pop = keep("q_population", pop)
    facts = claim_facts(inputs.medical_claim, inputs.pharmacy_claim, value_sets(settings.value_sets), keep,
                        inputs.medical_superseded, inputs.pharmacy_superseded,
                        persons=pop.select("person_id").distinct())
    registry = registry_table(settings)
    frames = measure_frames(pack, settings, pop, facts, keep)
    results = aggregate(frames, registry)
    if inputs.external is not None and inputs.external.num_rows:
        results = results.union(external_results(inputs.external), distinct=False)
    results = keep("q_results", results)
    run_years = years or sorted({y for p in pack.programs.values() for y in p.years})
    points = measure_points(results, registry, scored_measures(pack, settings, run_years), settings)
    out = {
        "quality_measure": publishable(results, registry, settings.min_cell_size),
        "quality_points": points,
        "quality_score": quality_score(points, settings),
        "care_gap": care_gaps(frames, registry),
        "high_risk": high_risk(pop, facts, inputs.risk_score, settings.high_risk),
    }
    return {name: t.filter(t.year.isin(years)) for name, t in out.items()} if years else out
