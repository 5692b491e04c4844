"""Decoding speed of the transformer at batch 1: float32 against the int8 copy CPU decoding runs.

Usage: .venv/bin/python benchmarks/bench_decode.py [--weights DIR] [--rounds N] [--threads T]

Each round measures float32, int8, and int8 stepping through the model's `forward` (as
decoding did before `decode_step.CachedStep`, 2026-12-07) back to back with `tokens_per_second`
below (1,000 sampled tokens, KV cache, re-encodes included), so the ratios of a round are taken
under the same machine load. Prints every round, then the median tokens/s per variant and the
median ratios, and appends them with machine and date to benchmarks/results/decode.md.
Quality of the int8 copy: `benchmarks/eval_val_loss.py --int8`.

Sizes: `--compare 4x256,6x320,6x384,8x384` measures untrained models of those sizes (layers x
d_model, 64-wide heads; speed does not depend on the weights' values) at a 1,024-token
context, learned against rotary positions and float32 against int8, each measurement twice
(`--repeats`) with the better run kept, since the machine is shared. A run decodes
`--tokens` (1,500) tokens from the prefix, so the full context is crossed once: learned
positions re-encode there, rotary ones slide. Prints tokens/s and the float32 safetensors
size per config and appends the table, with the load average, to benchmarks/results/decode.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from emsync_core.music import events
from emsync_core.music.generate import Decoder, sample
from emsync_core.music.harmony import Key
from emsync_core.music.model import EmsyncTransformer, KVCache, ModelConfig

RESULTS = Path(__file__).parent / "results" / "decode.md"
# (name, int8, steps through forward)
VARIANTS = [("float32", False, False), ("int8", True, False), ("int8, forward steps", True, True)]
# A scene key off C, so a key-frame model pays for moving tokens into its frame and logits
# out of it at every step, as when it scores an edit (a model without the key ignores it).
KEY = Key(2, "minor")


WEIGHTS = Path(__file__).resolve().parents[1] / "emsync_core" / "weights"


class ForwardStep:
    """A decoder step through `EmsyncTransformer.forward`, as decoding ran before
    `decode_step.CachedStep` (same logits, bit for bit: tests/test_decode_step.py)."""

    def __init__(self, model: EmsyncTransformer, key: torch.Tensor) -> None:
        self.model, self.key = model, key

    def __call__(self, token: int, offset: float, cache: KVCache) -> torch.Tensor:
        return self.model(
            torch.tensor([[token]]), torch.tensor([[offset]]), cache=cache, key=self.key
        )[0, -1]


def cpu_name() -> str:
    """The CPU's model name, and whether it has AMX: int8 against float32 turns on it."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                 if line.startswith("model name")), platform.machine())  # fmt: skip
    return name + (" with AMX" if "amx_int8" in info else "")


def _prefill(
    decoder: Decoder, tokens: list[int], offsets: list[float], forward_steps: bool
) -> torch.Tensor:
    logits = decoder.prefill(tokens, offsets, 0.0, 0.0, KEY)
    if forward_steps:
        decoder.cached_step = ForwardStep(decoder.model, decoder.keys)
    return logits


@torch.inference_mode()  # as generate() decodes: no autograd bookkeeping
def tokens_per_second(
    model: EmsyncTransformer,
    n_tokens: int = 1000,
    runs: int = 3,
    int8: bool = True,
    forward_steps: bool = False,
) -> float:
    """Median over `runs` of tokens/s sampling `n_tokens` one by one, as generate() decodes:
    batch 1, KV cache, re-encoding when the context is full, the
    int8 copy of the model on CPU (unless `int8` is False), the scene key `KEY`, and the
    sampler generate() uses (T 1.3, top-p 0.6), without its token masks. `forward_steps`
    steps through the model's forward instead of `CachedStep`."""
    generator = torch.Generator().manual_seed(0)
    allowed = torch.ones(model.config.vocab_size, dtype=torch.bool)
    rates = []
    for _ in range(runs):
        decoder = Decoder(model, int8=int8)
        tokens = events.sequence_prefix(4, True)
        offsets = [2.0] * len(tokens)  # seconds to the next boundary: any value costs the same
        logits = _prefill(decoder, tokens, offsets, forward_steps)
        start = time.perf_counter()
        for _ in range(n_tokens):
            token, _ = sample(logits, allowed, 1.3, 0.6, generator)
            tokens.append(token)
            offsets.append(2.0)
            logits = decoder.step(token, 2.0)
            if logits is None:
                logits = _prefill(decoder, tokens, offsets, forward_steps)
        rates.append(n_tokens / (time.perf_counter() - start))
    return statistics.median(rates)


CONTEXT = 1024  # event tokens the compared models attend to (issue 15: at least 1,024)


@dataclass(frozen=True)
class Variant:
    layers: int
    d_model: int
    positions: str
    int8: bool

    @property
    def name(self) -> str:
        return f"{self.layers}x{self.d_model} {self.positions} {'int8' if self.int8 else 'fp32'}"


def model_of(layers: int, d_model: int, positions: str) -> EmsyncTransformer:
    """An untrained model of that size, decoding with a `CONTEXT`-token context."""
    torch.manual_seed(0)
    config = ModelConfig(
        n_layer=layers, n_head=d_model // 64, d_model=d_model, positions=positions, dropout=0.0
    )
    model = EmsyncTransformer(config).eval()
    model.context = CONTEXT
    return model


def compare(args: argparse.Namespace) -> None:
    sizes = [tuple(int(x) for x in c.split("x")) for c in args.compare.split(",")]
    variants = [
        Variant(layers, d, positions, int8)
        for layers, d in sizes
        for positions in ("learned", "rotary")
        for int8 in (True, False)
    ]
    loads = [os.getloadavg()[0]]
    best: dict[Variant, float] = {}
    megabytes: dict[tuple[int, int], float] = {}
    started = time.perf_counter()
    for v in variants:
        model = model_of(v.layers, v.d_model, v.positions)
        megabytes[(v.layers, v.d_model)] = model.n_params() * 4 / 1e6  # float32 safetensors
        runs = [
            tokens_per_second(model, n_tokens=args.tokens, runs=1, int8=v.int8)
            for _ in range(args.repeats)
        ]
        best[v] = max(runs)
        loads.append(os.getloadavg()[0])
        print(
            f"{v.name}: {' / '.join(f'{r:.0f}' for r in runs)} tokens/s "
            f"({model.n_params() / 1e6:.1f}M parameters, load {loads[-1]:.2f})",
            flush=True,
        )
    rows = []
    for layers, d in sizes:
        cells = [
            f"{best[Variant(layers, d, pos, q)]:.0f}"
            for pos in ("learned", "rotary")
            for q in (True, False)
        ]
        n = model_of(layers, d, "rotary").n_params()
        rows.append(
            f"| {layers} x {d} ({d // 64} heads) | {n / 1e6:.1f}M | "
            f"{megabytes[(layers, d)]:.1f} | " + " | ".join(cells) + " |"
        )
    table = "\n".join(
        [
            "| layers x d_model | parameters (rotary) | MB (fp32 safetensors) | learned int8 "
            "| learned fp32 "
            "| rotary int8 | rotary fp32 |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]
    )
    load = (
        f"1-minute load average {min(loads):.2f}-{max(loads):.2f} "
        f"(median {statistics.median(loads):.2f}), {time.perf_counter() - started:.0f} s"
    )
    print(f"\n{table}\n({load})")
    if args.no_save:
        return
    machine = f"{cpu_name()}, {os.cpu_count()} cores, {args.threads} torch threads"
    command = (
        f"benchmarks/bench_decode.py --compare {args.compare} --threads {args.threads} "
        f"--tokens {args.tokens} --repeats {args.repeats}"
    )
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(
            f"\n## {datetime.date.today().isoformat()} — model sizes, {machine}, "
            f"torch {torch.__version__}\n"
        )
        f.write(
            f"\n`{command}`: tokens/s at batch 1 (better of {args.repeats} runs of "
            f"{args.tokens} tokens, {CONTEXT}-token context; {load}):\n\n{table}\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compare", help="sizes to compare, e.g. 4x256,6x384 (layers x d)")
    parser.add_argument("--tokens", type=int, default=1500, help="tokens per --compare run")
    parser.add_argument("--repeats", type=int, default=2, help="runs per --compare variant")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.compare:
        compare(args)
        return
    model = EmsyncTransformer.load(args.weights)
    rates: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    load_before = os.getloadavg()[0]
    for r in range(args.rounds):
        for name, int8, forward_steps in VARIANTS:
            rates[name].append(
                tokens_per_second(model, runs=1, int8=int8, forward_steps=forward_steps)
            )
        print(f"round {r + 1}: " + ", ".join(f"{name} {rates[name][-1]:.0f}" for name in rates))
    rows = [f"| {name} | {statistics.median(rates[name]):.0f} | "
            f"{min(rates[name]):.0f}-{max(rates[name]):.0f} |" for name in rates]  # fmt: skip
    for faster, slower in [("int8", "float32"), ("int8", "int8, forward steps")]:
        ratios = [a / b for a, b in zip(rates[faster], rates[slower], strict=True)]
        rows.append(
            f"| {faster} / {slower} speed | {statistics.median(ratios):.2f}x | "
            f"{min(ratios):.2f}-{max(ratios):.2f}x |"
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
    if args.no_save:
        return
    machine = f"{cpu_name()}, {os.cpu_count()} cores, {args.threads} torch threads"
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(
            f"\n## {datetime.date.today().isoformat()} — {machine}, torch {torch.__version__}\n"
        )
        f.write(f"\n`benchmarks/bench_decode.py --rounds {args.rounds}` ({load}):\n\n{table}\n")


if __name__ == "__main__":
    main()
