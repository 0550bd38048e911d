"""The claim versions final action drops, stored by intake beside each claim table.

Intake publishes ``<claim table>_superseded`` (``data_source``, ``claim_id``, ``family_id``) with the table it
describes, in the same atomic step, so the two always belong to the same load. Every step that needs final-action
claims (attribution, cost, risk, quality, settlement runs) then removes the list with one anti-join instead of
ranking the versions again. A workspace loaded before the list existed has none; final action is then worked out
in full (:func:`allpayer.compute.final_action.final_action`).
"""

from __future__ import annotations

import ibis.expr.types as ir

from allpayer.compute.final_action import final_action, superseded_versions
from allpayer.warehouse import Warehouse

CLAIM_TABLES = ("medical_claim", "pharmacy_claim")


def superseded_name(claim_table: str) -> str:
    return f"{claim_table}_superseded"


def superseded_tables(tables: dict[str, ir.Table]) -> dict[str, ir.Table]:
    """The lists to publish beside the claim tables among ``tables`` (the load's outputs, an empty table for a
    claim input the load does not have)."""
    return {superseded_name(name): superseded_versions(tables[name]) for name in CLAIM_TABLES}


def stored_superseded(warehouse: Warehouse, claim_table: str) -> ir.Table | None:
    """The list intake stored beside a published claim table; None for a workspace loaded before lists existed."""
    stored = superseded_name(claim_table)
    return warehouse.table(stored) if warehouse.has(stored) else None


def final_claims(warehouse: Warehouse, claim_table: str) -> ir.Table:
    """Final-action lines of a published claim table, with ``family_id``."""
    return final_action(warehouse.table(claim_table), stored_superseded(warehouse, claim_table))
