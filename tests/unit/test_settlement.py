"""Hand-worked settlement cases, one per rule (docs/settlement.md). Amounts in the comments are worked by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from allpayer.compute.settlement import QualityResult, SettlementInput, minimum_rate, settle
from allpayer.config import load_pack
from allpayer.config.terms import MinimumRate, YearTerms

VERMONT = load_pack("vermont")
MSSP = load_pack("mssp")
MEDICARE = VERMONT.program("medicare_vmng").financial.for_year(2018)      # 80%, 5% cap before rate, 2% seq
MEDICAID = VERMONT.program("medicaid_vmng").financial.for_year(2019)      # 97–103% corridor, 4% withhold
COMMERCIAL = VERMONT.program("bcbsvt_qhp").financial.for_year(2020)       # bands 50% / 25% / 0, score modifier
BASIC_C = MSSP.program("mssp_retrospective").financial.for_year(2019)
ENHANCED = MSSP.program("mssp_prospective").financial.for_year(2021)
MSR_TABLE = BASIC_C.minimum_savings_rate
NOT_MEASURED = QualityResult()


def run(terms: YearTerms, expected: str, actual: str, fixed: str = "0", assigned: int = 0, mm: str = "0",
        quality: QualityResult = NOT_MEASURED):
    return settle(SettlementInput("p", 2019, D(expected), D(actual), D(fixed), assigned, D(mm), quality), terms)


def steps(result) -> dict[str, D]:
    return {s.step: s.amount for s in result.waterfall}


@pytest.mark.parametrize(("actual", "settlement"), [
    ("970000", "30000.00"),     # exactly 97%: all 30,000 of savings kept
    ("969999.99", "30000.00"),  # a cent past the edge: the extra cent falls in the 0% band
    ("960000", "30000.00"),     # 4% savings: capped at the 3% corridor
    ("985000", "15000.00"),     # inside: 100% of 15,000
    ("1030000", "-30000.00"),   # exactly 103%: all 30,000 of losses borne
    ("1050000", "-30000.00"),   # 5% losses: borne only to 103%
])
def test_medicaid_corridor_edges(actual: str, settlement: str):
    assert run(MEDICAID, "1000000", actual).settlement == D(settlement)


def test_cap_applied_before_the_rate():
    # Gross savings 100,000 = 10% of 1,000,000. Cap 5% first: 50,000; then 80%: 40,000; sequestration 2%: 39,200.
    result = run(MEDICARE, "1000000", "900000")
    assert steps(result)["cap (before the rate)"] == D("50000.00")
    assert steps(result)["sharing rate"] == D("40000.00")
    assert result.settlement == D("39200.00")
    # The cap after the rate would give min(80,000, 50,000) = 50,000, then 49,000: a different contract.
    after = MEDICARE.model_copy(update={"cap_before_rate": False})
    assert run(after, "1000000", "900000").settlement == D("49000.00")


def test_sequestration_on_savings_not_losses():
    # Losses 100,000: cap 5% → −50,000; 80% → −40,000; no sequestration.
    result = run(MEDICARE, "1000000", "1100000")
    assert result.settlement == D("-40000.00")
    assert "sequestration" not in steps(result)


def test_advances_larger_than_savings_leave_the_aco_owing():
    # Savings 39,200 as above; 14.00 PMPM advanced on 3,000 member months = 42,000 → the ACO repays 2,800.
    terms = MEDICARE.model_copy(update={"advances_pmpm": D("14.00")})
    result = run(terms, "1000000", "900000", mm="3000")
    assert steps(result)["advances recouped"] == D("-2800.00")
    assert result.settlement == D("-2800.00")


@pytest.mark.parametrize(("size", "rate"), [
    (5000, "0.039"), (5999, "0.036"), (6000, "0.036"), (6999, "0.034"), (10000, "0.030"), (14999, "0.027"),
    (59999, "0.020"), (60000, "0.020"), (250000, "0.020"),
    (4000, "0.039"), (0, "0.039"),      # below the 5,000 floor: read as 5,000
])
def test_msr_at_band_edges_and_floor(size: int, rate: str):
    assert minimum_rate(MSR_TABLE, size) == D(rate)


def test_msr_interpolates_linearly_inside_a_band():
    # 12,500 is half-way through 10,000–14,999: 3.0% + (2.7% − 3.0%) × 2,500/4,999.
    assert minimum_rate(MSR_TABLE, 12500) == D("0.030") + D("-0.003") * D(2500) / D(4999)
    assert minimum_rate(MinimumRate(fixed=D("0.02")), 12500) == D("0.02")


def test_msr_threshold_then_first_dollar_sharing():
    # 5,000 assigned → MSR 3.9%. Savings 380,000 of 10,000,000 = 3.8% < 3.9%: nothing.
    assert run(BASIC_C, "10000000", "9620000", assigned=5000).settlement == D("0.00")
    # Savings 400,000 = 4.0% ≥ 3.9%: 50% from the first dollar = 200,000; sequestration 2% → 196,000.
    assert run(BASIC_C, "10000000", "9600000", assigned=5000).settlement == D("196000.00")


def test_enhanced_loss_rate_bounded_and_mlr():
    # ENHANCED: loss rate 1 − 75% = 25%, bounded below at 40%. 60,000 assigned → MLR 2%.
    assert run(ENHANCED, "10000000", "10100000", assigned=60000).settlement == D("0.00")   # 1% loss < 2%
    assert run(ENHANCED, "10000000", "10300000", assigned=60000).settlement == D("-120000.00")  # 40% × 300,000


def test_basic_c_loss_cap_after_rate():
    # 30% × 500,000 = 150,000, capped at 1% of 10,000,000 = 100,000.
    assert run(BASIC_C, "10000000", "10500000", assigned=60000).settlement == D("-100000.00")


def test_upside_only_ignores_losses():
    terms = VERMONT.program("bcbsvt_qhp").financial.for_year(2019)
    result = run(terms, "1000000", "1200000")
    assert terms.upside_only and result.settlement == D("0.00")
    assert steps(result)["upside only"] == D("0.00")


def test_quality_gate_failing_stops_savings_not_losses():
    failed = QualityResult(D("0.2"), gate_met=False, measured=True)
    assert run(MEDICARE, "1000000", "900000", quality=failed).settlement == D("0.00")
    assert run(MEDICARE, "1000000", "1100000", quality=failed).settlement == D("-40000.00")


def test_commercial_bands_and_quality_modifier():
    # Savings 50,000 = 5% of 1,000,000: 50% of the first 30,000 + 25% of the next 20,000 = 20,000; × score 0.8.
    result = run(COMMERCIAL, "1000000", "950000", quality=QualityResult(D("0.8"), True, True))
    assert steps(result)["corridor bands"] == D("20000.00")
    assert result.settlement == D("16000.00")


def test_withhold_earned_back_on_quality():
    # Fixed payments 500,000 (in actual) + FFS 480,000 = 980,000 vs 1,000,000: 20,000 savings kept (< 3%).
    # Withhold 4% of 500,000 = 20,000; score 0.75 earns back 15,000, so 5,000 is lost: 15,000.
    result = run(MEDICAID, "1000000", "480000", fixed="500000", quality=QualityResult(D("0.75"), True, True))
    assert steps(result)["quality withhold not earned"] == D("15000.00")
    assert result.settlement == D("15000.00")
    # VMNG has no savings gate: a failed gate still earns back on the score (0.75 → 5,000 lost). With a gate in
    # the terms, the 20,000 of savings go (gate) and nothing is earned back (−20,000): −20,000.
    failed = QualityResult(D("0.75"), False, True)
    assert run(MEDICAID, "1000000", "480000", fixed="500000", quality=failed).settlement == D("15000.00")
    gated = MEDICAID.model_copy(update={"quality": MEDICAID.quality.model_copy(update={"gate": True})})
    assert run(gated, "1000000", "480000", fixed="500000", quality=failed).settlement == D("-20000.00")


def test_quality_not_measured_is_said_in_the_waterfall():
    result = run(MEDICARE, "1000000", "900000")
    gate = next(s for s in result.waterfall if s.step == "quality gate")
    assert "not measured" in gate.note


def test_waterfall_changes_add_up_to_the_settlement():
    result = run(MEDICARE, "1000000", "900000", mm="1000")
    assert sum(s.change for s in result.waterfall) == result.settlement
