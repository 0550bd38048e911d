"""Set-based validation of staged rows: checks, quarantine and typed accepted rows (pure Ibis)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from allpayer.intake.contract import Code, Column, DateOrder, Kind, Table
from allpayer.intake.parse import code_ok, is_text, luhn_ok, npi_number, parse, present
from allpayer.intake.rules import PRECEDENCE, RULES

_CODE_RULES = {
    Code.NPI: "NPI_LUHN",
    Code.ICD10CM: "ICD10CM_FORMAT",
    Code.HCPCS: "HCPCS_FORMAT",
    Code.NDC: "NDC_FORMAT",
}
NON_NEGATIVE_QUANTITIES = ("service_unit_quantity", "quantity", "days_supply", "refills")
MAX_DAYS_SUPPLY = 365


@dataclass(frozen=True)
class IntakeSettings:
    """Plausibility bounds; ``max_date`` defaults to the day of the load."""

    min_date: dt.date = dt.date(1900, 1, 1)
    max_date: dt.date = field(default_factory=dt.date.today)
    max_line_amount: Decimal = Decimal("10000000")


@dataclass(frozen=True)
class InputSpec:
    """What one kind of input file must satisfy, built from one or more contract tables."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    date_orders: tuple[DateOrder, ...] = ()
    amount_columns: tuple[str, ...] = ()
    needs_enrollment: bool = False

    @classmethod
    def of(cls, table: Table, *extra: Table, name: str | None = None, needs_enrollment: bool = False,
           date_orders: tuple[DateOrder, ...] = ()) -> InputSpec:
        columns = list(table.columns)
        for other in extra:
            columns += [c for c in other.columns if c.name not in {x.name for x in columns}]
        return cls(name or table.name, tuple(columns), table.primary_key, table.date_orders + date_orders,
                   table.amount_columns, needs_enrollment)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Check:
    rule: str
    field: str
    violated: ir.BooleanValue
    detail: ir.StringValue


def _quoted(value: ir.Value) -> ir.StringValue:
    return ibis.literal("'") + value.cast("string").fill_null("") + ibis.literal("'")


def _column_checks(raw: ir.Table, column: Column, parsed: ir.Value, settings: IntakeSettings) -> list[Check]:
    """``raw`` carries ``_n_<name>`` (:func:`npi_number`) for NPI columns."""
    value = present(raw[column.name])
    name = column.name
    checks: list[Check] = []
    if column.kind is not Kind.STRING and is_text(value):
        checks.append(Check("TYPE_UNPARSABLE", name, value.notnull() & parsed.isnull(),
                            f"{name}: not a valid {column.kind.value}, got " + _quoted(value)))
    if column.required:
        checks.append(Check("REQUIRED_MISSING", name, parsed.isnull() & value.isnull(),
                            ibis.literal(f"{name}: required value is missing")))
    if column.code is not None:
        valid = luhn_ok(raw[f"_n_{name}"]) if column.code is Code.NPI else code_ok(parsed, column.code)
        checks.append(Check(_CODE_RULES[column.code], name, parsed.notnull() & ~valid,
                            f"{name}: {RULES[_CODE_RULES[column.code]].message}, got " + _quoted(value)))
    if column.allowed:
        checks.append(Check("VALUE_NOT_ALLOWED", name, parsed.notnull() & ~parsed.isin(column.allowed),
                            f"{name}: expected one of {', '.join(column.allowed)}, got " + _quoted(value)))
    if column.kind is Kind.DATE:
        out = (parsed < settings.min_date) | (parsed > settings.max_date)
        checks.append(Check("DATE_OUT_OF_RANGE", name, out.fill_null(False),
                            f"{name}: outside {settings.min_date}..{settings.max_date}, got " + _quoted(value)))
    return checks


def _date_order_check(parsed: dict[str, ir.Value], order: DateOrder) -> Check:
    start, end = parsed[order.start], parsed[order.end]
    return Check("DATE_ORDER", order.end, (end < start).fill_null(False),
                 f"{order.end} " + end.cast("string") + f" is before {order.start} " + start.cast("string"))


def _amount_checks(parsed: dict[str, ir.Value], spec: InputSpec, settings: IntakeSettings) -> list[Check]:
    checks = []
    may_be_negative = parsed["claim_status"] == "reversal" if "claim_status" in parsed else ibis.literal(False)
    limit = settings.max_line_amount
    for name in spec.amount_columns:
        amount = parsed[name]
        bad = (amount.abs() >= limit) | ((amount < 0) & ~may_be_negative)
        checks.append(Check("AMOUNT_IMPOSSIBLE", name, bad.fill_null(False),
                            f"{name}: impossible amount " + amount.cast("string")))
    for name in NON_NEGATIVE_QUANTITIES:
        if name in parsed:
            bad = parsed[name] < 0
            if name == "days_supply":
                bad = bad | (parsed[name] > MAX_DAYS_SUPPLY)
            checks.append(Check("AMOUNT_IMPOSSIBLE", name, bad.fill_null(False),
                                f"{name}: impossible quantity " + parsed[name].cast("string")))
    return checks


def _warning_checks(parsed: dict[str, ir.Value]) -> list[Check]:
    if "paid_amount" not in parsed or "allowed_amount" not in parsed:
        return []
    paid, allowed = parsed["paid_amount"], parsed["allowed_amount"]
    # Reversals carry negated amounts, so compare sizes, not signed values.
    over = paid.abs() > allowed.abs()
    return [Check("PAID_OVER_ALLOWED", "paid_amount", over.fill_null(False),
                  "paid_amount " + paid.cast("string") + " exceeds allowed_amount " + allowed.cast("string"))]


def _first(checks: list[Check]) -> tuple[ir.StringValue, ir.StringValue, ir.StringValue]:
    ordered = sorted(checks, key=lambda c: PRECEDENCE.index(c.rule))
    if not ordered:
        null = ibis.null("string")
        return null, null, null
    code = ibis.cases(*[(c.violated, c.rule) for c in ordered], else_=ibis.null("string"))
    field_ = ibis.cases(*[(c.violated, c.field) for c in ordered], else_=ibis.null("string"))
    detail = ibis.cases(*[(c.violated, c.detail) for c in ordered], else_=ibis.null("string"))
    return code, field_, detail


def _all_codes(checks: list[Check]) -> ir.StringValue:
    # One flat concatenation: a chain of hundreds of binary concatenations is a tree that deep, and compiling it
    # cost about a second per input.
    ordered = sorted(checks, key=lambda c: PRECEDENCE.index(c.rule))
    if not ordered:
        return ibis.literal("")
    return ibis.literal("").join([ibis.ifelse(c.violated, f"{c.rule}:{c.field};", "") for c in ordered])


@dataclass(frozen=True)
class _Flagged:
    """Raw rows with parsed values (``_p_*``) and one boolean per check (``_v*``)."""

    table: ir.Table
    checks: list[Check]
    warnings: list[Check]


def _flag(raw: ir.Table, spec: InputSpec, settings: IntakeSettings, enrolled: ir.Table | None) -> _Flagged:
    # Separate projections (parse -> flag -> classify) keep every expression computed once, so
    # neither engine re-evaluates a parse inside each branch of the CASE that picks the first rule.
    raw = _with_missing_columns(raw, spec)
    parsed_table = raw.mutate(**{f"_p_{c.name}": parse(raw[c.name], c) for c in spec.columns},
                              **{f"_n_{c.name}": npi_number(parse(raw[c.name], c))
                                 for c in spec.columns if c.code is Code.NPI})
    parsed = {c.name: parsed_table[f"_p_{c.name}"] for c in spec.columns}
    checks = [chk for c in spec.columns for chk in _column_checks(parsed_table, c, parsed[c.name], settings)]
    checks += [_date_order_check(parsed, order) for order in spec.date_orders]
    checks += _amount_checks(parsed, spec, settings)
    if spec.needs_enrollment and enrolled is not None:
        known = parsed["person_id"].isin(enrolled.person_id)
        checks.append(Check("NO_ENROLLMENT", "person_id", parsed["person_id"].notnull() & ~known.fill_null(False),
                            "person_id: no accepted enrollment for " + _quoted(parsed["person_id"])))
    warns = _warning_checks(parsed)
    everything = checks + warns
    flagged = parsed_table.mutate(**{f"_v{i}": c.violated for i, c in enumerate(everything)})
    rebound = [Check(c.rule, c.field, flagged[f"_v{i}"], _rebind(c.detail, parsed_table, flagged))
               for i, c in enumerate(everything)]
    return _Flagged(flagged, rebound[: len(checks)], rebound[len(checks):])


def _rebind(expr: ir.Value, old: ir.Table, new: ir.Table) -> ir.Value:
    """The same expression over ``new``, a projection of ``old`` that keeps all its columns."""
    return expr.op().replace({old.op(): new.op()}).to_expr()


def check(raw: ir.Table, spec: InputSpec, settings: IntakeSettings, enrolled: ir.Table | None = None) -> ir.Table:
    """Every input row once, narrow: lineage, the parsed primary key, and the code of the first failing rule
    (``rule_code``) and first warning (``warn_code``), null where none.

    Duplicate keys are judged separately (:func:`duplicate_rows`, :func:`mark_duplicates`) so the sort
    they need runs on this narrow table. Typed rows come from :func:`accepted_rows`; messages, every failing
    rule and raw values from :func:`findings`, for flagged rows only.
    """
    table, code, warn_code = _coded(raw, spec, settings, enrolled)
    return table.select(
        **{k: table[f"_p_{k}"] for k in spec.primary_key},
        source_file=table.source_file, source_row=table.source_row, rule_code=code, warn_code=warn_code,
    )


def _coded(raw: ir.Table, spec: InputSpec, settings: IntakeSettings, enrolled: ir.Table | None
           ) -> tuple[ir.Table, ir.StringValue, ir.StringValue]:
    """The flagged rows (:func:`_flag`) with the code of their first failing rule and first warning."""
    flagged = _flag(raw, spec, settings, enrolled)
    code, _, _ = _first(flagged.checks)
    warn_code, _, _ = _first(flagged.warnings)
    return flagged.table, code, warn_code


def checked_rows(raw: ir.Table, spec: InputSpec, settings: IntakeSettings, enrolled: ir.Table | None,
                 table: Table, nulls: Collection[str] = ()) -> ir.Table:
    """Every input row once, typed as ``table`` says (its columns as :func:`accepted` gives them, the ``nulls``
    columns as typed null literals), with lineage and ``rule_code`` and ``warn_code`` as :func:`check` gives them:
    the checks and the typed rows in one pass. Rows are never rejected in most loads, and then the typed rows are
    the canonical table as they are (:func:`accepted` of them); otherwise :func:`without_rejected` filters them."""
    rows, code, warn_code = _coded(raw, spec, settings, enrolled)
    return rows.select(**{c.name: ibis.null(c.ibis_type) if c.name in nulls else rows[f"_p_{c.name}"].cast(c.ibis_type)
                          for c in table.columns},
                       source_file=rows.source_file, source_row=rows.source_row, rule_code=code, warn_code=warn_code)


def unchanged_copy(raw: ir.Table, spec: InputSpec, settings: IntakeSettings, enrolled: ir.Table | None,
                   table: Table, constants: Collection[str], stored_prefix: str) -> ir.Table:
    """One row: how many rows a rule rejects (``rejected``), a warning flags (``warned``; ``warnings`` lists their
    source_row and warn_code), and trimming or parsing changes (``changed``), against reading the file's stored
    values as they are: text as it is (``<stored_prefix><column>``: the stored text, before staging trims it), or
    tried as the contract's type. Typed columns need no comparing: parsing casts them, as reading the file would.
    With no row rejected or changed, the typed rows are the stored file read with casts, and need not be written
    (:meth:`allpayer.warehouse.Warehouse.adopt_input`). ``constants``: columns the file leaves empty, whose
    parsed value is the same for every row and is not compared."""
    rows, code, warn_code = _coded(raw, spec, settings, enrolled)
    differs = []
    for column in table.columns:
        if column.name in constants or f"{stored_prefix}{column.name}" not in rows.columns:
            continue
        stored = rows[f"{stored_prefix}{column.name}"]
        as_stored = stored if column.ibis_type.is_string() else stored.try_cast(column.ibis_type)
        differs.append(~rows[f"_p_{column.name}"].cast(column.ibis_type).identical_to(as_stored))
    # One n-ary GREATEST, not a chain of ORs: a tree as deep as the columns are many is slow to compile.
    flags = [d.cast("int8") for d in differs] or [ibis.literal(0, "int8")]
    changed = ibis.greatest(*flags) if len(flags) > 1 else flags[0]
    warned = warn_code.notnull()
    return rows.aggregate(rejected=code.notnull().sum(), warned=warned.sum(), changed=changed.sum(),
                          warnings=ibis.struct({"source_row": rows.source_row, "warn_code": warn_code}).collect(
                              where=warned))


def verdicts(typed: ir.Table, spec: InputSpec) -> ir.Table:
    """:func:`check`'s narrow rows, read from :func:`checked_rows`."""
    return typed.select(*spec.primary_key, "source_file", "source_row", "rule_code", "warn_code")


def clean_verdicts(typed: ir.Table, spec: InputSpec) -> ir.Table:
    """:func:`check`'s narrow rows of typed rows that no rule rejected (:func:`unchanged_copy`)."""
    return typed.select(*spec.primary_key, "source_file", "source_row", rule_code=ibis.null("string"),
                        warn_code=ibis.null("string"))


def with_warnings(verdicts: ir.Table, warnings: ir.Table) -> ir.Table:
    """``verdicts`` of one file with the ``warnings`` (source_row, warn_code) :func:`unchanged_copy` listed. Kept
    out of the duplicate-key check, which reads its rows twice: joined there, even an empty list made the check of
    20M lines take 6.4 s instead of 2 s."""
    w = warnings.rename(_row="source_row", _warn="warn_code")
    j = verdicts.left_join(w, verdicts.source_row == w._row)
    return j.select(*[ibis.coalesce(j.warn_code, j._warn).name(c) if c == "warn_code" else j[c]
                      for c in verdicts.columns])


def parsed(raw: ir.Table, spec: InputSpec) -> ir.Table:
    """Every row's values parsed to the contract's types, with lineage; no checks."""
    raw = _with_missing_columns(raw, spec)
    return raw.select(**{c.name: parse(raw[c.name], c) for c in spec.columns},
                      source_file=raw.source_file, source_row=raw.source_row)


def accepted_rows(raw: ir.Table, checked: ir.Table, spec: InputSpec) -> ir.Table:
    """Parsed rows that passed every rule: all rows but the (few) rejected ones, so the wide typed rows are
    computed once, where they are written, and meet only a small anti-join."""
    return without_rejected(parsed(raw, spec), checked)


def without_rejected(rows: ir.Table, checked: ir.Table) -> ir.Table:
    """``rows`` (with lineage) less those ``checked`` (verdicts, duplicates marked) rejects."""
    rejected = checked.filter(checked.rule_code.notnull()).select("source_file", "source_row")
    return rows.anti_join(rejected, ["source_file", "source_row"])


def _with_missing_columns(raw: ir.Table, spec: InputSpec) -> ir.Table:
    """Optional columns absent from the file are added as nulls."""
    absent = {c.name: ibis.null("string") for c in spec.columns if c.name not in raw.columns}
    return raw.mutate(**absent) if absent else raw


def duplicate_rows(checked: ir.Table, spec: InputSpec) -> ir.Table:
    """(source_file, source_row) of rows whose key an earlier row (by file, then row) already holds,
    among rows that passed every other rule.

    Keys are first counted by their hash, a grouping that spills to disk at any size; only rows whose key hash
    repeats (the duplicates and the rare collisions) are then ranked exactly. The count reads the rows in a
    projection of its own: shared with the ranking, the filtered rows were a common table expression, which DuckDB
    stores in full (20M rows, 4.9 s and 1.3 GB at 630k persons)."""
    def key_hash(rows: ir.Table) -> ir.IntegerValue:
        return ibis.struct({k: rows[k] for k in spec.primary_key}).hash()

    counted = checked.select(_key_hash=key_hash(checked), _passed=checked.rule_code.isnull())
    counted = counted.filter(counted._passed)
    repeated = counted.group_by("_key_hash").aggregate(_n=counted.count())
    repeated = repeated.filter(repeated._n > 1).select("_key_hash")
    passed = checked.filter(checked.rule_code.isnull())
    hashed = passed.select(*spec.primary_key, "source_file", "source_row", _key_hash=key_hash(passed))
    candidates = hashed.semi_join(repeated, "_key_hash")
    window = ibis.window(group_by=[candidates[k] for k in spec.primary_key],
                         order_by=[candidates.source_file, candidates.source_row])
    ranked = candidates.mutate(_seen_before=ibis.row_number().over(window))
    return ranked.filter(ranked._seen_before > 0).select("source_file", "source_row")


def mark_duplicates(checked: ir.Table, duplicates: ir.Table) -> ir.Table:
    marked = duplicates.mutate(_duplicate=ibis.literal(True))
    joined = checked.left_join(marked, ["source_file", "source_row"])
    joined = joined.drop(*[c for c in joined.columns if c.endswith("_right")])
    return joined.mutate(rule_code=ibis.ifelse(joined._duplicate.fill_null(False), "DUPLICATE_KEY",
                                               joined.rule_code)).drop("_duplicate")


def resolve(raw: ir.Table, spec: InputSpec, settings: IntakeSettings, enrolled: ir.Table | None = None) -> ir.Table:
    """:func:`check` and the duplicate-key rule in one expression (for small inputs and tests)."""
    checked = check(raw, spec, settings, enrolled)
    return mark_duplicates(checked, duplicate_rows(checked, spec))


def always_null(spec: InputSpec, empty: Collection[str]) -> frozenset[str]:
    """Of the ``empty`` columns (no value in any row), those whose parsed value is null too: all but those with a
    default."""
    return frozenset(c.name for c in spec.columns if c.name in empty and c.default is None)


def accepted(ok: ir.Table, table: Table, nulls: Collection[str] = ()) -> ir.Table:
    """Canonical rows of ``table`` from :func:`accepted_rows`, typed as the contract says; the ``nulls``
    columns (:func:`always_null`) as typed null literals, which a warehouse need not store."""
    return ok.select(**{c.name: ibis.null(c.ibis_type) if c.name in nulls else ok[c.name].cast(c.ibis_type)
                        for c in table.columns},
                     source_file=ok.source_file, source_row=ok.source_row)


def flagged_rows(checked: ir.Table, raw: ir.Table) -> ir.Table:
    """The raw rows that were rejected or warned, with their ``rule_code`` and ``warn_code`` (few rows: worth
    storing once, since both :func:`findings` tables read them)."""
    marked = checked.filter(checked.rule_code.notnull() | checked.warn_code.notnull()).select(
        "source_file", "source_row", "rule_code", "warn_code")
    return raw.join(marked, ["source_file", "source_row"])


def findings(subset: ir.Table, spec: InputSpec, settings: IntakeSettings, enrolled: ir.Table | None,
             load_id: str) -> tuple[ir.Table, ir.Table]:
    """(quarantine, warnings) from :func:`flagged_rows`: one row per rejected row and per accepted row with a
    warning, with the field, a message naming the value, every failing rule and the raw values as JSON."""
    flagged = _flag(subset, spec, settings, enrolled)
    rows = flagged.table
    _, field_, detail = _first(flagged.checks)
    _, warn_field, warn_detail = _first(flagged.warnings)
    is_duplicate = rows.rule_code == "DUPLICATE_KEY"
    key_text = ibis.literal("key (") + ibis.literal(", ").join(
        [rows[f"_p_{k}"].cast("string").fill_null("") for k in spec.primary_key]) + ibis.literal(
        ") already seen in an earlier row")
    rows = rows.mutate(
        _field=ibis.ifelse(is_duplicate, spec.primary_key[0], field_),
        _detail=ibis.ifelse(is_duplicate, key_text, detail),
        _all=ibis.ifelse(is_duplicate, f"DUPLICATE_KEY:{spec.primary_key[0]};", _all_codes(flagged.checks)),
        _warn_field=warn_field, _warn_detail=warn_detail,
    )
    rejected = rows.filter(rows.rule_code.notnull())
    warned = rows.filter(rows.rule_code.isnull())
    quarantine = _finding_rows(rejected, spec, load_id, rejected.rule_code, rejected._field, rejected._detail,
                               rejected._all)
    warnings = _finding_rows(warned, spec, load_id, warned.warn_code, warned._warn_field, warned._warn_detail,
                             warned.warn_code + ":" + warned._warn_field + ";")
    return quarantine, warnings


def _finding_rows(rows: ir.Table, spec: InputSpec, load_id: str, code: ir.Value, field_: ir.Value,
                  detail: ir.Value, all_rules: ir.Value) -> ir.Table:
    return rows.select(
        load_id=ibis.literal(load_id),
        input=ibis.literal(spec.name),
        source_file=rows.source_file,
        source_row=rows.source_row,
        rule_code=code,
        severity=code.cases(*[(r.code, r.severity.value) for r in RULES.values()], else_="reject"),
        field=field_,
        message=detail,
        all_rules=all_rules,
        raw_values=_raw_json(rows, spec),
    )


def _raw_json(rows: ir.Table, spec: InputSpec) -> ir.StringValue:
    parts = []
    for column in spec.columns:
        value = rows[column.name].cast("string")
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(ibis.literal(f'"{column.name}":') + ibis.ifelse(
            value.isnull(), ibis.literal("null"), ibis.literal('"') + escaped + ibis.literal('"')))
    return ibis.literal("{") + ibis.literal(",").join(parts) + ibis.literal("}")
