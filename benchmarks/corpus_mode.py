"""How clearly do a corpus's constructed scenes (arranger, MMA) sound in the mode of their label?

The transformer's valence sweeps miss when a score reads in the other mode than planned. This
reads the training data the same way: for each scene (a run of labelled windows of one key) of
at least 20 s, the Krumhansl rank of its labelled key among the 24 and the sign of the best
major minus the best minor correlation (the harness's `mode`), by the label's mode.

`--arranger N` reads N scores made in memory exactly as `arranger_corpus.py` makes them (from
seed space `--seed`, not a corpus's), the runs of plan scenes of one key read alike: an
arranger change can be judged before a corpus is rebuilt.

Usage: .venv/bin/python benchmarks/corpus_mode.py CORPUS [--pieces N] [--seed S]
       .venv/bin/python benchmarks/corpus_mode.py --arranger N [--seed S]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.music import events  # noqa: E402
from emsync_core.music.arranger_corpus import compose  # noqa: E402
from emsync_core.music.corpus import Corpus  # noqa: E402
from emsync_core.music.labels import NULL_KEY, key_correlations, key_index  # noqa: E402
from emsync_core.music.train import EXACT_SOURCES  # noqa: E402

MIN_SCENE_S = 20.0


def note_histogram(notes: list[tuple[int, float, float]], lo: float, hi: float) -> np.ndarray:
    """Seconds each pitch class of `notes` (pitch, start s, end s) sounds in [lo, hi)."""
    hist = np.zeros(12)
    for pitch, start, end in notes:
        hist[pitch % 12] += max(0.0, min(end, hi) - max(start, lo))
    return hist


def run_reads(
    notes: list[tuple[int, float, float]], edges: np.ndarray, keys: list[int]
) -> list[tuple]:
    """(labelled key, its rank among the 24 keys, mode, best key) of each run of consecutive
    scenes of one key lasting MIN_SCENE_S or more; scene i spans edges[i]..edges[i + 1] s and
    `notes` are pitched (pitch, start s, end s)."""
    out, first = [], 0
    for i in range(1, len(keys) + 1):
        if i < len(keys) and keys[i] == keys[first]:
            continue
        lo, hi, key = edges[first], edges[i], keys[first]
        first = i
        if hi - lo < MIN_SCENE_S or key == NULL_KEY:
            continue
        major, minor = key_correlations(note_histogram(notes, lo, hi))
        scores = np.r_[major, minor]
        rank = int((scores > scores[key]).sum())
        out.append((key, rank, float(major.max() - minor.max()), int(scores.argmax())))
    return out


def piece_notes(
    corpus: Corpus, piece: dict
) -> tuple[list[tuple[int, float, float]], np.ndarray, list[int]]:
    """A corpus piece's pitched notes (pitch, start s, end s), the edges in seconds of its
    labelled windows (window i spans edges[i]..edges[i + 1]) and their keys; a piece without
    labelled windows is one window in the piece's key."""
    tokens = np.asarray(corpus.tokens(piece))
    steps = events.token_times(tokens)
    starts, keys = piece.get("window_tokens"), piece.get("window_keys")
    if starts is None or not keys:
        starts, keys = [0], [piece.get("key", NULL_KEY)]
    starts = np.minimum(np.asarray(starts), len(steps) - 1)
    edges = np.r_[steps[starts], steps[-1]] * events.STEP_S
    edges[0] = 0.0
    notes = [
        (pitch, start * events.STEP_S, end * events.STEP_S)
        for group, pitch, start, end in events.decode_events(tokens).notes
        if group != events.DRUMS
    ]
    return notes, edges, [int(k) for k in keys]


def corpus_reads(corpus: Corpus, pieces: int, seed: int) -> tuple[int, list[tuple]]:
    """The runs of `pieces` constructed training pieces drawn with `seed`."""
    constructed = [p for p in corpus.split("train") if p.get("source") in EXACT_SOURCES]
    chosen = np.random.default_rng(seed).choice(
        len(constructed), min(pieces, len(constructed)), replace=False
    )
    reads = []
    for i in chosen:
        reads += run_reads(*piece_notes(corpus, constructed[i]))
    return len(chosen), reads


def arranger_reads(scores: int, seed: int) -> list[tuple]:
    """The runs of `scores` arranger scores made as the corpus builder makes them."""
    reads = []
    for index in range(scores):
        plan, score = compose(seed, index)
        midi = score.midi
        notes = [
            (n.pitch, n.start, n.end)
            for inst in midi.instruments
            if not inst.is_drum
            for n in inst.notes
        ]
        edges = np.array([s.start_s for s in plan.scenes] + [plan.duration_s])
        keys = [key_index(s.key.tonic, s.key.mode) for s in plan.scenes]
        reads += run_reads(notes, edges, keys)
    return reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path, nargs="?")
    parser.add_argument("--pieces", type=int, default=200)
    parser.add_argument("--arranger", type=int, metavar="N", help="N scores made in memory")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.arranger:
        reads = arranger_reads(args.arranger, args.seed)
        print(f"{args.arranger} arranger scores (seed {args.seed}), {len(reads)} runs of >= 20 s")
    elif args.corpus:
        n, reads = corpus_reads(Corpus(args.corpus), args.pieces, args.seed)
        print(f"{args.corpus}: {n} constructed pieces, {len(reads)} scenes of >= 20 s")
    else:
        parser.error("give a CORPUS folder or --arranger N")
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
