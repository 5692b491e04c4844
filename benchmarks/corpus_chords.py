"""Which chords does each source of a training corpus dwell on, by degree of its labelled key?

The model's valence +1 sweep scores land a third of their shots on ii, iii and vi
(`sweep_chords.py`). This reads the training pieces the same way, per source: each labelled
window's music cut into spans of `--span` seconds, the best-fitting triad of each span named
by its degree in the window's key (detected for music21 and the user's MIDI, exact for the
arranger's and MMA's), as a share of time, for major and minor keys apart.

Usage: .venv/bin/python benchmarks/corpus_chords.py CORPUS [--pieces N] [--span S] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_mode import note_histogram, piece_notes  # noqa: E402
from sweep_chords import best_triad, degree_name  # noqa: E402

from emsync_core.music.corpus import Corpus  # noqa: E402
from emsync_core.music.labels import NULL_KEY  # noqa: E402


def piece_chords(corpus: Corpus, piece: dict, span_s: float) -> dict[str, Counter]:
    """Seconds per degree name, by mode, of one piece's labelled windows."""
    notes, edges, keys = piece_notes(corpus, piece)
    out: dict[str, Counter] = defaultdict(Counter)
    for lo, hi, key in zip(edges[:-1], edges[1:], keys, strict=True):
        if key == NULL_KEY or hi - lo < span_s:
            continue
        tonic, mode = int(key) % 12, "minor" if key >= 12 else "major"
        for a in np.arange(lo, hi - span_s / 2, span_s):
            b = min(a + span_s, hi)
            h = note_histogram(notes, a, b)
            if h.sum() == 0:
                continue
            root, quality = best_triad(h)
            out[mode][degree_name(root, quality, tonic, mode)] += b - a
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--pieces", type=int, default=100, help="per source")
    p.add_argument("--span", type=float, default=2.0, help="seconds per chord reading")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    corpus = Corpus(args.corpus)
    by_source: dict[str, list[dict]] = defaultdict(list)
    for piece in corpus.split("train"):
        by_source[piece.get("source", "?")].append(piece)
    rng = np.random.default_rng(args.seed)
    for source, pieces in sorted(by_source.items()):
        chosen = rng.choice(len(pieces), min(args.pieces, len(pieces)), replace=False)
        totals: dict[str, Counter] = defaultdict(Counter)
        for i in chosen:
            for mode, seconds in piece_chords(corpus, pieces[i], args.span).items():
                totals[mode].update(seconds)
        print(f"{source}: {len(chosen)} pieces, {args.span:g}-s spans")
        for mode, seconds in sorted(totals.items()):
            total = sum(seconds.values())
            shares = ", ".join(f"{k} {v / total:.2f}" for k, v in seconds.most_common(8))
            print(f"  {mode} ({total / 3600:.1f} h): {shares}")


if __name__ == "__main__":
    main()
