"""Which chords does an engine put on the shots of the valence sweeps, and does it stay in key?

Reads the harness's rows (`python -m emsync_core.eval music --parts sweep|unseen_sweep`) and
their MIDI, for the valence -1 and +1 scores (the mode line's):
- the planned key heard (Krumhansl rank 0 among the 24) in the first and in the last 10 s;
- the best-fitting triad of each shot (the span between two cuts), named by its degree in the
  planned key, as a share of time (`*m` / `*M`: a minor / major triad where the key has the
  other quality; `?N`: a root N semitones above the tonic outside the scale).

A one-scene sweep score changes chord at each cut, so with five or so shots in 30 s, which
degrees the shots land on decides whether the whole score reads major or minor.

Usage: .venv/bin/python benchmarks/sweep_chords.py ROWS.jsonl [ROWS.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pretty_midi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emsync_core.eval.measures import key_rank, pitch_classes  # noqa: E402
from emsync_core.music.harmony import NOTE_NAMES  # noqa: E402

EDGE_S = 10.0
DEGREES = {
    "major": {0: "I", 2: "ii", 4: "iii", 5: "IV", 7: "V", 9: "vi", 11: "vii"},
    "minor": {0: "i", 2: "ii", 3: "III", 5: "iv", 7: "V", 8: "VI", 10: "VII"},
}
TRIADS = {(root, q): (root, (root + (4 if q == "M" else 3)) % 12, (root + 7) % 12)
          for root in range(12) for q in ("M", "m")}  # fmt: skip


def best_triad(h: np.ndarray) -> tuple[int, str]:
    """(root, "M" or "m") of the triad whose pitch classes sound longest in `h`."""
    return max(TRIADS, key=lambda t: h[list(TRIADS[t])].sum())


def degree_name(root: int, quality: str, tonic: int, mode: str) -> str:
    name = DEGREES[mode].get((root - tonic) % 12)
    if name is None:
        return f"?{(root - tonic) % 12}{quality}"
    return name if name[0].isupper() == (quality == "M") else f"{name}*{quality}"


def read(rows_path: Path) -> dict[float, tuple[int, int, int, Counter]]:
    """Per valence (-1, +1): (scores, key heard first 10 s, last 10 s, seconds per degree)."""
    out: dict[float, tuple[int, int, int, Counter]] = {}
    for line in rows_path.read_text().splitlines():
        row = json.loads(line)
        if row.get("sweep") != "valence" or abs(row["valence"]) != 1.0:
            continue
        midi_path = rows_path.parent / row["midi"]
        if not midi_path.exists():
            continue
        midi = pretty_midi.PrettyMIDI(str(midi_path))
        name, mode = row["planned_key"].split()
        tonic, end = NOTE_NAMES.index(name), row["duration_s"]
        n, first, last, chords = out.get(row["valence"], (0, 0, 0, Counter()))
        minor = mode == "minor"
        first += key_rank(midi, tonic, minor, (0.0, EDGE_S)) == 0
        last += key_rank(midi, tonic, minor, (end - EDGE_S, end)) == 0
        cuts = [0.0, *(lyric.time for lyric in midi.lyrics), end]
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            root, quality = best_triad(pitch_classes(midi, (lo, hi)))
            chords[degree_name(root, quality, tonic, mode)] += hi - lo
        out[row["valence"]] = (n + 1, first, last, chords)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("rows", nargs="+", type=Path)
    args = p.parse_args()
    for path in args.rows:
        print(path.name)
        for valence, (n, first, last, chords) in sorted(read(path).items()):
            total = sum(chords.values())
            shares = ", ".join(f"{k} {v / total:.2f}" for k, v in chords.most_common(7))
            print(f"  valence {valence:+.0f}: {n} scores, planned key heard in the first "
                  f"{EDGE_S:.0f} s {first}, in the last {last}")  # fmt: skip
            print(f"    chords per shot: {shares}")


if __name__ == "__main__":
    main()
