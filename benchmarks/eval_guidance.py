"""Do classifier-free guidance and the key bias strengthen the transformer's emotion control?

Usage: .venv/bin/python benchmarks/eval_guidance.py [--weights DIR] [--plans N] [--seconds S]
       [--guidance 1,2,3] [--key-bias 0] [--pace-bias 0] [--float32]

For each guidance weight and key bias (`generate(key_bias=)`: nats off pitched notes outside
the plan's key, whose mode follows valence): the major-minus-minor key correlation of scores
generated at valence -0.8 and +0.8 (arousal 0), and notes per second at arousal -0.8 and +0.8
(valence 0), per seed, on the same random timelines eval_music.py uses. Prints the table
(constrained decoding, one torch thread, the int8 copy unless `--float32`) and appends it to
benchmarks/results/music_eval.md.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import time
from pathlib import Path

import numpy as np
import torch
from eval_music import RESULTS, WEIGHTS, major_minus_minor, notes_per_second, one_mood_plan

from emsync_core.music.generate import generate
from emsync_core.music.model import EmsyncTransformer

MOODS = {"V-": (-0.8, 0.0), "V+": (0.8, 0.0), "A-": (0.0, -0.8), "A+": (0.0, 0.8)}


def measure(
    model,
    guidance: float,
    key_bias: float,
    plans: int,
    seconds: float,
    int8: bool = True,
    pace_bias: float = 0.0,
) -> dict[str, np.ndarray]:
    """Per mood, per plan: (major-minus-minor, notes per second)."""
    out = {}
    for label, mood in MOODS.items():
        rows = []
        for p in range(plans):
            plan = one_mood_plan(p, seconds, mood)
            midi = generate(
                plan, model, p, guidance=guidance, key_bias=key_bias, pace_bias=pace_bias, int8=int8
            ).midi
            rows.append((major_minus_minor(midi), notes_per_second(midi, seconds)))
        out[label] = np.array(rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--plans", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--guidance", default="1,2,3")
    parser.add_argument("--key-bias", default="0")
    parser.add_argument("--pace-bias", type=float, default=0.0)
    parser.add_argument("--float32", action="store_true", help="decode without the int8 copy")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = EmsyncTransformer.load(args.weights)
    lines = [
        "| guidance | key bias | major-minus-minor at V -0.8 / +0.8 | per-seed difference | "
        "notes/s at A -0.8 / +0.8 | per-seed density ratio | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    settings = [
        (float(w), float(b)) for w in args.guidance.split(",") for b in args.key_bias.split(",")
    ]
    for w, bias in settings:
        start = time.perf_counter()
        r = measure(model, w, bias, args.plans, args.seconds, not args.float32, args.pace_bias)
        diff = r["V+"][:, 0] - r["V-"][:, 0]
        ratio = r["A+"][:, 1] / r["A-"][:, 1]
        lines.append(
            f"| {w:g} | {bias:g} | {r['V-'][:, 0].mean():+.3f} / {r['V+'][:, 0].mean():+.3f} | "
            f"{' '.join(f'{d:+.2f}' for d in diff)} | {r['A-'][:, 1].mean():.1f} / "
            f"{r['A+'][:, 1].mean():.1f} | {' '.join(f'{x:.2f}' for x in ratio)} | "
            f"{time.perf_counter() - start:.0f} |"
        )
        print(lines[-1], flush=True)
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(
            f"\n## {datetime.date.today().isoformat()} — guidance, {platform.machine()}, "
            f"1 torch thread\n\n`benchmarks/eval_guidance.py --plans {args.plans} --seconds "
            f"{args.seconds:g} --guidance {args.guidance} --key-bias {args.key_bias} --weights "
            f"{args.weights} --pace-bias {args.pace_bias:g}{' --float32' if args.float32 else ''}` "
            f"(decoding "
            f"{'float32' if args.float32 else 'int8'})\n\n" + "\n".join(lines) + "\n"
        )


if __name__ == "__main__":
    main()
