"""Known labels next to a MIDI file: `song.mid` + `song.json` with `"format": "emsync-labels/1"`.

Written by generators that know what they made (the MMA corpus: `mma_corpus.py`; our
arranger: `arranger_corpus.py`). The corpus builder (`corpus.process_item`) reads it and then:

- uses `boundaries_s` as the `<CHORD>` boundaries instead of recognising chords (power-chord
  grooves have no third, so recognition finds nothing there);
- stores the piece's and each window's valence/arousal/mode, which override the proxy labels
  (`labels.py`) when the corpus is read (`corpus.Corpus`).

Only these fields (and `tonic`, the key's pitch class, per piece and per window, when
present) are read; a generator
may write more (key name, tempo, groove, chart).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FORMAT = "emsync-labels/1"


@dataclass(frozen=True)
class LabelWindow:
    start_s: float
    end_s: float
    valence: float  # [-1, 1]
    arousal: float  # [-1, 1]
    mode: str  # "major" or "minor"
    tonic: int | None = None  # the window's own key, when the generator modulates


@dataclass(frozen=True)
class Sidecar:
    source: str  # e.g. "mma"
    boundaries_s: tuple[float, ...]
    valence: float
    arousal: float
    mode: str
    windows: tuple[LabelWindow, ...]
    tonic: int | None = None  # pitch class of the key's tonic, when the generator knows it


def path_for(midi_path: str | Path) -> Path:
    return Path(midi_path).with_suffix(".json")


def read(midi_path: str | Path) -> Sidecar | None:
    """The sidecar of a MIDI file, or None when there is none (or it is some other JSON)."""
    path = path_for(midi_path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return Sidecar(
        source=str(data.get("source", "unknown")),
        boundaries_s=tuple(float(t) for t in data["boundaries_s"]),
        valence=float(data["valence"]),
        arousal=float(data["arousal"]),
        mode=str(data["mode"]),
        windows=tuple(
            LabelWindow(
                float(w["start_s"]),
                float(w["end_s"]),
                float(w["valence"]),
                float(w["arousal"]),
                str(w["mode"]),
                int(w["tonic"]) if w.get("tonic") is not None else None,
            )
            for w in data.get("windows", [])
        ),
        tonic=int(data["tonic"]) if data.get("tonic") is not None else None,
    )
