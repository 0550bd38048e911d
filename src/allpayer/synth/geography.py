"""Where people live: Vermont ZIP codes by hospital service area, plus out-of-state ZIPs for non-residents."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Out-of-state ZIPs near the border, with the Vermont HSA whose clinicians their residents use.
NONRESIDENT_ZIPS: tuple[tuple[str, str, str, float], ...] = (
    ("03766", "NH", "Upper Valley", 4), ("03755", "NH", "Upper Valley", 3), ("03784", "NH", "Upper Valley", 2),
    ("03743", "NH", "Springfield", 3), ("03431", "NH", "Brattleboro", 3), ("03570", "NH", "St. Johnsbury", 1),
    ("12090", "NY", "Bennington", 1), ("12887", "NY", "Rutland", 1), ("01301", "MA", "Brattleboro", 1),
)


@dataclass(frozen=True)
class Geography:
    hsas: tuple[str, ...]
    zip_codes: np.ndarray  # str, one per ZIP row
    zip_towns: np.ndarray
    zip_hsa: np.ndarray  # HSA index per ZIP row
    zip_weight: np.ndarray  # probability per ZIP row
    nonres_zip: np.ndarray
    nonres_state: np.ndarray
    nonres_hsa: np.ndarray
    nonres_weight: np.ndarray

    @property
    def hsa_share(self) -> np.ndarray:
        return np.bincount(self.zip_hsa, weights=self.zip_weight, minlength=len(self.hsas))

    def towns(self, hsa: int) -> list[str]:
        """Towns of an HSA, largest first."""
        mask = self.zip_hsa == hsa
        order = np.argsort(-self.zip_weight[mask], kind="stable")
        return list(dict.fromkeys(self.zip_towns[mask][order]))


def load() -> Geography:
    text = (Path(__file__).parent.parent / "refdata" / "vt_zip_hsa.csv").read_text()
    records = list(csv.DictReader(text.splitlines()))
    hsas = tuple(sorted({r["hsa"] for r in records}))
    weights = np.array([float(r["weight"]) for r in records])
    nonres_w = np.array([w for *_, w in NONRESIDENT_ZIPS], dtype=np.float64)
    return Geography(
        hsas=hsas,
        zip_codes=np.array([r["zip_code"] for r in records]),
        zip_towns=np.array([r["town"] for r in records]),
        zip_hsa=np.array([hsas.index(r["hsa"]) for r in records]),
        zip_weight=weights / weights.sum(),
        nonres_zip=np.array([z for z, *_ in NONRESIDENT_ZIPS]),
        nonres_state=np.array([s for _, s, *_ in NONRESIDENT_ZIPS]),
        nonres_hsa=np.array([hsas.index(h) for _, _, h, _ in NONRESIDENT_ZIPS]),
        nonres_weight=nonres_w / nonres_w.sum(),
    )
