"""A compressed token subset of a built corpus: one `.npz` a GPU run carries along.

    emsync train --export-subset CORPUS SUBSET.npz --tokens 20000000
    emsync train --corpus SUBSET.npz --out RUN ...       # trains as on the corpus folder

A machine without network access gets the data as one file under the size it can carry
(~60 MB: uint16 tokens compress about 2x, so 20 M tokens are ~20 MB). Whole pieces are taken
in a seeded random order until `tokens` are in, 5 % of them from the validation split, so the
validation loss stays comparable. Everything training reads from a piece comes along:
tokens, split, instrument groups, valence/arousal, the key, the per-window labels and keys
where the corpus has them (`window_tokens`, `window_labels`, `window_keys`) and the source
(for mixing weights).

`SubsetCorpus` reads it with the API `train.WindowSampler` uses from `corpus.Corpus`
(`pieces`, `split`, `tokens`), from memory: 20 M tokens are 40 MB.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from . import events, labels

VAL_SHARE = 0.05
FORMAT = "emsync-token-subset/1"


def open_corpus(path: Path | str):  # noqa: ANN201 (a Corpus or a SubsetCorpus)
    """The corpus training reads: a subset `.npz` file or a built corpus folder."""
    path = Path(path)
    if path.is_file() and path.suffix == ".npz":
        return SubsetCorpus(path)
    from .corpus import Corpus

    return Corpus(path)


def export_subset(corpus_dir: Path | str, out: Path | str, tokens: int, seed: int = 0) -> dict:
    """Write about `tokens` tokens of whole pieces of the corpus to `out` (.npz); its info."""
    corpus = open_corpus(corpus_dir)
    rng = np.random.default_rng(seed)
    chosen: list[dict] = []
    for split, budget in (("train", tokens * (1 - VAL_SHARE)), ("val", tokens * VAL_SHARE)):
        pieces = corpus.split(split)
        taken = 0
        for i in rng.permutation(len(pieces)):
            piece = pieces[int(i)]
            if taken and taken + piece["n_tokens"] > budget:
                continue  # a smaller piece may still fit
            chosen.append(piece)
            taken += piece["n_tokens"]
            if taken >= budget:
                break
    lengths = np.array([p["n_tokens"] for p in chosen], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    data = np.concatenate([np.asarray(corpus.tokens(p), dtype=np.uint16) for p in chosen])
    group_bits = [sum(1 << events.GROUPS.index(g) for g in p["groups"]) for p in chosen]
    w_piece, w_token, w_labels, w_keys = [], [], [], []
    for index, piece in enumerate(chosen):
        starts = piece.get("window_tokens")
        if starts is None or len(starts) == 0:
            continue
        w_piece.extend([index] * len(starts))
        w_token.extend(int(t) for t in starts)
        w_labels.extend(tuple(float(x) for x in v) for v in piece["window_labels"])
        w_keys.extend(piece.get("window_keys") or [labels.NULL_KEY] * len(starts))
    info = {
        "format": FORMAT,
        "source": str(corpus_dir),
        "seed": seed,
        "pieces": len(chosen),
        "tokens": int(data.size),
        "val_tokens": int(sum(p["n_tokens"] for p in chosen if p["split"] == "val")),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez_compressed(
        tmp,
        info=np.array(json.dumps(info)),
        tokens=data,
        offsets=offsets,
        lengths=lengths,
        is_val=np.array([p["split"] == "val" for p in chosen]),
        groups=np.array(group_bits, dtype=np.int64),
        valence=np.array([p["valence"] for p in chosen], dtype=np.float64),
        arousal=np.array([p["arousal"] for p in chosen], dtype=np.float64),
        key=np.array([p.get("key", labels.NULL_KEY) for p in chosen], dtype=np.int64),
        source=np.array([str(p.get("source", p.get("kind", ""))) for p in chosen], dtype=str),
        window_piece=np.array(w_piece, dtype=np.int64),
        window_token=np.array(w_token, dtype=np.int64),
        window_labels=np.array(w_labels, dtype=np.float64).reshape(-1, 2),
        window_keys=np.array(w_keys, dtype=np.int64),
    )
    os.replace(tmp, out)
    info["bytes"] = out.stat().st_size
    return info


class SubsetCorpus:
    """A subset written by `export_subset`, read into memory."""

    def __init__(self, path: Path | str) -> None:
        self.root = Path(path)
        with np.load(self.root, allow_pickle=False) as z:
            self.info = json.loads(str(z["info"]))
            if self.info.get("format") != FORMAT:
                raise ValueError(f"{path} is not an EMSYNC token subset")
            self._tokens = z["tokens"]
            arrays = {k: z[k] for k in z.files if k not in ("info", "tokens")}
        self.pieces: list[dict] = []
        for i in range(len(arrays["lengths"])):
            bits = int(arrays["groups"][i])
            self.pieces.append(
                {
                    "offset": int(arrays["offsets"][i]),
                    "n_tokens": int(arrays["lengths"][i]),
                    "split": "val" if arrays["is_val"][i] else "train",
                    "groups": [g for k, g in enumerate(events.GROUPS) if bits >> k & 1],
                    "valence": float(arrays["valence"][i]),
                    "arousal": float(arrays["arousal"][i]),
                    "key": int(arrays["key"][i]) if "key" in arrays else labels.NULL_KEY,
                    "source": str(arrays["source"][i]),
                }
            )
        for i in np.unique(arrays["window_piece"]):
            mine = arrays["window_piece"] == i
            self.pieces[int(i)]["window_tokens"] = arrays["window_token"][mine]
            self.pieces[int(i)]["window_labels"] = [tuple(v) for v in arrays["window_labels"][mine]]
            if "window_keys" in arrays:
                self.pieces[int(i)]["window_keys"] = [int(k) for k in arrays["window_keys"][mine]]

    def split(self, name: str) -> list[dict]:
        return [p for p in self.pieces if p["split"] == name]

    def tokens(self, piece: dict) -> np.ndarray:
        return self._tokens[piece["offset"] : piece["offset"] + piece["n_tokens"]]

    def __iter__(self) -> Iterator[dict]:
        return iter(self.pieces)
