"""Cost settings of a model pack: financial target services, completion, truncation, risk adjustment, growth.

Loadable on its own with :func:`load_cost_settings` (``packs/<name>/cost.yaml``); every model forbids unknown
keys. Values the public record does not pin down are flagged ``illustrative: true`` in the pack file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PayerType = Literal["medicare", "medicare_advantage", "medicaid", "commercial", "self_funded", "other"]
PACKS = Path(__file__).resolve().parent.parent / "packs"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FinancialTargetServices(_Strict):
    """Which service categories count towards the financial target (pharmacy excluded by default)."""

    include_categories: list[str] = ["inpatient", "outpatient", "professional", "other"]
    exclude_subcategories: list[str] = Field(default_factory=list)
    illustrative: bool = False


class CompletionSettings(_Strict):
    """Chain-ladder completion on incurred-month x payment-lag triangles (docs/cost.md)."""

    max_lag: int = Field(24, ge=1, le=120, description="development months after which a month is final")
    averaging_months: int | None = Field(None, ge=1, description="age-to-age factors from the latest N months")
    fallback_months: int = Field(3, ge=0, le=12, description="latest incurred months completed by PMPM trend")
    fallback_reference_months: int = Field(12, ge=1, le=36)
    fallback_annual_trend: float = Field(0.04, gt=-0.5, lt=1)
    by_category: bool = False
    illustrative: bool = False


class Truncation(_Strict):
    """Cap each beneficiary's annual spend at a percentile of persons in the same year and payer type."""

    percentile: float | None = Field(None, gt=0, lt=1, description="e.g. 0.99; None = no truncation")
    illustrative: bool = False


class HccBlend(_Strict):
    """CMS-HCC model blend of one payment year: score = sum_m weight_m x raw_m / norm_m, x (1 - coding)."""

    payment_year: int = Field(ge=2010, le=2040)
    v24_weight: float = Field(ge=0, le=1)
    v28_weight: float = Field(ge=0, le=1)
    v24_normalization: float = Field(1.0, gt=0)
    v28_normalization: float = Field(1.0, gt=0)
    coding_adjustment: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _weights(self) -> HccBlend:
        if abs(self.v24_weight + self.v28_weight - 1) > 1e-9:
            raise ValueError(f"payment year {self.payment_year}: V24 and V28 weights must add up to 1")
        return self


class RiskSettings(_Strict):
    diagnosis_year_offset: int = Field(0, ge=0, le=1, description="0 concurrent, 1 prospective (prior-year dx)")
    hcc_payer_types: list[PayerType] = ["medicare"]
    blends: list[HccBlend] = Field(default_factory=list)
    demographic_reference_year: int | None = None
    illustrative: bool = False

    def blend(self, payment_year: int) -> HccBlend:
        """The blend of ``payment_year``; before the first configured year, the first; after the last, the last."""
        if not self.blends:  # V24 alone; the year is clamped to the range a configured blend may name
            return HccBlend(payment_year=min(max(payment_year, 2010), 2040), v24_weight=1.0, v28_weight=0.0)
        ordered = sorted(self.blends, key=lambda b: b.payment_year)
        chosen = ordered[0]
        for b in ordered:
            if b.payment_year <= payment_year:
                chosen = b
        return chosen


class GrowthSettings(_Strict):
    baseline_year: int = 2017
    final_year: int = 2022
    target: float = 0.035
    cap: float = 0.043
    medicare_target_gap_pp: float = 0.2
    medicare_trigger_gap_pp: float = 0.1
    illustrative: bool = False


class CostSettings(_Strict):
    amount: Literal["allowed", "paid"] = "allowed"
    financial_target_services: FinancialTargetServices = FinancialTargetServices()
    all_payer_payer_types: list[PayerType] = ["medicare", "medicaid", "commercial", "self_funded"]
    medicare_payer_types: list[PayerType] = ["medicare"]
    primary_payer_hierarchy: list[PayerType] = ["medicare", "medicare_advantage", "medicaid", "commercial",
                                                "self_funded", "other"]
    completion: CompletionSettings = CompletionSettings()
    truncation: Truncation = Truncation()
    risk: RiskSettings = RiskSettings()
    growth: GrowthSettings = GrowthSettings()
    illustrative: bool = False


def load_cost_settings(path: Path | str | None = None) -> CostSettings:
    """Read ``cost.yaml`` (a file, a pack folder or a built-in pack name; default the Vermont pack)."""
    p = Path(path) if path is not None else PACKS / "vermont" / "cost.yaml"
    if not p.exists() and (PACKS / str(path)).is_dir():
        p = PACKS / str(path)
    if p.is_dir():
        p = p / "cost.yaml"
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    return CostSettings.model_validate(data)
