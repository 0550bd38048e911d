"""Persons and their monthly coverage: payer mix, ages, deaths, births, Medicaid churn, aging into Medicare,
duals, employer groups; coverage becomes eligibility spans."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allpayer.synth import codes
from allpayer.synth.config import SynthConfig
from allpayer.synth.geography import Geography
from allpayer.synth.providers import Providers, Role
from allpayer.synth.util import NULL, Frame, choice, day, interp_prevalence, month_starts, rng

# Coverage categories a person starts in.
UNINSURED, MEDICARE, DUAL, MEDICAID, COMMERCIAL, SELF_FUNDED = range(6)
RACES = ("white", "black or african american", "asian", "american indian or alaska native", "other race",
         "unknown")
RACE_P = (0.915, 0.013, 0.018, 0.004, 0.02, 0.03)
DUAL_CODES = ("", "02", "04", "08")
MEDICARE_STATUS = (("10", "0"), ("20", "1"))  # (medicare_status_code, original_reason_entitlement_code)


@dataclass(frozen=True)
class Product:
    """A payer + plan (+ employer group) that coverage months point to."""

    payer: str
    payer_type: str
    plan: str
    data_source: str
    member_prefix: str
    group_id: str = ""
    group_name: str = ""


def products(cfg: SynthConfig, group_sizes: list[int], r: np.random.Generator) -> list[Product]:
    out = [
        Product("", "", "", "", ""),  # 0: not covered
        Product("medicare", "medicare", "medicare_ffs", "medicare", "1M"),
        Product("mvp", "medicare_advantage", "mvp_medicare_advantage", "mvp", "MV"),
        Product("uhc", "medicare_advantage", "uhc_medicare_advantage", "uhc", "UH"),
        Product("medicaid", "medicaid", "vmng", "medicaid", "VM"),
        Product("bcbsvt", "commercial", "bcbsvt_qhp_gold", "bcbsvt", "BC"),
        Product("bcbsvt", "commercial", "bcbsvt_qhp_silver", "bcbsvt", "BC"),
        Product("mvp", "commercial", "mvp_qhp_gold", "mvp", "MV"),
        Product("mvp", "commercial", "mvp_large_group", "mvp", "MV"),
    ]
    tpas = ("bcbsvt", "cigna", "mvp")
    adjectives = ("Champlain", "Green Mountain", "Lake", "Granite", "Maple", "Northern", "Valley", "Summit",
                  "Otter Creek", "Connecticut River", "Mad River", "Kingdom", "Winooski", "Hinesburg", "Camel's Hump")
    nouns = ("Manufacturing", "Health System", "Schools", "Insurance", "Foods", "Energy", "Software", "College",
             "Logistics", "Cooperative", "Builders", "Markets", "Aerospace", "Dairy", "County Government")
    for i, _size in enumerate(group_sizes):
        tpa = tpas[int(r.integers(len(tpas)))]
        name = f"{adjectives[i % len(adjectives)]} {nouns[(i * 7 + 3) % len(nouns)]}"
        plan = f"{tpa}_aso_{'hdhp' if r.random() < 0.3 else 'ppo'}"
        out.append(Product(tpa, "self_funded", plan, tpa, {"bcbsvt": "BC", "cigna": "CI", "mvp": "MV"}[tpa],
                           f"G{i + 1:04d}", name))
    return out


MEDICARE_FFS, MA_MVP, MA_UHC, MEDICAID_VMNG = 1, 2, 3, 4
COMMERCIAL_PRODUCTS = np.array([5, 6, 7, 8])
COMMERCIAL_P = np.array([0.35, 0.25, 0.25, 0.15])
FIRST_GROUP = 9


@dataclass
class Population:
    """Person attributes (arrays of length persons) and monthly coverage layers (persons x months)."""

    cfg: SynthConfig
    person_id: np.ndarray
    sex: np.ndarray  # 0 female, 1 male
    race: np.ndarray
    birth: np.ndarray  # day numbers
    death: np.ndarray  # day number or NULL
    zip_code: np.ndarray
    state: np.ndarray
    hsa: np.ndarray
    category: np.ndarray
    medicare: np.ndarray  # (n, months) span key: product * 16 + status * 4 + dual code, 0 if none
    medicaid: np.ndarray  # (n, months) span key: product * 4 + dual code
    employer: np.ndarray  # (n, months) product index
    products: list[Product]
    month_start: np.ndarray  # (months + 1,) day numbers
    usual_practice: np.ndarray
    usual_pcp: np.ndarray  # provider index
    usual_pharmacy: np.ndarray
    risk: np.ndarray  # persistent lognormal risk
    condition_u: np.ndarray  # (n, conditions) uniform draws; a condition is active when u < prevalence(age)

    @property
    def n(self) -> int:
        return len(self.person_id)

    @property
    def months(self) -> int:
        return self.medicare.shape[1]

    def payer_product(self, persons: np.ndarray, months: np.ndarray) -> np.ndarray:
        """The product that pays medical claims: Medicare first, then employer coverage, then Medicaid."""
        med = self.medicare[persons, months] // 16
        emp = self.employer[persons, months]
        mcd = self.medicaid[persons, months] // 4
        return np.where(med > 0, med, np.where(emp > 0, emp, mcd)).astype(np.int64)

    def age_at(self, when: int) -> np.ndarray:
        return (when - self.birth) / 365.25

    def conditions(self, when: int, persons: np.ndarray | None = None) -> np.ndarray:
        """(n, conditions) booleans: condition flags active at day ``when``."""
        idx = slice(None) if persons is None else persons
        age = self.age_at(when)[idx]
        prev = np.stack([interp_prevalence(age, codes.CONDITION_KNOTS[c]) for c in codes.CONDITIONS], axis=1)
        return self.condition_u[idx] < prev


def _nondual(cfg: SynthConfig) -> float:
    """Medicaid figures are for all enrollees; duals neither churn nor are children, so non-duals carry more."""
    return cfg.payer_mix["medicaid"] / (cfg.payer_mix["medicaid"] - cfg.dual_share)


def _churn(cfg: SynthConfig) -> tuple[float, float]:
    leave = cfg.medicaid_monthly_churn * _nondual(cfg)
    return leave, cfg.medicaid_rejoin_rate / (cfg.medicaid_rejoin_rate + leave)


def _category_shares(cfg: SynthConfig) -> np.ndarray:
    mix = cfg.payer_mix
    d = cfg.dual_share
    _, stay = _churn(cfg)
    medicaid_pool = (mix["medicaid"] - d) / stay
    gaps = medicaid_pool - (mix["medicaid"] - d)
    shares = np.array([max(mix["uninsured"] - gaps, 0.005), mix["medicare"] - d, d, medicaid_pool,
                       mix["commercial"], mix["self_funded"]])
    return shares / shares.sum()


def _ages(r: np.random.Generator, category: np.ndarray, cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray]:
    """Age in years at the start of the window and a disabled-Medicare flag."""
    n = len(category)
    age = np.empty(n)
    disabled = np.zeros(n, dtype=bool)

    def band(mask: np.ndarray, bands: list[tuple[float, float, float]]) -> None:
        m = int(mask.sum())
        which = choice(r, m, [b[2] for b in bands])
        lo = np.array([b[0] for b in bands])[which]
        hi = np.array([b[1] for b in bands])[which]
        age[mask] = lo + r.random(m) * (hi - lo)

    adult = [(19, 35, 0.42), (35, 50, 0.32), (50, 65, 0.26)]
    working = [(0, 18, 0.22), (18, 35, 0.25), (35, 50, 0.25), (50, 65, 0.28 - cfg.commercial_over65_share),
               (65, 75, cfg.commercial_over65_share)]
    for cat in (COMMERCIAL, SELF_FUNDED):
        band(category == cat, working)
    band(category == UNINSURED, [(0, 18, 0.1), (18, 35, 0.5), (35, 65, 0.4)])
    mcd = category == MEDICAID
    child = mcd & (r.random(n) < cfg.medicaid_child_share * _nondual(cfg))
    band(child, [(0, 19, 1.0)])
    band(mcd & ~child, adult)
    for cat, dis_share in ((MEDICARE, cfg.medicare_disabled_share), (DUAL, 0.45)):
        m = category == cat
        dis = m & (r.random(n) < dis_share)
        disabled |= dis
        band(dis, [(25, 45, 0.3), (45, 65, 0.7)])
        band(m & ~dis, [(65, 75, 0.52), (75, 85, 0.31), (85, 100, 0.17)])
    return age, disabled


def _employer_groups(cfg: SynthConfig, members: int, r: np.random.Generator) -> list[int]:
    lo, hi = cfg.employer_group_sizes
    sizes: list[int] = []
    while sum(sizes) < members:
        sizes.append(int(np.exp(r.uniform(np.log(lo), np.log(hi)))))
    if len(sizes) > 1 and sum(sizes) > members:
        sizes[-1] = max(members - sum(sizes[:-1]), 1)
    return sizes or [max(members, 1)]


def build(cfg: SynthConfig, geo: Geography, prov: Providers) -> Population:
    r = rng(cfg.seed, 2)
    n = cfg.persons
    n_years = len(cfg.years)
    months = 12 * n_years
    ms = month_starts(cfg.first_year, months)
    window_start = day(cfg.first_year)
    window_end = day(cfg.last_year, 12, 31)

    category = choice(r, n, _category_shares(cfg))
    age, disabled = _ages(r, category, cfg)
    birth = (window_start - age * 365.25).astype(np.int64)
    # newborns: some children are born during the window into Medicaid or employer coverage
    kids = np.flatnonzero((age < 18) & np.isin(category, (MEDICAID, COMMERCIAL, SELF_FUNDED)))
    n_born = min(len(kids), round(n * cfg.birth_rate * n_years))
    born = r.choice(kids, size=n_born, replace=False) if n_born else np.array([], dtype=np.int64)
    birth[born] = window_start + r.integers(0, window_end - window_start, n_born)
    # Day -1 (1969-12-31) is the null marker of integer-coded dates: such a birthday moves a day earlier.
    birth[birth == NULL] -= 1
    age = (window_start - birth) / 365.25

    # deaths: constant hazard by age band (disabled twice as high)
    mid_age = np.maximum(age + n_years / 2, 0)
    hazard = np.select([mid_age < 1, mid_age < 45, mid_age < 65, mid_age < 75, mid_age < 85],
                       [0.005, 0.001, 0.005, 0.018, 0.045], 0.13) * np.where(disabled, 2.0, 1.0)
    t = -np.log(r.random(n)) / hazard * 365.25
    start = np.maximum(birth, window_start)
    death = np.where(start + t <= window_end, (start + t).astype(np.int64), NULL)

    sex = (r.random(n) < 0.49).astype(np.int8)
    race = choice(r, n, RACE_P)
    nonres = (category != UNINSURED) & (r.random(n) < cfg.nonresident_share)
    zi = choice(r, n, geo.zip_weight)
    nz = choice(r, n, geo.nonres_weight)
    zip_code = np.where(nonres, geo.nonres_zip[nz], geo.zip_codes[zi])
    state = np.where(nonres, geo.nonres_state[nz], "VT")
    hsa = np.where(nonres, geo.nonres_hsa[nz], geo.zip_hsa[zi])

    # alive months: a month counts when the person is alive on some day of it
    alive = (birth[:, None] < ms[None, 1:]) & ((death[:, None] == NULL) | (death[:, None] >= ms[None, :-1]))
    month_age = (ms[None, :-1] - birth[:, None]) / 365.25  # age on the first of each month
    turned65 = month_age >= 65

    n_groups_members = int((category == SELF_FUNDED).sum())
    group_sizes = _employer_groups(cfg, n_groups_members, r)
    prods = products(cfg, group_sizes, r)

    # Medicare layer
    on_medicare = np.isin(category, (MEDICARE, DUAL))
    ma = r.random(n) < np.where(category == DUAL, cfg.medicare_advantage_share / 3, cfg.medicare_advantage_share)
    med_product = np.where(ma, np.where(r.random(n) < 0.6, MA_MVP, MA_UHC), MEDICARE_FFS)
    dual_code = np.where(category == DUAL, choice(r, n, [0, 0.7, 0.1, 0.2]), 0)
    status = np.where(disabled[:, None] & ~turned65, 1, 0)  # disabled switch to aged status at 65
    medicare = np.where(on_medicare[:, None] & alive, med_product[:, None] * 16 + status * 4 + dual_code[:, None], 0)

    # employer coverage (commercial and self-funded), ending when members age into Medicare
    employer_product = np.zeros(n, dtype=np.int64)
    com = category == COMMERCIAL
    employer_product[com] = COMMERCIAL_PRODUCTS[choice(r, int(com.sum()), COMMERCIAL_P)]
    sf = np.flatnonzero(category == SELF_FUNDED)
    employer_product[r.permutation(sf)] = FIRST_GROUP + np.repeat(np.arange(len(group_sizes)), group_sizes)[:len(sf)]
    ages_in = (employer_product > 0) & (age < 65) & (r.random(n) < cfg.aging_in_share)
    leaves = ages_in[:, None] & turned65
    employer = np.where((employer_product[:, None] > 0) & alive & ~leaves, employer_product[:, None], 0)
    medicare = np.where(leaves & alive, MEDICARE_FFS * 16, medicare)

    # Medicaid layer: churn for non-duals (leave and rejoin), members turning 65 become duals
    mcd_members = category == MEDICAID
    enrolled = np.zeros((n, months), dtype=bool)
    leave, stay = _churn(cfg)
    state_now = r.random(n) < stay
    newborn = np.isin(np.arange(n), born)
    for m in range(months):  # one vectorised step per month
        u = r.random(n)
        state_now = np.where(state_now, u >= leave, u < cfg.medicaid_rejoin_rate)
        # newborns are covered from birth
        state_now |= newborn & (birth >= ms[m]) & (birth < ms[m + 1])
        enrolled[:, m] = state_now
    mcd_on = (mcd_members[:, None] & enrolled & alive) | ((category == DUAL)[:, None] & alive)
    aged_mcd = mcd_members[:, None] & turned65 & alive  # Medicaid members turning 65 get Medicare
    medicare = np.where(aged_mcd, MEDICARE_FFS * 16 + np.where(mcd_on, 1, 0), medicare)
    mcd_dual = np.where(aged_mcd & mcd_on, 1, np.where((category == DUAL)[:, None], dual_code[:, None], 0))
    medicaid = np.where(mcd_on, MEDICAID_VMNG * 4 + mcd_dual, 0)

    # usual sources of care
    kind = np.where(age < 18, np.where(r.random(n) < 0.6, 2, 0), np.where(r.random(n) < 0.65, 0, 1))
    practice = prov.pick_practice(r, hsa, kind)
    pcp = prov.pick_clinician(r, practice)
    pharmacy = prov.pick(r, hsa, Role.PHARMACY)
    risk = np.exp(r.normal(-cfg.risk_sigma ** 2 / 2, cfg.risk_sigma, n))

    perm = (np.arange(n, dtype=np.int64) * 104_729 + 7_919) % 1_000_000_000
    person_id = np.char.add("P", np.char.zfill(perm.astype(str), 9))
    return Population(
        cfg=cfg, person_id=person_id, sex=sex, race=race, birth=birth, death=death, zip_code=zip_code, state=state,
        hsa=hsa, category=category, medicare=medicare.astype(np.int16), medicaid=medicaid.astype(np.int16),
        employer=employer.astype(np.int16), products=prods, month_start=ms, usual_practice=practice,
        usual_pcp=pcp, usual_pharmacy=pharmacy, risk=risk, condition_u=r.random((n, len(codes.CONDITIONS))),
    )


def _runs(layer: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal non-zero values per row: (person, first month, last month, value)."""
    n, m = layer.shape
    padded = np.zeros((n, m + 1), dtype=layer.dtype)
    padded[:, 1:] = layer
    change = padded[:, 1:] != padded[:, :-1]
    starts_p, starts_m = np.nonzero(change & (layer != 0))
    nxt = np.zeros((n, m + 1), dtype=layer.dtype)
    nxt[:, :-1] = layer
    ends = (nxt[:, :-1] != nxt[:, 1:]) & (layer != 0)
    _, ends_m = np.nonzero(ends)
    return starts_p, starts_m, ends_m, layer[starts_p, starts_m]


def spans(pop: Population) -> Frame:
    """Eligibility spans of all layers: person, product, dates, dual/medicare status codes."""
    parts = []
    for layer_name in ("medicare", "medicaid", "employer"):
        person, first, last, value = _runs(getattr(pop, layer_name))
        value = value.astype(np.int64)
        if layer_name == "medicare":
            product, status, dual = value // 16, (value // 4) % 4, value % 4
        elif layer_name == "medicaid":
            product, status, dual = value // 4, np.full(len(value), NULL), value % 4
        else:
            product, status, dual = value, np.full(len(value), NULL), np.zeros(len(value), dtype=np.int64)
        parts.append({"person": person, "product": product, "status": status, "dual": dual,
                      "start": np.maximum(pop.month_start[first], pop.birth[person]),
                      "end": np.where((pop.death[person] != NULL) & (pop.death[person] < pop.month_start[last + 1]),
                                      pop.death[person], pop.month_start[last + 1] - 1)})
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((out["start"], out["person"]))
    return {k: v[order] for k, v in out.items()}
