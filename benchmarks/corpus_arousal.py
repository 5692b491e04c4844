"""Does a corpus's arousal label track what the harness's arousal line measures?

The harness asks that new pitches per second rise with arousal (`eval.measures
.new_pitches_per_second`: onsets of pitches an instrument was not already playing; drums and
re-strikes do not count). A model can only learn that from windows whose label rises with the
same quantity, so this reads the training data the way the harness reads a score.

Usage: .venv/bin/python benchmarks/corpus_arousal.py CORPUS [--pieces 250] [--seed 0]

For up to `--pieces` training pieces per source (seeded draw), every labelled stretch of 4 s
or more is decoded to MIDI and measured. Prints, per source, the median new pitches/s in five
arousal bins and the stretches in each.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.eval import measures  # noqa: E402
from emsync_core.music import events  # noqa: E402
from emsync_core.music.corpus import Corpus  # noqa: E402

EDGES = (-0.6, -0.2, 0.2, 0.6)  # five bins over [-1, 1]
MIN_SECONDS = 4.0


def stretches(corpus: Corpus, piece: dict) -> list[tuple[float, float]]:
    """(arousal label, new pitches/s) of each labelled stretch of the piece."""
    tokens = np.asarray(corpus.tokens(piece))
    starts = [*map(int, piece["window_tokens"]), len(tokens)]
    out = []
    for i, (a, b) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        window = tokens[a:b]
        seconds = float(events.token_times(window)[-1]) * events.STEP_S if b > a else 0.0
        if seconds >= MIN_SECONDS:
            rate = measures.new_pitches_per_second(events.decode(window), seconds)
            out.append((piece["window_labels"][i][1], rate))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--pieces", type=int, default=250, help="per source")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    corpus = Corpus(args.corpus)
    pieces = [p for p in corpus.split("train") if len(p["window_tokens"])]
    random.Random(args.seed).shuffle(pieces)
    by_source: dict[str, list[tuple[float, float]]] = defaultdict(list)
    taken: dict[str, int] = defaultdict(int)
    for piece in pieces:
        source = piece.get("source", "?")
        if taken[source] < args.pieces:
            taken[source] += 1
            by_source[source] += stretches(corpus, piece)

    header = "arousal bins: " + " | ".join(
        f"[{lo:+.1f}, {hi:+.1f})" for lo, hi in zip((-1.0, *EDGES), (*EDGES, 1.0), strict=True)
    )
    print(f"{args.corpus}: median new pitches/s (stretches) per arousal bin\n{header}")
    for source, rows in sorted(by_source.items()):
        labels = np.array([r[0] for r in rows])
        rates = np.array([r[1] for r in rows])
        bins = np.digitize(labels, EDGES)
        cells = [
            f"{np.median(rates[bins == k]):.2f} ({int((bins == k).sum())})"
            if (bins == k).any()
            else "-"
            for k in range(len(EDGES) + 1)
        ]
        print(f"{source} ({taken[source]} pieces): " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
