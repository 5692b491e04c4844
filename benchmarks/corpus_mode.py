"""How clearly do a corpus's constructed scenes (arranger, MMA) sound in the mode of their label?

The transformer's valence sweeps miss when a score reads in the other mode than planned. This
reads the training data the same way: for each scene (a run of labelled windows of one key) of
at least 20 s, the Krumhansl rank of its labelled key among the 24 and the sign of the best
major minus the best minor correlation (the harness's `mode`), by the label's mode.

Usage: .venv/bin/python benchmarks/corpus_mode.py CORPUS [--pieces N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.music import events  # noqa: E402
from emsync_core.music.corpus import Corpus  # noqa: E402
from emsync_core.music.labels import NULL_KEY, key_correlations  # noqa: E402
from emsync_core.music.train import EXACT_SOURCES  # noqa: E402

MIN_SCENE_S = 20.0


def scene_reads(tokens: np.ndarray, starts: np.ndarray, keys: list[int]) -> list[tuple]:
    """(labelled key, its rank among the 24 keys, mode, best key) of each scene of
    MIN_SCENE_S or more."""
    steps = events.token_times(tokens)
    edges = np.r_[steps[np.minimum(starts, len(steps) - 1)], steps[-1]] * events.STEP_S
    edges[0] = 0.0
    notes = [n for n in events.decode_events(tokens).notes if n[0] != events.DRUMS]
    out, first = [], 0
    for i in range(1, len(keys) + 1):
        if i < len(keys) and keys[i] == keys[first]:
            continue
        lo, hi, key = edges[first], edges[i], keys[first]
        first = i
        if hi - lo < MIN_SCENE_S or key == NULL_KEY:
            continue
        hist = np.zeros(12)
        for _, pitch, start, end in notes:
            s, e = start * events.STEP_S, end * events.STEP_S
            hist[pitch % 12] += max(0.0, min(e, hi) - max(s, lo))
        major, minor = key_correlations(hist)
        scores = np.r_[major, minor]
        rank = int((scores > scores[key]).sum())
        out.append((key, rank, float(major.max() - minor.max()), int(scores.argmax())))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--pieces", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    corpus = Corpus(args.corpus)
    pieces = [p for p in corpus.split("train") if p.get("source") in EXACT_SOURCES]
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(len(pieces), min(args.pieces, len(pieces)), replace=False)
    reads = []
    for i in chosen:
        piece = pieces[i]
        tokens = np.asarray(corpus.tokens(piece))
        reads += scene_reads(tokens, piece["window_tokens"], piece["window_keys"])
    print(f"{args.corpus}: {len(chosen)} constructed pieces, {len(reads)} scenes of >= 20 s")
    for name, minor in (("major", False), ("minor", True)):
        rows = np.array([(r, m) for k, r, m, _ in reads if (k >= 12) == minor])
        if rows.size == 0:
            continue
        wrong = rows[:, 1] > 0 if minor else rows[:, 1] < 0
        print(
            f"  labelled {name}: {len(rows)} scenes, labelled key heard (rank 0) "
            f"{(rows[:, 0] == 0).mean():.2f}, mode {rows[:, 1].mean():+.3f} "
            f"(sd {rows[:, 1].std():.3f}), read as the other mode {wrong.mean():.2f}"
        )
        heard = Counter(
            f"{'minor' if best >= 12 else 'major'} on +{(best - k) % 12}"
            for k, _, m, best in reads
            if (k >= 12) == minor and (m > 0 if minor else m < 0)
        )
        print("    read as (semitones above the labelled tonic):", dict(heard.most_common(4)))


if __name__ == "__main__":
    main()
