"""The `Score`: what any engine hands to rendering and to the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pretty_midi

# 1920 ticks per quarter at 120 bpm is 0.26 ms a tick, so a chord written on a cut lands
# within 0.13 ms of it in the MIDI file (the contract asks for 1 ms).
MIDI_RESOLUTION = 1920
MIDI_TEMPO = 120.0


@dataclass(frozen=True)
class ChordEvent:
    """One chord of the score: where it starts and ends, and whether a cut demanded it."""

    start_s: float
    end_s: float
    symbol: str
    key: str
    hard: bool  # starts on a cut (or at time 0)
    scene: int


@dataclass(frozen=True)
class Score:
    midi: pretty_midi.PrettyMIDI
    chords: tuple[ChordEvent, ...]
    engine: str
    seed: int


def layer_of(instrument: pretty_midi.Instrument) -> str:
    """The layer an instrument plays in ("pad", "bass", ...), from its name "<layer> - <sound>".

    Engines name instruments this way so that stems group by musical role, however many
    programs a layer switched between.
    """
    return instrument.name.split(" - ")[0].strip() or "instrument"


def load_midi(path: str | Path) -> pretty_midi.PrettyMIDI:
    """Read a MIDI file, long ones included.

    pretty_midi rejects files past 10^7 ticks as "likely corrupt" (43 minutes at our tick
    rate); a feature-length score is longer than that, so the limit is raised for our reads.
    """
    pretty_midi.pretty_midi.MAX_TICK = max(pretty_midi.pretty_midi.MAX_TICK, 10**10)
    return pretty_midi.PrettyMIDI(str(path))


def new_midi() -> pretty_midi.PrettyMIDI:
    """An empty MIDI file whose time 0 is timeline frame 0."""
    return pretty_midi.PrettyMIDI(resolution=MIDI_RESOLUTION, initial_tempo=MIDI_TEMPO)
