"""A tempo map for music that kept its own rhythm: fit each scene's beat to its notes.

The transformer writes notes in seconds with no beat grid, so its MIDI would sit on a flat
120 bpm grid that says nothing about the music. Per scene this finds the beat that best
explains where the pitched notes start, counted from the scene's cut (the bar restarts there,
as `score.set_beat_grid` writes it): whole beats of that length, the last one taking what is
left before the next cut (the music was cut off there, not fitted to it). So a DAW's bars and
beats follow the music, and no tempo leaves 40-240 bpm.

A beat's score is how much better than chance the onsets fall on its grid: each onset earns
1 on a beat, 1/2 on an off-beat eighth and 1/4 on a sixteenth (a Gaussian of `_JITTER_S`
around each grid point), minus what onsets at random would earn on the same grid. The
subtraction matters: a faster grid has more points and catches more onsets by luck. Beats are
searched coarsely on a scene's first seconds, then refined by least squares on ever longer
stretches (a beat 1 % off drifts a whole beat in 100). A preference for the plan's tempo
settles the double/half ambiguity (a stream of eighths is also one of quarters at twice the
tempo); a scene with too few onsets, or none on any beat better than chance, keeps the
plan's beats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pretty_midi

from .plan import ScenePlan
from .score import MAX_BPM, MIN_BPM, set_beat_grid

# How far a played onset may sit from its grid point and still count as on it.
_JITTER_S = 0.02
# (grid points per beat, weight): beat, eighth, sixteenth.
_LEVELS = ((1, 1.0), (2, 0.5), (4, 0.25))
# Fewer distinct onsets than this say nothing about a beat.
MIN_ONSETS = 6
# A best beat that explains the onsets less than this much better than chance is no beat.
MIN_LIFT = 0.15
# Penalty per squared octave away from the plan's beat. It only settles near-ties between a
# beat and its double or half (on the transformer's ~0.25-s note streams, 120 vs 240 bpm
# differed by 0.07 in lift; 0.05 chose 240 bpm, 0.1 chose 120).
_PRIOR_PER_OCTAVE2 = 0.1
# Onsets closer than this are one onset (the notes of a chord, a strum).
_SAME_ONSET_S = 0.015
# Seconds of a scene searched coarsely, and how many of the best beats there are refined.
_WINDOW_S = 8.0
_PEAKS = 5
_MIN_BEAT_S = 60.0 / MAX_BPM
_MAX_BEAT_S = 60.0 / MIN_BPM


def pitched_onsets(midi: pretty_midi.PrettyMIDI) -> np.ndarray:
    """Sorted start times (s) of the pitched notes, a chord's notes counted once."""
    starts = np.sort(
        np.array([n.start for inst in midi.instruments if not inst.is_drum for n in inst.notes])
    )
    if starts.size == 0:
        return starts
    keep = np.concatenate([[True], np.diff(starts) > _SAME_ONSET_S])
    return starts[keep]


def _salience(offsets_s: np.ndarray, beat_s: float | np.ndarray) -> np.ndarray:
    """What each onset (seconds after the bar line) earns on a grid of `beat_s` (an array of
    beats, shaped to broadcast against the onsets, scores them all at once)."""
    best = np.zeros(np.broadcast_shapes(np.shape(offsets_s), np.shape(beat_s)))
    for per_beat, weight in _LEVELS:
        step = beat_s / per_beat
        phase = offsets_s / step
        distance = np.abs(phase - np.round(phase)) * step
        best = np.maximum(best, weight * np.exp(-0.5 * (distance / _JITTER_S) ** 2))
    return best


# Where onsets that fall at random sit within a beat, as fractions of it.
_UNIFORM = np.linspace(0.0, 1.0, 400, endpoint=False)


def lifts(offsets_s: np.ndarray, beats_s: np.ndarray) -> np.ndarray:
    """For each beat length: how much better than chance the onsets (seconds after the bar
    line) fall on its grid, i.e. their mean salience minus that of onsets at random."""
    beats = np.asarray(beats_s, dtype=float)[:, None]
    observed = _salience(offsets_s[None, :], beats).mean(axis=1)
    chance = _salience(_UNIFORM[None, :] * beats, beats).mean(axis=1)
    return observed - chance


def lift(offsets_s: np.ndarray, beat_s: float) -> float:
    """`lifts` for one beat."""
    return float(lifts(offsets_s, np.array([beat_s]))[0])


@dataclass(frozen=True)
class FittedBeat:
    """A scene's beat for `set_beat_grid`: `beats` beats, all but the last `beat_s` long
    (the last takes what is left before the cut), or `beats` equal ones when `beat_s` is
    None (the plan's beats, kept where the notes show no beat)."""

    beats: int
    beat_s: float | None
    lift: float  # how much better than chance the onsets fall on it (0 when not fitted)


def fit_scene_beat(
    onsets_s: np.ndarray, start_s: float, end_s: float, fallback_beats: int
) -> FittedBeat:
    """The beat that best explains the onsets of the scene [start_s, end_s), counted from
    its cut, or the plan's `fallback_beats` equal beats when the onsets are too few, or fall
    on no beat better than chance, to say."""
    fallback = FittedBeat(max(1, fallback_beats), None, 0.0)
    length = end_s - start_s
    x = onsets_s[(onsets_s >= start_s - 1e-9) & (onsets_s < end_s - 1e-9)] - start_s
    longest = min(_MAX_BEAT_S, length / 2)  # two beats at least, or it is no pulse
    if x.size < MIN_ONSETS or longest <= _MIN_BEAT_S:
        return fallback
    reference = length / max(1, fallback_beats)

    def score(offsets: np.ndarray, beats: np.ndarray) -> np.ndarray:
        return lifts(offsets, beats) - _PRIOR_PER_OCTAVE2 * np.log2(beats / reference) ** 2

    # Coarse: every beat in range, on the first seconds only (a grid fine enough for a whole
    # long scene would be too many candidates); then each promising one is refined on ever
    # longer stretches, where a slightly wrong beat drifts off the notes.
    window = min(length, _WINDOW_S)
    if np.count_nonzero(x < window) < MIN_ONSETS:
        window = length
    head = x[x < window]
    ratio = 1 + _JITTER_S / (2 * window)
    count = max(2, math.ceil(math.log(longest / _MIN_BEAT_S) / math.log(ratio)))
    beats = np.geomspace(_MIN_BEAT_S, longest, count)
    coarse = score(head, beats)
    peaks = [
        k
        for k in range(len(beats))
        if coarse[k] >= coarse[max(0, k - 1)] and coarse[k] >= coarse[min(len(beats) - 1, k + 1)]
    ]
    peaks = sorted(peaks, key=lambda k: -coarse[k])[:_PEAKS]
    best: tuple[float, float] | None = None
    for k in peaks:
        beat = float(beats[k])
        span = window
        while True:
            for _ in range(2):
                beat = _refine(x[x < span], beat)
            if span >= length:
                break
            span = min(length, span * 2)
        if not _MIN_BEAT_S <= beat <= longest:
            continue
        candidate = (float(score(x, np.array([beat]))[0]), beat)
        if best is None or candidate > best:
            best = candidate
    if best is None:
        return fallback
    beat = best[1]
    fitted_lift = lift(x, beat)
    if fitted_lift < MIN_LIFT:
        return fallback
    return FittedBeat(*_whole_beats(length, beat), fitted_lift)


def _refine(offsets_s: np.ndarray, beat_s: float) -> float:
    """Least-squares beat through the bar line: each onset close to a grid point (beat,
    eighth or sixteenth) pulls the beat so that it falls on that point."""
    positions = np.zeros_like(offsets_s)  # in beats; 0 means no grid point near enough
    best = np.zeros_like(offsets_s)
    for per_beat, weight in _LEVELS:
        step = beat_s / per_beat
        index = np.round(offsets_s / step)
        distance = np.abs(offsets_s - index * step)
        near = weight * np.exp(-0.5 * (distance / _JITTER_S) ** 2)
        take = (near > best) & (distance < 2.5 * _JITTER_S)
        positions = np.where(take, index / per_beat, positions)
        best = np.maximum(best, near)
    used = positions > 0
    if np.count_nonzero(used) < 2:
        return beat_s
    g = positions[used]
    return float(np.dot(offsets_s[used], g) / np.dot(g, g))


def _whole_beats(length_s: float, beat_s: float) -> tuple[int, float | None]:
    """Whole beats of `beat_s` from the cut, the last one taking what is left before the
    next cut: longer or shorter than the others, whichever is nearer a beat, within range."""
    full = max(1, math.floor(length_s / beat_s + 1e-9))
    options = []
    for n in (full, full + 1):
        last = length_s - (n - 1) * beat_s
        if last > 0 and _MIN_BEAT_S <= last <= _MAX_BEAT_S:
            options.append((abs(math.log(last / beat_s)), n))
    if not options:  # equal beats as near the fitted one as the range allows
        return max(1, round(length_s / beat_s)), None
    n = min(options)[1]
    return n, (beat_s if n > 1 else None)


def fit_beat_grid(midi: pretty_midi.PrettyMIDI, scenes: Sequence[ScenePlan]) -> list[FittedBeat]:
    """Each scene's beat, fitted to the pitched notes where they show one, the plan's own
    beats where they do not."""
    onsets = pitched_onsets(midi)
    return [fit_scene_beat(onsets, s.start_s, s.end_s, s.beats) for s in scenes]


def set_fitted_beat_grid(
    midi: pretty_midi.PrettyMIDI, scenes: Sequence[ScenePlan]
) -> list[FittedBeat]:
    """Give `midi` a tempo map fitted to its own notes, scene by scene (bars restart at every
    cut; no tempo leaves 40-240 bpm), and return the fitted beats."""
    fitted = fit_beat_grid(midi, scenes)
    set_beat_grid(
        midi, [s.end_s for s in scenes], [f.beats for f in fitted], [f.beat_s for f in fitted]
    )
    return fitted
