"""Benchmark: a full performance year on a new workspace, each step in its own process (intake, attribution, total
cost of care, quality, settlement run), as a scheduled job would run them; prints each step's time, CPU time and
peak RSS and their sums. No assertions.

    python bench/bench_year.py [--persons 5000] [--years 2018-2019] [--year 2019] [--input DIR]
                               [--workspace /tmp/allpayer-bench-year]

Synthetic input for ``--persons`` and ``--years`` is generated once under the workspace folder and reused;
``--input`` names an existing input folder instead. The workspace itself is always new. DuckDB's memory limit is
the engine's default unless ``ALLPAYER_DUCKDB_MEMORY`` is set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

STEPS = ("ingest", "attribute", "tcoc", "quality", "run")

GENERATE = """
import sys
from pathlib import Path
from allpayer.synth import SynthConfig, generate
generate(SynthConfig(persons=int(sys.argv[2]), first_year=int(sys.argv[3]), last_year=int(sys.argv[4]), seed=1),
         Path(sys.argv[1]))
"""

# One step in a fresh process: prints "seconds cpu_seconds peak_mb detail" on its last line. CPU seconds (user and
# system, both threads) vary less than wall time on a shared host, so a comparison of two versions can read both.
STEP = """
import resource, sys, time
from pathlib import Path
from allpayer import Context
step, workspace, input_dir, year = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with Context(workspace) as ctx:
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    if step == "ingest":
        report = ctx.ingest([input_dir])
        detail = f"read {report.read:,} rows, rejected {report.rejected:,}"
    elif step == "run":
        detail = ctx.run("vermont", year).run_id
    else:
        getattr(ctx, step)("vermont")
        detail = ""
    seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - cpu_before
print(f"{seconds:.3f} {cpu:.3f} {usage.ru_maxrss / 1024:.0f} {detail}")
"""


def run_step(step: str, workspace: Path, input_dir: Path, year: int) -> tuple[float, float, int, str]:
    done = subprocess.run([sys.executable, "-c", STEP, step, str(workspace), str(input_dir), str(year)],
                          capture_output=True, text=True)
    if done.returncode != 0:  # the step's own error, not only its exit status
        raise SystemExit(f"step {step} failed (exit {done.returncode}):\n" + "\n".join(
            done.stderr.strip().splitlines()[-12:]))
    seconds, cpu, peak, *detail = done.stdout.strip().splitlines()[-1].split(" ", 3)
    return float(seconds), float(cpu), int(peak), detail[0] if detail else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--years", default="2018-2019")
    parser.add_argument("--year", type=int, default=2019)
    parser.add_argument("--input", type=Path, help="an existing input folder (default: generated)")
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/allpayer-bench-year"))
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    root = args.workspace / f"p{args.persons}-{first}-{last or first}"
    input_dir = args.input or root / "input"
    if not (input_dir / "synth_manifest.json").exists() and args.input is None:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", GENERATE, str(input_dir), str(args.persons), first, last or first],
                       check=True)
        print(f"generated input in {time.perf_counter() - started:.1f} s: {input_dir}")
    workspace = root / "ws"
    shutil.rmtree(workspace, ignore_errors=True)
    print(f"input {input_dir}  workspace {workspace}  year {args.year}  "
          f"DuckDB {duckdb.__version__}, memory limit {os.environ.get('ALLPAYER_DUCKDB_MEMORY', 'default')}")
    total, total_cpu, highest = 0.0, 0.0, 0
    for step in STEPS:
        seconds, cpu, peak, detail = run_step(step, workspace, input_dir, args.year)
        total, total_cpu, highest = total + seconds, total_cpu + cpu, max(highest, peak)
        print(f"  {step:10s} {seconds:8.1f} s  CPU {cpu:7.1f} s  peak RSS {peak:6,d} MB  {detail}", flush=True)
    print(f"  {'all steps':10s} {total:8.1f} s  CPU {total_cpu:7.1f} s  highest peak {highest:,d} MB")


if __name__ == "__main__":
    main()
