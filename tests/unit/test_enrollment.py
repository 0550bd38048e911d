"""Member months (both conventions), deaths, merged spans, primary payer and residency."""

from __future__ import annotations

import ibis
import pytest

from allpayer.compute.enrollment import (
    expand_runs,
    member_month_runs,
    member_months,
    primary_payer,
    primary_payer_months,
    primary_payer_runs,
    residency,
)
from tests.attribution_builders import memtables, person, span, tables


def _mm(persons, spans, convention="any_day", keys=None):
    t = memtables(tables(persons, spans, [], []))
    kw = {"keys": keys} if keys else {}
    rows = member_months(t["enrollment"], t["person"], convention, **kw).to_pyarrow().to_pylist()
    return {(r.get("payer_type", ""), r["year"], r["month"]): r for r in rows}


def test_any_day_and_partial_months():
    # 2020-01-15 .. 2020-03-10: Jan 17/31 days, Feb 29/29 (leap year), Mar 10/31.
    spans = [span("a", "2020-01-15", "2020-03-10")]
    anyday = _mm([person("a")], spans)
    partial = _mm([person("a")], spans, "partial")
    assert [anyday[("medicare", 2020, m)]["member_month"] for m in (1, 2, 3)] == [1.0, 1.0, 1.0]
    assert [partial[("medicare", 2020, m)]["days_covered"] for m in (1, 2, 3)] == [17, 29, 10]
    assert partial[("medicare", 2020, 1)]["member_month"] == pytest.approx(17 / 31)
    assert partial[("medicare", 2020, 3)]["member_month"] == pytest.approx(10 / 31)


def test_overlapping_sources_count_once_and_death_ends_coverage():
    # Two feeds deliver overlapping spans (Jan 1..Feb 15 and Feb 1..Apr 30): Feb counts 29 days, not 44.
    # Death on 2020-03-05 ends coverage: March has 5 days, April none.
    spans = [span("a", "2020-01-01", "2020-02-15", source="x"), span("a", "2020-02-01", "2020-04-30", source="y")]
    out = _mm([person("a", death="2020-03-05")], spans, "partial")
    assert {k[2]: v["days_covered"] for k, v in out.items()} == {1: 31, 2: 29, 3: 5}


def test_starting_after_death_counts_nothing():
    out = _mm([person("a", death="2019-12-31")], [span("a", "2020-01-01", "2020-12-31")])
    assert out == {}


def test_unknown_convention_is_an_error():
    t = memtables(tables([person("a")], [span("a", "2020-01-01", "2020-01-31")], [], []))
    with pytest.raises(ValueError, match="member-month convention"):
        member_months(t["enrollment"], t["person"], "weekly")


def test_primary_payer_hierarchy_and_person_months():
    # Jan: Medicaid + Medicare (dual) -> Medicare. Feb: Medicaid 1..14, commercial 15..29 -> Medicaid (higher in
    # the hierarchy); the person's partial member month is the union of coverage: 29/29 = 1.
    # A custom hierarchy putting commercial first flips February.
    spans = [span("a", "2020-01-01", "2020-02-14", "medicaid"), span("a", "2020-01-01", "2020-01-31", "medicare"),
             span("a", "2020-02-15", "2020-02-29", "commercial", payer="bcbsvt", plan="bcbsvt_qhp_gold")]
    t = memtables(tables([person("a")], spans, [], []))
    res = residency(t["person"], ["VT"], ibis.memtable({"zip5": ["05401"], "hsa": ["Burlington"]}))
    rows = primary_payer_months(t["enrollment"], t["person"], ["medicare", "medicaid", "commercial"], "partial", res)
    got = {r["month"]: (r["payer_type"], r["member_month"], r["coverages"], r["resident"], r["hsa"])
           for r in rows.to_pyarrow().to_pylist()}
    assert got == {1: ("medicare", 1.0, 2, True, "Burlington"), 2: ("medicaid", 1.0, 2, True, "Burlington")}
    cov = member_months(t["enrollment"], t["person"], "partial")
    flipped = primary_payer(cov, ["commercial", "medicaid", "medicare"]).to_pyarrow().to_pylist()
    assert {r["month"]: r["payer_type"] for r in flipped} == {1: "medicaid", 2: "commercial"}


def test_residency_by_state_and_zip():
    persons = [person("a", "VT", "05401"), person("b", "Vermont", "05999"), person("c", "NH", "03755"),
               {**person("d"), "state": None}]
    t = memtables(tables(persons, [], [], []))
    res = residency(t["person"], ["vt", "VERMONT"], ibis.memtable({"zip5": ["05401"], "hsa": ["Burlington"]}))
    got = {r["person_id"]: (r["resident"], r["hsa"]) for r in res.to_pyarrow().to_pylist()}
    assert got == {"a": (True, "Burlington"), "b": (True, "unknown"), "c": (False, None), "d": (False, None)}


def _runs(persons, spans, convention):
    t = memtables(tables(persons, spans, [], []))
    runs = member_month_runs(t["enrollment"], t["person"], convention)
    return sorted(runs.to_pyarrow().to_pylist(), key=lambda r: (r["payer_type"], r["first_month"]))


def test_a_span_is_one_month_run_with_its_edge_months():
    # 2020-01-15 .. 2020-04-10: one run, Jan 17/31 days and Apr 10/30; Feb (29) and Mar (31) whole, weighing 1.
    runs = _runs([person("a")], [span("a", "2020-01-15", "2020-04-10")], "partial")
    jan = 2020 * 12
    assert [(r["first_month"], r["last_month"], r["first_days"], r["last_days"]) for r in runs] == \
        [(jan, jan + 3, 17, 10)]
    assert runs[0]["first_weight"] == pytest.approx(17 / 31) and runs[0]["last_weight"] == pytest.approx(10 / 30)
    months = expand_runs(ibis.memtable(runs)).to_pyarrow().to_pylist()
    assert [(m["month"], m["days_covered"], round(m["member_month"], 6)) for m in months] == \
        [(1, 17, round(17 / 31, 6)), (2, 29, 1.0), (3, 31, 1.0), (4, 10, round(10 / 30, 6))]


def test_spans_sharing_a_month_become_runs_of_one_month_each():
    # Jan 1..Mar 10 and Mar 20..Apr 30 of the same coverage share March: 10 + 12 = 22 days in one row.
    spans = [span("a", "2020-01-01", "2020-03-10"), span("a", "2020-03-20", "2020-04-30")]
    runs = _runs([person("a")], spans, "partial")
    assert [(r["first_month"] % 12 + 1, r["last_month"] % 12 + 1, r["first_days"]) for r in runs] == \
        [(1, 1, 31), (2, 2, 29), (3, 3, 22), (4, 4, 30)]
    assert runs[2]["first_weight"] == pytest.approx(22 / 31)



def test_persons_of_one_span_and_of_several_together_as_alone():
    """Persons with one span take a path of their own (no merging): together with persons of several spans (two
    sharing March; two coverages; two adjacent spans that merge) each gets the runs it gets alone."""
    spans = {"a": [span("a", "2020-01-15", "2020-04-10")],
             "b": [span("b", "2020-01-01", "2020-03-10"), span("b", "2020-03-20", "2020-04-30")],
             "c": [span("c", "2020-01-01", "2020-06-30"),
                   span("c", "2020-07-01", "2020-12-31", "medicaid", payer="medicaid", plan="m")],
             "d": [span("d", "2020-01-01", "2020-01-31"), span("d", "2020-02-01", "2020-05-05")]}

    def key(r: dict) -> tuple:
        return (r["person_id"], r["payer_type"], r["first_month"])

    for convention in ("partial", "any_day"):
        alone = sorted((r for p, own in spans.items() for r in _runs([person(p)], own, convention)), key=key)
        together = _runs([person(p) for p in spans], [s for own in spans.values() for s in own], convention)
        assert sorted(together, key=key) == alone
        assert [(r["first_month"] % 12 + 1, r["last_month"] % 12 + 1) for r in together if r["person_id"] == "d"] \
            == [(1, 5)]

def test_a_one_month_span_has_the_same_first_and_last_month():
    runs = _runs([person("a")], [span("a", "2021-02-03", "2021-02-09")], "any_day")
    assert [(r["first_days"], r["last_days"], r["first_weight"], r["last_weight"]) for r in runs] == [(7, 7, 1.0, 1.0)]


def test_primary_payer_runs_keep_single_coverage_whole_and_pick_months_of_overlaps():
    # b has one coverage all year: one run. a is dual in January: that month is picked on its own.
    spans = [span("a", "2020-01-01", "2020-03-31", "medicaid"), span("a", "2020-01-01", "2020-01-31", "medicare"),
             span("b", "2020-01-01", "2020-12-31", "medicare")]
    t = memtables(tables([person("a"), person("b")], spans, [], []))
    runs = primary_payer_runs(t["enrollment"], t["person"], ["medicare", "medicaid"]).to_pyarrow().to_pylist()
    got = sorted((r["person_id"], r["payer_type"], r["first_month"] % 12 + 1, r["last_month"] % 12 + 1,
                  r["coverages"]) for r in runs)
    assert got == [("a", "medicaid", 2, 2, 1), ("a", "medicaid", 3, 3, 1), ("a", "medicare", 1, 1, 2),
                   ("b", "medicare", 1, 12, 1)]
