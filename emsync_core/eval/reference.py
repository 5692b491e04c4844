"""Real music to compare with: the music21 pieces the transformer never trained on.

The corpus builder holds out a piece for validation by its content hash (`corpus.split_of`,
5 %); those pieces (Bach chorales, Monteverdi madrigals, string quartets) are the reference.
They are read once through the corpus's own reader (the same instrument groups the model
sees) and cached as MIDI plus their chord boundaries, so later runs take a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pretty_midi

from ..music import chords, events
from ..music.corpus import _VAL_PERCENT, list_sources, load_piece, split_of

LAYER = {
    events.BASS: "bass",
    events.STRINGS: "strings",
    events.KEYS: "keys",
    events.GUITAR: "plucks",
    events.WINDS: "winds",
    events.DRUMS: "percussion",
}


@dataclass(frozen=True)
class ReferencePiece:
    name: str
    midi: pretty_midi.PrettyMIDI
    duration_s: float
    chord_changes_s: tuple[float, ...]  # the piece's own chord boundaries, as in training


def _to_midi(piece: events.Piece) -> pretty_midi.PrettyMIDI:
    midi = pretty_midi.PrettyMIDI(resolution=1920, initial_tempo=120.0)
    by_group: dict[int, pretty_midi.Instrument] = {}
    for n in piece.notes:
        if n.group not in by_group:
            by_group[n.group] = pretty_midi.Instrument(
                program=events.GROUP_PROGRAM[n.group],
                is_drum=n.group == events.DRUMS,
                name=f"{LAYER[n.group]} - reference",
            )
        by_group[n.group].notes.append(pretty_midi.Note(n.velocity, n.pitch, n.start, n.end))
    midi.instruments = [by_group[g] for g in sorted(by_group)]
    return midi


def reference_pieces(cache: Path, limit: int | None = None) -> list[ReferencePiece]:
    """The held-out music21 pieces (cached under `cache`)."""
    cache.mkdir(parents=True, exist_ok=True)
    index_path = cache / "index.json"
    if not index_path.exists():
        items, _ = list_sources(["music21"])
        held_out = [i for i in items if split_of(i.sha1, _VAL_PERCENT) == "val"]
        index = []
        for k, item in enumerate(held_out):
            piece = load_piece(item)
            if not piece.notes:
                continue
            name = f"{k:02d}_{Path(item.path).parent.name}_{Path(item.path).stem}"
            _to_midi(piece).write(str(cache / f"{name}.mid"))
            bounds = chords.boundaries(chords.recognize(piece))
            index.append({"name": name, "duration_s": piece.duration, "chords_s": list(bounds)})
        index_path.write_text(json.dumps(index, indent=1))
    index = json.loads(index_path.read_text())[:limit]
    return [
        ReferencePiece(
            e["name"],
            pretty_midi.PrettyMIDI(str(cache / f"{e['name']}.mid")),
            float(e["duration_s"]),
            tuple(float(t) for t in e["chords_s"]),
        )
        for e in index
    ]
