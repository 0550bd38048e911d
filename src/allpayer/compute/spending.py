"""Incurred spending: final-action claim lines, service categories, spend per person-month.

- A line's *incurred month* is the month of the claim's first date of service (``claim_start_date``; for
  pharmacy ``dispensing_date``), wherever the care happened. Every line of a claim falls in the same month.
- Service categories come from the ordered rules in ``refdata/service_categories.csv`` (first match wins);
  the rules are compiled once into one ``CASE`` expression, so categorising is a single projection. Lines carry
  the category as a number (``category_id``) until spend is grouped; the names are looked up from it.
- Financial target services are the categories a model counts (``CostSettings.financial_target_services``).
- A claim's payer type comes from the enrollment month of the same person and payer; spend in a month with
  no such enrollment keeps ``enrolled = False`` (reported, never dropped).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import ibis
import ibis.expr.types as ir

from allpayer.compute.calendar import month_index, year_of
from allpayer.compute.final_action import final_action, final_action_among
from allpayer.compute.native import quotient
from allpayer.compute.stage import Stage, lazy
from allpayer.config.cost import FinancialTargetServices
from allpayer.intake.contract import MEDICAL_CLAIM

MONEY = "decimal(18, 2)"
REFDATA = Path(__file__).resolve().parent.parent / "refdata"

@dataclass(frozen=True)
class CategoryRule:
    priority: int
    claim_type: str
    field: str
    match: str
    values: tuple[str, ...]
    service_category_1: str
    service_category_2: str


@cache
def category_rules() -> tuple[CategoryRule, ...]:
    """The packaged service-category rules, in priority order."""
    text = (REFDATA / "service_categories.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    rules = [CategoryRule(int(r["priority"]), r["claim_type"], r["field"], r["match"], tuple(r["values"].split()),
                          r["service_category_1"], r["service_category_2"]) for r in rows]
    return tuple(sorted(rules, key=lambda r: r.priority))


def _has_letter(values: tuple[str, ...]) -> bool:
    return any(ch.isalpha() for v in values for ch in v)


def _test(value: ir.StringValue, rule: CategoryRule) -> ir.BooleanValue:
    """Whether ``value`` (upper-cased where the rule needs it) matches the rule's values."""
    wanted = [v.upper() for v in rule.values]
    if rule.match == "prefix":
        test = ibis.or_(*[value.startswith(v) for v in wanted])
    elif rule.match == "equals":
        test = value.isin(wanted)
    else:
        raise ValueError(f"service category rule {rule.priority}: unknown match {rule.match!r}")
    return test.fill_null(False)


CLAIM_KINDS = ("medical", "pharmacy")


@cache
def service_categories() -> tuple[tuple[str, str, str], ...]:
    """Every (claim_kind, service_category_1, service_category_2) a line can get; a line carries its position
    (``category_id``). One small integer groups in half the time of three strings: 12 s against 24 s for the
    33.9M lines of 630k persons over two years."""
    pairs = sorted({(r.service_category_1, r.service_category_2) for r in category_rules()} | {("other", "other")})
    return tuple((kind, c1, c2) for kind in CLAIM_KINDS for c1, c2 in pairs)


def category_id(claim_kind: str, service_category_1: str, service_category_2: str) -> int:
    return service_categories().index((claim_kind, service_category_1, service_category_2))


def categorize(table: ir.Table, claim_type: ir.StringValue, claim_kind: str) -> ir.Table:
    """Add ``category_id`` (:func:`service_categories`) by the first matching packaged rule (``other`` if none).

    The rules are grouped by claim type, so a line tests only its own type's rules. Fields are upper-cased only
    for rules whose values have letters, once per field: upper-casing cannot change a match on digits, and
    repeating it per rule cost half the time of categorising."""
    rules = [r for r in category_rules() if r.match == "any" or r.field in table.columns]
    cased = {r.field for r in rules if r.match != "any" and _has_letter(r.values)}
    upper = {f"_upper_{f}": table[f].upper() for f in sorted(cased)}
    marked = table.mutate(**upper)

    def field(rule: CategoryRule) -> ir.StringValue:
        return marked[f"_upper_{rule.field}" if rule.field in cased and _has_letter(rule.values) else rule.field]

    def target(rule: CategoryRule) -> int:
        return category_id(claim_kind, rule.service_category_1, rule.service_category_2)

    other = category_id(claim_kind, "other", "other")
    by_type = []
    for kind in dict.fromkeys(r.claim_type for r in rules):
        own = [r for r in rules if r.claim_type == kind]
        branches = [(ibis.literal(True) if r.match == "any" else _test(field(r), r), target(r)) for r in own]
        by_type.append((kind, ibis.cases(*branches, else_=other)))
    coded = claim_type.cases(*by_type, else_=other).cast("int16")
    return marked.mutate(category_id=coded).drop(*upper)


def by_category(table: ir.Table, values: list, element_type: str) -> ir.Value:
    """Each row's element of ``values`` (one per :func:`service_categories` entry), found by its ``category_id``:
    a constant list indexed by the id. A ``CASE`` over the 52 ids took 2.5 times as long (17.7M spend rows at 630k
    persons), and a long ``IN`` list of ids becomes a join in DuckDB, after which a filter's input that two
    branches read is stored first (``cost_person_years`` 3.9 s -> 6.0 s)."""
    return ibis.literal(values, type=f"array<{element_type}>")[table.category_id]


def with_categories(table: ir.Table) -> ir.Table:
    """Add ``claim_kind``, ``service_category_1`` and ``service_category_2`` named by ``category_id``."""
    names = service_categories()
    return table.mutate(**{column: by_category(table, [name[level] for name in names], "string")
                           for level, column in enumerate(("claim_kind", "service_category_1",
                                                           "service_category_2"))})


def _money(value: ir.Value) -> ir.Value:
    return value.cast(MONEY).fill_null(0)


def _final_lines(fa: ir.Table, service_date: ir.DateValue, billing_tin: ir.StringValue) -> ir.Table:
    """The columns of a final-action line that spending reads. A reader that leaves ``category_id`` out does not
    have the categories worked out: the engines drop unread expressions."""
    paid_on = ibis.coalesce(fa.paid_date, fa.file_date, service_date)
    return fa.select(
        data_source=fa.data_source, claim_id=fa.claim_id, family_id=fa.family_id, person_id=fa.person_id,
        payer=fa.payer, incurred_date=service_date, incurred_month=month_index(service_date),
        paid_date=fa.paid_date, paid_on=paid_on, paid_month=month_index(paid_on), category_id=fa.category_id,
        allowed_amount=_money(fa.allowed_amount), paid_amount=_money(fa.paid_amount), billing_tin=billing_tin,
    )


def medical_lines(medical_claim: ir.Table) -> ir.Table:
    fa = final_action(medical_claim)
    fa = categorize(fa, fa.claim_type, "medical")
    return _final_lines(fa, fa.claim_start_date, fa.billing_tin)


def pharmacy_lines(pharmacy_claim: ir.Table) -> ir.Table:
    fa = final_action(pharmacy_claim)
    fa = categorize(fa, ibis.literal("pharmacy"), "pharmacy")
    return _final_lines(fa, fa.dispensing_date, ibis.null("string"))


def service_lines(medical_claim: ir.Table, pharmacy_claim: ir.Table | None = None) -> ir.Table:
    """Final-action lines of both claim tables with incurred and paid month indexes and service categories
    (``category_id``, and its names: stored lines keep the number, :func:`with_categories` names it again).
    ``paid_on`` (and its ``paid_month``) falls back to the file date, then the service date, when the paid date
    is missing."""
    lines = medical_lines(medical_claim)
    if pharmacy_claim is not None:
        lines = lines.union(pharmacy_lines(pharmacy_claim))
    return with_categories(lines)


def paid_by_tin(lines: ir.Table, paid_through: ir.DateValue, year: int) -> ir.Table:
    """(person_id, month_index, billing_tin, paid_amount): what was paid on or before ``paid_through`` per person,
    incurred month of ``year`` and billing TIN (the spend basis of a savings pool's split)."""
    paid = lines.filter((lines.paid_on <= paid_through) & lines.incurred_month.between(year * 12, year * 12 + 11))
    return paid.group_by(["person_id", "billing_tin", paid.incurred_month.name("month_index")]).aggregate(
        paid_amount=paid.paid_amount.sum().cast(MONEY))


def medical_paid_by_tin(medical_claim: ir.Table, superseded: ir.Table | None, paid_through: ir.DateValue,
                        year: int, persons: ir.Table | None = None) -> ir.Table:
    """:func:`paid_by_tin` of the final-action medical lines (``medical_claim`` as loaded, less the ``superseded``
    versions: intake's list, worked out from every line when None). The lines are kept to ``year``'s service dates
    and to ``persons`` before final action, so its anti-join reads a fraction of them (categories are not read, so
    not computed)."""
    c = medical_claim.filter(medical_claim.claim_start_date.year() == year)
    c = c if persons is None else c.semi_join(persons, "person_id")
    return paid_by_tin(medical_lines(final_action_among(medical_claim, c, superseded)), paid_through, year)


def level_1_categories() -> list[str]:
    """The level-1 service categories, sorted: :func:`level_1_number` indexes this list."""
    return sorted({level_1 for _, level_1, _ in service_categories()})


def level_1_number(table: ir.Table) -> ir.IntegerValue:
    """Each row's level-1 category as its place in :func:`level_1_categories`, from ``category_id``."""
    levels = level_1_categories()
    return by_category(table, [levels.index(level_1) for _, level_1, _ in service_categories()], "int16")


def is_target_service(lines: ir.Table, services: FinancialTargetServices) -> ir.BooleanValue:
    """Whether a line's category counts in the financial target: an included level-1 category whose level-2
    category is not excluded."""
    excluded = set(services.exclude_subcategories or ())
    return by_category(lines, [level_1 in services.include_categories and level_2 not in excluded
                               for _, level_1, level_2 in service_categories()], "boolean")


def reachable_level_1(claim_kind: str) -> set[str]:
    """The level-1 categories a line of ``claim_kind`` can be given: those of the rules for its claim types (the
    contract's, for medical lines; ``pharmacy`` for fills), and ``other`` unless each type has a rule matching
    every line."""
    types = set(MEDICAL_CLAIM.column("claim_type").allowed or ()) if claim_kind == "medical" else {"pharmacy"}
    rules = [r for r in category_rules() if r.claim_type in types]
    levels = {r.service_category_1 for r in rules}
    if not all(any(r.claim_type == t and r.match == "any" for r in rules) for t in types):
        levels.add("other")
    return levels


COMPLETION_COLUMNS = ("payer", "incurred_month", "paid_on", "paid_month", "allowed_amount", "paid_amount")


def completion_lines(medical_claim: ir.Table, pharmacy_claim: ir.Table | None, services: FinancialTargetServices,
                     by_category: bool = False) -> ir.Table:
    """The final-action lines the completion triangles count: those whose level-1 category is included in the
    financial target (:data:`COMPLETION_COLUMNS`, and ``service_category_1`` when ``by_category``).

    Categories are worked out only where they decide: a claim kind whose every reachable category is included is
    taken whole, and one with none included is not read. In the Vermont pack every medical category counts and
    pharmacy does not, so the triangle reads the medical lines and none of the fills (at 630k persons 5.3 s for
    every line categorised, 1.9-2.0 s for the medical lines alone)."""
    included = set(services.include_categories)
    parts = []
    for kind, claims, lines_of in (("medical", medical_claim, medical_lines),
                                   ("pharmacy", pharmacy_claim, pharmacy_lines)):
        reachable = reachable_level_1(kind)
        if claims is None or not reachable & included:
            continue
        if reachable <= included and not by_category:
            parts.append(lines_of(claims).select(*COMPLETION_COLUMNS))
            continue
        named = with_categories(lines_of(claims))
        named = named.filter(named.service_category_1.isin(sorted(included)))
        parts.append(named.select(*COMPLETION_COLUMNS, *(["service_category_1"] if by_category else [])))
    if not parts:  # nothing counts: an empty triangle
        none = medical_lines(medical_claim).select(*COMPLETION_COLUMNS)
        return none.filter(ibis.literal(False))
    return ibis.union(*parts, distinct=False)


def payer_types(enrollment: ir.Table) -> ir.Table:
    """A payer's usual payer type, for spend outside its enrollment months."""
    return enrollment.group_by("payer").aggregate(fallback_payer_type=enrollment.payer_type.min())


def span_months(enrollment: ir.Table) -> ir.Table:
    """(person_id, payer, payer_type, first, last): each enrollment span with its first and last month index."""
    return enrollment.select("person_id", "payer", "payer_type", first=month_index(enrollment.enrollment_start_date),
                             last=month_index(enrollment.enrollment_end_date))


def pair_coverage(enrollment: ir.Table) -> ir.Table:
    """(``_pid``, ``_payer``, ``_spans``, ``_type``, ``_first``, ``_last``, ``_several``): every (person, payer) pair
    enrolled, with its number of spans and, for a pair of one span, that span's payer type and first and last
    month; for a pair of several spans, the spans themselves (``_several``: first, last, payer_type), null for
    the rest. A claim of a one-span pair takes that type in those months and none outside; one of a pair with
    several spans (8% of pairs at 630k persons) looks for the spans touching its month in the pair's list."""
    e = span_months(enrollment)
    span = ibis.struct({"first": e.first, "last": e.last, "payer_type": e.payer_type})
    return e.group_by(_pid=e.person_id, _payer=e.payer).aggregate(
        _spans=e.count(), _type=e.payer_type.min(), _first=e.first.min(), _last=e.last.max(),
        _several=ibis.ifelse(e.count() > 1, span.collect(), ibis.null(f"array<{span.type()}>")))


def pair_payer_type(joined: ir.Table, month: ir.IntegerValue) -> ir.StringValue:
    """The payer type of a claim incurred in ``month`` from its pair's :func:`pair_coverage` (joined): the one
    span's type if the span touches the month, else the type of the spans touching it (the first by name if
    two); null when no span of the pair does, or the pair has none."""
    one = ibis.ifelse(month.between(joined._first, joined._last), joined._type, ibis.null("string"))
    touching = joined._several.filter(lambda s: month.between(s["first"], s["last"]))
    return ibis.ifelse(joined._spans == 1, one, touching.map(lambda s: s["payer_type"]).mins())


def _cells(lines: ir.Table, width: int, paid_through: ir.DateValue | None) -> ir.Table:
    """Spend per person, payer and cell (incurred month x ``width`` + category) of lines paid by ``paid_through``.
    Month and category are grouped as one integer: three keys hash faster than four (8.1 s -> 7.1 s for the
    33.9M lines of 630k persons)."""
    if paid_through is not None:
        paid_on = lines.paid_on if "paid_on" in lines.columns else ibis.coalesce(lines.paid_date, lines.incurred_date)
        lines = lines.filter(paid_on <= paid_through)
    cell = (lines.incurred_month * width + lines.category_id).cast("int32")
    return lines.group_by(["person_id", "payer", cell.name("_cell")]).aggregate(
        allowed_amount=lines.allowed_amount.sum(), paid_amount=lines.paid_amount.sum(), lines=lines.count())


def spend_grain(lines: ir.Table | Sequence[ir.Table], enrollment: ir.Table, paid_through: ir.DateValue | None = None,
                stage: Stage = lazy) -> ir.Table:
    """Spend per person, incurred month, payer and service category, in the narrow form that is stored: person_id,
    payer, payer_type (the claim's), enrolled, month_index, category_id, allowed_amount, paid_amount, lines
    (:func:`spend_columns` adds the rest). The claim's payer type comes from the enrollment spans of the same
    person and payer touching the incurred month. ``paid_through`` keeps only lines paid on or before that date
    (an as-of view for completion). ``lines`` may be a list of tables whose categories differ (one per claim
    kind: each kind has its own category numbers), grouped each on its own: two smaller groupings than one of
    their union (at 630k persons, 20.5M medical lines and 14.8M fills: `cost_spend` 12.9-13.3 s against
    13.7-14.2 s).

    ``stage`` computes the pairs' coverage (:func:`pair_coverage`) on its own first. Its list of spans is an
    aggregate DuckDB cannot spill: grouped in the same query as the lines, it held memory the lines' grouping
    needed, and the query ran out of memory at random (1 run in 8 to 12 at 630k persons and the 1.2 GB limit;
    every run at 600 MB, which passes with the pairs stored)."""
    width = len(service_categories())
    parts = [lines] if isinstance(lines, ir.Table) else list(lines)
    cells = ibis.union(*[_cells(part, width, paid_through) for part in parts], distinct=False)
    grouped = cells.select("person_id", "payer", incurred_month=quotient(cells._cell, width),
                           category_id=(cells._cell % width).cast("int16"), allowed_amount=cells.allowed_amount,
                           paid_amount=cells.paid_amount, lines=cells.lines)
    # One join on the pair types every spend row (17.7M at 630k persons): by the one span's months, or by the list
    # of spans of the pairs with several. With a second join, on the month, for those pairs (expanded into 0.97M
    # months), typing the stored groups took 2.9 s, and 1.6 s as one join; in the query that writes them, about
    # 0.3 s less (docs/cost.md). Pairs with no enrollment with that payer match no pair.
    pairs = stage("spend_enrollment_pairs", pair_coverage(enrollment))
    joined = grouped.left_join(pairs, [grouped.person_id == pairs._pid, grouped.payer == pairs._payer])
    fallback = payer_types(enrollment)
    joined = joined.left_join(fallback, joined.payer == fallback.payer)
    claim_type = pair_payer_type(joined, joined.incurred_month)
    return joined.select(
        person_id=joined.person_id, payer=joined.payer,
        payer_type=ibis.coalesce(claim_type, joined.fallback_payer_type, ibis.literal("other")),
        enrolled=claim_type.notnull(), month_index=joined.incurred_month, category_id=joined.category_id,
        allowed_amount=joined.allowed_amount.cast(MONEY), paid_amount=joined.paid_amount.cast(MONEY),
        lines=joined.lines.cast("int64"),
    )


# What spending reads of a service line: claim ids, data source and dates stay behind.
COST_LINE_COLUMNS = ("person_id", "payer", "incurred_month", "paid_on", "paid_month", "category_id",
                     "allowed_amount", "paid_amount")


def claim_spend(medical_claim: ir.Table, pharmacy_claim: ir.Table | None, enrollment: ir.Table,
                paid_through: ir.DateValue, medical_superseded: ir.Table | None = None,
                pharmacy_superseded: ir.Table | None = None, stage: Stage = lazy) -> ir.Table:
    """:func:`spend_grain` of the claims as loaded (or final-action lines), less the ``*_superseded`` versions
    (intake's lists; worked out from the lines when None). The lines are grouped as they are read, not stored
    (stored first, the 33.9M lines of 630k persons took 10 s to write and read back). ``stage``: as in
    :func:`spend_grain`."""
    kinds = [medical_lines(final_action(medical_claim, medical_superseded)).select(*COST_LINE_COLUMNS)]
    if pharmacy_claim is not None:
        kinds.append(pharmacy_lines(final_action(pharmacy_claim, pharmacy_superseded)).select(*COST_LINE_COLUMNS))
    return spend_grain(kinds, enrollment, paid_through, stage)


def spend_columns(spend: ir.Table, services: FinancialTargetServices | None = None) -> ir.Table:
    """:func:`spend_grain` with year, month, claim kind, category names (beside ``category_id``) and whether the
    services count (``financial_target``, per ``services``): computed where read, not stored."""
    named = with_categories(spend)
    return named.select("person_id", "payer", "payer_type", "enrolled", "month_index", "category_id", "claim_kind",
                        "service_category_1", "service_category_2", "allowed_amount", "paid_amount", "lines",
                        year=(named.month_index // 12).cast("int64"),
                        month=(named.month_index % 12 + 1).cast("int64"),
                        financial_target=is_target_service(named, services or FinancialTargetServices()))


def incurred_spend(lines: ir.Table, enrollment: ir.Table, services: FinancialTargetServices | None = None,
                   paid_through: ir.DateValue | None = None) -> ir.Table:
    """Spend per person, incurred month, payer and service category (:func:`spend_grain` with
    :func:`spend_columns`): person_id, payer, payer_type (the claim's), enrolled, month_index, category_id, claim_kind,
    service_category_1, service_category_2, allowed_amount, paid_amount, lines, year, month, financial_target."""
    return spend_columns(spend_grain(lines, enrollment, paid_through), services)


def spend_by_category(spend: ir.Table, services: FinancialTargetServices) -> ir.Table:
    """Spend by year, payer type and service category (both levels), enrolled and not, with whether the services
    count (``financial_target``, per ``services``). ``spend``: :func:`spend_grain`'s columns (or more).

    Grouped on the category's number, and named after: naming each of 17.7M spend rows (630k persons) and grouping
    on the names took twice as long."""
    year = year_of(spend.month_index).name("year")
    g = spend.group_by([year, "payer_type", "enrolled", "category_id"]).aggregate(
        allowed_amount=spend.allowed_amount.sum(), paid_amount=spend.paid_amount.sum(), lines=spend.lines.sum())
    named = with_categories(g)
    named = named.mutate(financial_target=is_target_service(named, services))
    # Two claim kinds may share a category's names: added up again over the few rows.
    return named.group_by(["year", "payer_type", "enrolled", "service_category_1", "service_category_2",
                           "financial_target"]).aggregate(
        allowed_amount=named.allowed_amount.sum().cast(MONEY), paid_amount=named.paid_amount.sum().cast(MONEY),
        lines=named.lines.sum().cast("int64"))
