"""How well a checkpoint predicts tokens far into a window, with and without a context cap.

Usage: .venv/bin/python benchmarks/eval_context.py --corpus DIR [--window 1024] WEIGHTS_DIR ...

Learned absolute positions are only trained up to the training window (`seq_len` + 2
condition positions); the rows past it stay at their random initialisation. This prints the
validation cross-entropy (nats/token) by position band on long windows in two ways:
- "full": one forward pass over the whole window (what a decoder with a 1,216-token cache saw);
- "capped": the way `generate.py` decodes with the context capped at the trained window
  (`EmsyncTransformer.context`): when the cache is full, the last 3/4 are re-encoded behind
  the instrument-count token and decoding goes on.
Windows are fixed (seeded) windows of the validation split, without augmentation or dropout.
The table is appended, with date and machine, to benchmarks/results/context.md.
"""

from __future__ import annotations

import argparse
import datetime
import platform
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from emsync_core.music import events, train
from emsync_core.music.corpus import Corpus
from emsync_core.music.generate import KEEP_FRACTION
from emsync_core.music.model import EmsyncTransformer

RESULTS = Path(__file__).parent / "results" / "context.md"


def _ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")


def full_ce(model: EmsyncTransformer, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B, W) cross-entropy of every token, one pass over the whole window."""
    tokens = batch["tokens"]
    logits = model(tokens[:, :-1], batch["offsets"][:, :-1], batch["valence"], batch["arousal"])
    return _ce(logits, tokens)


def capped_ce(
    model: EmsyncTransformer, batch: dict[str, torch.Tensor], context: int
) -> torch.Tensor:
    """(B, W) cross-entropy when at most `context` tokens are attended, re-encoding the last
    3/4 of them behind the instrument-count token whenever the cache is full."""
    tokens, offsets = batch["tokens"], batch["offsets"]
    va, ar = batch["valence"], batch["arousal"]
    B, W = tokens.shape
    keep = max(2, int(context * KEEP_FRACTION))
    out = torch.empty(B, W)
    end = min(context, W - 1)  # tokens[:end] are the input; logits predict tokens[: end + 1]
    out[:, : end + 1] = _ce(model(tokens[:, :end], offsets[:, :end], va, ar), tokens[:, : end + 1])
    while end < W - 1:
        first = end - (keep - 1)
        stop = min(first + context - 1, W - 1)
        x = torch.cat([torch.full((B, 1), events.MORE_INSTRUMENTS), tokens[:, first:stop]], 1)
        o = torch.cat([offsets[:, first : first + 1], offsets[:, first:stop]], 1)
        logits = model(x, o, va, ar)
        # logits[:, k] predicts x_k = tokens[first + k - 1]; keep the tokens not yet scored.
        k0 = end + 1 - first + 1
        out[:, end + 1 : stop + 1] = _ce(logits[:, k0:], tokens[:, end + 1 : stop + 1])
        end = stop
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--window", type=int, default=1024)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("weights", type=Path, nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    corpus = Corpus(args.corpus)
    cfg = train.TrainConfig(seq_len=args.window, batch_size=4)
    rng = np.random.default_rng(12345)
    sampler = train.WindowSampler(corpus, "val", cfg, rng)
    batches = [sampler.batch(cfg.batch_size, False) for _ in range(args.batches)]
    bands = [(0, 256), (256, 512), (512, args.window)]
    lines = [
        "| checkpoint | decoder context | attention | "
        + " | ".join(f"positions {a}-{b - 1}" for a, b in bands)
        + " |",
        "| --- | --- | --- |" + " --- |" * len(bands),
    ]
    print(f"{len(batches) * cfg.batch_size} validation windows of {args.window} tokens")
    print(lines[0])
    with torch.inference_mode():
        for folder in args.weights:
            model = EmsyncTransformer.load(folder)
            for name in ("full", "capped"):
                total = np.zeros(len(bands))
                count = np.zeros(len(bands))
                for batch in batches:
                    ce = (
                        full_ce(model, batch)
                        if name == "full"
                        else capped_ce(model, batch, model.context)
                    )
                    real = train.target_weights(batch["tokens"], 1.0) > 0
                    for i, (a, b) in enumerate(bands):
                        total[i] += float((ce[:, a:b] * real[:, a:b]).sum())
                        count[i] += float(real[:, a:b].sum())
                means = total / np.maximum(count, 1)
                cells = " | ".join(f"{m:.3f}" for m in means)
                lines.append(f"| {folder} | {model.context} | {name} | {cells} |")
                print(lines[-1], flush=True)
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(
            f"\n## {datetime.date.today().isoformat()} — {platform.machine()}, corpus "
            f"{args.corpus}\n\nValidation cross-entropy (nats/token) by position, "
            f"{len(batches) * cfg.batch_size} windows of {args.window} tokens "
            f"(`benchmarks/eval_context.py --window {args.window} --batches {args.batches}`):"
            "\n\n" + "\n".join(lines) + "\n"
        )


if __name__ == "__main__":
    main()
