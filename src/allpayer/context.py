"""The public entry point: a :class:`Context` over one workspace folder.

>>> from allpayer import Context
>>> ctx = Context("workspace")            # DuckDB file workspace/warehouse.duckdb
>>> report = ctx.ingest(["data/tuva"])    # doctest: +SKIP
>>> ctx.table("medical_claim").count().execute()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import ibis
import ibis.expr.types as ir

from allpayer import cost_basis
from allpayer.compute.attribution import AttributionInputs, Stage, attribute
from allpayer.compute.enrollment import (
    expand_primary_runs,
    expand_runs,
    member_month_runs,
    overlapping_persons,
    primary_payer_runs,
    residency,
)
from allpayer.compute.risk import SECONDARY_DIAGNOSES
from allpayer.compute.scale import participation, scale
from allpayer.compute.stage import lazy
from allpayer.compute.tcoc import months_of_runs
from allpayer.config import Pack, load_pack
from allpayer.intake.load import LoadReport, Progress, ingest
from allpayer.intake.superseded import final_claims, stored_superseded
from allpayer.intake.validate import IntakeSettings
from allpayer.refdata import attribution as refdata
from allpayer.runs import Run, RunInfo, list_runs, open_run
from allpayer.warehouse import Warehouse, connect

DEFAULT_BACKEND = "duckdb"
# Published tables the warehouse serves from smaller stored ones (Warehouse.derive): member months are stored as
# month runs (0.7M-1.2M rows at 630k persons, not 14M) and expanded where read.
DERIVED_TABLES = {"member_month": ("member_month_run", expand_runs),
                  "primary_payer_month": ("primary_payer_run", expand_primary_runs)}
SIDE_TABLES = {"voluntary": "voluntary_alignment", "payer_file": "payer_attribution"}


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
            for name, (base, rows) in DERIVED_TABLES.items():
                self._warehouse.derive(name, base, rows)
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

    # ------------------------------------------------ enrollment, attribution and scale

    def pack(self, pack: str | Path = "vermont") -> Pack:
        return load_pack(pack)

    def load_attribution_files(self, voluntary: Path | str | None = None,
                               payer_file: Path | str | None = None) -> list[str]:
        """Store a voluntary-alignment file (person_id, npi, tin, signed_date) and/or a payer attribution file
        (Tuva ``provider_attribution`` columns) in the workspace, from CSV or Parquet."""
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        tables = {}
        for key, path in (("voluntary", voluntary), ("payer_file", payer_file)):
            if path is None:
                continue
            path = Path(path)
            options = pacsv.ConvertOptions(strings_can_be_null=True, column_types={
                "npi": "string", "tin": "string", "person_id": "string", "year_month": "string",
                "payer_attributed_provider": "string"})
            arrow = pq.read_table(path) if path.suffix == ".parquet" else pacsv.read_csv(path, convert_options=options)
            if key == "voluntary":
                arrow = arrow.set_column(arrow.schema.get_field_index("signed_date"), "signed_date",
                                         arrow["signed_date"].cast("date32"))
            tables[SIDE_TABLES[key]] = ibis.memtable(arrow)
        if tables:
            self.warehouse.publish(tables)
        return sorted(tables)

    def attribution_inputs(self) -> AttributionInputs:
        has = self.warehouse.has
        return AttributionInputs(
            enrollment=self.table("enrollment"), person=self.table("person"),
            medical_claim=final_claims(self.warehouse, "medical_claim"), provider=self.table("provider"),
            voluntary=self.table(SIDE_TABLES["voluntary"]) if has(SIDE_TABLES["voluntary"]) else None,
            payer_file=self.table(SIDE_TABLES["payer_file"]) if has(SIDE_TABLES["payer_file"]) else None,
        )

    def enrollment_tables(self, pk: Pack, stage: Stage | None = None) -> dict[str, ir.Table]:
        """``member_month_run`` (pack convention), ``primary_payer_run`` (with residency and HSA), both month runs
        (:func:`~allpayer.compute.enrollment.spans_to_runs`), and ``overlapping_persons`` (scratch: persons with
        coverage overlapping in a month, which attribution reads too). Coverage runs are computed once (``stage``
        may keep them as a scratch table) and feed both."""
        enrollment, person = self.table("enrollment"), self.table("person")
        zip_hsa = ibis.memtable(refdata.zip_hsa(pk.residency.hsa_crosswalk)) if pk.residency.hsa_crosswalk else None
        residents = residency(person, pk.residency.states, zip_hsa)
        keep = stage or lazy
        coverage = keep("member_month_run", member_month_runs(enrollment, person, pk.member_months.convention))
        overlapping = keep("overlapping_persons", overlapping_persons(enrollment, person))
        return {
            "member_month_run": coverage,
            "primary_payer_run": primary_payer_runs(enrollment, person, pk.payer_hierarchy,
                                                    pk.member_months.convention, residents, coverage, keep,
                                                    overlapping),
            "overlapping_persons": overlapping,
        }

    def attribute(self, pack: str | Path = "vermont", years: list[int] | None = None,
                  programs: list[str] | None = None, publish: bool = True) -> dict[str, ir.Table]:
        """Member months, primary payer months and attribution for a pack; published to the workspace as
        ``member_month``, ``primary_payer_month`` (stored as ``member_month_run`` and ``primary_payer_run``),
        ``attribution``, ``attribution_candidate`` and ``attribution_month`` (replacing earlier results)."""
        pk = load_pack(pack)
        stage = self.warehouse.materialize if publish else lazy
        # Both run tables are published as they are computed (on DuckDB, publishing one moves its scratch file).
        out = self.enrollment_tables(pk, stage)
        out["primary_payer_run"] = stage("primary_payer_run", out["primary_payer_run"])
        out["member_month"] = expand_runs(out["member_month_run"])
        out["primary_payer_month"] = expand_primary_runs(out["primary_payer_run"])
        inputs = replace(self.attribution_inputs(), primary=out["primary_payer_month"],
                         overlapping=out.pop("overlapping_persons"))
        out.update(attribute(pk, inputs, years, programs, stage=stage).tables())
        return self._publish(out) if publish else out

    def scale(self, pack: str | Path = "vermont", years: list[int] | None = None,
              publish: bool = True) -> dict[str, ir.Table]:
        """Scale targets from the stored attribution (run :meth:`attribute` first): ``scale_target``,
        ``scale_breakdown``, ``provider_participation``."""
        pk = load_pack(pack)
        if not (self.warehouse.has("attribution_month") and self.warehouse.has("primary_payer_month")):
            raise ValueError("no attribution in this workspace: run `allpayer attribute` (or ctx.attribute()) first")
        years = years or [y.year for y in pk.performance_years if y.scale_targets is not None]
        out = scale(pk, self.table("attribution_month"), self.table("primary_payer_month"), years)
        out["provider_participation"] = participation(self.table("provider"), pk, years)
        if not publish:
            return out
        self.warehouse.publish(out)
        return {name: self.table(name) for name in out}

    def explain_attribution(self, person_id: str, program: str, year: int) -> dict[str, list[dict]]:
        """The stored decision and every candidate for one person, program and year."""
        if not self.warehouse.has("attribution"):
            raise ValueError("no attribution in this workspace: run `allpayer attribute` first")
        a, c = self.table("attribution"), self.table("attribution_candidate")
        keep = lambda t: (t.person_id == person_id) & (t.program_id == program) & (t.year == year)  # noqa: E731
        return {
            "decision": a.filter(keep(a)).order_by("period").to_pyarrow().to_pylist(),
            "candidates": c.filter(keep(c)).order_by(["period", "entity_rank", "clinician_rank", "tin", "npi"])
            .to_pyarrow().to_pylist(),
        }

    # ------------------------------------------------------------ total cost of care (docs/cost.md)

    def cost_member_months(self, pk: Pack) -> tuple[ir.Table, ir.Table | None, ir.Table | None]:
        """(member months, person HSA, month runs) for TCOC: primary-payer months of residents (one row per person
        and month), weight = member_month, and the month runs they expand from (None for a ``primary_payer_month``
        stored as months, by an earlier version). Read from the published tables where there are some; else
        computed once into a scratch table, which several parts of TCOC and a run read."""
        if self.warehouse.has("primary_payer_run"):
            runs = self.table("primary_payer_run")
        elif self.warehouse.has("primary_payer_month"):
            runs = None
        else:
            runs = self.warehouse.materialize("primary_payer_run", self.enrollment_tables(pk)["primary_payer_run"])
        source = runs if runs is not None else self.table("primary_payer_month")
        if "resident" in source.columns:
            source = source.filter(source.resident)
        if runs is not None:
            runs = source
            mm = months_of_runs(runs)
        else:
            mm = source.select("person_id", "payer_type", "month_index", "year",
                               weight=source.member_month.cast("float64"))
        # From the runs where there are some: each person's HSA is the same in every month.
        hsa = source.select("person_id", "hsa").distinct() if "hsa" in source.columns else None
        return mm, hsa, runs

    def tcoc(self, pack: str | Path = "vermont", as_of: dt.date | None = None, with_risk: bool = True,
             publish: bool = True) -> dict[str, ir.Table]:
        """Spending, completion, risk scores and TCOC as of a paid-through date (default: the latest paid date);
        published as ``tcoc``, ``tcoc_medicare``, ``tcoc_unenrolled``, ``cost_completion``,
        ``cost_completion_factor``, ``cost_spend_by_category``, ``risk_score``, and ``cost_spend`` with what it
        was computed from (``cost_basis``, see :mod:`allpayer.cost_basis`)."""
        from allpayer.compute.tcoc import attribution_by_year, run_tcoc
        from allpayer.config.cost import CostSettings

        pk = load_pack(pack)
        settings = pk.cost or CostSettings()
        has = self.warehouse.has
        # As loaded, with intake's lists of superseded versions: risk keeps its lines to the scored persons before
        # final action.
        medical = self._coded("medical_claim", self.table("medical_claim"))
        pharmacy = self.table("pharmacy_claim") if has("pharmacy_claim") else None
        as_of = as_of or cost_basis.latest_paid_date(self.warehouse)
        mm, hsa, runs = self.cost_member_months(pk)
        att = attribution_by_year(self.table("attribution")) if has("attribution") else None
        out = run_tcoc(medical, pharmacy, self.table("enrollment"), self.table("person"),
                       mm if runs is None else None, settings, as_of,
                       att, hsa, with_risk, self.warehouse.materialize, one_row_per_month=True,
                       medical_superseded=stored_superseded(self.warehouse, "medical_claim"),
                       pharmacy_superseded=stored_superseded(self.warehouse, "pharmacy_claim"), month_runs=runs)
        if not publish:
            return out
        out[cost_basis.BASIS] = cost_basis.basis_table(cost_basis.basis(self.warehouse, as_of))
        return self._publish(out)

    def growth(self, pack: str | Path = "vermont", national: ir.Table | None = None,
               publish: bool = True) -> ir.Table:
        """Growth per year of all-payer and Medicare TCOC per beneficiary from the stored ``tcoc`` tables (run
        :meth:`tcoc` first); national Medicare series from ``refdata/national_medicare_growth.csv`` by default."""
        from allpayer.compute.growth import growth, national_medicare_series, series_from_tcoc
        from allpayer.config.cost import CostSettings

        if not self.warehouse.has("tcoc"):
            raise ValueError("no TCOC in this workspace: run `allpayer tcoc` (or ctx.tcoc()) first")
        settings = load_pack(pack).cost or CostSettings()
        medicare = self.table("tcoc_medicare") if self.warehouse.has("tcoc_medicare") else None
        series = series_from_tcoc(self.table("tcoc"), medicare)
        out = growth(series, settings.growth, national if national is not None else national_medicare_series())
        if not publish:
            return out
        self.warehouse.publish({"growth": out})
        return self.table("growth")

    # ------------------------------------------------------------ quality (docs/measures.md)

    def quality(self, pack: str | Path = "vermont", years: list[int] | None = None,
                programs: list[str] | None = None, external: Path | str | None = None,
                publish: bool = True) -> dict[str, ir.Table]:
        """Claims measures over the stored attribution (run :meth:`attribute` first; :meth:`tcoc` adds risk
        scores to the high-risk list), external measures from a CSV (default: none), scores and care lists;
        published as ``quality_measure``, ``quality_points``, ``quality_score``, and the role-restricted
        ``care_gap`` and ``high_risk`` (person identifiers: never print them)."""
        from allpayer.compute.quality import QualityInputs, run_quality
        from allpayer.intake.external_measures import load_external_measures

        pk = load_pack(pack)
        if pk.quality is None:
            raise ValueError(f"pack {pk.name!r} has no quality.yaml (measure registry)")
        if not self.warehouse.has("attribution_month"):
            raise ValueError("no attribution in this workspace: run `allpayer attribute` (or ctx.attribute()) first")
        has = self.warehouse.has
        inputs = QualityInputs(
            attribution_month=self.table("attribution_month"), person=self.table("person"),
            medical_claim=self._coded("medical_claim", self.table("medical_claim")),
            pharmacy_claim=self.table("pharmacy_claim") if has("pharmacy_claim") else None,
            medical_superseded=stored_superseded(self.warehouse, "medical_claim"),
            pharmacy_superseded=stored_superseded(self.warehouse, "pharmacy_claim"),
            risk_score=self.table("risk_score") if has("risk_score") else None,
            external=load_external_measures(external, pk.quality) if external else None)
        stage = self.warehouse.materialize if publish else None
        out = run_quality(pk, pk.quality, inputs, years, programs, stage)
        return self._publish(out) if publish else out

    # ------------------------------------------------------------ settlement runs (docs/settlement.md)

    def run(self, pack: str | Path = "vermont", year: int = 2019, as_of: dt.date | None = None,
            programs: list[str] | None = None) -> Run:
        """Expected cost, value payments, settlement and distribution for a performance year, written with copies
        of the published results as an immutable run under ``runs/`` (run :meth:`attribute` first; :meth:`tcoc`
        supplies risk scores). ``as_of`` is the paid-through date (default: the latest paid date)."""
        from allpayer.run_pipeline import execute_run

        if not self.warehouse.has("attribution_month"):
            raise ValueError("no attribution in this workspace: run `allpayer attribute` (or ctx.attribute()) first")
        member_months, _, _ = self.cost_member_months(load_pack(pack))
        return execute_run(self.warehouse, self.workspace, member_months, pack, year, as_of, programs)

    def runs(self) -> list[RunInfo]:
        return list_runs(self.workspace)

    def open_run(self, run_id: str) -> Run:
        return open_run(self.workspace, run_id)

    def report(self, kind: str, run_id: str, file_format: str = "html", out: Path | str | None = None,
               programs: list[str] | None = None) -> Path:
        """Write report ``kind`` (``allpayer.reporting.kinds.KINDS``) of a run (an id, a unique prefix or
        ``latest``) as html, pdf or xlsx into ``out`` (default ``WORKSPACE/reports``); returns the file
        (docs/reports.md)."""
        from allpayer.reporting.builders import build
        from allpayer.reporting.render import write

        if run_id == "latest" and self.runs():
            run_id = self.runs()[-1].run_id
        report = build(kind, open_run(self.workspace, run_id), programs)
        return write(report, file_format, Path(out) if out else self.workspace / "reports")

    def _coded(self, name: str, claims: ir.Table) -> ir.Table:
        """Claim lines of the stored table ``name`` without the diagnosis positions after the first that no line
        fills (:meth:`Warehouse.empty_columns`): risk scores and quality measures turn each position into rows, and
        an empty position cost as much as a filled one (the synthetic claims fill six of 25)."""
        empty = self.warehouse.empty_columns(name)
        return claims.drop(*[c for c in SECONDARY_DIAGNOSES if c in empty and c in claims.columns])

    def _publish(self, out: dict[str, ir.Table]) -> dict[str, ir.Table]:
        """Store computed tables in the workspace (scratch tables go either way) and return them. Derived tables
        (:data:`DERIVED_TABLES`) are not stored: the warehouse computes them from their stored base."""
        try:
            self.warehouse.publish({name: t for name, t in out.items() if name not in DERIVED_TABLES})
        finally:
            self.warehouse.drop_scratch()
        return {name: self.table(name) for name in out}

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
