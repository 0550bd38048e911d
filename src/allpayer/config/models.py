"""Pydantic models of a model pack: performance years, scale targets, member months, payer hierarchy,
residency, scale denominators and payer programs with their attribution rules.

Every model forbids unknown keys, so a typo in a pack is an error naming the key. Sections that later
issues add (cost, financial terms, quality) are optional fields: see ``docs/attribution.md``
("Adding a pack section").
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allpayer.config.cost import CostSettings
from allpayer.config.quality import QualitySettings
from allpayer.config.terms import FinancialTerms

PAYER_TYPES = ("medicare", "medicare_advantage", "medicaid", "commercial", "self_funded", "other")
PayerType = Literal["medicare", "medicare_advantage", "medicaid", "commercial", "self_funded", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScaleTargets(Strict):
    """End-of-year shares (0-1) of eligible residents attributed through scale-target programs."""

    all_payer: float = Field(ge=0, le=1)
    medicare: float = Field(ge=0, le=1)


class ScaleDenominator(Strict):
    """Who counts as a scale-eligible resident in a year (primary payer in the measurement month)."""

    all_payer_payer_types: list[PayerType] = ["medicare", "medicaid", "commercial", "self_funded"]
    medicare_payer_types: list[PayerType] = ["medicare"]
    exclude_plans: list[str] = Field(default_factory=list, description="glob patterns on plan, e.g. '*limited*'")
    illustrative: bool = False


class PerformanceYear(Strict):
    year: int = Field(ge=1990, le=2040)
    label: str = ""
    scale_targets: ScaleTargets | None = None
    scale_denominator: ScaleDenominator = ScaleDenominator()
    measurement_month: int = Field(12, ge=1, le=12, description="month of the year whose attribution counts")


class MemberMonths(Strict):
    convention: Literal["any_day", "partial"] = "any_day"


class Residency(Strict):
    """Residents are persons whose ``person.state`` is one of ``states`` (case-insensitive)."""

    states: list[str] = ["VT", "Vermont"]
    hsa_crosswalk: str | None = "vt_zip_hsa.csv"


class ProgramMatch(Strict):
    """Which enrollment spans belong to the program; every given list must match (glob patterns)."""

    payer: list[str] | None = None
    payer_type: list[PayerType] | None = None
    plan: list[str] | None = None
    group_id: list[str] | None = None

    def matches(self, payer: str, payer_type: str, plan: str, group_id: str | None = None) -> bool:
        pairs = ((self.payer, payer), (self.payer_type, payer_type), (self.plan, plan), (self.group_id, group_id))
        return all(pats is None or any(fnmatchcase(val or "", p) for p in pats) for pats, val in pairs)


class Eligibility(Strict):
    require_primary_payer: bool = Field(False, description="count a month only if the program's coverage is primary")
    exclude_coverage: list[PayerType] = Field(
        default_factory=list, description="any month of these coverages in the period blocks attribution")


class ExpandedAttribution(Strict):
    """Medicaid expanded attribution: full benefits, no other insurance, no primary-care history."""

    enabled: bool = False
    first_year: int | None = None
    full_benefit_plans: list[str] = ["*"]


class ReferenceVersions(Strict):
    """Which versioned code lists to use; ``year`` pins a list version instead of the performance year."""

    primary_care_hcpcs: str = "mssp"
    specialty_categories: str = "mssp"
    year: int | None = None


class Attribution(Strict):
    method: Literal["plurality", "payer_file"] = "plurality"
    timing: Literal["prospective", "retrospective", "quarterly"] = "prospective"
    lookback_months: Literal[12, 24] = 12
    window_offset_months: int = Field(0, ge=0, le=24, description="gap between window end and the period start")
    specialist_step: bool = True
    voluntary_alignment: bool = False
    expanded: ExpandedAttribution = ExpandedAttribution()
    eligibility: Eligibility = Eligibility()
    reference: ReferenceVersions = ReferenceVersions()
    illustrative: bool = False


class Program(Strict):
    """A payer × ACO contract over some performance years."""

    program_id: str
    name: str
    payer_scope: PayerType = Field(description="payer type the program reports under (scale: medicare or not)")
    aco_id: str
    years: list[int]
    match: ProgramMatch
    scale_target: bool
    attribution: Attribution = Attribution()
    financial: FinancialTerms | None = Field(None, description="financial terms per year (config/terms.py)")
    illustrative: bool = False
    notes: str = ""

    @field_validator("years")
    @classmethod
    def _years_sorted(cls, years: list[int]) -> list[int]:
        if not years:
            raise ValueError("at least one performance year")
        return sorted(set(years))


class Pack(Strict):
    name: str
    version: str
    description: str
    illustrative: bool = False
    performance_years: list[PerformanceYear]
    member_months: MemberMonths = MemberMonths()
    payer_hierarchy: list[PayerType] = ["medicare", "medicare_advantage", "medicaid", "commercial", "self_funded",
                                        "other"]
    residency: Residency = Residency()
    programs: dict[str, Program] = Field(default_factory=dict)
    # Optional sections, each read from ``<section>.yaml`` next to pack.yaml (see the loader).
    cost: CostSettings | None = None
    quality: QualitySettings | None = None

    @model_validator(mode="after")
    def _check(self) -> Pack:
        if len(set(self.payer_hierarchy)) != len(self.payer_hierarchy):
            raise ValueError("payer_hierarchy lists a payer type twice")
        known = {y.year for y in self.performance_years}
        for pid, program in self.programs.items():
            if pid != program.program_id:
                raise ValueError(f"program file {pid!r} declares program_id {program.program_id!r}")
            missing = sorted(set(program.years) - known)
            if missing:
                raise ValueError(f"program {pid!r} runs in {missing}, which are not performance years of the pack")
        return self

    def year(self, year: int) -> PerformanceYear:
        for py in self.performance_years:
            if py.year == year:
                return py
        raise KeyError(f"{year} is not a performance year of pack {self.name!r}")

    def program(self, program_id: str) -> Program:
        if program_id not in self.programs:
            raise KeyError(f"no program {program_id!r} in pack {self.name!r}: {sorted(self.programs)}")
        return self.programs[program_id]

    def programs_in(self, year: int) -> list[Program]:
        return [p for p in self.programs.values() if year in p.years]
