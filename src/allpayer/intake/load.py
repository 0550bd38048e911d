"""One load: stage every file, check every row, publish canonical tables and quarantine at once."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.fingerprint import LOAD_FINGERPRINTS, load_fingerprints
from allpayer.intake import validate
from allpayer.intake.adapters import ADAPTERS, INPUT_ORDER, INPUTS, FileKind
from allpayer.intake.contract import ENROLLMENT, PERSON, TABLES
from allpayer.intake.staging import FileError, open_source
from allpayer.intake.superseded import CLAIM_TABLES, superseded_tables
from allpayer.intake.validate import InputSpec, IntakeSettings
from allpayer.warehouse import STORED_TEXT, Staged, Warehouse

# Tables every load publishes beside the canonical ones.
QUARANTINE, WARNINGS, LOAD_FILES = "quarantine", "intake_warning", "load_file"
Progress = Callable[[str], None]


@dataclass
class FileCount:
    input: str
    source_file: str
    read: int
    accepted: int
    rejected: int
    warned: int
    rejected_by_rule: dict[str, int] = field(default_factory=dict)
    warned_by_rule: dict[str, int] = field(default_factory=dict)


@dataclass
class LoadReport:
    load_id: str
    adapter: str
    backend: str
    loaded_at: str
    files: list[FileCount]
    table_rows: dict[str, int]

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def rejected_by_rule(self) -> dict[str, int]:
        return _sum_counts(f.rejected_by_rule for f in self.files)

    def warned_by_rule(self) -> dict[str, int]:
        return _sum_counts(f.warned_by_rule for f in self.files)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LoadReport:
        data = json.loads(text)
        data["files"] = [FileCount(**f) for f in data["files"]]
        return cls(**data)


def _sum_counts(counts: object) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for mapping in counts:  # type: ignore[attr-defined]
        for key, value in mapping.items():
            total[key] += value
    return dict(sorted(total.items()))


def ingest(
    warehouse: Warehouse,
    paths: list[Path],
    adapter: str = "tuva",
    settings: IntakeSettings | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load ``paths`` (files or folders) through ``adapter`` and replace the canonical tables.

    Raises :class:`FileError` for a file malformed as a whole; nothing is published then.
    """
    settings = settings or IntakeSettings()
    say = progress or (lambda _msg: None)
    load_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    found = ADAPTERS[adapter].discover([Path(p) for p in paths])
    if not found:
        raise FileError(", ".join(str(p) for p in paths), f"no {adapter} input files found")
    _refuse_duplicate_names(found)
    try:
        staged = _stage_all(warehouse, found, say)
        outputs, checked = _check_all(warehouse, staged, settings, load_id, say)
        say("counting rows")
        files = _count(checked)
        outputs[LOAD_FILES] = _files_table(files, load_id)
        say("publishing tables")
        warehouse.publish(outputs)
        say("fingerprinting tables")
        # After the publish, of the published tables: a crash in between leaves fingerprints of an older load,
        # which runs ignore (they read only the current load's).
        warehouse.publish({LOAD_FINGERPRINTS: load_fingerprints(warehouse, load_id)})
        table_rows = {name: int(warehouse.table(name).count().execute()) for name in TABLES}
    finally:
        warehouse.drop_scratch()
    return LoadReport(load_id, adapter, warehouse.name, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                      files, table_rows)


def _refuse_duplicate_names(found: list[tuple[FileKind, Path]]) -> None:
    seen: dict[str, Path] = {}
    for _, path in found:
        if path.name in seen:
            raise FileError(path, f"two input files share the name {path.name!r} ({seen[path.name]}); "
                            "source_file must identify one file")
        seen[path.name] = path


def _stage_all(warehouse: Warehouse, found: list[tuple[FileKind, Path]], say: Progress) -> dict[str, list[Staged]]:
    """Every file's header first (cheap, so a bad file fails fast), then every file's rows."""
    sources = [(kind, open_source(path, kind.mapping(), kind.required_source_columns(), kind.kinds()))
               for kind, path in found]
    staged: dict[str, list[Staged]] = defaultdict(list)
    for number, (kind, source) in enumerate(sources):
        say(f"reading {source.path.name}")
        file = warehouse.stage_source(f"{number:03d}", source)
        if file.rows == 0:
            raise FileError(source.path, "no data rows (header only)")
        staged[kind.input].append(file)
    return staged


def _raw_union(files: list[Staged], spec: InputSpec, extra: tuple[str, ...] = ()) -> tuple[ir.Table, frozenset[str]]:
    """All files of one input as one table, and the columns no file has a value in. A column that files stage
    with different types (typed in one Parquet file, text in another) is staged as text in all of them. A
    column a file lacks or leaves empty is a typed null there, which the engines fold into the checks. ``extra``:
    other columns of the staged tables to keep."""
    order = [c.name for c in spec.columns] + ["source_file", "source_row", *extra]
    types = defaultdict(set)
    for file in files:
        for name, dtype in file.table.schema().items():
            types[name].add(dtype)
    common = {c: next(iter(types[c])) if len(types[c]) == 1 else "string" for c in order if c in types}
    parts = [file.table.select(**{c: ibis.null(common[c]) if file.lacks(c) else file.table[c].cast(common[c])
                                  for c in common}) for file in files]
    empty = frozenset(c.name for c in spec.columns if all(f.lacks(c.name) for f in files))
    return (parts[0] if len(parts) == 1 else ibis.union(*parts)), empty


def _check_all(
    warehouse: Warehouse, staged: dict[str, list[Staged]], settings: IntakeSettings, load_id: str,
    say: Progress,
) -> tuple[dict[str, ir.Table], dict[str, ir.Table]]:
    outputs: dict[str, ir.Table] = {}
    checked: dict[str, ir.Table] = {}
    findings: list[tuple[ir.Table, bool]] = []
    warnings: list[tuple[ir.Table, bool]] = []
    enrolled: ir.Table | None = None
    for input_name in INPUT_ORDER:
        if input_name not in staged:
            continue
        say(f"checking {input_name}")
        spec = INPUTS[input_name]
        raw, empty = _raw_union(staged[input_name], spec)
        # Columns no file fills stay typed nulls up to the stored table, which then does not store them.
        nulls = validate.always_null(spec, empty)
        typed = warned = None
        if input_name in CLAIM_TABLES:
            copied = _unchanged_input(warehouse, input_name, staged[input_name], spec, settings, enrolled, empty)
            if copied is not None:
                typed, warned = copied
                first_pass = validate.clean_verdicts(typed, spec)
            else:
                # Checked and typed in one pass: a load that rejects no line publishes these rows as they are, so
                # the lines are parsed and written once.
                typed = warehouse.materialize(f"{input_name}_checked", validate.checked_rows(
                    raw, spec, settings, enrolled, TABLES[input_name], nulls))
                first_pass = validate.verdicts(typed, spec)
        else:
            # Other inputs write a narrow verdict per row; their typed rows are parsed again where they are published.
            first_pass = warehouse.materialize(input_name, validate.check(raw, spec, settings, enrolled))
        duplicates = warehouse.materialize(f"{input_name}_duplicates", validate.duplicate_rows(first_pass, spec))
        # Most loads repeat no key: their verdicts are the first pass's, not a copy of it (2 s for 20M lines).
        rows = first_pass if duplicates.count().execute() == 0 else warehouse.materialize(
            f"{input_name}_verdicts", validate.mark_duplicates(first_pass, duplicates))
        if warned is not None:
            rows = validate.with_warnings(rows, warned)
        checked[input_name] = rows
        subset = warehouse.materialize(f"{input_name}_flagged", validate.flagged_rows(rows, raw))
        rejected, warned = validate.findings(subset, spec, settings, enrolled, load_id)
        # Inputs with no flagged row add nothing: planning their findings' wide expressions took 0.7 s per table.
        flagged = subset.count().execute() > 0
        findings.append((rejected, flagged))
        warnings.append((warned, flagged))
        if typed is not None:
            outputs[input_name] = _accepted_claims(warehouse, input_name, typed, rows, nulls)
        else:
            ok = validate.accepted_rows(raw, rows, spec)
            if input_name == "eligibility":
                outputs["enrollment"] = validate.accepted(ok, ENROLLMENT, nulls)
                outputs["person"] = latest_demographics(ok)
            else:
                outputs[input_name] = validate.accepted(ok, TABLES[input_name], nulls)
        if input_name in ("enrollment", "eligibility"):
            enrolled = warehouse.materialize("enrolled_persons",
                                             outputs["enrollment"].select("person_id").distinct())
    for name, table in TABLES.items():
        outputs.setdefault(name, _empty(table.schema))
    outputs.update(superseded_tables(outputs))
    outputs[QUARANTINE] = _union_flagged(findings)
    outputs[WARNINGS] = _union_flagged(warnings)
    return outputs, checked


def _unchanged_input(warehouse: Warehouse, input_name: str, files: list[Staged], spec: InputSpec,
                     settings: IntakeSettings, enrolled: ir.Table | None, empty: frozenset[str],
                     ) -> tuple[ir.Table, ir.Table | None] | None:
    """The claim lines as a copy of their one Parquet file, read with casts (:meth:`Warehouse.adopt_input`), and
    the lines warnings flag (source_row, warn_code), when no rule rejects a line and parsing changes no stored
    value; else None. The check is then one pass that counts instead of writing every line: at 630k persons the
    medical lines took 13-14 s to count, against 22.6-26.7 s to check and write typed."""
    if len(files) != 1 or files[0].source is None:
        return None
    table = TABLES[input_name]
    stored = tuple(c for c in files[0].table.columns if c.startswith(STORED_TEXT))
    raw, _ = _raw_union(files, spec, extra=stored)
    constants = {c.name: c.default for c in spec.columns if c.name in empty}
    counts = validate.unchanged_copy(raw, spec, settings, enrolled, table, constants, STORED_TEXT).to_pyarrow()
    if counts["rejected"][0].as_py() or counts["changed"][0].as_py():
        return None
    found = counts["warnings"][0].as_py()
    warned = ibis.memtable(pa.Table.from_pylist(found, pa.schema([("source_row", pa.int64()),
                                                                  ("warn_code", pa.string())]))) if found else None
    types = {c.name: c.ibis_type for c in table.columns}
    typed = warehouse.adopt_input(f"{input_name}_checked", files[0], types,
                                  {name: value for name, value in constants.items() if name in types})
    return typed, warned


def _accepted_claims(warehouse: Warehouse, input_name: str, typed: ir.Table, rows: ir.Table,
                     nulls: frozenset[str]) -> ir.Table:
    """The accepted claim lines, stored before publishing (the superseded versions are listed from stored rows):
    the checked rows, or the copy of the input file, as they are when none is rejected (publishing then moves their
    file into place), else the rows kept, written again."""
    table = TABLES[input_name]
    if rows.filter(rows.rule_code.notnull()).count().execute() == 0:
        # Columns already of their types: a plain projection, which publishing adopts (so no null literals here;
        # the file already leaves those columns out).
        return validate.accepted(typed, table)
    return warehouse.materialize(f"{input_name}_accepted",
                                 validate.accepted(validate.without_rejected(typed, rows), table, nulls))


def _union_flagged(parts: list[tuple[ir.Table, bool]]) -> ir.Table:
    """The findings of the inputs that flagged rows; an empty table of the same schema if none did."""
    kept = [table for table, flagged in parts if flagged]
    return ibis.union(*kept) if kept else _empty(parts[0][0].schema())


def latest_demographics(rows: ir.Table) -> ir.Table:
    """One person row per person_id, from the span that ends last (ties: last file, last row)."""
    window = ibis.window(group_by=rows.person_id, order_by=[
        ibis.desc(rows.enrollment_end_date), ibis.desc(rows.source_file), ibis.desc(rows.source_row)])
    ranked = rows.mutate(_rank=ibis.row_number().over(window))
    first = ranked.filter(ranked._rank == 0)
    return first.select(**{c.name: first[c.name].cast(c.ibis_type) for c in PERSON.columns},
                        source_file=first.source_file, source_row=first.source_row)


def _empty(schema: dict) -> ir.Table:
    return ibis.memtable(pa.table({n: pa.array([], ibis.schema({n: t}).to_pyarrow().field(0).type)
                                   for n, t in schema.items()}))


def _count(checked: dict[str, ir.Table]) -> list[FileCount]:
    files: list[FileCount] = []
    for input_name, rows in checked.items():
        by_rule = rows.group_by(["source_file", "rule_code", "warn_code"]).aggregate(n=rows.count())
        frame = by_rule.to_pyarrow().to_pylist()
        per_file: dict[str, FileCount] = {}
        for rec in sorted(frame, key=lambda r: (r["source_file"], r["rule_code"] or "", r["warn_code"] or "")):
            count = per_file.setdefault(rec["source_file"], FileCount(input_name, rec["source_file"], 0, 0, 0, 0))
            n = int(rec["n"])
            count.read += n
            if rec["rule_code"] is None:
                count.accepted += n
                if rec["warn_code"] is not None:
                    count.warned += n
                    count.warned_by_rule[rec["warn_code"]] = count.warned_by_rule.get(rec["warn_code"], 0) + n
            else:
                count.rejected += n
                count.rejected_by_rule[rec["rule_code"]] = count.rejected_by_rule.get(rec["rule_code"], 0) + n
        files.extend(per_file.values())
    return files


def _files_table(files: list[FileCount], load_id: str) -> ir.Table:
    return ibis.memtable(pa.table({
        "load_id": pa.array([load_id] * len(files), pa.string()),
        "input": pa.array([f.input for f in files], pa.string()),
        "source_file": pa.array([f.source_file for f in files], pa.string()),
        "rows_read": pa.array([f.read for f in files], pa.int64()),
        "rows_accepted": pa.array([f.accepted for f in files], pa.int64()),
        "rows_rejected": pa.array([f.rejected for f in files], pa.int64()),
        "rows_warned": pa.array([f.warned for f in files], pa.int64()),
    }))
