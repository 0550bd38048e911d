"""Small vectorised helpers shared by the generator modules: random streams, dates, sampling, frames."""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)
NULL = -1  # null marker in integer-coded columns

# Frames are plain dicts of equal-length numpy arrays (one row per claim, line, person ...).
Frame = dict[str, np.ndarray]


def rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent random stream per (seed, purpose, year, chunk ...), so outputs are reproducible."""
    return np.random.default_rng([seed, *stream])


def day(year: int, month: int = 1, dom: int = 1) -> int:
    """Days since 1970-01-01."""
    return (dt.date(year, month, dom) - EPOCH).days


def month_starts(first_year: int, months: int) -> np.ndarray:
    """Day number of the first day of each month from January of ``first_year`` (``months + 1`` values)."""
    base = np.datetime64(f"{first_year}-01", "M")
    return (base + np.arange(months + 1)).astype("datetime64[D]").astype(np.int64)


def month_of(days: np.ndarray, first_year: int) -> np.ndarray:
    """Month index (0 = January of ``first_year``) of day numbers."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months - (first_year - 1970) * 12


def first_of_month(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def choice(r: np.random.Generator, n: int, probs: np.ndarray | list[float]) -> np.ndarray:
    """``n`` draws of category indices with probabilities ``probs`` (normalised)."""
    p = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cum, r.random(n), side="right"), len(p) - 1)


def choice_rows(r: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category per row of a (n, k) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    u = r.random((weights.shape[0], 1)) * total
    return np.minimum((cum <= u).sum(axis=1), weights.shape[1] - 1)


def pick_in_groups(r: np.random.Generator, group: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                   members: np.ndarray) -> np.ndarray:
    """A random member of each row's group (``members[starts[g]:starts[g]+counts[g]]``); NULL if empty."""
    cnt = counts[group]
    offset = np.floor(r.random(len(group)) * np.maximum(cnt, 1)).astype(np.int64)
    out = members[np.minimum(starts[group] + offset, len(members) - 1)] if len(members) else \
        np.full(len(group), NULL, dtype=np.int64)
    return np.where(cnt > 0, out, NULL)


def group_index(keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members sorted by group, with each group's start and count (for :func:`pick_in_groups`)."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return order, starts, counts


def rank_within(keys: np.ndarray) -> np.ndarray:
    """0-based position of each row among rows with the same key, in row order (keys need not be sorted)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0))
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[order] = np.arange(len(keys)) - group_start
    return ranks


def concat(frames: list[Frame], defaults: dict[str, object] | None = None) -> Frame:
    """Row-bind frames; a column missing from a frame is filled with its default (NULL unless given)."""
    frames = [f for f in frames if f and len(next(iter(f.values()))) > 0]
    if not frames:
        return {}
    defaults = defaults or {}
    names: list[str] = []
    for f in frames:
        names += [c for c in f if c not in names]
    out: Frame = {}
    for name in names:
        parts = []
        dtype = next(f[name].dtype for f in frames if name in f)
        for f in frames:
            n = len(next(iter(f.values())))
            parts.append(f[name] if name in f else np.full(n, defaults.get(name, NULL), dtype=dtype))
        out[name] = np.concatenate(parts)
    return out


def take(frame: Frame, index: np.ndarray) -> Frame:
    return {k: v[index] for k, v in frame.items()}


def rows(frame: Frame) -> int:
    return len(next(iter(frame.values()))) if frame else 0


def luhn_check_digits(first_nine: np.ndarray) -> np.ndarray:
    """NPI check digits for an array of nine-digit integers (vectorised form of ``npi_check_digit``)."""
    digits = np.stack([(first_nine // 10 ** (8 - i)) % 10 for i in range(9)], axis=1)
    doubled = digits[:, 0::2] * 2
    doubled = doubled - np.where(doubled > 9, 9, 0)
    total = 24 + doubled.sum(axis=1) + digits[:, 1::2].sum(axis=1)
    return (10 - total % 10) % 10


def interp_prevalence(age: np.ndarray, knots: list[tuple[float, float]]) -> np.ndarray:
    xs, ys = zip(*knots, strict=True)
    return np.interp(age, xs, ys)
