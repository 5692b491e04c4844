"""Evaluate the transformer against the arranger on generated timelines.

Usage: .venv/bin/python benchmarks/eval_music.py [--weights DIR] [--plans N] [--seconds S]
       [--guidance W] [--key-bias B] [--pace-bias P]

The transformer runs with `emsync score`'s defaults for guidance, key and pace bias (the "levers")
unless told. Without the constraint it runs twice: plain sampling (the model alone, as the
paper evaluates it) and with the same levers.

Prints, per engine: (a) cut alignment on `--plans` timelines of `--seconds` with a cut every
5 s (96 cuts by default): share of cuts with a new chord attack (>= 3 pitch classes) within
1 frame (24 fps), 250 ms and 1 s; (b) emotion control, for the arranger and the constrained
transformer: major-minus-minor key correlation at valence -0.8 vs +0.8, notes per second at
arousal -0.8 vs +0.8; generation seconds / music seconds;
(c) musical statistics (`emsync_core/music/stats.py`) of the mixed-mood scores of (a), and of
the training corpus cut to the same length; (d) speed: transformer tokens per second at batch
1, and the real-time factor of each engine on a 3-minute, 40-cut timeline. Appends the
tables, machine and date to benchmarks/results/music_eval.md; docs/music-eval.md reads them.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import time
from pathlib import Path

import numpy as np
import pretty_midi
import torch

from emsync_core.music import events
from emsync_core.music.alignment import measure_alignment
from emsync_core.music.arranger import arrange
from emsync_core.music.corpus import Corpus, list_sources, process_item
from emsync_core.music.generate import _Decoder, generate, sample
from emsync_core.music.model import EmsyncTransformer
from emsync_core.music.plan import ScorePlan, plan_score
from emsync_core.music.stats import summary
from emsync_core.pipeline import ScoreOptions

WEIGHTS = Path(__file__).resolve().parents[1] / "emsync_core" / "weights"
RESULTS = Path(__file__).parent / "results" / "music_eval.md"
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
# The shipped checkpoint's training data (weights/MODEL_CARD.md), split as corpus.py does.
CORPUS = "music21"
VAL_PERCENT = 5.0
# (c) columns: summary() key, header, format.
STATS = [
    ("pitch_class_entropy", "pitch-class entropy (bits)", "{:.2f}"),
    ("scale_consistency", "scale consistency", "{:.3f}"),
    ("polyphony", "polyphony", "{:.2f}"),
    ("note_length_median_s", "note length median (s)", "{:.3f}"),
    ("note_length_iqr_s", "note length IQR (s)", "{:.3f}"),
    ("ioi_median_s", "inter-onset median (s)", "{:.3f}"),
    ("ioi_iqr_s", "inter-onset IQR (s)", "{:.3f}"),
    ("repetition", "repetition (2 s)", "{:.3f}"),
    ("notes_per_second", "pitched notes/s", "{:.1f}"),
]


def spans_for(seed: int, seconds: float, n_cuts: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(24, int(seconds * 24) - 24), n_cuts))
    edges = [0.0, *(c / 24 for c in cuts), seconds]
    return list(zip(edges, edges[1:], strict=False))


def mixed_plan(seed: int, seconds: float, n_cuts: int) -> ScorePlan:
    """A timeline with `n_cuts` random cuts and a random mood per scene."""
    spans = spans_for(seed, seconds, n_cuts)
    rng = random.Random(seed)
    moods = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in spans]
    return plan_score(spans, moods, seed)


def major_minus_minor(midi) -> float:
    hist = np.zeros(12)
    for inst in midi.instruments:
        if not inst.is_drum:
            for n in inst.notes:
                hist[n.pitch % 12] += n.end - n.start
    if hist.sum() == 0:
        return 0.0
    major = max(np.corrcoef(hist, np.roll(MAJOR, k))[0, 1] for k in range(12))
    minor = max(np.corrcoef(hist, np.roll(MINOR, k))[0, 1] for k in range(12))
    return float(major - minor)


def notes_per_second(midi, seconds: float) -> float:
    return sum(len(i.notes) for i in midi.instruments) / seconds


def one_mood_plan(p: int, seconds: float, mood: tuple[float, float]) -> ScorePlan:
    """Control timeline `p` (a cut every ~5 s, seeded apart from `mixed_plan`'s) with `mood`
    in every scene: the material of every emotion-control measurement."""
    spans = spans_for(100 + p, seconds, n_cuts=int(seconds / 5))
    return plan_score(spans, [mood] * len(spans), p)


def control(engine, args: argparse.Namespace, mood: tuple[float, float], measure) -> float:
    """Mean of `measure` over scores whose every scene has `mood`."""
    values = [
        measure(engine(one_mood_plan(p, args.seconds, mood), p).midi) for p in range(args.plans)
    ]
    return float(np.mean(values))


def corpus_midis(spec: str, seconds: float) -> list[pretty_midi.PrettyMIDI]:
    """The training pieces of the corpus, cut to their first `seconds`.

    `spec` is a corpus folder built by `emsync train --build-corpus` (read from its shards:
    fast), or sources as the builder takes them, parsed here the same way (music21's five
    default sub-corpora take ~8 minutes). Either way the music is decoded from its tokens, as
    the model saw it (8 ms grid, octave-folded pitches, unisons merged).
    """
    if (Path(spec) / "manifest.json").exists():
        corpus = Corpus(Path(spec))
        token_lists = [corpus.tokens(p) for p in corpus.pieces if p["split"] == "train"]
    else:
        items, _ = list_sources(spec.split())
        token_lists = []
        for item in items:
            tokens, record = process_item(item, VAL_PERCENT)
            if tokens is not None and record["split"] == "train":
                token_lists.append(tokens)
    midis = []
    for tokens in token_lists:
        midi = events.decode(tokens)
        for inst in midi.instruments:
            inst.notes = [n for n in inst.notes if n.start < seconds]
            for n in inst.notes:
                n.end = min(n.end, seconds)
        midis.append(midi)
    return midis


def stats_row(label: str, midis: list[pretty_midi.PrettyMIDI]) -> str:
    """One table row: the mean of each statistic over `midis`."""
    values = [summary(m) for m in midis]
    cells = [fmt.format(np.nanmean([v[key] for v in values])) for key, _, fmt in STATS]
    return f"| {label} | {' | '.join(cells)} |"


@torch.inference_mode()
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
        decoder = _Decoder(model, guidance=guidance, int8=int8)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--plans", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--guidance", type=float, default=ScoreOptions.guidance)
    parser.add_argument("--key-bias", type=float, default=ScoreOptions.key_bias)
    parser.add_argument("--pace-bias", type=float, default=ScoreOptions.pace_bias)
    parser.add_argument(
        "--corpus",
        default=CORPUS,
        help="training data for (c): a built corpus folder (fast), or builder sources separated "
        "by spaces (slow)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = EmsyncTransformer.load(args.weights)
    settings = {"guidance": args.guidance, "key_bias": args.key_bias, "pace_bias": args.pace_bias}
    plain = {"guidance": 1.0, "key_bias": 0.0, "pace_bias": 0.0}
    engines = {
        "arranger": lambda plan, seed: arrange(plan, seed),
        "transformer": lambda plan, seed: generate(plan, model, seed, **settings),
        # The model alone, as the paper evaluates it: no constraint, no decoder levers.
        "transformer, unconstrained, plain sampling": lambda plan, seed: generate(
            plan, model, seed, constrained=False, **plain
        ),
        "transformer, unconstrained, same levers": lambda plan, seed: generate(
            plan, model, seed, constrained=False, **settings
        ),
    }
    with_emotion = {"arranger", "transformer"}  # (b) is about what users get
    rows = []
    scores: dict[str, list[pretty_midi.PrettyMIDI]] = {}  # the mixed-mood scores, for (c)
    for name, engine in engines.items():
        errors, spent, music = [], 0.0, 0.0
        scores[name] = []
        for p in range(args.plans):
            plan = mixed_plan(p, args.seconds, n_cuts=int(args.seconds / 5))
            start = time.perf_counter()
            score = engine(plan, p)
            spent += time.perf_counter() - start
            music += args.seconds
            scores[name].append(score.midi)
            for a in measure_alignment(score.midi, plan.hard_boundaries_s):
                ok = a.error_ms is not None and a.new_harmony
                errors.append(a.error_ms if ok else float("inf"))
        errors = np.array(errors)
        emotion = "| - | - "
        if name in with_emotion:

            def density(midi):
                return notes_per_second(midi, args.seconds)

            mode_low = control(engine, args, (-0.8, 0.0), major_minus_minor)
            mode_high = control(engine, args, (0.8, 0.0), major_minus_minor)
            density_low = control(engine, args, (0.0, -0.8), density)
            density_high = control(engine, args, (0.0, 0.8), density)
            emotion = (
                f"| {mode_low:+.3f} / {mode_high:+.3f} | {density_low:.1f} / {density_high:.1f} "
            )
        rows.append(
            f"| {name} | {len(errors)} | {np.mean(errors <= 1000 / 24):.2f} | "
            f"{np.mean(errors <= 250):.2f} | {np.mean(errors <= 1000):.2f} {emotion}"
            f"| {spent / music:.3f} |"
        )
    header = (
        "| engine | cuts | chord within 1 frame | within 250 ms | within 1 s | "
        "major-minor at V -0.8 / +0.8 | notes/s at A -0.8 / +0.8 | generation RTF |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    table = "\n".join([header, *rows])
    print(table)

    # (c) musical statistics: the mixed-mood scores above against the corpus
    corpus = corpus_midis(args.corpus, args.seconds)
    stats_rows = [stats_row(name, midis) for name, midis in scores.items()]
    corpus_label = f"corpus ({args.corpus}, {len(corpus)} training pieces)"
    stats_rows.append(stats_row(corpus_label, corpus))
    stats_header = (
        f"| source | {' | '.join(h for _, h, _ in STATS)} |\n| --- |{' --- |' * len(STATS)}"
    )
    stats_table = "\n".join([stats_header, *stats_rows])
    print(f"\n{stats_table}")

    # (d) speed: the bare decode step, then whole engines on a 3-minute, 40-cut timeline.
    # The machine may be shared: the load average (this script's threads included) says so.
    load_before = os.getloadavg()[0]
    speed = tokens_per_second(model)
    guided_speed = tokens_per_second(model, args.guidance)
    long_plan = mixed_plan(0, 180.0, n_cuts=40)
    speed_rows = [
        f"| transformer decoding, batch 1 | {speed:.0f} tokens/s "
        "(median of 3 runs of 1,000 tokens) |",
        f"| transformer decoding, batch 1, guidance {args.guidance:g} "
        f"({'one row' if args.guidance == 1 else 'two rows'}) | {guided_speed:.0f} tokens/s |",
    ]
    for name, engine in engines.items():
        start = time.perf_counter()
        engine(long_plan, 0)
        rtf = (time.perf_counter() - start) / long_plan.duration_s
        speed_rows.append(f"| {name}: generation RTF, 180 s timeline, 40 cuts | {rtf:.4f} |")
    speed_table = "\n".join(["| measure | value |\n| --- | --- |", *speed_rows])
    load = f"1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(f"\n{speed_table}\n({load})")

    machine = f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch threads"
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(f"\n## {datetime.date.today().isoformat()} — {machine}\n\n")
        f.write(
            f"`benchmarks/eval_music.py --plans {args.plans} --seconds {args.seconds:g} "
            f"--guidance {args.guidance:g} --key-bias {args.key_bias:g} --pace-bias "
            f"{args.pace_bias:g}` with weights from "
            f"`{args.weights}` (context {model.context} tokens, int8 decoding).\n\n{table}\n"
        )
        f.write(
            f"\nMusical statistics, mean per score over the {args.plans} mixed-mood scores "
            f"above; the corpus row over its training pieces cut to {args.seconds:g} s "
            f"(`emsync_core/music/stats.py`):\n\n{stats_table}\n"
        )
        f.write(f"\nSpeed ({load}; {args.threads} threads of this script count in it):\n")
        f.write(f"\n{speed_table}\n")


if __name__ == "__main__":
    main()
