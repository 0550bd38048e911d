"""Generator settings (all calibration defaults live here) and the run summary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

PAYER_TYPES = ("medicare", "medicare_advantage", "medicaid", "commercial", "self_funded")


def _mix() -> dict[str, float]:
    # Point-in-time shares of residents (synthetic-calibration.md); duals count in both Medicare and Medicaid.
    return {"medicare": 0.21, "medicaid": 0.25, "commercial": 0.23, "self_funded": 0.24, "uninsured": 0.05}


def _pmpm_medical() -> dict[str, float]:
    # Allowed PMPM of medical claims in the base year: Medicare A+B; Medicaid and commercial exclude pharmacy.
    return {"medicare": 800.0, "medicare_advantage": 780.0, "medicaid": 420.0, "commercial": 460.0,
            "self_funded": 470.0}


def _pmpm_pharmacy() -> dict[str, float]:
    return {"medicare": 230.0, "medicare_advantage": 230.0, "medicaid": 80.0, "commercial": 90.0,
            "self_funded": 90.0}


@dataclass(frozen=True)
class SynthConfig:
    """What to generate. Every calibration figure is a default that can be overridden."""

    persons: int = 20_000
    first_year: int = 2017
    last_year: int = 2022
    seed: int = 7
    dirty: bool = False
    dirty_rows_per_rule: int = 5
    file_format: str = "parquet"  # or "csv"
    chunk_persons: int = 50_000  # persons per generation chunk (bounds memory)

    # coverage
    payer_mix: dict[str, float] = field(default_factory=_mix)
    dual_share: float = 0.04  # of residents, inside both the Medicare and the Medicaid share
    medicare_advantage_share: float = 0.20  # of Medicare
    medicare_disabled_share: float = 0.15  # of Medicare beneficiaries under 65 (status 20)
    medicaid_child_share: float = 0.40
    medicaid_monthly_churn: float = 0.02  # share of enrollees leaving each month (similar numbers join)
    medicaid_rejoin_rate: float = 0.15  # monthly chance that a member between spans comes back
    commercial_over65_share: float = 0.03  # working-aged 65+ who keep employer coverage
    aging_in_share: float = 0.85  # of commercial members turning 65 who move to Medicare
    nonresident_share: float = 0.02  # covered persons living outside Vermont (NH, NY, MA ZIPs)
    birth_rate: float = 0.009  # births per resident per year (newborns join during the window)
    employer_group_sizes: tuple[int, int] = (200, 8000)

    # providers
    persons_per_practice: int = 4000
    aco_participation: float = 0.5  # share of primary-care practices in the ACO
    aco_id: str = "onecare"
    usual_pcp_share: float = 0.85  # primary-care visits at the usual PCP

    # spending
    pmpm_base_year: int = 2019
    pmpm_medical: dict[str, float] = field(default_factory=_pmpm_medical)
    pmpm_pharmacy: dict[str, float] = field(default_factory=_pmpm_pharmacy)
    trend: float = 0.045
    no_claims_share: float = 0.15
    risk_sigma: float = 1.1  # person-level lognormal risk

    # versions (ADR)
    adjustment_share: float = 0.02
    reversal_share: float = 0.005
    denial_share: float = 0.01

    # run-out: cumulative share paid by months of lag 0, 1, 2, 3, 6, 12 (then 24)
    runout_professional: tuple[float, ...] = (0.42, 0.86, 0.955, 0.98, 0.995, 0.9995)
    runout_inpatient: tuple[float, ...] = (0.10, 0.55, 0.82, 0.91, 0.975, 0.997)

    # code-set years
    telehealth_first_year: int = 2020
    g2211_first_year: int = 2022

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    def __post_init__(self) -> None:
        if self.persons < 100:
            raise ValueError("persons must be at least 100")
        if self.last_year < self.first_year:
            raise ValueError("last_year must not precede first_year")
        if self.file_format not in ("parquet", "csv"):
            raise ValueError("file_format must be 'parquet' or 'csv'")

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["employer_group_sizes"] = list(self.employer_group_sizes)
        out["runout_professional"] = list(self.runout_professional)
        out["runout_inpatient"] = list(self.runout_inpatient)
        return out


@dataclass
class SynthSummary:
    persons: int = 0
    persons_by_payer_type: dict[str, int] = field(default_factory=dict)
    member_months_by_payer_type: dict[str, int] = field(default_factory=dict)
    claim_lines: int = 0
    pharmacy_lines: int = 0
    providers: int = 0
    eligibility_rows: int = 0
    dirty_rows_by_rule: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    max_date: str = ""

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["files"] = [str(p) for p in self.files]
        return out
