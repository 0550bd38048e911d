"""Maximum downside exposure under loss caps and corridors (ACO budget review), worked by hand."""

from __future__ import annotations

from decimal import Decimal as D

from allpayer.config import load_pack
from allpayer.config.terms import Band, YearTerms
from allpayer.reporting.exposure import max_downside


def terms(program: str, year: int = 2019) -> YearTerms:
    return load_pack("vermont").programs[program].financial.for_year(year)


def test_cap_before_the_rate():
    # Medicare: loss capped at 5% of expected, then the 80% rate: 400,000 x 0.05 x 0.8 = 16,000
    assert max_downside(terms("medicare_vmng"), D("400000")) == D("16000.00")


def test_corridor_bands_bound_the_loss():
    # self-funded 2019: 50% of the first 3%, 25% of the next 3%, nothing beyond:
    # 130,000 x (0.015 + 0.0075) = 2,925
    assert max_downside(terms("self_funded_employer"), D("130000")) == D("2925.00")


def test_upside_only_owes_nothing():
    assert max_downside(terms("bcbsvt_qhp"), D("500000")) == D("0")


def test_uncapped_and_cap_after_the_rate():
    assert max_downside(YearTerms(sharing_rate=D("0.5")), D("1000")) is None
    # cap after the rate: the ACO's 60% share of any loss stops at 4% of expected = 40.00
    assert max_downside(YearTerms(sharing_rate=D("0.6"), loss_cap=D("0.04")), D("1000")) == D("40.00")
    open_band = [Band(lower=D("0"), upper=None, aco_share=D("0.5"))]
    assert max_downside(YearTerms(savings_bands=open_band), D("1000")) is None
