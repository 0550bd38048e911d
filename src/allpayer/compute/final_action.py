"""Final-action claims: resolve originals, adjustments, reversals and denials to one final version.

Rule (documented in docs/intake.md):

1. A claim's *family* is ``coalesce(original_claim_id, claim_id)`` within its ``data_source``;
   adjustments, reversals and denials name the original claim in ``original_claim_id``.
2. Each version (a ``claim_id``) is dated by the latest ``coalesce(file_date, paid_date)`` on its lines.
3. The latest version wins; on the same date a reversal beats a denial, a denial beats an adjustment,
   an adjustment beats the original, then the higher ``claim_id`` wins.
4. If the winner is a reversal or a denial the family drops out (cancelled, nothing paid); otherwise
   the winner's lines are kept **with their own amounts**: nothing is summed across versions.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

STATUS_RANK = {"original": 0, "adjustment": 1, "denial": 2, "reversal": 3}
CANCELLING = ("reversal", "denial")


def claim_versions(claims: ir.Table) -> ir.Table:
    """One row per claim version with its family, date, status and rank in the family (0 = final)."""
    dated = claims.mutate(
        _family=ibis.coalesce(claims.original_claim_id, claims.claim_id),
        _version_date=ibis.coalesce(claims.file_date, claims.paid_date),
    )
    versions = dated.group_by(["data_source", "_family", "claim_id"]).aggregate(
        version_date=dated._version_date.max(),
        claim_status=dated.claim_status.max(),
    )
    rank = versions.claim_status.cases(*STATUS_RANK.items(), else_=0)
    window = ibis.window(
        group_by=[versions.data_source, versions._family],
        order_by=[ibis.desc(versions.version_date), ibis.desc(rank), ibis.desc(versions.claim_id)],
    )
    return versions.mutate(version_rank=ibis.row_number().over(window)).rename(family_id="_family")


def revised_families(claims: ir.Table) -> ir.Table:
    """Families (``data_source``, ``family_id``) with more than an original: a line names an original claim or
    has a status other than ``original``. Usually a few percent of claims."""
    revised = claims.filter(claims.original_claim_id.notnull()
                            | (claims.claim_status.fill_null("original") != "original"))
    return revised.select("data_source", family_id=ibis.coalesce(revised.original_claim_id, revised.claim_id)) \
        .distinct()


def superseded_versions(claims: ir.Table) -> ir.Table:
    """(``data_source``, ``claim_id``, ``family_id``) of every version final action drops: each version of a
    revised family but its final one, and the final one too when it cancels the family. Only revised families
    are ranked; an original claim that nothing revises is its own final version. Intake stores this list beside
    each claim table (:mod:`allpayer.intake.superseded`)."""
    revised = revised_families(claims)
    touched = claims.semi_join(revised, [claims.data_source == revised.data_source,
                                         ibis.coalesce(claims.original_claim_id, claims.claim_id)
                                         == revised.family_id])
    versions = claim_versions(touched)
    final = (versions.version_rank == 0) & ~versions.claim_status.fill_null("original").isin(CANCELLING)
    return versions.filter(~final).select("data_source", "claim_id", "family_id")


def final_action(claims: ir.Table, superseded: ir.Table | None = None) -> ir.Table:
    """The final version's lines of every family that was not cancelled, with their ``family_id``: the lines
    less the :func:`superseded_versions` (intake's stored list when given, else worked out here), one anti-join.

    Lines that already carry ``family_id`` are final-action lines (:func:`allpayer.intake.superseded.final_claims`)
    and are returned as they are."""
    if "family_id" in claims.columns:
        return claims
    dropped = superseded if superseded is not None else superseded_versions(claims)
    lines = claims.mutate(family_id=ibis.coalesce(claims.original_claim_id, claims.claim_id))
    return without_superseded(lines, dropped)


def final_action_among(claims: ir.Table, kept: ir.Table, superseded: ir.Table | None = None) -> ir.Table:
    """:func:`final_action` of ``kept``, rows of ``claims`` filtered before final action so that its anti-join
    reads only them. Without intake's ``superseded`` list, the list is worked out from every line of ``claims``,
    not from ``kept``: a family's versions may fall outside the filter. Final-action lines are returned as they
    are."""
    if "family_id" in kept.columns:
        return kept
    return final_action(kept, superseded if superseded is not None else superseded_versions(claims))


def without_superseded(rows: ir.Table, superseded: ir.Table) -> ir.Table:
    """``rows`` (with ``data_source``, ``claim_id``, ``family_id``) less those of the ``superseded`` versions."""
    kept = rows.anti_join(superseded, [rows.data_source == superseded.data_source,
                                       rows.claim_id == superseded.claim_id, rows.family_id == superseded.family_id])
    return kept.select(*rows.columns)  # a table, not a join, so callers may derive columns from it
