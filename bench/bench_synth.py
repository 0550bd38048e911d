"""Benchmark the synthetic-data generator: persons, years, rows written, seconds and peak RSS.

    PYTHONPATH=src python bench/bench_synth.py --persons 100000
    PYTHONPATH=src python bench/bench_synth.py --persons 630000 --years 2022-2022
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
from pathlib import Path

from allpayer.synth import SynthConfig, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--years", default="2017-2022", help="first-last, e.g. 2022-2022")
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dirty", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="keep the output here (default: a temp folder)")
    args = parser.parse_args(argv)
    first, last = (int(y) for y in args.years.split("-"))
    out = args.out or Path(tempfile.mkdtemp(prefix="allpayer-synth-"))
    cfg = SynthConfig(persons=args.persons, first_year=first, last_year=last, seed=args.seed, dirty=args.dirty,
                      file_format=args.format)
    try:
        summary = generate(cfg, out, progress=lambda msg: print(f"  {msg}", file=sys.stderr))
        size = sum(p.stat().st_size for p in out.iterdir())
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = summary.claim_lines + summary.pharmacy_lines + summary.eligibility_rows + summary.providers
    print(f"persons={summary.persons:,} years={first}-{last} format={args.format}")
    print(f"rows written={rows:,} (medical lines {summary.claim_lines:,}, pharmacy lines {summary.pharmacy_lines:,}, "
          f"eligibility {summary.eligibility_rows:,}, providers {summary.providers:,}); {size / 1e6:,.0f} MB")
    print(f"seconds={summary.seconds:.1f} peak_rss_mb={peak_mb:,.0f}")


if __name__ == "__main__":
    main()
