"""Provider distribution (docs/settlement.md; domain.md §4.4, §8.14).

- **Value payments**: the quarter's value payment PMPM × attributed lives per practice per month (Ibis).
- **Savings pools**: a pool split by the configured policy (e.g. 70% primary care by attributed member months,
  30% the rest of the network by share of spend), each part shared among recipients by their basis, in integer
  cents with the largest-remainder method so the payments sum exactly to the pool. Recipients whose payment would
  fall under the minimum payment get nothing and their share is spread over the others.

Split arithmetic uses Python integers in NumPy object arrays: exact for any pool and basis, and vectorised over
recipients (no per-row Python loop).
"""

from __future__ import annotations

from decimal import Decimal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from allpayer.config.terms import Distribution

MONEY = "decimal(18, 2)"
BASIS_SCALE = {"attributed_member_months": 1_000_000, "spend": 100}  # integer units: micro-months, cents


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` (non-negative ints) summing exactly to ``total``; leftover units go to
    the largest remainders, ties to the earlier position."""
    weights = np.asarray(weights, dtype=object)
    whole = int(weights.sum()) if len(weights) else 0
    if whole == 0:
        return np.zeros(len(weights), dtype=object)
    scaled = weights * total
    base = scaled // whole
    remainder = scaled - base * whole
    leftover = total - int(base.sum())
    order = sorted(range(len(weights)), key=lambda i: (-remainder[i], i))[:leftover]
    base[order] += 1
    return base


def split_among(total_cents: int, recipients: list[str], basis_units: np.ndarray, minimum_cents: int) -> np.ndarray:
    """Cents per recipient in proportion to ``basis_units``; recipients under ``minimum_cents`` drop out and the
    split is redone without them (at most once per recipient)."""
    keep = np.asarray(basis_units, dtype=object) > 0
    while True:
        cents = np.zeros(len(recipients), dtype=object)
        cents[keep] = largest_remainder(total_cents, np.asarray(basis_units, dtype=object)[keep])
        below = keep & (cents < minimum_cents)
        if not below.any() or below.sum() == keep.sum():
            return cents
        keep = keep & ~below


def split_pool(pool: Decimal, policy: Distribution, bases: dict[str, pa.Table]) -> pa.Table:
    """The savings pool (dollars) split by ``policy``. ``bases[basis]``: (recipient_id, basis) per basis named in
    the policy's splits. Returns (split, recipient_id, basis, amount) with amounts summing to the pool."""
    pool_cents = int((pool * 100).to_integral_value())
    split_cents = largest_remainder(pool_cents, np.array([int(s.share * 10**6) for s in policy.splits], dtype=object))
    minimum = int(policy.minimum_payment * 100)
    parts = []
    for split, cents in zip(policy.splits, split_cents, strict=True):  # a handful of configured splits
        table = bases[split.basis].sort_by("recipient_id")
        ids = table["recipient_id"].to_pylist()
        units = np.array([round(float(v) * BASIS_SCALE[split.basis]) for v in table["basis"].to_pylist()],
                         dtype=object)
        paid = split_among(int(cents), ids, units, minimum)
        if not ids or not sum(paid):  # no eligible recipient: the split stays as one undistributed line
            ids, units, paid = ["(undistributed)"], np.array([0], dtype=object), np.array([int(cents)], dtype=object)
        parts.append(pa.table({
            "split": [split.name] * len(ids), "recipient_id": ids,
            "basis": pa.array([Decimal(int(u)) / BASIS_SCALE[split.basis] for u in units], pa.decimal128(24, 6)),
            "amount": pa.array([Decimal(int(c)).scaleb(-2) for c in paid], pa.decimal128(18, 2))}))
    return pa.concat_tables(parts) if parts else pa.table({"split": [], "recipient_id": [], "basis": [], "amount": []})


def value_payments_by_practice(attribution_month: ir.Table, value_payment: ir.Table) -> ir.Table:
    """Value payment per practice per month: attributed persons × that quarter's PMPM. ``value_payment`` has
    (program_id, year, quarter, value_payment_pmpm)."""
    am = attribution_month
    am = am.mutate(quarter=((am.month - 1) // 3 + 1).cast("int64"), practice=am.practice_id.fill_null("(none)"))
    lives = am.group_by(["program_id", "year", "quarter", "month", "practice"]).aggregate(
        attributed_lives=am.person_id.nunique().cast("int64"))
    vp = value_payment.select("program_id", "year", "quarter", "value_payment_pmpm")
    j = lives.join(vp, ["program_id", "year", "quarter"])
    return j.select("program_id", "year", "quarter", "month", practice_id=j.practice,
                    attributed_lives=j.attributed_lives, value_payment_pmpm=j.value_payment_pmpm.cast(MONEY),
                    amount=(j.value_payment_pmpm.cast(MONEY) * j.attributed_lives).cast(MONEY))


def recipients_by_member_months(attribution_month: ir.Table, program_id: str, year: int) -> ir.Table:
    """(recipient_id, basis): attributed member months per practice for one program-year."""
    am = attribution_month.filter((attribution_month.program_id == program_id) & (attribution_month.year == year))
    return am.group_by(recipient_id=am.practice_id.fill_null("(none)")).aggregate(
        basis=am.count().cast("float64"))


def recipients_by_spend(claims: ir.Table, attribution_month: ir.Table, program_id: str, year: int,
                        primary_care: ir.Table) -> ir.Table:
    """(recipient_id, basis): paid spend on the program's attributed person-months per billing TIN, leaving out the
    TINs of attributing primary-care practices (``primary_care``: tin) which share the other part of the pool."""
    am = attribution_month.filter((attribution_month.program_id == program_id) & (attribution_month.year == year))
    am = am.select(_p=am.person_id, _m=am.month_index).distinct()
    c = claims.join(am, [claims.person_id == am._p, claims.month_index == am._m])
    c = c.anti_join(primary_care, c.billing_tin == primary_care.tin)
    c = c.filter(c.billing_tin.notnull())
    return c.group_by(recipient_id=c.billing_tin).aggregate(basis=c.paid_amount.sum().cast("float64"))


def empty_recipients() -> ir.Table:
    return ibis.memtable(pa.table({"recipient_id": pa.array([], pa.string()), "basis": pa.array([], pa.float64())}))
