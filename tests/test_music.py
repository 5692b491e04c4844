"""The arranger and its plan: cuts land chords, moods steer mode and density, seeds repeat."""

from __future__ import annotations

import random

import numpy as np
import pretty_midi
import pytest

from emsync_core.music.alignment import measure_alignment
from emsync_core.music.arranger import arrange
from emsync_core.music.harmony import Chord, Key, voice_chord
from emsync_core.music.plan import fit_beats, harmonic_rhythm, plan_score
from emsync_core.music.score import beat_spans

# Krumhansl-Kessler key profiles, used as an independent judge of major vs minor.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def random_spans(seed: int, n_cuts: int, duration: float) -> list[tuple[float, float]]:
    """Scenes between random cuts on a 24 fps frame grid (cuts at least a frame apart)."""
    rng = random.Random(seed)
    frames = int(duration * 24)
    cuts = sorted(rng.sample(range(1, frames), n_cuts))
    edges = [0.0, *(c / 24 for c in cuts), duration]
    return list(zip(edges, edges[1:], strict=False))


def score_for(spans, mood, seed=0):
    plan = plan_score(spans, [mood] * len(spans), seed)
    return plan, arrange(plan)


def pitch_class_histogram(midi) -> np.ndarray:
    hist = np.zeros(12)
    for inst in midi.instruments:
        if not inst.is_drum:
            for n in inst.notes:
                hist[n.pitch % 12] += n.end - n.start
    return hist


def major_minus_minor(midi) -> float:
    """Best major-key correlation minus best minor-key correlation over all 12 tonics."""
    hist = pitch_class_histogram(midi)
    major = max(np.corrcoef(hist, np.roll(MAJOR_PROFILE, k))[0, 1] for k in range(12))
    minor = max(np.corrcoef(hist, np.roll(MINOR_PROFILE, k))[0, 1] for k in range(12))
    return major - minor


def notes_per_second(midi, duration) -> float:
    return sum(len(i.notes) for i in midi.instruments) / duration


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_cut_gets_a_new_chord_exactly_on_time(seed):
    spans = random_spans(seed, n_cuts=30, duration=120.0)
    rng = random.Random(seed)
    moods = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in spans]
    plan = plan_score(spans, moods, seed)
    result = arrange(plan)
    cuts = [a for a, _ in spans[1:]]
    alignment = measure_alignment(result.midi, cuts)
    for a in alignment:
        assert a.error_ms is not None and a.error_ms < 1e-6, a
        assert len(a.pitch_classes) >= 3
        assert a.new_harmony, a
    # No note of the previous scene keeps sounding across a cut (except drums' ring-out).
    for inst in result.midi.instruments:
        if inst.is_drum:
            continue
        for n in inst.notes:
            assert not any(n.start < c - 1e-9 and n.end > c + 1e-9 for c in cuts), (inst.name, n)


def test_chords_change_between_cuts_only_at_the_harmonic_rhythm():
    spans = random_spans(7, n_cuts=20, duration=120.0)
    plan, result = score_for(spans, (0.3, 0.0))
    soft = [c for c in result.chords if not c.hard]
    # A new chord at most every two bars: far fewer soft changes than cuts.
    assert len(soft) <= sum(s.beats for s in plan.scenes) / 8
    assert len(soft) < len(spans) - 1
    for c in soft:
        scene = plan.scenes[c.scene]
        beats = (c.start_s - scene.start_s) / scene.beat_s
        assert abs(beats - round(beats)) < 1e-6 and round(beats) >= 4


def test_valence_moves_mode_from_minor_to_major():
    spans = random_spans(3, n_cuts=15, duration=90.0)
    lows = [major_minus_minor(score_for(spans, (-0.8, 0.0), s)[1].midi) for s in range(4)]
    highs = [major_minus_minor(score_for(spans, (0.8, 0.0), s)[1].midi) for s in range(4)]
    # Every seed moves toward major, and the means sit on either side. (The sign of one seed
    # at +0.8 is not a property of the engine: seed 0's busy cut pattern reads +0.01 to -0.03
    # depending on the bass figure; the harness sweeps eight seeds, docs/music-eval.md.)
    assert all(lo < hi for lo, hi in zip(lows, highs, strict=True)), (lows, highs)
    assert sum(lows) / 4 < -0.1 and sum(highs) / 4 > 0.1, (lows, highs)


def test_arousal_raises_note_density():
    spans = random_spans(5, n_cuts=15, duration=90.0)
    for valence in (-0.6, 0.6):
        calm = notes_per_second(score_for(spans, (valence, -0.8))[1].midi, 90)
        driven = notes_per_second(score_for(spans, (valence, 0.8))[1].midi, 90)
        assert driven >= 1.3 * calm, (valence, calm, driven)


def test_same_seed_same_score_other_seed_other_score():
    spans = random_spans(11, n_cuts=10, duration=60.0)

    def notes(seed):
        _, result = score_for(spans, (0.2, 0.3), seed)
        return [
            (i.program, n.pitch, n.start, n.end) for i in result.midi.instruments for n in i.notes
        ]

    assert notes(5) == notes(5)
    assert notes(5) != notes(6)


def test_score_ends_on_the_tonic_within_the_timeline():
    spans = random_spans(2, n_cuts=8, duration=45.0)
    plan, result = score_for(spans, (-0.5, -0.2))
    last = result.chords[-1]
    assert last.symbol.rstrip("m") == last.key.split()[0]
    assert last.end_s == pytest.approx(45.0)
    assert result.midi.get_end_time() <= 45.0 + 1e-6


def test_mood_change_at_a_cut_changes_key_or_mode():
    spans = [(0.0, 10.0), (10.0, 20.0)]
    plan = plan_score(spans, [(0.8, 0.4), (-0.8, -0.6)], seed=1)
    first, second = plan.scenes
    assert first.key.mode == "major" and second.key.mode == "minor"


def test_tiny_scenes_still_get_their_chord():
    # Cuts two frames apart (83 ms at 24 fps) are rare but real: each still gets a chord.
    spans = [(0.0, 2.0), (2.0, 2.0833), (2.0833, 2.1667), (2.1667, 5.0)]
    plan, result = score_for(spans, (0.0, 0.0))
    alignment = measure_alignment(result.midi, [a for a, _ in spans[1:]])
    assert all(a.error_ms is not None and a.error_ms < 1e-6 for a in alignment)


def test_fit_beats_fills_the_scene_with_whole_beats():
    beats, beat_s = fit_beats(7.3, 0.0)
    assert beats * beat_s == pytest.approx(7.3)
    assert 60 / beat_s == pytest.approx(90, rel=0.1)
    assert fit_beats(0.2, 0.0) == (1, 0.2)


@pytest.mark.parametrize(
    ("beats", "expected"),
    [
        (4, (4,)),
        (9, (9,)),
        (10, (8, 2)),
        (16, (8, 8)),
        (17, (8, 9)),
        (19, (8, 8, 3)),
        (21, (8, 8, 5)),
    ],
)
def test_harmonic_rhythm(beats, expected):
    assert harmonic_rhythm(beats) == expected


def test_voice_leading_moves_little():
    key = Key(0, "major")
    previous = voice_chord(key.degree(1), None, 52, 76)
    following = voice_chord(key.degree(4), previous, 52, 76)
    assert sum(abs(a - b) for a, b in zip(previous, following, strict=True)) <= 6
    assert {p % 12 for p in following} == set(Chord(5, "maj").pitch_classes)


def test_minor_key_has_a_major_dominant():
    assert Key(9, "minor").degree(5).symbol == "E"
    assert Key(9, "minor").degree(5, seventh=True).symbol == "E7"


def test_alignment_tells_a_repeated_chord_from_a_new_one():
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    keys = pretty_midi.Instrument(program=0)
    chords = [(0.0, 1.0, (60, 64, 67)), (1.0, 2.0, (48, 64, 67, 72)), (2.0, 3.0, (53, 57, 60))]
    for start, end, pitches in chords:  # C, C again (new voicing), then F
        keys.notes += [pretty_midi.Note(80, p, start, end) for p in pitches]
    midi.instruments.append(keys)
    second, third, missing = measure_alignment(midi, [1.0005, 2.0, 5.0])
    assert second.onset_s == 1.0 and second.pitch_classes == (0, 4, 7)
    assert not second.new_harmony
    assert third.new_harmony and third.pitch_classes == (5, 9, 0)
    assert missing.onset_s is None and missing.error_ms is None


def test_arranger_midi_carries_the_scenes_beat(tmp_path):
    import mido

    rng = random.Random(3)
    inner = sorted(round(rng.uniform(1.0, 59.0), 4) for _ in range(12))
    edges = [0.0, *inner, 60.0]
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    plan = plan_score(spans, [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in spans], 3)
    path = tmp_path / "s.mid"
    arrange(plan, 3).midi.write(str(path))
    mf = mido.MidiFile(path)
    res = mf.ticks_per_beat
    meta, t = [], 0
    for m in mf.tracks[0]:
        t += m.time
        meta.append((t, m))
    tempos = [(t, m) for t, m in meta if m.type == "set_tempo"]
    # One tempo per span of the map, from its first tick. This plan has a 0.21-s shot (285
    # bpm as one beat): the next scene's one slow beat takes it in, and every other scene
    # keeps the plan's tempo.
    grid = beat_spans([s.end_s for s in plan.scenes], [s.beats for s in plan.scenes])
    assert len(grid) == len(plan.scenes) - 1
    assert len(tempos) == len(grid)
    tick, start = 0, 0.0
    for (at, m), span in zip(tempos, grid, strict=True):
        assert at == tick
        bpm = mido.tempo2bpm(m.tempo)
        assert bpm == pytest.approx(60 * span.beats / (span.end_s - start), rel=1e-4)
        assert 40 <= bpm <= 240
        tick, start = tick + span.beats * res, span.end_s
    bpms = [mido.tempo2bpm(m.tempo) for _, m in tempos]
    kept = [s for s in plan.scenes if any(b == pytest.approx(s.tempo_bpm, rel=1e-4) for b in bpms)]
    assert len(kept) == len(plan.scenes) - 2
    # A bar starts on every span's cut (4/4, or shorter for a scene under four beats), and
    # a short last bar fills a scene whose beats do not fill four.
    bars = dict((t, m.numerator) for t, m in meta if m.type == "time_signature")
    tick = 0
    for span in grid:
        if span.bar:
            assert bars[tick] == min(4, span.beats)
        tick += span.beats * res
    # Every note in a beat the plan fitted (all but the one beat that took the short shot
    # in) starts on the sixteenth-note grid; cuts that start a bar are exact in seconds too,
    # and the short shot's cut is within the 1-ms contract.
    back = pretty_midi.PrettyMIDI(str(path))
    starts = [s.start_s for s in plan.scenes]
    ends = [g.end_s for g in grid]
    checked = 0
    for inst in back.instruments:
        for note in inst.notes:
            scene = plan.scenes[int(np.searchsorted(starts, note.start + 1e-9)) - 1]
            k = int(np.searchsorted(ends, note.start + 1e-9))
            beat = (grid[k].end_s - (ends[k - 1] if k else 0.0)) / grid[k].beats
            if beat == pytest.approx(scene.beat_s, rel=1e-6):
                assert back.time_to_tick(note.start) % (res // 4) == 0, (note, scene)
                checked += 1
    assert checked > 0.95 * sum(len(i.notes) for i in back.instruments)
    bar_starts = {round(s, 6) for s in [0.0, *(g.end_s for g in grid)]}
    for a in measure_alignment(back, plan.hard_boundaries_s):
        assert a.error_ms is not None
        assert a.error_ms < (0.01 if round(a.cut_s, 6) in bar_starts else 1.0), a


def test_pulse_carries_across_cuts_between_similar_moods():
    # 10 s at arousal 0: nominal beat 0.667 s -> 15 beats; after a scene beating at 0.7 s the
    # pulse is kept (14 beats of 0.714 s); a previous beat 35 % off nominal is not followed.
    assert fit_beats(10.0, 0.0) == (15, pytest.approx(10 / 15))
    assert fit_beats(10.0, 0.0, previous_beat_s=0.7) == (14, pytest.approx(10 / 14))
    assert fit_beats(10.0, 0.0, previous_beat_s=0.9) == (15, pytest.approx(10 / 15))
    rng = random.Random(0)
    edges = [0.0]
    while edges[-1] < 120:
        edges.append(edges[-1] + rng.uniform(3.0, 9.0))
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    steady = plan_score(spans, [(0.3, 0.2)] * len(spans), 0)
    pairs = zip(steady.scenes, steady.scenes[1:], strict=False)
    changes = [abs(b.beat_s / a.beat_s - 1) for a, b in pairs]
    assert np.median(changes) < 0.05 and max(changes) < 0.2
    # A real change of mood takes its own tempo.
    moved = plan_score(spans[:2], [(0.3, -0.8), (0.3, 0.8)], 0)
    assert moved.scenes[1].tempo_bpm > moved.scenes[0].tempo_bpm * 1.4
