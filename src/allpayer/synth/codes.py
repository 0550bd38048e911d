"""Code vocabularies the generator draws from (HCPCS, ICD-10-CM, DRG, revenue, NDC ...).

Prices are illustrative base allowed amounts (roughly Medicare 2019 levels); the generator rescales
spend to the PMPM targets afterwards, so only their relative sizes matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Vocab:
    """Strings with their integer codes; columns hold the integer and are decoded when written."""

    codes: tuple[str, ...]

    def ix(self, *codes: str) -> np.ndarray | int:
        index = {c: i for i, c in enumerate(self.codes)}
        found = [index[c] for c in codes]
        return found[0] if len(found) == 1 else np.array(found, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.codes)


# CPT/HCPCS with an illustrative base allowed amount.
HCPCS_PRICES: dict[str, float] = {
    # office E/M, new and established
    "99202": 75, "99203": 110, "99204": 165, "99205": 210,
    "99211": 23, "99212": 46, "99213": 75, "99214": 110, "99215": 148,
    # preventive medicine, new (99381-99387) and established (99391-99397)
    "99381": 115, "99382": 120, "99383": 125, "99384": 135, "99385": 130, "99386": 150, "99387": 165,
    "99391": 100, "99392": 108, "99393": 108, "99394": 118, "99395": 120, "99396": 130, "99397": 140,
    # annual wellness, TCM, advance care planning, visit complexity add-on, depression screening
    "G0438": 170, "G0439": 118, "G0463": 110, "99495": 200, "99496": 280, "99497": 85, "G2211": 16, "G0444": 18,
    # quality-data codes (zero-priced)
    "3044F": 0, "3046F": 0, "3051F": 0, "3052F": 0, "3074F": 0, "3075F": 0, "3077F": 0,
    "3078F": 0, "3079F": 0, "3080F": 0, "G8431": 0, "G8510": 0,
    # labs
    "80053": 11, "83036": 10, "80061": 13, "85025": 8, "84443": 16, "36415": 3,
    # imaging (professional read or technical)
    "71046": 30, "70450": 110, "73030": 35, "77067": 140,
    # ED professional
    "99281": 20, "99282": 40, "99283": 60, "99284": 110, "99285": 160,
    # inpatient professional
    "99221": 100, "99222": 135, "99223": 200, "99231": 40, "99232": 72, "99233": 105, "99238": 72,
    # SNF visits
    "99307": 45, "99308": 70, "99309": 95, "99310": 140,
    # behavioural health
    "90791": 140, "90834": 90, "90837": 130,
    # specialist procedures
    "93000": 17, "94010": 30, "20610": 60, "45378": 350, "93306": 220, "11102": 95,
    # surgery professional
    "27447": 1400, "92928": 1100, "59400": 2300, "44970": 650,
    # immunisations and their administration
    "90686": 19, "90471": 25, "G0008": 30, "90460": 25, "90707": 75, "90700": 35,
    # more labs
    "81003": 3, "82306": 30,
    # infusion: chemotherapy administration and drug (priced per claim line separately)
    "96413": 140, "J9271": 0,
    # physical therapy
    "97110": 30, "97140": 28,
}
HCPCS = Vocab(tuple(HCPCS_PRICES))
HCPCS_PRICE = np.array(list(HCPCS_PRICES.values()), dtype=np.float64)

MODIFIERS = Vocab(("95", "26", "TC", "25", "GT"))

ICD10CM = Vocab((
    # chronic conditions tracked for prevalence
    "E119", "E1165", "I10", "J449", "J441", "F329", "F331", "F1020", "F1120",
    # common primary-care, ED and inpatient diagnoses
    "Z0000", "Z0001", "Z00129", "Z23", "Z1231", "Z1211", "J069", "J029", "N390", "K219", "E785", "E039",
    "F419", "S93401A", "S0990XA", "S52501A", "J189", "A419", "I509", "N179", "L03115", "R0789", "R079",
    "R109", "R0602", "M25561", "H6690", "B349", "I4891", "I2510", "G4733", "E669", "F17210", "M1711",
    "K3580", "O80", "Z3800", "C50911", "C3490", "C189",
    "I639", "K922", "F209", "F319", "F1010", "F1220", "L409", "K5090", "Z7984",
))

# Chronic-condition flags and the diagnosis codes that mark them.
CONDITIONS = ("diabetes", "hypertension", "copd", "depression", "sud")
CONDITION_DX = {
    "diabetes": ("E119", "E1165"),
    "hypertension": ("I10",),
    "copd": ("J449", "J441"),
    "depression": ("F329", "F331"),
    "sud": ("F1020", "F1120"),
}
# Prevalence knots (age, share) for the condition flags (calibration: adults 18-64 and 65+).
CONDITION_KNOTS: dict[str, list[tuple[float, float]]] = {
    "diabetes": [(0, 0.0), (17, 0.003), (18, 0.011), (40, 0.048), (64, 0.165), (65, 0.22), (80, 0.30), (100, 0.26)],
    "hypertension": [(0, 0.0), (17, 0.01), (18, 0.07), (40, 0.19), (64, 0.47), (65, 0.52), (80, 0.67),
                     (100, 0.70)],
    "copd": [(0, 0.0), (17, 0.001), (18, 0.004), (40, 0.019), (64, 0.09), (65, 0.095), (80, 0.13), (100, 0.12)],
    "depression": [(0, 0.0), (11, 0.01), (12, 0.07), (17, 0.10), (18, 0.17), (64, 0.17), (65, 0.17),
                   (100, 0.17)],
    "sud": [(0, 0.0), (14, 0.0), (15, 0.015), (17, 0.025), (18, 0.055), (64, 0.05), (65, 0.02), (100, 0.015)],
}

ACUTE_DX_ADULT = ("J069", "J029", "N390", "K219", "E785", "E039", "F419", "R109", "R0602", "M25561",
                  "B349", "E669", "F17210", "G4733", "I2510", "I4891")
ACUTE_DX_CHILD = ("J069", "J029", "H6690", "B349", "R109", "F419", "S93401A")
ED_DX = ("S93401A", "S0990XA", "S52501A", "R0789", "R079", "R109", "J069", "N390", "L03115", "R0602", "J189")
MENTAL_DX = ("F419", "F209", "F319")  # for people without the depression flag
AOD_DX = ("F1020", "F1120", "F1010", "F1220")

REVENUE = Vocab(("0120", "0200", "0250", "0300", "0320", "0350", "0360", "0450", "0730", "0022", "0023",
                 "0420", "0430", "0551", "0421", "0636", "0402", "0510", "0335"))
BILL_TYPES = Vocab(("111", "131", "211", "321"))
POS = Vocab(("11", "02", "10", "21", "22", "23", "31", "81", "12"))
ADMIT_TYPES = Vocab(("1", "2", "3", "4"))  # emergency, urgent, elective, newborn
DISCHARGE = Vocab(("01", "03", "06", "20", "02"))  # home, SNF, home health, expired, other hospital

# MS-DRG: code, relative weight, principal diagnosis, ICD-10-PCS procedure (surgical), surgeon HCPCS.
DRGS: tuple[tuple[str, float, str, str, str], ...] = (
    ("871", 1.9, "A419", "", ""), ("291", 1.3, "I509", "", ""), ("190", 1.2, "J441", "", ""),
    ("194", 0.95, "J189", "", ""), ("470", 2.0, "M1711", "0SRD0JZ", "27447"), ("392", 0.75, "K219", "", ""),
    ("603", 0.85, "L03115", "", ""), ("690", 0.8, "N390", "", ""), ("683", 0.9, "N179", "", ""),
    ("065", 1.0, "I639", "", ""), ("247", 2.1, "I2510", "027034Z", "92928"), ("378", 1.0, "K922", "", ""),
    ("885", 1.3, "F209", "", ""), ("897", 0.8, "F1020", "", ""), ("638", 0.85, "E1165", "", ""),
    ("343", 1.0, "K3580", "0DTJ4ZZ", "44970"), ("853", 5.0, "A419", "", ""), ("207", 5.5, "J189", "", ""),
    ("329", 5.0, "K922", "", ""), ("003", 18.0, "A419", "", ""), ("807", 0.6, "O80", "10E0XZZ", "59400"),
    ("795", 0.2, "Z3800", "", ""),
)
DRG = Vocab(tuple(d[0] for d in DRGS))
DRG_WEIGHT = np.array([d[1] for d in DRGS])
PCS = Vocab(tuple(sorted({d[3] for d in DRGS if d[3]})))
# Admission mix by age band (child, adult, 65+) over DRGS, excluding deliveries and newborns.
_MEDICAL = ("871", "291", "190", "194", "470", "392", "603", "690", "683", "065", "247", "378", "885", "897",
            "638", "343", "853", "207", "329", "003")
DRG_MIX = {
    "child": dict(zip(_MEDICAL, (3, 0, 0, 20, 0, 15, 10, 8, 1, 0, 0, 1, 8, 3, 5, 20, 0.5, 0.5, 0.5, 0.2),
                      strict=True)),
    "adult": dict(zip(_MEDICAL, (8, 5, 4, 8, 8, 8, 8, 5, 4, 3, 5, 5, 8, 8, 4, 6, 1, 1, 1, 0.3), strict=True)),
    "senior": dict(zip(_MEDICAL, (14, 14, 9, 9, 9, 5, 5, 7, 7, 6, 5, 5, 1, 1, 3, 2, 1.5, 1.5, 1.5, 0.2),
                       strict=True)),
}

# Specialists: (name, NUCC taxonomy, CMS specialty, visit procedure HCPCS or "", condition that raises demand)
SPECIALTIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("cardiology", "207RC0000X", "06", "93000", "hypertension"),
    ("pulmonology", "207RP1001X", "29", "94010", "copd"),
    ("endocrinology", "207RE0101X", "46", "", "diabetes"),
    ("psychiatry", "2084P0800X", "26", "", "depression"),
    ("orthopedics", "207X00000X", "20", "20610", ""),
    ("general_surgery", "208600000X", "02", "", ""),
    ("obgyn", "207V00000X", "16", "", ""),
    ("gastroenterology", "207RG0100X", "10", "45378", ""),
    ("neurology", "2084N0400X", "13", "", ""),
    ("dermatology", "207N00000X", "07", "11102", ""),
)
SPECIALTY_DX = {
    "cardiology": ("I2510", "I4891", "R079"), "pulmonology": ("G4733", "R0602", "J189"),
    "endocrinology": ("E039", "E669", "E785"), "psychiatry": ("F419", "F319", "F209"),
    "orthopedics": ("M1711", "M25561", "S93401A"), "general_surgery": ("K3580", "K219", "L03115"),
    "obgyn": ("Z1231", "N390", "O80"), "gastroenterology": ("Z1211", "K219", "K5090"),
    "neurology": ("G4733", "I639", "R0789"), "dermatology": ("L409", "L03115", "B349"),
}

# Pharmacy: maintenance classes (name, NDCs, condition, prevalence knots if not condition-based,
# share of the condition on it, daily cost, sex restriction, prescriber specialty).
# NDCs are 11-digit, formatted like real ones but illustrative.
MAINTENANCE: tuple[tuple, ...] = (
    ("lisinopril", ("00093111101", "68180051301"), "hypertension", None, 0.65, 0.35, "", ""),
    ("amlodipine", ("00093716798", "69097012705"), "hypertension", None, 0.45, 0.40, "", ""),
    ("metoprolol", ("00378003201", "55111046701"), "hypertension", None, 0.30, 0.45, "", "cardiology"),
    ("metformin", ("00093104801", "65862000801"), "diabetes", None, 0.80, 0.30, "", ""),
    ("insulin_glargine", ("00088222033",), "diabetes", None, 0.25, 13.0, "", "endocrinology"),
    ("tiotropium", ("00597007541",), "copd", None, 0.55, 14.0, "", "pulmonology"),
    ("albuterol", ("00173068220", "59310057922"), "copd", None, 0.60, 1.8, "", ""),
    ("sertraline", ("16729000101", "68180035201"), "depression", None, 0.60, 0.40, "", "psychiatry"),
    ("bupropion", ("00591354360",), "depression", None, 0.25, 0.90, "", "psychiatry"),
    ("buprenorphine_naloxone", ("12496120803",), "sud", None, 0.35, 9.0, "", "psychiatry"),
    ("atorvastatin", ("00093505698", "60505257909"), "",
     [(0, 0), (30, 0.01), (45, 0.10), (65, 0.40), (80, 0.50), (100, 0.40)], 1.0, 0.30, "", ""),
    ("levothyroxine", ("00378180001",), "", [(0, 0.002), (30, 0.03), (65, 0.15), (100, 0.18)], 1.0, 0.40, "", ""),
    ("omeprazole", ("62175011843",), "", [(0, 0.005), (30, 0.04), (65, 0.18), (100, 0.22)], 1.0, 0.30, "", ""),
    ("apixaban", ("00003089421",), "", [(0, 0), (50, 0.005), (65, 0.05), (85, 0.15), (100, 0.15)], 1.0, 16.0,
     "", "cardiology"),
    ("tamsulosin", ("00228299650",), "", [(0, 0), (50, 0.02), (65, 0.18), (90, 0.30), (100, 0.30)], 1.0, 0.35,
     "male", ""),
    ("gabapentin", ("59762502801",), "", [(0, 0), (30, 0.02), (65, 0.10), (100, 0.12)], 1.0, 0.50, "", ""),
    ("methylphenidate", ("00406113501",), "", [(0, 0), (5, 0.0), (6, 0.08), (17, 0.08), (18, 0.02), (40, 0.01),
                                                (100, 0.0)], 1.0, 3.0, "", ""),
    ("norethindrone_ee", ("00555902758",), "", [(0, 0), (14, 0.0), (15, 0.15), (35, 0.20), (45, 0.05),
                                                 (46, 0.0), (100, 0.0)], 1.0, 0.90, "female", ""),
    ("adalimumab", ("00074433902",), "", [(0, 0), (18, 0.003), (64, 0.004), (100, 0.002)], 1.0, 230.0, "",
     "dermatology"),
)
ACUTE_DRUGS: tuple[tuple[str, str, float, int], ...] = (
    # name, NDC, cost per fill, days supply
    ("amoxicillin", "65862001720", 12.0, 10), ("azithromycin", "60505258006", 14.0, 5),
    ("prednisone", "00591544310", 8.0, 7), ("ibuprofen", "67877032005", 7.0, 10),
    ("hydrocodone_apap", "00406035601", 18.0, 5), ("ondansetron", "68462015713", 10.0, 7),
    ("cephalexin", "67877021901", 15.0, 10), ("fluticasone_nasal", "60505082901", 19.0, 30),
    ("oseltamivir", "00004080085", 95.0, 5), ("nitrofurantoin", "47781030301", 28.0, 7),
)
