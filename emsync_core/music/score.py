"""The `Score`: what any engine hands to rendering and to the report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

# 1920 ticks per quarter at 120 bpm is 0.26 ms a tick, so a chord written on a cut lands
# within 0.13 ms of it in the MIDI file (the contract asks for 1 ms). With a beat grid
# (`set_beat_grid`) cuts fall on whole beats, hence on exact ticks, at any tempo (all but
# the cuts of shots too short for a beat, which fall inside one).
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


# A chord starting this close to time 0 starts the score, not a cut.
_AT_START_S = 5e-4


def add_cut_lyrics(midi: pretty_midi.PrettyMIDI, chords: Sequence[ChordEvent]) -> None:
    """A lyric `CUT <chord>` at the start of every chord a cut demanded, as the README
    promises, so a composer's DAW names the chord under each cut.

    Time 0 is not a cut (it is the timeline's first frame), so its chord gets no lyric. A
    `hit` marker is a hard boundary too and is labelled the same way: the engines see
    boundaries, not where they came from (the pipeline's marker events tell cuts from hits).
    """
    for chord in chords:
        if chord.hard and chord.start_s > _AT_START_S:
            midi.lyrics.append(pretty_midi.Lyric(f"CUT {chord.symbol}", chord.start_s))
    midi.lyrics.sort(key=lambda lyric: lyric.time)


# The tempo a beat grid may take. A DAW, a click track and a player all read a tempo outside
# 40-240 bpm as a mistake; a 1-frame shot fitted to one beat would otherwise be 1,440 bpm.
MIN_BPM = 40.0
MAX_BPM = 240.0
_MIN_BEAT_S = 60.0 / MAX_BPM
_MAX_BEAT_S = 60.0 / MIN_BPM
_MIN_BEAT_US = round(6e7 / MAX_BPM)
_MAX_BEAT_US = round(6e7 / MIN_BPM)


@dataclass(frozen=True)
class TempoSpan:
    """One constant tempo of the map: it ends at `end_s` and holds `beats` whole beats;
    `bar` says whether a bar starts with it (at a cut) or it carries on the bars before
    (a beat stretched to take in a shot too short for a beat of its own, say)."""

    end_s: float
    beats: int
    bar: bool = True


@dataclass
class _Span:
    """A scene (or a block of consecutive short shots) and the length of each of its beats."""

    start: float
    end: float
    lengths: list[float]
    short: bool  # too short for one beat at MAX_BPM
    own: bool = True  # False once a neighbour has taken it in
    stretched_left: int = 0  # first beats stretched to take in the block before
    stretched_right: int = 0


def beat_spans(
    ends_s: Sequence[float], beats: Sequence[int], beat_s: Sequence[float | None] | None = None
) -> list[TempoSpan]:
    """The tempo map for scenes that end at `ends_s` and hold `beats` beats: every beat
    within 40-240 bpm.

    A scene's beats are equal unless `beat_s[i]` is given: then all but its last are that
    long and the last takes what is left before the cut (music that kept its own pulse and
    was cut off by the next shot). A scene whose beat is too slow divides it by a whole
    number (its old beats stay on the grid); one asking for beats too fast for its length
    gets as many as fit. A scene too short for one beat at 240 bpm (a shot of a few frames;
    consecutive ones count as one block) borrows the surrounding tempo: the neighbour whose
    beat it changes least keeps its tempo and stretches its beat next to the block to take
    the block in, so that neighbour's other beats stay where its music has them, the block's
    cut falls inside a beat, and every other cut still starts a bar. A block long enough for
    beats of its own takes them instead when that changes the tempo less.
    """
    given = list(beat_s) if beat_s is not None else [None] * len(ends_s)
    spans: list[_Span] = []
    start = 0.0
    for end, n, b in zip(ends_s, beats, given, strict=True):
        short = end - start < _MIN_BEAT_S
        if short and spans and spans[-1].short:
            spans[-1].end = end  # consecutive short shots form one block
            spans[-1].lengths = [spans[-1].end - spans[-1].start]
        else:
            spans.append(_Span(start, end, _beat_lengths(end - start, max(1, n), b), short))
        start = end
    for i, block in enumerate(spans):
        if block.short:
            _lean(block, spans[i - 1] if i else None, spans[i + 1] if i + 1 < len(spans) else None)
    out: list[TempoSpan] = []
    for span in spans:
        if not span.own:
            continue
        t = span.start
        for k, length in enumerate(span.lengths):
            t += length
            same = k and abs(length - span.lengths[k - 1]) < 1e-9
            if same:
                out[-1] = TempoSpan(t, out[-1].beats + 1, out[-1].bar)
            else:
                out.append(TempoSpan(t, 1, k == 0))
        out[-1] = TempoSpan(span.end, out[-1].beats, out[-1].bar)  # exact, not summed
    return out


def _beat_lengths(length_s: float, n: int, beat_s: float | None) -> list[float]:
    """Beats for a scene: `n` - 1 of `beat_s` and the rest, or `n` equal ones, in range."""
    if beat_s is not None and n > 1:
        last = length_s - (n - 1) * beat_s
        if min(beat_s, last) >= _MIN_BEAT_S and max(beat_s, last) <= _MAX_BEAT_S:
            return [beat_s] * (n - 1) + [last]
    n = _in_range(length_s, n)
    return [length_s / n] * n


def _lean(block: _Span, before: _Span | None, after: _Span | None) -> None:
    """Give a block of short shots to the neighbour it disturbs least, or beats of its own.

    Costs are how far (log ratio) a beat moves from the neighbour's; ties go to the scene
    before (its last beat stretches, and the cut after the block keeps its bar line).
    """
    length = block.end - block.start
    options: list[tuple[float, int, str, int]] = []
    for side, host in (("before", before), ("after", after)):
        if host is None or host.short:
            continue
        free = len(host.lengths) - host.stretched_left - host.stretched_right
        for k in range(1, free + 1):
            near = host.lengths[-k:] if side == "before" else host.lengths[:k]
            if max(near) + length / k <= _MAX_BEAT_S:
                cost = math.log(1 + length / k / (sum(near) / k))
                options.append((cost, len(options), side, k))
                break
        if length >= _MIN_BEAT_S:
            beat = host.lengths[-1] if side == "before" else host.lengths[0]
            n = _in_range(length, max(1, round(length / beat)))
            options.append((abs(math.log(length / n / beat)), len(options), "own", n))
    if not options:
        host = next((h for h in (before, after) if h is not None and not h.short), None)
        if host is None:  # the whole file is this block: one beat, as near 240 bpm as it gets
            return
        # Beside one long slow beat there is no room: the host refits equal beats over both.
        block.own = False
        beat = sum(host.lengths) / len(host.lengths)
        host.start, host.end = min(host.start, block.start), max(host.end, block.end)
        total = host.end - host.start
        n = _in_range(total, max(1, round(total / beat)))
        host.lengths = [total / n] * n
        host.stretched_left = host.stretched_right = 0
        return
    _, _, side, k = min(options)
    if side == "own":
        block.lengths = [length / k] * k
        return
    block.own = False
    if side == "before":
        before.lengths[-k:] = [b + length / k for b in before.lengths[-k:]]
        before.end, before.stretched_right = block.end, k
    else:
        after.lengths[:k] = [b + length / k for b in after.lengths[:k]]
        after.start, after.stretched_left = block.start, k


def _in_range(length_s: float, n: int) -> int:
    """`n` beats over `length_s`, or the nearest count whose beat lies within 40-240 bpm.

    Too slow a beat is divided by a whole number, so the old beats stay on the new grid.
    A span shorter than one beat at 240 bpm keeps its `n` (`_lean` deals with it).
    """
    if length_s < _MIN_BEAT_S:
        return n
    if length_s / n > _MAX_BEAT_S:
        return n * math.ceil(length_s / n / _MAX_BEAT_S)
    if length_s / n < _MIN_BEAT_S:
        return max(1, math.floor(length_s / _MIN_BEAT_S))
    return n


def set_beat_grid(
    midi: pretty_midi.PrettyMIDI,
    ends_s: Sequence[float],
    beats: Sequence[int],
    beat_s: Sequence[float | None] | None = None,
) -> None:
    """Give the file the music's own beat. Scenes run back to back from time 0; scene i ends
    at `ends_s[i]` and holds `beats[i]` whole beats (equal ones, or, with `beat_s[i]`, all
    but the last of that length). Each scene gets its own tempo from its first tick and a
    4/4 bar that restarts there, with a shorter bar before the next cut when the beats do not
    fill four, so a composer's DAW shows bars and beats where the music has them. Note times
    (seconds) do not change; only their ticks do.

    No tempo leaves 40-240 bpm: a shot of a few frames borrows its neighbour's tempo, and
    a scene too slow counts halves of its beat (`beat_spans`).

    Tempos in a MIDI file are whole microseconds per beat. Each span's tempo is rounded so
    that the file's own clock meets the span's end again, so rounding never accumulates:
    every cut that starts a bar stays on its exact tick, within a microsecond per beat.
    """
    res = midi.resolution
    scales: list[tuple[int, float]] = []
    bars: list[tuple[int, int]] = []  # (tick, beats in the bar)
    tick, clock_us = 0, 0
    group: list[int] = []  # [first tick, beats] of the scene whose bars are being counted
    for span in beat_spans(ends_s, beats, beat_s):
        tempo_us = round((span.end_s * 1e6 - clock_us) / span.beats)
        # Only a whole file under a quarter second cannot reach its end within 240 bpm.
        tempo_us = min(_MAX_BEAT_US, max(_MIN_BEAT_US, tempo_us))
        scales.append((tick, tick_scale(tempo_us, res)))
        if span.bar:
            _close_bars(group, bars, res)
            group = [tick, 0]
        group[1] += span.beats
        tick += span.beats * res
        clock_us += span.beats * tempo_us
    _close_bars(group, bars, res)
    midi._tick_scales = scales  # pretty_midi has no public API for a tempo map
    # tick_to_time refuses ticks past 10^7 (43 minutes), as load_midi explains; raise it here too.
    pretty_midi.pretty_midi.MAX_TICK = max(pretty_midi.pretty_midi.MAX_TICK, 10**10)
    midi._update_tick_to_time(tick + 1)
    midi.time_signature_changes = [
        pretty_midi.TimeSignature(n, 4, float(midi.tick_to_time(at))) for at, n in bars
    ]


def _close_bars(group: list[int], bars: list[tuple[int, int]], res: int) -> None:
    """4/4 from a cut's first tick, and a shorter last bar when its beats do not fill four."""
    if not group:
        return
    at, n = group
    bars.append((at, min(n, 4)))
    if n > 4 and n % 4:
        bars.append((at + (n - n % 4) * res, n % 4))


def tempo_in(midi: pretty_midi.PrettyMIDI, start_s: float, end_s: float) -> float:
    """The tempo (bpm) of the file's tempo map that holds longest within [start_s, end_s):
    a scene's own tempo, not that of a stretched beat it starts in."""
    times, tempi = midi.get_tempo_changes()
    edges = np.append(times, np.inf)
    overlap = np.minimum(edges[1:], end_s) - np.maximum(edges[:-1], start_s)
    return float(tempi[int(np.argmax(overlap))])


def tick_scale(tempo_us: int, res: int) -> float:
    """Seconds per tick for `tempo_us`, nudged (by ulps) so that pretty_midi, which truncates
    when it writes the tempo back, writes exactly `tempo_us`."""
    scale = tempo_us / (res * 1e6)
    while int(6e7 / (60.0 / (scale * res))) < tempo_us:
        scale = math.nextafter(scale, math.inf)
    return scale
