"""What the harness measures in a score, read from its MIDI alone (pitched notes; drums only
count towards instrument activity). Every measure is defined in docs/music-eval.md with its
reference value; thresholds live in `THRESHOLDS`, calibrated there.

Onsets are grouped per instrument: notes of one instrument starting within 10 ms are one
onset (a chord). A *re-strike* is an onset with exactly the pitches of that instrument's
previous onset; a *new pitch* is a note whose pitch was not in its instrument's previous
onset. Re-striking a note or a chord adds onsets but no new pitches, so density measured in
new pitches cannot be raised by hammering one note.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pretty_midi

from ..music import labels

ONSET_TOLERANCE_S = 0.01
GRID_S = 0.05  # sampling step of the pitch-class and voice measures
WINDOW_S = 4.0  # top-voice / bass windows
HEAD_S = 8.0  # degeneration was seen to start after ~8 s: the head is compared with the rest
RUN_LONG = 8  # "runs of 8+"
CUT_WINDOW_S = 0.25


@dataclass(frozen=True)
class Onset:
    time: float
    instrument: int
    pitches: frozenset[int]
    new: frozenset[int]  # pitches not in this instrument's previous onset
    run: int  # position in the run of identical onsets it belongs to (1 = starts one)


def onsets(midi: pretty_midi.PrettyMIDI) -> list[Onset]:
    """Pitched onsets of every instrument, in time order."""
    out: list[Onset] = []
    for index, inst in enumerate(midi.instruments):
        if inst.is_drum:
            continue
        notes = sorted((n for n in inst.notes if n.end > n.start), key=lambda n: n.start)
        groups: list[tuple[float, set[int]]] = []
        for n in notes:
            if groups and n.start - groups[-1][0] <= ONSET_TOLERANCE_S:
                groups[-1][1].add(n.pitch)
            else:
                groups.append((n.start, {n.pitch}))
        previous: frozenset[int] = frozenset()
        run = 0
        for time, pitches in groups:
            current = frozenset(pitches)
            run = run + 1 if current == previous else 1
            out.append(Onset(time, index, current, current - previous, run))
            previous = current
    out.sort(key=lambda o: (o.time, o.instrument))
    return out


def _longest_gap(times: Sequence[float], start: float, end: float) -> float:
    edges = np.concatenate([[start], np.clip(np.sort(np.asarray(times, float)), start, end), [end]])
    return float(np.diff(edges).max()) if len(edges) > 1 else end - start


def _runs(ons: list[Onset]) -> list[list[Onset]]:
    """Maximal runs of identical consecutive onsets, per instrument."""
    runs: dict[int, list[list[Onset]]] = {}
    for o in ons:
        lst = runs.setdefault(o.instrument, [])
        if o.run == 1:
            lst.append([o])
        else:
            lst[-1].append(o)
    return [r for lst in runs.values() for r in lst]


def _grid(midi: pretty_midi.PrettyMIDI, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """(pitch-class masks (T, 12), sounding pitches as (T, 128) bool) on the GRID_S grid."""
    n = max(1, int(math.ceil(duration / GRID_S)))
    roll = np.zeros((n, 128), dtype=bool)
    for inst in midi.instruments:
        if inst.is_drum:
            continue
        for note in inst.notes:
            a, b = int(note.start / GRID_S), int(math.ceil(note.end / GRID_S))
            roll[max(0, a) : min(n, b), note.pitch] = True
    pcs = np.zeros((n, 12), dtype=bool)
    for pc in range(12):
        pcs[:, pc] = roll[:, pc::12].any(axis=1)
    return pcs, roll


def _longest_same(rows: np.ndarray) -> float:
    """Longest stretch (seconds) over which consecutive rows are identical."""
    if len(rows) == 0:
        return 0.0
    change = np.r_[True, (rows[1:] != rows[:-1]).any(axis=1)]
    starts = np.flatnonzero(change)
    lengths = np.diff(np.r_[starts, len(rows)])
    return float(lengths.max() * GRID_S)


def frozen_share(voice: np.ndarray, lo: float, hi: float) -> float:
    """Share of 4-s windows (hop 2 s) inside [lo, hi) in which `voice` (pitch per grid step,
    -1 when silent) takes fewer than 3 distinct pitches; a silent window counts as frozen."""
    width, hop = int(WINDOW_S / GRID_S), int(WINDOW_S / 2 / GRID_S)
    a, b = int(lo / GRID_S), min(len(voice), int(hi / GRID_S))
    starts = range(a, max(a + 1, b - width + 1), hop)
    frozen = [
        len(set(voice[s : s + width][voice[s : s + width] >= 0].tolist())) < 3 for s in starts
    ]
    return float(np.mean(frozen)) if frozen and b - a >= width else math.nan


def top_voice(midi: pretty_midi.PrettyMIDI, duration: float) -> np.ndarray:
    """Highest sounding pitch per GRID_S step (-1 when silent), drums left out."""
    return _highest(_grid(midi, duration)[1])


def _highest(roll: np.ndarray) -> np.ndarray:
    return np.where(roll.any(axis=1), 127 - np.argmax(roll[:, ::-1], axis=1), -1)


def degeneration(midi: pretty_midi.PrettyMIDI, duration: float) -> dict[str, float]:
    """The degeneration statistics of docs/music-eval.md (times in seconds)."""
    ons = onsets(midi)
    runs = _runs(ons)
    pcs, roll = _grid(midi, duration)
    highest = _highest(roll)
    lowest = np.where(roll.any(axis=1), np.argmax(roll, axis=1), -1)
    out: dict[str, float] = {
        "longest_restrike_run": float(max((len(r) for r in runs), default=0)),
        "longest_no_new_pitch_s": _longest_gap([o.time for o in ons if o.new], 0.0, duration),
        "longest_no_onset_s": _longest_gap([o.time for o in ons], 0.0, duration),
        "longest_same_pcs_s": _longest_same(pcs),
    }
    for part, (lo, hi) in {
        "head": (0.0, min(HEAD_S, duration)),
        "rest": (HEAD_S, duration),
    }.items():
        inside = [o for o in ons if lo <= o.time < hi]
        in_long = [o for r in runs if len(r) >= RUN_LONG for o in r if lo <= o.time < hi]
        out[f"share_in_long_runs_{part}"] = len(in_long) / len(inside) if inside else math.nan
        out[f"top_frozen_share_{part}"] = frozen_share(highest, lo, hi)
        out[f"bass_frozen_share_{part}"] = frozen_share(lowest, lo, hi)
    out["share_in_long_runs"] = (
        sum(len(r) for r in runs if len(r) >= RUN_LONG) / len(ons) if ons else math.nan
    )
    out["top_frozen_share"] = frozen_share(highest, 0.0, duration)
    out["bass_frozen_share"] = frozen_share(lowest, 0.0, duration)
    return out


# Calibrated in docs/music-eval.md ("Thresholds"): every reference excerpt passes, and the
# piano rolls of the scores that fail show the failure. A score is degenerate if any holds.
THRESHOLDS: dict[str, float] = {
    "longest_restrike_run": 16,  # two bars of pumping eighths is music; more is a stuck note
    "share_in_long_runs": 0.25,
    "longest_no_new_pitch_s": 10.0,
    "longest_no_onset_s": 10.0,
    "longest_same_pcs_s": 12.0,
    "top_frozen_share": 0.5,
    "bass_frozen_share": 0.75,
}


def degenerate_reasons(stats: dict[str, float]) -> list[str]:
    """The thresholds a score's statistics exceed (empty: not degenerate)."""
    return [
        f"{name} {stats[name]:.3g} > {limit:g}"
        for name, limit in THRESHOLDS.items()
        if not math.isnan(stats.get(name, math.nan)) and stats[name] > limit
    ]


# ---------------------------------------------------------------------------------------
# Harmony at cuts, as a contrast


def harmony_changes(midi: pretty_midi.PrettyMIDI) -> np.ndarray:
    """Times of new harmonies: an attack (all instruments' notes starting within 10 ms) of 3+
    pitch classes whose set differs from the set sounding just before it."""
    notes = sorted(
        (n for i in midi.instruments if not i.is_drum for n in i.notes if n.end > n.start),
        key=lambda n: n.start,
    )
    if not notes:
        return np.zeros(0)
    starts = np.array([n.start for n in notes])
    ends = np.array([n.end for n in notes])
    pcs = np.array([n.pitch % 12 for n in notes])
    times: list[float] = []
    i = 0
    while i < len(notes):
        j = i
        while j < len(notes) and starts[j] - starts[i] <= ONSET_TOLERANCE_S:
            j += 1
        attack = set(pcs[i:j].tolist())
        if len(attack) >= 3:
            t = starts[i]
            before = set(pcs[(starts < t - 1e-4) & (ends > t - 1e-4)].tolist())
            now = set(pcs[(starts <= starts[j - 1]) & (ends > starts[j - 1])].tolist())
            if now != before:
                times.append(float(t))
        i = j
    return np.array(times)


def control_times(
    cuts_s: Sequence[float], duration: float, seed: int, per_cut: int = 2
) -> np.ndarray:
    """Random times at least 1 s from every cut and from both ends (seeded), `per_cut` per cut."""
    rng = np.random.default_rng(seed)
    edges = np.array([0.0, *cuts_s, duration])
    candidates = rng.uniform(0.0, duration, size=max(1, per_cut * len(cuts_s)) * 20)
    far = np.min(np.abs(candidates[:, None] - edges[None, :]), axis=1) >= 1.0
    return np.sort(candidates[far][: max(1, per_cut * len(cuts_s))])


def change_rate(changes: np.ndarray, times: Sequence[float], window: float = CUT_WINDOW_S) -> float:
    """Share of `times` with a new harmony within +/- `window` seconds."""
    if len(times) == 0:
        return math.nan
    if len(changes) == 0:
        return 0.0
    t = np.asarray(times)[:, None]
    return float((np.abs(changes[None, :] - t) <= window + 1e-9).any(axis=1).mean())


def cut_contrast(
    midi: pretty_midi.PrettyMIDI, cuts_s: Sequence[float], duration: float, seed: int = 0
) -> dict[str, float]:
    """New-harmony rate within 250 ms of cuts, at control times between cuts, and the lift."""
    changes = harmony_changes(midi)
    at_cuts = change_rate(changes, cuts_s)
    at_controls = change_rate(changes, control_times(cuts_s, duration, seed))
    return {
        "new_harmony_at_cuts": at_cuts,
        "new_harmony_at_controls": at_controls,
        "n_cuts": float(len(cuts_s)),
    }


def lift(at_cuts: float, at_controls: float) -> float:
    """How many times likelier a new harmony is at a cut than between cuts."""
    if math.isnan(at_cuts) or math.isnan(at_controls):
        return math.nan
    return at_cuts / max(at_controls, 1e-3)


# ---------------------------------------------------------------------------------------
# Mood response


Span = tuple[float, float]  # (start, end) seconds of a score to measure


def pitch_classes(midi: pretty_midi.PrettyMIDI, span: Span | None = None) -> np.ndarray:
    """Duration-weighted pitch classes of the pitched notes (within `span`, if given)."""
    lo, hi = span if span is not None else (-math.inf, math.inf)
    hist = np.zeros(12)
    for inst in midi.instruments:
        if inst.is_drum:
            continue
        for n in inst.notes:
            hist[n.pitch % 12] += max(0.0, min(n.end, hi) - max(n.start, lo))
    return hist


def major_minus_minor(midi: pretty_midi.PrettyMIDI, span: Span | None = None) -> float:
    """Best major minus best minor Krumhansl key correlation of the duration-weighted pitch
    classes (within `span`, if given): > 0 leans major, < 0 minor."""
    return labels.major_minus_minor(pitch_classes(midi, span))


def key_rank(
    midi: pretty_midi.PrettyMIDI, tonic: int, minor: bool, span: Span | None = None
) -> int:
    """How many of the 24 keys correlate better with the score (within `span`, if given) than
    the given one (0: the score is heard in that key, Krumhansl-Schmuckler). A diagnostic of
    whether a model follows the key it was asked for; the mode line itself is
    `major_minus_minor`."""
    hist = pitch_classes(midi, span)
    if not hist.any():
        return 24
    major, minor_ = labels.key_correlations(hist)
    scores = np.r_[major, minor_]
    return int((scores > scores[tonic % 12 + 12 * int(minor)]).sum())


def new_pitches_per_second(midi: pretty_midi.PrettyMIDI, duration: float) -> float:
    """Onsets of new pitches per second (re-strikes do not count)."""
    return sum(len(o.new) for o in onsets(midi)) / duration if duration > 0 else math.nan


# ---------------------------------------------------------------------------------------
# Instruments


def activity(midi: pretty_midi.PrettyMIDI, duration: float) -> dict[str, float]:
    """Per layer ("bass", "strings", "percussion", ...): share of the score's time it sounds."""
    out: dict[str, float] = {}
    for inst in midi.instruments:
        layer = inst.name.split(" - ")[0].strip() or ("percussion" if inst.is_drum else "other")
        spans = sorted((n.start, n.end) for n in inst.notes if n.end > n.start)
        covered, reach = 0.0, 0.0
        for a, b in spans:
            if b > reach:
                covered += b - max(a, reach)
                reach = b
        out[layer] = out.get(layer, 0.0) + covered / duration if duration > 0 else 0.0
    return {k: min(1.0, v) for k, v in sorted(out.items())}
