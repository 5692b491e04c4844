"""Writing `score.mid` with the picture's cuts and hits on a DAW's marker ruler.

pretty_midi writes notes, tempo map, time signatures and lyrics but no marker events (MIDI
meta type 0x06, what Logic, Cubase, Pro Tools and Reaper show as markers). So the file is
written by pretty_midi into memory, read back as a `mido.MidiFile`, and the markers are put
into its first track (the conductor track, which holds the tempo map) at the tick of each
time. Marker text carries the timeline's own timecode ("CUT 01:00:04:12 Am"), so an editor
and a composer can talk about the same frame.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import mido
import opentimelineio as otio
import pretty_midi

from ..timeline.edit import Edit
from ..timeline.timebase import timecode
from .score import ChordEvent

_TC_RE = re.compile(r"^(\d+):(\d+):(\d+)[:;.,](\d+)$")
# A chord counts as the one on a cut when it starts this close to it (the contract is 1 ms).
_ON_CUT_S = 1e-3


@dataclass(frozen=True)
class Mark:
    """A marker for the MIDI file: where (seconds from timeline frame 0), what, and its text."""

    time_s: float
    kind: str  # "cut" or "hit"
    text: str


def timeline_timecode(edit: Edit, frame: int) -> str:
    """The timecode an editor sees at timeline `frame`: the start timecode plus `frame`,
    counted drop-frame when the start timecode is written that way ("01:00:00;00")."""
    drop = ";" in edit.start_timecode or "." in edit.start_timecode
    return timecode(_timecode_frames(edit.start_timecode, edit.rate) + frame, edit.rate, drop)


def _timecode_frames(tc: str, rate: Fraction) -> int:
    """Frames counted by timecode `tc` at `rate` (drop-frame when written with ';')."""
    try:
        return round(otio.opentime.from_timecode(tc, float(rate)).value)
    except (ValueError, otio.exceptions.OTIOError):
        # Rates SMPTE does not define: plain HH:MM:SS:FF at the rounded rate, as `timecode`
        # writes them.
        match = _TC_RE.match(tc.strip())
        if match is None:
            return 0
        h, m, s, f = (int(g) for g in match.groups())
        return ((h * 60 + m) * 60 + s) * max(1, round(rate)) + f


def edit_marks(edit: Edit, chords: Sequence[ChordEvent] = ()) -> list[Mark]:
    """A mark on every cut and every `hit` marker of `edit`, named with its timecode and,
    where the score starts a chord there, the chord: "CUT 01:00:04:12 Am", "HIT 01:00:07:03".
    """
    starts = sorted((c.start_s, c.symbol) for c in chords)
    marks = []
    for kind, frames in (("cut", edit.cuts), ("hit", edit.hit_frames)):
        for frame in frames:
            t = edit.seconds(frame)
            text = f"{kind.upper()} {timeline_timecode(edit, frame)}"
            symbol = _chord_at(starts, t)
            marks.append(Mark(t, kind, f"{text} {symbol}" if symbol else text))
    return sorted(marks, key=lambda m: m.time_s)


def _chord_at(starts: list[tuple[float, str]], t: float) -> str:
    close = [(abs(s - t), symbol) for s, symbol in starts if abs(s - t) <= _ON_CUT_S]
    return min(close)[1] if close else ""


def to_midi_file(midi: pretty_midi.PrettyMIDI, marks: Sequence[Mark] = ()) -> mido.MidiFile:
    """The MIDI file pretty_midi would write, plus a marker event per mark in its first track."""
    buffer = io.BytesIO()
    midi.write(buffer)
    buffer.seek(0)
    mf = mido.MidiFile(file=buffer)
    if not marks:
        return mf
    conductor = mf.tracks[0]
    events: list[tuple[int, int, mido.MetaMessage]] = []  # (tick, order, message)
    tick = 0
    for order, message in enumerate(conductor):
        tick += message.time
        if message.type != "end_of_track":
            events.append((tick, order, message))
    last = tick
    for mark in marks:
        at = midi.time_to_tick(mark.time_s)
        # After the tempo and bar events of the same tick: a DAW reads those first.
        events.append((at, len(conductor) + len(events), _marker(mark.text)))
        last = max(last, at)
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    tick = 0
    for at, _, message in events:
        track.append(message.copy(time=at - tick))
        tick = at
    track.append(mido.MetaMessage("end_of_track", time=last - tick))
    mf.tracks[0] = track
    return mf


def _marker(text: str) -> mido.MetaMessage:
    # mido writes text as latin-1; a chord or timecode never needs more, but be safe.
    return mido.MetaMessage("marker", text=text.encode("latin-1", "replace").decode("latin-1"))


def write_midi(midi: pretty_midi.PrettyMIDI, path: str | Path, marks: Sequence[Mark] = ()) -> None:
    """Write `midi` to `path` with a marker event per mark in its conductor track."""
    to_midi_file(midi, marks).save(str(path))


def read_marks(path: str | Path) -> list[tuple[int, str]]:
    """The (tick, text) of every marker event in a MIDI file, in order."""
    out, tick = [], 0
    for message in mido.MidiFile(str(path)).tracks[0]:
        tick += message.time
        if message.type == "marker":
            out.append((tick, message.text))
    return out
