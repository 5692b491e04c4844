"""Validation loss of transformer checkpoints on one corpus, next to simple baselines.

Usage: .venv/bin/python benchmarks/eval_val_loss.py --corpus DIR WEIGHTS_DIR [WEIGHTS_DIR ...]

Every checkpoint is scored on the same fixed validation windows (train.evaluate: seq-len 256,
16 batches of 8, float32, no dropout), so checkpoints trained on different corpora can be
compared on one. Prints weighted loss (<CHORD> x10) and plain cross-entropy in nats/token,
plus the unigram and bigram cross-entropy of the corpus's own splits. `--int8` also scores
the int8 copy that CPU decoding runs (`model.int8_for_cpu`). A key-frame model
(`key_frame.py`) is scored on the same windows moved into its frame, as it trained.
`--plot PNG` draws each checkpoint's cross-entropy, in the order given (a training lineage),
against the two baselines.
"""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import replace
from pathlib import Path

import torch

from emsync_core.music import train
from emsync_core.music.corpus import Corpus
from emsync_core.music.model import EmsyncTransformer, int8_for_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--int8", action="store_true", help="also score the int8 decoding copy")
    parser.add_argument("--plot", type=Path, help="draw the cross-entropies into this PNG")
    parser.add_argument("weights", type=Path, nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    corpus = Corpus(args.corpus)
    cfg = train.TrainConfig(seq_len=256, batch_size=8)
    unigram, bigram = train.unigram_nll(corpus), train.bigram_nll(corpus)
    print(f"corpus {args.corpus}: unigram {unigram:.4f}, bigram {bigram:.4f} nats/token")
    nlls = {}
    with torch.inference_mode():
        for folder in args.weights:
            model = EmsyncTransformer.load(folder)
            variants = {"": model, " (int8)": int8_for_cpu(model)} if args.int8 else {"": model}
            for label, variant in variants.items():
                # Windows as the model trained on them (a key-frame model reads them framed).
                own = replace(cfg, model=model.config)
                loss, nll = train.evaluate(
                    variant, corpus, own, torch.device("cpu"), contextlib.nullcontext
                )
                print(
                    f"{folder}{label}: val loss {loss:.4f}, val cross-entropy {nll:.4f} nats/token"
                )
                if not label:
                    nlls[folder.name] = nll
    if args.plot:
        plot(nlls, unigram, bigram, args.corpus, args.plot)


def plot(nlls: dict[str, float], unigram: float, bigram: float, corpus: Path, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    xs = range(len(nlls))
    ax.plot(xs, list(nlls.values()), "o-", label="checkpoint (float32)")
    for value, name, style in ((unigram, "unigram", ":"), (bigram, "bigram", "--")):
        ax.axhline(value, color="grey", linestyle=style, label=f"{name} {value:.2f}")
    for x, value in zip(xs, nlls.values(), strict=True):
        ax.annotate(f"{value:.2f}", (x, value), textcoords="offset points", xytext=(0, 6))
    ax.set_xticks(list(xs), list(nlls), rotation=20, ha="right")
    ax.set_ylim(0, max(unigram, *nlls.values()) * 1.1)
    ax.set_ylabel("validation cross-entropy (nats/token)")
    ax.set_title(f"validation windows of {corpus.name}")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
