"""How well a score's chords land on the cuts, measured from the MIDI itself.

Used by the report and by benchmarks, for any engine: it looks only at note onsets, never at
what the engine claims it did.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pretty_midi

# Notes starting within this window of each other count as one chord attack.
_ATTACK_WINDOW_S = 0.001


@dataclass(frozen=True)
class CutAlignment:
    cut_s: float
    onset_s: float | None  # nearest chord attack (>= 3 pitch classes), None if none near
    error_ms: float | None
    pitch_classes: tuple[int, ...]  # sounding at that attack, bass first
    new_harmony: bool  # the attack's pitch-class set differs from what sounded just before


def measure_alignment(
    midi: pretty_midi.PrettyMIDI, cuts_s: Sequence[float], search_s: float = 1.0
) -> list[CutAlignment]:
    """For each cut, the nearest attack of three or more pitch classes within `search_s`."""
    notes = sorted(
        (n for inst in midi.instruments if not inst.is_drum for n in inst.notes),
        key=lambda n: n.start,
    )
    starts = np.array([n.start for n in notes])
    attacks: list[tuple[float, float, tuple[int, ...]] | None] = []
    for cut in cuts_s:
        lo, hi = np.searchsorted(starts, [cut - search_s, cut + search_s])
        found = None
        for onset in sorted(set(starts[lo:hi]), key=lambda t: abs(t - cut)):
            attack = [n for n in notes[lo:hi] if abs(n.start - onset) <= _ATTACK_WINDOW_S]
            pcs = _bass_first(attack)
            if len(pcs) >= 3:
                found = (cut, float(onset), pcs)
                break
        attacks.append(found)
    before = _sounding(notes, [a[1] - 0.01 for a in attacks if a is not None])
    return [
        CutAlignment(cut, None, None, (), False)
        if a is None
        else CutAlignment(cut, a[1], abs(a[1] - cut) * 1000, a[2], set(a[2]) != before[a[1] - 0.01])
        for cut, a in zip(cuts_s, attacks, strict=True)
    ]


def _bass_first(attack: list[pretty_midi.Note]) -> tuple[int, ...]:
    ordered = sorted(attack, key=lambda n: n.pitch)
    pcs: list[int] = []
    for n in ordered:
        if n.pitch % 12 not in pcs:
            pcs.append(n.pitch % 12)
    return tuple(pcs)


def _sounding(notes: list[pretty_midi.Note], times: list[float]) -> dict[float, set[int]]:
    """Pitch classes sounding (start <= t < end) at each time, in one sweep over the notes,
    which are sorted by start: a long timeline has thousands of cuts and 100k+ notes."""
    sounding: dict[float, set[int]] = {}
    ending: list[tuple[float, int]] = []  # heap of (end, pitch class) of started notes
    active: Counter[int] = Counter()
    i = 0
    for t in sorted(set(times)):
        while i < len(notes) and notes[i].start <= t:
            heapq.heappush(ending, (notes[i].end, notes[i].pitch % 12))
            active[notes[i].pitch % 12] += 1
            i += 1
        while ending and ending[0][0] <= t:
            active[heapq.heappop(ending)[1]] -= 1
        sounding[t] = {pc for pc, n in active.items() if n > 0}
    return sounding
