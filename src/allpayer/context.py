"""The public entry point: a :class:`Context` over one workspace folder.

>>> from allpayer import Context
>>> ctx = Context("workspace")            # DuckDB file workspace/warehouse.duckdb
>>> report = ctx.ingest(["data/tuva"])    # doctest: +SKIP
>>> ctx.table("medical_claim").count().execute()  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir

from allpayer.intake.load import LoadReport, Progress, ingest
from allpayer.intake.validate import IntakeSettings
from allpayer.warehouse import Warehouse, connect

DEFAULT_BACKEND = "duckdb"


@dataclass(frozen=True)
class Status:
    workspace: Path
    backend: str
    tables: dict[str, int]
    last_load: LoadReport | None


class Context:
    """A workspace (a folder) and the warehouse that holds its tables."""

    def __init__(self, workspace: Path | str = "workspace", backend: str = DEFAULT_BACKEND) -> None:
        self.workspace = Path(workspace)
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self._warehouse: Warehouse | None = None

    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = connect(self.backend, self.workspace)
        return self._warehouse

    def table(self, name: str) -> ir.Table:
        return self.warehouse.table(name)

    def tables(self) -> list[str]:
        return self.warehouse.tables()

    def ingest(
        self,
        paths: list[Path | str],
        adapter: str = "tuva",
        settings: IntakeSettings | None = None,
        progress: Progress | None = None,
    ) -> LoadReport:
        """Validate and load source files; replaces the canonical tables atomically."""
        report = ingest(self.warehouse, [Path(p) for p in paths], adapter,
                        settings, progress)
        loads = self.workspace / "loads"
        loads.mkdir(exist_ok=True)
        (loads / f"{report.load_id}.json").write_text(report.to_json())
        return report

    def loads(self) -> list[LoadReport]:
        folder = self.workspace / "loads"
        return [LoadReport.from_json(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []

    def status(self) -> Status:
        counts = {name: int(self.table(name).count().execute()) for name in self.tables()}
        loads = self.loads()
        return Status(self.workspace, self.warehouse.name, counts, loads[-1] if loads else None)

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
