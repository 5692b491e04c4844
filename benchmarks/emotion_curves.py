"""Emotion control as a function of valence and arousal, for both engines, with a plot.

Usage: .venv/bin/python benchmarks/emotion_curves.py [--plans N] [--seconds S] [--threads T]

Part (b) of the music-engine evaluation swept over the whole range rather than at two points:
every scene of a score gets the same mood; valence steps through LEVELS at arousal 0 and
arousal through LEVELS at valence 0. For each level, engine and seed (plan) it measures the
major-minus-minor key correlation (`eval_music.major_minus_minor`) and pitched notes per
second, on the random timelines `eval_music.py` uses (a cut every 5 s). The transformer runs
with `emsync score`'s defaults (int8 decoding, guidance and key bias from `ScoreOptions`).
Prints mean and range per level, whether the means rise monotonically, in how many seeds
each step between neighbouring levels goes the right way, and the longest silence (no pitched
note sounding) in any score of the level; writes docs/img/emotion_curves.png
and appends the tables to benchmarks/results/music_eval.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from pathlib import Path

import numpy as np
import torch
from eval_music import RESULTS, WEIGHTS, major_minus_minor, notes_per_second, one_mood_plan

from emsync_core.music.arranger import arrange
from emsync_core.music.generate import generate
from emsync_core.music.model import EmsyncTransformer
from emsync_core.music.plan import mode_for, plan_score
from emsync_core.music.stats import longest_silence
from emsync_core.pipeline import ScoreOptions

# Plan modes at these valences: minor, minor, dorian, mixolydian, major, major.
LEVELS = (-1.0, -0.5, -0.1, 0.1, 0.5, 1.0)
PLOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "emotion_curves.png"


def sweep(engine, axis: str, plans: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(levels, plans) of the axis's measure (mode along valence, density along arousal),
    and of the longest silence in each score (seconds without a pitched note)."""
    out, silence = np.zeros((len(LEVELS), plans)), np.zeros((len(LEVELS), plans))
    for i, level in enumerate(LEVELS):
        mood = (level, 0.0) if axis == "valence" else (0.0, level)
        for p in range(plans):
            midi = engine(one_mood_plan(p, seconds, mood), p).midi
            out[i, p] = (
                major_minus_minor(midi) if axis == "valence" else notes_per_second(midi, seconds)
            )
            silence[i, p] = longest_silence(midi, seconds)
    return out, silence


def table(name: str, axis: str, values: np.ndarray, silence: np.ndarray) -> list[str]:
    means = values.mean(axis=1)
    steps = np.diff(values, axis=0) > 0  # (levels - 1, plans): this seed rose at this step
    rows = [
        f"| {name} | {axis} {level:+.1f}{f' ({mode_for(level)})' if axis == 'valence' else ''} "
        f"| {m:+.3f} | {v.min():+.3f} .. {v.max():+.3f} | "
        + (f"{int(steps[i - 1].sum())}/{values.shape[1]} | " if i else "- | ")
        + f"{silence[i].max():.1f} |"
        for i, (level, m, v) in enumerate(zip(LEVELS, means, values, strict=True))
    ]
    monotone = bool(np.all(np.diff(means) > 0))
    overall = int(np.sum(values[-1] > values[0]))
    rows.append(
        f"| {name} | {axis}: means rise at every step: **{'yes' if monotone else 'no'}**; "
        f"highest level above lowest in {overall}/{values.shape[1]} seeds | | | | |"
    )
    return rows


def plot(curves: dict[tuple[str, str], np.ndarray]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, axis, label in (
        (axes[0], "valence", "major-minus-minor key correlation"),
        (axes[1], "arousal", "pitched notes per second"),
    ):
        for (name, ax_name), values in curves.items():
            if ax_name != axis:
                continue
            mean = values.mean(axis=1)
            line = ax.plot(LEVELS, mean, marker="o", label=name)[0]
            ax.fill_between(LEVELS, values.min(axis=1), values.max(axis=1),
                            color=line.get_color(), alpha=0.15)  # fmt: skip
        ax.set_xlabel(f"{axis} of every scene (the other at 0)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Emotion control: mean over seeds, band = min..max")
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--plans", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = EmsyncTransformer.load(args.weights)
    settings = {
        "guidance": ScoreOptions.guidance,
        "key_bias": ScoreOptions.key_bias,
        "pace_bias": ScoreOptions.pace_bias,
    }
    engines = {
        "arranger": lambda plan, seed: arrange(plan, seed),
        "transformer": lambda plan, seed: generate(plan, model, seed, **settings),
    }
    curves: dict[tuple[str, str], np.ndarray] = {}
    lines = [
        "| engine | level (plan mode) | mean | range over seeds | "
        "seeds rising from the level before | longest silence in any score (s) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for axis in ("valence", "arousal"):
        for name, engine in engines.items():
            curves[(name, axis)], silence = sweep(engine, axis, args.plans, args.seconds)
            rows = table(name, axis, curves[(name, axis)], silence)
            lines.extend(rows)
            print("\n".join(rows), flush=True)
    plot(curves)
    # Long calm scenes: with no cut to force a chord, does the music go silent?
    calm = []
    for p in range(args.plans):
        midi = engines["transformer"](plan_score([(0.0, 30.0)], [(0.0, -1.0)], p), p).midi
        calm.append(longest_silence(midi, 30.0))
    calm_line = (
        f"Transformer, one 30-s scene at arousal -1 (no cuts), {args.plans} seeds: longest "
        f"silence {max(calm):.1f} s (per seed: {' '.join(f'{x:.1f}' for x in calm)})."
    )
    print(calm_line)
    lines.append(f"\n{calm_line}")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch threads"
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(f"\n## {datetime.date.today().isoformat()} — emotion curves, {machine}\n\n")
        f.write(
            f"`benchmarks/emotion_curves.py --plans {args.plans} --seconds {args.seconds:g}` "
            f"(transformer: guidance {settings['guidance']:g}, key bias {settings['key_bias']:g}, "
            f"pace bias {settings['pace_bias']:g}, int8 decoding; plot "
            f"`docs/img/emotion_curves.png`)\n\n" + "\n".join(lines) + "\n"
        )
    print(f"plot: {PLOT}")


if __name__ == "__main__":
    main()
