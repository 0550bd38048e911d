"""Where an expression's text values come from (:mod:`allpayer.text_domain`), the proof the DuckDB warehouse needs
to write a text column as an enum of its values."""

from __future__ import annotations

import ibis

from allpayer.text_domain import TextSources, text_sources

_CON = ibis.duckdb.connect()
_CON.create_table("spans", schema=ibis.schema(
    {"person_id": "string", "payer": "string", "payer_type": "string", "first": "int64"}))
_CON.create_table("provider", schema=ibis.schema({"npi": "string", "practice_id": "string"}))
SPANS, PROVIDER = _CON.table("spans"), _CON.table("provider")  # by name, as the warehouse reads its tables


def _columns(*pairs: tuple[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(pairs)


def test_a_column_passed_through_projections_filters_joins_and_groupings_comes_from_its_table():
    lines = SPANS.filter(SPANS.first > 3).select("person_id", "payer", kind=SPANS.payer_type)
    joined = lines.join(PROVIDER, lines.person_id == PROVIDER.npi).distinct()
    grouped = joined.group_by(["kind", "practice_id"]).aggregate(payer=joined.payer.min(), n=joined.count())
    assert text_sources(grouped, "kind") == TextSources(_columns(("spans", "payer_type")))
    assert text_sources(grouped, "practice_id") == TextSources(_columns(("provider", "practice_id")))
    assert text_sources(grouped, "payer") == TextSources(_columns(("spans", "payer")))  # min picks a value


def test_literals_and_the_branches_of_a_choice_are_all_sources():
    t = SPANS.select(
        typed=ibis.coalesce(ibis.ifelse(SPANS.first > 1, SPANS.payer_type, ibis.null("string")), "other"),
        named=ibis.literal(["inpatient", None, "pharmacy"], type="array<string>")[SPANS.first.cast("int32")],
        cased=SPANS.payer.cases(("a", SPANS.person_id), else_="none"),
    )
    assert text_sources(t, "typed") == TextSources(_columns(("spans", "payer_type")), frozenset({"other"}))
    assert text_sources(t, "named") == TextSources(literals=frozenset({"inpatient", "pharmacy"}))
    assert text_sources(t, "cased") == TextSources(_columns(("spans", "person_id")), frozenset({"none"}))


def test_a_union_takes_both_sides_and_a_changed_value_has_no_known_source():
    both = SPANS.select(code=SPANS.payer).union(PROVIDER.select(code=PROVIDER.npi))
    assert text_sources(both, "code") == TextSources(_columns(("spans", "payer"), ("provider", "npi")))
    changed = SPANS.select(upper=SPANS.payer.upper(), joined=SPANS.payer + SPANS.payer_type,
                           number=SPANS.first.cast("string"))
    assert all(text_sources(changed, c) is None for c in changed.columns)
    # A non-text column and a window's value are not traced either
    assert text_sources(SPANS, "first") is None
    ranked = SPANS.mutate(top=SPANS.payer.first().over(group_by="person_id"))
    assert text_sources(ranked, "top") is None


def test_the_values_of_an_in_memory_table_are_its_sources():
    crosswalk = ibis.memtable({"zip5": ["05401", "05403", None], "hsa": ["burlington", "burlington", None]})
    j = SPANS.left_join(crosswalk, SPANS.person_id == crosswalk.zip5)
    t = j.select(hsa=j.hsa.fill_null("unknown"))
    assert text_sources(t, "hsa") == TextSources(literals=frozenset({"burlington", "unknown"}))
