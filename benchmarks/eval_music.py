"""Evaluate the transformer against the arranger on generated timelines.

Usage: .venv/bin/python benchmarks/eval_music.py [--weights DIR] [--plans N] [--seconds S]

Prints, per engine: (a) cut alignment: share of cuts with a new chord attack (>= 3 pitch
classes) within 1 frame (24 fps), 250 ms and 1 s, with and without the transformer's
constraint; (b) emotion control: major-minus-minor key correlation at valence -0.8 vs +0.8,
notes per second at arousal -0.8 vs +0.8; (c) generation speed as a real-time factor
(generation seconds / music seconds). Appends the table, machine and date to
benchmarks/results/music_eval.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import time
from pathlib import Path

import numpy as np
import torch

from emsync_core.music.alignment import measure_alignment
from emsync_core.music.arranger import arrange
from emsync_core.music.generate import generate
from emsync_core.music.model import EmsyncTransformer
from emsync_core.music.plan import plan_score

WEIGHTS = Path(__file__).resolve().parents[1] / "emsync_core" / "weights"
RESULTS = Path(__file__).parent / "results" / "music_eval.md"
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def spans_for(seed: int, seconds: float, n_cuts: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(24, int(seconds * 24) - 24), n_cuts))
    edges = [0.0, *(c / 24 for c in cuts), seconds]
    return list(zip(edges, edges[1:], strict=False))


def major_minus_minor(midi) -> float:
    hist = np.zeros(12)
    for inst in midi.instruments:
        if not inst.is_drum:
            for n in inst.notes:
                hist[n.pitch % 12] += n.end - n.start
    if hist.sum() == 0:
        return 0.0
    major = max(np.corrcoef(hist, np.roll(MAJOR, k))[0, 1] for k in range(12))
    minor = max(np.corrcoef(hist, np.roll(MINOR, k))[0, 1] for k in range(12))
    return float(major - minor)


def notes_per_second(midi, seconds: float) -> float:
    return sum(len(i.notes) for i in midi.instruments) / seconds


def control(engine, args: argparse.Namespace, mood: tuple[float, float], measure) -> float:
    """Mean of `measure` over scores whose every scene has `mood`."""
    values = []
    for p in range(args.plans):
        spans = spans_for(100 + p, args.seconds, n_cuts=int(args.seconds / 5))
        plan = plan_score(spans, [mood] * len(spans), p)
        values.append(measure(engine(plan, p).midi))
    return float(np.mean(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--plans", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = EmsyncTransformer.load(args.weights)
    engines = {
        "arranger": lambda plan, seed: arrange(plan, seed),
        "transformer": lambda plan, seed: generate(plan, model, seed),
        "transformer, unconstrained": lambda plan, seed: generate(
            plan, model, seed, constrained=False
        ),
    }
    rows = []
    for name, engine in engines.items():
        errors, spent, music = [], 0.0, 0.0
        for p in range(args.plans):
            spans = spans_for(p, args.seconds, n_cuts=int(args.seconds / 5))
            rng = random.Random(p)
            moods = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in spans]
            plan = plan_score(spans, moods, p)
            start = time.perf_counter()
            score = engine(plan, p)
            spent += time.perf_counter() - start
            music += args.seconds
            for a in measure_alignment(score.midi, [s for s, _ in spans[1:]]):
                ok = a.error_ms is not None and a.new_harmony
                errors.append(a.error_ms if ok else float("inf"))
        errors = np.array(errors)

        def density(midi):
            return notes_per_second(midi, args.seconds)

        mode_low = control(engine, args, (-0.8, 0.0), major_minus_minor)
        mode_high = control(engine, args, (0.8, 0.0), major_minus_minor)
        density_low = control(engine, args, (0.0, -0.8), density)
        density_high = control(engine, args, (0.0, 0.8), density)
        rows.append(
            f"| {name} | {np.mean(errors <= 1000 / 24):.2f} | {np.mean(errors <= 250):.2f} | "
            f"{np.mean(errors <= 1000):.2f} | {mode_low:+.3f} / {mode_high:+.3f} | "
            f"{density_low:.1f} / {density_high:.1f} | {spent / music:.3f} |"
        )
    header = (
        "| engine | cuts: chord within 1 frame | within 250 ms | within 1 s | "
        "major-minor at V -0.8 / +0.8 | notes/s at A -0.8 / +0.8 | generation RTF |\n"
        "| --- | --- | --- | --- | --- | --- | --- |"
    )
    table = "\n".join([header, *rows])
    print(table)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch threads"
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(f"\n## {datetime.date.today().isoformat()} — {machine}\n\n")
        f.write(
            f"`benchmarks/eval_music.py --plans {args.plans} --seconds {args.seconds:g}` "
            f"with weights from `{args.weights.name}`.\n\n{table}\n"
        )


if __name__ == "__main__":
    main()
