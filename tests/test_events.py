"""Tokenizer: vocabulary layout, GM mapping and MIDI -> tokens -> MIDI round trips."""

from __future__ import annotations

import random

import numpy as np
import pretty_midi
import pytest

from emsync_core.music import events as ev
from emsync_core.music.arranger import arrange
from emsync_core.music.plan import plan_score


def random_midi(seed: int, n_notes: int = 120) -> pretty_midi.PrettyMIDI:
    """Arbitrary (unquantised, overlapping, re-struck) notes on random programs and drums."""
    rng = random.Random(seed)
    midi = pretty_midi.PrettyMIDI(initial_tempo=rng.uniform(60, 180))
    for _ in range(rng.randint(1, 5)):
        drum = rng.random() < 0.2
        inst = pretty_midi.Instrument(program=rng.randrange(112), is_drum=drum)
        for _ in range(n_notes // 3):
            start = rng.uniform(0, 12)
            length = rng.choice([rng.uniform(0.001, 0.01), rng.uniform(0.05, 3.0)])
            pitch = rng.randint(35, 81) if drum else rng.randint(21, 108)
            inst.notes.append(pretty_midi.Note(rng.randint(1, 127), pitch, start, start + length))
        midi.instruments.append(inst)
    return midi


def test_vocabulary_layout_matches_paper_plus_winds():
    assert 6 + 125 + 2 * len(ev.GROUPS) * 88 == ev.VOCAB_SIZE
    names = ev.vocabulary()
    assert names[:4] == ["<PAD>", "<START>", "<BAR>", "<CHORD>"]
    assert names[ev.shift_token(1)] == "SHIFT_1" and names[ev.shift_token(125)] == "SHIFT_125"
    assert names[ev.note_on(ev.STRINGS, 60)] == "ON_STRINGS_60"
    assert names[ev.note_off(ev.WINDS, 108)] == "OFF_WINDS_108"
    assert len(set(names)) == ev.VOCAB_SIZE
    with pytest.raises(ValueError):
        ev.shift_token(126)


def test_every_gm_program_has_a_documented_group():
    table = ev.PROGRAM_GROUP
    assert len(table) == 128
    assert table[0] == ev.KEYS and table[25] == ev.GUITAR and table[33] == ev.BASS
    assert table[40] == ev.STRINGS and table[43] == ev.BASS and table[46] == ev.GUITAR
    assert table[48] == ev.STRINGS and table[52] == ev.WINDS and table[60] == ev.WINDS
    assert table[73] == ev.WINDS and table[89] == ev.STRINGS
    assert all(table[p] is None for p in range(120, 128))
    assert ev.group_of(0, is_drum=True) == ev.DRUMS
    # Every group is reachable from some program or the drum channel.
    assert {g for g in table if g is not None} | {ev.DRUMS} == set(range(len(ev.GROUPS)))


@pytest.mark.parametrize("seed", range(12))
def test_random_midi_round_trip_is_exact_on_the_grid(seed):
    piece = ev.piece_from_midi(random_midi(seed))
    tokens = ev.encode(piece)
    assert tokens.dtype == np.uint16 and tokens.max() < ev.VOCAB_SIZE
    expected = ev.canonical(piece)
    assert ev.decode_events(tokens).notes == expected
    # Through a real MIDI object and back again: the same notes on the same 8 ms steps.
    again = ev.piece_from_midi(ev.decode(tokens))
    assert ev.canonical(again) == expected
    assert np.array_equal(ev.encode(again, bars=False), ev.encode(piece, bars=False))


@pytest.mark.parametrize("seed", range(6))
def test_canonical_notes_are_within_half_a_step_of_the_source(seed):
    midi = random_midi(seed)
    piece = ev.piece_from_midi(midi)
    starts = {(n.group, n.pitch, round(n.start / ev.STEP_S)) for n in piece.notes}
    for group, pitch, start, end in ev.canonical(piece):
        assert (group, pitch, start) in starts
        assert end > start


def test_long_gaps_are_split_into_one_second_shifts():
    piece = ev.Piece([ev.Note(ev.KEYS, 60, 0.0, 0.2), ev.Note(ev.KEYS, 62, 2.6, 2.8)])
    names = [ev.token_name(t) for t in ev.encode(piece, bars=False)]
    assert names == [
        "ON_KEYS_60", "SHIFT_25", "OFF_KEYS_60", "SHIFT_125", "SHIFT_125", "SHIFT_50",
        "ON_KEYS_62", "SHIFT_25", "OFF_KEYS_62",
    ]  # fmt: skip


def test_same_step_order_is_off_bar_chord_on():
    piece = ev.Piece(
        [ev.Note(ev.BASS, 40, 0.0, 1.0), ev.Note(ev.BASS, 43, 1.0, 2.0)],
        downbeats=np.array([0.0, 1.0]),
    )
    names = [ev.token_name(t) for t in ev.encode(piece, boundaries_s=[1.0])]
    at_one_second = names[names.index("SHIFT_125") + 1 :][:4]
    assert at_one_second == ["OFF_BASS_40", "<BAR>", "<CHORD>", "ON_BASS_43"]


def test_out_of_range_pitches_fold_and_odd_programs_drop():
    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes += [pretty_midi.Note(90, 12, 0, 1), pretty_midi.Note(90, 120, 0, 1)]
    fx = pretty_midi.Instrument(program=122)  # seashore: dropped
    fx.notes.append(pretty_midi.Note(90, 60, 0, 1))
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes += [pretty_midi.Note(90, 36, 0, 0.1), pretty_midi.Note(90, 12, 0, 0.1)]
    midi.instruments += [piano, fx, drums]
    notes = {(n.group, n.pitch) for n in ev.piece_from_midi(midi).notes}
    assert notes == {(ev.KEYS, 24), (ev.KEYS, 108), (ev.DRUMS, 36)}


def test_arranger_score_round_trips_and_keeps_its_groups():
    plan = plan_score([(0.0, 6.0), (6.0, 13.5)], [(0.6, 0.5), (-0.5, -0.2)], seed=3)
    piece = ev.piece_from_midi(arrange(plan).midi)
    assert {ev.GROUPS[g] for g in piece.groups} >= {"BASS", "DRUMS", "STRINGS"}
    tokens = ev.encode(piece)
    assert ev.decode_events(tokens).notes == ev.canonical(piece)
    assert (tokens == ev.BAR).sum() == len(piece.downbeats)


def test_music21_chorale_round_trips():
    corpus = pytest.importorskip("music21.corpus")
    from emsync_core.music.corpus import piece_from_music21

    piece = piece_from_music21(corpus.parse("bach/bwv66.6"))
    assert [ev.GROUPS[g] for g in piece.groups] == ["BASS", "STRINGS"]
    tokens = ev.encode(piece)
    assert ev.decode_events(tokens).notes == ev.canonical(piece)
    assert len(ev.canonical(piece)) > 100


def test_decoder_tolerates_model_mistakes():
    on, off = ev.note_on(ev.KEYS, 60), ev.note_off(ev.KEYS, 60)
    stray_off = ev.note_off(ev.KEYS, 61)
    tokens = [stray_off, on, ev.shift_token(10), on, ev.shift_token(5)]
    notes = ev.decode_events(tokens).notes
    assert notes == [(ev.KEYS, 60, 0, 10), (ev.KEYS, 60, 10, 15)]
    assert ev.decode_events([on, off]).notes == [(ev.KEYS, 60, 0, 1)]


def test_decode_accents_keys_at_chord_marks():
    tokens = [ev.CHORD, ev.note_on(ev.KEYS, 60), ev.note_on(ev.STRINGS, 64), ev.shift_token(50)]
    midi = ev.decode(tokens)
    # the one decoder (generate writes with it too): keys and guitar 120 on a chord mark, other
    # pitched groups 100, so a cut chord played by strings alone is still heard
    velocities = {inst.name.split(" - ")[0]: inst.notes[0].velocity for inst in midi.instruments}
    assert velocities == {"keys": 120, "strings": 100}
    later = ev.decode([ev.shift_token(5), ev.note_on(ev.STRINGS, 64), ev.shift_token(5)])
    assert later.instruments[0].notes[0].velocity == 80
    assert midi.instruments[0].program == ev.GROUP_PROGRAM[ev.KEYS]


@pytest.mark.parametrize("seed", range(4))
def test_augment_transposes_pitched_notes_and_stretches_time(seed):
    piece = ev.piece_from_midi(random_midi(seed, n_notes=60))
    tokens = ev.encode(piece, boundaries_s=[1.0, 4.0])
    base = ev.decode_events(tokens)
    up = ev.decode_events(ev.augment(tokens, transpose=2))
    expected = sorted(
        (g, p if g == ev.DRUMS else p + 2, s, e)
        for g, p, s, e in base.notes
        if g == ev.DRUMS or p + 2 <= ev.PITCH_MAX
    )
    # Notes that collide after transposition are merged by the same rule as `canonical`.
    assert {n[:3] for n in up.notes} == {n[:3] for n in expected}
    assert up.chords == base.chords
    slow = ev.decode_events(ev.augment(tokens, stretch=1.5))
    assert slow.chords == [round(s * 1.5) for s in base.chords]
    assert len(slow.notes) == len(base.notes)
    assert max(n[3] for n in slow.notes) == pytest.approx(
        1.5 * max(n[3] for n in base.notes), abs=1
    )


def test_sequence_prefix_uses_instrument_threshold():
    assert ev.sequence_prefix(2, at_start=True) == [ev.START, ev.LESS_INSTRUMENTS]
    assert ev.sequence_prefix(3, at_start=False) == [ev.MORE_INSTRUMENTS]
