"""Benchmark: a full settlement run (`allpayer run`: expected cost, value payments, settlement, distribution and
the run folder) on a synthetic workspace; prints time and peak RSS of the run. No assertions.

    python bench/bench_run.py [--persons 5000] [--years 2017-2020] [--year 2019] [--workspace /tmp/allpayer-bench-run]

The workspace (synthetic population → intake → attribution → TCOC) is prepared once in a child process and reused
when it already exists, so the measured process's peak RSS covers the run only.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

PREPARE = """
import sys, time
from pathlib import Path
from allpayer import Context
from allpayer.synth import SynthConfig, generate
root, persons, first, last = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def timed(label, step):
    started = time.perf_counter()
    result = step()
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result
if not (root / "input" / "synth_manifest.json").exists():
    timed("synthetic data", lambda: generate(SynthConfig(persons=persons, first_year=first, last_year=last, seed=1),
                                             root / "input"))
with Context(root / "ws") as ctx:
    report = timed("intake", lambda: ctx.ingest([root / "input"]))
    print(f"  intake read {report.read:,} rows, rejected {report.rejected:,}", flush=True)
    timed("attribution", lambda: ctx.attribute("vermont"))
    timed("total cost of care", lambda: ctx.tcoc("vermont"))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--years", default="2017-2020")
    parser.add_argument("--year", type=int, default=2019)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/allpayer-bench-run"))
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    root = args.workspace / f"p{args.persons}-{first}-{last}"
    if not (root / "ws" / "warehouse.duckdb").exists():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", PREPARE, str(root), str(args.persons), first, last or first], check=True)
        print(f"prepared workspace in {time.perf_counter() - started:.1f} s: {root / 'ws'}")

    from allpayer import Context

    started = time.perf_counter()
    with Context(root / "ws") as ctx:
        run = ctx.run("vermont", args.year)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = {name: run.manifest["outputs"][name]["rows"] for name in run.tables()}
    print(f"persons {args.persons:,}  year {args.year}  run {run.run_id}")
    print(f"run: {seconds:.1f} s, peak RSS {peak_mb:,.0f} MB; output rows {rows}")


if __name__ == "__main__":
    main()
