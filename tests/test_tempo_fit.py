"""A tempo map fitted to the notes (the transformer's MIDI has no beat of its own)."""

from __future__ import annotations

import mido
import numpy as np
import pretty_midi
import pytest

from emsync_core.music.alignment import measure_alignment
from emsync_core.music.plan import plan_score
from emsync_core.music.score import load_midi, new_midi
from emsync_core.music.tempo_fit import (
    FittedBeat,
    fit_scene_beat,
    pitched_onsets,
    set_fitted_beat_grid,
)


def played(bpm: float, start: float, end: float, seed: int, jitter: float = 0.012) -> np.ndarray:
    """Onsets of a part at `bpm` from `start`, cut off at `end`: most beats played, some
    off-beat eighths and sixteenths, each a little early or late."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    times = []
    for k in range(int((end - start) / beat) + 1):
        if rng.random() < 0.8:
            times.append(k * beat)
        if rng.random() < 0.4:
            times.append(k * beat + beat / 2)
        if rng.random() < 0.1:
            times.append(k * beat + beat / 4)
    t = start + np.array(times) + rng.normal(0.0, jitter, len(times))
    return np.sort(t[(t >= start) & (t < end)])


@pytest.mark.parametrize(
    ("bpm", "start", "length", "plan_beats"),
    [
        (96.0, 3.0, 20.0, 26),  # the plan asked for a slower beat
        (72.0, 0.0, 30.0, 40),
        (131.0, 12.5, 11.3, 25),  # the cut falls mid-beat: 24.7 beats
        (150.0, 1.0, 40.0, 80),
        (87.0, 0.0, 300.0, 400),  # a long take: a beat 0.3 % off would drift 1.3 beats
    ],
)
def test_fits_the_played_tempo_counted_from_the_cut(bpm, start, length, plan_beats):
    onsets = played(bpm, start, start + length, seed=int(bpm))
    fitted = fit_scene_beat(onsets, start, start + length, plan_beats)
    assert fitted.beat_s is not None
    assert 60.0 / fitted.beat_s == pytest.approx(bpm, rel=2e-3)
    # Whole beats from the cut; the last one takes what is left before the next cut.
    last = length - (fitted.beats - 1) * fitted.beat_s
    assert 0.25 <= last <= 1.5 and abs(np.log(last / fitted.beat_s)) <= np.log(2)
    assert fitted.lift > 0.3


def test_a_scene_without_notes_or_without_a_beat_keeps_the_plan():
    assert fit_scene_beat(np.array([]), 0.0, 10.0, 12) == FittedBeat(12, None, 0.0)
    few = np.array([0.0, 0.5, 1.0, 1.5])  # four onsets say nothing
    assert fit_scene_beat(few, 0.0, 10.0, 12) == FittedBeat(12, None, 0.0)
    rng = np.random.default_rng(0)
    scattered = np.sort(rng.uniform(0.0, 20.0, 60))  # no beat at all
    assert fit_scene_beat(scattered, 0.0, 20.0, 30) == FittedBeat(30, None, 0.0)
    # A shot too short for two beats at 240 bpm has no pulse to find.
    assert fit_scene_beat(np.linspace(0, 0.4, 8), 0.0, 0.45, 1) == FittedBeat(1, None, 0.0)


def test_pitched_onsets_count_a_chord_once_and_skip_drums():
    midi = new_midi()
    keys = pretty_midi.Instrument(0, name="keys - Piano")
    keys.notes += [pretty_midi.Note(80, p, 1.0 + d, 2.0) for p, d in ((60, 0), (64, 0.004))]
    keys.notes.append(pretty_midi.Note(80, 67, 1.5, 2.0))
    drums = pretty_midi.Instrument(0, is_drum=True, name="drums - Drums")
    drums.notes.append(pretty_midi.Note(80, 36, 1.25, 1.3))
    midi.instruments += [keys, drums]
    assert pitched_onsets(midi).tolist() == [1.0, 1.5]


def test_fitted_grid_puts_the_notes_on_beats_and_keeps_cuts_exact(tmp_path):
    # Four scenes as the transformer would leave them: 100 bpm cut off mid-beat, 75 bpm,
    # a 2-frame shot, and a scene with no notes at all.
    spans = [(0.0, 10.3), (10.3, 25.0), (25.0, 25.083), (25.083, 33.0)]
    plan = plan_score(spans, [(0.5, 0.5), (-0.5, -0.5), (0.5, 0.9), (0.0, 0.0)], seed=1)
    parts = [played(100.0, 0.0, 10.3, 1, 0.004), played(75.0, 10.3, 25.0, 2, 0.004)]
    midi = new_midi()
    inst = pretty_midi.Instrument(48, name="strings - Strings")
    for t in np.concatenate(parts):
        inst.notes.append(pretty_midi.Note(80, 60, float(t), float(t) + 0.1))
    for p in (48, 52, 55):  # a chord on every cut
        inst.notes += [pretty_midi.Note(90, p, s, s + 0.05) for s, _ in spans]
    midi.instruments.append(inst)

    fitted = set_fitted_beat_grid(midi, plan.scenes)
    assert 60 / fitted[0].beat_s == pytest.approx(100, rel=2e-3)
    assert 60 / fitted[1].beat_s == pytest.approx(75, rel=2e-3)
    assert fitted[2].beat_s is None and fitted[3] == FittedBeat(plan.scenes[3].beats, None, 0.0)

    path = tmp_path / "fitted.mid"
    midi.write(str(path))
    mf = mido.MidiFile(path)
    res = mf.ticks_per_beat
    tempi = [mido.tempo2bpm(m.tempo) for m in mf.tracks[0] if m.type == "set_tempo"]
    assert all(40 <= t <= 240 for t in tempi)
    # Every played note lies within a few ms of a sixteenth of the map's own beat, but for
    # those in a scene's last beat, which stretches to the cut that cut the music off.
    back = load_midi(path)
    last_beats = [
        (s.start_s + (f.beats - 1) * f.beat_s, s.end_s)
        for s, f in zip(plan.scenes[:2], fitted, strict=False)
    ]
    on_grid = [t for t in np.concatenate(parts) if not any(a <= t < b for a, b in last_beats)]
    assert len(on_grid) > 0.9 * sum(len(p) for p in parts)
    for t in on_grid:
        tick = back.time_to_tick(float(t))
        grid = round(tick / (res / 4)) * (res / 4)
        assert abs(back.tick_to_time(int(grid)) - t) < 0.02, t
    for a in measure_alignment(back, plan.hard_boundaries_s):
        assert a.error_ms is not None and a.error_ms < 1.0
