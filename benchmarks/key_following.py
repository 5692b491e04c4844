"""Does a key-conditioned transformer play the key its plan asks for, at the start and after a
scene change? (The harness's mode line rides on it: the plan's key follows valence.)

Usage: .venv/bin/python benchmarks/key_following.py [--seeds 10] ENGINE [ENGINE ...]
  ENGINE: `arranger`, or a transformer weights folder (scored with `transformer-plain`).

On 30-s edits (`eval.edits.short_edit`, seeds 300+, which no engine was tuned on):
- opening: one mood, valence -1 and +1 (arousal 0); the Krumhansl rank of the planned key
  (0: it is the key heard) over the first 4 s, the first 8 s and the whole score;
- after a cut: valence +0.9 on the shots before the middle cut and -0.9 after it (reversed
  on odd seeds); over the 8 s after the change, the rank of the new scene's planned key and
  whether the mode (major minus minor correlation) moved the planned way from the 8 s before.
Prints one line per engine; `--out` appends the per-score rows as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pretty_midi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.eval import edits, measures  # noqa: E402
from emsync_core.eval.engines import SETTINGS, compose, with_weights  # noqa: E402
from emsync_core.music.harmony import MAJOR_LIKE, Key  # noqa: E402

EDIT_SEED = 300


def rank(midi: pretty_midi.PrettyMIDI, key: Key, span: tuple[float, float]) -> int:
    return measures.key_rank(midi, key.tonic, key.mode not in MAJOR_LIKE, span)


def mode_of(midi: pretty_midi.PrettyMIDI, span: tuple[float, float]) -> float:
    return float(np.nan_to_num(measures.major_minus_minor(midi, span)))  # silence: neither


def two_moods(seed: int) -> tuple[edits.TestEdit, float]:
    """The seed's short edit, bright before its middle cut and dark after (or the reverse)."""
    base = edits.short_edit(EDIT_SEED + seed)
    middle = len(base.cuts_s) // 2
    first, second = ("0.9,0", "-0.9,0") if seed % 2 == 0 else ("-0.9,0", "0.9,0")
    labels = tuple(first if i <= middle else second for i in range(len(base.moods)))
    moods = tuple(edits.mood_of(label) for label in labels)
    return replace(base, moods=moods, labels=labels), base.cuts_s[middle]


def run(engine: str, seeds: int) -> list[dict]:
    setting = SETTINGS["arranger"]
    if engine != "arranger":
        setting = with_weights(SETTINGS["transformer-plain"], engine)
    rows = []
    for seed in range(seeds):
        for valence in (-1.0, 1.0):
            edit = edits.one_mood(edits.short_edit(EDIT_SEED + seed), f"{valence},0")
            plan = edit.plan(seed)
            key = plan.scenes[0].key
            midi = compose(setting, plan, seed).midi
            ranks = [rank(midi, key, (0, t)) for t in (4, 8, 1e9)]
            rows.append({"part": "opening", "seed": seed, "valence": valence, "ranks": ranks})
        edit, change = two_moods(seed)
        plan = edit.plan(seed)
        after = next(s for s in plan.scenes if s.start_s >= change - 1e-6)
        midi = compose(setting, plan, seed).midi
        before, later = (change - 8, change), (change, change + 8)
        toward = 1 if after.valence > 0 else -1
        rows.append(
            {
                "part": "cut",
                "seed": seed,
                "key_after": after.key.name,
                "rank_after": rank(midi, after.key, later),
                "mode_moved": bool(toward * (mode_of(midi, later) - mode_of(midi, before)) > 0),
            }
        )
    return rows


def summary(engine: str, rows: list[dict]) -> str:
    opening = np.array([r["ranks"] for r in rows if r["part"] == "opening"])
    cut = [r for r in rows if r["part"] == "cut"]
    heard = (opening == 0).mean(axis=0)
    after = np.array([r["rank_after"] for r in cut])
    moved = sum(r["mode_moved"] for r in cut)
    return (
        f"{engine}: opening, planned key heard {heard[0]:.2f} (first 4 s) {heard[1]:.2f} (8 s) "
        f"{heard[2]:.2f} (whole), median rank {np.median(opening[:, 2]):.0f}; after a cut, "
        f"new key heard {np.mean(after == 0):.2f} (median rank {np.median(after):.0f}), "
        f"mode moved the planned way {moved}/{len(cut)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("engines", nargs="+")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, help="append per-score rows here (JSON lines)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for engine in args.engines:
        rows = run(engine, args.seeds)
        print(summary(engine, rows), flush=True)
        if args.out:
            with args.out.open("a") as f:
                for r in rows:
                    f.write(json.dumps({"engine": engine, **r}) + "\n")


if __name__ == "__main__":
    main()
