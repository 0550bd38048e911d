"""Settlement of one program-year: actual cost against expected cost, then the contract's rules in a fixed order,
with a waterfall that records every step (docs/settlement.md; domain.md §6.3, §8.7–8.11).

Pure and exact: money is :class:`~decimal.Decimal` rounded to cents after each step (half up), rates are
decimals. Sign: positive = the payer owes the ACO (savings), negative = the ACO owes the payer (losses).

Order: gross savings → minimum savings/loss rate → upside only → cap (if before the rate) → sharing or corridor
bands → cap (if after the rate) → quality gate and modifier (savings only) → sequestration (savings only) →
quality withhold not earned back → advances recouped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from allpayer.config.terms import Band, MinimumRate, YearTerms

CENT = Decimal("0.01")
ZERO = Decimal("0")
ONE = Decimal("1")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class QualityResult:
    """Per program-year quality: ``score`` 0–1 and whether the gate is met; ``measured`` False when the
    program's configured default stands in for a missing ``quality_score`` row."""

    score: Decimal = ONE
    gate_met: bool = True
    measured: bool = False


@dataclass(frozen=True)
class SettlementInput:
    program_id: str
    year: int
    expected: Decimal              # expected cost / benchmark for the attributed population, dollars
    ffs_paid: Decimal              # fee-for-service paid by the payer (completed)
    fixed_payments: Decimal = ZERO  # fixed prospective payments paid to the ACO
    assigned: int = 0              # attributed persons (MSSP minimum-rate table)
    member_months: Decimal = ZERO  # attributed member months (advances per member month)
    quality: QualityResult = QualityResult()


@dataclass(frozen=True)
class Step:
    step: str
    change: Decimal   # this step's effect on the running amount
    amount: Decimal   # running amount after the step
    note: str = ""


@dataclass
class Settlement:
    program_id: str
    year: int
    expected: Decimal
    actual: Decimal
    gross_savings: Decimal
    shared: Decimal = ZERO          # after quality and sequestration, before withhold and advances
    settlement: Decimal = ZERO      # final amount: positive = payer pays the ACO
    payer_share: Decimal = ZERO     # gross savings kept by the payer (the employer's share when self-funded)
    waterfall: list[Step] = field(default_factory=list)

    def record(self, step: str, amount: Decimal, note: str = "") -> Decimal:
        before = self.waterfall[-1].amount if self.waterfall else ZERO
        amount = cents(amount)
        self.waterfall.append(Step(step, amount - before, amount, note))
        return amount


def minimum_rate(rule: MinimumRate, size: int) -> Decimal:
    """The fixed rate, or the MSSP table rate for ``size`` persons: linear from ``at_from`` to ``at_to`` inside
    a band, sizes below ``floor_size`` read as ``floor_size``, the open last band flat."""
    if rule.fixed is not None:
        return rule.fixed
    size = max(size, rule.floor_size)
    bands = sorted(rule.table or [], key=lambda b: b.from_size)
    band = next((b for b in reversed(bands) if size >= b.from_size), bands[0])
    if band.to_size is None or band.at_to is None or size >= band.to_size:
        return band.at_to if band.to_size is not None and band.at_to is not None else band.at_from
    position = Decimal(size - band.from_size) / Decimal(band.to_size - band.from_size)
    return band.at_from + (band.at_to - band.at_from) * position


def banded_share(amount: Decimal, bands: list[Band], base: Decimal) -> Decimal:
    """Σ band share × the part of |amount| (as a fraction of ``base``) inside the band, with amount's sign."""
    size = abs(amount)
    kept = ZERO
    for band in bands:
        low = band.lower * base
        high = size if band.upper is None else min(size, band.upper * base)
        if high > low:
            kept += band.aco_share * (high - low)
    return kept if amount >= 0 else -kept


def loss_rate(terms: YearTerms) -> Decimal:
    if terms.loss_rate_one_minus_sharing is not None:
        low, high = terms.loss_rate_one_minus_sharing
        return min(max(ONE - terms.sharing_rate, low), high)
    return terms.loss_sharing_rate if terms.loss_sharing_rate is not None else terms.sharing_rate


def settle(inputs: SettlementInput, terms: YearTerms) -> Settlement:
    """Settle one program-year under ``terms``; see the module docstring for the order of the steps."""
    expected, actual = cents(inputs.expected), cents(inputs.ffs_paid + inputs.fixed_payments)
    result = Settlement(inputs.program_id, inputs.year, expected, actual, expected - actual)
    result.record("expected cost", expected, "target for the attributed population")
    result.record("gross savings", expected - actual,
                  f"expected − actual (FFS {cents(inputs.ffs_paid)} + fixed payments {cents(inputs.fixed_payments)})")
    amount = _minimum_rates(result, inputs, terms)
    if terms.upside_only and amount < 0:
        amount = result.record("upside only", ZERO, "losses are not shared")
    amount = _share(result, amount, expected, terms)
    amount = _quality(result, amount, inputs.quality, terms)
    if terms.sequestration and amount > 0:
        amount = result.record("sequestration", amount * (ONE - terms.sequestration),
                               f"{terms.sequestration:%} of savings; losses are not sequestered")
    result.shared = amount
    result.payer_share = result.gross_savings - amount
    amount = _withhold(result, amount, inputs, terms)
    advances = cents(terms.advances + terms.advances_pmpm * inputs.member_months)
    if advances:
        amount = result.record("advances recouped", amount - advances, f"{advances} advanced during the year")
    result.settlement = result.record("settlement", amount)
    return result


def _minimum_rates(result: Settlement, inputs: SettlementInput, terms: YearTerms) -> Decimal:
    gross, expected = result.gross_savings, result.expected
    ratio = gross / expected if expected else ZERO
    rule, side = (terms.minimum_savings_rate, "savings") if gross > 0 else (terms.minimum_loss_rate, "loss")
    if rule is None or gross == 0:
        return gross
    rate = minimum_rate(rule, inputs.assigned)
    if abs(ratio) >= rate:
        result.record(f"minimum {side} rate", gross, f"{abs(ratio):.4%} of expected ≥ {rate:.4%}: shared from the "
                      "first dollar")
        return gross
    return result.record(f"minimum {side} rate", ZERO, f"{abs(ratio):.4%} of expected < {rate:.4%}: not shared")


def _cap(result: Settlement, amount: Decimal, terms: YearTerms, label: str) -> Decimal:
    expected = result.expected
    high = terms.savings_cap * expected if terms.savings_cap is not None else amount
    low = -terms.loss_cap * expected if terms.loss_cap is not None else amount
    capped = min(max(amount, low), high)
    if terms.savings_cap is None and terms.loss_cap is None:
        return amount
    return result.record(label, capped, f"savings cap {terms.savings_cap}, loss cap {terms.loss_cap} of expected")


def _share(result: Settlement, amount: Decimal, expected: Decimal, terms: YearTerms) -> Decimal:
    if terms.cap_before_rate:
        amount = _cap(result, amount, terms, "cap (before the rate)")
    if amount > 0 and terms.savings_bands:
        amount = result.record("corridor bands", banded_share(amount, terms.savings_bands, expected),
                               "ACO share of savings by band")
    elif amount < 0 and (terms.loss_bands or terms.savings_bands):
        amount = result.record("corridor bands", banded_share(amount, terms.loss_bands or terms.savings_bands or [],
                                                              expected), "ACO share of losses by band")
    else:
        rate = terms.sharing_rate if amount >= 0 else loss_rate(terms)
        amount = result.record("sharing rate", amount * rate, f"{rate:%} of {'savings' if amount >= 0 else 'losses'}")
    if not terms.cap_before_rate:
        amount = _cap(result, amount, terms, "cap (after the rate)")
    return amount


def _quality(result: Settlement, amount: Decimal, quality: QualityResult, terms: YearTerms) -> Decimal:
    source = "measured" if quality.measured else "not measured: program default"
    if amount <= 0:
        return amount
    if terms.quality.gate and not quality.gate_met:
        return result.record("quality gate", ZERO, f"gate not met ({source}): no savings shared")
    if terms.quality.modifier == "score":
        return result.record("quality modifier", amount * quality.score, f"× quality score {quality.score} ({source})")
    result.record("quality gate", amount, f"gate met ({source})" if terms.quality.gate else f"no gate ({source})")
    return amount


def _withhold(result: Settlement, amount: Decimal, inputs: SettlementInput, terms: YearTerms) -> Decimal:
    withhold = terms.quality.withhold
    if withhold is None or not inputs.fixed_payments:
        return amount
    held = cents(withhold.rate * inputs.fixed_payments)
    # Earned back on the score; with a quality gate in the terms, nothing is earned when the gate is not met.
    earned = inputs.quality.score if inputs.quality.gate_met or not terms.quality.gate else ZERO
    source = "measured" if inputs.quality.measured else "not measured: program default"
    return result.record("quality withhold not earned", amount - held * (ONE - earned),
                         f"{withhold.rate:%} of fixed payments ({held}) held, {earned:%} earned back ({source})")
