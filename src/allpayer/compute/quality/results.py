"""From measure frames to the ``quality_measure`` table: counts and rates by program, practice and year,
targets, status, trend against the prior year, and small-cell suppression for public output."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.compute.exact import exact_sum
from allpayer.config.quality import UNIT_SCALE, QualitySettings

RESULT_KEYS = ["measure_id", "program_id", "year", "level", "practice_id"]
SUM_DIGITS = 9


def registry_table(settings: QualitySettings) -> ir.Table:
    """One row per registry measure with what the results need: name, tier, direction, unit scale, target,
    baseline, source."""
    ms = settings.measures
    return ibis.memtable(pa.table({
        "measure_id": [m.id for m in ms], "measure_name": [m.name for m in ms], "tier": [m.tier for m in ms],
        "direction": [m.direction for m in ms], "unit": [m.unit for m in ms],
        "scale": pa.array([float(UNIT_SCALE[m.unit]) for m in ms], pa.float64()),
        "target": pa.array([m.target.value if m.target else None for m in ms], pa.float64()),
        "baseline_year": pa.array([m.baseline.year if m.baseline else None for m in ms], pa.int64()),
        "baseline_value": pa.array([m.baseline.value if m.baseline else None for m in ms], pa.float64()),
        "source": [m.source for m in ms], "care_gap": pa.array([m.care_gap for m in ms], pa.string()),
    }))


def aggregate(frames: ir.Table, registry: ir.Table) -> ir.Table:
    """Program-level (``practice_id`` null) and practice-level counts and rates, unsuppressed:
    denominator, numerator, exclusions (excluded units), persons (not excluded), rate."""
    kept = ~frames.excluded

    def by(level: str, practice: ir.StringValue) -> ir.Table:
        f = frames.mutate(level=ibis.literal(level), practice_id=practice)
        # Member-years (months / 12) summed in any row order give the same total (allpayer.compute.exact).
        return f.group_by(RESULT_KEYS).aggregate(
            denominator=exact_sum(f.denominator, kept), numerator=exact_sum(f.numerator, kept),
            exclusions=f.excluded.sum().cast("int64"),
            persons=f.person_id.nunique(where=kept & (f.denominator > 0)).cast("int64"))

    out = by("program", ibis.null().cast("string")).union(by("practice", frames.practice_id), distinct=False)
    # Each unit's float (7/12 is not exact) brings an error of 1e-17 to the sum: rounded, none is left.
    out = out.mutate(denominator=out.denominator.cast("float64").fill_null(0.0).round(SUM_DIGITS),
                     numerator=out.numerator.cast("float64").fill_null(0.0).round(SUM_DIGITS))
    j = out.join(registry.select("measure_id", "scale"), "measure_id")
    rate = ibis.ifelse(j.denominator > 0, j.numerator / j.denominator * j.scale, ibis.null().cast("float64"))
    return j.mutate(rate=rate).drop("scale")


def publishable(results: ir.Table, registry: ir.Table, min_cell_size: int) -> ir.Table:
    """``quality_measure``: results with measure metadata, target status, prior-year trend and suppression
    (counts, rate and exclusions are null when persons, or a non-zero numerator or exclusion count, are below
    ``min_cell_size``; status and trend are kept)."""
    r = results.join(registry.drop("care_gap", "scale"), "measure_id")
    prior = results.select("measure_id", "program_id", "level", "practice_id", prior_rate="rate",
                           year=results.year + 1)
    same_practice = (r.practice_id == prior.practice_id) | (r.practice_id.isnull() & prior.practice_id.isnull())
    r = r.left_join(prior, [r.measure_id == prior.measure_id, r.program_id == prior.program_id,
                            r.level == prior.level, r.year == prior.year, same_practice])
    r = r.drop(*[c for c in r.columns if c.endswith("_right")])
    better = ibis.ifelse(r.direction == "higher", 1.0, -1.0)
    change = (r.rate - r.prior_rate) * better
    trend = ibis.cases((change.isnull(), ibis.null().cast("string")), (change > 0, "improved"),
                       (change < 0, "worsened"), else_="unchanged")
    met = ibis.ifelse(r.direction == "higher", r.rate >= r.target, r.rate <= r.target)
    status = ibis.cases((r.rate.isnull(), "no data"), (r.target.isnull(), "no target"), (met, "met"),
                        else_="not met")
    small = lambda v: (v > 0) & (v < min_cell_size)  # noqa: E731
    # published population statistics (level ``state``) are not suppressed
    suppressed = (r.level != "state") & ((r.persons < min_cell_size) | small(r.numerator)
                                         | small(r.exclusions.cast("float64")))
    hide = lambda v: ibis.ifelse(suppressed, ibis.null().cast(v.type()), v)  # noqa: E731
    return r.select(
        "measure_id", "measure_name", "tier", "source", "program_id", "year", "level", "practice_id",
        denominator=hide(r.denominator), numerator=hide(r.numerator), exclusions=hide(r.exclusions),
        persons=hide(r.persons), rate=hide(r.rate), unit="unit", direction="direction", target="target",
        baseline_year="baseline_year", baseline_value="baseline_value", status=status, trend=trend,
        suppressed=suppressed)
