"""The provider roster: practices per HSA with primary-care clinicians, specialists, hospitals, SNFs,
home health agencies, a lab and pharmacies; NPIs with valid check digits; half the PCP practices in the ACO."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pyarrow as pa

from allpayer.synth import codes
from allpayer.synth.config import SynthConfig
from allpayer.synth.geography import Geography
from allpayer.synth.util import NULL, day, group_index, luhn_check_digits, pick_in_groups, rng


class Role(IntEnum):
    PCP = 0
    SPECIALIST = 1
    HOSPITALIST = 2
    ED = 3
    RADIOLOGY = 4
    THERAPIST = 5
    PT = 6
    GROUP = 7  # a practice's billing NPI (organisation)
    HOSPITAL = 8
    SNF = 9
    HHA = 10
    LAB = 11
    PHARMACY = 12


PRACTICE_KINDS = ("family", "internal", "pediatric")
# PCP clinician mix per practice kind: (taxonomy, CMS specialty, credential, weight)
PCP_MIX = {
    "family": (("207Q00000X", "08", "MD", 0.55), ("208D00000X", "01", "MD", 0.05), ("363L00000X", "50", "NP", 0.25),
               ("363A00000X", "97", "PA", 0.15)),
    "internal": (("207R00000X", "11", "MD", 0.60), ("207QG0300X", "38", "MD", 0.05), ("363L00000X", "50", "NP", 0.35)),
    "pediatric": (("208000000X", "37", "MD", 0.70), ("363L00000X", "50", "NP", 0.30)),
}
HOSPITAL_STAFF = {  # role: (taxonomy, specialty, per persons)
    Role.HOSPITALIST: ("208M00000X", "C6", 15000),
    Role.ED: ("207P00000X", "93", 12000),
    Role.RADIOLOGY: ("2085R0202X", "30", 30000),
}
FIRST = ("Anna", "Ben", "Carla", "David", "Emma", "Frank", "Grace", "Henry", "Isla", "Jack", "Kate", "Liam", "Maya",
         "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wren", "Yusuf", "Zoe")
LAST = ("Abbott", "Baker", "Chen", "Dubois", "Ellis", "Fournier", "Garcia", "Hale", "Ives", "Jensen", "Kelley",
        "Larocque", "Morin", "Nguyen", "Olson", "Patel", "Quimby", "Roy", "Stone", "Tremblay", "Underwood",
        "Vance", "Whitcomb", "Young", "Zhang", "Bouchard", "Carpenter", "Dow", "Emerson", "Fisk")


@dataclass
class Providers:
    """Roster arrays (one entry per provider row) and lookups used to pick providers for claims."""

    npi: np.ndarray
    tin: np.ndarray
    name: np.ndarray
    entity: np.ndarray
    taxonomy: np.ndarray
    specialty: np.ndarray
    practice_id: np.ndarray
    practice_name: np.ndarray
    hsa: np.ndarray  # HSA index, NULL for out-of-area organisations
    aco: np.ndarray  # bool
    aco_start: np.ndarray  # day number, NULL if not in the ACO
    aco_end: np.ndarray
    role: np.ndarray
    spec: np.ndarray  # specialty index for specialists, else NULL
    practice: np.ndarray  # practice index
    billing: np.ndarray  # provider index of the billing organisation NPI
    practice_kind: np.ndarray  # per practice: index into PRACTICE_KINDS, NULL for non primary care
    practice_hsa: np.ndarray  # per practice
    n_hsa: int

    def __len__(self) -> int:
        return len(self.npi)

    def __post_init__(self) -> None:
        k = self.n_hsa
        self._by_role = group_index(np.where(self.hsa >= 0, self.hsa, k) * len(Role) + self.role, (k + 1) * len(Role))
        spec = np.where(self.spec >= 0, self.spec, len(codes.SPECIALTIES))
        self._by_spec = group_index(np.where(self.hsa >= 0, self.hsa, k) * (len(codes.SPECIALTIES) + 1) + spec,
                                    (k + 1) * (len(codes.SPECIALTIES) + 1))
        pcp = np.flatnonzero(self.role == Role.PCP)
        order, starts, counts = group_index(self.practice[pcp], len(self.practice_kind))
        self._pcp_by_practice = (pcp[order], starts, counts)
        is_pc = self.practice_kind >= 0
        key = np.where(is_pc, self.practice_hsa * len(PRACTICE_KINDS) + np.maximum(self.practice_kind, 0),
                       k * len(PRACTICE_KINDS))
        self._practices = group_index(key, (k + 1) * len(PRACTICE_KINDS))

    def pick(self, r: np.random.Generator, hsa: np.ndarray, role: Role) -> np.ndarray:
        order, starts, counts = self._by_role
        out = pick_in_groups(r, hsa * len(Role) + int(role), starts, counts, order)
        # fall back to Burlington-area (or any) providers of that role where an HSA has none
        missing = out == NULL
        if missing.any():
            anywhere = np.flatnonzero(self.role == role)
            out[missing] = anywhere[r.integers(0, len(anywhere), missing.sum())]
        return out

    def pick_specialist(self, r: np.random.Generator, hsa: np.ndarray, spec: np.ndarray) -> np.ndarray:
        order, starts, counts = self._by_spec
        out = pick_in_groups(r, hsa * (len(codes.SPECIALTIES) + 1) + spec, starts, counts, order)
        missing = out == NULL
        if missing.any():
            out[missing] = self.pick(r, hsa[missing], Role.SPECIALIST)
        return out

    def pick_practice(self, r: np.random.Generator, hsa: np.ndarray, kind: np.ndarray) -> np.ndarray:
        order, starts, counts = self._practices
        out = pick_in_groups(r, hsa * len(PRACTICE_KINDS) + kind, starts, counts, order)
        missing = out == NULL
        if missing.any():  # every HSA has a family practice
            out[missing] = pick_in_groups(r, hsa[missing] * len(PRACTICE_KINDS), starts, counts, order)
        return out

    def pick_clinician(self, r: np.random.Generator, practice: np.ndarray) -> np.ndarray:
        members, starts, counts = self._pcp_by_practice
        return pick_in_groups(r, practice, starts, counts, members)

    def to_arrow(self) -> pa.Table:
        def date(days: np.ndarray) -> pa.Array:
            return pa.array(days.astype("datetime64[D]"), mask=days == NULL).cast(pa.date32())

        def text(values: np.ndarray) -> pa.Array:
            return pa.array(values.tolist(), pa.string()).cast(pa.string())

        empty = lambda a: pa.array([v if v else None for v in a.tolist()], pa.string())  # noqa: E731
        return pa.table({
            "npi": text(self.npi), "tin": text(self.tin), "provider_name": text(self.name),
            "entity_type": text(self.entity), "taxonomy_code": text(self.taxonomy),
            "specialty_code": empty(self.specialty), "practice_id": empty(self.practice_id),
            "practice_name": empty(self.practice_name),
            "hsa": pa.array([self._hsa_names[h] if h >= 0 else None for h in self.hsa.tolist()], pa.string()),
            "aco_id": pa.array([self._aco_id if a else None for a in self.aco.tolist()], pa.string()),
            "aco_start_date": date(self.aco_start), "aco_end_date": date(self.aco_end),
        })

    _hsa_names: tuple[str, ...] = ()
    _aco_id: str = ""


def _npis(r: np.random.Generator, n: int) -> np.ndarray:
    first = 100_000_000 + r.choice(100_000_000, size=n, replace=False)  # first nine digits start with 1
    return (first * 10 + luhn_check_digits(first)).astype(str)


def build(cfg: SynthConfig, geo: Geography) -> Providers:
    r = rng(cfg.seed, 1)
    k = len(geo.hsas)
    hsa_pop = cfg.persons * geo.hsa_share
    rows: dict[str, list] = {c: [] for c in ("name", "entity", "taxonomy", "specialty", "practice", "role", "spec",
                                              "hsa", "billing_of_practice")}
    practices: list[dict] = []  # name, id, hsa, kind, aco, org role

    def add(name: str, entity: str, taxonomy: str, specialty: str, practice: int, role: Role, spec: int,
            hsa: int) -> None:
        for col, val in (("name", name), ("entity", entity), ("taxonomy", taxonomy), ("specialty", specialty),
                         ("practice", practice), ("role", int(role)), ("spec", spec), ("hsa", hsa)):
            rows[col].append(val)

    def person_name() -> str:
        return f"{LAST[r.integers(len(LAST))]}, {FIRST[r.integers(len(FIRST))]}"

    def new_practice(name: str, hsa: int, kind: int, aco_p: float, org_taxonomy: str, org_specialty: str,
                     org_role: Role) -> int:
        index = len(practices)
        practices.append({"name": name, "hsa": hsa, "kind": kind, "aco": r.random() < aco_p})
        add(name, "organization", org_taxonomy, org_specialty, index, org_role, NULL, hsa)
        return index

    for h, hsa in enumerate(geo.hsas):
        towns = geo.towns(h)
        n_pc = max(1, round(hsa_pop[h] / cfg.persons_per_practice))
        kinds = [0, *r.choice(3, size=n_pc - 1, p=[0.55, 0.25, 0.20])]
        aco_flags = r.permutation(np.arange(n_pc) < round(n_pc * cfg.aco_participation + r.random() - 0.5))
        for j, kind in enumerate(kinds):
            town = towns[j % len(towns)]
            label = {0: "Family Medicine", 1: "Internal Medicine", 2: "Pediatrics"}[int(kind)]
            p = new_practice(f"{town} {label}" + (f" {j // len(towns) + 1}" if j >= len(towns) else ""), h,
                             int(kind), float(aco_flags[j]), "261QP2300X", "70", Role.GROUP)
            mix = PCP_MIX[PRACTICE_KINDS[int(kind)]]
            for _ in range(int(r.integers(2, 9))):
                tax, spec, cred, _w = mix[r.choice(len(mix), p=[m[3] for m in mix])]
                add(f"{person_name()} {cred}", "individual", tax, spec, p, Role.PCP, NULL, h)
        # specialists
        p = new_practice(f"{hsa} Specialty Associates", h, NULL, cfg.aco_participation, "193200000X", "70",
                         Role.GROUP)
        for s, (_n, tax, spec, *_rest) in enumerate(codes.SPECIALTIES):
            for _ in range(max(1, round(hsa_pop[h] / 25000))):
                add(f"{person_name()} MD", "individual", tax, spec, p, Role.SPECIALIST, s, h)
        # the hospital, its physician group, SNFs, home health, counselling, PT, pharmacies
        hospital_aco = 0.85
        p = new_practice(f"{hsa} Regional Hospital", h, NULL, hospital_aco, "282N00000X", "A0", Role.HOSPITAL)
        hospital_group_aco = practices[p]["aco"]
        g = len(practices)
        practices.append({"name": f"{hsa} Hospital Physicians", "hsa": h, "kind": NULL, "aco": hospital_group_aco,
                          "tin_of": p})
        add(f"{hsa} Hospital Physicians", "organization", "193200000X", "70", g, Role.GROUP, NULL, h)
        for role, (tax, spec, per) in HOSPITAL_STAFF.items():
            for _ in range(max(1, round(hsa_pop[h] / per))):
                add(f"{person_name()} MD", "individual", tax, spec, g, role, NULL, h)
        for j in range(max(1, round(hsa_pop[h] / 30000))):
            new_practice(f"{towns[j % len(towns)]} Health and Rehabilitation", h, NULL, 0.4, "314000000X", "A1",
                         Role.SNF)
        new_practice(f"{hsa} Visiting Nurse Association", h, NULL, 0.6, "251E00000X", "A4", Role.HHA)
        p = new_practice(f"{hsa} Counseling Services", h, NULL, 0.7, "261QM0801X", "70", Role.GROUP)
        for _ in range(max(1, round(hsa_pop[h] / 15000))):
            tax, spec, cred = [("103T00000X", "62", "PhD"), ("1041C0700X", "80", "LICSW")][int(r.integers(2))]
            add(f"{person_name()} {cred}", "individual", tax, spec, p, Role.THERAPIST, NULL, h)
        p = new_practice(f"{hsa} Physical Therapy", h, NULL, 0.3, "261QR0400X", "70", Role.GROUP)
        for _ in range(max(1, round(hsa_pop[h] / 20000))):
            add(f"{person_name()} PT", "individual", "225100000X", "65", p, Role.PT, NULL, h)
        for j in range(max(1, round(hsa_pop[h] / 7000))):
            new_practice(f"{towns[j % len(towns)]} Pharmacy", h, NULL, 0.0, "3336C0003X", "A5", Role.PHARMACY)
    burlington = geo.hsas.index("Burlington")
    new_practice("Green Mountain Clinical Laboratory", burlington, NULL, 0.0, "291U00000X", "69", Role.LAB)

    n = len(rows["name"])
    practice = np.array(rows["practice"], dtype=np.int64)
    n_pr = len(practices)
    # TINs: one per practice, except the hospital physician group which bills under the hospital's TIN
    tins = (30_000_000 + r.choice(70_000_000, size=n_pr, replace=False)).astype(np.int64)
    for i, pr in enumerate(practices):
        if "tin_of" in pr:
            tins[i] = tins[pr["tin_of"]]
    tin_str = np.char.zfill(tins.astype(str), 9)
    role = np.array(rows["role"], dtype=np.int64)
    org_roles = (Role.GROUP, Role.HOSPITAL, Role.SNF, Role.HHA, Role.LAB, Role.PHARMACY)
    is_org = np.isin(role, [int(x) for x in org_roles])
    billing_of_practice = np.full(n_pr, NULL, dtype=np.int64)
    billing_of_practice[practice[is_org]] = np.flatnonzero(is_org)
    start_year = np.where(r.random(n_pr) < 0.6, cfg.first_year,
                          np.minimum(cfg.first_year + r.integers(1, 3, n_pr), cfg.last_year))
    aco_pr = np.array([pr["aco"] for pr in practices], dtype=bool)
    aco_start_pr = np.where(aco_pr, [day(int(y)) for y in start_year], NULL)
    aco_end_pr = np.where(aco_pr, day(cfg.last_year, 12, 31), NULL)
    practice_ids = np.array([f"PR{i + 1:04d}" for i in range(n_pr)])
    practice_names = np.array([pr["name"] for pr in practices])
    out = Providers(
        npi=_npis(r, n), tin=tin_str[practice], name=np.array(rows["name"]),
        entity=np.array(rows["entity"]), taxonomy=np.array(rows["taxonomy"]), specialty=np.array(rows["specialty"]),
        practice_id=practice_ids[practice], practice_name=practice_names[practice],
        hsa=np.array(rows["hsa"], dtype=np.int64), aco=aco_pr[practice], aco_start=aco_start_pr[practice],
        aco_end=aco_end_pr[practice], role=role, spec=np.array(rows["spec"], dtype=np.int64), practice=practice,
        billing=billing_of_practice[practice],
        practice_kind=np.array([pr["kind"] for pr in practices], dtype=np.int64),
        practice_hsa=np.array([pr["hsa"] for pr in practices], dtype=np.int64), n_hsa=k,
    )
    out._hsa_names = geo.hsas
    out._aco_id = cfg.aco_id
    return out
