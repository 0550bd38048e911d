"""Medical claims for one chunk of persons in one year: events (visits, ED, admissions ...) become claims
(header-level attributes) and lines (codes, revenue, units, base price). All steps are vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allpayer.synth import codes
from allpayer.synth.codes import HCPCS, HCPCS_PRICE, ICD10CM, POS, REVENUE
from allpayer.synth.config import SynthConfig
from allpayer.synth.population import Population
from allpayer.synth.providers import Providers, Role
from allpayer.synth.util import NULL, Frame, choice, choice_rows, concat, day, rank_within

DIAG_SLOTS = 8
PROF, INST = 0, 1
# Event kinds (kept on claims for calibration checks and tests).
KINDS = ("office", "preventive", "specialist", "therapy", "lab", "imaging", "ed", "ed_prof", "inpatient",
         "inpatient_prof", "surgeon", "tcm", "snf", "snf_prof", "home_health", "pt", "followup", "infusion")
K = {k: i for i, k in enumerate(KINDS)}
# Relative price level by payer type index (medicare, MA, medicaid, commercial, self-funded)
PAYER_TYPE_INDEX = {"medicare": 0, "medicare_advantage": 1, "medicaid": 2, "commercial": 3, "self_funded": 4}


def hc(*names: str) -> np.ndarray | int:
    return HCPCS.ix(*names)


def dx(*names: str) -> np.ndarray | int:
    return ICD10CM.ix(*names)


@dataclass
class Chunk:
    """Everything the event generators need about one chunk of persons in one year."""

    cfg: SynthConfig
    pop: Population
    prov: Providers
    year: int
    persons: np.ndarray  # global person indices
    r: np.random.Generator

    def __post_init__(self) -> None:
        cfg, pop = self.cfg, self.pop
        self.m0 = (self.year - cfg.first_year) * 12
        gm = self.m0 + np.arange(12)
        self.product = pop.payer_product(self.persons[:, None], gm[None, :])  # (n, 12)
        self.enrolled = self.product > 0
        self.n_months = self.enrolled.sum(axis=1)
        self.month_list = np.argsort(~self.enrolled, axis=1, kind="stable")
        mid = day(self.year, 7, 1)
        self.age = pop.age_at(mid)[self.persons]
        self.cond = pop.conditions(mid, self.persons) & (self.n_months > 0)[:, None]
        self.hsa = pop.hsa[self.persons]
        self.birth = pop.birth[self.persons]
        self.death = np.where(pop.death[self.persons] == NULL, np.iinfo(np.int64).max, pop.death[self.persons])
        self.risk = pop.risk[self.persons] * np.exp(self.r.normal(-0.08, 0.4, len(self.persons)))
        has_cond = self.cond.any(axis=1)
        p_none = np.where(self.age < 18, 0.16, np.where(self.age < 65, 0.32, 0.10))
        self.user = (self.n_months > 0) & (has_cond | (self.r.random(len(self.persons)) >= p_none))
        self.exposure = self.n_months / 12.0
        ptypes = np.array([PAYER_TYPE_INDEX.get(p.payer_type, NULL) for p in pop.products])
        self.product_type = ptypes
        self.senior = self.age >= 65
        self.child = self.age < 18
        self.female = pop.sex[self.persons] == 0
        # a persistent choice between a condition's codes (e.g. E119 or E1165) per person
        self.cond_code = np.stack([np.array(dx(*codes.CONDITION_DX[c]), ndmin=1)[
            (self.pop.condition_u[self.persons, i] * 997).astype(np.int64) % len(codes.CONDITION_DX[c])]
            for i, c in enumerate(codes.CONDITIONS)], axis=1)

    def counts(self, rate: np.ndarray) -> np.ndarray:
        return self.r.poisson(np.maximum(rate, 0) * self.exposure * self.user)

    def service_days(self, p: np.ndarray) -> np.ndarray:
        """A day in a random enrolled month of the year for each local person index."""
        r = self.r
        k = np.floor(r.random(len(p)) * np.maximum(self.n_months[p], 1)).astype(np.int64)
        month = self.month_list[p, k]
        ms = self.pop.month_start
        lo = np.maximum(ms[self.m0 + month], self.birth[p])
        hi = np.minimum(ms[self.m0 + month + 1] - 1, self.death[p])
        return lo + np.floor(r.random(len(p)) * np.maximum(hi - lo + 1, 1)).astype(np.int64)

    def product_on(self, p: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Paying product on a day (NULL when not covered, outside the window or after death)."""
        months = ((days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64))
                  - (self.cfg.first_year - 1970) * 12)
        inside = (months >= 0) & (months < self.pop.months) & (days <= self.death[p]) & (days >= self.birth[p])
        prod = self.pop.payer_product(self.persons[p], np.clip(months, 0, self.pop.months - 1))
        return np.where(inside & (prod > 0), prod, NULL)

    def acute_dx(self, p: np.ndarray) -> np.ndarray:
        child = dx(*codes.ACUTE_DX_CHILD)
        adult = dx(*codes.ACUTE_DX_ADULT)
        u = self.r.random(len(p))
        return np.where(self.child[p], child[(u * len(child)).astype(int)], adult[(u * len(adult)).astype(int)])


class Builder:
    """Accumulates claim frames and line frames; line ``claim`` columns are offset automatically."""

    def __init__(self) -> None:
        self.claims: list[Frame] = []
        self.lines: list[Frame] = []
        self.n = 0

    def add(self, claims: Frame, lines: Frame) -> np.ndarray:
        count = len(claims["person"])
        if count == 0:
            return np.arange(self.n, self.n)
        lines = dict(lines)
        lines["claim"] = lines["claim"] + self.n
        self.claims.append(claims)
        self.lines.append(lines)
        ids = np.arange(self.n, self.n + count)
        self.n += count
        return ids

    def frames(self) -> tuple[Frame, Frame]:
        return concat(self.claims), _lines(self.lines)


LINE_DEFAULTS: dict[str, object] = {"units": 1.0, "price": np.nan, "price_factor": 1.0}


def _lines(parts: list[Frame]) -> Frame:
    return concat(parts, LINE_DEFAULTS)


def _dx_matrix(first: np.ndarray, extra: np.ndarray) -> dict[str, np.ndarray]:
    """Diagnosis slots: ``first`` in slot 1, then the non-null ``extra`` codes left-aligned."""
    n = len(first)
    mat = np.concatenate([first[:, None], extra], axis=1) if extra.size else first[:, None]
    order = np.argsort(mat == NULL, axis=1, kind="stable")
    mat = np.take_along_axis(mat, order, axis=1)
    out = {f"dx{i + 1}": (mat[:, i] if i < mat.shape[1] else np.full(n, NULL)) for i in range(DIAG_SLOTS)}
    return out


def _conditions_dx(ch: Chunk, p: np.ndarray, include: np.ndarray) -> np.ndarray:
    return np.where(ch.cond[p] & include, ch.cond_code[p], NULL)


def _claims(ch: Chunk, p: np.ndarray, kind: str, ctype: int, start: np.ndarray, end: np.ndarray,
            product: np.ndarray, rendering: np.ndarray, billing: np.ndarray, pos: int | np.ndarray,
            dxs: dict[str, np.ndarray], **extra: np.ndarray | int) -> Frame:
    n = len(p)
    frame = {"person": p, "kind": np.full(n, K[kind]), "ctype": np.full(n, ctype), "start": start, "end": end,
             "product": product, "rendering": rendering, "billing": billing,
             "pos": np.broadcast_to(np.asarray(pos), n).copy(), **dxs}
    for name, value in extra.items():
        frame[name] = np.broadcast_to(np.asarray(value), n).copy()
    return frame


def _keep(ch: Chunk, p: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events whose day is covered: (mask, product) helper."""
    prod = ch.product_on(p, days)
    ok = prod != NULL
    return ok, prod, days


def _pcp(ch: Chunk, p: np.ndarray) -> np.ndarray:
    usual = ch.pop.usual_pcp[ch.persons[p]]
    other = ch.prov.pick(ch.r, ch.hsa[p], Role.PCP)
    return np.where((ch.r.random(len(p)) < ch.cfg.usual_pcp_share) & (usual != NULL), usual, other)


def office_visits(ch: Chunk, b: Builder) -> None:
    r, cfg = ch.r, ch.cfg
    rate = np.where(ch.age < 2, 3.0, np.where(ch.child, 1.3, np.where(ch.senior, 3.9, 1.9))) * ch.risk ** 0.6
    n = ch.counts(rate)
    n = np.where(ch.user & ch.cond.any(axis=1), np.maximum(n, 1), n)
    p = np.repeat(np.arange(len(n)), n)
    days = ch.service_days(p)
    first = rank_within(p) == 0
    ok, prod, _ = _keep(ch, p, days)
    p, days, first, prod = p[ok], days[ok], first[ok], prod[ok]
    m = len(p)
    rendering = _pcp(ch, p)
    tele_share = {2020: 0.3, 2021: 0.15}.get(ch.year, 0.08) if ch.year >= cfg.telehealth_first_year else 0.0
    tele = r.random(m) < tele_share
    pos = np.where(tele, np.where((ch.year >= 2022) & (r.random(m) < 0.5), POS.ix("10"), POS.ix("02")), POS.ix("11"))
    em = np.where(r.random(m) < 0.05, hc("99203", "99204")[choice(r, m, [0.6, 0.4])],
                  hc("99212", "99213", "99214", "99215")[choice(r, m, [0.10, 0.45, 0.38, 0.07])])
    has = ch.cond[p].any(axis=1)
    principal = np.where(first & has, ch.cond_code[p][np.arange(m), np.argmax(ch.cond[p], axis=1)], ch.acute_dx(p))
    include = first[:, None] | (r.random((m, len(codes.CONDITIONS))) < 0.7)
    extra = _conditions_dx(ch, p, include)
    extra = np.where(extra == principal[:, None], NULL, extra)
    claims = _claims(ch, p, "office", PROF, days, days, prod, rendering, ch.prov.billing[rendering], pos,
                     _dx_matrix(principal, extra))
    idx = np.arange(m)
    lines = [{"claim": idx, "hcpcs": em, "mod1": np.where(tele, codes.MODIFIERS.ix("95"), NULL)}]
    diab, htn = ch.cond[p, 0], ch.cond[p, 1]
    a1c = diab & (r.random(m) < 0.5)
    lines.append({"claim": idx[a1c], "hcpcs": hc("3044F", "3051F", "3052F", "3046F")[
        choice(r, int(a1c.sum()), [0.5, 0.2, 0.15, 0.15])]})
    bp = htn & (r.random(m) < 0.6)
    nb = int(bp.sum())
    lines.append({"claim": idx[bp], "hcpcs": hc("3074F", "3075F", "3077F")[choice(r, nb, [0.45, 0.3, 0.25])]})
    lines.append({"claim": idx[bp], "hcpcs": hc("3078F", "3079F", "3080F")[choice(r, nb, [0.6, 0.3, 0.1])]})
    if ch.year >= cfg.g2211_first_year:
        g = r.random(m) < 0.4
        lines.append({"claim": idx[g], "hcpcs": np.full(int(g.sum()), hc("G2211"))})
    acp = ch.senior[p] & (r.random(m) < 0.04)
    lines.append({"claim": idx[acp], "hcpcs": np.full(int(acp.sum()), hc("99497"))})
    ecg = ch.senior[p] & (r.random(m) < 0.08)
    lines.append({"claim": idx[ecg], "hcpcs": np.full(int(ecg.sum()), hc("93000"))})
    draw = ~tele & (r.random(m) < np.where(ch.child[p], 0.08, np.where(ch.senior[p], 0.5, 0.35)))
    lines.append({"claim": idx[draw], "hcpcs": np.full(int(draw.sum()), hc("36415"))})
    for code, prob in (("80053", 0.6), ("85025", 0.5), ("84443", 0.25)):
        sel = draw & (r.random(m) < prob)
        lines.append({"claim": idx[sel], "hcpcs": np.full(int(sel.sum()), hc(code))})
    sel = draw & diab
    lines.append({"claim": idx[sel], "hcpcs": np.full(int(sel.sum()), hc("83036"))})
    b.add(claims, _lines(lines))


def preventive_visits(ch: Chunk, b: Builder) -> None:
    r = ch.r
    prob = np.where(ch.child, 0.65, np.where(ch.senior, 0.55, 0.40))
    has = ch.user & (r.random(len(prob)) < prob)
    p = np.flatnonzero(has)
    days = ch.service_days(p)
    ok, prod, _ = _keep(ch, p, days)
    p, days, prod = p[ok], days[ok], prod[ok]
    m = len(p)
    age = ch.age[p]
    band = np.searchsorted([1, 5, 12, 18, 40, 65], age, side="right")
    new = r.random(m) < 0.1
    code = np.where(new, hc("99381", "99382", "99383", "99384", "99385", "99386", "99387")[band],
                    hc("99391", "99392", "99393", "99394", "99395", "99396", "99397")[band])
    medicare = np.isin(ch.product_type[prod], (0, 1))
    code = np.where(medicare & (age >= 65), np.where(r.random(m) < 0.15, hc("G0438"), hc("G0439")), code)
    rendering = np.where(r.random(m) < 0.95, ch.pop.usual_pcp[ch.persons[p]], ch.prov.pick(r, ch.hsa[p], Role.PCP))
    principal = np.where(ch.child[p], dx("Z00129"), np.where(r.random(m) < 0.8, dx("Z0000"), dx("Z0001")))
    extra = _conditions_dx(ch, p, np.ones((m, len(codes.CONDITIONS)), dtype=bool))
    claims = _claims(ch, p, "preventive", PROF, days, days, prod, rendering, ch.prov.billing[rendering],
                     POS.ix("11"), _dx_matrix(principal, extra))
    idx = np.arange(m)
    lines = [{"claim": idx, "hcpcs": code}]
    screen = (age >= 12) & (r.random(m) < 0.6)
    lines.append({"claim": idx[screen], "hcpcs": np.where(ch.cond[p[screen], 3], hc("G8431"), hc("G8510"))})
    lipid = (age >= 18) & (r.random(m) < 0.3)
    lines.append({"claim": idx[lipid], "hcpcs": np.full(int(lipid.sum()), hc("80061"))})
    for vaccine, prob in (("90707", 0.35), ("90700", 0.35)):  # childhood immunisations
        sel = (age < 7) & (r.random(m) < prob)
        k = int(sel.sum())
        lines += [{"claim": idx[sel], "hcpcs": np.full(k, hc(vaccine))},
                  {"claim": idx[sel], "hcpcs": np.full(k, hc("90460"))}]
    b.add(claims, _lines(lines))


def flu_shots(ch: Chunk, b: Builder) -> None:
    """Seasonal influenza vaccine at the usual PCP (October to December)."""
    r = ch.r
    p = np.flatnonzero(ch.user & (r.random(len(ch.age)) < np.where(ch.senior, 0.7, np.where(ch.child, 0.5, 0.4))))
    days = day(ch.year, 10, 1) + r.integers(0, 92, len(p))
    prod = ch.product_on(p, days)
    ok = prod != NULL
    p, days, prod = p[ok], days[ok], prod[ok]
    m = len(p)
    who = ch.pop.usual_pcp[ch.persons[p]]
    medicare = np.isin(ch.product_type[prod], (0, 1))
    claims = _claims(ch, p, "office", PROF, days, days, prod, who, ch.prov.billing[who], POS.ix("11"),
                     _dx_matrix(np.full(m, dx("Z23")), np.empty((m, 0), dtype=np.int64)))
    b.add(claims, _lines([{"claim": np.arange(m), "hcpcs": np.full(m, hc("90686"))},
                          {"claim": np.arange(m), "hcpcs": np.where(medicare, hc("G0008"), hc("90471"))}]))


def _covered_events(ch: Chunk, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events drawn at ``rate`` per person: (person, service day, paying product), covered days only."""
    n = ch.counts(rate)
    p = np.repeat(np.arange(len(n)), n)
    days = ch.service_days(p)
    ok, prod, _ = _keep(ch, p, days)
    return p[ok], days[ok], prod[ok]


def specialist_visits(ch: Chunk, b: Builder) -> None:
    r = ch.r
    rate = np.where(ch.child, 0.3, np.where(ch.senior, 4.0, 1.3)) * ch.risk ** 0.8
    p, days, prod = _covered_events(ch, rate)
    m = len(p)
    names = [s[0] for s in codes.SPECIALTIES]
    weights = np.tile(np.array([1.0, 0.6, 0.4, 0.6, 1.5, 0.6, 1.2, 0.8, 0.6, 1.0]), (m, 1))
    obgyn = names.index("obgyn")
    weights[:, obgyn] *= ch.female[p] & (ch.age[p] >= 15) & (ch.age[p] < 65)
    for s, spec in enumerate(codes.SPECIALTIES):
        if spec[4]:
            weights[:, s] += 3.0 * ch.cond[p, codes.CONDITIONS.index(spec[4])]
    spec = choice_rows(r, weights)
    rendering = ch.prov.pick_specialist(r, ch.hsa[p], spec)
    em = np.where(r.random(m) < 0.25, hc("99203", "99204")[choice(r, m, [0.5, 0.5])],
                  hc("99213", "99214", "99215")[choice(r, m, [0.35, 0.5, 0.15])])
    spec_dx = np.array([np.array(dx(*codes.SPECIALTY_DX[nm]), ndmin=1) for nm in names])  # (specs, 3)
    principal = spec_dx[spec, np.floor(r.random(m) * spec_dx.shape[1]).astype(int)]
    linked = np.array([codes.CONDITIONS.index(s[4]) if s[4] else 0 for s in codes.SPECIALTIES])
    has_link = np.array([bool(s[4]) for s in codes.SPECIALTIES])[spec] & ch.cond[p, linked[spec]]
    principal = np.where(has_link, ch.cond_code[p, linked[spec]], principal)
    extra = _conditions_dx(ch, p, r.random((m, len(codes.CONDITIONS))) < 0.5)
    extra = np.where(extra == principal[:, None], NULL, extra)
    pos = np.where(r.random(m) < 0.8, POS.ix("11"), POS.ix("22"))
    claims = _claims(ch, p, "specialist", PROF, days, days, prod, rendering, ch.prov.billing[rendering], pos,
                     _dx_matrix(principal, extra))
    idx = np.arange(m)
    proc_codes = np.array([hc(s[3]) if s[3] else NULL for s in codes.SPECIALTIES])[spec]
    proc = (proc_codes != NULL) & (r.random(m) < 0.3)
    b.add(claims, _lines([{"claim": idx, "hcpcs": em}, {"claim": idx[proc], "hcpcs": proc_codes[proc]}]))
    # hospital-based clinic visits also bill a facility claim
    hb = np.flatnonzero(pos == POS.ix("22"))
    k = len(hb)
    dxs = {name: col[hb] for name, col in claims.items() if name.startswith("dx")}
    hosp = _hospital(ch, p[hb])
    _institutional(ch, b, p[hb], "specialist", days[hb], days[hb], prod[hb], hosp, codes.BILL_TYPES.ix("131"), dxs,
                   [{"claim": np.arange(k), "hcpcs": np.full(k, hc("G0463")), "revenue": np.full(k, REVENUE.ix("0510")),
                     "price_factor": np.full(k, 1.5)},
                    {"claim": np.arange(k)[proc[hb]], "hcpcs": proc_codes[hb][proc[hb]],
                     "revenue": np.full(int(proc[hb].sum()), REVENUE.ix("0510")),
                     "price_factor": np.full(int(proc[hb].sum()), 3.0)}])


def therapy(ch: Chunk, b: Builder) -> None:
    r = ch.r
    bh = ch.cond[:, 3] | ch.cond[:, 4]
    in_tx = bh & ch.user & (r.random(len(bh)) < 0.35)
    n = np.where(in_tx, r.poisson(9 * ch.exposure), 0)
    p = np.repeat(np.arange(len(n)), n)
    days = ch.service_days(p)
    ok, prod, _ = _keep(ch, p, days)
    p, days, prod = p[ok], days[ok], prod[ok]
    m = len(p)
    rendering = ch.prov.pick(r, ch.hsa[p], Role.THERAPIST)
    principal = np.where(ch.cond[p, 3], ch.cond_code[p, 3], ch.cond_code[p, 4])
    first = rank_within(p) == 0
    code = np.where(first, hc("90791"), np.where(r.random(m) < 0.6, hc("90834"), hc("90837")))
    tele = (ch.year >= ch.cfg.telehealth_first_year) & (r.random(m) < 0.3)
    pos = np.where(tele, POS.ix("02"), POS.ix("11"))
    claims = _claims(ch, p, "therapy", PROF, days, days, prod, rendering, ch.prov.billing[rendering], pos,
                     _dx_matrix(principal, np.empty((m, 0), dtype=np.int64)))
    b.add(claims, {"claim": np.arange(m), "hcpcs": code, "mod1": np.where(tele, codes.MODIFIERS.ix("95"), NULL)})


def labs(ch: Chunk, b: Builder) -> None:
    r = ch.r
    rate = (np.where(ch.child, 0.3, np.where(ch.senior, 2.4, 1.2)) + ch.cond[:, 0]) * ch.risk ** 0.5
    p, days, prod = _covered_events(ch, rate)
    m = len(p)
    lab = ch.prov.pick(r, ch.hsa[p], Role.LAB)
    has = ch.cond[p].any(axis=1)
    principal = np.where(has, ch.cond_code[p][np.arange(m), np.argmax(ch.cond[p], axis=1)], dx("Z0000"))
    claims = _claims(ch, p, "lab", PROF, days, days, prod, lab, lab, POS.ix("81"),
                     _dx_matrix(principal, np.empty((m, 0), dtype=np.int64)))
    idx = np.arange(m)
    lines = [{"claim": idx, "hcpcs": np.full(m, hc("36415"))}]
    for code, prob in (("80053", 0.7), ("85025", 0.6), ("80061", 0.4), ("84443", 0.3), ("81003", 0.3), ("82306", 0.2)):
        sel = r.random(m) < prob
        lines.append({"claim": idx[sel], "hcpcs": np.full(int(sel.sum()), hc(code))})
    a1c = r.random(m) < np.where(ch.cond[p, 0], 0.9, 0.05)
    lines.append({"claim": idx[a1c], "hcpcs": np.full(int(a1c.sum()), hc("83036"))})
    b.add(claims, _lines(lines))


def _hospital(ch: Chunk, p: np.ndarray) -> np.ndarray:
    return ch.prov.pick(ch.r, ch.hsa[p], Role.HOSPITAL)


def _institutional(ch: Chunk, b: Builder, p: np.ndarray, kind: str, start: np.ndarray, end: np.ndarray,
                   prod: np.ndarray, facility: np.ndarray, bill: int, dxs: dict[str, np.ndarray],
                   lines: list[Frame], **extra: np.ndarray | int) -> np.ndarray:
    claims = _claims(ch, p, kind, INST, start, end, prod, np.full(len(p), NULL), facility, NULL, dxs,
                     facility=facility, bill=bill, **extra)
    return b.add(claims, _lines(lines))


def imaging(ch: Chunk, b: Builder) -> None:
    r = ch.r
    rate = np.where(ch.child, 0.1, np.where(ch.senior, 0.7, 0.35)) * ch.risk ** 0.5
    p, days, prod = _covered_events(ch, rate)
    m = len(p)
    study = choice(r, m, [0.45, 0.25, 0.15, 0.15])
    study = np.where((study == 3) & ~(ch.female[p] & (ch.age[p] >= 40)), 0, study)
    code = hc("71046", "73030", "70450", "77067")[study]
    principal = dx("R0602", "M25561", "S0990XA", "Z1231")[study]
    rev = REVENUE.ix("0320", "0320", "0350", "0402")[study]
    dxs = _dx_matrix(principal, np.empty((m, 0), dtype=np.int64))
    rad = ch.prov.pick(r, ch.hsa[p], Role.RADIOLOGY)
    idx = np.arange(m)
    b.add(_claims(ch, p, "imaging", PROF, days, days, prod, rad, ch.prov.billing[rad], POS.ix("22"), dxs),
          {"claim": idx, "hcpcs": code, "mod1": np.full(m, codes.MODIFIERS.ix("26"))})
    hosp = _hospital(ch, p)
    _institutional(ch, b, p, "imaging", days, days, prod, hosp, codes.BILL_TYPES.ix("131"), dxs,
                   [{"claim": idx, "hcpcs": code, "revenue": rev, "price_factor": np.full(m, 6.0)}])


def emergency(ch: Chunk, b: Builder) -> None:
    r = ch.r
    rate = (np.where(ch.child, 0.3, np.where(ch.senior, 0.62, 0.38)) * ch.risk ** 0.7
            * (1 + 1.5 * ch.cond[:, 4] + 0.8 * ch.cond[:, 3]))
    p, days, prod = _covered_events(ch, rate)
    m = len(p)
    u = r.random(m)
    aod = (ch.cond[p, 4] & (u < 0.3)) | (u > 0.985)
    mental = ~aod & ((ch.cond[p, 3] & (u < 0.5)) | (u > 0.96))
    ed_dx = dx(*codes.ED_DX)
    principal = ed_dx[np.floor(r.random(m) * len(ed_dx)).astype(int)]
    principal = np.where(aod, np.where(ch.cond[p, 4], ch.cond_code[p, 4], dx("F1010")), principal)
    mi = np.array(dx(*codes.MENTAL_DX))
    principal = np.where(mental, np.where(ch.cond[p, 3], ch.cond_code[p, 3], mi[(r.random(m) * len(mi)).astype(int)]),
                         principal)
    extra = _conditions_dx(ch, p, r.random((m, len(codes.CONDITIONS))) < 0.6)
    extra = np.where(extra == principal[:, None], NULL, extra)
    dxs = _dx_matrix(principal, extra)
    level = hc("99282", "99283", "99284", "99285")[choice(r, m, [0.05, 0.35, 0.40, 0.20])]
    doc = ch.prov.pick(r, ch.hsa[p], Role.ED)
    idx = np.arange(m)
    b.add(_claims(ch, p, "ed_prof", PROF, days, days, prod, doc, ch.prov.billing[doc], POS.ix("23"), dxs),
          {"claim": idx, "hcpcs": level})
    hosp = _hospital(ch, p)
    lines = [{"claim": idx, "hcpcs": level, "revenue": np.full(m, REVENUE.ix("0450")), "price_factor": np.full(m, 9.0)}]
    for code, rev, prob, factor in (("80053", "0300", 0.55, 5.0), ("85025", "0300", 0.5, 5.0),
                                    ("71046", "0320", 0.35, 6.0), ("70450", "0350", 0.15, 6.0)):
        sel = r.random(m) < prob
        k = int(sel.sum())
        lines.append({"claim": idx[sel], "hcpcs": np.full(k, hc(code)), "revenue": np.full(k, REVENUE.ix(rev)),
                      "price_factor": np.full(k, factor)})
    sel = r.random(m) < 0.5
    lines.append({"claim": idx[sel], "hcpcs": np.full(int(sel.sum()), NULL),
                  "revenue": np.full(int(sel.sum()), REVENUE.ix("0250")), "price": r.gamma(2, 60, int(sel.sum()))})
    _institutional(ch, b, p, "ed", days, days, prod, hosp, codes.BILL_TYPES.ix("131"), dxs, lines)
    # follow-up after ED for mental illness or alcohol and other drugs
    fu = (aod | mental) & (r.random(m) < 0.55)
    fp = p[fu]
    fdays = days[fu] + r.integers(1, 30, len(fp))
    fprod = ch.product_on(fp, fdays)
    keep = fprod != NULL
    fp, fdays, fprod, fprin = fp[keep], fdays[keep], fprod[keep], principal[fu][keep]
    k = len(fp)
    to_therapist = r.random(k) < 0.5
    who = np.where(to_therapist, ch.prov.pick(r, ch.hsa[fp], Role.THERAPIST), ch.pop.usual_pcp[ch.persons[fp]])
    b.add(_claims(ch, fp, "followup", PROF, fdays, fdays, fprod, who, ch.prov.billing[who], POS.ix("11"),
                  _dx_matrix(fprin, np.empty((k, 0), dtype=np.int64))),
          {"claim": np.arange(k), "hcpcs": np.where(to_therapist, hc("90834"), hc("99214"))})


def _drg_draw(ch: Chunk, p: np.ndarray) -> np.ndarray:
    r = ch.r
    out = np.empty(len(p), dtype=np.int64)
    band = np.where(ch.child[p], 0, np.where(ch.senior[p], 2, 1))
    for b_i, name in enumerate(("child", "adult", "senior")):
        sel = band == b_i
        mix = codes.DRG_MIX[name]
        out[sel] = codes.DRG.ix(*mix)[choice(r, int(sel.sum()), list(mix.values()))]
    for drg, condition, instead in (("190", "copd", "194"), ("638", "diabetes", "392"), ("897", "sud", "392")):
        lacks = (out == codes.DRG.ix(drg)) & ~ch.cond[p, codes.CONDITIONS.index(condition)]
        out[lacks] = codes.DRG.ix(instead)
    return out


def inpatient(ch: Chunk, b: Builder) -> None:
    r = ch.r
    rate = np.where(ch.child, 0.012, np.where(ch.senior, 0.15, 0.035)) * ch.risk ** 1.3
    n = ch.counts(rate)
    p = np.repeat(np.arange(len(n)), n)
    drg = _drg_draw(ch, p)
    admit = ch.service_days(p)
    emergency = r.random(len(p)) < 0.6
    # deliveries and births
    mothers = np.flatnonzero(ch.female & (ch.age >= 18) & (ch.age < 45) & (ch.n_months > 0)
                             & (r.random(len(ch.age)) < 0.05))
    ys, ye = day(ch.year), day(ch.year, 12, 31)
    babies = np.flatnonzero((ch.birth >= ys) & (ch.birth <= ye))
    p = np.concatenate([p, mothers, babies])
    drg = np.concatenate([drg, np.full(len(mothers), codes.DRG.ix("807")), np.full(len(babies), codes.DRG.ix("795"))])
    admit = np.concatenate([admit, ch.service_days(mothers), ch.birth[babies]])
    emergency = np.concatenate([emergency, np.zeros(len(mothers) + len(babies), dtype=bool)])
    weight = codes.DRG_WEIGHT[drg]
    los = 1 + r.poisson(0.8 + 2.0 * weight)
    los = np.where(drg == codes.DRG.ix("795"), 2, np.where(drg == codes.DRG.ix("807"), 2, los))
    # readmissions within 30 days
    readmit = r.random(len(p)) < np.where(ch.senior[p], 0.09, 0.06) * np.minimum(ch.risk[p], 3) ** 0.3
    readmit &= drg != codes.DRG.ix("795")
    rp = p[readmit]
    p = np.concatenate([p, rp])
    drg = np.concatenate([drg, _drg_draw(ch, rp)])
    admit = np.concatenate([admit, admit[readmit] + los[readmit] + r.integers(2, 29, len(rp))])
    emergency = np.concatenate([emergency, np.ones(len(rp), dtype=bool)])
    los = np.concatenate([los, 1 + r.poisson(0.8 + 2.0 * codes.DRG_WEIGHT[drg[-len(rp):]]) if len(rp) else
                          np.empty(0, dtype=np.int64)])
    prod = ch.product_on(p, admit)
    keep = prod != NULL
    p, drg, admit, emergency, los, prod = p[keep], drg[keep], admit[keep], emergency[keep], los[keep], prod[keep]
    m = len(p)
    discharge = admit + los
    died = ch.death[p] <= discharge
    discharge = np.where(died, np.maximum(ch.death[p], admit), discharge)
    disp = np.where(ch.senior[p], choice(r, m, [0.64, 0.2, 0.15, 0.0, 0.01]), choice(r, m, [0.93, 0.01, 0.05, 0, 0.01]))
    disp = np.where(died, codes.DISCHARGE.ix("20"), disp)
    info = codes.DRGS
    principal = dx(*[d[2] for d in info])[drg]
    surgical = np.array([bool(d[3]) for d in info])[drg]
    pcs = np.array([codes.PCS.ix(d[3]) if d[3] else NULL for d in info])[drg]
    extra = _conditions_dx(ch, p, np.ones((m, len(codes.CONDITIONS)), dtype=bool))
    extra = np.where(extra == principal[:, None], NULL, extra)
    dxs = _dx_matrix(principal, extra)
    hosp = _hospital(ch, p)
    admit_type = np.where(drg == codes.DRG.ix("795"), codes.ADMIT_TYPES.ix("4"),
                          np.where(emergency, codes.ADMIT_TYPES.ix("1"),
                                   np.where(surgical, codes.ADMIT_TYPES.ix("3"), codes.ADMIT_TYPES.ix("2"))))
    total = codes.DRG_WEIGHT[drg] * 7_000.0
    idx = np.arange(m)
    parts = [("0120", np.ones(m, dtype=bool), 0.40), ("0250", np.ones(m, dtype=bool), 0.15),
             ("0300", np.ones(m, dtype=bool), 0.12), ("0200", codes.DRG_WEIGHT[drg] >= 4, 0.25),
             ("0360", surgical, 0.30), ("0450", emergency, 0.05), ("0320", r.random(m) < 0.5, 0.05),
             ("0730", r.random(m) < 0.3, 0.03)]
    share_sum = sum(np.where(mask, share, 0.0) for _, mask, share in parts)
    lines = []
    for rev, mask, share in parts:
        units = (discharge - admit)[mask] if rev == "0120" else np.ones(int(mask.sum()))
        lines.append({"claim": idx[mask], "revenue": np.full(int(mask.sum()), REVENUE.ix(rev)),
                      "price": (total * share / share_sum)[mask], "units": np.maximum(units, 1).astype(np.float64)})
    _institutional(ch, b, p, "inpatient", admit, discharge, prod, hosp, codes.BILL_TYPES.ix("111"), dxs, lines,
                   admission=admit, discharge=discharge, admit_type=admit_type, disch=disp, drg=drg, pcs=pcs)
    # hospitalist visits: admission, daily, discharge (at most 14 lines)
    doc = ch.prov.pick(r, ch.hsa[p], Role.HOSPITALIST)
    stay = np.minimum(discharge - admit, 13) + 1
    li = np.repeat(idx, stay)
    dayno = rank_within(li)
    last = dayno == stay[li] - 1
    code = np.where(dayno == 0, hc("99222", "99223")[(r.random(len(li)) < 0.5).astype(int)],
                    np.where(last, hc("99238"), hc("99231", "99232", "99233")[choice(r, len(li), [0.3, 0.5, 0.2])]))
    line_day = np.minimum(admit[li] + dayno, discharge[li])
    b.add(_claims(ch, p, "inpatient_prof", PROF, admit, discharge, prod, doc, ch.prov.billing[doc], POS.ix("21"), dxs),
          {"claim": li, "hcpcs": code, "line_start": line_day, "line_end": line_day})
    # surgeon
    surg_spec = {"470": "orthopedics", "247": "cardiology", "343": "general_surgery", "807": "obgyn"}
    has_surgeon = np.isin(drg, codes.DRG.ix(*surg_spec)) if surg_spec else np.zeros(m, dtype=bool)
    sp = np.flatnonzero(has_surgeon)
    if len(sp):
        names = [s[0] for s in codes.SPECIALTIES]
        drg_codes = np.array(codes.DRG.codes)[drg[sp]]
        spec = np.array([names.index(surg_spec[c]) for c in drg_codes])
        surgeon = ch.prov.pick_specialist(r, ch.hsa[p[sp]], spec)
        scode = np.array([hc(info[codes.DRG.ix(c)][4]) for c in drg_codes])
        b.add(_claims(ch, p[sp], "surgeon", PROF, admit[sp], admit[sp], prod[sp], surgeon, ch.prov.billing[surgeon],
                      POS.ix("21"), {k: v[sp] for k, v in dxs.items()}),
              {"claim": np.arange(len(sp)), "hcpcs": scode})
    _post_discharge(ch, b, p, discharge, disp, principal, died)


def _post_discharge(ch: Chunk, b: Builder, p: np.ndarray, discharge: np.ndarray, disp: np.ndarray,
                    principal: np.ndarray, died: np.ndarray) -> None:
    r = ch.r
    home = ~died & (disp != codes.DISCHARGE.ix("02"))
    # transitional care management by the usual PCP
    tcm = home & (r.random(len(p)) < np.where(ch.senior[p], 0.45, 0.3))
    tp = p[tcm]
    tdays = discharge[tcm] + r.integers(7, 15, len(tp))
    tprod = ch.product_on(tp, tdays)
    ok = tprod != NULL
    tp, tdays, tprod, tprin = tp[ok], tdays[ok], tprod[ok], principal[tcm][ok]
    who = ch.pop.usual_pcp[ch.persons[tp]]
    k = len(tp)
    b.add(_claims(ch, tp, "tcm", PROF, tdays, tdays, tprod, who, ch.prov.billing[who], POS.ix("11"),
                  _dx_matrix(tprin, np.empty((k, 0), dtype=np.int64))),
          {"claim": np.arange(k), "hcpcs": np.where(r.random(k) < 0.5, hc("99495"), hc("99496"))})
    # skilled nursing stays
    snf = ~died & (disp == codes.DISCHARGE.ix("03"))
    sp, start = p[snf], discharge[snf]
    los = r.integers(7, 41, len(sp))
    end = start + los
    sprod = ch.product_on(sp, start)
    ok = sprod != NULL
    sp, start, end, los, sprod, sprin = sp[ok], start[ok], end[ok], los[ok], sprod[ok], principal[snf][ok]
    end = np.minimum(end, ch.death[sp])
    k = len(sp)
    fac = ch.prov.pick(r, ch.hsa[sp], Role.SNF)
    dxs = _dx_matrix(sprin, _conditions_dx(ch, sp, np.ones((k, len(codes.CONDITIONS)), dtype=bool)))
    idx = np.arange(k)
    days_ = np.maximum(end - start, 1).astype(np.float64)
    _institutional(ch, b, sp, "snf", start, end, sprod, fac, codes.BILL_TYPES.ix("211"), dxs,
                   [{"claim": idx, "revenue": np.full(k, REVENUE.ix(rev)), "units": days_ // per, "price": days_ * cost}
                    for rev, per, cost in (("0022", 1, 420.0), ("0420", 2, 60.0), ("0430", 3, 40.0))],
                   admission=start, discharge=end)
    visits = 1 + (los > 14) + (los > 28)
    vi = np.repeat(idx, visits)
    vday = np.minimum(start[vi] + 1 + rank_within(vi) * 12, end[vi])
    who = ch.pop.usual_pcp[ch.persons[sp]]
    b.add(_claims(ch, sp, "snf_prof", PROF, start, end, sprod, who, ch.prov.billing[who], POS.ix("31"), dxs),
          {"claim": vi, "hcpcs": hc("99307", "99308", "99309", "99310")[choice(r, len(vi), [0.2, 0.4, 0.3, 0.1])],
           "line_start": vday, "line_end": vday})
    # home health after discharge
    hh = ~died & (disp == codes.DISCHARGE.ix("06"))
    hp, start = p[hh], discharge[hh] + 2
    hprod = ch.product_on(hp, start)
    ok = hprod != NULL
    hp, start, hprod, hprin = hp[ok], start[ok], hprod[ok], principal[hh][ok]
    end = np.minimum(start + 29, ch.death[hp])
    k = len(hp)
    fac = ch.prov.pick(r, ch.hsa[hp], Role.HHA)
    idx = np.arange(k)
    _institutional(ch, b, hp, "home_health", start, end, hprod, fac, codes.BILL_TYPES.ix("321"),
                   _dx_matrix(hprin, np.empty((k, 0), dtype=np.int64)),
                   [{"claim": idx, "revenue": np.full(k, REVENUE.ix("0023")), "price": np.full(k, 1200.0)},
                    {"claim": idx, "revenue": np.full(k, REVENUE.ix("0551")), "units": np.full(k, 6.0),
                     "price": np.full(k, 900.0)},
                    {"claim": idx, "revenue": np.full(k, REVENUE.ix("0421")), "units": np.full(k, 4.0),
                     "price": np.full(k, 500.0)}])


def infusions(ch: Chunk, b: Builder) -> None:
    """A few people on monthly chemotherapy infusions at the hospital: the far right tail of spending."""
    r = ch.r
    on = ch.user & ~ch.child & (r.random(len(ch.age)) < np.where(ch.senior, 0.010, 0.004))
    n = np.where(on, np.maximum(ch.n_months - r.integers(0, 6, len(ch.age)), 1), 0)
    p = np.repeat(np.arange(len(n)), n)
    days = ch.service_days(p)
    ok, prod, _ = _keep(ch, p, days)
    p, days, prod = p[ok], days[ok], prod[ok]
    m = len(p)
    cancer = dx("C50911", "C3490", "C189")[(ch.pop.condition_u[ch.persons[p], 0] * 1000).astype(int) % 3]
    hosp = _hospital(ch, p)
    idx = np.arange(m)
    _institutional(ch, b, p, "infusion", days, days, prod, hosp, codes.BILL_TYPES.ix("131"),
                   _dx_matrix(cancer, np.empty((m, 0), dtype=np.int64)),
                   [{"claim": idx, "hcpcs": np.full(m, hc("96413")), "revenue": np.full(m, REVENUE.ix("0335")),
                     "price_factor": np.full(m, 2.5)},
                    {"claim": idx, "hcpcs": np.full(m, hc("J9271")), "revenue": np.full(m, REVENUE.ix("0636")),
                     "units": np.full(m, 200.0), "price": r.lognormal(np.log(9000), 0.3, m)}])


def physical_therapy(ch: Chunk, b: Builder) -> None:
    r = ch.r
    in_pt = ch.user & ~ch.child & (r.random(len(ch.age)) < np.where(ch.senior, 0.10, 0.07))
    sessions = np.where(in_pt, 4 + r.poisson(7, len(ch.age)), 0)
    p = np.repeat(np.arange(len(sessions)), sessions)
    start = ch.service_days(np.flatnonzero(in_pt))
    first_day = np.zeros(len(ch.age), dtype=np.int64)
    first_day[np.flatnonzero(in_pt)] = start
    days = first_day[p] + 7 * rank_within(p)
    prod = ch.product_on(p, days)
    ok = prod != NULL
    p, days, prod = p[ok], days[ok], prod[ok]
    m = len(p)
    therapist = ch.prov.pick(r, ch.hsa[p], Role.PT)
    principal = dx("M25561", "M1711", "S93401A")[choice(r, m, [0.5, 0.3, 0.2])]
    idx = np.arange(m)
    b.add(_claims(ch, p, "pt", PROF, days, days, prod, therapist, ch.prov.billing[therapist], POS.ix("11"),
                  _dx_matrix(principal, np.empty((m, 0), dtype=np.int64))),
          _lines([{"claim": idx, "hcpcs": np.full(m, hc("97110")), "units": np.full(m, 2.0)},
                  {"claim": idx, "hcpcs": np.full(m, hc("97140"))}]))


GENERATORS = (office_visits, flu_shots, preventive_visits, specialist_visits, therapy, labs, imaging, emergency,
              inpatient, infusions, physical_therapy)


def generate(ch: Chunk) -> tuple[Frame, Frame]:
    """Claims and lines (before pricing, versions and run-out) for one chunk-year."""
    b = Builder()
    for gen in GENERATORS:
        gen(ch, b)
    claims, lines = b.frames()
    for name in ("admission", "discharge", "admit_type", "disch", "drg", "pcs", "facility", "bill"):
        claims.setdefault(name, np.full(len(claims["person"]), NULL))
    n = len(lines["claim"])
    lines.setdefault("revenue", np.full(n, NULL))
    lines.setdefault("line_start", np.full(n, NULL))
    lines.setdefault("line_end", np.full(n, NULL))
    lines.setdefault("price_factor", np.full(n, 1.0))
    lines.setdefault("price", np.full(n, np.nan))
    lines.setdefault("mod1", np.full(n, NULL))
    return claims, lines


def price(ch: Chunk, claims: Frame, lines: Frame) -> np.ndarray:
    """Allowed amount per line before calibration: code price x payer level x noise x trend."""
    r = ch.r
    base = np.where(np.isnan(lines["price"]), HCPCS_PRICE[np.maximum(lines["hcpcs"], 0)] * lines["price_factor"]
                    * np.maximum(lines["units"], 1), lines["price"])
    base = np.where((lines["hcpcs"] == NULL) & np.isnan(lines["price"]), 0.0, base)
    level = np.array([1.0, 1.0, 0.8, 1.7, 1.75])[ch.product_type[claims["product"][lines["claim"]]]]
    noise = np.exp(r.normal(-0.045, 0.3, len(base)))
    return base * level * noise
