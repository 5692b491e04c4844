"""Where does a transformer score leave its planned key? The best Krumhansl key per 6-s window
of the valence -1 and +1 scores of the harness's unseen sweeps (the mode line's scores).

Usage: .venv/bin/python benchmarks/key_drift.py [--weights DIR] SEED [SEED ...]
  SEED: an unseen-sweep edit seed (5100 and up, as `python -m emsync_core.eval music --parts
  unseen_sweep` numbers them); each score is made exactly as the harness makes it.
Prints per score the planned key, the key of each 6-s window, the whole score's key and its
major-minus-minor correlation (the harness's `mode`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.eval import edits, measures  # noqa: E402
from emsync_core.eval.engines import SETTINGS, compose, with_weights  # noqa: E402
from emsync_core.eval.run import UNSEEN  # noqa: E402
from emsync_core.music.labels import key_correlations, key_name  # noqa: E402

WEIGHTS = Path(__file__).resolve().parents[1] / "emsync_core" / "weights"
WINDOW_S = 6


def best_key(hist: np.ndarray) -> str:
    """`labels.key_name` in short: "Bbm" for B-flat minor, "F" for F major."""
    if not hist.any():
        return "-"
    name = key_name(*key_correlations(hist))
    return name.replace(" major", "").replace(" minor", "m")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("seeds", nargs="+", type=int)
    parser.add_argument("--weights", default=str(WEIGHTS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    setting = with_weights(SETTINGS["transformer-plain"], args.weights)
    for edit_seed in args.seeds:
        job_seed = edit_seed - (UNSEEN + 100)  # the harness seeds a sweep's scores by index
        for valence in (-1.0, 1.0):
            edit = edits.one_mood(edits.short_edit(edit_seed), f"{valence},0")
            plan = edit.plan(job_seed)
            midi = compose(setting, plan, job_seed).midi
            spans = range(0, int(plan.duration_s), WINDOW_S)
            windows = [best_key(measures.pitch_classes(midi, (t, t + WINDOW_S))) for t in spans]
            whole = measures.pitch_classes(midi)
            print(
                f"{edit_seed} valence {valence:+.0f}: planned {plan.scenes[0].key.name}; "
                f"per {WINDOW_S} s {' '.join(windows)}; whole {best_key(whole)} "
                f"(mode {measures.major_minus_minor(midi):+.3f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
