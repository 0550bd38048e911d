"""The claim lines final action drops, stored by intake beside each claim table.

Intake publishes ``<claim table>_superseded`` (``source_file``, ``source_row``: every line of a version final
action drops) with the table it describes, in the same atomic step, so the two always belong to the same load and
the lineage of a line names one line of the table. Every step that needs final-action claims (attribution, cost,
risk, quality, settlement runs) then removes the list with one anti-join on those two columns instead of ranking
the versions again. A workspace loaded before the lists named lines has one of versions (``data_source``,
``claim_id``, ``family_id``), which final action takes as well; one loaded before any list existed has none, and
final action is then worked out in full (:func:`allpayer.compute.final_action.final_action`).
"""

from __future__ import annotations

import ibis.expr.types as ir

from allpayer.compute.final_action import final_action, superseded_lines
from allpayer.warehouse import Warehouse

CLAIM_TABLES = ("medical_claim", "pharmacy_claim")


def superseded_name(claim_table: str) -> str:
    return f"{claim_table}_superseded"


def superseded_tables(tables: dict[str, ir.Table]) -> dict[str, ir.Table]:
    """The lists to publish beside the claim tables among ``tables`` (the load's outputs, an empty table for a
    claim input the load does not have)."""
    return {superseded_name(name): superseded_lines(tables[name]) for name in CLAIM_TABLES}


def stored_superseded(warehouse: Warehouse, claim_table: str) -> ir.Table | None:
    """The list intake stored beside a published claim table; None for a workspace loaded before lists existed."""
    stored = superseded_name(claim_table)
    return warehouse.table(stored) if warehouse.has(stored) else None


def final_claims(warehouse: Warehouse, claim_table: str) -> ir.Table:
    """Final-action lines of a published claim table, with ``family_id``."""
    return final_action(warehouse.table(claim_table), stored_superseded(warehouse, claim_table))
