"""Properties: attribution does not depend on row order; member months are additive under span splitting."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allpayer.compute.attribution import AttributionInputs, attribute
from allpayer.compute.enrollment import member_months
from tests.attribution_builders import Duck, clinician, line, memtables, npi, pack, person, program, span, tables

CLINICIANS = [(npi(1), "T1", "08", "ACO1"), (npi(2), "T1", "50", "ACO1"), (npi(3), "T2", "11", None),
              (npi(4), "T1", "06", "ACO1"), (npi(5), "T2", "13", None), (npi(6), "T3", "08", "ACO2")]
ROSTER = [clinician(n, t, s, aco=a) for n, t, s, a in CLINICIANS]
PACK = pack(program(timing="retrospective", voluntary_alignment=True))
FAST = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])

claim_st = st.tuples(st.sampled_from("abcd"), st.integers(0, 364), st.integers(0, len(CLINICIANS) - 1),
                     st.sampled_from(["50", "75", "100"]), st.sampled_from(["99213", "99214", "99309"]))


def _shuffled(table: pa.Table, seed: int) -> pa.Table:
    order = list(range(table.num_rows))
    random.Random(seed).shuffle(order)
    return table.take(order)


def _attribution(arrow: dict[str, pa.Table]) -> list[dict]:
    t = Duck(arrow)
    inputs = AttributionInputs(t["enrollment"], t["person"], t["medical_claim"], t["provider"])
    rows = attribute(PACK, inputs, [2019], stage=t.stage).attribution.to_pyarrow().to_pylist()
    return sorted(rows, key=lambda r: r["person_id"])


@FAST
@given(claims=st.lists(claim_st, min_size=1, max_size=25), seed=st.integers(0, 10**6))
def test_attribution_is_independent_of_row_order(claims, seed):
    lines = [line(p, str(dt.date(2019, 1, 1) + dt.timedelta(days=day)), CLINICIANS[c][0], CLINICIANS[c][1], amount,
                  hcpcs=code, pos="31" if code == "99309" else "11") for p, day, c, amount, code in claims]
    arrow = tables([person(p) for p in "abcd"], [span(p, "2018-01-01", "2020-12-31") for p in "abcd"], lines,
                   ROSTER)
    shuffled = {name: _shuffled(t, seed + i) for i, (name, t) in enumerate(arrow.items())}
    assert _attribution(arrow) == _attribution(shuffled)


def _total(spans: list[dict], convention: str) -> tuple[float, int]:
    t = memtables(tables([person("a")], spans, [], []))
    mm = member_months(t["enrollment"], t["person"], convention)
    row = mm.aggregate(mm=mm.member_month.sum(), n=mm.count()).to_pyarrow().to_pylist()[0]
    return round(row["mm"] or 0.0, 9), row["n"]


@FAST
@given(start=st.integers(0, 700), length=st.integers(0, 400), cut=st.floats(0, 1), overlap=st.booleans())
def test_member_months_are_additive_under_span_splitting(start, length, cut, overlap):
    first = dt.date(2019, 1, 1) + dt.timedelta(days=start)
    last = first + dt.timedelta(days=length)
    whole = [span("a", str(first), str(last))]
    if length == 0:
        return
    mid = first + dt.timedelta(days=int(cut * (length - 1)))
    # Split into [first, mid] and [mid + 1, last]; with ``overlap`` the pieces also share a day (another feed).
    second_start = mid if overlap else mid + dt.timedelta(days=1)
    split = [span("a", str(first), str(mid), source="x"), span("a", str(second_start), str(last), source="y")]
    for convention in ("any_day", "partial"):
        assert _total(whole, convention) == _total(split, convention)


def test_member_months_splitting_example():
    # 2019-01-20 .. 2019-03-05 split at 2019-02-10: partial = 12/31 + 28/28 + 5/31 either way.
    whole = [span("a", "2019-01-20", "2019-03-05")]
    split = [span("a", "2019-01-20", "2019-02-10"), span("a", "2019-02-11", "2019-03-05")]
    assert _total(whole, "partial") == _total(split, "partial") == (round(12 / 31 + 1 + 5 / 31, 9), 3)

