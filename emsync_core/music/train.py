"""Training the EMSYNC generator on a built corpus (`corpus.py`), on CPU, one GPU or several.

    emsync train --corpus DIR --out RUN_DIR [--steps N] [--resume] [--hours H]  # CPU, 1 GPU
    emsync train --export-subset DIR SUBSET.npz --tokens N   # a token subset to carry along
    torchrun --standalone --nproc_per_node=4 -m emsync_core.music.train \\
        --corpus DIR --out RUN_DIR --steps N                                 # several GPUs

Under `torchrun` (WORLD_SIZE > 1) every process trains a DistributedDataParallel replica on
its own GPU (NCCL; gloo on CPU) with its own data stream (seed + rank); rank 0 evaluates,
writes checkpoints, the log and the plot. The effective batch is
`batch_size x grad_accum x world_size` windows.

Data. A training sample is a window of `seq_len` tokens from a piece chosen with probability
proportional to its length (every token equally likely), starting at the piece start with
probability 0.05 (then `<START>` leads), else at a `<BAR>` with probability 0.5, else anywhere
(paper: `start_prob`, `bar_start_prob`); the instrument-count token follows. The window is
augmented on the fly (transpose up to +-3 semitones, tempo x0.9-1.1) and its boundary offsets
are computed after augmentation, from a chunk three windows long so offsets near the window
end still see the boundary ahead (a boundary past the chunk end is not seen: rare, and the
offset then reads "none within 8 s").

Loss: cross-entropy, `<CHORD>` targets weighted `chord_weight` (paper: 10), normalised by the
total weight; control tokens (`<START>`, instrument count) are not targets. Condition dropout
(paper: 20%): valence and arousal are each replaced by their null vector, and the boundary
signal for the whole window by its null vector, independently per sample. Validation reports
the same weighted loss and the plain per-token cross-entropy (`val_nll`, comparable with the
unigram baseline printed at the start), on fixed windows without augmentation or dropout.

Section windows (`section_prob`, off by default). Scoring sets the key and mood in the
first seconds after the start and after each scene change, where the decoder re-encodes the
context (the old scene's music) under the new scene's labels. A share of the windows is drawn
to copy that: a start from `section_starts` (the piece's, or where a generated piece's plan
changes key or mood) up to half a window in, the old section as context only (loss weight 0),
labels and key of the new one, and its first `start_span_s` seconds weighted `start_weight`
(which also weighs the opening of a window at the piece start).

Key frame (`ModelConfig.key_frame`, `key_frame.py`). After augmentation, a window with a
known key is moved so its tonic is C, and its key condition keeps only the mode.

Labels. The window's valence and arousal are the piece's, unless the corpus labels windows
of the piece (`piece["window_tokens"]`: token index where each labelled stretch starts,
ascending; `piece["window_labels"]`: (valence, arousal) of each, as `corpus.Corpus` reads
them): then the mean over the window's tokens of the labels they fall in (NaN ones fall back
to the piece's). Corpora without them (built before per-window labels) train as before.

Notes. A model with `note_off_at_cap` trains on windows whose notes end after 8 s
(`events.cap_notes`), as the MIDI ends them and as decoding then writes them.

Checkpoints (`RUN_DIR/checkpoint/`): model and optimizer tensors as safetensors, step, train
config, model config and every RNG state as JSON; written to a temporary folder and renamed,
so an interrupted save leaves the previous checkpoint. `--resume` continues bit-for-bit on
one process (the same losses and weights as a run that never stopped). `RUN_DIR/
model.safetensors` + `model.json` hold the weights with the best validation loss so far,
ready for `generate.py`.

Long runs. `--hours H` is a wall-clock budget: the run checkpoints and stops cleanly at the
first step past it, and so it does on SIGTERM (a scheduler's stop); `--resume` goes on from
there, as often as needed. Without a terminal (a job's log file) progress comes as one line
a minute: step, loss, tokens/s, time spent and time left. A GPU run (`scripts/train_gpu.sh`)
can read its data from a token subset written by `--export-subset` (one compressed `.npz`,
`subset.SubsetCorpus`) instead of a corpus folder, and its checkpoint continues on CPU.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..errors import EmsyncError
from . import events, restrikes
from .chords import boundary_offsets
from .corpus import mix_weights, random_augment
from .key_frame import frame_shift, framed_key
from .labels import NULL_KEY, major_minus_minor, transpose_key
from .model import (
    EmsyncTransformer,
    ModelConfig,
    load_safetensors,
    rotary_from_learned,
    save_safetensors,
    stretch_positions,
)
from .subset import export_subset, open_corpus


@dataclass
class TrainConfig:
    steps: int = 20000
    batch_size: int = 8
    seq_len: int = 512  # tokens per window, prefix included (+2 condition positions)
    grad_accum: int = 1
    lr: float = 3e-4
    min_lr: float = 3e-5
    warmup: int = 500
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    chord_weight: float = 10.0  # paper: chord_loss_weight
    cond_drop: float = 0.2  # paper: remove_chord_prob / remove_arousal_prob
    # The key condition is dropped this often: with the key always given, the valence label
    # says nothing the key does not, and the model learns to ignore it (docs/training.md).
    key_drop: float = 0.2
    # A window spanning sections of different moods takes the mood of the one holding most of
    # its tokens instead of their mean: when scoring, the model is given one scene's mood.
    majority_labels: bool = False
    start_prob: float = 0.05
    bar_start_prob: float = 0.5
    # When scoring, the music's key is set in the first seconds after the start and after each
    # scene change, where the context is silent or in the old scene's key: this share of the
    # windows is drawn to hold such a start (`section_starts`), with the old section as
    # context only (no loss) and the new section's labels and key, as the decoder re-encodes
    # at a scene change; and targets in the first `start_span_s` after a piece's or section's
    # start weigh `start_weight` (docs/training.md, session 8).
    section_prob: float = 0.0
    start_weight: float = 1.0
    start_span_s: float = 3.0
    augment: bool = True
    eval_every: int = 250
    eval_batches: int = 16
    ckpt_every: int = 250
    seed: int = 0
    bf16_cpu: bool = False  # bf16 autocast on CPU (measured ~1.6x faster training)
    init: str | None = None  # weights folder a new run starts from (fine-tuning, continuing)
    # Grooves are loops: MMA songs are sampled at most this share of the windows, so the real
    # music (music21, the user's MIDI) keeps its melodies in the mix (docs/corpus.md).
    max_mma_share: float = 0.7
    # Our arranger's scores (arranger_corpus.py) hold harmony between chord changes and never
    # loop, but they are one composer's habits: at most this share, so real music stays in.
    max_arranger_share: float = 0.4
    # Windows in which an instrument re-strikes the same notes as the harness calls stuck are
    # not trained on (music/restrikes.py): the MMA grooves' loops taught the model to hammer.
    skip_stuck: bool = True
    # ... and so are windows whose top voice is frozen (the harness's `top_frozen_share`).
    skip_frozen_top: bool = True
    # ... and (off by default) training windows whose notes are heard in the other mode than
    # their key says (`heard_in_other_mode`): a quarter of the arranger's windows and a sixth
    # of music21's, which taught the model to drift there (docs/training.md, session 14).
    skip_off_mode: bool = False
    # ... and with a margin, also those that lean toward their own mode by less than this
    # (the harness's major-minus-minor): windows whose notes barely say their mode.
    off_mode_margin: float = 0.0
    # The condition embeddings (key, valence, arousal) learn at this multiple of `lr`, without
    # weight decay: their gradient is small, because the context soon tells the key too.
    cond_lr_mult: float = 1.0
    model: ModelConfig = field(default_factory=ModelConfig)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        data = dict(data)
        # Runs saved before the stuck-window filter resume on the windows they trained on.
        data.setdefault("skip_stuck", False)
        data.setdefault("skip_frozen_top", False)
        # ... and runs saved before the key had its own dropout dropped it with the others.
        data.setdefault("key_drop", data.get("cond_drop", cls.cond_drop))
        model = ModelConfig.from_dict(data.pop("model", {}))
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known, model=model)


# ---------------------------------------------------------------------------------------
# Data


class WindowSampler:
    """Random training windows (tokens, offsets, valence, arousal) from one corpus split."""

    def __init__(
        self,
        corpus,  # noqa: ANN001 (corpus.Corpus, or subset.SubsetCorpus: the same reading API)
        split: str,
        cfg: TrainConfig,
        rng: np.random.Generator,
    ) -> None:
        self.corpus = corpus
        self.pieces = corpus.split(split)
        if not self.pieces:
            raise EmsyncError(f"the corpus in {corpus.root} has no '{split}' pieces")
        self.weights = mix_weights(
            self.pieces, {"mma": cfg.max_mma_share, "arranger": cfg.max_arranger_share}
        )
        self.cfg = cfg
        self.rng = rng
        self._stuck: dict[int, np.ndarray] = {}  # piece index -> stuck flag per window
        self._sections: dict[int, np.ndarray] = {}  # piece index -> `section_starts`

    # A window touching a stuck stretch is drawn again, at most this often (then kept).
    MAX_REDRAWS = 20

    def _draw(self) -> tuple[int, np.ndarray, int, list[int]]:
        """(piece index, its tokens, window start, prefix) of one random window."""
        cfg, rng = self.cfg, self.rng
        index = int(rng.choice(len(self.pieces), p=self.weights))
        tokens = self.corpus.tokens(self.pieces[index])
        at_start = rng.random() < cfg.start_prob or tokens.size <= cfg.seq_len
        start = 0
        if not at_start:
            start = int(rng.integers(0, tokens.size - cfg.seq_len + 2))
            if rng.random() < cfg.bar_start_prob:
                bars = np.flatnonzero(tokens[: max(start, 1)] == events.BAR)
                start = int(bars[-1]) if bars.size else 0
            at_start = start == 0
        prefix = events.sequence_prefix(len(self.pieces[index]["groups"]), at_start)
        return index, tokens, start, prefix

    def touches_stuck(self, index: int, lo: int, hi: int) -> bool:
        """Whether tokens [lo, hi) of piece `index` reach into a stuck labelled window."""
        piece = self.pieces[index]
        if index not in self._stuck:
            starts = piece.get("window_tokens")
            starts = [] if starts is None else starts
            self._stuck[index] = restrikes.stuck_windows(
                self.corpus.tokens(piece), starts, frozen_top=self.cfg.skip_frozen_top
            )
        flags = self._stuck[index]
        overlap = _overlaps(piece, lo, hi)
        if overlap is None:
            return bool(flags.any())
        return bool(flags[overlap > 0].any())

    def _draw_section(self) -> tuple[int, np.ndarray, int, list[int], int]:
        """(piece index, its tokens, window start, prefix, section start) of a window that
        holds a piece's or section's start, up to half a window after the window's start."""
        cfg, rng = self.cfg, self.rng
        index = int(rng.choice(len(self.pieces), p=self.weights))
        if index not in self._sections:
            self._sections[index] = section_starts(self.pieces[index])
        tokens = self.corpus.tokens(self.pieces[index])
        focus = int(rng.choice(self._sections[index]))
        start = max(0, focus - int(rng.integers(0, cfg.seq_len // 2)))
        prefix = events.sequence_prefix(len(self.pieces[index]["groups"]), start == 0)
        return index, tokens, start, prefix, focus

    def window(self, train: bool) -> tuple[np.ndarray, np.ndarray, float, float, int, np.ndarray]:
        """(tokens, offsets, valence, arousal, key index, loss weight per token) of one
        random window."""
        cfg, rng = self.cfg, self.rng
        # Drawn only with section windows on, so older runs resume bit for bit.
        sectioned = cfg.section_prob > 0 and train and rng.random() < cfg.section_prob
        off_mode = cfg.skip_off_mode and train  # validation keeps its windows
        for _ in range(self.MAX_REDRAWS if cfg.skip_stuck or off_mode else 1):
            if sectioned:
                index, tokens, start, prefix, focus = self._draw_section()
            else:
                index, tokens, start, prefix = self._draw()
                focus = start
            end = start + cfg.seq_len - len(prefix)
            if cfg.skip_stuck and self.touches_stuck(index, start, end):
                continue
            piece = self.pieces[index]
            if off_mode and heard_in_other_mode(
                tokens[focus:end], window_key(piece, focus, end), cfg.off_mode_margin
            ):
                continue
            break
        piece = self.pieces[index]
        # Labelled as the section the window's loss is on (all of it, unless sectioned).
        valence, arousal = window_labels(piece, focus, end, cfg.majority_labels)
        key = window_key(piece, focus, end)
        chunk = np.asarray(tokens[start : start + 3 * cfg.seq_len], dtype=np.int64)
        # The opening (a piece's or section's start) is followed in time: augmenting and
        # capping notes change the token count, not where the music is.
        opening = None
        if sectioned or start == 0:
            opening = int(events.token_times(chunk[: focus - start])[-1]) if focus > start else 0
        if train and cfg.augment:
            chunk, shift, stretch = random_augment(chunk, rng)
            chunk, key = chunk.astype(np.int64), transpose_key(key, shift)
            opening = None if opening is None else int(round(opening * stretch))
        if cfg.model.key_frame and key != NULL_KEY:  # the tonic moved to C (key_frame.py)
            chunk = events.augment(chunk, frame_shift(key % 12)).astype(np.int64)
            key = framed_key(key)
        if cfg.model.note_off_at_cap:
            chunk = events.cap_notes(chunk).astype(np.int64)
        # Prefix tokens take no time, so computing offsets over prefix + chunk gives them the
        # offset of the window's time 0.
        full = np.concatenate([np.asarray(prefix, dtype=np.int64), chunk])[: 3 * cfg.seq_len]
        offsets = boundary_offsets(full)
        window, offs = full[: cfg.seq_len], offsets[: cfg.seq_len]
        return window, offs, valence, arousal, key, opening_weights(window, opening, cfg)

    def batch(self, batch_size: int, train: bool) -> dict[str, torch.Tensor]:
        cfg, rng = self.cfg, self.rng
        L = cfg.seq_len
        tokens = np.full((batch_size, L), events.PAD, dtype=np.int64)
        offsets = np.full((batch_size, L), np.inf, dtype=np.float32)
        va = np.zeros((batch_size, 2), dtype=np.float32)
        keys = np.full(batch_size, NULL_KEY, dtype=np.int64)
        weights = np.ones((batch_size, L), dtype=np.float32)
        for b in range(batch_size):
            w, o, v, a, k, lw = self.window(train)
            tokens[b, : len(w)] = w
            offsets[b, : len(o)] = o
            va[b] = v, a
            keys[b] = k
            weights[b, : len(lw)] = lw
        if train and cfg.cond_drop > 0:
            va[rng.random((batch_size, 2)) < cfg.cond_drop] = np.nan
            offsets[rng.random(batch_size) < cfg.cond_drop] = np.nan
            if cfg.model.key_condition:  # drawn only then, so older runs resume bit for bit
                keys[rng.random(batch_size) < cfg.key_drop] = NULL_KEY
        return {
            "tokens": torch.from_numpy(tokens),
            "offsets": torch.from_numpy(offsets),
            "valence": torch.from_numpy(va[:, 0].copy()),
            "arousal": torch.from_numpy(va[:, 1].copy()),
            "key": torch.from_numpy(keys),
            "weights": torch.from_numpy(weights),
        }


def section_starts(piece: dict) -> np.ndarray:
    """Token indices where a piece's music starts: 0, and for pieces labelled from their
    construction (MMA songs, our arranger's scores) each labelled window whose key or mood
    differs from the one before (a scene change, a new song section). Detected labels
    (music21, the user's MIDI) change with every few bars' notes, not with the music's plan."""
    starts = piece.get("window_tokens")
    if piece.get("source") not in EXACT_SOURCES or starts is None or len(starts) < 2:
        return np.zeros(1, dtype=np.int64)
    moods = np.asarray(piece["window_labels"], dtype=float).reshape(-1, 2)
    keys = np.asarray(piece.get("window_keys") or [NULL_KEY] * len(starts))
    changed = (keys[1:] != keys[:-1]) | (np.abs(moods[1:] - moods[:-1]).sum(axis=1) > 0.05)
    return np.unique(np.r_[0, np.asarray(starts, dtype=np.int64)[1:][changed]])


def opening_weights(window: np.ndarray, opening: int | None, cfg: TrainConfig) -> np.ndarray:
    """Loss weight per token of a window whose music starts at time step `opening` (a piece's
    or section's start; None: not in the window): 0 before it (the old section, context
    only), `cfg.start_weight` on its first `cfg.start_span_s` seconds, 1 elsewhere."""
    weights = np.ones(len(window), dtype=np.float32)
    if opening is None:
        return weights
    times = events.token_times(window)
    weights[times < opening] = 0.0
    first = (times >= opening) & (times < opening + cfg.start_span_s / events.STEP_S)
    weights[first] = cfg.start_weight
    return weights


def _overlaps(piece: dict, lo: int, hi: int) -> np.ndarray | None:
    """Tokens of [lo, hi) in each labelled window of the piece (None: no windows, or none
    overlapping). Window i holds tokens [starts[i], starts[i + 1]); the first also those
    before it."""
    starts = piece.get("window_tokens")
    if starts is None or len(starts) == 0:
        return None
    starts = np.asarray(starts, dtype=np.int64)
    first = np.concatenate([[0], starts[1:]])
    last = np.concatenate([starts[1:], [np.iinfo(np.int64).max]])
    overlap = np.clip(np.minimum(last, max(hi, lo + 1)) - np.maximum(first, lo), 0, None)
    return overlap.astype(float) if overlap.sum() > 0 else None


def window_labels(piece: dict, lo: int, hi: int, majority: bool = False) -> tuple[float, float]:
    """(valence, arousal) of the piece's tokens [lo, hi): the token-weighted mean of its
    labelled windows (`window_tokens`, `window_labels`), or with `majority` the labels of the
    one holding most of the tokens; else the piece's own labels."""
    fallback = np.array([piece["valence"], piece["arousal"]], dtype=float)
    overlap = _overlaps(piece, lo, hi)
    if overlap is None:
        return float(fallback[0]), float(fallback[1])
    values = np.asarray(piece["window_labels"], dtype=float).reshape(-1, 2)
    values = np.where(np.isnan(values), fallback, values)
    if majority:
        v, a = values[int(np.argmax(overlap))]
        return float(v), float(a)
    mean = (values * overlap[:, None]).sum(axis=0) / overlap.sum()
    return float(mean[0]), float(mean[1])


def window_key(piece: dict, lo: int, hi: int) -> int:
    """The key index of the piece's tokens [lo, hi): the key of the labelled window holding
    most of them (`window_keys`), else the piece's (`key`); NULL_KEY when unknown."""
    fallback = int(piece.get("key", NULL_KEY))
    overlap = _overlaps(piece, lo, hi)
    keys = piece.get("window_keys")
    if overlap is None or not keys:
        return fallback
    key = int(keys[int(np.argmax(overlap))])
    return fallback if key == NULL_KEY else key


def leans_major(tokens: np.ndarray) -> float:
    """The harness's mode measure on tokens (`eval.measures.major_minus_minor`): best major
    minus best minor Krumhansl correlation of the pitched notes' duration-weighted pitch
    classes; > 0 leans major, nan without pitched notes."""
    hist = np.zeros(12)
    for group, pitch, start, end in events.decode_events(tokens).notes:
        if group != events.DRUMS:
            hist[pitch % 12] += end - start
    return major_minus_minor(hist)


def heard_in_other_mode(tokens: np.ndarray, key: int, margin: float = 0.0) -> bool:
    """Whether `tokens` are heard in the other mode than `key` says (`leans_major` has the
    other sign), or lean toward the key's own mode by less than `margin`. False for the null
    key and for tokens without pitched notes."""
    if key == NULL_KEY:
        return False
    lean = leans_major(tokens)  # nan compares False either way
    return bool((-lean if key // 12 else lean) < margin)


# Sources whose labels come from how the music was made (`sidecar.py`), not from its notes.
EXACT_SOURCES = ("mma", "arranger")

_NOT_TARGETS = (events.PAD, events.START, events.LESS_INSTRUMENTS, events.MORE_INSTRUMENTS)


def target_weights(targets: torch.Tensor, chord_weight: float) -> torch.Tensor:
    """Per-target loss weight: `chord_weight` on `<CHORD>`, 0 on padding and control tokens."""
    w = torch.ones_like(targets, dtype=torch.float32)
    w = torch.where(targets == events.CHORD, torch.full_like(w, chord_weight), w)
    for token in _NOT_TARGETS:
        w = torch.where(targets == token, torch.zeros_like(w), w)
    return w


def compute_loss(
    model: torch.nn.Module, batch: dict[str, torch.Tensor], chord_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weighted loss, plain mean cross-entropy) of a batch; the model sees tokens[:, :-1]."""
    tokens = batch["tokens"]
    logits = model(
        tokens[:, :-1],
        batch["offsets"][:, :-1],
        batch["valence"],
        batch["arousal"],
        key=batch.get("key"),
    )
    ce = F.cross_entropy(logits.float().transpose(1, 2), tokens, reduction="none")
    w = target_weights(tokens, chord_weight)
    if "weights" in batch:  # context-only tokens and section openings (`opening_weights`)
        w = w * batch["weights"]
    plain = (ce * (w > 0)).sum() / (w > 0).sum().clamp(min=1)
    return (ce * w).sum() / w.sum().clamp(min=1e-9), plain


def unigram_nll(corpus) -> float:  # noqa: ANN001 (a Corpus or a SubsetCorpus)
    """Validation cross-entropy (nats/token) of token frequencies counted on the train split."""
    counts = np.ones(events.VOCAB_SIZE)  # add-one smoothing
    for p in corpus.split("train"):
        counts += np.bincount(corpus.tokens(p), minlength=events.VOCAB_SIZE)
    logp = np.log(counts / counts.sum())
    total, n = 0.0, 0
    for p in corpus.split("val"):
        tokens = np.asarray(corpus.tokens(p), dtype=np.int64)
        total -= logp[tokens].sum()
        n += tokens.size
    return total / max(n, 1)


def bigram_nll(corpus, weight: float = 0.8) -> float:  # noqa: ANN001
    """Validation cross-entropy (nats/token) of a bigram model interpolated with the unigram.

    p(b | a) = weight * count(a, b) / count(a) + (1 - weight) * p(b) (Jelinek-Mercer), so
    unseen pairs fall back to token frequencies. A model that does not beat this has learned
    little beyond local token habits.
    """
    v = events.VOCAB_SIZE
    pairs = np.zeros((v, v))
    unigram = np.ones(v)  # add-one smoothing
    for p in corpus.split("train"):
        t = np.asarray(corpus.tokens(p), dtype=np.int64)
        unigram += np.bincount(t, minlength=v)
        np.add.at(pairs, (t[:-1], t[1:]), 1.0)
    p_unigram = unigram / unigram.sum()
    rows = pairs.sum(axis=1, keepdims=True)
    p_pair = np.divide(pairs, rows, out=np.zeros_like(pairs), where=rows > 0)
    mixed = np.where(rows > 0, weight * p_pair + (1 - weight) * p_unigram, p_unigram)
    logp, log_unigram = np.log(mixed), np.log(p_unigram)
    total, n = 0.0, 0
    for p in corpus.split("val"):
        t = np.asarray(corpus.tokens(p), dtype=np.int64)
        if t.size:
            total -= log_unigram[t[0]] + logp[t[:-1], t[1:]].sum()
            n += t.size
    return total / max(n, 1)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warmup to `lr`, then cosine decay to `min_lr` at `steps`."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * progress))


CONDITION_PARAMS = ("key_emb.", "key_profile", "valence_emb.", "arousal_emb.")


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW; each group's `lr_mult` scales the schedule's learning rate (`lr_at`)."""
    named = list(model.named_parameters())
    conditions = []
    if cfg.cond_lr_mult != 1.0:  # one group fewer otherwise, so older runs resume as saved
        conditions = [p for n, p in named if n.startswith(CONDITION_PARAMS)]
    taken = {id(p) for p in conditions}
    rest = [(n, p) for n, p in named if id(p) not in taken]
    # Weight decay on matrices only (nanoGPT): not on biases, LayerNorms or null vectors.
    groups = [
        {"params": [p for _, p in rest if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for _, p in rest if p.dim() < 2], "weight_decay": 0.0},
    ]
    if conditions:
        groups.append({"params": conditions, "weight_decay": 0.0, "lr_mult": cfg.cond_lr_mult})
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))


# ---------------------------------------------------------------------------------------
# Checkpoints: safetensors for tensors, JSON for everything else


def save_checkpoint(
    folder: Path,
    model: EmsyncTransformer,
    optimizer: torch.optim.Optimizer,
    step: int,
    cfg: TrainConfig,
    rngs: dict[str, np.random.Generator],
    history: list[dict],
) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_safetensors(model.state_dict(), tmp / "model.safetensors")
    opt = optimizer.state_dict()
    tensors = {"torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda_rng.{i}"] = state
    for index, state in opt["state"].items():
        for name, value in state.items():
            tensors[f"opt.{index}.{name}"] = torch.as_tensor(value)
    save_safetensors(tensors, tmp / "optimizer.safetensors")
    state = {
        "step": step,
        "train_config": asdict(cfg),
        "param_groups": opt["param_groups"],
        "numpy_rng": {name: g.bit_generator.state for name, g in rngs.items()},
        "history": history,
    }
    (tmp / "state.json").write_text(json.dumps(state))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(
    folder: Path,
    model: EmsyncTransformer,
    optimizer: torch.optim.Optimizer,
    rngs: dict[str, np.random.Generator],
) -> tuple[int, list[dict]]:
    """Restore model, optimizer and RNGs in place; (step, history)."""
    state = json.loads((folder / "state.json").read_text())
    weights, _ = load_safetensors(folder / "model.safetensors")
    model.load_state_dict(weights)
    tensors, _ = load_safetensors(folder / "optimizer.safetensors")
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith("opt."):
            _, index, key = name.split(".", 2)
            opt_state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": state["param_groups"]})
    torch.set_rng_state(tensors["torch_rng"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("cuda_rng.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])
    for name, g in rngs.items():
        g.bit_generator.state = state["numpy_rng"][name]
    return int(state["step"]), list(state["history"])


# ---------------------------------------------------------------------------------------
# The loop


def plot_history(history: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return  # the plot is a convenience; the log has the numbers
    train = [(h["step"], h["loss"]) for h in history if "loss" in h]
    val = [(h["step"], h["val_loss"], h["val_nll"]) for h in history if "val_loss" in h]
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot(*zip(*train, strict=True), label="train (weighted)", alpha=0.6)
    if val:
        s, vl, vn = zip(*val, strict=True)
        ax.plot(s, vl, "o-", label="val (weighted)")
        ax.plot(s, vn, "s-", label="val cross-entropy")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    corpus,  # noqa: ANN001 (a Corpus or a SubsetCorpus)
    cfg: TrainConfig,
    device: torch.device,
    amp,  # noqa: ANN001
) -> tuple[float, float]:
    """(weighted loss, plain cross-entropy) on fixed validation windows (drawn and weighted as
    without section windows, so runs with and without them compare)."""
    plain = replace(cfg, section_prob=0.0, start_weight=1.0)
    sampler = WindowSampler(corpus, "val", plain, np.random.default_rng(12345))
    model.eval()
    losses, nlls = [], []
    for _ in range(cfg.eval_batches):
        batch = {k: v.to(device) for k, v in sampler.batch(cfg.batch_size, False).items()}
        with amp():
            loss, nll = compute_loss(model, batch, cfg.chord_weight)
        losses.append(loss.item())
        nlls.append(nll.item())
    model.train()
    return float(np.mean(losses)), float(np.mean(nlls))


class StopRequest:
    """Set by SIGTERM (and read once per step): checkpoint, then stop."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous = None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum: int, frame) -> None:  # noqa: ANN001
        self.signal = signum

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=round(max(seconds, 0.0))))


def train(
    corpus_dir: Path | str,
    out: Path | str,
    cfg: TrainConfig,
    resume: bool = False,
    progress: bool | None = None,
    hours: float | None = None,
    log_every_s: float = 60.0,
) -> dict:
    """Train (or resume) into `out`; returns a summary (steps, losses, timings, and
    `stopped`: "steps", "budget" (`hours` of wall clock spent) or "SIGTERM").

    `corpus_dir` is a corpus folder or a subset `.npz` (`--export-subset`)."""
    with StopRequest() as stop:
        return _train(corpus_dir, out, cfg, resume, progress, hours, log_every_s, stop)


def _train(
    corpus_dir: Path | str,
    out: Path | str,
    cfg: TrainConfig,
    resume: bool,
    progress: bool | None,
    hours: float | None,
    log_every_s: float,
    stop: StopRequest,
) -> dict:
    out = Path(out)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True  # what autocast leaves in fp32
        torch.backends.cudnn.allow_tf32 = True
    main = rank == 0

    ckpt = out / "checkpoint"
    if resume and (ckpt / "state.json").exists():
        saved = json.loads((ckpt / "state.json").read_text())["train_config"]
        # The run keeps its model and data settings; only the length can be changed.
        cfg = TrainConfig.from_dict({**saved, "steps": cfg.steps})
    elif out.exists() and (ckpt / "state.json").exists():
        raise EmsyncError(f"{out} already holds a run: pass --resume, or choose another --out")

    torch.manual_seed(cfg.seed + rank)
    rngs = {
        "train": np.random.default_rng(cfg.seed + rank),
    }
    corpus = open_corpus(corpus_dir)
    sampler = WindowSampler(corpus, "train", cfg, rngs["train"])
    model = EmsyncTransformer(cfg.model).to(device)
    optimizer = make_optimizer(model, cfg)
    step, history = 0, []
    if resume and (ckpt / "state.json").exists():
        step, history = load_checkpoint(ckpt, model, optimizer, rngs)
        if world > 1:  # each rank continues its own stream from a fresh, distinct seed
            rngs["train"] = sampler.rng = np.random.default_rng([cfg.seed, rank, step])
    elif cfg.init:
        # A new run from saved weights: the optimizer starts afresh (with its warmup), which
        # is how a run continues when only the shipped weights survived.
        # A key condition added to weights trained without one starts silent (zeros, see
        # model.py); nothing else may be missing.
        loaded = EmsyncTransformer.load(cfg.init)
        source = loaded.state_dict()
        wanted = cfg.model.context_for(cfg.seq_len)
        if "pos_emb" in source and cfg.model.positions == "rotary":
            source = rotary_from_learned(source, loaded.context)
            print(f"learned positions of {cfg.init} replaced by rotary ones")
        elif "pos_emb" in source and loaded.context < wanted:
            # Learned positions past the old window are random: spread the trained ones out.
            source["pos_emb"] = stretch_positions(source["pos_emb"], loaded.context, wanted)
            print(f"positions 0-{loaded.context - 1} of {cfg.init} stretched over 0-{wanted - 1}")
        try:
            missing, unexpected = model.load_state_dict(source, strict=False)
        except RuntimeError as exc:  # shapes differ
            raise EmsyncError(f"{cfg.init} does not fit the model: {exc}") from exc
        if unexpected or [m for m in missing if not m.startswith(("key_emb.", "key_profile"))]:
            raise EmsyncError(
                f"{cfg.init} does not fit the model: missing {missing}, unexpected {unexpected}"
            )

    # Mixed precision: bf16 autocast on CUDA when supported (no loss scaling needed), fp16
    # with a GradScaler otherwise; optional bf16 autocast on CPU.
    use_fp16 = device.type == "cuda" and not torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda", enabled=use_fp16)

    def amp():  # noqa: ANN202
        if device.type == "cuda":
            dtype = torch.float16 if use_fp16 else torch.bfloat16
            return torch.autocast("cuda", dtype=dtype)
        return torch.autocast("cpu", dtype=torch.bfloat16) if cfg.bf16_cpu else nullcontext()

    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[local] if device.type == "cuda" else None
        )

    if main:
        out.mkdir(parents=True, exist_ok=True)
        model.save(out, {"train_config": asdict(cfg), "step": step})  # usable from step 0
    best = min((h["val_loss"] for h in history if "val_loss" in h), default=math.inf)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(
        total=cfg.steps, initial=step, disable=not (show and main), file=sys.stderr, desc="train"
    )
    started = time.perf_counter()
    budget_s = hours * 3600.0 if hours is not None else math.inf
    first_step, last_log = step, started
    tokens_seen = 0
    last_loss = math.nan
    stopped = "steps"
    net.train()
    while step < cfg.steps:
        lr = lr_at(step, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_mult", 1.0)
        total = 0.0
        for micro in range(cfg.grad_accum):
            batch = {k: v.to(device) for k, v in sampler.batch(cfg.batch_size, True).items()}
            sync = micro == cfg.grad_accum - 1 or world == 1
            with nullcontext() if sync else net.no_sync(), amp():
                loss, _ = compute_loss(net, batch, cfg.chord_weight)
                scaler.scale(loss / cfg.grad_accum).backward()
            total += loss.item() / cfg.grad_accum
            tokens_seen += batch["tokens"].numel()
        scaler.unscale_(optimizer)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        last_loss = total
        if main:
            history.append(
                {"step": step, "loss": round(total, 5), "lr": lr, "grad_norm": float(norm)}
            )
            bar.update(1)
            bar.set_postfix(loss=f"{total:.3f}", lr=f"{lr:.1e}")
        if main and (step % cfg.eval_every == 0 or step == cfg.steps):
            val_loss, val_nll = evaluate(model, corpus, cfg, device, amp)
            history.append({"step": step, "val_loss": val_loss, "val_nll": val_nll})
            bar.write(f"step {step}: val loss {val_loss:.4f}, val cross-entropy {val_nll:.4f}")
            if val_loss < best:
                best = val_loss
                model.save(out, {"train_config": asdict(cfg), "step": step, "val_loss": val_loss})
            plot_history(history, out / "loss.png")
        now = time.perf_counter()
        reason = "SIGTERM" if stop.signal is not None else None
        if reason is None and now - started >= budget_s:
            reason = "budget"
        if world > 1:  # every rank stops at the same step, or the next all-reduce hangs
            flag = torch.tensor([0 if reason is None else 1 + (reason == "SIGTERM")])
            flag = flag.to(device)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            reason = {0: None, 1: "budget", 2: "SIGTERM"}[int(flag.item())]
        if main and (step % cfg.ckpt_every == 0 or step == cfg.steps or reason):
            save_checkpoint(ckpt, model, optimizer, step, cfg, rngs, history)
            (out / "log.json").write_text(json.dumps(history))
        if main and not show and (now - last_log >= log_every_s or reason):
            last_log = now
            spent = now - started
            per_step = spent / max(step - first_step, 1)
            left = min((cfg.steps - step) * per_step, budget_s - spent)
            print(
                f"step {step}/{cfg.steps} ({100 * step / max(cfg.steps, 1):.1f} %): loss "
                f"{total:.4f}, lr {lr:.1e}, {tokens_seen * world / max(spent, 1e-9):.0f} "
                f"tokens/s, {_clock(spent)} spent, {_clock(left)} left",
                file=sys.stderr,
                flush=True,
            )
        if reason:
            stopped = reason
            if main:
                print(
                    f"stopped at step {step} ({'SIGTERM' if reason == 'SIGTERM' else 'budget'}): "
                    f"checkpoint in {ckpt}, continue with --resume",
                    file=sys.stderr,
                    flush=True,
                )
            break
    bar.close()
    elapsed = time.perf_counter() - started
    if world > 1:
        # Rank 0 may still be evaluating and saving while the others are done: tearing the
        # group down under it is a race (a rank aborted in gloo's teardown once in CI).
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return {
        "step": step,
        "stopped": stopped,
        "last_loss": last_loss,
        "best_val_loss": best,
        "seconds": elapsed,
        "tokens_per_s": tokens_seen * world / max(elapsed, 1e-9),
        "params": model.n_params(),
    }


# ---------------------------------------------------------------------------------------
# Command line

SUBSET_LIMIT_BYTES = 60_000_000  # what a prepared GPU run carries along (issue 15)


def configure_parser(p: argparse.ArgumentParser, out: bool = True) -> None:
    """Options of `emsync train --corpus DIR --out RUN_DIR`.

    `out=False` when the parser already has `--out` (the corpus builder's, in `emsync train`).
    """
    d = TrainConfig()
    p.add_argument(
        "--corpus",
        type=Path,
        help="a corpus built with --build-corpus, or a subset .npz written by --export-subset",
    )
    if out:
        p.add_argument("--out", type=Path, help="run folder (checkpoint, weights, log, plot)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint")
    p.add_argument(
        "--hours",
        type=float,
        help="wall-clock budget: checkpoint and stop cleanly once it is spent (SIGTERM too); "
        "--resume continues",
    )
    p.add_argument(
        "--export-subset",
        nargs=2,
        type=Path,
        metavar=("CORPUS", "OUT_NPZ"),
        help="write a compressed token subset of a built corpus (to carry to a GPU machine: "
        "--corpus OUT_NPZ trains on it) and exit",
    )
    p.add_argument(
        "--tokens",
        type=int,
        default=20_000_000,
        help="with --export-subset: tokens to take (whole pieces, 5%% of them validation)",
    )
    p.add_argument(
        "--init",
        type=Path,
        help="start a new run from these weights (a folder with model.json and "
        "model.safetensors, e.g. emsync_core/weights); the model size comes from them",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help=f"optimizer steps in all (default {d.steps}; a resumed run keeps its own)",
    )
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--seq-len", type=int, default=d.seq_len)
    p.add_argument("--grad-accum", type=int, default=d.grad_accum)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--warmup", type=int, default=d.warmup)
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--ckpt-every", type=int, default=d.ckpt_every)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--layers", type=int, default=d.model.n_layer)
    p.add_argument("--heads", type=int, default=d.model.n_head)
    p.add_argument("--d-model", type=int, default=d.model.d_model)
    p.add_argument("--dropout", type=float, default=d.model.dropout)
    p.add_argument(
        "--positions",
        choices=("learned", "rotary"),
        default=d.model.positions,
        help="learned absolute positions (the shipped model) or rotary (the context slides); "
        "rotary with --init of learned weights converts them (model.rotary_from_learned)",
    )
    p.add_argument(
        "--note-cap",
        action="store_true",
        help="end notes after 8 s in the tokens, as the MIDI does (decoding then forces it); "
        "with --init, sets it on the loaded model",
    )
    p.add_argument(
        "--key-condition",
        action="store_true",
        help="condition on the key (tonic and major/minor) as well as valence and arousal; "
        "with --init, adds it to the loaded model",
    )
    p.add_argument(
        "--key-frame",
        action="store_true",
        help="read and write pitch relative to the key's tonic (implies --key-condition; the "
        "key condition then tells only the mode; key_frame.py); with --init, sets it on the "
        "loaded model",
    )
    p.add_argument(
        "--block-size", type=int, default=d.model.block_size, help="positions the model has"
    )
    p.add_argument(
        "--max-mma-share",
        type=float,
        default=d.max_mma_share,
        help="at most this share of the windows from MMA songs (grooves are loops)",
    )
    p.add_argument(
        "--max-arranger-share",
        type=float,
        default=d.max_arranger_share,
        help="at most this share of the windows from our arranger's scores (--build-arranger)",
    )
    p.add_argument(
        "--key-drop",
        type=float,
        default=d.key_drop,
        help="share of training windows whose key condition is withheld (valence must then "
        "carry the mode)",
    )
    p.add_argument(
        "--majority-labels",
        action="store_true",
        help="label a window by the labelled section holding most of its tokens, not the mean",
    )
    p.add_argument(
        "--keep-stuck",
        action="store_true",
        help="train on windows where an instrument re-strikes the same notes as the harness "
        "calls stuck too (left out by default); keeps frozen-top windows as well",
    )
    p.add_argument(
        "--skip-off-mode",
        action="store_true",
        help="leave out training windows whose notes are heard in the other mode (major or "
        "minor) than their key label says",
    )
    p.add_argument(
        "--off-mode-margin",
        type=float,
        default=0.0,
        help="with --skip-off-mode: also leave out windows that lean toward their own mode by "
        "less than this major-minus-minor (default 0)",
    )
    p.add_argument(
        "--keep-frozen-top",
        action="store_true",
        help="train on windows whose top voice the harness calls frozen too (left out by default)",
    )
    p.add_argument(
        "--cond-lr-mult",
        type=float,
        default=d.cond_lr_mult,
        help="learning-rate multiple (no weight decay) for the key/valence/arousal embeddings",
    )
    p.add_argument(
        "--start-prob",
        type=float,
        default=d.start_prob,
        help="share of windows that start at a piece's start (the opening, under its key)",
    )
    p.add_argument(
        "--section-prob",
        type=float,
        default=d.section_prob,
        help="share of windows drawn to hold a piece's or scene's start, the old scene as "
        "context only and the new one's labels (how the decoder meets a cut)",
    )
    p.add_argument(
        "--start-weight",
        type=float,
        default=d.start_weight,
        help="loss weight of the targets in the first --start-span seconds after a piece's or "
        "section's start (where the key and mood are set)",
    )
    p.add_argument("--start-span", type=float, default=d.start_span_s, help="seconds (see above)")
    p.add_argument("--bf16-cpu", action="store_true", help="bf16 autocast when on CPU")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "export_subset", None):
        source, target = args.export_subset
        if not (Path(source) / "manifest.json").exists():
            raise EmsyncError(f"{source} is not a built corpus (no manifest.json)")
        info = export_subset(source, target, args.tokens, seed=args.seed)
        print(
            f"subset: {info['pieces']} pieces, {info['tokens']} tokens "
            f"({info['val_tokens']} validation), {info['bytes'] / 1e6:.2f} MB -> {target}"
        )
        if info["bytes"] > SUBSET_LIMIT_BYTES:
            print(
                f"note: over {SUBSET_LIMIT_BYTES / 1e6:.0f} MB, more than a GPU run can carry; "
                "ask for fewer --tokens",
                file=sys.stderr,
            )
        return 0
    if args.corpus is None or args.out is None:
        raise EmsyncError("training needs --corpus DIR (a built corpus) and --out RUN_DIR")
    corpus_path = Path(args.corpus)
    if not (corpus_path / "manifest.json").exists() and not (
        corpus_path.is_file() and corpus_path.suffix == ".npz"
    ):
        raise EmsyncError(f"{args.corpus} is not a built corpus (no manifest.json)")
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = args.steps
    state = Path(args.out) / "checkpoint" / "state.json"
    if steps is None and args.resume and state.exists():
        steps = json.loads(state.read_text())["train_config"]["steps"]
    cfg = TrainConfig(
        steps=steps if steps is not None else TrainConfig().steps,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        grad_accum=args.grad_accum,
        lr=args.lr,
        min_lr=args.lr / 10,
        warmup=args.warmup,
        eval_every=args.eval_every,
        ckpt_every=args.ckpt_every,
        seed=args.seed,
        bf16_cpu=args.bf16_cpu,
        max_mma_share=args.max_mma_share,
        max_arranger_share=args.max_arranger_share,
        key_drop=args.key_drop,
        majority_labels=args.majority_labels,
        skip_stuck=not args.keep_stuck,
        skip_frozen_top=not args.keep_frozen_top,
        skip_off_mode=args.skip_off_mode,
        off_mode_margin=args.off_mode_margin,
        cond_lr_mult=args.cond_lr_mult,
        start_prob=args.start_prob,
        section_prob=args.section_prob,
        start_weight=args.start_weight,
        start_span_s=args.start_span,
        model=ModelConfig(
            n_layer=args.layers,
            n_head=args.heads,
            d_model=args.d_model,
            dropout=args.dropout,
            block_size=args.block_size,
            positions=args.positions,
            note_off_at_cap=args.note_cap,
            key_condition=args.key_condition or args.key_frame,
            key_frame=args.key_frame,
        ),
    )
    if args.init is not None:
        if not (Path(args.init) / "model.json").exists():
            raise EmsyncError(f"{args.init} holds no model.json: --init needs a weights folder")
        info = json.loads((Path(args.init) / "model.json").read_text())
        model = ModelConfig.from_dict(info["config"])
        if args.key_condition or args.key_frame:
            model = replace(model, key_condition=True)
        if args.key_frame:
            model = replace(model, key_frame=True)
        if args.positions == "rotary":  # from learned weights: rotary_from_learned
            model = replace(model, positions="rotary")
        if args.note_cap:
            model = replace(model, note_off_at_cap=True)
        cfg = replace(cfg, init=str(args.init), model=model)
    if cfg.seq_len + 2 > cfg.model.block_size:
        raise EmsyncError(f"--seq-len must be at most {cfg.model.block_size - 2}")
    summary = train(args.corpus, args.out, cfg, resume=args.resume, hours=args.hours)
    if int(os.environ.get("RANK", "0")) == 0:
        print(
            f"trained to step {summary['step']} ({summary['stopped']}): last loss "
            f"{summary['last_loss']:.4f}, best val loss {summary['best_val_loss']:.4f}, "
            f"{summary['tokens_per_s']:.0f} tokens/s, "
            f"{summary['params'] / 1e6:.1f}M parameters -> {args.out}"
        )
    return 0


if __name__ == "__main__":  # torchrun -m emsync_core.music.train ...
    parser = argparse.ArgumentParser(prog="emsync-train")
    configure_parser(parser)
    sys.exit(run(parser.parse_args()))
