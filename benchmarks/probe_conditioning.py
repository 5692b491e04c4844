"""How much does a checkpoint listen to its valence/arousal condition? A likelihood probe.

Usage: .venv/bin/python benchmarks/probe_conditioning.py --corpus DIR WEIGHTS_DIR [...]

For every validation piece of the corpus (its first 400 tokens, teacher-forced), the
cross-entropy under valence +1 minus under valence -1 (arousal at the piece's label), averaged
separately over major and minor pieces (sign of the piece's key-profile mode feature); then
the same for arousal +1 vs -1 over dense and sparse pieces (arousal label above/below 0).
A model that uses the condition has a clearly negative difference for major (dense) pieces
and a positive one for minor (sparse) pieces; differences near 0 mean it ignores it.

A model with a key condition is also asked for the piece's key (`key`, the label training
used) against the parallel key (same tonic, other mode) and against no key: positive
differences (nats/token, other minus own) mean it listens to the key. With the key given,
valence says nothing the key does not, so such a model is also probed for valence with no key
(`valence, no key`): what it does when the key condition is withheld. A key-frame model
(`key_frame.py`) reads each piece moved to its key's tonic on C, as it trained, and is told
the mode only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from emsync_core.music import events, labels
from emsync_core.music.chords import boundary_offsets
from emsync_core.music.corpus import Corpus
from emsync_core.music.key_frame import frame_shift, framed_key, to_frame
from emsync_core.music.model import EmsyncTransformer


def piece_nll(
    model, tokens: np.ndarray, n_groups: int, valence: float, arousal: float, key: int | None = None
) -> float:
    full = np.concatenate([np.asarray(events.sequence_prefix(n_groups, True)), tokens])
    x = torch.tensor(full[None, :-1])
    offsets = torch.tensor(boundary_offsets(full)[None, :-1], dtype=torch.float32)
    y = torch.tensor(full[None, 1:])
    keys = None if key is None else torch.tensor([key])
    logits = model(x, offsets, torch.tensor([valence]), torch.tensor([arousal]), key=keys)
    return float(torch.nn.functional.cross_entropy(logits[0, -y.shape[1] :], y[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("weights", type=Path, nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    corpus = Corpus(args.corpus)
    pieces = [p for p in corpus.pieces if p["split"] == "val"]
    for folder in args.weights:
        model = EmsyncTransformer.load(folder)
        v_diff: dict[str, list[float]] = {"major": [], "minor": []}
        a_diff: dict[str, list[float]] = {"dense": [], "sparse": []}
        k_diff: dict[str, list[float]] = {"parallel key": [], "no key": []}
        v_free: dict[str, list[float]] = {"major": [], "minor": []}  # valence, key withheld
        keyed = model.config.key_condition
        with torch.inference_mode():
            for piece in pieces:
                tokens = np.asarray(corpus.tokens(piece))[: args.tokens]
                n, v, a = len(piece["groups"]), float(piece["valence"]), float(piece["arousal"])
                key = int(piece["key"]) if keyed else None
                if model.config.key_frame and key != labels.NULL_KEY:
                    tokens = np.asarray(to_frame(tokens.tolist(), frame_shift(key % 12)))
                    key = framed_key(key)
                if keyed and key != labels.NULL_KEY:
                    own = piece_nll(model, tokens, n, v, a, key)
                    parallel = (key + 12) % 24
                    k_diff["parallel key"].append(piece_nll(model, tokens, n, v, a, parallel) - own)
                    k_diff["no key"].append(
                        piece_nll(model, tokens, n, v, a, labels.NULL_KEY) - own
                    )
                mode = "major" if piece["raw"]["mode"] > 0 else "minor"
                up = piece_nll(model, tokens, n, 1.0, a, key)
                down = piece_nll(model, tokens, n, -1.0, a, key)
                v_diff[mode].append(up - down)
                if keyed:
                    up = piece_nll(model, tokens, n, 1.0, a, labels.NULL_KEY)
                    down = piece_nll(model, tokens, n, -1.0, a, labels.NULL_KEY)
                    v_free[mode].append(up - down)
                up, down = (
                    piece_nll(model, tokens, n, v, 1.0, key),
                    piece_nll(model, tokens, n, v, -1.0, key),
                )
                a_diff["dense" if a > 0 else "sparse"].append(up - down)
        cells = [f"{k} {np.mean(d):+.4f} (n={len(d)})" for k, d in {**v_diff, **a_diff}.items()]
        print(f"{folder}: nats/token, condition +1 minus -1: valence: {', '.join(cells[:2])}; "
              f"arousal: {', '.join(cells[2:])}")  # fmt: skip
        if keyed:
            cells = [f"{k} {np.mean(d):+.4f} (n={len(d)})" for k, d in k_diff.items()]
            print(f"{folder}: nats/token, other minus own key: {', '.join(cells)}")
            cells = [f"{k} {np.mean(d):+.4f} (n={len(d)})" for k, d in v_free.items()]
            print(f"{folder}: nats/token, valence +1 minus -1 with no key: {', '.join(cells)}")


if __name__ == "__main__":
    main()
