"""The `Score`: what any engine hands to rendering and to the report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pretty_midi

# 1920 ticks per quarter at 120 bpm is 0.26 ms a tick, so a chord written on a cut lands
# within 0.13 ms of it in the MIDI file (the contract asks for 1 ms). With a beat grid
# (`set_beat_grid`) cuts fall on whole beats, hence on exact ticks, at any tempo.
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


def set_beat_grid(
    midi: pretty_midi.PrettyMIDI, ends_s: Sequence[float], beats: Sequence[int]
) -> None:
    """Give the file the music's own beat. Scenes run back to back from time 0; scene i ends
    at `ends_s[i]` and holds `beats[i]` whole beats. Each scene gets its own
    tempo from its first tick and a 4/4 bar that restarts there, with a shorter bar before
    the next cut when the beats do not fill four, so a composer's DAW shows bars and beats
    where the music has them. Note times (seconds) do not change; only their ticks do.

    Tempos in a MIDI file are whole microseconds per beat. Each scene's tempo is rounded so
    that the file's own clock meets the next cut again, so rounding never accumulates:
    every cut stays on its exact tick, within a microsecond per beat of the scene.
    """
    res = midi.resolution
    scales: list[tuple[int, float]] = []
    signatures: list[pretty_midi.TimeSignature] = []
    tick, clock_us = 0, 0
    for end, n in zip(ends_s, beats, strict=True):
        n = max(1, n)
        tempo_us = max(1, round((end * 1e6 - clock_us) / n))
        scales.append((tick, _tick_scale(tempo_us, res)))
        signatures.append(pretty_midi.TimeSignature(min(n, 4), 4, clock_us / 1e6))
        if n > 4 and n % 4:
            last_bar_us = clock_us + (n - n % 4) * tempo_us
            signatures.append(pretty_midi.TimeSignature(n % 4, 4, last_bar_us / 1e6))
        tick += n * res
        clock_us += n * tempo_us
    midi._tick_scales = scales  # pretty_midi has no public API for a tempo map
    midi._update_tick_to_time(tick + 1)
    midi.time_signature_changes = signatures


def _tick_scale(tempo_us: int, res: int) -> float:
    """Seconds per tick for `tempo_us`, nudged (by ulps) so that pretty_midi, which truncates
    when it writes the tempo back, writes exactly `tempo_us`."""
    scale = tempo_us / (res * 1e6)
    while int(6e7 / (60.0 / (scale * res))) < tempo_us:
        scale = math.nextafter(scale, math.inf)
    return scale
