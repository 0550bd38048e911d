"""``allpayer run``: assemble a performance year's inputs from the workspace, compute expected cost, value
payments, settlement and distribution, and write them with copies of the published results as an immutable run
(:mod:`allpayer.runs`). I/O lives here; the computations are in ``compute/``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import ibis
import ibis.expr.types as ir

from allpayer import __version__, cost_basis
from allpayer.compute.completion import as_of_index, chain_ladder, payer_exposure
from allpayer.compute.expected_cost import claims_by_person_month, regional_claims
from allpayer.compute.program_results import ProgramInputs, claim_years, program_results
from allpayer.compute.spending import claim_spend, completion_lines, medical_paid_by_tin, spend_columns
from allpayer.compute.tcoc import completed_spend
from allpayer.config.cost import CostSettings
from allpayer.config.loader import load_pack, pack_path
from allpayer.fingerprint import input_fingerprints
from allpayer.intake.superseded import final_claims, stored_superseded
from allpayer.runs import Run, runs_folder, write_run
from allpayer.warehouse import Warehouse

# Published workspace tables copied into a run when present (other issues' results at the time of the run).
COPIED = ("tcoc", "growth", "scale_target", "scale_breakdown", "quality_measure", "quality_score")


def program_inputs(warehouse: Warehouse, settings: CostSettings, member_months: ir.Table,
                   as_of: dt.date, year: int, claim_years: tuple[int, int]
                   ) -> tuple[ProgramInputs, dict | None]:
    """Completed incurred claims as of ``as_of`` (chain-ladder completion as in TCOC), of ``claim_years`` (first
    and last) and the other inputs, with the basis of the TCOC spend reused (None when
    spend was computed afresh)."""
    has = warehouse.has
    medical = final_claims(warehouse, "medical_claim")
    pharmacy = final_claims(warehouse, "pharmacy_claim") if has("pharmacy_claim") else None
    enrollment = warehouse.table("enrollment")
    reused = cost_basis.reusable_spend(warehouse, as_of)
    attribution_month = warehouse.table("attribution_month")
    # The network split reads the spend of the year's attributed persons only: a third of the persons at 630k
    attributed = attribution_month.filter(attribution_month.year == year).select("person_id").distinct()
    if reused is not None:
        published, basis = reused
    else:
        basis = None
        # As TCOC computes it, stored on its own (fused with the groupings that follow, this ran out of memory at
        # 630k).
        published = warehouse.materialize("run_spend", claim_spend(
            warehouse.table("medical_claim"), warehouse.table("pharmacy_claim") if has("pharmacy_claim") else None,
            enrollment, ibis.literal(as_of), stored_superseded(warehouse, "medical_claim"),
            stored_superseded(warehouse, "pharmacy_claim"), warehouse.materialize))
    # Which services count is the pack's to say, not the one TCOC ran with: re-derived from the categories.
    spend = spend_columns(published, settings.financial_target_services)
    first, last = claim_years
    # The years the run reads, before the spend is completed and grouped by person-month
    spend = spend.filter(spend.month_index.between(first * 12, last * 12 + 11))
    provider = medical_paid_by_tin(warehouse.table("medical_claim"), stored_superseded(warehouse, "medical_claim"),
                                   ibis.literal(as_of), year, attributed)
    ratios = None if settings.completion.by_category else completion_ratios(warehouse, settings, medical, pharmacy,
                                                                             enrollment, as_of)
    completed = completed_spend(spend, ratios)
    # Grouped by person-month for the year's attributed persons only: the base and performance experience read no
    # one else (a third of the persons at 630k), and the region's sums need no grouping by person first.
    claims = warehouse.materialize("run_claims", claims_by_person_month(completed.semi_join(attributed, "person_id")))
    # Read only for the base years, and stored once: expanded from month runs inside the joins that read them, the
    # months are estimated at a twentieth of their rows and joined in the wrong order (at 630k persons the base
    # experience took 5.6 s against 1.3 s).
    member_months = warehouse.materialize("run_member_months", member_months.filter(
        member_months.year.between(first, year - 1)))
    inputs = ProgramInputs(
        attribution_month=attribution_month,
        member_months=member_months,
        claims=claims, provider_spend=warehouse.materialize("run_provider_spend", provider),
        regional_claims=regional_claims(completed),
        risk=warehouse.table("risk_score") if has("risk_score") else None,
        quality=warehouse.table("quality_score").to_pyarrow() if has("quality_score") else None,
        as_of=as_of, runout_months=settings.completion.max_lag)
    return inputs, basis


def completion_ratios(warehouse: Warehouse, settings: CostSettings, medical: ir.Table, pharmacy: ir.Table | None,
                      enrollment: ir.Table, as_of: dt.date) -> ir.Table:
    """(payer, incurred_month, completion_ratio) as of ``as_of``: the published ``cost_completion`` when TCOC was
    run as of the same date (the same numbers, not recomputed), else a fresh chain ladder of the final-action
    ``medical`` and ``pharmacy`` lines."""
    if warehouse.has("cost_completion"):
        published = warehouse.table("cost_completion")
        if published.filter(published.as_of_date != as_of).count().execute() == 0:
            return published.select("payer", "incurred_month", "completion_ratio")
    target = completion_lines(medical, pharmacy, settings.financial_target_services)
    exposure = payer_exposure(enrollment, as_of_index(as_of))
    completion, _ = chain_ladder(target, as_of, settings.completion, ("payer",), exposure)
    return completion.select("payer", "incurred_month", "completion_ratio")


def pack_digest(pack: str | Path) -> str:
    root = pack_path(pack)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def execute_run(warehouse: Warehouse, workspace: Path, member_months: ir.Table, pack: str | Path, year: int,
                as_of: dt.date | None = None, programs: list[str] | None = None,
                created: dt.datetime | None = None) -> Run:
    pk = load_pack(pack)
    settings = pk.cost or CostSettings()
    as_of = as_of or cost_basis.latest_paid_date(warehouse)
    try:
        inputs, reused = program_inputs(warehouse, settings, member_months, as_of, year,
                                        claim_years(pk, year, programs))
        tables = program_results(pk, year, inputs, programs)
        tables.update({name: warehouse.table(name).to_pyarrow() for name in COPIED if warehouse.has(name)})
        fingerprints = input_fingerprints(warehouse, cost_basis.current_load(warehouse))
    finally:
        warehouse.drop_scratch()
    created = created or dt.datetime.now(dt.UTC)
    status = "final" if all(s == "final" for s in tables["settlement"]["status"].to_pylist()) else "provisional"
    manifest = {
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "year": year, "as_of": as_of.isoformat(),
        "status": status, "backend": warehouse.name,
        "pack": {"name": pk.name, "version": pk.version, "sha256": pack_digest(pack)},
        "parameters": {"pack": str(pack), "year": year, "as_of": as_of.isoformat(), "programs": programs},
        "code": {"package_version": __version__, "git_commit": cost_basis.git_commit()},
        "reused": {cost_basis.SPEND: reused} if reused else {},
        "inputs": fingerprints,
        "illustrative": {r["program_id"]: r["illustrative"] for r in tables["expected_cost"].to_pylist()},
    }
    inputs_digest = hashlib.sha256(json.dumps([manifest["pack"], manifest["parameters"], fingerprints],
                                              sort_keys=True).encode()).hexdigest()
    manifest["inputs_digest"] = inputs_digest
    return write_run(workspace, _new_run_id(workspace, created, pk.name, year, inputs_digest), tables, manifest)


def _new_run_id(workspace: Path, created: dt.datetime, pack: str, year: int, digest: str) -> str:
    stem = f"{created:%Y%m%dT%H%M%SZ}-{pack}-{year}-{digest[:8]}"
    run_id, n = stem, 1
    while (runs_folder(workspace) / run_id).exists():
        n += 1
        run_id = f"{stem}-{n}"
    return run_id
