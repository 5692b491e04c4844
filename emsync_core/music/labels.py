"""Valence and arousal labels by proxy, for pieces that come without emotion annotations.

The paper labels valence with Spotify's valence of the matched recording and arousal with note
density per instrument (its predecessor, midi-emotion), both min-max scaled to [-1, 1] after
IQR outlier removal. Our corpora have no Spotify match, so valence is a harmony proxy:

- mode: Krumhansl-Kessler key profiles; the best major-key correlation minus the best
  minor-key correlation of the duration-weighted pitch-class histogram (> 0: major);
- chord qualities: share of chord time on major-type chords (maj, maj7, dom7, sus4) minus the
  share on minor/diminished ones (min, min7, dim, hdim7), from `chords.recognize`.

Arousal is note density per active instrument group (note onsets per second per group,
drums included) and mean velocity (when a corpus has no velocity variation that feature is
constant, gets zero spread and is left out).

Raw features are per piece and per window (`window_features`: 8 bars, or 16 s without a bar
grid), so a training window can carry the mood of its own part of the piece. `LabelScaler`
is fitted on a corpus: each feature is clipped to [Q1 - 1.5 IQR, Q3 + 1.5 IQR] and mapped
linearly onto [-1, 1], then the features of an axis are averaged. Limits are in
emsync_core/weights/MODEL_CARD.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .chords import ChordSpan
from .events import DRUMS, Note, Piece
from .harmony import MAJOR_LIKE, NOTE_NAMES

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
BRIGHT = {"maj", "maj7", "dom7", "sus4"}
DARK = {"min", "min7", "dim", "hdim7"}

# The key condition (`ModelConfig.key_condition`): 0-11 the major keys on C..B, 12-23 the
# minor ones, NULL_KEY for "unknown / dropped". Valence alone did not carry the mode into a
# model trained on the mixed corpus (docs/training.md), so the plan's key is told as well.
N_KEYS = 24
NULL_KEY = N_KEYS

VALENCE_FEATURES = ("mode", "chord_quality")
AROUSAL_FEATURES = ("density", "velocity")


@dataclass(frozen=True)
class RawFeatures:
    mode: float  # best major minus best minor key-profile correlation, in [-2, 2]
    chord_quality: float  # bright minus dark share of chord time, in [-1, 1]
    density: float  # note onsets per second per active group
    velocity: float  # mean MIDI velocity
    key: str  # the best-correlating key, e.g. "A minor" (for statistics)

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


def key_index(tonic: int, mode: str) -> int:
    """The key condition of a tonic and mode; modes other than major and minor go by their
    third (mixolydian with major, dorian with minor)."""
    return tonic % 12 + (0 if mode in MAJOR_LIKE else 12)


def parse_key(name: str) -> int:
    """ "A minor" -> its key index; anything else -> NULL_KEY."""
    parts = name.split()
    if len(parts) != 2 or parts[0] not in NOTE_NAMES:
        return NULL_KEY
    return key_index(NOTE_NAMES.index(parts[0]), parts[1])


def transpose_key(index: int, shift: int) -> int:
    """The key index `shift` semitones up (NULL_KEY stays null)."""
    if index == NULL_KEY:
        return index
    return (index % 12 + shift) % 12 + 12 * (index // 12)


def pitch_class_histogram(piece: Piece) -> np.ndarray:
    hist = np.zeros(12)
    for n in piece.notes:
        if n.group != DRUMS:
            hist[n.pitch % 12] += n.end - n.start
    return hist


def key_correlations(hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation of the histogram with each of the 12 major and 12 minor keys."""
    if hist.std() == 0:
        return np.zeros(12), np.zeros(12)
    major = np.array([np.corrcoef(hist, np.roll(MAJOR_PROFILE, k))[0, 1] for k in range(12)])
    minor = np.array([np.corrcoef(hist, np.roll(MINOR_PROFILE, k))[0, 1] for k in range(12)])
    return major, minor


def major_minus_minor(hist: np.ndarray) -> float:
    """Best major minus best minor `key_correlations` of a pitch-class histogram: > 0 leans
    major, < 0 minor, nan for an empty one (the harness's mode measure)."""
    if not hist.any():
        return math.nan
    major, minor = key_correlations(hist)
    return float(major.max() - minor.max())


def key_name(major: np.ndarray, minor: np.ndarray) -> str:
    """The best-matching key of `key_correlations`, e.g. "A minor" (a major key on a tie)."""
    if major.max() >= minor.max():
        return f"{NOTE_NAMES[int(major.argmax())]} major"
    return f"{NOTE_NAMES[int(minor.argmax())]} minor"


def raw_features(piece: Piece, spans: Sequence[ChordSpan]) -> RawFeatures:
    major, minor = key_correlations(pitch_class_histogram(piece))
    key = key_name(major, minor)
    total = sum(s.end - s.start for s in spans)
    bright = sum(s.end - s.start for s in spans if s.quality in BRIGHT)
    dark = sum(s.end - s.start for s in spans if s.quality in DARK)
    quality = (bright - dark) / total if total > 0 else 0.0
    groups = piece.groups
    duration = piece.duration
    density = len(piece.notes) / duration / len(groups) if duration > 0 and groups else 0.0
    velocity = float(np.mean([n.velocity for n in piece.notes])) if piece.notes else 0.0
    return RawFeatures(
        mode=float(major.max() - minor.max()),
        chord_quality=float(quality),
        density=float(density),
        velocity=velocity,
        key=key,
    )


WINDOW_BARS = 8
WINDOW_FALLBACK_S = 16.0


def window_edges(piece: Piece, bars: int = WINDOW_BARS) -> np.ndarray:
    """Window start times plus the end: every `bars` downbeats, or every 16 s without bars."""
    end = piece.duration
    downbeats = np.asarray(piece.downbeats, dtype=float)
    if downbeats.size >= 2:
        starts = downbeats[::bars].copy()  # a view would move the piece's first downbeat
        starts[0] = 0.0
    else:
        starts = np.arange(0.0, max(end, 1e-9), WINDOW_FALLBACK_S)
    return np.append(starts[starts < end], end) if end > 0 else np.zeros(1)


def window_features(
    piece: Piece, spans: Sequence[ChordSpan], edges: np.ndarray
) -> list[RawFeatures]:
    """Raw features of each window [edges[i], edges[i+1]): notes starting in it (clipped to
    its end) and the chord time inside it, on the same scales as the piece's features."""
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        notes = [
            Note(n.group, n.pitch, n.start - lo, min(n.end, hi) - lo, n.velocity)
            for n in piece.notes
            if lo <= n.start < hi
        ]
        inside = [
            ChordSpan(max(s.start, lo) - lo, min(s.end, hi) - lo, s.root, s.quality, s.bass, 1)
            for s in spans
            if s.end > lo and s.start < hi
        ]
        out.append(raw_features(Piece(notes), inside))
    return out


@dataclass(frozen=True)
class RobustRange:
    """Clip to the IQR fences, then map [low, high] linearly onto [-1, 1]."""

    low: float
    high: float

    @classmethod
    def fit(cls, values: Sequence[float]) -> RobustRange:
        x = np.asarray(values, dtype=float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return cls(0.0, 0.0)
        q1, q3 = np.percentile(x, [25, 75])
        iqr = q3 - q1
        inside = x[(x >= q1 - 1.5 * iqr) & (x <= q3 + 1.5 * iqr)]
        return cls(float(inside.min()), float(inside.max()))

    @property
    def informative(self) -> bool:
        return self.high > self.low

    def __call__(self, value: float) -> float:
        if not self.informative:
            return 0.0
        clipped = min(max(value, self.low), self.high)
        return 2 * (clipped - self.low) / (self.high - self.low) - 1


@dataclass(frozen=True)
class LabelScaler:
    ranges: dict[str, RobustRange]

    @classmethod
    def fit(cls, features: Sequence[RawFeatures]) -> LabelScaler:
        names = VALENCE_FEATURES + AROUSAL_FEATURES
        return cls({k: RobustRange.fit([getattr(f, k) for f in features]) for k in names})

    def _axis(self, f: RawFeatures, names: tuple[str, ...]) -> float:
        used = [self.ranges[k](getattr(f, k)) for k in names if self.ranges[k].informative]
        return float(np.mean(used)) if used else 0.0

    def valence(self, f: RawFeatures) -> float:
        return self._axis(f, VALENCE_FEATURES)

    def arousal(self, f: RawFeatures) -> float:
        return self._axis(f, AROUSAL_FEATURES)

    def to_json(self) -> dict[str, list[float]]:
        return {k: [r.low, r.high] for k, r in self.ranges.items()}

    @classmethod
    def from_json(cls, data: dict[str, list[float]]) -> LabelScaler:
        return cls({k: RobustRange(float(v[0]), float(v[1])) for k, v in data.items()})
