"""Do training windows say what their notes do? Two readings per corpus source.

1. Key changes (`--keys`): in random 512-token stretches of the train split, the share that
   cross into a labelled stretch in another key than the window's one key condition
   (`train.window_key`), and the share of tokens under such a stretch.
2. Mode: windows drawn exactly as `emsync train` draws them with the shipped recipe
   (`train.WindowSampler`: section windows, arranger share, augmentation, key frame); the
   share of keyed windows whose trained notes (loss weight > 0) are heard in the other mode
   than their key says (`train.heard_in_other_mode`, the harness's major-minus-minor
   measure), their mean major-minus-minor, and quartiles of how far they lean toward their
   own mode. `--skip-off-mode` (and `--off-mode-margin`) draws as a run with that filter
   would.
3. Arousal (`--arousal`): the arousal labels of windows drawn the same way (`--seq-len` as
   `emsync train` takes it): quantiles, the shares at -0.6 or below and +0.6 or above, and
   each source's share of the calm ones. The harness sweeps arousal evenly over [-1, 1]; a
   calm end rarely drawn is rarely trained.

Usage: .venv/bin/python benchmarks/window_labels.py CORPUS [--windows N] [--keys]
       [--skip-off-mode [--off-mode-margin M]] [--arousal [--seq-len L]]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.music.corpus import Corpus  # noqa: E402
from emsync_core.music.labels import NULL_KEY  # noqa: E402
from emsync_core.music.model import ModelConfig  # noqa: E402
from emsync_core.music.train import (  # noqa: E402
    TrainConfig,
    WindowSampler,
    heard_in_other_mode,
    leans_major,
    window_key,
)
from emsync_core.music.train import _overlaps as tokens_per_window  # noqa: E402

SEQ_LEN = 512


def key_changes(corpus: Corpus, windows: int, rng: np.random.Generator) -> None:
    by_source = defaultdict(list)
    for piece in corpus.split("train"):
        by_source[piece["source"]].append(piece)
    for source, pieces in sorted(by_source.items()):
        crossing = keyed = under = total = 0
        for _ in range(windows):
            piece = pieces[int(rng.integers(len(pieces)))]
            lo = int(rng.integers(0, max(1, int(piece["n_tokens"]) - SEQ_LEN)))
            hi = min(int(piece["n_tokens"]), lo + SEQ_LEN)
            key, overlap = window_key(piece, lo, hi), tokens_per_window(piece, lo, hi)
            if key == NULL_KEY or overlap is None:
                continue
            keys = np.asarray(piece["window_keys"])
            other = overlap[(keys != NULL_KEY) & (keys != key)]
            keyed += 1
            crossing += bool(other.sum() > 0)
            under += int(other.sum())
            total += int(overlap[keys != NULL_KEY].sum())
        print(
            f"{source}: {keyed} windows, crossing into another key {crossing / keyed:.2f}, "
            f"tokens under another key {under / total:.3f}"
        )


def recipe_sampler(
    corpus: Corpus, seed: int, drawn: dict[str, int], **options: float | bool
) -> WindowSampler:
    """A sampler drawing as the shipped recipe (with `options` on top) that writes the
    piece index of each window it draws into `drawn["index"]`."""
    base = dict(section_prob=0.8, start_prob=0.2, max_arranger_share=0.7, seq_len=SEQ_LEN)
    cfg = TrainConfig(
        **{**base, **options},
        model=ModelConfig(key_condition=True, key_frame=True),
    )
    sampler = WindowSampler(corpus, "train", cfg, np.random.default_rng(seed))

    def remembering(original):  # noqa: ANN001, ANN202 (a sampler's draw method)
        def draw():  # noqa: ANN202
            out = original()
            drawn["index"] = out[0]  # which piece the window comes from
            return out

        return draw

    sampler._draw = remembering(sampler._draw)
    sampler._draw_section = remembering(sampler._draw_section)
    return sampler


def modes(corpus: Corpus, windows: int, seed: int, skip_off_mode: bool, margin: float) -> None:
    drawn: dict[str, int] = {}
    options = dict(skip_off_mode=skip_off_mode, off_mode_margin=margin)
    sampler = recipe_sampler(corpus, seed, drawn, **options)
    rows = defaultdict(list)  # (source, mode) -> (heard in the other mode, leans major)
    for _ in range(windows):
        tokens, _, _, _, key, weights = sampler.window(train=True)
        if key == NULL_KEY:
            continue
        trained = tokens[weights > 0]
        source = sampler.pieces[drawn["index"]]["source"]
        mode = "minor" if key // 12 else "major"
        rows[(source, mode)].append((heard_in_other_mode(trained, key), leans_major(trained)))
    for (source, mode), values in sorted(rows.items()):
        off = np.mean([v[0] for v in values])
        lean = np.array([v[1] for v in values])
        own = np.nanpercentile(-lean if mode == "minor" else lean, [25, 50, 75])
        print(
            f"{source} {mode}: {len(values)} windows, heard in the other mode {off:.2f}, "
            f"mean major-minus-minor {np.nanmean(lean):+.3f}, toward own mode quartiles "
            + " ".join(f"{q:+.3f}" for q in own)
        )


def arousal_labels(corpus: Corpus, windows: int, seed: int, **options: float | bool) -> None:
    drawn: dict[str, int] = {}
    sampler = recipe_sampler(corpus, seed, drawn, **options)
    labels, sources = [], []
    for _ in range(windows):
        labels.append(sampler.window(train=True)[3])
        sources.append(sampler.pieces[drawn["index"]]["source"])
    a, sources = np.asarray(labels), np.asarray(sources)
    quantiles = np.nanpercentile(a, [5, 25, 50, 75, 95])
    calm = a <= -0.6
    by_source = ", ".join(
        f"{s} {np.mean(sources[calm] == s):.2f}" for s in sorted(set(sources[calm]))
    )
    print(
        f"arousal labels of {windows} windows ({options}): quantiles 5/25/50/75/95 "
        + " ".join(f"{q:+.2f}" for q in quantiles)
        + f"; <= -0.6 {np.mean(calm):.3f}, >= +0.6 {np.mean(a >= 0.6):.3f}; "
        f"the calm ones from {by_source or 'none'}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--windows", type=int, default=1500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keys", action="store_true", help="also read key changes (600 per source)")
    p.add_argument("--skip-off-mode", action="store_true")
    p.add_argument("--off-mode-margin", type=float, default=0.0)
    p.add_argument("--arousal", action="store_true", help="read arousal labels instead of modes")
    p.add_argument("--seq-len", type=int, default=SEQ_LEN)
    args = p.parse_args()
    corpus = Corpus(args.corpus)
    if args.keys:
        key_changes(corpus, 600, np.random.default_rng(args.seed))
    if args.arousal:
        options = dict(
            seq_len=args.seq_len,
            skip_off_mode=args.skip_off_mode,
            off_mode_margin=args.off_mode_margin,
        )
        arousal_labels(corpus, args.windows, args.seed, **options)
        return
    modes(corpus, args.windows, args.seed, args.skip_off_mode, args.off_mode_margin)


if __name__ == "__main__":
    main()
