"""Provider distribution: largest remainder on cents, minimum payment, the 70/30 policy (hand-worked)."""

from __future__ import annotations

from decimal import Decimal as D

import ibis
import numpy as np
import pyarrow as pa

from allpayer.compute.distribution import largest_remainder, split_among, split_pool, value_payments_by_practice
from allpayer.config.terms import Distribution


def test_largest_remainder_sums_exactly():
    # 100 cents over 1:1:1 → 33.33… each; the one leftover cent goes to the first (ties by position).
    assert list(largest_remainder(100, np.array([1, 1, 1], dtype=object))) == [34, 33, 33]
    # 1000 over 5:3:2 is exact.
    assert list(largest_remainder(1000, np.array([5, 3, 2], dtype=object))) == [500, 300, 200]
    # 10 over 2:1 → 6.67, 3.33: floors 6+3, leftover 1 to the larger remainder (.67).
    assert list(largest_remainder(10, np.array([2, 1], dtype=object))) == [7, 3]


def test_minimum_payment_respreads():
    # 10,000 cents over 98:1:1 → 9,800, 100, 100; minimum 150 cents drops the two small ones: all to the first.
    paid = split_among(10_000, ["a", "b", "c"], np.array([98, 1, 1], dtype=object), 150)
    assert list(paid) == [10_000, 0, 0]


def test_policy_70_30_with_minimum():
    # Pool 10,000.00: 7,000 primary care by member months 600:400 → 4,200 / 2,800;
    # 3,000 network by spend 2,990:10 → 2,990 and 10 (< 100 minimum) → 3,000 to TIN1.
    policy = Distribution()
    bases = {
        "attributed_member_months": pa.table({"recipient_id": ["P1", "P2"], "basis": [600.0, 400.0]}),
        "spend": pa.table({"recipient_id": ["T1", "T2"], "basis": [2990.0, 10.0]}),
    }
    rows = {(r["split"], r["recipient_id"]): r["amount"] for r in split_pool(D("10000"), policy, bases).to_pylist()}
    assert rows == {("primary_care", "P1"): D("4200.00"), ("primary_care", "P2"): D("2800.00"),
                    ("network", "T1"): D("3000.00"), ("network", "T2"): D("0.00")}


def test_split_without_recipients_keeps_the_pool_whole():
    bases = {"attributed_member_months": pa.table({"recipient_id": ["P1"], "basis": [12.0]}),
             "spend": pa.table({"recipient_id": pa.array([], pa.string()), "basis": pa.array([], pa.float64())})}
    out = split_pool(D("1000.01"), Distribution(), bases)
    assert sum(out["amount"].to_pylist()) == D("1000.01")
    assert "(undistributed)" in out["recipient_id"].to_pylist()


def test_value_payment_by_practice_month():
    # Practice A has 2 attributed persons in January and 1 in April; Q1 PMPM 3.25, Q2 PMPM 3.50.
    am = ibis.memtable({"program_id": ["c"] * 3, "year": [2019] * 3, "person_id": ["1", "2", "1"],
                        "month": [1, 1, 4], "practice_id": ["A"] * 3})
    vp = ibis.memtable(pa.table({"program_id": ["c", "c"], "year": [2019, 2019], "quarter": [1, 2],
                                 "value_payment_pmpm": pa.array([D("3.25"), D("3.50")], pa.decimal128(18, 2))}))
    rows = value_payments_by_practice(am, vp).order_by("month").to_pyarrow().to_pylist()
    assert [(r["month"], r["attributed_lives"], r["amount"]) for r in rows] == [(1, 2, D("6.50")), (4, 1, D("3.50"))]
