"""Where do new harmonies fall? The harness's cut contrast, read two ways.

Usage:
  .venv/bin/python benchmarks/chords_at_cuts.py --songs .corpus/mma-drums-100h [--n 150]
  .venv/bin/python benchmarks/chords_at_cuts.py --weights weights-candidates/clean-ft1 [--edits 3]

`--songs`: the training music itself. For MMA songs (MIDI + label sidecar) the harness's
new-harmony rate (`measures.harmony_changes`, within 250 ms) at the labelled chord changes
against control times at least 1 s from every change. This is the ceiling a model that copies
its training music reaches on the issue's "3x at cuts" line when every boundary is a cut.

`--weights`: a model scoring 30-s one-mood edits without the cut constraint, once with the
plan's chord starts inside scenes told to the model as boundaries (what `emsync score
--unconstrained` does) and once with the cuts alone. For each: the share of cuts and of
control times with a `<CHORD>` token of the model's within 250 ms, and with a new harmony in
the notes. Seeded; prints one line per variant.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pretty_midi

from emsync_core.eval import edits, measures


def songs_contrast(folder: Path, n: int) -> None:
    sidecars = sorted(folder.glob("songs/*/*.json"))
    random.Random(0).shuffle(sidecars)
    at, off = [], []
    for path in sidecars[:n]:
        label = json.loads(path.read_text())
        changes = [t for t in label["boundaries_s"] if t > 0.5]
        if len(changes) < 2:
            continue
        heard = measures.harmony_changes(pretty_midi.PrettyMIDI(str(path.with_suffix(".mid"))))
        controls = measures.control_times(changes, label["duration_s"], 0)
        at.append(measures.change_rate(heard, changes))
        off.append(measures.change_rate(heard, controls))
    a, c = float(np.nanmean(at)), float(np.nanmean(off))
    print(
        f"{folder}: {len(at)} songs; new harmony within 250 ms of a labelled chord change "
        f"{a:.2f}, at control times {c:.2f}, lift {measures.lift(a, c):.2f}"
    )


def model_contrast(weights: str, n_edits: int) -> None:
    from emsync_core.music.generate import generate
    from emsync_core.music.model import EmsyncTransformer

    model = EmsyncTransformer.load(Path(weights))
    for soft in (True, False):
        rows = []
        for k in range(n_edits):
            for emotion in edits.EKMAN6:
                edit = edits.one_mood(edits.short_edit(k), emotion)
                plan = edit.plan(0)
                if not soft:  # one chord per scene: the cuts are the only boundaries
                    scenes = tuple(
                        dataclasses.replace(s, chord_beats=(s.beats,)) for s in plan.scenes
                    )
                    plan = dataclasses.replace(plan, scenes=scenes)
                score = generate(plan, model, 0, constrained=False)
                controls = measures.control_times(edit.cuts_s, edit.duration_s, 0)
                chords = np.array([c.start_s for c in score.chords])
                heard = measures.harmony_changes(score.midi)
                rows.append(
                    [
                        measures.change_rate(chords, edit.cuts_s),
                        measures.change_rate(chords, controls),
                        measures.change_rate(heard, edit.cuts_s),
                        measures.change_rate(heard, controls),
                    ]
                )
        r = np.nanmean(np.array(rows), axis=0)
        told = "cuts and the plan's chord starts" if soft else "cuts only"
        print(
            f"{weights}, boundaries told: {told} ({len(rows)} scores): <CHORD> at cuts "
            f"{r[0]:.2f}, at controls {r[1]:.2f}; new harmony at cuts {r[2]:.2f}, at controls "
            f"{r[3]:.2f} (lift {measures.lift(r[2], r[3]):.2f})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=Path, help="an MMA songs folder (emsync train --build-mma)")
    parser.add_argument("--n", type=int, default=150, help="songs to read")
    parser.add_argument("--weights", help="a model folder (model.json + model.safetensors)")
    parser.add_argument("--edits", type=int, default=3, help="30-s edits (x 6 emotions)")
    args = parser.parse_args()
    if not args.songs and not args.weights:
        parser.error("give --songs, --weights or both")
    if args.songs:
        songs_contrast(args.songs, args.n)
    if args.weights:
        model_contrast(args.weights, args.edits)


if __name__ == "__main__":
    main()
