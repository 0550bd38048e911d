"""Pharmacy fills for one chunk-year: maintenance drugs on a refill cadence (30 or 90 days) for people
with the matching condition or age profile, plus acute fills."""

from __future__ import annotations

import numpy as np

from allpayer.synth import codes
from allpayer.synth.claims import Chunk
from allpayer.synth.providers import Role
from allpayer.synth.util import NULL, Frame, choice, concat, interp_prevalence

NDC = tuple(dict.fromkeys([n for m in codes.MAINTENANCE for n in m[1]] + [a[1] for a in codes.ACUTE_DRUGS]))
_NDC_IX = {n: i for i, n in enumerate(NDC)}
SPEC_NAMES = [s[0] for s in codes.SPECIALTIES]


def _maintenance(ch: Chunk) -> list[Frame]:
    r = ch.r
    n = len(ch.persons)
    out = []
    for _name, ndcs, condition, knots, share, daily, sex, spec in codes.MAINTENANCE:
        if condition:
            active = ch.cond[:, codes.CONDITIONS.index(condition)] & (r.random(n) < share)
        else:
            active = r.random(n) < interp_prevalence(ch.age, knots)
        if sex:
            active &= ch.female if sex == "female" else ~ch.female
        active &= ch.user
        p = np.flatnonzero(active)
        if not len(p):
            continue
        step = np.where(r.random(len(p)) < 0.3, 3, 1)
        slots = ch.n_months[p] // step
        fills = r.binomial(slots, np.where(ch.senior[p], 0.92, 0.85))
        offset = np.floor(r.random(len(p)) * (ch.n_months[p] - np.maximum(fills - 1, 0) * step)).astype(np.int64)
        dom = r.integers(0, 28, len(p))
        which = r.integers(0, len(ndcs), len(p))
        prescriber = ch.pop.usual_pcp[ch.persons[p]]
        if spec:
            by_spec = ch.prov.pick_specialist(r, ch.hsa[p], np.full(len(p), SPEC_NAMES.index(spec)))
            prescriber = np.where(r.random(len(p)) < 0.5, by_spec, prescriber)
        fp = np.repeat(np.arange(len(p)), fills)
        k = np.arange(len(fp)) - np.repeat(np.cumsum(fills) - fills, fills)
        month = ch.month_list[p[fp], np.minimum(offset[fp] + k * step[fp], 11)]
        days = ch.pop.month_start[ch.m0 + month] + dom[fp]
        ds = 30 * step[fp]
        out.append({"person": p[fp], "day": days, "ndc": np.array([_NDC_IX[x] for x in ndcs])[which[fp]],
                    "days_supply": ds, "quantity": ds, "prescriber": prescriber[fp],
                    "price": daily * ds * np.exp(r.normal(0, 0.15, len(fp)))})
    return out


def _acute(ch: Chunk) -> Frame:
    r = ch.r
    rate = np.where(ch.child, 1.5, np.where(ch.senior, 8.5, 2.2)) * ch.risk ** 0.5
    n = ch.counts(rate)
    p = np.repeat(np.arange(len(n)), n)
    days = ch.service_days(p)
    drug = choice(r, len(p), [0.18, 0.14, 0.1, 0.1, 0.06, 0.08, 0.12, 0.12, 0.03, 0.07])
    cost = np.array([a[2] for a in codes.ACUTE_DRUGS])[drug]
    ds = np.array([a[3] for a in codes.ACUTE_DRUGS])[drug]
    who = choice(r, len(p), [0.7, 0.15, 0.15])
    prescriber = np.select([who == 0, who == 1], [ch.pop.usual_pcp[ch.persons[p]], ch.prov.pick(r, ch.hsa[p], Role.ED)],
                           ch.prov.pick(r, ch.hsa[p], Role.PCP))
    return {"person": p, "day": days, "ndc": np.array([_NDC_IX[a[1]] for a in codes.ACUTE_DRUGS])[drug],
            "days_supply": ds, "quantity": ds * 2, "prescriber": prescriber,
            "price": cost * np.exp(r.normal(0, 0.2, len(p)))}


def generate(ch: Chunk) -> Frame:
    """Fills (one row each) with person, product, day, NDC, supply, prescriber, pharmacy and base price."""
    r = ch.r
    fills = concat([*_maintenance(ch), _acute(ch)])
    if not fills:
        return {}
    p = fills["person"]
    fills["day"] = np.clip(fills["day"], ch.birth[p], ch.death[p])
    prod = ch.product_on(p, fills["day"])
    keep = prod != NULL
    fills = {k: v[keep] for k, v in fills.items()}
    fills["product"] = prod[keep]
    p = fills["person"]
    usual = ch.pop.usual_pharmacy[ch.persons[p]]
    fills["pharmacy"] = np.where(r.random(len(p)) < 0.85, usual, ch.prov.pick(r, ch.hsa[p], Role.PHARMACY))
    fills["refills"] = r.integers(0, 6, len(p))
    bad = fills["prescriber"] == NULL
    fills["prescriber"][bad] = ch.prov.pick(r, ch.hsa[p[bad]], Role.PCP)
    return fills
