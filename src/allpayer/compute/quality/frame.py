"""The common frame of every claims-based measure: the measured population, tagged claims, and the
``measure frame`` each measure returns.

A measure frame has one row per *unit* (a person, or an event such as an ED visit or a discharge):

``measure_id, program_id, year, practice_id, person_id, unit_date, denominator, numerator, excluded``

``denominator`` is the unit's weight (1 for a person or an event; member-years for ED visits per 1,000),
``numerator`` its count towards the numerator; ``excluded`` units are counted as exclusions and left out of
both. ``rate = sum(numerator) / sum(denominator) x unit scale`` over units that are not excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.final_action import final_action, final_action_among, superseded_versions
from allpayer.compute.risk import DIAGNOSIS_COLUMNS, age_on, filled_values
from allpayer.compute.risk_hcc import normal_diagnosis
from allpayer.compute.stage import Stage, lazy

STAY_VALUE_SET = "acute_inpatient"  # claims whose headers (admission, discharge) the measures read
FRAME_COLUMNS = {"measure_id": "string", "program_id": "string", "year": "int64", "practice_id": "string",
                 "person_id": "string", "unit_date": "date", "denominator": "float64", "numerator": "float64",
                 "excluded": "boolean"}


def population(attribution_month: ir.Table, person: ir.Table) -> ir.Table:
    """One row per program, year and attributed person: ``practice_id`` of the latest attributed month,
    ``months`` attributed, ``age`` on 31 December, ``sex``."""
    am = attribution_month
    # One grouping: a person's months within a program-year are distinct (periods do not share months), so the
    # practice of the latest month is an arg-max. A window ranking the months, joined to a grouping that counted
    # them, took 1.4-1.6 s at 630k persons.
    latest = am.group_by(["program_id", "year", "person_id"]).aggregate(
        practice_id=am.practice_id.argmax(am.month_index), _months=am.month_index.nunique())
    p = person.select(_pid=person.person_id, birth_date=person.birth_date, sex=person.sex)
    j = latest.join(p, latest.person_id == p._pid)
    return j.select("program_id", year=j.year.cast("int64"), person_id=j.person_id, practice_id=j.practice_id,
                    months=j._months.cast("int64"), age=age_on(j.birth_date, j.year.cast("int64"), 12, 31),
                    sex=j.sex)


# A claim is named by its data source and id, kept as two columns. A concatenated key was 16-24 characters, too
# long for DuckDB to keep inside the row: making the 31M tag rows distinct and ordered took 11.5 s on it, 8.9 s
# on the two columns, at 630k persons.
CLAIM_KEY = ("data_source", "claim_id")


def _bill_type(code: ir.StringValue) -> ir.StringValue:
    """UB-04 type of bill without the leading zero ('0111' -> '111')."""
    return ibis.ifelse((code.length() == 4) & code.startswith("0"), code.substr(1), code)


def value_set_ids(value_sets: pa.Table) -> dict[str, int]:
    """Each value set's number in the stored tags (by name). Tags carry the number, not the name: making 31M tag
    rows distinct and ordering them at 630k persons took 10.5 s on the names and 6.8 s on numbers."""
    return {name: number for number, name in enumerate(sorted(set(value_sets["value_set"].to_pylist())))}


@dataclass(frozen=True)
class ClaimFacts:
    """``claims``: one row per final-action medical claim tagged :data:`STAY_VALUE_SET`, the only claims a measure
    reads whole (:data:`CLAIM_KEY`, person, dates, principal diagnosis, discharge status); ``tags``:
    (data_source, claim_id, person_id, service_date, value_set_id, principal) for every value set a claim or
    pharmacy fill matches (``principal``: matched by diagnosis position 1), read through :meth:`tagged` and
    :meth:`tagged_any`, which know the numbers (``value_set_ids``). A value set the configuration does not have
    tags nothing."""

    claims: ir.Table
    tags: ir.Table
    value_set_ids: Mapping[str, int]

    def tagged(self, value_set: str, principal: bool = False) -> ir.Table:
        """(data_source, claim_id, person_id, service_date, value_set_id, principal) of the claims in
        ``value_set``."""
        t = self.tags.filter(self.tags.value_set_id == self.value_set_ids.get(value_set, -1))
        return t.filter(t.principal) if principal else t

    def tagged_any(self, value_sets: Sequence[str], principal: bool = False) -> ir.Table:
        """:meth:`tagged` for any of ``value_sets``, with the set's name (``value_set``)."""
        named = [(self.value_set_ids[v], v) for v in value_sets if v in self.value_set_ids]
        t = self.tags.filter(self.tags.value_set_id.isin([number for number, _ in named] or [-1]))
        t = t.filter(t.principal) if principal else t
        return t.mutate(value_set=t.value_set_id.cases(*named, else_=ibis.null("string")) if named
                        else ibis.null("string"))

    def dates(self, value_set: str) -> ir.Table:
        """Distinct (person_id, service_date) with a claim in the value set."""
        return self.tagged(value_set).select("person_id", "service_date").distinct()


def claim_headers(lines: ir.Table, keys: ir.Table, superseded: ir.Table) -> ir.Table:
    """One row per claim of ``keys`` (:data:`CLAIM_KEY`) from its final-action lines (``lines`` as loaded, less
    the ``superseded`` versions). The lines are kept to the keys' claims before final action: the other way
    round, final action read every line (20M at 630k persons) for the few percent of claims kept."""
    keyed = final_action(lines.semi_join(keys, list(CLAIM_KEY)), superseded)
    return keyed.group_by(list(CLAIM_KEY)).aggregate(
        person_id=keyed.person_id.max(), claim_type=keyed.claim_type.max(),
        service_date=keyed.claim_start_date.min(),
        admission_date=ibis.coalesce(keyed.admission_date, keyed.claim_start_date).min(),
        discharge_date=ibis.coalesce(keyed.discharge_date, keyed.claim_end_date, keyed.claim_start_date).max(),
        discharge_disposition_code=keyed.discharge_disposition_code.max(),
        bill_type=_bill_type(keyed.bill_type_code).max(),
        principal_dx=keyed.diagnosis_code_1.max(),
    )


# Each coded column of a medical line: (column, code system, the code as value sets write it). Codes are matched
# on their values as stored (see code_matches), so the normal form is computed for distinct values only.
CODE_FIELDS: dict[str, tuple[str, str, Callable[[ir.StringValue], ir.StringValue]]] = {
    "hcpcs": ("hcpcs_code", "hcpcs", lambda v: v.upper()),
    "revenue": ("revenue_center_code", "revenue", lambda v: v.lpad(4, "0")),
    "pos": ("place_of_service_code", "pos", lambda v: v),
    "bill_type": ("bill_type_code", "bill_type", _bill_type),
    "principal_diagnosis": (DIAGNOSIS_COLUMNS[0], "icd10cm", normal_diagnosis),
}
# A measured line's other diagnosis positions, as one list of the filled ones (:func:`measured_lines`)
SECONDARY = ("secondary_diagnoses", "icd10cm", normal_diagnosis)
NDC = ("ndc_code", "ndc", lambda v: v)


def _filled(value: ir.StringValue) -> ir.BooleanValue:
    return value.notnull() & (value != "")


def claim_codes(lines: ir.Table, fills: ir.Table | None) -> ir.Table:
    """Long (data_source, claim_id, person_id, service_date, system, stored, principal): one row per filled code
    position of every line of ``lines`` (:func:`measured_lines`) and of every pharmacy fill of ``fills``
    (``data_source`` prefixed ``rx:``, so no medical claim shares its key); ``stored`` is the code as the claim has
    it. Not made distinct: a claim's lines repeat its diagnoses, and :func:`tag` makes far fewer rows distinct.

    A union of one narrow select per coded column over the lines as stored. DuckDB runs it about five times
    faster than an unpivot, which builds a list of every position of every line (4 s against 21 s for 20M lines
    at 630k persons). The branches must share nothing but a stored table: DuckDB materialises a common table
    expression used more than once, and one holding every claim column spilled 20 GB."""
    def positions(kept: ir.Table, system: str, stored: ir.StringValue, principal: bool) -> ir.Table:
        return kept.select(data_source=kept.data_source, claim_id=kept.claim_id, person_id=kept.person_id,
                           service_date=kept.claim_start_date, system=ibis.literal(system), stored=stored,
                           principal=ibis.literal(principal))

    branches = []
    for field, (column, system, _) in CODE_FIELDS.items():
        if column in lines.columns:
            kept = lines.filter(_filled(lines[column]))
            branches.append(positions(kept, system, kept[column], field == "principal_diagnosis"))
    column, system, _ = SECONDARY
    if column in lines.columns:
        kept = lines.filter(lines[column].notnull())
        branches.append(positions(kept, system, kept[column].unnest(), False))
    if fills is not None:
        rx = fills.filter(_filled(fills.ndc_code))
        branches.append(rx.select(data_source=ibis.literal("rx:").concat(rx.data_source), claim_id=rx.claim_id,
                                  person_id=rx.person_id, service_date=rx.dispensing_date,
                                  system=ibis.literal("ndc"), stored=rx.ndc_code, principal=ibis.literal(False)))
    return ibis.union(*branches, distinct=False)


def distinct_codes(lines: ir.Table, fills: ir.Table | None) -> ir.Table:
    """(system, stored, code): every distinct stored value of the coded columns of ``lines`` and of ``fills``'
    NDCs, with its normal form (``code``: as value sets write it). Each column is made distinct on its own before
    its values are normalised: a few hundred values, not one per line."""
    coded = [(lines, lines[column], system, normal) for column, system, normal in CODE_FIELDS.values()
             if column in lines.columns]
    column, system, normal = SECONDARY
    if column in lines.columns:
        coded.append((lines, lines[column].unnest(), system, normal))
    if fills is not None:
        coded.append((fills, fills[NDC[0]], *NDC[1:]))
    parts = []
    for table, stored, system, normal in coded:
        values = table.select(stored=stored).distinct()
        values = values.filter(_filled(values.stored))
        parts.append(values.select(system=ibis.literal(system), stored=values.stored, code=normal(values.stored)))
    return ibis.union(*parts, distinct=True)


def code_matches(codes: ir.Table, value_sets: pa.Table, ids: Mapping[str, int]) -> ir.Table:
    """(system, stored, value_set_id, first_year, last_year) for every stored code of ``codes``
    (:func:`distinct_codes`) that a value set matches (``ids``: :func:`value_set_ids` of ``value_sets``): exact
    codes by equality of the normal form (``prefix_length`` 0), prefixes by its first ``prefix_length`` characters.

    Each code is paired with every prefix length the value sets use (a handful) and joined once."""
    vs = ibis.memtable(value_sets.append_column("value_set_id", pa.array(
        [ids[name] for name in value_sets["value_set"].to_pylist()], pa.int16())))
    lengths = ibis.memtable(pa.table({"_length": sorted(set(value_sets["prefix_length"].to_pylist()) | {0})}))
    keyed = codes.cross_join(lengths)
    keyed = keyed.mutate(_key=ibis.ifelse(keyed._length == 0, keyed.code, keyed.code.substr(0, keyed._length)))
    j = keyed.join(vs, (keyed.system == vs.system) & (keyed._key == vs.code) & (keyed._length == vs.prefix_length))
    return j.select(keyed.system, keyed.stored, vs.value_set_id, vs.first_year, vs.last_year)


def tag(codes: ir.Table, matches: ir.Table) -> ir.Table:
    """(data_source, claim_id, person_id, service_date, value_set_id, principal) of each code position ``codes``
    has, joined on its stored value to its :func:`code_matches` in force in the service year. Not distinct."""
    m = matches.rename(_system="system", _stored="stored")
    year = codes.service_date.year().cast("int64")
    j = codes.join(m, (codes.system == m._system) & (codes.stored == m._stored)
                   & (year >= m.first_year) & (year <= m.last_year))
    return j.select(*CLAIM_KEY, "person_id", "service_date", "value_set_id", "principal")


# What claim_codes reads of a medical line
CODED_COLUMNS = ("data_source", "claim_id", "person_id", "claim_start_date",
                 *(column for column, _, _ in CODE_FIELDS.values()))


def measured_lines(lines: ir.Table, superseded: ir.Table, persons: ir.Table | None = None) -> ir.Table:
    """The final-action lines of ``persons`` (``person_id``; everyone when None), only the columns
    :func:`claim_codes` reads: the diagnoses after the first as one list of the filled positions
    (``secondary_diagnoses``, null when none), not 24 columns mostly empty."""
    kept = final_action(lines if persons is None else lines.semi_join(persons, "person_id"), superseded)
    secondary = [c for c in DIAGNOSIS_COLUMNS[1:] if c in kept.columns]
    listed = {SECONDARY[0]: filled_values(kept, secondary)} if secondary else {}
    return kept.select(*[c for c in CODED_COLUMNS if c in kept.columns], **listed)


def matched_fills(pharmacy_claim: ir.Table, matches: ir.Table, superseded: ir.Table | None,
                  persons: ir.Table | None) -> ir.Table:
    """The final-action pharmacy fills of ``persons`` (everyone when None) whose NDC a value set matches
    (:func:`code_matches`, any year: :func:`tag` checks the year). Kept to those NDCs and persons before final
    action, so its anti-join reads only them: at 630k persons 52k of 14.8M fills (123k with the NDC, of any
    person), where the persons alone kept 5.6M."""
    ndc = matches.filter(matches.system == NDC[1]).select(_ndc="stored")
    mine = pharmacy_claim.semi_join(ndc, pharmacy_claim.ndc_code == ndc._ndc)
    mine = mine if persons is None else mine.semi_join(persons, "person_id")
    return final_action_among(pharmacy_claim, mine, superseded)


def claim_facts(medical_claim: ir.Table, pharmacy_claim: ir.Table | None, value_sets: pa.Table,
                stage: Stage | None = None, medical_superseded: ir.Table | None = None,
                pharmacy_superseded: ir.Table | None = None, persons: ir.Table | None = None) -> ClaimFacts:
    """Claim headers and value-set tags of the final-action claims of ``persons`` (``person_id``: the measured
    population; everyone when None). ``medical_claim`` and ``pharmacy_claim`` are the lines as loaded, every
    version; ``*_superseded`` the versions final action drops, as intake stores them
    (:mod:`allpayer.intake.superseded`), worked out here when not given.

    The measured persons' final-action lines are stored first (``q_lines``), with the code columns only: at 630k
    persons the population is a third of the persons and 40% of the lines (8.1M of 20.5M), and tagging them takes
    3.9 + 0.4 + 5.4 s (lines, code matches, tags) where every line took 3.5 + 15.5 + 12 s (code matches, hits
    less superseded versions, tags)."""
    keep = stage or lazy
    superseded = medical_superseded if medical_superseded is not None else keep(
        "q_superseded", superseded_versions(medical_claim))
    lines = keep("q_lines", measured_lines(medical_claim, superseded, persons))
    ids = value_set_ids(value_sets)
    # Matched on the stored values of the measured lines, and on every fill's NDC as loaded: more NDCs than the
    # final fills of the population have, but no join to find them.
    matches = keep("q_code_matches", code_matches(distinct_codes(lines, pharmacy_claim), value_sets, ids))
    fills = None if pharmacy_claim is None else matched_fills(pharmacy_claim, matches, pharmacy_superseded, persons)
    codes = claim_codes(lines, fills)
    # A claim matching a value set by a principal and a secondary diagnosis keeps both rows (principal flag).
    # Ordered by value set: every measure reads a few value sets, and a stored file's row groups then hold one
    # value set each, so the rest are skipped.
    tags = keep("q_tags", tag(codes, matches).distinct().order_by("value_set_id"))
    # Headers of every claim cost 11 s and most of quality's memory at 630k persons; stays are a few percent
    stay_keys = tags.filter(tags.value_set_id == ids.get(STAY_VALUE_SET, -1)).select(*CLAIM_KEY).distinct()
    claims = keep("q_claims", claim_headers(medical_claim, stay_keys, superseded))
    return ClaimFacts(claims=claims, tags=tags, value_set_ids=ids)


def frame(measure_id: str, units: ir.Table) -> ir.Table:
    """Conform a measure's units (program_id, year, practice_id, person_id, unit_date, denominator,
    numerator, excluded) to :data:`FRAME_COLUMNS`."""
    cols = {c: units[c] for c in FRAME_COLUMNS if c != "measure_id"}
    cols["excluded"] = cols["excluded"].fill_null(False)
    cols["numerator"] = cols["numerator"].fill_null(0)
    out = units.select(measure_id=ibis.literal(measure_id), **cols)
    return out.select(**{c: out[c].cast(t) for c, t in FRAME_COLUMNS.items()})


def in_ages(pop: ir.Table, min_age: int | None, max_age: int | None) -> ir.Table:
    keep = ibis.literal(True)
    if min_age is not None:
        keep &= pop.age >= min_age
    if max_age is not None:
        keep &= pop.age <= max_age
    return pop.filter(keep)


def attach(t: ir.Table, other: ir.Table, keys: tuple[str, ...] = ("person_id", "year")) -> ir.Table:
    """Left join on equal ``keys``, keeping one copy of each key column."""
    j = t.left_join(other, list(keys))
    return j.drop(*[f"{k}_right" for k in keys if f"{k}_right" in j.columns])


def flag(pop: ir.Table, hits: ir.Table, name: str, keys: tuple[str, ...] = ("person_id", "year")) -> ir.Table:
    """``pop`` with a boolean column ``name``: whether (person_id, year) appears in ``hits``."""
    j = attach(pop, hits.select(*keys).distinct().mutate(**{name: ibis.literal(True)}), keys)
    return j.mutate(**{name: j[name].fill_null(False)})


def in_year(t: ir.Table, date_col: str = "service_date") -> ir.Table:
    """(person_id, year) pairs of dated rows."""
    return t.select("person_id", year=t[date_col].year().cast("int64"))


def days_between(later: ir.DateValue, earlier: ir.DateValue) -> ir.IntegerValue:
    return (later.epoch_days() - earlier.epoch_days()).cast("int64")


def person_frame(measure_id: str, pop: ir.Table, numerator: ir.Table, exclusions: list[ir.Table]) -> ir.Table:
    """A person-level measure: every person of ``pop`` is a unit; ``numerator`` and each of ``exclusions`` are
    (person_id, year) hits."""
    t = flag(pop, numerator, "_num")
    excluded = ibis.literal(False)
    for i, hits in enumerate(exclusions):
        t = flag(t, hits, f"_ex{i}")
        excluded |= t[f"_ex{i}"]
    return frame(measure_id, t.mutate(unit_date=ibis.null().cast("date"), denominator=ibis.literal(1.0),
                                      numerator=ibis.ifelse(t._num, 1.0, 0.0), excluded=excluded))


def hospice(facts: ClaimFacts) -> ir.Table:
    """(person_id, year) with hospice care in the year: the common exclusion of person-level measures."""
    return in_year(facts.tagged("hospice"))
