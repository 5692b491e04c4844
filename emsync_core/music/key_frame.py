"""Pitch read and written relative to the key's tonic (`ModelConfig.key_frame`).

A model told the key as one of 24 embeddings did not learn to play it (session 8,
`benchmarks/key_following.py`: the planned key heard in the first 4 s of 15 % of scores): the
context tells the key after the first chord, so the condition earns little. In the key frame
the model never has to pick the tonic. Training windows with a known key are transposed so that its
tonic is C (the nearer way, at most 6 semitones), and the key condition keeps only the mode
(C major or C minor). Decoding transposes the context from the scene's tonic into the frame
and the model's note logits back out of it. At a scene change in a new key, the decoder
re-encodes the context into the new frame, as training windows that hold a section start
are framed by the new section's key.

Drums are never transposed. A context note pushed outside the piano range folds by an octave;
a note the frame cannot reach in the scene's key is not offered.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from . import events
from .labels import NULL_KEY

_PITCHED = [g for g in range(len(events.GROUPS)) if g != events.DRUMS]


def frame_shift(tonic: int) -> int:
    """Semitones that move `tonic` (a pitch class) to C, the nearer way: -5..+6."""
    shift = (-tonic) % 12
    return shift - 12 if shift > 6 else shift


def framed_key(index: int) -> int:
    """The key condition in the frame: the same mode on C (NULL_KEY stays null)."""
    return index if index == NULL_KEY else 12 * (index // 12)


@lru_cache(maxsize=24)
def pitch_map(shift: int) -> np.ndarray:
    """(VOCAB_SIZE,) the token `shift` semitones up from each token, -1 where that pitch is
    outside the range; tokens without a pitch (and drums) map to themselves."""
    out = np.arange(events.VOCAB_SIZE, dtype=np.int64)
    for group in _PITCHED:
        for pitch in range(events.PITCH_MIN, events.PITCH_MAX + 1):
            moved = pitch + shift
            inside = events.PITCH_MIN <= moved <= events.PITCH_MAX
            out[events.note_on(group, pitch)] = events.note_on(group, moved) if inside else -1
            out[events.note_off(group, pitch)] = events.note_off(group, moved) if inside else -1
    return out


def to_frame(tokens: list[int], shift: int) -> list[int]:
    """Tokens moved `shift` semitones, pitches outside the range folded in by octaves (ON and
    OFF alike, so the stream stays consistent)."""
    table = pitch_map(shift)
    out = []
    for token in tokens:
        moved = int(table[token])
        if moved < 0:  # fold: move the pitch by octaves until it fits
            on = token < events.NOTE_OFF_BASE
            base = events.NOTE_ON_BASE if on else events.NOTE_OFF_BASE
            group, index = divmod(token - base, events.N_PITCHES)
            pitch = events.fold_pitch(index + events.PITCH_MIN + shift)
            moved = (events.note_on if on else events.note_off)(group, pitch)
        out.append(moved)
    return out


@lru_cache(maxsize=24)
def _from_frame_index(shift: int) -> tuple[torch.Tensor, torch.Tensor]:
    # Made outside inference mode even when decoding asks first: a cached inference tensor
    # would break a later caller that tracks gradients.
    with torch.inference_mode(False):
        table = torch.from_numpy(pitch_map(shift))
        return table.clamp(min=0), table < 0


def logits_from_frame(logits: torch.Tensor, shift: int) -> torch.Tensor:
    """(..., V) logits over absolute tokens from the model's logits in a frame that moved the
    music `shift` semitones: each absolute note takes the logit of its note in the frame."""
    index, outside = _from_frame_index(shift)
    index, outside = index.to(logits.device), outside.to(logits.device)
    return logits[..., index].masked_fill(outside, float("-inf"))
