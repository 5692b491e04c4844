"""Musical statistics on hand-built MIDI whose right answers are known."""

import math
import random

import pretty_midi
import pytest

from emsync_core.music import stats

C_MAJOR = (60, 62, 64, 65, 67, 69, 71)


def midi_of(*tracks: list[tuple[int, float, float]], drums: bool = False) -> pretty_midi.PrettyMIDI:
    """One instrument per list of (pitch, start, end); all drum tracks when `drums`."""
    midi = pretty_midi.PrettyMIDI()
    for notes in tracks:
        inst = pretty_midi.Instrument(program=0, is_drum=drums)
        inst.notes = [pretty_midi.Note(80, p, s, e) for p, s, e in notes]
        midi.instruments.append(inst)
    return midi


def scale(pitches, length: float = 0.5) -> list[tuple[int, float, float]]:
    return [(p, i * length, (i + 1) * length) for i, p in enumerate(pitches)]


def loop(times: int, seconds: float = 2.0, jitter_s: float = 0.0, seed: int = 0):
    """A 2 s figure of 8 different pitch classes, played `times` times back to back."""
    rng = random.Random(seed)
    step = seconds / 8
    notes = []
    for k in range(times):
        for i, pitch in enumerate((60, 64, 67, 74, 65, 69, 71, 61)):
            start = k * seconds + i * step + rng.uniform(-jitter_s, jitter_s)
            notes.append((pitch, max(0.0, start), k * seconds + (i + 1) * step))
    return notes


def test_c_major_scale():
    midi = midi_of(scale(C_MAJOR))
    assert stats.scale_consistency(midi) == pytest.approx(1.0)
    assert stats.pitch_class_entropy(midi) == pytest.approx(math.log2(7))
    assert stats.polyphony(midi) == pytest.approx(1.0)
    assert stats.note_lengths(midi) == pytest.approx((0.5, 0.0))
    assert stats.inter_onset_intervals(midi) == pytest.approx((0.5, 0.0))
    assert stats.notes_per_second(midi) == pytest.approx(7 / 3.5)


def test_chromatic_scale_uses_every_pitch_class_equally():
    midi = midi_of(scale(range(60, 72)))
    assert stats.pitch_class_entropy(midi) == pytest.approx(math.log2(12))
    assert stats.scale_consistency(midi) == pytest.approx(7 / 12)


def test_pitch_classes_are_weighted_by_duration():
    midi = midi_of([(60, 0.0, 3.0), (61, 3.0, 4.0), (72, 4.0, 4.0)])  # zero-length C ignored
    assert stats.pitch_class_entropy(midi) == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * -2))
    assert list(stats.pitch_class_durations(midi).nonzero()[0]) == [0, 1]


def test_polyphony_counts_distinct_pitches_while_something_sounds():
    triad = [(60, 0.0, 4.0), (64, 0.0, 4.0), (67, 0.0, 4.0)]
    assert stats.polyphony(midi_of(triad)) == pytest.approx(3.0)
    # The same C in a second instrument is one pitch, as in MusPy's merged piano roll.
    assert stats.polyphony(midi_of(triad, [(60, 0.0, 4.0)])) == pytest.approx(3.0)
    # Silence does not count: 1 s of triad, 1 s of nothing, 1 s of one note.
    gap = [(60, 0.0, 1.0), (64, 0.0, 1.0), (67, 0.0, 1.0), (60, 2.0, 3.0)]
    assert stats.polyphony(midi_of(gap)) == pytest.approx(2.0)


def test_a_chord_is_one_onset():
    rolled = [(60, 0.0, 1.0), (64, 0.005, 1.0), (67, 0.009, 1.0), (72, 1.0, 2.0)]
    midi = midi_of(rolled)
    assert list(stats.onsets(midi)) == [0.0, 1.0]
    assert stats.inter_onset_intervals(midi) == pytest.approx((1.0, 0.0))
    assert stats.note_lengths(midi)[0] == pytest.approx(1.0, abs=0.01)


def test_drums_are_ignored():
    midi = midi_of(scale(C_MAJOR))
    with_drums = midi_of(scale(C_MAJOR))
    with_drums.instruments += midi_of(scale([36, 38, 42] * 5, 0.25), drums=True).instruments
    assert stats.summary(with_drums) == pytest.approx(stats.summary(midi))


def test_a_loop_repeats_and_random_notes_do_not():
    # 4 loops of 2 s: onsets up to 6 s have a whole window (25 of them); those from 2 s on
    # (17) repeat the window 2 s earlier.
    assert stats.repetition(midi_of(loop(4))) == pytest.approx(17 / 25)
    assert stats.repetition(midi_of(loop(15))) > 0.9
    # A few ms of timing noise does not hide the repeats.
    assert stats.repetition(midi_of(loop(15, jitter_s=0.004))) > 0.9
    rng = random.Random(0)
    notes = []
    for _ in range(300):
        start = round(rng.uniform(0, 60), 3)
        notes.append((rng.randrange(48, 84), start, start + rng.choice((0.25, 0.5, 1.0))))
    assert stats.repetition(midi_of(notes)) < 0.02


def test_empty_score_gives_nan():
    midi = midi_of([])
    assert all(math.isnan(v) for v in stats.summary(midi).values())
    midi = midi_of(scale(C_MAJOR), drums=True)  # drums alone: no pitched notes either
    assert all(math.isnan(v) for v in stats.summary(midi).values())


def test_summary_names():
    assert set(stats.summary(midi_of(scale(C_MAJOR)))) == {
        "pitch_class_entropy",
        "scale_consistency",
        "polyphony",
        "note_length_median_s",
        "note_length_iqr_s",
        "ioi_median_s",
        "ioi_iqr_s",
        "repetition",
        "notes_per_second",
    }


def test_longest_silence_counts_gaps_between_overlapping_notes_and_at_the_ends():
    midi = midi_of([(60, 1.0, 3.0), (64, 2.0, 4.0), (67, 7.0, 8.0)], [(36, 7.5, 9.0)])
    assert stats.longest_silence(midi, 12.0) == pytest.approx(3.0)  # 4 -> 7 and 9 -> 12
    assert stats.longest_silence(midi, 8.5) == pytest.approx(3.0)
    assert stats.longest_silence(midi_of([(60, 0.0, 1.0)], [(38, 1.0, 9.0)], drums=True), 10) == 10
    assert stats.longest_silence(midi_of([(60, 6.0, 7.0)]), 10.0) == pytest.approx(6.0)
