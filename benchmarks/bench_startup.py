"""Start-up time of light commands: `emsync --help` and `emsync cuts` on a small timeline.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]

Each command runs in a fresh process, as a user starts it; the figures are the median wall
time and the median CPU time (user + system, from the kernel's wait4), since on a shared
machine the wall time also counts waiting for a core. Target: under 0.5 s. Appends a line
(date, commit, machine, load) to benchmarks/results/startup.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "startup.md"
FIXTURE = ROOT / "tests" / "fixtures" / "timelines" / "simple_cut.otio"
COMMANDS = {
    "emsync --help": ["--help"],
    "emsync cuts simple_cut.otio": ["cuts", str(FIXTURE)],
}


def measure(args: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `python -m emsync_core.cli ARGS` in fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "emsync_core.cli", *args],
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if status != 0:
            raise SystemExit(f"emsync {' '.join(args)} failed ({status})")
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    load = os.getloadavg()[0]
    figures = []
    for label, args in COMMANDS.items():
        wall, cpu = measure(args, runs)
        print(f"{label}: median {wall:.2f} s wall, {cpu:.2f} s CPU ({runs} runs, load {load:.1f})")
        figures.append(f"{label}: {wall:.2f} s wall / {cpu:.2f} s CPU")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Start-up time (benchmarks/bench_startup.py; target < 0.5 s)\n\n"
            "Median of fresh processes. CPU = user + system time of the process; on a shared "
            "machine the wall time also counts waiting for a core (see the load).\n\n"
            "| date | commit | machine | load | figures |\n| --- | --- | --- | --- | --- |\n",
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(
            f"| {datetime.date.today()} | {commit} | {platform.node()} ({os.cpu_count()} cores, "
            f"Python {platform.python_version()}) | {load:.1f} | {'; '.join(figures)} |\n"
        )
    print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
