"""Chord recognition on symbolic music, and the boundaries the generator learns from.

Recognition: for every beat window, a pitch-class profile (each note weighted by how long it
sounds inside the window; drums ignored) is matched against the chord templates of
`harmony.QUALITIES` in all 12 transpositions. The score of a template rewards the share of
the profile it covers, penalises chord tones that are absent, prefers simpler chords when a
seventh is not actually there, and gives a bonus when the template's root is the bass (the
lowest note sounding for a good part of the window). That last term is what separates C6
from Am7 or decides the root of an inversion. Consecutive beats with the same chord form one
chord span.

Boundaries (paper, `chord_beat_threshold=2`): the onsets of chords held for at least two
beats. They are marked in the token stream by `<CHORD>`, and every token gets `t_next`, the
seconds from it to the next boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .events import CHORD, DRUMS, STEP_S, Piece, token_times
from .harmony import QUALITIES, Chord

MIN_BEATS = 2
_TEMPLATES: list[tuple[int, str, np.ndarray]] = []
for _quality, _intervals in QUALITIES.items():
    for _root in range(12):
        _mask = np.zeros(12, dtype=bool)
        _mask[[(_root + i) % 12 for i in _intervals]] = True
        _TEMPLATES.append((_root, _quality, _mask))

# Weights of the template score; tuned on the hand-written progressions in tests/test_chords.py
# and on arranger output, where every chord is known.
_ABSENT_PENALTY = 0.15  # per chord tone with (almost) no weight in the window
_SIZE_PENALTY = 0.02  # per chord tone: a triad beats its seventh chord when the 7th is absent
_BASS_BONUS = 0.1
_PRESENT = 0.1  # share of the window's profile below which a chord tone counts as absent
# A one-beat chord between two beats of the same chord is kept only if the surrounding chord
# fits it this much worse than its own best template: melody and bass passing notes would
# otherwise split every held chord and hide the boundaries.
_SMOOTHING_MARGIN = 0.4


@dataclass(frozen=True)
class ChordSpan:
    start: float  # seconds
    end: float
    root: int
    quality: str
    bass: int  # pitch class of the lowest sounding note
    beats: int  # beat windows the chord lasts

    @property
    def symbol(self) -> str:
        return Chord(self.root, self.quality).symbol


def beat_grid(piece: Piece, beats: Sequence[float] | None = None) -> np.ndarray:
    """Beat-window edges covering the piece: the given beats (or the piece's), closed at the end.

    Without any beat information the grid is 0.5 s (a quarter note at 120 bpm, MIDI's default).
    """
    grid = np.asarray(piece.beats if beats is None else beats, dtype=float)
    end = piece.duration
    if grid.size < 2:
        grid = np.arange(0.0, end + 0.5, 0.5)
    step = float(np.median(np.diff(grid)))
    while grid[-1] < end - 1e-9:
        grid = np.append(grid, grid[-1] + step)
    return grid


def window_profiles(piece: Piece, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(profiles [windows, 12], bass pitch per window or -1): overlap-weighted pitch classes."""
    n = len(edges) - 1
    profiles = np.zeros((n, 12))
    lowest_weight = np.full((n, 128), 0.0)
    for note in piece.notes:
        if note.group == DRUMS:
            continue
        first = max(int(np.searchsorted(edges, note.start, side="right")) - 1, 0)
        last = min(int(np.searchsorted(edges, note.end, side="left")), n)
        for w in range(first, last):
            overlap = min(note.end, edges[w + 1]) - max(note.start, edges[w])
            if overlap > 0:
                profiles[w, note.pitch % 12] += overlap
                lowest_weight[w, note.pitch] += overlap
    lengths = np.diff(edges)[:, None]
    # The bass is the lowest pitch sounding for at least a quarter of the window, so a quick
    # low passing note does not steal the root.
    held = lowest_weight >= 0.25 * lengths
    bass = np.where(held.any(axis=1), held.argmax(axis=1), -1)
    return profiles, bass


def _score(share: np.ndarray, mask: np.ndarray, root: int, bass_pc: int) -> float:
    covered = share[mask].sum()
    absent = int((share[mask] < _PRESENT).sum())
    score = 2 * covered - 1 - _ABSENT_PENALTY * absent - _SIZE_PENALTY * int(mask.sum())
    return score + (_BASS_BONUS if root == bass_pc else 0.0)


def _shares(profile: np.ndarray) -> np.ndarray | None:
    total = profile.sum()
    if total <= 0:
        return None
    share = profile / total
    if int((share >= _PRESENT).sum()) < 2:
        return None  # a single pitch class (unison line) is not a chord
    return share


def classify(profile: np.ndarray, bass_pc: int) -> tuple[int, str] | None:
    """Best (root, quality) for one pitch-class profile, or None when there is no chord."""
    share = _shares(profile)
    if share is None:
        return None
    best: tuple[float, int, str] | None = None
    for root, quality, mask in _TEMPLATES:
        score = _score(share, mask, root, bass_pc)
        if best is None or score > best[0] + 1e-12:
            best = (score, root, quality)
    assert best is not None
    return best[1], best[2]


def _fit(profile: np.ndarray, bass_pc: int, label: tuple[int, str]) -> float:
    share = _shares(profile)
    if share is None:
        return -np.inf
    mask = np.zeros(12, dtype=bool)
    mask[[(label[0] + i) % 12 for i in QUALITIES[label[1]]]] = True
    return _score(share, mask, label[0], bass_pc)


def recognize(piece: Piece, beats: Sequence[float] | None = None) -> list[ChordSpan]:
    """Chord spans of `piece`, one per run of beats with the same chord; chordless beats skipped.

    `beats` overrides the piece's beat times (e.g. when a MIDI file's tempo map is not the
    music's real pulse).
    """
    edges = beat_grid(piece, beats)
    profiles, bass = window_profiles(piece, edges)
    labels = [
        classify(profiles[w], int(bass[w]) % 12 if bass[w] >= 0 else -1)
        for w in range(len(profiles))
    ]
    # Smoothing (see _SMOOTHING_MARGIN), left to right so a run of passing beats heals.
    basses = [int(b) % 12 if b >= 0 else -1 for b in bass]
    for w in range(1, len(labels) - 1):
        around = labels[w - 1]
        if around is not None and around == labels[w + 1] != labels[w]:
            own = _fit(profiles[w], basses[w], labels[w]) if labels[w] else -np.inf
            if _fit(profiles[w], basses[w], around) >= own - _SMOOTHING_MARGIN:
                labels[w] = around
    onsets = np.unique(np.round([n.start for n in piece.notes if n.group != DRUMS], 6))
    spans: list[ChordSpan] = []
    w = 0
    while w < len(labels):
        label = labels[w]
        end = w + 1
        while end < len(labels) and labels[end] == label:
            end += 1
        if label is not None:
            spans.append(
                ChordSpan(
                    start=_snap(edges[w], onsets, 0.125 * (edges[w + 1] - edges[w])),
                    end=float(edges[end]),
                    root=label[0],
                    quality=label[1],
                    bass=int(bass[w]) % 12 if bass[w] >= 0 else label[0],
                    beats=end - w,
                )
            )
        w = end
    return spans


def _snap(t: float, onsets: np.ndarray, tolerance: float) -> float:
    """The note onset nearest to beat time `t` within `tolerance` (human timing), else `t`."""
    if onsets.size == 0:
        return float(t)
    i = int(np.searchsorted(onsets, t))
    near = [onsets[j] for j in (i - 1, i) if 0 <= j < onsets.size]
    best = min(near, key=lambda o: abs(o - t))
    return float(best) if abs(best - t) <= tolerance else float(t)


def boundaries(spans: Sequence[ChordSpan], min_beats: int = MIN_BEATS) -> list[float]:
    """Onsets (seconds) of the chords held for at least `min_beats` beats."""
    return [s.start for s in spans if s.beats >= min_beats]


def boundary_offsets(tokens: Sequence[int] | np.ndarray) -> np.ndarray:
    """`t_next` per token: seconds from the token's time to the next `<CHORD>` after it.

    A token's time includes its own shift, so this is what the model knows when predicting
    the following token (as the paper's generator computes it). No boundary ahead -> inf;
    the model clamps to 8 s and feeds `8 - min(t_next, 8)`.
    """
    tokens = np.asarray(tokens)
    times = token_times(tokens)
    out = np.full(len(tokens), np.inf, dtype=np.float32)
    chord_positions = np.flatnonzero(tokens == CHORD)
    if chord_positions.size == 0:
        return out
    # For token i the next boundary is the first <CHORD> strictly after position i.
    nxt = np.searchsorted(chord_positions, np.arange(len(tokens)), side="right")
    has = nxt < chord_positions.size
    target = times[chord_positions[np.minimum(nxt, chord_positions.size - 1)]]
    out[has] = ((target - times) * STEP_S)[has]
    return out
