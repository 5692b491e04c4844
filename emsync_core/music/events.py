"""Event vocabulary of the EMSYNC generator and the MIDI <-> token tokenizer.

The vocabulary follows the paper (Sulun, Viana & Davies, arXiv 2502.10154, section 4): six special
tokens, 125 TIME_SHIFT tokens (8 ms to 1 s in 8 ms steps) and NOTE_ON / NOTE_OFF for every
instrument group and every piano-key pitch 21-108. There are no velocity or tempo tokens: time
is absolute, and decoded notes get a fixed velocity (accented after `<CHORD>`, as in the paper).

Instrument groups. The paper uses the five LPD-5 groups (bass, drums, guitar, piano, strings).
We add WINDS because film scores lean on horns, woodwinds and choir far more than pop does,
and folding a horn line into "strings" would teach the model that strings play horn calls.
Every General MIDI program maps to one group (or is dropped) through `PROGRAM_GROUP`:

| programs | GM family | group |
| --- | --- | --- |
| 0-7 | piano | KEYS |
| 8-15 | chromatic percussion (celesta, vibraphone, marimba, bells...) | KEYS |
| 16-23 | organ | KEYS |
| 24-31 | guitar | GUITAR |
| 32-39 | bass | BASS |
| 40-42, 44, 45 | violin, viola, cello, tremolo and pizzicato strings | STRINGS |
| 43 | contrabass | BASS |
| 46 | orchestral harp | GUITAR (plucked) |
| 47 | timpani | BASS (pitched, low; GM drum keys would lose its pitch) |
| 48-51, 55 | string ensembles, synth strings, orchestra hit | STRINGS |
| 52-54 | choir aahs, voice oohs, synth voice | WINDS (sustained breath) |
| 56-79 | brass, reed, pipe | WINDS |
| 80-87 | synth lead | WINDS (monophonic lead lines) |
| 88-95 | synth pad | STRINGS (pads do the string-pad job in a score) |
| 96-103 | synth effects | KEYS |
| 104-108 | sitar, banjo, shamisen, koto, kalimba | GUITAR (plucked) |
| 109, 111 | bagpipe, shanai | WINDS |
| 110 | fiddle | STRINGS |
| 112, 114 | tinkle bell, steel drums | KEYS |
| 113, 115-119 | agogo, woodblock, taiko, melodic tom, synth drum, reverse cymbal | dropped |
| 120-127 | sound effects | dropped |
| any drum-channel track | GM percussion keys | DRUMS |

The dropped programs have pitches that mean neither a melody nor a GM drum key, so keeping
them would only add noise. Out-of-range pitched notes are folded by octaves into 21-108;
drum keys outside it are dropped (folding would change the drum).

Round trip: `decode(encode(piece))` reproduces `canonical(piece)` exactly, i.e. the notes with
their group, pitch and start/end rounded to the 8 ms grid (a note shorter than one step lasts
one step; overlapping notes of one group and pitch are cut where the next one starts).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pretty_midi

from .score import new_midi  # the Score's MIDI conventions (resolution, tempo)

STEP_S = 0.008
MAX_SHIFT_STEPS = 125  # 125 x 8 ms = 1 s; longer gaps are split into several shifts
PITCH_MIN, PITCH_MAX = 21, 108
N_PITCHES = PITCH_MAX - PITCH_MIN + 1
INSTRUMENT_THRESHOLD = 3  # paper: `threshold_n_instruments`; 3+ groups -> <MORE_INSTRUMENTS>

GROUPS: tuple[str, ...] = ("BASS", "DRUMS", "KEYS", "GUITAR", "STRINGS", "WINDS")
BASS, DRUMS, KEYS, GUITAR, STRINGS, WINDS = range(len(GROUPS))

# Program used to render each group (paper: piano 0, guitar 25, bass 32, strings 48); winds
# render as French horn, the film-score wind sound.
GROUP_PROGRAM: dict[int, int] = {BASS: 32, DRUMS: 0, KEYS: 0, GUITAR: 25, STRINGS: 48, WINDS: 60}


def _program_table() -> tuple[int | None, ...]:
    table: list[int | None] = [None] * 128
    for program in range(128):
        family = program // 8
        if family in (0, 1, 2, 12):  # piano, chromatic percussion, organ, synth effects
            group: int | None = KEYS
        elif family == 3:
            group = GUITAR
        elif family == 4:
            group = BASS
        elif family in (5, 6, 11):
            group = STRINGS
        elif family in (7, 8, 9, 10):
            group = WINDS
        else:
            group = None
        table[program] = group
    table[43] = BASS  # contrabass plays the bass line
    table[46] = GUITAR  # harp: plucked
    table[47] = BASS  # timpani: low and pitched
    table[52] = table[53] = table[54] = WINDS  # voices: sustained breath
    for program in range(104, 109):
        table[program] = GUITAR
    table[109] = table[111] = WINDS
    table[110] = STRINGS
    table[112] = table[114] = KEYS
    return tuple(table)


PROGRAM_GROUP: tuple[int | None, ...] = _program_table()


def group_of(program: int, is_drum: bool) -> int | None:
    """The instrument group of a GM program (drum channel -> DRUMS); None when dropped."""
    return DRUMS if is_drum else PROGRAM_GROUP[program]


# ---------------------------------------------------------------------------------------
# Vocabulary

SPECIALS: tuple[str, ...] = (
    "<PAD>",
    "<START>",
    "<BAR>",
    "<CHORD>",
    "<LESS_INSTRUMENTS>",
    "<MORE_INSTRUMENTS>",
)
PAD, START, BAR, CHORD, LESS_INSTRUMENTS, MORE_INSTRUMENTS = range(len(SPECIALS))
SHIFT_BASE = len(SPECIALS)  # TIME_SHIFT of k steps (1..125) is SHIFT_BASE + k - 1
NOTE_ON_BASE = SHIFT_BASE + MAX_SHIFT_STEPS
NOTE_OFF_BASE = NOTE_ON_BASE + len(GROUPS) * N_PITCHES
VOCAB_SIZE = NOTE_OFF_BASE + len(GROUPS) * N_PITCHES


def shift_token(steps: int) -> int:
    if not 1 <= steps <= MAX_SHIFT_STEPS:
        raise ValueError(f"time shift of {steps} steps is outside 1..{MAX_SHIFT_STEPS}")
    return SHIFT_BASE + steps - 1


def note_on(group: int, pitch: int) -> int:
    return NOTE_ON_BASE + group * N_PITCHES + pitch - PITCH_MIN


def note_off(group: int, pitch: int) -> int:
    return NOTE_OFF_BASE + group * N_PITCHES + pitch - PITCH_MIN


def token_name(token: int) -> str:
    """Human-readable name, e.g. `ON_STRINGS_60`, `SHIFT_16`, `<CHORD>`."""
    if token < SHIFT_BASE:
        return SPECIALS[token]
    if token < NOTE_ON_BASE:
        return f"SHIFT_{token - SHIFT_BASE + 1}"
    kind = "ON" if token < NOTE_OFF_BASE else "OFF"
    index = (token - NOTE_ON_BASE) % (len(GROUPS) * N_PITCHES)
    return f"{kind}_{GROUPS[index // N_PITCHES]}_{index % N_PITCHES + PITCH_MIN}"


def vocabulary() -> list[str]:
    """Every token's name, indexed by token id."""
    return [token_name(t) for t in range(VOCAB_SIZE)]


def instrument_token(n_groups: int) -> int:
    return MORE_INSTRUMENTS if n_groups >= INSTRUMENT_THRESHOLD else LESS_INSTRUMENTS


# ---------------------------------------------------------------------------------------
# The piece: what the tokenizer, chord recognition and labels all read


@dataclass(frozen=True)
class Note:
    group: int
    pitch: int
    start: float  # seconds
    end: float
    velocity: int = 80


@dataclass
class Piece:
    """Notes by instrument group plus the metrical grid, independent of the file format."""

    notes: list[Note]
    beats: np.ndarray = field(default_factory=lambda: np.zeros(0))  # seconds
    downbeats: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def duration(self) -> float:
        return max((n.end for n in self.notes), default=0.0)

    @property
    def groups(self) -> list[int]:
        return sorted({n.group for n in self.notes})


def fold_pitch(pitch: int) -> int:
    while pitch < PITCH_MIN:
        pitch += 12
    while pitch > PITCH_MAX:
        pitch -= 12
    return pitch


def piece_from_midi(midi: pretty_midi.PrettyMIDI) -> Piece:
    """Notes mapped to groups (see the module table) with the file's beats and downbeats."""
    notes: list[Note] = []
    for inst in midi.instruments:
        group = group_of(inst.program, inst.is_drum)
        if group is None:
            continue
        for n in inst.notes:
            if n.end <= n.start:
                continue
            if group == DRUMS:
                if not PITCH_MIN <= n.pitch <= PITCH_MAX:
                    continue
                pitch = n.pitch
            else:
                pitch = fold_pitch(n.pitch)
            notes.append(Note(group, pitch, float(n.start), float(n.end), int(n.velocity)))
    end = max((n.end for n in notes), default=0.0)
    beats = np.asarray(midi.get_beats(), dtype=float) if notes else np.zeros(0)
    downbeats = np.asarray(midi.get_downbeats(), dtype=float) if notes else np.zeros(0)
    return Piece(notes, beats[beats < end], downbeats[downbeats < end])


# ---------------------------------------------------------------------------------------
# Tokenizer


def _steps(seconds: float) -> int:
    return int(round(seconds / STEP_S))


def canonical(piece: Piece) -> list[tuple[int, int, int, int]]:
    """(group, pitch, start_step, end_step) of every note as the tokens can express it.

    Sorted; this is exactly what `decode(encode(piece))` gives back.
    """
    by_key: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for n in piece.notes:
        start = _steps(n.start)
        end = max(_steps(n.end), start + 1)
        by_key.setdefault((n.group, n.pitch), []).append((start, end))
    out: list[tuple[int, int, int, int]] = []
    for (group, pitch), spans in by_key.items():
        spans.sort()
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and merged[-1][0] == start:
                merged[-1][1] = max(merged[-1][1], end)  # unison doubling: one note
            elif merged and merged[-1][1] > start:
                # A re-strike before the release: ON/OFF tokens can only say "the old note
                # stops where the new one starts".
                merged[-1][1] = start
                merged.append([start, end])
            else:
                merged.append([start, end])
        out.extend((group, pitch, s, e) for s, e in merged)
    return sorted(out)


def encode(piece: Piece, boundaries_s: Iterable[float] = (), bars: bool = True) -> np.ndarray:
    """Token ids (uint16) for `piece`, without the `<START>`/instrument-count prefix.

    Within one time step the order is: NOTE_OFFs, `<BAR>`, `<CHORD>`, NOTE_ONs, so that the
    `<CHORD>` token directly precedes the notes of the boundary chord it announces.
    """
    bar_steps = [_steps(t) for t in piece.downbeats] if bars else []
    chord_steps = [_steps(t) for t in sorted(set(boundaries_s))]
    return serialize(canonical(piece), bar_steps, chord_steps)


def serialize(
    notes: Iterable[tuple[int, int, int, int]],
    bar_steps: Iterable[int] = (),
    chord_steps: Iterable[int] = (),
) -> np.ndarray:
    """Tokens for notes given as (group, pitch, start_step, end_step) with end > start."""
    events: list[tuple[int, int, int]] = []  # (step, order within the step, token)
    for group, pitch, start, end in notes:
        events.append((start, 3, note_on(group, pitch)))
        events.append((end, 0, note_off(group, pitch)))
    events.extend((step, 1, BAR) for step in set(bar_steps))
    events.extend((step, 2, CHORD) for step in set(chord_steps))
    events.sort()
    tokens: list[int] = []
    now = 0
    for step, _, token in events:
        gap = step - now
        while gap > 0:
            shift = min(gap, MAX_SHIFT_STEPS)
            tokens.append(shift_token(shift))
            gap -= shift
        now = max(now, step)
        tokens.append(token)
    return np.asarray(tokens, dtype=np.uint16)


def token_times(tokens: Sequence[int] | np.ndarray) -> np.ndarray:
    """Time in 8 ms steps at each token, counting the shifts before and including it."""
    tokens = np.asarray(tokens, dtype=np.int64)
    is_shift = (tokens >= SHIFT_BASE) & (tokens < NOTE_ON_BASE)
    return np.cumsum(np.where(is_shift, tokens - SHIFT_BASE + 1, 0))


@dataclass(frozen=True)
class Decoded:
    notes: list[tuple[int, int, int, int]]  # canonical form: (group, pitch, start, end) steps
    bars: list[int]
    chords: list[int]  # steps at which `<CHORD>` was emitted


def decode_events(tokens: Sequence[int] | np.ndarray) -> Decoded:
    """Notes, bars and boundary marks from tokens; tolerant of what a model may emit.

    A NOTE_ON for a sounding note re-strikes it, a stray NOTE_OFF is ignored, and notes still
    sounding at the end stop there (or one step after their start).
    """
    now = 0
    sounding: dict[tuple[int, int], int] = {}
    notes: list[tuple[int, int, int, int]] = []
    bars: list[int] = []
    chords: list[int] = []
    for token in np.asarray(tokens, dtype=np.int64).tolist():
        if token < SHIFT_BASE:
            if token == BAR:
                bars.append(now)
            elif token == CHORD:
                chords.append(now)
            continue
        if token < NOTE_ON_BASE:
            now += token - SHIFT_BASE + 1
            continue
        index = (token - NOTE_ON_BASE) % (len(GROUPS) * N_PITCHES)
        key = (index // N_PITCHES, index % N_PITCHES + PITCH_MIN)
        if token < NOTE_OFF_BASE:
            if key in sounding and sounding[key] < now:
                notes.append((*key, sounding.pop(key), now))
            sounding.setdefault(key, now)
        elif key in sounding and sounding[key] < now:
            notes.append((*key, sounding.pop(key), now))
    for key, start in sounding.items():
        notes.append((*key, start, max(now, start + 1)))
    return Decoded(sorted(notes), bars, chords)


MAX_NOTE_STEPS = round(8.0 / STEP_S)  # 8 s: longer notes are model slips, not music

# Instruments are named "<layer> - <sound>", so stems group by musical role.
GROUP_LAYER: dict[int, str] = {
    BASS: "bass",
    DRUMS: "percussion",
    KEYS: "keys",
    GUITAR: "plucks",
    STRINGS: "strings",
    WINDS: "winds",
}


def decode(
    tokens: Sequence[int] | np.ndarray,
    seconds: Callable[[float], float] | None = None,
    end: int | None = None,
    release_at: Sequence[int] = (),
) -> pretty_midi.PrettyMIDI:
    """`to_midi` of the tokens' `decode_events`."""
    return to_midi(decode_events(tokens), seconds, end, release_at)


def to_midi(
    decoded: Decoded,
    seconds: Callable[[float], float] | None = None,
    end: int | None = None,
    release_at: Sequence[int] = (),
) -> pretty_midi.PrettyMIDI:
    """The one token-to-MIDI decoder: one instrument per group (GM program `GROUP_PROGRAM`),
    named "<layer> - <sound>".

    Notes last at most `MAX_NOTE_STEPS` (a note the model never released would drone on),
    end by step `end`, and end at the next step of `release_at` (cuts, under the
    constraint). Pitched notes starting at a `<CHORD>` step are accented (keys and guitar
    120, as the paper's renderer, the other pitched groups 100, so a cut chord played by
    strings alone is still heard); the rest get 80. `seconds(step)` maps steps to seconds
    (default: 8 ms each).
    """
    seconds = seconds or (lambda step: step * STEP_S)
    chord_steps = set(decoded.chords)
    midi = new_midi()
    instruments: dict[int, pretty_midi.Instrument] = {}
    for group, pitch, start, stop in decoded.notes:
        if group not in instruments:
            program = GROUP_PROGRAM[group]
            sound = "Drums" if group == DRUMS else pretty_midi.program_to_instrument_name(program)
            instruments[group] = pretty_midi.Instrument(
                program=program, is_drum=group == DRUMS, name=f"{GROUP_LAYER[group]} - {sound}"
            )
        velocity = 80
        if start in chord_steps and group != DRUMS:
            velocity = 120 if group in (KEYS, GUITAR) else 100
        stop = min(stop, start + MAX_NOTE_STEPS, end if end is not None else stop)
        k = bisect.bisect_right(release_at, start)
        if k < len(release_at):
            stop = min(stop, release_at[k])
        instruments[group].notes.append(
            pretty_midi.Note(velocity, pitch, seconds(start), seconds(stop))
        )
    midi.instruments = [instruments[g] for g in sorted(instruments)]
    return midi


def sequence_prefix(n_groups: int, at_start: bool) -> list[int]:
    """Tokens a training window or a generation starts with: `<START>` at the piece start,
    then the instrument-count token."""
    return ([START] if at_start else []) + [instrument_token(n_groups)]


def augment(
    tokens: Sequence[int] | np.ndarray, transpose: int = 0, stretch: float = 1.0
) -> np.ndarray:
    """The same music transposed by `transpose` semitones and played `stretch` times as long.

    Done on the fly by the data loader (nothing augmented is stored). Drums are not
    transposed; pitched notes pushed outside 21-108 are dropped (ON and OFF alike, so the
    stream stays consistent). Stretched times are re-rounded to the 8 ms grid; a note keeps
    at least one step.
    """
    decoded = decode_events(tokens)
    notes = []
    for group, pitch, start, end in decoded.notes:
        if group != DRUMS:
            pitch += transpose
            if not PITCH_MIN <= pitch <= PITCH_MAX:
                continue
        new_start = int(round(start * stretch))
        notes.append((group, pitch, new_start, max(int(round(end * stretch)), new_start + 1)))
    bars = [int(round(s * stretch)) for s in decoded.bars]
    chords = [int(round(s * stretch)) for s in decoded.chords]
    return serialize(sorted(notes), bars, chords)


def cap_notes(tokens: Sequence[int] | np.ndarray, max_steps: int = MAX_NOTE_STEPS) -> np.ndarray:
    """The same tokens with every note ended after `max_steps` by a NOTE_OFF, as `to_midi`
    ends it in the MIDI: what a model trained on this reads is what the listener hears.

    Decoded and serialized again (`decode_events`, `serialize`), with the same tolerance: a
    NOTE_OFF whose NOTE_ON is not in `tokens` is dropped, and notes still sounding at the end
    end there.
    """
    decoded = decode_events(tokens)
    notes = [(g, p, s, min(e, s + max_steps)) for g, p, s, e in decoded.notes]
    return serialize(notes, decoded.bars, decoded.chords)
