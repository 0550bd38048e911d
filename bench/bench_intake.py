"""Intake benchmark: rows/s and peak memory for a synthetic population, beside a hand-written DuckDB load.

    python bench/bench_intake.py --persons 100000 --years 2022-2022 [--format parquet|csv]

Each phase runs in its own process so peak RSS is its own. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_synth(out: Path, persons: int, years: str, file_format: str) -> dict:
    from allpayer.synth import SynthConfig, generate

    first, _, last = years.partition("-")
    start = time.perf_counter()
    summary = generate(SynthConfig(persons=persons, first_year=int(first), last_year=int(last or first), seed=11,
                                   file_format=file_format), out)
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(),
            "rows": summary.claim_lines + summary.pharmacy_lines}


def phase_ingest(data: Path, workspace: Path, threads: int) -> dict:
    from allpayer import Context

    ctx = Context(workspace)
    ctx.warehouse.con.raw_sql(f"SET threads = {threads}")
    start = time.perf_counter()
    report = ctx.ingest([data])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb(), "read": report.read, "accepted": report.accepted,
            "rejected": report.rejected, "rows_per_s": report.read / seconds}


def phase_reference(data: Path, threads: int) -> dict:
    """Hand-written DuckDB: read every input file into a typed table in a DuckDB file (as the engine's warehouse
    is), no checks, no lineage."""
    import duckdb

    con = duckdb.connect(str(data.parent / "reference.duckdb"))
    con.execute(f"SET threads = {threads}")
    start = time.perf_counter()
    rows = 0
    for path in sorted(data.iterdir()):
        if path.suffix not in (".csv", ".parquet") or path.name.startswith("provider"):
            continue
        reader = f"read_parquet('{path}')" if path.suffix == ".parquet" else f"read_csv('{path}', header=true)"
        con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM {reader}")
        rows += con.execute("SELECT count(*) FROM t").fetchone()[0]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb(), "rows": rows, "rows_per_s": rows / seconds}


def _child(phase: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", phase, *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--years", default="2022-2022")
    parser.add_argument("--format", default="parquet", choices=["parquet", "csv"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        root = Path(args.dir)
        result = {
            "synth": lambda: phase_synth(root / "data", args.persons, args.years, args.format),
            "ingest": lambda: phase_ingest(root / "data", root / "ws", args.threads),
            "reference": lambda: phase_reference(root / "data", args.threads),
        }[args.phase]()
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="allpayer-bench-") as tmp:
        common = ["--dir", tmp, "--persons", str(args.persons), "--years", args.years, "--format", args.format,
                  "--threads", str(args.threads)]
        synth = _child("synth", *common)
        ingest = _child("ingest", *common)
        reference = _child("reference", *common)
    print(f"persons {args.persons:,}  years {args.years}  format {args.format}  threads {args.threads}")
    print(f"synth      {synth['seconds']:8.1f} s   peak {synth['peak_mb']:7.0f} MB   claim+rx lines {synth['rows']:,}")
    print(f"intake     {ingest['seconds']:8.1f} s   peak {ingest['peak_mb']:7.0f} MB   read {ingest['read']:,}  "
          f"accepted {ingest['accepted']:,}  rejected {ingest['rejected']:,}  {ingest['rows_per_s']:,.0f} rows/s")
    print(f"reference  {reference['seconds']:8.1f} s   peak {reference['peak_mb']:7.0f} MB   "
          f"(hand-written DuckDB typed load, no checks) {reference['rows_per_s']:,.0f} rows/s")
    print(f"intake / reference: {ingest['seconds'] / reference['seconds']:.2f}x")


if __name__ == "__main__":
    main()
