"""Ensembles: the same notes played by another band.

An engine chooses its instruments by mood (the arranger's palettes, the transformer's
instrument groups). An editor often knows the sound the film needs before any note is written
("just piano", "strings only", "synths"), so an ensemble re-voices every layer with General
MIDI programs of one family after the music is written: the notes, chords and cut timing stay
exactly as composed. Families without a drum kit drop the percussion layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pretty_midi

from .score import layer_of


@dataclass(frozen=True)
class Ensemble:
    name: str
    description: str
    programs: dict[str, int]  # layer -> GM program; layers not named take `other`
    other: int
    drums: bool


# Layers: the arranger writes pad, bass, ostinato, melody; the transformer bass, keys,
# plucks, strings, winds. Programs are General MIDI numbers (0-based), all in the bundled
# FluidR3 Mono GM SoundFont.
ENSEMBLES: dict[str, Ensemble | None] = {
    "film": None,  # the engine's own choice, by mood
    "strings": Ensemble(
        "strings",
        "string orchestra: ensemble strings, contrabass, pizzicato, solo violin; no drums",
        {"pad": 48, "strings": 48, "bass": 43, "ostinato": 45, "plucks": 45, "melody": 40},
        other=49,
        drums=False,
    ),
    "piano": Ensemble("piano", "solo piano; no drums", {}, other=0, drums=False),
    "chamber": Ensemble(
        "chamber",
        "chamber group: slow strings, cello, harp, clarinet, flute; no drums",
        {"pad": 49, "strings": 49, "bass": 42, "ostinato": 46, "plucks": 46, "melody": 71},
        other=73,
        drums=False,
    ),
    "synth": Ensemble(
        "synth",
        "synthesisers: warm pad, synth bass, saw arpeggios, voice lead; drums kept",
        {"pad": 89, "strings": 89, "keys": 89, "bass": 38, "ostinato": 81, "plucks": 81},
        other=85,
        drums=True,
    ),
}
DEFAULT_ENSEMBLE = "film"


def apply_ensemble(midi: pretty_midi.PrettyMIDI, name: str) -> None:
    """Re-voice `midi` in place for ensemble `name` (see `ENSEMBLES`); "film" changes nothing.

    Instruments keep their layer (so stems still group by musical role) and their notes."""
    if name not in ENSEMBLES:
        raise ValueError(f"unknown ensemble '{name}': choose from {', '.join(ENSEMBLES)}")
    ensemble = ENSEMBLES[name]
    if ensemble is None:
        return
    kept = []
    for inst in midi.instruments:
        if inst.is_drum:
            if ensemble.drums:
                kept.append(inst)
            continue
        layer = layer_of(inst)
        inst.program = ensemble.programs.get(layer, ensemble.other)
        inst.name = f"{layer} - {pretty_midi.program_to_instrument_name(inst.program)}"
        kept.append(inst)
    midi.instruments = kept
