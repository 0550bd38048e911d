"""Synthetic Vermont all-payer data in the Tuva input layer: eligibility, medical and pharmacy claims,
plus a provider roster, calibrated to ``docs/synthetic-calibration.md``.

>>> from allpayer.synth import SynthConfig, generate
>>> summary = generate(SynthConfig(persons=5_000, first_year=2021, last_year=2021), "data/synth")  # doctest: +SKIP
"""

from allpayer.synth.config import SynthConfig, SynthSummary
from allpayer.synth.generate import generate

__all__ = ["SynthConfig", "SynthSummary", "generate"]
