"""Real-time factor of each `emsync score` stage on a generated 3-minute, 40-cut timeline.

Usage: .venv/bin/python benchmarks/bench_score.py [--repeat N] [--engine arranger|transformer]
       [--weights RUN_DIR]  (transformer: a candidate's weights instead of the shipped ones)
Prints stage time / timeline duration (lower is faster; 0.1 means 10x faster than real time)
and appends the figures, with machine and date, to benchmarks/results/score.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import opentimelineio as otio

from emsync_core.emotion.mapping import EKMAN6
from emsync_core.pipeline import ScoreOptions, score
from emsync_core.timeline.build import timeline_from_cuts

RATE = 24.0
DURATION_S = 180
N_CUTS = 40
RESULTS = Path(__file__).parent / "results" / "score.md"


def make_timeline(folder: Path) -> Path:
    rng = random.Random(0)
    frames = int(DURATION_S * RATE)
    cuts = sorted(rng.sample(range(12, frames - 12), N_CUTS))
    markers = [(c + 1, f"emotion: {rng.choice(EKMAN6)}") for c in cuts[::4]]
    path = folder / "bench.otio"
    otio.adapters.write_to_file(
        timeline_from_cuts(cuts, frames, RATE, "bench", markers=markers), str(path)
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--engine", choices=["transformer", "arranger"], default=ScoreOptions.engine
    )
    parser.add_argument("--weights", type=Path, help="transformer weights folder")
    args = parser.parse_args()
    engine = args.engine + (f" ({args.weights})" if args.weights else "")
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = make_timeline(Path(tmp))
        for i in range(args.repeat):
            start = time.perf_counter()
            options = ScoreOptions(
                out=Path(tmp) / f"out{i}", engine=args.engine, weights=args.weights, progress=False
            )
            result = score(path, options)
            total = time.perf_counter() - start
            timings = json.loads(result.files["report"].read_text())["timings_s"]
            runs.append({**timings, "total": total})
    lines = [f"| stage | real-time factor (median of {args.repeat}) |", "| --- | --- |"]
    for stage in runs[0]:
        rtf = statistics.median(r[stage] for r in runs) / DURATION_S
        lines.append(f"| {stage} | {rtf:.4f} |")
    table = "\n".join(lines)
    print(f"{DURATION_S} s timeline, {N_CUTS} cuts, {engine} engine, render included")
    print(table)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    stamp = datetime.date.today().isoformat()
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(f"\n## {stamp} — {machine}, Python {platform.python_version()}\n\n")
        f.write(
            f"`benchmarks/bench_score.py --repeat {args.repeat} --engine {args.engine}"
            f"{f' --weights {args.weights}' if args.weights else ''}`: "
            f"{DURATION_S} s timeline, {N_CUTS} cuts, {engine}, render included.\n\n{table}\n"
        )


if __name__ == "__main__":
    main()
