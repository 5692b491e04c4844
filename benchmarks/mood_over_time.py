"""Does a score keep its arousal as it goes on? New pitches per second, 10 s at a time.

Reads the harness's sweep rows (`python -m emsync_core.eval music --parts sweep|unseen_sweep`)
and their MIDI, for the arousal -1 and +1 scores (the arousal line's ends), and prints the mean
onsets of new pitches per second (`measures.onsets`, re-strikes not counted) in each 10-s
stretch, and the ratio of the +1 to the -1 scores there.

Why: a sweep score is one scene whose valence and arousal sit in the two condition positions at
the front of the context. A rotary model attends by distance, and session 17's rotary
candidates wrote busier calm scores the further they got from the front (3.4 -> 4.8 new
pitches/s over 30 s) where the learned-position weights stayed flat (docs/training.md,
session 18). The whole-score figure of `harness_summary.py` averages that drift away.

Usage: .venv/bin/python benchmarks/mood_over_time.py ROWS.jsonl [ROWS.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pretty_midi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.eval.measures import onsets  # noqa: E402

STRETCH_S = 10.0
ENDS = (-1.0, 1.0)


def new_pitches_by_stretch(midi: pretty_midi.PrettyMIDI, duration: float) -> np.ndarray:
    """New pitches per second in each STRETCH_S of the score (the last one may be shorter)."""
    n = max(1, int(np.ceil(duration / STRETCH_S - 1e-9)))
    counts = np.zeros(n)
    for onset in onsets(midi):
        if onset.time < duration:
            counts[min(int(onset.time // STRETCH_S), n - 1)] += len(onset.new)
    spans = np.minimum(STRETCH_S, duration - STRETCH_S * np.arange(n))
    return counts / spans


def summarise(path: Path) -> dict[str, dict[float, np.ndarray]]:
    """{setting: {arousal end: mean new pitches/s per stretch}} of one rows file."""
    rates: dict[str, dict[float, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row.get("sweep") != "arousal" or row["arousal"] not in ENDS:
            continue
        midi = pretty_midi.PrettyMIDI(str(path.parent / row["midi"]))
        rates[row["setting"]][row["arousal"]].append(
            new_pitches_by_stretch(midi, row["duration_s"])
        )
    return {s: {a: np.mean(v, axis=0) for a, v in by.items()} for s, by in rates.items()}


def _row(values: np.ndarray) -> str:
    return " ".join(f"{x:5.2f}" for x in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="+", type=Path)
    args = parser.parse_args()
    for path in args.rows:
        for setting, by in summarise(path).items():
            if set(ENDS) - set(by):
                continue
            low, high = by[ENDS[0]], by[ENDS[1]]
            print(f"{path.name} {setting}, per {STRETCH_S:.0f} s:")
            print(f"  new pitches/s at arousal -1: {_row(low)}")
            print(f"  new pitches/s at arousal +1: {_row(high)}")
            print(f"  ratio +1 / -1:               {_row(high / low)}")


if __name__ == "__main__":
    main()
