"""Immutable runs: one folder per run under ``WORKSPACE/runs/<run_id>/``.

A run folder holds one Parquet file per output table and ``manifest.json`` (inputs, pack, parameters, code
version, as-of date, provisional or final, and the SHA-256 of every output file). Files are written to a hidden
temporary folder and renamed into place in one step, then made read-only; a run is never changed afterwards.

Data files are deterministic: rows sorted on every column, no schema metadata and no timestamps, so the same
inputs give byte-identical Parquet files. Only the manifest records when the run was made.

>>> from allpayer.runs import list_runs, open_run
>>> [info.run_id for info in list_runs("workspace")]          # doctest: +SKIP
>>> open_run("workspace", "20261126T140000Z-vermont-2019").table("settlement")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

RUNS_FOLDER = "runs"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class RunInfo:
    """One line of ``allpayer runs list``."""

    run_id: str
    pack: str
    year: int
    as_of: str | None
    status: str  # "provisional" or "final"
    created_at: str
    path: Path


class Run:
    """An opened run folder (read only)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.run_id = self.path.name
        self.manifest: dict = json.loads((self.path / MANIFEST).read_text())

    def tables(self) -> list[str]:
        return sorted(self.manifest.get("outputs", {}))

    def table(self, name: str) -> pa.Table:
        outputs = self.manifest.get("outputs", {})
        if name not in outputs:
            raise KeyError(f"run {self.run_id} has no table {name!r}; it has {', '.join(self.tables())}")
        return pq.read_table(self.path / outputs[name]["file"])

    def info(self) -> RunInfo:
        m = self.manifest
        return RunInfo(self.run_id, m.get("pack", {}).get("name", ""), int(m.get("year", 0)), m.get("as_of"),
                       m.get("status", ""), m.get("created_at", ""), self.path)

    def verify(self) -> list[str]:
        """Names of output files whose bytes no longer match the manifest (empty when the run is intact)."""
        outputs = self.manifest.get("outputs", {})
        return sorted(name for name, entry in outputs.items()
                      if file_sha256(self.path / entry["file"]) != entry["sha256"])


def runs_folder(workspace: Path | str) -> Path:
    return Path(workspace) / RUNS_FOLDER


def list_runs(workspace: Path | str) -> list[RunInfo]:
    """Every complete run in the workspace, oldest first (run ids start with their UTC creation time)."""
    folder = runs_folder(workspace)
    if not folder.exists():
        return []
    return [Run(path).info() for path in sorted(folder.iterdir())
            if path.is_dir() and not path.name.startswith(".") and (path / MANIFEST).exists()]


def open_run(workspace: Path | str, run_id: str) -> Run:
    """The run ``run_id``; a unique prefix of an id is accepted."""
    folder = runs_folder(workspace)
    if (folder / run_id / MANIFEST).exists():
        return Run(folder / run_id)
    matches = [info for info in list_runs(workspace) if info.run_id.startswith(run_id)]
    if len(matches) != 1:
        known = ", ".join(info.run_id for info in list_runs(workspace)) or "none"
        problem = "no run" if not matches else "more than one run"
        raise KeyError(f"{problem} matches {run_id!r} in {folder}; runs: {known}")
    return Run(matches[0].path)


def write_run(workspace: Path | str, run_id: str, tables: Mapping[str, pa.Table], manifest: dict) -> Run:
    """Write ``tables`` and ``manifest`` as the immutable run ``run_id`` (all files or none)."""
    folder = runs_folder(workspace)
    target = folder / run_id
    if target.exists():
        raise FileExistsError(f"run {run_id} already exists in {folder}; runs are never overwritten")
    staging = folder / f".tmp-{run_id}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        outputs = {}
        for name in sorted(tables):
            file = f"{name}.parquet"
            canonical = canonical_table(tables[name])
            write_deterministic_parquet(canonical, staging / file)
            outputs[name] = {"file": file, "rows": canonical.num_rows, "sha256": file_sha256(staging / file)}
        full = {**manifest, "run_id": run_id, "outputs": outputs}
        (staging / MANIFEST).write_text(json.dumps(full, indent=2, sort_keys=True, default=str) + "\n")
        for path in staging.iterdir():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.rename(staging, target)  # the single step that makes the run visible
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Run(target)


def canonical_table(table: pa.Table) -> pa.Table:
    """Rows sorted on every column (nulls last) and no schema metadata: the same rows give the same bytes."""
    table = table.replace_schema_metadata(None)
    table = pa.table(table.columns, schema=pa.schema([f.remove_metadata() for f in table.schema]))
    sortable = [name for name, type_ in zip(table.column_names, table.schema.types, strict=True)
                if not (pa.types.is_nested(type_) or pa.types.is_null(type_))]
    if table.num_rows and sortable:
        table = table.sort_by([(name, "ascending") for name in sortable])
    return table.combine_chunks()


def write_deterministic_parquet(table: pa.Table, path: Path) -> None:
    # One row group, fixed compression, no statistics-dependent page layout choices beyond pyarrow's defaults.
    pq.write_table(table, path, compression="zstd", row_group_size=max(table.num_rows, 1),
                   write_statistics=True, use_dictionary=True, store_schema=False)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
