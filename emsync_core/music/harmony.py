"""Small music-theory toolkit for the arranger: keys, diatonic chords, voicing.

Pitch classes are ints 0-11 (C = 0). A `Chord` is a root pitch class and a quality; a `Key`
is a tonic and a mode. Everything here is pure and deterministic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Intervals above the root, in semitones.
QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "sus4": (0, 5, 7),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "dom7": (0, 4, 7, 10),
    "hdim7": (0, 3, 6, 10),
}
_SUFFIX = {
    "maj": "",
    "min": "m",
    "dim": "dim",
    "sus4": "sus4",
    "maj7": "maj7",
    "min7": "m7",
    "dom7": "7",
    "hdim7": "m7b5",
}

# Scale steps of each mode, brightest first. "minor" uses the harmonic-minor dominant
# (raised 7th on V) because that is what makes a minor key sound minor to listeners and to
# key-finding algorithms alike.
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}
MAJOR_LIKE = {"major", "mixolydian"}


@dataclass(frozen=True)
class Chord:
    root: int
    quality: str

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in QUALITIES[self.quality])

    @property
    def symbol(self) -> str:
        return NOTE_NAMES[self.root] + _SUFFIX[self.quality]


@dataclass(frozen=True)
class Key:
    tonic: int
    mode: str

    @property
    def name(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def scale(self) -> tuple[int, ...]:
        return tuple((self.tonic + s) % 12 for s in MODES[self.mode])

    @property
    def pitch_classes(self) -> frozenset[int]:
        """The scale, plus in minor the leading tone its V chord uses."""
        extra = {(self.tonic + 11) % 12} if self.mode == "minor" else set()
        return frozenset(self.scale) | extra

    def degree(self, degree: int, seventh: bool = False) -> Chord:
        """The diatonic chord on scale degree 1-7, stacking thirds inside the mode."""
        steps = MODES[self.mode]
        idx = degree - 1
        pcs = [steps[(idx + k) % 7] + 12 * ((idx + k) // 7) for k in (0, 2, 4, 6)]
        if self.mode == "minor" and degree == 5:
            pcs[1] += 1  # harmonic-minor leading tone: V is major
        intervals = tuple(p - pcs[0] for p in pcs)
        quality = _quality_from_intervals(intervals if seventh else intervals[:3])
        return Chord((self.tonic + pcs[0]) % 12, quality)


def _quality_from_intervals(intervals: tuple[int, ...]) -> str:
    for name, ivs in QUALITIES.items():
        if ivs == intervals:
            return name
    # Diatonic stacks outside the table (e.g. augmented) fall back to their triad.
    return {(0, 4): "maj", (0, 3): "min"}.get(intervals[:2], "dim")


def voice_chord(
    chord: Chord, previous: tuple[int, ...] | None, low: int, high: int, voices: int = 4
) -> tuple[int, ...]:
    """Voicing of `chord` in [low, high] that moves least from `previous`.

    Every chord tone appears (the root is doubled for triads), adjacent upper voices stay
    within an octave, and with no previous voicing the one closest to the middle is chosen.
    """
    pcs = list(chord.pitch_classes)
    needed = (pcs + [pcs[0]] * voices)[:voices]  # triads double the root
    centre = (low + high) / 2
    best: tuple[float, tuple[int, ...]] | None = None
    for assignment in set(itertools.permutations(needed)):
        for octaves in itertools.product(*[_octaves(pc, low, high) for pc in assignment]):
            notes = tuple(sorted(octaves))
            if len(set(notes)) < voices or any(b - a > 12 for a, b in itertools.pairwise(notes)):
                continue
            if previous and len(previous) == voices:
                cost = sum(abs(a - b) for a, b in zip(notes, previous, strict=True))
            else:
                cost = abs(sum(notes) / voices - centre)
            if best is None or cost < best[0]:
                best = (cost, notes)
    if best is None:  # range too narrow for the spacing rule: stack closely from the bottom
        return tuple(sorted(low + (pc - low) % 12 for pc in needed))
    return best[1]


def _octaves(pc: int, low: int, high: int) -> list[int]:
    first = low + (pc - low) % 12
    return list(range(first, high + 1, 12))


def nearest_pitch(pc: int, target: int, low: int, high: int) -> int:
    """The pitch of class `pc` closest to `target` within [low, high]."""
    candidates = _octaves(pc, low, high) or [low + (pc - low) % 12]
    return min(candidates, key=lambda p: (abs(p - target), p))


def chord_from_symbol(symbol: str) -> Chord | None:
    """The `Chord` whose `symbol` is `symbol` ("Am", "F#m7b5", "Bb7"); None for "N.C." or
    anything else no chord of ours prints."""
    for name in sorted(NOTE_NAMES, key=len, reverse=True):
        if symbol.startswith(name):
            suffix = symbol[len(name) :]
            quality = next((q for q, s in _SUFFIX.items() if s == suffix), None)
            return None if quality is None else Chord(NOTE_NAMES.index(name), quality)
    return None
