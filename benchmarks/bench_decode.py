"""Decoding speed of the transformer at batch 1: float32 against the int8 copy CPU decoding runs.

Usage: .venv/bin/python benchmarks/bench_decode.py [--weights DIR] [--rounds N] [--threads T]

Each round measures the four variants (float32 / int8, one row / two rows for guidance 3)
back to back with `tokens_per_second` below (1,000 sampled tokens, KV cache, re-encodes
included), so the int8/float32 ratio of a round is taken under the same machine load. Prints
every round, then the median tokens/s per variant and the median ratio, and appends them with
machine and date to benchmarks/results/decode.md. Quality of the int8 copy:
`benchmarks/eval_val_loss.py --int8`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from emsync_core.music import events
from emsync_core.music.generate import Decoder, sample
from emsync_core.music.model import EmsyncTransformer

RESULTS = Path(__file__).parent / "results" / "decode.md"
VARIANTS = [(False, 1.0), (True, 1.0), (False, 3.0), (True, 3.0)]  # (int8, guidance)


WEIGHTS = Path(__file__).resolve().parents[1] / "emsync_core" / "weights"


def tokens_per_second(
    model: EmsyncTransformer,
    guidance: float = 1.0,
    n_tokens: int = 1000,
    runs: int = 3,
    int8: bool = True,
) -> float:
    """Median over `runs` of tokens/s sampling `n_tokens` one by one, as generate() decodes:
    batch 1 (two rows with guidance), KV cache, re-encoding when the context is full, the
    int8 copy of the model on CPU (unless `int8` is False), and the sampler generate() uses
    (T 1.3, top-p 0.6), without its token masks."""
    generator = torch.Generator().manual_seed(0)
    allowed = torch.ones(model.config.vocab_size, dtype=torch.bool)
    rates = []
    for _ in range(runs):
        decoder = Decoder(model, guidance=guidance, int8=int8)
        tokens = events.sequence_prefix(4, True)
        offsets = [2.0] * len(tokens)  # seconds to the next boundary: any value costs the same
        logits = decoder.prefill(tokens, offsets, 0.0, 0.0)
        start = time.perf_counter()
        for _ in range(n_tokens):
            token, _ = sample(logits, allowed, 1.3, 0.6, generator)
            tokens.append(token)
            offsets.append(2.0)
            logits = decoder.step(token, 2.0)
            if logits is None:
                logits = decoder.prefill(tokens, offsets, 0.0, 0.0)
        rates.append(n_tokens / (time.perf_counter() - start))
    return statistics.median(rates)


def label(int8: bool, guidance: float) -> str:
    rows = "one row" if guidance == 1.0 else f"guidance {guidance:g}, two rows"
    return f"{'int8' if int8 else 'float32'}, {rows}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = EmsyncTransformer.load(args.weights)
    rates: dict[tuple[bool, float], list[float]] = {v: [] for v in VARIANTS}
    load_before = os.getloadavg()[0]
    for r in range(args.rounds):
        for int8, guidance in VARIANTS:
            rates[(int8, guidance)].append(tokens_per_second(model, guidance, runs=1, int8=int8))
        print(f"round {r + 1}: " + ", ".join(f"{rates[v][-1]:.0f}" for v in VARIANTS))
    rows = [f"| {label(*v)} | {statistics.median(rates[v]):.0f} | "
            f"{min(rates[v]):.0f}-{max(rates[v]):.0f} |" for v in VARIANTS]  # fmt: skip
    for guidance in (1.0, 3.0):
        ratios = [
            q / f for q, f in zip(rates[(True, guidance)], rates[(False, guidance)], strict=True)
        ]
        rows.append(
            f"| int8 / float32 speed, {label(True, guidance).split(', ', 1)[1]} | "
            f"{statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f}x |"
        )
    table = "\n".join(
        [
            "| decoding (batch 1, 1,000 tokens per run) | median tokens/s | range |",
            "| --- | --- | --- |",
            *rows,
        ]  # fmt: skip
    )
    load = f"1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(f"\n{table}\n({load})")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch threads"
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(
            f"\n## {datetime.date.today().isoformat()} — {machine}, torch {torch.__version__}\n"
        )
        f.write(f"\n`benchmarks/bench_decode.py --rounds {args.rounds}` ({load}):\n\n{table}\n")


if __name__ == "__main__":
    main()
