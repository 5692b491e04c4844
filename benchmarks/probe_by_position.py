"""Does the mood condition fade with distance from the front of the context? A likelihood probe.

Usage: .venv/bin/python benchmarks/probe_by_position.py --corpus DIR WEIGHTS_DIR ...
       [--per-group 40] [--seq-len L]

The conditions (valence, arousal) sit in two positions at the front of every window. A model
with rotary positions attends by distance, so it must find them ever farther back as a score
goes on; the rotary candidates' calm scores get busier over 30 s (docs/training.md, session 18).

For validation windows drawn as `emsync train` draws them (the checkpoint's own window length,
key frame and note cap; no augmentation), teacher-forced, this prints the cross-entropy under
arousal +1 minus under arousal -1 (valence and key at the window's labels), averaged per
position band, separately over calm windows (arousal label <= -0.3) and busy ones (>= +0.5).
A model that reads the arousal condition at every distance has a clearly positive difference
on calm windows and a negative one on busy windows in every band; a difference that shrinks
toward 0 in the later bands means the condition fades with distance. The same for valence
(+1 minus -1) over minor (label <= -0.3) and major (>= +0.3) windows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.music.corpus import Corpus  # noqa: E402
from emsync_core.music.model import EmsyncTransformer  # noqa: E402
from emsync_core.music.train import TrainConfig, WindowSampler, target_weights  # noqa: E402

GROUPS = {  # name -> (condition, predicate on (valence, arousal))
    "calm": ("arousal", lambda v, a: a <= -0.3),
    "busy": ("arousal", lambda v, a: a >= 0.5),
    "minor": ("valence", lambda v, a: v <= -0.3),
    "major": ("valence", lambda v, a: v >= 0.3),
}


def bands(seq_len: int) -> list[tuple[int, int]]:
    edges = [0, 128, 256, 512, 768, 1024]
    edges = [e for e in edges if e < seq_len - 64] + [seq_len]  # no sliver of a band
    return list(zip(edges[:-1], edges[1:], strict=True))


def draw_windows(
    corpus: Corpus, model: EmsyncTransformer, seq_len: int, per_group: int, seed: int
) -> dict[str, list[tuple]]:
    """Up to `per_group` validation windows for each of `GROUPS`, drawn with the recipe's
    arranger share (0.7) and the checkpoint's own configuration."""
    cfg = TrainConfig(
        seq_len=seq_len, batch_size=1, max_arranger_share=0.7, augment=False, model=model.config
    )
    sampler = WindowSampler(corpus, "val", cfg, np.random.default_rng(seed))
    found: dict[str, list[tuple]] = {name: [] for name in GROUPS}
    for _ in range(200 * per_group):
        window = sampler.window(False)
        v, a = window[2], window[3]
        for name, (_, test) in GROUPS.items():
            if test(v, a) and len(found[name]) < per_group:
                found[name].append(window)
        if all(len(w) >= per_group for w in found.values()):
            break
    return found


def token_ce(
    model: EmsyncTransformer, window: tuple, valence: float, arousal: float
) -> tuple[np.ndarray, np.ndarray]:
    """(cross-entropy, trained-target mask) of every token of one window."""
    tokens, offsets, _, _, key, _ = window
    x = torch.from_numpy(tokens[None])
    o = torch.from_numpy(np.asarray(offsets, dtype=np.float32)[None])
    logits = model(
        x[:, :-1],
        o[:, :-1],
        torch.tensor([valence]),
        torch.tensor([arousal]),
        key=torch.tensor([key]),
    )
    ce = F.cross_entropy(logits.float().transpose(1, 2), x, reduction="none")[0]
    return ce.numpy(), (target_weights(x, 1.0)[0] > 0).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--per-group", type=int, default=40)
    parser.add_argument("--seq-len", type=int, default=None, help="default: the checkpoint's")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("weights", type=Path, nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    corpus = Corpus(args.corpus)
    for folder in args.weights:
        model = EmsyncTransformer.load(folder).eval()
        seq_len = args.seq_len or model.context + 1
        spans = bands(seq_len)
        found = draw_windows(corpus, model, seq_len, args.per_group, args.seed)
        print(f"\n{folder} ({model.config.positions} positions, {seq_len}-token windows)")
        print("| windows | n | " + " | ".join(f"{a}-{b - 1}" for a, b in spans) + " |")
        print("| --- | --- |" + " --- |" * len(spans))
        with torch.inference_mode():
            for name, windows in found.items():
                condition = GROUPS[name][0]
                total, count = np.zeros(len(spans)), np.zeros(len(spans))
                for w in windows:
                    v, a = float(w[2]), float(w[3])
                    up = (1.0, a) if condition == "valence" else (v, 1.0)
                    down = (-1.0, a) if condition == "valence" else (v, -1.0)
                    ce_up, mask = token_ce(model, w, *up)
                    ce_down, _ = token_ce(model, w, *down)
                    diff = (ce_up - ce_down) * mask
                    for i, (lo, hi) in enumerate(spans):
                        total[i] += diff[lo:hi].sum()
                        count[i] += mask[lo:hi].sum()
                cells = " | ".join(
                    f"{t / max(c, 1):+.4f}" for t, c in zip(total, count, strict=True)
                )
                print(
                    f"| {name} ({condition} +1 minus -1) | {len(windows)} | {cells} |", flush=True
                )


if __name__ == "__main__":
    main()
