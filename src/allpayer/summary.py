"""Population summary of a loaded workspace: persons, member months by payer, claims by type,
quarantine by rule. Small aggregates only: no member identifiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis.expr.types as ir

from allpayer.compute.member_months import any_day_member_months
from allpayer.intake.superseded import final_claims

if TYPE_CHECKING:
    from allpayer.context import Context


def _rows(expr: ir.Table) -> list[dict]:
    return expr.to_pyarrow().to_pylist()


def population_summary(ctx: Context) -> dict[str, list[dict]]:
    person = ctx.table("person")
    enrollment = ctx.table("enrollment")
    pharmacy = ctx.table("pharmacy_claim")
    quarantine = ctx.table("quarantine")
    months = any_day_member_months(enrollment)
    final = final_claims(ctx.warehouse, "medical_claim")
    return {
        "Persons": _rows(person.aggregate(persons=person.count(), deceased=person.death_date.notnull().sum())),
        "Member months by payer type and year": _rows(
            months.group_by(["payer_type", months.year]).aggregate(member_months=months.count())
            .order_by(["payer_type", "year"])
        ),
        "Medical claims by type (final action)": _rows(
            final.group_by("claim_type").aggregate(
                claims=final.claim_id.nunique(), lines=final.count(), allowed=final.allowed_amount.sum().round(0)
            ).order_by("claim_type")
        ),
        "Pharmacy claims": _rows(pharmacy.aggregate(lines=pharmacy.count(), paid=pharmacy.paid_amount.sum().round(0))),
        "Quarantined rows by rule": _rows(
            quarantine.group_by(["input", "rule_code"]).aggregate(rows=quarantine.count())
            .order_by(["input", "rule_code"])
        ),
    }
