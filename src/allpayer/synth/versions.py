"""Money and time after the service: calibration to PMPM, paid/charge amounts, run-out lags, and claim
versions (adjustments, reversals, denials)."""

from __future__ import annotations

import numpy as np

from allpayer.synth.config import PAYER_TYPES, SynthConfig
from allpayer.synth.util import NULL, Frame, first_of_month, month_of, month_starts, take

ORIGINAL, ADJUSTMENT, REVERSAL, DENIAL = range(4)
STATUS_NAMES = ("original", "adjustment", "reversal", "denial")
LAG_MONTHS = (0, 1, 2, 3, 6, 12, 24)


def calibrate(cfg: SynthConfig, year: int, allowed: np.ndarray, payer_type: np.ndarray,
              member_months: dict[str, int], targets: dict[str, float]) -> np.ndarray:
    """Scale allowed amounts per payer type so spend / member months hits the trended PMPM target."""
    out = allowed.copy()
    trend = (1 + cfg.trend) ** (year - cfg.pmpm_base_year)
    for t, name in enumerate(PAYER_TYPES):
        sel = payer_type == t
        total = allowed[sel].sum()
        if total > 0 and member_months.get(name, 0) > 0:
            out[sel] *= targets[name] * trend * member_months[name] / total
    return out


def cents(x: np.ndarray) -> np.ndarray:
    return np.round(x * 100).astype(np.int64)


def amounts(r: np.random.Generator, allowed: np.ndarray, payer_type: np.ndarray, institutional: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(allowed, paid, charge) in cents: paid <= allowed <= charge."""
    allowed_c = cents(allowed)
    n = len(allowed)
    share = np.select(
        [payer_type == 0, payer_type == 1, payer_type == 2],
        [np.where(institutional, 0.92, 0.80), np.full(n, 0.86), np.full(n, 0.99)],
        r.uniform(0.65, 0.97, n))
    paid_c = np.floor(allowed_c * share).astype(np.int64)
    markup = np.where(institutional, r.uniform(1.8, 3.5, n), r.uniform(1.2, 2.6, n))
    charge_c = np.ceil(allowed_c * markup).astype(np.int64)
    return allowed_c, paid_c, charge_c


def paid_dates(r: np.random.Generator, cfg: SynthConfig, start: np.ndarray, end: np.ndarray,
               slow: np.ndarray) -> np.ndarray:
    """Paid date by the run-out curve: months of lag after the month of service, never before end + 1."""
    n = len(start)
    cum_fast = np.array([*cfg.runout_professional, 1.0])
    cum_slow = np.array([*cfg.runout_inpatient, 1.0])
    u = r.random(n)
    bucket = np.where(slow, np.searchsorted(cum_slow, u, side="right"), np.searchsorted(cum_fast, u, side="right"))
    bucket = np.minimum(bucket, len(LAG_MONTHS) - 1)
    # within a bucket (e.g. 4-6 months) spread evenly over its months
    lo = np.array([0, 1, 2, 3, 4, 7, 13])[bucket]
    hi = np.array(LAG_MONTHS)[bucket]
    lag = lo + np.floor(r.random(n) * (hi - lo + 1)).astype(np.int64)
    first_year = 1970
    service_month = month_of(start, first_year)
    target_month = service_month + lag
    ms = month_starts(first_year, int(target_month.max(initial=0)) + 2)
    m_start, m_end = ms[target_month], ms[target_month + 1] - 1
    earliest = end + 1
    lo_day = np.maximum(m_start, earliest)
    paid = lo_day + np.floor(r.random(n) * np.maximum(m_end - lo_day + 1, 1)).astype(np.int64)
    return np.maximum(paid, earliest)


def versions(r: np.random.Generator, cfg: SynthConfig, claims: Frame, lines: Frame) -> tuple[Frame, Frame]:
    """Append denials, adjustments and reversals as new claims (with copies of their lines).

    ``claims`` needs ``start``, ``end``, ``paid_date``; ``lines`` needs ``claim``, ``allowed``, ``paid``,
    ``charge`` (cents). Adds ``status`` and ``original`` (claim index or NULL) to claims.
    """
    n = len(claims["start"])
    claims = dict(claims)
    claims["status"] = np.full(n, ORIGINAL)
    claims["original"] = np.full(n, NULL)
    u = r.random(n)
    adj = np.flatnonzero(u < cfg.adjustment_share)
    rev = np.flatnonzero((u >= cfg.adjustment_share) & (u < cfg.adjustment_share + cfg.reversal_share))
    den = np.flatnonzero(r.random(n) < cfg.denial_share)
    order = np.argsort(lines["claim"], kind="stable")
    starts = np.searchsorted(lines["claim"][order], np.arange(n + 1))
    new_claims, new_lines = [claims], [lines]
    next_id = n
    for picked, status in ((den, DENIAL), (adj, ADJUSTMENT), (rev, REVERSAL)):
        if not len(picked):
            continue
        c = take(claims, picked)
        c["status"] = np.full(len(picked), status)
        if status == DENIAL:
            c["paid_date"] = c["end"] + r.integers(3, 30, len(picked))
        else:
            c["original"] = picked
            c["paid_date"] = claims["paid_date"][picked] + r.integers(20, 150, len(picked))
        counts = starts[picked + 1] - starts[picked]
        line_idx = order[np.repeat(starts[picked], counts) + _ramp(counts)]
        ln = take(lines, line_idx)
        ln["claim"] = next_id + np.repeat(np.arange(len(picked)), counts)
        if status == DENIAL:
            ln["allowed"] = np.zeros(len(line_idx), dtype=np.int64)
            ln["paid"] = np.zeros(len(line_idx), dtype=np.int64)
        elif status == ADJUSTMENT:
            f = r.uniform(0.85, 1.10, len(picked))[np.repeat(np.arange(len(picked)), counts)]
            ln["allowed"] = np.round(ln["allowed"] * f).astype(np.int64)
            ln["paid"] = np.minimum(np.round(ln["paid"] * f).astype(np.int64), ln["allowed"])
            ln["charge"] = np.maximum(ln["charge"], ln["allowed"])
        else:
            for col in ("allowed", "paid", "charge"):
                ln[col] = -ln[col]
        new_claims.append(c)
        new_lines.append(ln)
        next_id += len(picked)
    out_claims = {k: np.concatenate([f[k] for f in new_claims]) for k in claims}
    out_lines = {k: np.concatenate([f[k] for f in new_lines]) for k in lines}
    out_claims["file_date"] = first_of_month(out_claims["paid_date"])
    return out_claims, out_lines


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each count, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts
