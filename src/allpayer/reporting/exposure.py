"""Maximum downside exposure of an ACO under a program's loss terms (domain.md §4.5: risk-bearing exposure)."""

from __future__ import annotations

from decimal import Decimal

from allpayer.compute.settlement import banded_share, cents, loss_rate
from allpayer.config.terms import YearTerms


def max_downside(terms: YearTerms, expected: Decimal) -> Decimal | None:
    """The largest loss the ACO can owe on ``expected`` cost (positive dollars), or None when uncapped.

    Upside-only owes nothing. With corridor bands the ACO's loss is the bands' share of an unlimited loss, finite
    only when the last band's ``aco_share`` is 0; a loss cap (share of expected) applies before or after the loss
    sharing rate as the terms say."""
    if terms.upside_only:
        return Decimal("0")
    bands = terms.loss_bands or terms.savings_bands
    if bands:
        last = max(bands, key=lambda b: b.lower)
        if last.upper is None and last.aco_share > 0:
            banded = None
        else:
            widest = max((b.upper for b in bands if b.upper is not None), default=Decimal("0"))
            banded = abs(banded_share(-widest * expected, bands, expected))
        rate = Decimal("1")
    else:
        banded, rate = None, loss_rate(terms)
    if terms.loss_cap is not None:
        capped = terms.loss_cap * expected * (rate if terms.cap_before_rate else Decimal("1"))
        return cents(min(capped, banded) if banded is not None else capped)
    return cents(banded) if banded is not None else None
