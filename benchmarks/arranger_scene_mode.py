"""Which of the arranger's scenes sound in the other mode than planned, and what their chords are.

The arranger's training scores (`arranger_corpus.py`) are what the transformer learns the mode
from, and `benchmarks/corpus_mode.py` finds 12-20 % of their long scenes read in the other
mode. This makes scores exactly as the corpus builder does (its edits, moods and seeds, from a
seed space of its own) and, for each scene of 20 s or more in the plan's major or minor range,
reads its mode as the harness reads a score (best major minus best minor Krumhansl correlation
of the pitch-class durations) beside what the arranger played: the share of the scene's time
on its tonic chord and on the chord a sixth above (vi in major, VI in minor), and whether the
scene opens on its tonic.

Usage: .venv/bin/python benchmarks/arranger_scene_mode.py [--scores N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.music.arranger import arrange  # noqa: E402
from emsync_core.music.arranger_corpus import _rng, random_edit  # noqa: E402
from emsync_core.music.harmony import chord_from_symbol  # noqa: E402
from emsync_core.music.labels import key_correlations  # noqa: E402
from emsync_core.music.plan import plan_score  # noqa: E402

MIN_SCENE_S = 20.0


def scene_rows(index: int, seed: int) -> list[tuple]:
    """(mode, read as the other mode, tonic share, sixth share, opens on the tonic) of each
    long major or minor scene of corpus score `index`."""
    rng = _rng(seed, index)
    edit = random_edit(rng, f"a{index:06d}")
    plan = plan_score(
        [s for s, _ in edit.sections], [m for _, m in edit.sections], rng.getrandbits(31)
    )
    score = arrange(plan)
    pitched = [i for i in score.midi.instruments if not i.is_drum]
    notes = [(n.pitch, n.start, n.end) for i in pitched for n in i.notes]
    rows = []
    for number, scene in enumerate(plan.scenes):
        if scene.end_s - scene.start_s < MIN_SCENE_S or scene.key.mode not in ("major", "minor"):
            continue
        hist = np.zeros(12)
        for pitch, start, end in notes:
            hist[pitch % 12] += max(0.0, min(end, scene.end_s) - max(start, scene.start_s))
        major, minor = key_correlations(hist)
        leans_major = major.max() - minor.max() > 0
        chords = [c for c in score.chords if c.scene == number]
        length = sum(c.end_s - c.start_s for c in chords)
        tonic = scene.key.tonic
        sixth = (tonic + (9 if scene.key.mode == "major" else 8)) % 12

        def share(root: int, chords: list = chords, length: float = length) -> float:
            return sum(
                c.end_s - c.start_s
                for c in chords
                if (ch := chord_from_symbol(c.symbol)) is not None and ch.root == root
            ) / max(length, 1e-9)

        first = chord_from_symbol(chords[0].symbol) if chords else None
        rows.append(
            (
                scene.key.mode,
                leans_major != (scene.key.mode == "major"),
                share(tonic),
                share(sixth),
                first is not None and first.root == tonic,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scores", type=int, default=300)
    parser.add_argument("--seed", type=int, default=99, help="not a corpus's seed (11, 12)")
    args = parser.parse_args()
    rows = [r for i in range(args.scores) for r in scene_rows(i, args.seed)]
    print(f"{args.scores} arranger scores (seed {args.seed}), scenes of >= {MIN_SCENE_S:.0f} s")
    for mode in ("major", "minor"):
        own = [r for r in rows if r[0] == mode]
        if not own:
            continue
        wrong = np.array([r[1] for r in own])
        table = np.array([r[2:] for r in own], dtype=float)
        print(f"  {mode}: {len(own)} scenes, {wrong.sum()} read as the other mode")
        for name, group in (("read as the other mode", wrong), ("read as planned", ~wrong)):
            if group.any():
                tonic, sixth, opens = table[group].mean(axis=0)
                print(
                    f"    {name}: time on the tonic chord {tonic:.2f}, on the sixth's "
                    f"{sixth:.2f}; opens on the tonic {opens:.2f}"
                )


if __name__ == "__main__":
    main()
