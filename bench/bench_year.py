"""Benchmark: a full performance year on a new workspace, each step in its own process (intake, attribution, total
cost of care, quality, settlement run), as a scheduled job would run them; prints each step's time, CPU time and
peak RSS and their sums. No assertions.

    python bench/bench_year.py [--persons 5000] [--years 2018-2019] [--year 2019] [--input DIR]
                               [--workspace /tmp/allpayer-bench-year] [--no-reference]

After the engine's steps, each step hand-written in DuckDB SQL (``year_reference.py``) runs on the same
workspace's intake tables, in a process of its own, and each step's time is printed beside the engine's.

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
    parser.add_argument("--no-reference", action="store_true", help="skip the hand-written passes")
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
    total, total_cpu, highest, engine = 0.0, 0.0, 0, {}
    for step in STEPS:
        seconds, cpu, peak, detail = run_step(step, workspace, input_dir, args.year)
        total, total_cpu, highest = total + seconds, total_cpu + cpu, max(highest, peak)
        engine[step] = seconds
        print(f"  {step:10s} {seconds:8.1f} s  CPU {cpu:7.1f} s  peak RSS {peak:6,d} MB  {detail}", flush=True)
    print(f"  {'all steps':10s} {total:8.1f} s  CPU {total_cpu:7.1f} s  highest peak {highest:,d} MB")
    if not args.no_reference:
        compare_with_reference(workspace, first, last or first, engine)


def compare_with_reference(workspace: Path, first: str, last: str, engine: dict[str, float]) -> None:
    """Run ``year_reference.py`` on the workspace and print each step's time beside the engine's."""
    print("hand-written DuckDB SQL on the same workspace (bench/year_reference.py):", flush=True)
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("year_reference.py")), str(workspace),
                           "--years", f"{first}-{last}"], capture_output=True, text=True)
    print(done.stdout, end="")
    if done.returncode != 0:
        print("  the reference failed:\n" + "\n".join(done.stderr.strip().splitlines()[-6:]))
        return
    reference = {line.split()[1]: float(line.split()[2]) for line in done.stdout.splitlines()
                 if line.startswith("  reference ") and line.split()[1] in engine}

    def ratio(engine_seconds: float, hand_seconds: float) -> str:
        return f"{engine_seconds / hand_seconds:6.2f}" if hand_seconds >= 0.05 else f"{'-':>6s}"

    print(f"  {'step':10s} {'engine':>8s} {'hand-written':>13s} {'ratio':>6s}")
    for step, seconds in engine.items():
        if step in reference:
            print(f"  {step:10s} {seconds:8.1f} {reference[step]:13.1f} {ratio(seconds, reference[step])}")
    after = sum(engine[s] for s in reference)
    print(f"  {'after intake':12s} {after:6.1f} {sum(reference.values()):13.1f} "
          f"{ratio(after, sum(reference.values()))}")


if __name__ == "__main__":
    main()
