"""Chord progressions for the MMA corpus: where they come from and how they are laid on bars.

A `Progression` is written relative to its tonic, so one progression gives all twelve keys.
Three sources (docs/corpus.md has the numbers):

- generated: pop/rock loops, a functional chain (tonic -> subdominant -> dominant moves) that
  always ends on a cadence, 12-bar blues and modal vamps, in major and minor;
- music21 chorales: the project's own recogniser (`corpus.piece_from_music21` +
  `chords.recognize`) reads their harmony; it changes about every beat, too fast under a pop
  groove and for `<CHORD>`, so only the chord *sequence* is kept and re-laid at the song's
  harmonic rhythm;
- MMA's example charts (`/usr/share/doc/mma/examples`): real song charts, kept with their
  own rhythm (lengths in beats) and used only with grooves of the same bar length.

`lay_out` turns a progression into `ChartChord`s on a beat grid, `chart_symbol` writes a chord
the way MMA reads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .harmony import NOTE_NAMES

# MMA's spelling of the eight qualities the recogniser and the labels know.
MMA_SUFFIX = {
    "maj": "",
    "min": "m",
    "dom7": "7",
    "maj7": "M7",
    "min7": "m7",
    "dim": "mb5",  # MMA's "dim" is a diminished *seventh*; "mb5" is the triad
    "hdim7": "m7b5",
    "sus4": "sus4",
}
EXAMPLES_DIR = Path("/usr/share/doc/mma/examples")

# Styles pair progressions with grooves (`mma_grooves.style_of`): Bach under a disco groove is
# harmonically fine but stylistically odd.
STYLES = ("pop", "jazz", "blues", "hymn", "vamp")


@dataclass(frozen=True)
class Progression:
    """Chords relative to the tonic: (semitones above the tonic, quality, length).

    `length` is in harmonic-rhythm slots (one slot = 1/chords_per_bar bars) unless `beats` is
    set, in which case it is in beats of a bar of `beats` beats (an MMA chart's own rhythm).
    """

    name: str
    source: str  # "loop", "chain", "blues", "vamp", "chorale", "mma-example"
    mode: str  # "major" or "minor"
    style: str  # one of STYLES
    chords: tuple[tuple[int, str, int], ...]
    beats: int | None = None


@dataclass(frozen=True)
class ChartChord:
    start_beat: float  # from the start of the chart
    beats: float
    root: int  # pitch class (absolute, after transposition)
    quality: str


def chart_symbol(root: int, quality: str) -> str:
    return NOTE_NAMES[root % 12] + MMA_SUFFIX[quality]


# ---------------------------------------------------------------------------------------
# Generated progressions

# Roman numerals -> (semitones, quality). Minor-key V is the harmonic-minor dominant.
_NUMERALS = {
    "I": (0, "maj"), "i": (0, "min"), "I7": (0, "dom7"), "Imaj7": (0, "maj7"),
    "i7": (0, "min7"), "bII": (1, "maj"), "II": (2, "maj"), "ii": (2, "min"),
    "ii7": (2, "min7"), "iio": (2, "dim"), "ii0": (2, "hdim7"), "bIII": (3, "maj"),
    "iii": (4, "min"), "iii7": (4, "min7"), "IV": (5, "maj"), "IV7": (5, "dom7"),
    "IVmaj7": (5, "maj7"), "iv": (5, "min"), "iv7": (5, "min7"), "V": (7, "maj"),
    "V7": (7, "dom7"), "Vsus": (7, "sus4"), "v": (7, "min"), "bVI": (8, "maj"),
    "bVI7": (8, "dom7"), "vi": (9, "min"), "vi7": (9, "min7"), "bVII": (10, "maj"),
    "viio": (11, "dim"), "vii0": (11, "hdim7"),
}  # fmt: skip

LOOPS: dict[str, tuple[str, str, str]] = {
    # name: (mode, style, numerals)
    "axis": ("major", "pop", "I V vi IV"),
    "axis-minor-start": ("major", "pop", "vi IV I V"),
    "doo-wop": ("major", "pop", "I vi IV V"),
    "pop-punk": ("major", "pop", "I IV vi V"),
    "rock-plagal": ("major", "pop", "I IV I V"),
    "classic-rock": ("major", "pop", "I bVII IV I"),
    "three-chord": ("major", "pop", "I IV V IV"),
    "ascending": ("major", "pop", "I iii IV V"),
    "canon": ("major", "pop", "I V vi iii IV I IV V"),
    "sensitive": ("major", "pop", "vi IV I V"),
    "ballad-sus": ("major", "hymn", "I IV Vsus V"),
    "hymn-plagal": ("major", "hymn", "I IV I V I IV V I"),
    "turnaround": ("major", "jazz", "Imaj7 vi7 ii7 V7"),
    "ii-V-I": ("major", "jazz", "ii7 V7 Imaj7 Imaj7"),
    "rhythm-a": ("major", "jazz", "I vi ii V I vi ii V"),
    "backdoor": ("major", "jazz", "Imaj7 IVmaj7 iii7 vi7 ii7 V7 Imaj7 Imaj7"),
    "aeolian-loop": ("minor", "pop", "i bVI bIII bVII"),
    "andalusian": ("minor", "pop", "i bVII bVI V"),
    "minor-plagal": ("minor", "pop", "i iv i V"),
    "minor-rock": ("minor", "pop", "i bVII bVI bVII"),
    "minor-epic": ("minor", "pop", "i bVI iv V"),
    "minor-pop": ("minor", "pop", "i iv bVII bIII"),
    "lament": ("minor", "hymn", "i iv V i"),
    "minor-hymn": ("minor", "hymn", "i iv i V i bVI iio V"),
    "minor-ii-V": ("minor", "jazz", "ii0 V7 i7 i7"),
    "minor-turnaround": ("minor", "jazz", "i7 bVI7 ii0 V7"),
}

BLUES: dict[str, tuple[str, str]] = {
    "blues": ("major", "I7 I7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7"),
    "blues-quick-change": ("major", "I7 IV7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7"),
    "minor-blues": ("minor", "i7 i7 i7 i7 iv7 iv7 i7 i7 bVI7 V7 i7 V7"),
}

# Modal vamps: the mode label is what the ear hears, major-like or minor-like.
VAMPS: dict[str, tuple[str, str]] = {
    "dorian": ("minor", "i7 i7 IV7 IV7"),
    "aeolian": ("minor", "i bVII bVI bVII"),
    "phrygian": ("minor", "i i bII i"),
    "mixolydian": ("major", "I I bVII I"),
    "lydian": ("major", "I I II I"),
    "minor-one-chord": ("minor", "i7 i7 i7 iv7"),
}

# The functional chain: tonic, subdominant and dominant chords of each mode, and moves.
_FUNCTIONS = {
    "major": {
        "T": ["I", "vi", "iii", "Imaj7", "vi7"],
        "S": ["IV", "ii", "ii7", "IVmaj7"],
        "D": ["V", "V7", "viio", "Vsus"],
    },
    "minor": {
        "T": ["i", "bVI", "i7", "bIII"],
        "S": ["iv", "iio", "ii0", "iv7"],
        "D": ["V", "V7", "bVII", "viio"],
    },
}
_MOVES = {"T": ("T", "S", "D"), "S": ("S", "D", "T"), "D": ("T", "D")}
_MOVE_P = {"T": (0.2, 0.55, 0.25), "S": (0.2, 0.6, 0.2), "D": (0.8, 0.2)}


def _numerals(text: str) -> tuple[tuple[int, str, int], ...]:
    return tuple((*_NUMERALS[n], 1) for n in text.split())


def generated_progressions() -> list[Progression]:
    """The fixed loops, blues and vamps (chains are drawn per song: `functional_chain`)."""
    out = [Progression(n, "loop", m, s, _numerals(t)) for n, (m, s, t) in LOOPS.items()]
    out += [Progression(n, "blues", m, "blues", _numerals(t)) for n, (m, t) in BLUES.items()]
    out += [Progression(n, "vamp", m, "vamp", _numerals(t)) for n, (m, t) in VAMPS.items()]
    return out


def functional_chain(rng: np.random.Generator, mode: str, length: int = 8) -> Progression:
    """A first-order chain over tonic/subdominant/dominant that ends S -> D(7) -> T."""
    table = _FUNCTIONS[mode]
    names = [table["T"][0]]
    function = "T"
    while len(names) < length - 3:
        options = _MOVES[function]
        function = options[int(rng.choice(len(options), p=_MOVE_P[function]))]
        choices = table[function]
        pick = choices[int(rng.integers(len(choices)))]
        if pick != names[-1]:
            names.append(pick)
    names += [table["S"][int(rng.integers(2))], "V7", table["T"][0]]
    return Progression(
        f"chain-{mode}-{'-'.join(names)}", "chain", mode, "pop", _numerals(" ".join(names))
    )


# ---------------------------------------------------------------------------------------
# Laying out and transposing


def harmonic_rhythm(beats_per_bar: int, chords_per_bar: float) -> float:
    """2 chords a bar only on an even bar of 4+ beats: halves of a 3/4 or 5/4 bar do not
    exist, and halves of a 2-beat bar would be 1-beat chords, below `chords.MIN_BEATS`, so no
    `<CHORD>` boundary at all (seen in the pilot: a 6/8 march in 2)."""
    if chords_per_bar == 2 and (beats_per_bar % 2 or beats_per_bar < 4):
        return 1.0
    return chords_per_bar


def lay_out(
    prog: Progression, beats_per_bar: int, chords_per_bar: float, bars: int
) -> list[ChartChord]:
    """Repeat `prog` to fill `bars` bars; chords never cross the end.

    `chords_per_bar` is 0.5, 1 or 2 (`harmonic_rhythm` says which is possible). A chart with
    its own rhythm (`prog.beats`) keeps it.
    """
    if prog.beats is not None:
        slot = 1.0
    else:
        slot = beats_per_bar / harmonic_rhythm(beats_per_bar, chords_per_bar)
    total = bars * beats_per_bar
    out: list[ChartChord] = []
    t = 0.0
    while t < total - 1e-9:
        for interval, quality, length in prog.chords:
            if t >= total - 1e-9:
                break
            beats = min(length * slot, total - t)
            if out and out[-1].root == interval and out[-1].quality == quality:
                previous = out[-1]  # a repeated chord is one longer chord, not a boundary
                out[-1] = ChartChord(previous.start_beat, previous.beats + beats, interval, quality)
            else:
                out.append(ChartChord(t, beats, interval, quality))
            t += beats
    return out


def transpose(chart: Sequence[ChartChord], tonic: int) -> list[ChartChord]:
    return [ChartChord(c.start_beat, c.beats, (c.root + tonic) % 12, c.quality) for c in chart]


# ---------------------------------------------------------------------------------------
# music21 chorales


def chorale_progression(path: str) -> Progression | None:
    """The chord sequence of one chorale relative to its key, or None when too short."""
    from music21 import converter

    from . import chords, corpus, labels

    piece = corpus.piece_from_music21(converter.parse(path, forceSource=True))
    spans = chords.recognize(piece)
    key = labels.raw_features(piece, spans).key
    tonic_name, mode = key.split()
    tonic = NOTE_NAMES.index(tonic_name)
    seq: list[tuple[int, str, int]] = []
    for span in spans:
        step = ((span.root - tonic) % 12, span.quality, 1)
        if not seq or seq[-1][:2] != step[:2]:
            seq.append(step)
    if len(seq) < 8:
        return None
    # Real cadences sit at the ends of phrases; keep at most 32 chords so a song repeats a
    # progression long enough to be heard, and end on the tonic when the chorale does.
    seq = seq[:32]
    return Progression(f"chorale-{Path(path).stem}", "chorale", mode, "hymn", tuple(seq))


# ---------------------------------------------------------------------------------------
# MMA example charts

_CHORD_RE = re.compile(r"^([A-G])([#b&]?)([^/]*)(/[A-G][#b&]?)?$")
_COMMAND_WORDS = {"z", "Z"}


def quality_of(suffix: str) -> str | None:
    """The quality family of an MMA chord suffix (extensions fold onto their seventh chord)."""
    s = suffix.replace("(", "").replace(")", "")
    if s in ("", "M", "maj", "6", "add9", "2", "5", "+", "aug", "69"):
        return "maj"
    if s.startswith(("m7b5", "m7-5", "mi7b5", "ø")):
        return "hdim7"
    if s.startswith(("dim", "o", "mb5")):
        return "dim"
    if s.startswith("sus"):
        return "sus4"
    if s.startswith(("M7", "maj7", "M9", "maj9", "M13", "maj13")):
        return "maj7"
    if s.startswith(("m7", "m9", "m11", "m13", "min7", "mi7")):
        return "min7"
    if s.startswith(("m", "min", "mi")):
        return "min"
    if s[:1] in ("7", "9") or s.startswith(("11", "13")):
        return "dom7"
    return None


def _parse_chord(token: str) -> tuple[int, str] | None:
    m = _CHORD_RE.match(token)
    if not m:
        return None
    quality = quality_of(m.group(3))
    if quality is None:
        return None
    root = NOTE_NAMES.index(m.group(1)) + {"#": 1, "b": -1, "&": -1}.get(m.group(2), 0)
    return root % 12, quality


def parse_mma_chart(text: str) -> tuple[int, list[list[tuple[int, str] | None]]]:
    """(beats per bar, bars) of an MMA song file; a bar is a list of cells (None = hold).

    Only plain chord lines count: an optional bar number, chords or '/', an optional `* N`.
    """
    beats = 4
    bars: list[list[tuple[int, str] | None]] = []
    for raw in text.splitlines():
        line = raw.split("//")[0]
        line = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", line).strip()
        if not line:
            continue
        words = line.split()
        if words[0].lower() == "time" and len(words) > 1 and words[1].split("/")[0].isdigit():
            beats = int(words[1].split("/")[0])
            continue
        repeat = 1
        if len(words) >= 3 and words[-2] == "*" and words[-1].isdigit():
            repeat, words = int(words[-1]), words[:-2]
        if words and words[0].isdigit():
            words = words[1:]
        if not words or words[0] in _COMMAND_WORDS:
            continue
        cells: list[tuple[int, str] | None] = []
        for w in words:
            if w == "/":
                cells.append(None)
                continue
            chord = _parse_chord(w)
            if chord is None:
                break
            cells.append(chord)
        else:
            if cells and cells[0] is not None and len(cells) <= beats:
                bars.extend([cells] * repeat)
    return beats, bars


def example_progression(path: Path) -> Progression | None:
    """An MMA example's chart, relative to its last chord (songs end on the tonic)."""
    beats, bars = parse_mma_chart(path.read_text(errors="replace"))
    if len(bars) < 8:
        return None
    cells: list[tuple[int, str] | None] = []
    for bar in bars:
        # MMA spreads fewer cells than beats over the bar: 1 cell = whole bar, 2 = halves.
        if len(bar) == 1:
            cells += [bar[0]] + [None] * (beats - 1)
        elif len(bar) == 2 and beats % 2 == 0:
            cells += [bar[0]] + [None] * (beats // 2 - 1) + [bar[1]] + [None] * (beats // 2 - 1)
        elif len(bar) == beats:
            cells += bar
        else:
            return None
    if len({c for c in cells if c is not None}) < 3:
        return None  # feature demos (scales, ornaments) sit on one or two chords
    tonic, last_quality = next(c for c in reversed(cells) if c is not None)
    mode = "minor" if last_quality in ("min", "min7") else "major"
    chords_: list[tuple[int, str, int]] = []
    for cell in cells:
        if cell is None:
            i, q, n = chords_[-1]
            chords_[-1] = (i, q, n + 1)
        else:
            chords_.append(((cell[0] - tonic) % 12, cell[1], 1))
    return Progression(
        f"mma-{path.parent.name}-{path.stem}", "mma-example", mode, "pop", tuple(chords_), beats
    )


def example_progressions(root: Path = EXAMPLES_DIR) -> list[Progression]:
    out = []
    for path in sorted(root.rglob("*.mma")):
        prog = example_progression(path)
        if prog is not None:
            out.append(prog)
    return out


def to_json(prog: Progression) -> dict:
    return {
        "name": prog.name,
        "source": prog.source,
        "mode": prog.mode,
        "style": prog.style,
        "chords": [list(c) for c in prog.chords],
        "beats": prog.beats,
    }


def from_json(data: dict) -> Progression:
    return Progression(
        data["name"],
        data["source"],
        data["mode"],
        data["style"],
        tuple((int(i), str(q), int(n)) for i, q, n in data["chords"]),
        data.get("beats"),
    )
