"""Set-based validation of staged rows: checks, quarantine and typed accepted rows (pure Ibis)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from allpayer.intake.contract import Code, Column, DateOrder, Kind, Table
from allpayer.intake.parse import code_ok, parse
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
    value = raw[column.name]
    name = column.name
    checks: list[Check] = []
    if column.kind is not Kind.STRING:
        checks.append(Check("TYPE_UNPARSABLE", name, value.notnull() & parsed.isnull(),
                            f"{name}: not a valid {column.kind.value}, got " + _quoted(value)))
    if column.required:
        checks.append(Check("REQUIRED_MISSING", name, parsed.isnull() & value.isnull(),
                            ibis.literal(f"{name}: required value is missing")))
    if column.code is not None:
        checks.append(Check(_CODE_RULES[column.code], name, parsed.notnull() & ~code_ok(parsed, column.code),
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
    return [Check("PAID_OVER_ALLOWED", "paid_amount", (paid > allowed).fill_null(False),
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
    codes: ir.StringValue = ibis.literal("")
    for check in sorted(checks, key=lambda c: PRECEDENCE.index(c.rule)):
        codes = codes + ibis.ifelse(check.violated, f"{check.rule}:{check.field};", "")
    return codes


def check(raw: ir.Table, spec: InputSpec, settings: IntakeSettings,
          enrolled_persons: ir.Table | None = None) -> ir.Table:
    """Raw rows plus the first failing rule (``rule_code``, ``rule_field``, ``rule_detail``),
    all failing rules (``all_rules``) and the first warning (``warn_*``)."""
    raw = _with_missing_columns(raw, spec)
    # Three projections (parse -> flag -> classify) keep every expression computed once, so neither
    # engine re-evaluates a parse inside each of the many CASE branches.
    parsed_table = raw.mutate(**{f"_p_{c.name}": parse(raw[c.name], c) for c in spec.columns})
    parsed = {c.name: parsed_table[f"_p_{c.name}"] for c in spec.columns}
    checks = [chk for c in spec.columns for chk in _column_checks(parsed_table, c, parsed[c.name], settings)]
    checks += [_date_order_check(parsed, order) for order in spec.date_orders]
    checks += _amount_checks(parsed, spec, settings)
    if spec.needs_enrollment and enrolled_persons is not None:
        known = parsed["person_id"].isin(enrolled_persons.person_id)
        checks.append(Check("NO_ENROLLMENT", "person_id", parsed["person_id"].notnull() & ~known.fill_null(False),
                            "person_id: no accepted enrollment for " + _quoted(parsed["person_id"])))
    warns = _warning_checks(parsed)
    flagged = parsed_table.mutate(**{f"_v{i}": c.violated for i, c in enumerate(checks + warns)})
    checks = [Check(c.rule, c.field, flagged[f"_v{i}"], c.detail) for i, c in enumerate(checks)]
    warns = [Check(c.rule, c.field, flagged[f"_v{len(checks) + i}"], c.detail) for i, c in enumerate(warns)]
    checks = [Check(c.rule, c.field, c.violated, _rebind(c.detail, parsed_table, flagged)) for c in checks]
    warns = [Check(c.rule, c.field, c.violated, _rebind(c.detail, parsed_table, flagged)) for c in warns]
    code, field_, detail = _first(checks)
    warn_code, warn_field, warn_detail = _first(warns)
    staged = flagged.mutate(rule_code=code, rule_field=field_, rule_detail=detail, all_rules=_all_codes(checks),
                            warn_code=warn_code, warn_field=warn_field, warn_detail=warn_detail,
                            **{f"_key_{k}": flagged[f"_p_{k}"] for k in spec.primary_key})
    helpers = [c for c in staged.columns if c.startswith(("_p_", "_v"))]
    return _flag_duplicates(staged.drop(*helpers), spec)


def _rebind(expr: ir.Value, old: ir.Table, new: ir.Table) -> ir.Value:
    """The same expression over ``new``, a projection of ``old`` that keeps all its columns."""
    return expr.op().replace({old.op(): new.op()}).to_expr()


def _with_missing_columns(raw: ir.Table, spec: InputSpec) -> ir.Table:
    """Optional columns absent from the file are added as nulls."""
    absent = {c.name: ibis.null("string") for c in spec.columns if c.name not in raw.columns}
    return raw.mutate(**absent) if absent else raw


def _flag_duplicates(staged: ir.Table, spec: InputSpec) -> ir.Table:
    """Among rows that passed every other rule, the first by file and row keeps the key."""
    keys = [staged[f"_key_{k}"] for k in spec.primary_key]
    window = ibis.window(group_by=[*keys, staged.rule_code.isnull()],
                         order_by=[staged.source_file, staged.source_row])
    duplicate = staged.rule_code.isnull() & (ibis.row_number().over(window) > 0)
    key_text = ibis.literal("key (") + ibis.literal(", ").join(
        [k.cast("string").fill_null("") for k in keys]) + ibis.literal(") seen in an earlier row")
    out = staged.mutate(
        rule_code=ibis.ifelse(duplicate, "DUPLICATE_KEY", staged.rule_code),
        rule_field=ibis.ifelse(duplicate, spec.primary_key[0], staged.rule_field),
        rule_detail=ibis.ifelse(duplicate, key_text, staged.rule_detail),
        all_rules=ibis.ifelse(duplicate, f"DUPLICATE_KEY:{spec.primary_key[0]};", staged.all_rules),
    )
    return out.drop(*[f"_key_{k}" for k in spec.primary_key])


def accepted(checked: ir.Table, spec: InputSpec, table: Table, extra: tuple[str, ...] = ()) -> ir.Table:
    """Typed canonical rows of ``table`` (plus ``extra`` parsed columns) from the rows that passed."""
    ok = checked.filter(checked.rule_code.isnull())
    typed = {c.name: parse(ok[c.name], spec.column(c.name)).cast(c.ibis_type) for c in table.columns}
    typed |= {name: parse(ok[name], spec.column(name)) for name in extra}
    return ok.select(**typed, source_file=ok.source_file, source_row=ok.source_row)


def quarantine(checked: ir.Table, spec: InputSpec, load_id: str) -> ir.Table:
    bad = checked.filter(checked.rule_code.notnull())
    return _findings(bad, spec, load_id, bad.rule_code, bad.rule_field, bad.rule_detail, bad.all_rules)


def warnings(checked: ir.Table, spec: InputSpec, load_id: str) -> ir.Table:
    warned = checked.filter(checked.rule_code.isnull() & checked.warn_code.notnull())
    return _findings(warned, spec, load_id, warned.warn_code, warned.warn_field, warned.warn_detail,
                     warned.warn_code + ":" + warned.warn_field + ";")


def _findings(rows: ir.Table, spec: InputSpec, load_id: str, code: ir.Value, field_: ir.Value,
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
        value = rows[column.name]
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(ibis.literal(f'"{column.name}":') + ibis.ifelse(
            value.isnull(), ibis.literal("null"), ibis.literal('"') + escaped + ibis.literal('"')))
    return ibis.literal("{") + ibis.literal(",").join(parts) + ibis.literal("}")
