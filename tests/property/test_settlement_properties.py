"""Properties: settlement is monotone (non-increasing) in actual spending under every shipped program's terms and
continuous at corridor edges; savings pools split to the exact cent."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from allpayer.compute.distribution import largest_remainder, split_pool
from allpayer.compute.settlement import QualityResult, SettlementInput, settle
from allpayer.config import load_pack
from allpayer.config.terms import Distribution, PoolSplit

TERMS = [(f"{pack}/{p.program_id}/{y}", p.financial.for_year(y))
         for pack in ("vermont", "mssp") for p in load_pack(pack).programs.values() for y in p.years]
cents = st.integers(0, 10**9).map(lambda c: D(c).scaleb(-2))
quality = st.builds(QualityResult, st.decimals(0, 1, places=2), st.booleans(), st.booleans())


def _settle(terms, expected: D, ffs: D, fixed: D, assigned: int, q: QualityResult) -> D:
    return settle(SettlementInput("p", 2019, expected, ffs, fixed, assigned, D(1200), q), terms).settlement


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(TERMS), expected=st.integers(10**6, 10**9).map(lambda c: D(c).scaleb(-2)),
       a=cents, b=cents, fixed=cents, assigned=st.integers(0, 80_000), q=quality)
def test_settlement_non_increasing_in_actual(case, expected, a, b, fixed, assigned, q):
    _, terms = case
    low, high = min(a, b), max(a, b)
    assert _settle(terms, expected, low, fixed, assigned, q) >= _settle(terms, expected, high, fixed, assigned, q)


@settings(max_examples=200, deadline=None)
@given(case=st.sampled_from([t for t in TERMS if t[1].savings_bands]),
       expected=st.integers(10**6, 10**9).map(lambda c: D(c).scaleb(-2)), side=st.sampled_from([-1, 1]),
       q=quality)
def test_continuous_at_corridor_edges(case, expected, side, q):
    # Either side of every band edge (±1 cent of actual), the settlement moves by at most a few cents.
    _, terms = case
    for band in terms.savings_bands[1:]:
        edge = (expected * (1 - side * band.lower)).quantize(D("0.01"))
        left = _settle(terms, expected, edge - D("0.01"), D(0), 0, q)
        right = _settle(terms, expected, edge + D("0.01"), D(0), 0, q)
        assert abs(left - right) <= D("0.03")


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 10**12), weights=st.lists(st.integers(0, 10**9), min_size=1, max_size=30))
def test_largest_remainder_sums_to_total(total, weights):
    w = np.array(weights, dtype=object)
    out = largest_remainder(total, w)
    assert sum(out) == (total if sum(weights) else 0)
    assert all(x >= 0 for x in out)


@settings(max_examples=100, deadline=None)
@given(pool=st.integers(1, 10**11).map(lambda c: D(c).scaleb(-2)),
       pc=st.lists(st.floats(0, 5000, allow_nan=False), min_size=0, max_size=20),
       net=st.lists(st.floats(0, 1e7, allow_nan=False), min_size=0, max_size=20),
       share=st.integers(0, 100), minimum=st.integers(0, 500))
def test_pool_split_sums_to_the_pool(pool, pc, net, share, minimum):
    policy = Distribution(splits=[PoolSplit(name="pc", share=D(share) / 100, basis="attributed_member_months"),
                                  PoolSplit(name="net", share=1 - D(share) / 100, basis="spend")],
                          minimum_payment=D(minimum))
    bases = {"attributed_member_months": pa.table({"recipient_id": [f"P{i}" for i in range(len(pc))],
                                                   "basis": pa.array(pc, pa.float64())}),
             "spend": pa.table({"recipient_id": [f"T{i}" for i in range(len(net))],
                                "basis": pa.array(net, pa.float64())})}
    out = split_pool(pool, policy, bases)
    assert sum(out["amount"].to_pylist()) == pool
