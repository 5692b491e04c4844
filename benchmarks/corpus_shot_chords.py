"""Which chords do the arranger corpus's major scenes put on their shots, per valence?

The model learns its harmonic language from these scores (two-thirds of its training
windows), so this is the distribution its shots at a given valence are drawn toward. For each
labelled window (one scene) in a major key, each shot (the span between two cuts, 0.3 s or
longer) is named by its best-fitting triad's degree in the scene's key, as
`benchmarks/sweep_chords.py` names the harness's sweep scores, and summed as seconds per
valence rounded to quarters.

Usage: .venv/bin/python benchmarks/corpus_shot_chords.py ARRANGER_CORPUS_DIR [--songs N]
(e.g. .corpus/arr13-40h, built by `emsync train --build-arranger`)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pretty_midi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sweep_chords import best_triad, degree_name  # noqa: E402

from emsync_core.eval.measures import pitch_classes  # noqa: E402

MIN_SHOT_S = 0.3
RELATIVE_MINORS = ("ii", "iii", "vi")


def shot_degrees(labels: dict, midi: pretty_midi.PrettyMIDI) -> dict[float, Counter]:
    """Seconds per degree of the major scenes' shots, per valence rounded to 0.25."""
    cuts = [0.0, *labels["hard_boundaries_s"], labels["duration_s"]]
    out: dict[float, Counter] = defaultdict(Counter)
    for scene in labels["windows"]:
        if scene["mode"] != "major":
            continue
        inside = [t for t in cuts if scene["start_s"] - 1e-3 <= t <= scene["end_s"] + 1e-3]
        for lo, hi in zip(inside[:-1], inside[1:], strict=True):
            if hi - lo < MIN_SHOT_S:
                continue
            root, quality = best_triad(pitch_classes(midi, (lo, hi)))
            level = round(scene["valence"] * 4) / 4
            out[level][degree_name(root, quality, scene["tonic"], "major")] += hi - lo
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--songs", type=int, default=150, help="the first N songs in name order")
    args = p.parse_args()
    totals: dict[float, Counter] = defaultdict(Counter)
    for path in sorted(args.corpus.glob("songs/*/*.json"))[: args.songs]:
        labels = json.loads(path.read_text())
        midi = pretty_midi.PrettyMIDI(str(path.with_suffix(".mid")))
        for level, seconds in shot_degrees(labels, midi).items():
            totals[level].update(seconds)
    for level in sorted(totals):
        chords = totals[level]
        total = sum(chords.values())
        minors = sum(chords[d] for d in RELATIVE_MINORS) / total
        shares = ", ".join(f"{k} {v / total:.2f}" for k, v in chords.most_common(7))
        print(f"valence {level:+.2f}: {total:.0f} s, ii/iii/vi {minors:.2f}; {shares}")


if __name__ == "__main__":
    main()
