"""How well a score's chords land on the cuts, measured from the MIDI itself.

Used by the report and by benchmarks, for any engine: it looks only at note onsets, never at
what the engine claims it did.
"""

from __future__ import annotations

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
    results = []
    for cut in cuts_s:
        lo, hi = np.searchsorted(starts, [cut - search_s, cut + search_s])
        best: CutAlignment | None = None
        for onset in sorted(set(starts[lo:hi]), key=lambda t: abs(t - cut)):
            attack = [n for n in notes[lo:hi] if abs(n.start - onset) <= _ATTACK_WINDOW_S]
            pcs = _bass_first(attack)
            if len(pcs) >= 3:
                onset = float(onset)
                before = _sounding(notes, onset - 0.01)
                best = CutAlignment(cut, onset, abs(onset - cut) * 1000, pcs, set(pcs) != before)
                break
        results.append(best or CutAlignment(cut, None, None, (), False))
    return results


def _bass_first(attack: list[pretty_midi.Note]) -> tuple[int, ...]:
    ordered = sorted(attack, key=lambda n: n.pitch)
    pcs: list[int] = []
    for n in ordered:
        if n.pitch % 12 not in pcs:
            pcs.append(n.pitch % 12)
    return tuple(pcs)


def _sounding(notes: list[pretty_midi.Note], t: float) -> set[int]:
    return {n.pitch % 12 for n in notes if n.start <= t < n.end}
