"""Per program-year quality score (docs/measures.md, "Scores"): points earned over points possible on the
program's scored measures, by target attainment or benchmark percentiles; the settlement reads the
``quality_score`` table for its quality gate, modifier and withhold."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from allpayer.config.models import Pack
from allpayer.config.quality import QualitySettings

POINTS = "decimal(9, 4)"


def scored_measures(pack: Pack, settings: QualitySettings, years: list[int]) -> ir.Table:
    """(program_id, year, measure_id) of every scored measure of every program running in ``years``."""
    rows = [(p.program_id, y, m.id) for y in years for p in pack.programs_in(y)
            for m in settings.scored_measures(p.program_id, p.payer_scope)]
    return ibis.memtable(pa.table({"program_id": pa.array([r[0] for r in rows], pa.string()),
                                   "year": pa.array([r[1] for r in rows], pa.int64()),
                                   "measure_id": pa.array([r[2] for r in rows], pa.string())}))


def _benchmarks(settings: QualitySettings) -> ir.Table:
    """(measure_id, threshold, points): the rate a measure must reach for each percentile's points."""
    points = {pp.percentile: pp.points for pp in settings.scoring.percentile_points}
    rows = [(m.id, rate, points[pct]) for m in settings.measures for pct, rate in m.benchmarks.items()
            if pct in points]
    return ibis.memtable(pa.table({"measure_id": pa.array([r[0] for r in rows], pa.string()),
                                   "threshold": pa.array([r[1] for r in rows], pa.float64()),
                                   "points": pa.array([r[2] for r in rows], pa.decimal128(9, 4))}))


def measure_points(results: ir.Table, registry: ir.Table, scored: ir.Table, settings: QualitySettings) -> ir.Table:
    """(program_id, year, measure_id, rate, points_earned, points_possible) for each scored measure with data
    (a measure without eligible units in a program-year is left out of both earned and possible points)."""
    s = settings.scoring
    r = results.filter((results.level == "program") & results.rate.notnull())
    r = r.join(scored, ["program_id", "year", "measure_id"]).join(registry, "measure_id")
    r = r.select("program_id", "year", "measure_id", "rate", "direction", "target", "baseline_value")
    reaches = lambda rate, bar: ibis.ifelse(r.direction == "higher", rate >= bar, rate <= bar)  # noqa: E731
    if s.method == "target_attainment":
        met = reaches(r.rate, r.target).fill_null(False)
        improved = (ibis.ifelse(r.direction == "higher", r.rate > r.baseline_value, r.rate < r.baseline_value)
                    .fill_null(False))
        earned = ibis.cases((met, ibis.literal(s.target_points, POINTS)),
                            (improved, ibis.literal(s.improvement_points, POINTS)), else_=ibis.literal(0, POINTS))
        out = r.mutate(points_earned=earned)
    else:
        b = _benchmarks(settings)
        j = r.left_join(b, (r.measure_id == b.measure_id) & ibis.ifelse(r.direction == "higher", r.rate >= b.threshold,
                                                                          r.rate <= b.threshold))
        out = j.group_by(["program_id", "year", "measure_id", "rate"]).aggregate(points_earned=j.points.max())
        out = out.mutate(points_earned=out.points_earned.fill_null(ibis.literal(0, POINTS)))
    return out.select("program_id", "year", "measure_id", "rate",
                      points_earned=out.points_earned.cast(POINTS),
                      points_possible=ibis.literal(s.points_possible, POINTS))


def quality_score(points: ir.Table, settings: QualitySettings) -> ir.Table:
    """``quality_score``: program_id, year, method, measures_scored, points_earned, points_possible, score
    (decimal 0-1, 4 places), gate, gate_met, reporting_only."""
    s = settings.scoring
    g = points.group_by(["program_id", "year"]).aggregate(
        measures_scored=points.measure_id.count().cast("int64"), points_earned=points.points_earned.sum(),
        points_possible=points.points_possible.sum())
    score = (g.points_earned.cast("float64") / g.points_possible.cast("float64")).round(4).cast(POINTS)
    gate = ibis.literal(s.gate, POINTS)
    return g.select("program_id", "year", method=ibis.literal(s.method), measures_scored=g.measures_scored,
                    points_earned=g.points_earned.cast(POINTS), points_possible=g.points_possible.cast(POINTS),
                    score=score, gate=gate, gate_met=score >= gate,
                    reporting_only=g.year.isin(s.reporting_only_years or [-1]))
