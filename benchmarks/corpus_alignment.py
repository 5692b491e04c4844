"""How often the training corpus itself strikes a new chord on its own chord changes.

Usage: .venv/bin/python benchmarks/corpus_alignment.py --corpus DIR

The model learns what follows a `<CHORD>` from the corpus. This scores the corpus with the
yardstick `eval_music.py` applies to generated music: every `<CHORD>` time after the start is
treated as a cut, and `alignment.measure_alignment` looks for an attack of three or more pitch
classes that differs from what sounded before, within 1 frame (24 fps), 250 ms and 1 s. A
model that imitates the corpus perfectly lands about these shares when left unconstrained.
Appends the figures, with date and machine, to benchmarks/results/music_eval.md.
"""

from __future__ import annotations

import argparse
import datetime
import platform
from pathlib import Path

import numpy as np
from eval_music import RESULTS

from emsync_core.music import events
from emsync_core.music.alignment import measure_alignment
from emsync_core.music.corpus import Corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    args = parser.parse_args()
    corpus = Corpus(args.corpus)
    errors, attacks = [], []
    for piece in corpus.pieces:
        tokens = corpus.tokens(piece)
        decoded = events.decode_events(tokens)
        cuts = sorted({step * events.STEP_S for step in decoded.chords if step > 0})
        for a in measure_alignment(events.decode(tokens), cuts):
            hit = a.error_ms is not None and a.new_harmony
            errors.append(a.error_ms if hit else np.inf)
        struck: dict[int, set[int]] = {}
        for group, pitch, start, _ in decoded.notes:
            if group != events.DRUMS:
                struck.setdefault(start, set()).add(pitch % 12)
        attacks += [len(struck.get(step, ())) >= 3 for step in set(decoded.chords) if step > 0]
    e = np.array(errors)
    line = (
        f"| {args.corpus.name} ({len(corpus.pieces)} pieces) | {len(e)} | "
        f"{np.mean(attacks):.3f} | {np.mean(e <= 1000 / 24):.3f} | {np.mean(e <= 250):.3f} | "
        f"{np.mean(e <= 1000):.3f} |"
    )
    table = (
        "| corpus | chord changes | struck as 3+ pitch classes at once | new chord within "
        "1 frame | within 250 ms | within 1 s |\n| --- | --- | --- | --- | --- | --- |\n" + line
    )
    print(table)
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(
            f"\n## {datetime.date.today().isoformat()} — the corpus on its own chord changes, "
            f"{platform.machine()}\n\n`benchmarks/corpus_alignment.py --corpus "
            f"{args.corpus}`\n\n{table}\n"
        )


if __name__ == "__main__":
    main()
