"""Quality section of a model pack: the measure registry, scoring, care-management settings.

Read from ``packs/<name>/quality.yaml`` into :attr:`allpayer.config.models.Pack.quality` (see
``docs/measures.md``). Every model forbids unknown keys. Values the public record does not pin down (most
baselines, targets and benchmarks) are flagged ``illustrative: true`` in the pack file.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PayerType = Literal["medicare", "medicare_advantage", "medicaid", "commercial", "self_funded", "other"]
ALL_PAYERS: list[PayerType] = ["medicare", "medicare_advantage", "medicaid", "commercial", "self_funded", "other"]
Tier = Literal["population_outcome", "delivery_system", "process"]
# How a rate is expressed: a share (0-1), or events per 1,000 / per 100,000.
Unit = Literal["share", "per_1000", "per_100000"]
UNIT_SCALE = {"share": 1, "per_1000": 1_000, "per_100000": 100_000}
# Claims-based methods implemented in allpayer.compute.quality (one function each).
ClaimsMethod = Literal[
    "primary_care_access", "well_care_visits", "ed_visits", "followup_after_ed_mental_illness",
    "followup_after_ed_aod", "aod_initiation", "aod_engagement", "readmission_30", "hba1c_poor_control",
    "controlling_blood_pressure", "depression_screening", "annual_wellness_visit", "prevalence_diabetes",
    "prevalence_hypertension", "prevalence_copd",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Baseline(_Strict):
    year: int = Field(ge=1990, le=2040)
    value: float = Field(ge=0)


class Target(_Strict):
    value: float = Field(ge=0)
    year: int | None = Field(None, ge=1990, le=2040, description="the year the target is set for (e.g. PY5 2022)")


class Measure(_Strict):
    """One registry entry. ``method`` names the claims computation; ``source: external`` measures are loaded
    from a CSV (:mod:`allpayer.compute.quality.external`)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    steward: str
    spec: str = Field(description="steward's spec reference, e.g. 'HEDIS FUM' or 'NQF 0059'")
    spec_version: str
    tier: Tier
    payer_scope: list[PayerType] = Field(default_factory=lambda: list(ALL_PAYERS))
    direction: Literal["higher", "lower"]
    unit: Unit = "share"
    source: Literal["claims", "external"]
    method: ClaimsMethod | None = None
    min_age: int | None = Field(None, ge=0, le=120, description="age on 31 December of the year")
    max_age: int | None = Field(None, ge=0, le=120)
    window_days: int | None = Field(None, ge=1, le=365, description="follow-up, readmission or initiation window")
    engagement_days: int | None = Field(None, ge=1, le=365)
    history_days: int | None = Field(None, ge=1, le=365, description="negative diagnosis history (IET)")
    baseline: Baseline | None = None
    target: Target | None = None
    benchmarks: dict[int, float] = Field(default_factory=dict, description="percentile -> rate")
    scored: bool = False
    care_gap: str | None = Field(None, description="text of the open gap for care-management lists")
    illustrative: bool = False
    notes: str = ""

    @model_validator(mode="after")
    def _check(self) -> Measure:
        if self.source == "claims" and self.method is None:
            raise ValueError(f"measure {self.id!r}: a claims measure needs a method")
        if self.source == "external" and (self.method is not None or self.care_gap):
            raise ValueError(f"measure {self.id!r}: an external measure has no method and no care gap")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError(f"measure {self.id!r}: min_age {self.min_age} > max_age {self.max_age}")
        if any(not 0 < p < 100 for p in self.benchmarks):
            raise ValueError(f"measure {self.id!r}: benchmark percentiles must lie between 0 and 100")
        return self

    def applies_to(self, payer_scope: str) -> bool:
        return payer_scope in self.payer_scope


class PercentilePoints(_Strict):
    percentile: int = Field(gt=0, lt=100)
    points: Decimal = Field(ge=0)


class Scoring(_Strict):
    """Per program-year quality score = points earned / points possible over the scored measures.

    ``target_attainment``: ``target_points`` when the rate meets the target, else ``improvement_points`` when
    it beats the measure's baseline in the measure's direction, else 0. ``benchmark_percentile``: the points of
    the highest benchmark percentile the rate reaches (``percentile_points``), 0 below the lowest."""

    method: Literal["target_attainment", "benchmark_percentile"] = "target_attainment"
    points_possible: Decimal = Field(Decimal(2), gt=0, description="per measure")
    target_points: Decimal = Field(Decimal(2), ge=0)
    improvement_points: Decimal = Field(Decimal(1), ge=0)
    percentile_points: list[PercentilePoints] = Field(default_factory=list)
    gate: Decimal = Field(Decimal("0.5"), ge=0, le=1, description="minimum score for shared savings")
    reporting_only_years: list[int] = Field(default_factory=list, description="pay-for-reporting years")
    programs: dict[str, list[str]] = Field(
        default_factory=dict, description="program_id -> scored measure ids; default: measures with scored: true")
    illustrative: bool = False

    @model_validator(mode="after")
    def _check(self) -> Scoring:
        too_many = [p for p in (self.target_points, self.improvement_points,
                                *(pp.points for pp in self.percentile_points)) if p > self.points_possible]
        if too_many:
            raise ValueError(f"points {too_many} exceed points_possible {self.points_possible}")
        if self.method == "benchmark_percentile" and not self.percentile_points:
            raise ValueError("benchmark_percentile scoring needs percentile_points")
        return self


class HighRisk(_Strict):
    """Who goes on the highest-risk outreach list: top risk share within the program-year, or many admissions
    or ED visits in the year."""

    top_risk_share: float = Field(0.05, ge=0, le=1)
    min_admissions: int = Field(2, ge=1)
    min_ed_visits: int = Field(4, ge=1)
    illustrative: bool = False


class QualitySettings(_Strict):
    version: str
    value_sets: str = Field("value_sets.csv", description="file under refdata/quality/")
    min_cell_size: int = Field(11, ge=1, description="counts below this are suppressed in public outputs")
    measures: list[Measure]
    scoring: Scoring = Scoring()
    high_risk: HighRisk = HighRisk()
    illustrative: bool = False

    @model_validator(mode="after")
    def _check(self) -> QualitySettings:
        ids = [m.id for m in self.measures]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"measure ids listed twice: {dupes}")
        for program, listed in self.scoring.programs.items():
            unknown = sorted(set(listed) - set(ids))
            if unknown:
                raise ValueError(f"scoring.programs.{program}: unknown measures {unknown}")
        return self

    def measure(self, measure_id: str) -> Measure:
        by_id = {m.id: m for m in self.measures}
        if measure_id not in by_id:
            raise KeyError(f"no measure {measure_id!r} in the registry: {sorted(by_id)}")
        return by_id[measure_id]

    def scored_measures(self, program_id: str, payer_scope: str) -> list[Measure]:
        if program_id in self.scoring.programs:
            return [self.measure(i) for i in self.scoring.programs[program_id]]
        return [m for m in self.measures if m.scored and m.applies_to(payer_scope)]
