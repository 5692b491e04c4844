"""Chord recognition, boundaries and per-token boundary offsets, on known progressions."""

from __future__ import annotations

import numpy as np
import pytest

from emsync_core.music import chords as ch
from emsync_core.music import events as ev
from emsync_core.music.arranger import arrange
from emsync_core.music.plan import plan_score

BEAT = 0.5


def progression(chords: list[tuple[list[int], int]], melody: bool = False) -> ev.Piece:
    """A piece from (pitches with the bass first, beats) per chord, 120 bpm; optionally a
    passing-tone melody line on every off-beat eighth."""
    notes: list[ev.Note] = []
    t = 0.0
    for pitches, beats in chords:
        end = t + beats * BEAT
        notes.append(ev.Note(ev.BASS, pitches[0], t, end))
        notes += [ev.Note(ev.STRINGS, p, t, end) for p in pitches[1:]]
        if melody:
            for k in range(beats):
                # a short neighbour note a step above the top voice, on the off-beat
                top = max(pitches)
                start = t + k * BEAT + BEAT / 2
                notes.append(ev.Note(ev.KEYS, top + 2, start, start + BEAT / 4))
        t = end
    beats = np.arange(0.0, t, BEAT)
    return ev.Piece(notes, beats=beats, downbeats=beats[::4])


# I - vi - IV - V7 - I in C, with inversions and sevenths; (pitches, beats, expected symbol)
CASES = [
    ([48, 64, 67, 72], 2, "C"),
    ([45, 60, 64, 69], 2, "Am"),
    ([41, 60, 65, 69], 1, "F"),
    ([45, 60, 65, 72], 1, "F"),  # first inversion: A in the bass, root still F
    ([43, 59, 65, 67], 2, "G7"),
    ([40, 60, 67, 72], 2, "C"),  # C/E
    ([50, 60, 65, 69], 2, "Dm7"),  # D bass + C F A: Dm7, not F6
    ([47, 62, 65, 68], 1, "Bdim"),
    ([43, 62, 65, 71], 1, "G7"),
    ([48, 64, 67, 71], 4, "Cmaj7"),
]


def spans_by_beat(spans: list[ch.ChordSpan]) -> list[str]:
    out: list[str] = []
    for s in spans:
        out += [s.symbol] * s.beats
    return out


@pytest.mark.parametrize("melody", [False, True])
def test_known_progression_is_recognised_beat_by_beat(melody):
    piece = progression([(p, b) for p, b, _ in CASES], melody=melody)
    expected = [sym for _, beats, sym in CASES for _ in range(beats)]
    assert spans_by_beat(ch.recognize(piece)) == expected


def test_repeated_chords_merge_and_only_long_ones_are_boundaries():
    piece = progression([(p, b) for p, b, _ in CASES])
    spans = ch.recognize(piece)
    symbols = [s.symbol for s in spans]
    # F then F/A merge into one two-beat F; C/E after G7 is a new span.
    assert symbols == ["C", "Am", "F", "G7", "C", "Dm7", "Bdim", "G7", "Cmaj7"]
    assert [s.beats for s in spans] == [2, 2, 2, 2, 2, 2, 1, 1, 4]
    assert spans[2].bass == 5 and spans[4].bass == 4  # F (first beat's bass), C/E
    assert ch.boundaries(spans) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0]


def test_minor_and_suspended_and_half_diminished():
    piece = progression(
        [([45, 64, 69, 72], 2), ([38, 62, 67, 69], 2), ([47, 62, 65, 69], 2), ([40, 64, 68, 71], 2)]
    )
    assert [s.symbol for s in ch.recognize(piece)] == ["Am", "Dsus4", "Bm7b5", "E"]


def test_silence_and_unisons_are_not_chords():
    notes = [ev.Note(ev.STRINGS, 60, 0.0, 1.0), ev.Note(ev.STRINGS, 72, 0.0, 1.0)]
    notes += [ev.Note(ev.STRINGS, p, 2.0, 3.0) for p in (60, 64, 67)]
    notes.append(ev.Note(ev.DRUMS, 38, 1.0, 2.0))  # drums carry no harmony
    piece = ev.Piece(notes, beats=np.arange(0.0, 3.0, BEAT))
    spans = ch.recognize(piece)
    assert [(s.symbol, s.start, s.beats) for s in spans] == [("C", 2.0, 2)]


def test_onsets_snap_to_slightly_early_notes():
    # Humanised: the second chord is played 20 ms before its beat.
    notes = [ev.Note(ev.STRINGS, p, 0.0, 0.98) for p in (48, 64, 67)]
    notes += [ev.Note(ev.STRINGS, p, 0.98, 2.0) for p in (53, 65, 69)]
    piece = ev.Piece(notes, beats=np.arange(0.0, 2.0, BEAT))
    assert ch.boundaries(ch.recognize(piece)) == [0.0, 0.98]


def test_boundary_offsets_count_down_to_each_chord_token():
    s = ev.shift_token
    on, off = ev.note_on(ev.KEYS, 60), ev.note_off(ev.KEYS, 60)
    tokens = [ev.CHORD, on, s(100), off, s(25), ev.CHORD, on, s(125), s(125), off]
    t_next = ch.boundary_offsets(tokens)
    expected = [1.0, 1.0, 0.2, 0.2, 0.0, np.inf, np.inf, np.inf, np.inf, np.inf]
    assert t_next.dtype == np.float32
    np.testing.assert_allclose(t_next, expected, atol=1e-6)
    assert np.all(np.isinf(ch.boundary_offsets([on, s(10), off])))


def test_offsets_in_an_encoded_piece_point_at_the_boundaries():
    piece = progression([(p, b) for p, b, _ in CASES])
    bounds = ch.boundaries(ch.recognize(piece))
    tokens = ev.encode(piece, bounds)
    t_next = ch.boundary_offsets(tokens)
    times = ev.token_times(tokens) * ev.STEP_S
    arrival = times + t_next
    finite = np.isfinite(t_next)
    assert set(np.round(arrival[finite], 3)) <= set(np.round(bounds, 3))
    assert np.all(t_next[finite] >= 0)
    # The offset never increases between two boundaries while time moves on.
    chord_at = np.flatnonzero(tokens == ev.CHORD)
    for a, b in zip(chord_at[:-1], chord_at[1:], strict=True):
        assert np.all(np.diff(t_next[a:b]) <= 1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_arranger_chords_are_recognised(seed):
    spans_s = [(0.0, 9.0), (9.0, 17.5), (17.5, 27.0)]
    plan = plan_score(spans_s, [(0.7, 0.2), (-0.6, -0.5), (0.3, 0.7)], seed)
    score = arrange(plan)
    beats = np.concatenate([sc.start_s + sc.beat_s * np.arange(sc.beats) for sc in plan.scenes])
    spans = ch.recognize(ev.piece_from_midi(score.midi), beats)
    hits = 0
    for chord in score.chords:
        middle = (chord.start_s + chord.end_s) / 2
        found = next((s for s in spans if s.start <= middle < s.end), None)
        hits += found is not None and found.symbol == chord.symbol
    assert hits / len(score.chords) >= 0.9
    # Every arranger chord change lasting two beats or more is a boundary, within 10 ms.
    bounds = np.array(ch.boundaries(spans))
    beat_of = {sc.index: sc.beat_s for sc in plan.scenes}
    for chord in score.chords:
        if chord.end_s - chord.start_s >= 2 * beat_of[chord.scene] - 1e-6:
            assert np.min(np.abs(bounds - chord.start_s)) < 0.01, chord
