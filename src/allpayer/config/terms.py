"""A payer program's financial terms per performance year (docs/settlement.md; domain.md §4, §6.2–6.5, §8.7–8.11).

A program's ``financial`` section holds ``defaults`` plus optional per-year overrides (``years: {2019: {...}}``)
merged key by key over the defaults, so a term that changes in one year is written once. Rates are decimal
fractions (0.03 = 3%); money is decimal dollars. ``illustrative: true`` marks terms not known from public sources.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Rate = Decimal


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(Strict):
    """Share kept by the ACO of the part of |savings or losses| between ``lower`` and ``upper`` (fractions of
    the target; ``upper: null`` = no upper end)."""

    lower: Rate = Field(ge=0)
    upper: Rate | None = Field(None, gt=0)
    aco_share: Rate = Field(ge=0, le=1)


def _check_bands(bands: list[Band], side: str) -> None:
    if not bands:
        return
    if bands[0].lower != 0:
        raise ValueError(f"{side}: the first band must start at 0")
    for before, after in itertools.pairwise(bands):
        if before.upper is None or before.upper != after.lower:
            raise ValueError(f"{side}: bands must be contiguous (a band ends where the next starts)")
    for band in bands:
        if band.upper is not None and band.upper <= band.lower:
            raise ValueError(f"{side}: band upper {band.upper} must exceed lower {band.lower}")
    if bands[-1].upper is not None:
        raise ValueError(f"{side}: the last band must be open-ended (upper: null)")


class Target(Strict):
    """How the expected cost (target, benchmark) is set."""

    method: Literal["prior_year_incurred", "historical_benchmark"] = "prior_year_incurred"
    trend: Rate = Field(Decimal("0.035"), description="growth from the baseline year to the performance year")
    risk_adjust: bool = Field(True, description="multiply by mean risk PY / mean risk baseline")
    risk_ratio_cap: Rate | None = Field(Decimal("0.03"), description="cap on positive risk growth, e.g. 3%")
    discount: Rate = Field(Decimal("0"), ge=0, lt=1)
    # historical_benchmark: base-year weights, oldest first (BY1..BY3), and the regional blend.
    base_year_weights: list[Rate] = Field(default_factory=lambda: [Decimal("1")])
    regional_blend: Rate = Field(Decimal("0"), ge=0, le=1,
                                 description="weight of the regional PMPM (an input) against the ACO's own")
    illustrative: bool = False

    @model_validator(mode="after")
    def _weights(self) -> Target:
        if sum(self.base_year_weights) != 1:
            raise ValueError(f"base_year_weights must sum to 1, got {sum(self.base_year_weights)}")
        return self


class MsrBand(Strict):
    """A row of the MSSP minimum savings rate table: ``at_from`` at ``from_size``, ``at_to`` at ``to_size``."""

    from_size: int = Field(ge=0)
    to_size: int | None = None
    at_from: Rate
    at_to: Rate | None = None


class MinimumRate(Strict):
    """Minimum savings (or loss) rate: a fixed fraction, or the MSSP population-size table (linear within a band,
    sizes below ``floor_size`` read as ``floor_size``)."""

    fixed: Rate | None = Field(None, ge=0, lt=1)
    table: list[MsrBand] | None = None
    floor_size: int = 5000

    @model_validator(mode="after")
    def _one(self) -> MinimumRate:
        if (self.fixed is None) == (self.table is None):
            raise ValueError("give exactly one of fixed or table")
        return self


class Withhold(Strict):
    """Part of the fixed payment held back and earned back on quality (VMNG: 3–5% on six measures)."""

    rate: Rate = Field(ge=0, lt=1)
    measures: list[str] = Field(default_factory=list)


class NotMeasured(Strict):
    """Quality used when the workspace has no ``quality_score`` for the program-year."""

    score: Rate = Field(Decimal("1"), ge=0, le=1)
    gate_met: bool = True


class Quality(Strict):
    gate: bool = Field(True, description="savings are shared only when the quality gate is met")
    modifier: Literal["none", "score"] = Field("none", description="'score': shared savings x quality score")
    withhold: Withhold | None = None
    when_not_measured: NotMeasured = NotMeasured()
    illustrative: bool = False


class QuarterlyAdjustment(Strict):
    """Value payment PMPM for the next quarter = base x clamp(1 + sensitivity x (expected − actual)/expected)."""

    sensitivity: Rate = Field(Decimal("1"), ge=0)
    min_factor: Rate = Field(Decimal("0.5"), ge=0)
    max_factor: Rate = Field(Decimal("1.5"), ge=0)


class ValuePayment(Strict):
    pmpm: Decimal = Field(ge=0)
    quarterly_adjustment: QuarterlyAdjustment | None = None
    illustrative: bool = False


class FixedPayment(Strict):
    """Fixed prospective payment (capitation) for covered services: a share of the expected cost of those
    services, paid monthly; their FFS claims are paid by the ACO, not the payer."""

    covered_categories: list[str] = Field(default_factory=lambda: ["professional", "outpatient"])
    share_of_expected: Rate = Field(Decimal("1"), gt=0)
    illustrative: bool = False


class PoolSplit(Strict):
    name: str
    share: Rate = Field(ge=0, le=1)
    basis: Literal["attributed_member_months", "spend"]


class Distribution(Strict):
    """Provider distribution: value payments by attributed lives per practice per month; a savings pool split
    by ``splits`` (shares sum to 1), payments under ``minimum_payment`` withheld and re-spread."""

    pool_share: Rate = Field(Decimal("1"), ge=0, le=1, description="share of positive settlement put in the pool")
    splits: list[PoolSplit] = Field(default_factory=lambda: [
        PoolSplit(name="primary_care", share=Decimal("0.7"), basis="attributed_member_months"),
        PoolSplit(name="network", share=Decimal("0.3"), basis="spend")])
    minimum_payment: Decimal = Field(Decimal("100"), ge=0)
    illustrative: bool = False

    @model_validator(mode="after")
    def _sum(self) -> Distribution:
        if sum(s.share for s in self.splits) != 1:
            raise ValueError(f"splits must sum to 1, got {sum(s.share for s in self.splits)}")
        return self


class YearTerms(Strict):
    """Everything settlement needs for one program-year."""

    target: Target = Target()
    sharing_rate: Rate = Field(Decimal("1"), ge=0, le=1)
    loss_sharing_rate: Rate | None = Field(None, ge=0, le=1, description="default: sharing_rate")
    loss_rate_one_minus_sharing: tuple[Rate, Rate] | None = Field(
        None, description="MSSP ENHANCED: loss rate = 1 − final sharing rate, bounded [min, max]")
    savings_bands: list[Band] | None = None
    loss_bands: list[Band] | None = Field(None, description="default: savings_bands")
    savings_cap: Rate | None = Field(None, ge=0, le=1)
    loss_cap: Rate | None = Field(None, ge=0, le=1)
    cap_before_rate: bool = False
    minimum_savings_rate: MinimumRate | None = None
    minimum_loss_rate: MinimumRate | None = None
    upside_only: bool = False
    quality: Quality = Quality()
    sequestration: Rate = Field(Decimal("0"), ge=0, lt=1)
    advances: Decimal = Field(Decimal("0"), ge=0, description="payments advanced against savings, recouped")
    advances_pmpm: Decimal = Field(Decimal("0"), ge=0, description="advances per attributed member month")
    value_payment: ValuePayment | None = None
    fixed_payment: FixedPayment | None = None
    distribution: Distribution = Distribution()
    report_employer_share: bool = False
    illustrative: bool = False

    @model_validator(mode="after")
    def _bands(self) -> YearTerms:
        _check_bands(self.savings_bands or [], "savings_bands")
        _check_bands(self.loss_bands or [], "loss_bands")
        if self.savings_bands and self.sharing_rate != 1:
            raise ValueError("with savings_bands the bands' aco_share is the sharing: leave sharing_rate at 1")
        return self

    def illustrative_terms(self) -> list[str]:
        """Names of the sections marked illustrative (for reports)."""
        parts = {"terms": self.illustrative, "target": self.target.illustrative,
                 "quality": self.quality.illustrative, "distribution": self.distribution.illustrative,
                 "value_payment": bool(self.value_payment and self.value_payment.illustrative),
                 "fixed_payment": bool(self.fixed_payment and self.fixed_payment.illustrative)}
        return [name for name, flag in parts.items() if flag]


class FinancialTerms(Strict):
    """``defaults`` for every year of the program, ``years`` overrides merged key by key."""

    preset: str | None = Field(None, description="'<file>/<key>' under the pack's terms/ folder, merged first")
    defaults: dict[str, Any] = Field(default_factory=dict)
    years: dict[int, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _validate_each_year(self) -> FinancialTerms:
        for year in [None, *self.years]:
            try:
                self.for_year(year)
            except ValidationError as exc:
                where = "defaults" if year is None else f"years.{year}"
                raise ValueError("; ".join(f"{where}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                           for e in exc.errors())) from None
        return self

    def for_year(self, year: int | None) -> YearTerms:
        return YearTerms.model_validate(_merge(self.defaults, self.years.get(year, {}) if year else {}))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def resolve_preset(program: dict[str, Any], pack_root: Path) -> dict[str, Any]:
    """A program mapping whose ``financial.preset`` ('<file>/<key>', from ``<pack>/terms/<file>.yaml``) is merged
    under ``financial.defaults``; the preset name stays for the record."""
    financial = program.get("financial")
    if not isinstance(financial, dict) or not financial.get("preset"):
        return program
    name = str(financial["preset"])
    file, _, key = name.partition("/")
    path = pack_root / "terms" / f"{file}.yaml"
    if not path.exists() or not key:
        known = sorted(p.stem for p in (pack_root / "terms").glob("*.yaml"))
        raise ValueError(f"financial.preset: expected '<file>/<key>' with <file> one of {known}, got {name!r}")
    presets = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if key.startswith("_") or key not in presets:
        choices = sorted(k for k in presets if not k.startswith("_"))
        raise ValueError(f"financial.preset: {path} has no terms {key!r}; expected one of {choices}")
    defaults = _merge(presets[key], financial.get("defaults") or {})
    return {**program, "financial": {**financial, "defaults": defaults}}
