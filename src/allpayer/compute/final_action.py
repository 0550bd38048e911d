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
# A line's lineage: its file and 1-based row. Unique within a published claim table (a load's files have distinct
# names), so a list of superseded lines is matched on one short text of few values and an integer.
LINE_KEY = ("source_file", "source_row")
VERSION_KEY = ("data_source", "claim_id", "family_id")


def claim_family(claims: ir.Table) -> ir.StringValue:
    """A line's family: the original claim it names, else its own claim."""
    return ibis.coalesce(claims.original_claim_id, claims.claim_id)


def claim_versions(claims: ir.Table) -> ir.Table:
    """One row per claim version with its family, date, status and rank in the family (0 = final)."""
    dated = claims.mutate(
        _family=claim_family(claims),
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
    return revised.select("data_source", family_id=claim_family(revised)) \
        .distinct()


def _revised_lines(claims: ir.Table) -> ir.Table:
    """The lines of the :func:`revised_families`: the only ones whose versions are ranked."""
    revised = revised_families(claims)
    return claims.semi_join(revised, [claims.data_source == revised.data_source,
                                      claim_family(claims) == revised.family_id])


def _dropped(versions: ir.Table) -> ir.Table:
    final = (versions.version_rank == 0) & ~versions.claim_status.fill_null("original").isin(CANCELLING)
    return versions.filter(~final).select(*VERSION_KEY)


def superseded_versions(claims: ir.Table) -> ir.Table:
    """(``data_source``, ``claim_id``, ``family_id``) of every version final action drops: each version of a
    revised family but its final one, and the final one too when it cancels the family. Only revised families
    are ranked; an original claim that nothing revises is its own final version."""
    return _dropped(claim_versions(_revised_lines(claims)))


def superseded_lines(claims: ir.Table) -> ir.Table:
    """(``source_file``, ``source_row``) of every line of the :func:`superseded_versions`: the list intake stores
    beside each claim table (:mod:`allpayer.intake.superseded`). Matched on these two columns, final action needs
    neither claim ids nor families: 2.3 s against 3.0 s to group the 20.5M medical lines of 630k persons."""
    narrow = claims.select("data_source", "claim_id", "original_claim_id", "claim_status", "file_date", "paid_date",
                           *LINE_KEY)
    touched = _revised_lines(narrow)
    touched = touched.mutate(_line_family=claim_family(touched))
    # Renamed: derived from the same lines, the keys of both sides would bind to one table and the join would be
    # a nested loop.
    dropped = _dropped(claim_versions(touched)).rename(_source="data_source", _claim="claim_id", _family="family_id")
    lines = touched.semi_join(dropped, [touched.data_source == dropped._source, touched.claim_id == dropped._claim,
                                        touched._line_family == dropped._family])
    return lines.select(*LINE_KEY)


def final_action(claims: ir.Table, superseded: ir.Table | None = None) -> ir.Table:
    """The final version's lines of every family that was not cancelled, with their ``family_id``: the lines
    less the ``superseded`` list, one anti-join. The list is intake's (:func:`superseded_lines`) or any list of
    :func:`superseded_versions`; without one, the versions are worked out here.

    Lines that already carry ``family_id`` are final-action lines (:func:`allpayer.intake.superseded.final_claims`)
    and are returned as they are."""
    if "family_id" in claims.columns:
        return claims
    dropped = superseded if superseded is not None else superseded_versions(claims)
    lines = claims.mutate(family_id=claim_family(claims))
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
    """``rows`` less those of the ``superseded`` list: lines (:func:`superseded_lines`, matched on
    :data:`LINE_KEY`) or versions (:func:`superseded_versions`, matched on ``data_source``, ``claim_id`` and
    ``family_id``, which ``rows`` then carries)."""
    key = LINE_KEY if set(LINE_KEY) <= set(superseded.columns) else VERSION_KEY
    kept = rows.anti_join(superseded, [rows[k] == superseded[k] for k in key])
    return kept.select(*rows.columns)  # a table, not a join, so callers may derive columns from it
