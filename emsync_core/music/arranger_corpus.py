"""Arranger scores as a training source: our rule-based engine on random edits and moods.

Why. The music-quality harness measures the arranger as never degenerate, with a new harmony
at 100 % of cuts against 7-14 % of control times between them, and a melody on top; the MMA
grooves are loops that re-voice between chord changes (1.9x) and have no line on top. A
corpus of arranger scores teaches the transformer those textures, and its labels are exactly
the conditions the transformer gets when it scores an edit: the plan's valence, arousal and
key per scene, and a `<CHORD>` at every chord start the plan asks for.

`emsync train --build-arranger OUT --arranger-hours H --seed S` writes, per score,
`OUT/songs/NNN/aNNNNNN.mid` and its label sidecar `.json` (`sidecar.FORMAT`, written last and
atomically, so an interrupted build resumes where it stopped). `--build-corpus OUT` then
tokenises them like any MIDI folder.

The edits are drawn like real ones (`eval.edits.stretch_shots`: lognormal shots of dialogue,
montage, coverage and long takes, scenes of several shots, hit markers in long shots), from a
seed space of their own, so the harness's edits are never trained on. Moods are half Ekman
emotions (as the classifier gives them, jittered) and half anywhere in the valence/arousal
square, so the whole range the sweeps ask for is covered.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

from ..emotion.mapping import EKMAN6, EMOTION_VA
from ..errors import EmsyncError
from ..eval.edits import TestEdit, fit_total, hits_in_long_shots, make_edit, stretch_shots
from . import sidecar
from .arranger import arrange
from .harmony import MAJOR_LIKE
from .plan import ScorePlan, plan_score
from .score import Score

MIN_SCORE_S, MAX_SCORE_S = 45.0, 240.0

# (kind, share of the draws): stretches of an edit, as `eval.edits.reel_10min` mixes them.
_STRETCHES = (("dialogue", 2), ("montage", 1), ("coverage", 2), ("long_take", 1))
# Seconds each kind of stretch lasts: shorter than a 10-minute reel's, for scores of minutes.
_SPANS_S = {"dialogue": (20, 60), "montage": (8, 25), "coverage": (20, 60), "long_take": (12, 60)}


def random_mood(rng: random.Random) -> tuple[float, float]:
    """An Ekman emotion's point, jittered, or any point of the square, half the time each."""
    if rng.random() < 0.5:
        v, a = EMOTION_VA[rng.choice(EKMAN6)]
        v, a = v + rng.gauss(0, 0.1), a + rng.gauss(0, 0.1)
    else:
        v, a = rng.uniform(-0.9, 0.9), rng.uniform(-0.9, 0.9)
    return round(max(-1.0, min(1.0, v)), 3), round(max(-1.0, min(1.0, a)), 3)


def random_edit(rng: random.Random, name: str) -> TestEdit:
    """A realistic edit of 45 s to 4 min: shot lengths, scenes of 1-10 shots, hits."""
    total = rng.uniform(MIN_SCORE_S, MAX_SCORE_S)
    kinds = [k for k, n in _STRETCHES for _ in range(n)]
    lengths: list[float] = []
    while sum(lengths) < total:
        kind = rng.choice(kinds)
        lengths += stretch_shots(rng, kind, rng.uniform(*_SPANS_S[kind]))
    lengths = fit_total(lengths, total)
    moods: list[str] = []
    while len(moods) < len(lengths):
        v, a = random_mood(rng)
        moods += [f"{v},{a}"] * rng.randint(1, 10)
    # Hits go into the shots as they fall on the frame grid (the corpus built before stays so).
    on_grid = [b - a for a, b in make_edit(name, lengths, moods).shots_s]
    return make_edit(name, lengths, moods, hits_in_long_shots(rng, on_grid, 12.0))


def score_labels(plan: ScorePlan, name: str) -> dict:
    """The sidecar JSON of an arranger score: exact, from its plan. A window per planned
    section, with the section's key; the `<CHORD>` boundaries are every chord start."""
    windows = [
        {
            "start_s": round(s.start_s, 4),
            "end_s": round(s.end_s, 4),
            "valence": s.valence,
            "arousal": s.arousal,
            "mode": "major" if s.key.mode in MAJOR_LIKE else "minor",
            "tonic": s.key.tonic,
            "key": s.key.name,
            "tempo": round(s.tempo_bpm, 2),
        }
        for s in plan.scenes
    ]
    length = [s.end_s - s.start_s for s in plan.scenes]
    total = sum(length)
    major = sum(n for n, w in zip(length, windows, strict=True) if w["mode"] == "major")
    return {
        "format": sidecar.FORMAT,
        "source": "arranger",
        "song": name,
        "tonic": plan.scenes[0].key.tonic,
        "mode": "major" if major >= total / 2 else "minor",
        "duration_s": round(plan.duration_s, 4),
        "hard_boundaries_s": list(plan.hard_boundaries_s),  # cuts and hits
        "boundaries_s": sorted({round(t, 4) for s in plan.scenes for t in s.chord_starts_s}),
        "valence": round(
            sum(w["valence"] * n for w, n in zip(windows, length, strict=True)) / total, 4
        ),
        "arousal": round(
            sum(w["arousal"] * n for w, n in zip(windows, length, strict=True)) / total, 4
        ),
        "windows": windows,
    }


def song_paths(out: Path, index: int) -> tuple[Path, Path]:
    stem = out / "songs" / f"{index // 1000:03d}" / f"a{index:06d}"
    return stem.with_suffix(".mid"), stem.with_suffix(".json")


def _rng(seed: int, index: int) -> random.Random:
    # A string seed: every score is reproducible alone, whatever was built before it.
    return random.Random(f"arranger-corpus:{seed}:{index}")


def compose(seed: int, index: int) -> tuple[ScorePlan, Score]:
    """Score `index` of the corpus of `seed`: its random edit's plan and the arranger's score."""
    rng = _rng(seed, index)
    edit = random_edit(rng, f"a{index:06d}")
    plan = plan_score(
        [s for s, _ in edit.sections], [m for _, m in edit.sections], rng.getrandbits(31)
    )
    return plan, arrange(plan)


def render(out: Path, seed: int, index: int) -> float:
    """Write score `index`'s .mid and its sidecar (last, atomically); the music's seconds."""
    name = f"a{index:06d}"
    plan, score = compose(seed, index)
    mid_path, json_path = song_paths(out, index)
    mid_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = mid_path.with_name(f".{mid_path.name}.tmp.mid")
    score.midi.write(str(tmp))
    os.replace(tmp, mid_path)
    tmp = json_path.with_name(f".{json_path.name}.tmp")
    tmp.write_text(json.dumps(score_labels(plan, name), indent=1))
    os.replace(tmp, json_path)
    return plan.duration_s


def planned_seconds(seed: int, index: int) -> float:
    """The length of score `index` without writing it (to plan a build of H hours)."""
    return random_edit(_rng(seed, index), "").duration_s


def _job(job: tuple[Path, int, int]) -> float:
    out, seed, index = job
    return render(out, seed, index)


def build_arranger(out: Path, hours: float, seed: int, workers: int = 2, log=None) -> dict:  # noqa: ANN001
    """Write scores 0, 1, ... until `hours` of music are planned; skip those already written."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    lengths: list[float] = []
    while sum(lengths) < hours * 3600:
        lengths.append(planned_seconds(seed, len(lengths)))
    todo = [i for i in range(len(lengths)) if not song_paths(out, i)[1].exists()]
    log(
        f"arranger corpus: {len(lengths)} scores, {sum(lengths) / 3600:.1f} h planned; "
        f"{len(lengths) - len(todo)} already written, {len(todo)} to write"
    )
    jobs = [(out, seed, i) for i in todo]
    done, last = 0, time.perf_counter()
    if workers > 1 and len(jobs) > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers) as pool:
            for _ in pool.imap_unordered(_job, jobs, chunksize=8):
                done += 1
                if time.perf_counter() - last > 15:
                    last = time.perf_counter()
                    log(f"arranger corpus: {done}/{len(jobs)} scores written")
            pool.close()
            pool.join()
    else:
        for job in jobs:
            _job(job)
    manifest = {
        "seed": seed,
        "hours_requested": hours,
        "scores": len(lengths),
        "hours": round(sum(lengths) / 3600, 3),
        "written_now": len(todo),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (out / "arranger_manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


# ---------------------------------------------------------------------------------------
# Command line (options added to `emsync train` by corpus.configure_parser)


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--build-arranger",
        metavar="OUT",
        type=Path,
        help="write scores by our arranger on random edits and moods (.mid + label .json) "
        "into OUT; then tokenise them with --build-corpus OUT",
    )
    p.add_argument(
        "--arranger-hours",
        type=float,
        default=1.0,
        help="with --build-arranger: hours of music (--seed seeds it)",
    )


def run(args: argparse.Namespace) -> int:
    if args.arranger_hours <= 0 or args.workers < 1:
        raise EmsyncError("--arranger-hours must be > 0 and --workers >= 1")
    seed = int(getattr(args, "seed", 0) or 0)
    m = build_arranger(Path(args.build_arranger), args.arranger_hours, seed, args.workers)
    print(
        f"arranger corpus: {m['scores']} scores, {m['hours']:.2f} h, seed {seed}; wrote "
        f"{m['written_now']} now in {m['build_seconds']:.0f} s -> {args.build_arranger}. "
        f"Next: emsync train --build-corpus {args.build_arranger} --out CORPUS"
    )
    return 0
