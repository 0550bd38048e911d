"""Model packs: versioned YAML configuration of a model's years, targets and payer programs."""

from allpayer.config.loader import DEFAULT_PACK, PackError, load_pack
from allpayer.config.models import (
    Attribution,
    Eligibility,
    ExpandedAttribution,
    MemberMonths,
    Pack,
    PerformanceYear,
    Program,
    ProgramMatch,
    Residency,
    ScaleDenominator,
    ScaleTargets,
)

__all__ = [
    "DEFAULT_PACK",
    "Attribution",
    "Eligibility",
    "ExpandedAttribution",
    "MemberMonths",
    "Pack",
    "PackError",
    "PerformanceYear",
    "Program",
    "ProgramMatch",
    "Residency",
    "ScaleDenominator",
    "ScaleTargets",
    "load_pack",
]
