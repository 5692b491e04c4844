"""Musical statistics of a score, to compare engines with each other and with the corpus.

Every function takes a `pretty_midi.PrettyMIDI` and looks at pitched notes only: drum tracks
are ignored throughout (their "pitches" are drum keys and their lengths are arbitrary). A
score without pitched notes gives NaN. Where MusPy (Dong et al., ISMIR 2020) defines a metric
we follow it; the docstrings say where we differ.

    from emsync_core.music.stats import summary
    summary(score.midi)  # {"pitch_class_entropy": ..., "scale_consistency": ..., ...}
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import pretty_midi

# Onsets closer than this are one onset: the notes of a chord are rarely written further apart.
ONSET_TOLERANCE_S = 0.01
REPEAT_WINDOW_S = 2.0
# Onsets inside a repetition window are compared on this grid, so that the < 4 ms timing
# shifts of the transformer's cut anchoring (generate.py) do not hide a repeat.
REPEAT_GRID_S = 0.025

# Pitch classes of C major and C natural minor, the two scale shapes MusPy uses.
_MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=bool)
_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], dtype=bool)
SCALES = np.array([np.roll(s, root) for s in (_MAJOR, _MINOR) for root in range(12)])


def pitched_notes(midi: pretty_midi.PrettyMIDI) -> list[pretty_midi.Note]:
    """Notes of the non-drum instruments that last longer than zero, sorted by start."""
    notes = [n for i in midi.instruments if not i.is_drum for n in i.notes if n.end > n.start]
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def pitch_class_durations(midi: pretty_midi.PrettyMIDI) -> np.ndarray:
    """Seconds of pitched-note duration per pitch class (C = 0), summed over all notes."""
    hist = np.zeros(12)
    for n in pitched_notes(midi):
        hist[n.pitch % 12] += n.end - n.start
    return hist


def pitch_class_entropy(midi: pretty_midi.PrettyMIDI) -> float:
    """Shannon entropy (bits, 0 to log2 12) of the duration-weighted pitch-class histogram.

    MusPy counts notes instead of seconds; the two agree when all notes are equally long.
    """
    hist = pitch_class_durations(midi)
    if hist.sum() == 0:
        return math.nan
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def scale_consistency(midi: pretty_midi.PrettyMIDI) -> float:
    """Largest share of pitched-note duration inside one of the 24 major/natural-minor scales.

    Mogren 2016 and MusPy count notes instead of seconds; equal for equally long notes.
    """
    hist = pitch_class_durations(midi)
    if hist.sum() == 0:
        return math.nan
    return float((SCALES @ hist).max() / hist.sum())


def _union_length(intervals: list[tuple[float, float]]) -> float:
    """Total length covered by a set of (start, end) intervals, overlaps counted once."""
    total, reach = 0.0, -math.inf
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def longest_silence(midi: pretty_midi.PrettyMIDI, duration: float) -> float:
    """Longest stretch of [0, duration) seconds in which no pitched note sounds."""
    longest, reach = 0.0, 0.0
    for n in pitched_notes(midi):
        longest = max(longest, min(n.start, duration) - reach)
        reach = max(reach, n.end)
    return max(longest, duration - reach)


def polyphony(midi: pretty_midi.PrettyMIDI) -> float:
    """Mean number of distinct pitches sounding, over the time when at least one sounds.

    MusPy's definition, computed exactly from note intervals instead of on a tick grid: the
    same pitch in two instruments counts once, as in MusPy's merged piano roll.
    """
    by_pitch: dict[int, list[tuple[float, float]]] = {}
    for n in pitched_notes(midi):
        by_pitch.setdefault(n.pitch, []).append((n.start, n.end))
    sounding = _union_length([span for spans in by_pitch.values() for span in spans])
    if sounding == 0:
        return math.nan
    return sum(_union_length(spans) for spans in by_pitch.values()) / sounding


def _median_iqr(values: np.ndarray) -> tuple[float, float]:
    if len(values) == 0:
        return math.nan, math.nan
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return float(median), float(q3 - q1)


def note_lengths(midi: pretty_midi.PrettyMIDI) -> tuple[float, float]:
    """Median and interquartile range of pitched-note durations, in seconds."""
    return _median_iqr(np.array([n.end - n.start for n in pitched_notes(midi)]))


def onsets(midi: pretty_midi.PrettyMIDI) -> np.ndarray:
    """Distinct pitched onset times in seconds, sorted (a chord is one onset).

    A start within ONSET_TOLERANCE_S of the previous start joins its onset.
    """
    starts = np.array([n.start for n in pitched_notes(midi)])
    if len(starts) == 0:
        return starts
    return starts[np.r_[True, np.diff(starts) > ONSET_TOLERANCE_S]]


def inter_onset_intervals(midi: pretty_midi.PrettyMIDI) -> tuple[float, float]:
    """Median and interquartile range, in seconds, of the gaps between consecutive onsets."""
    return _median_iqr(np.diff(onsets(midi)))


def repetition(midi: pretty_midi.PrettyMIDI, window_s: float = REPEAT_WINDOW_S) -> float:
    """Share of onsets whose next `window_s` repeats exactly a window `window_s` or more earlier.

    Earlier windows start at an onset too and do not overlap the one compared. A window's
    pattern is the set of (note start on a 25 ms grid relative to the window's onset, pitch
    class) of the notes starting inside it. Only onsets whose whole window lies before the
    last note ends are counted. A piece looped n times scores about (n - 1 - w) / (n - w) for
    a loop w windows long; notes at random score about 0.
    """
    notes = pitched_notes(midi)
    starts = [n.start for n in notes]
    end = max((n.end for n in notes), default=0.0)
    first_seen: dict[frozenset[tuple[int, int]], float] = {}
    counted = repeated = 0
    for t in onsets(midi):
        if t + window_s > end + 1e-9:
            break
        # Stop half a grid step short, so a note exactly one window later stays out.
        lo = bisect.bisect_left(starts, t)
        hi = bisect.bisect_left(starts, t + window_s - REPEAT_GRID_S / 2)
        pattern = frozenset(
            (round((n.start - t) / REPEAT_GRID_S), n.pitch % 12) for n in notes[lo:hi]
        )
        counted += 1
        # "At least a window earlier" up to the grid, like the pattern comparison itself.
        if first_seen.setdefault(pattern, t) <= t - window_s + REPEAT_GRID_S / 2:
            repeated += 1
    return repeated / counted if counted else math.nan


def notes_per_second(midi: pretty_midi.PrettyMIDI) -> float:
    """Pitched notes per second, from time 0 to the end of the last pitched note."""
    notes = pitched_notes(midi)
    end = max((n.end for n in notes), default=0.0)
    return len(notes) / end if end > 0 else math.nan


def summary(midi: pretty_midi.PrettyMIDI) -> dict[str, float]:
    """All the statistics above, by name (medians and IQRs split into two entries)."""
    length_median, length_iqr = note_lengths(midi)
    ioi_median, ioi_iqr = inter_onset_intervals(midi)
    return {
        "pitch_class_entropy": pitch_class_entropy(midi),
        "scale_consistency": scale_consistency(midi),
        "polyphony": polyphony(midi),
        "note_length_median_s": length_median,
        "note_length_iqr_s": length_iqr,
        "ioi_median_s": ioi_median,
        "ioi_iqr_s": ioi_iqr,
        "repetition": repetition(midi),
        "notes_per_second": notes_per_second(midi),
    }
