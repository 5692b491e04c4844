"""No tempo in a score's MIDI leaves 40-240 bpm, whatever the shots' lengths."""

from __future__ import annotations

import random

import mido
import numpy as np
import pytest

from emsync_core.music.alignment import measure_alignment
from emsync_core.music.arranger import arrange
from emsync_core.music.plan import plan_score
from emsync_core.music.score import beat_spans, load_midi, new_midi, set_beat_grid

FRAME = 1001 / 24000


def edit_spans(lengths_s):
    edges = np.concatenate([[0.0], np.cumsum(lengths_s)])
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def shot_lengths(seed: int) -> list[float]:
    """A montage: shots of 1 frame to 60 s, short ones often back to back."""
    rng = random.Random(seed)
    lengths = []
    for _ in range(40):
        kind = rng.random()
        if kind < 0.3:
            lengths.append(rng.randint(1, 5) * FRAME)  # stingers, flashes
        elif kind < 0.45:
            lengths.append(rng.uniform(0.25, 1.9))
        elif kind < 0.9:
            lengths.append(rng.uniform(2.0, 8.0))
        else:
            lengths.append(rng.uniform(10.0, 60.0))
    return lengths


def tempo_map(path) -> list[tuple[int, float]]:
    out, tick = [], 0
    for m in mido.MidiFile(path).tracks[0]:
        tick += m.time
        if m.type == "set_tempo":
            out.append((tick, mido.tempo2bpm(m.tempo)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arranger_tempi_stay_within_40_240_on_shots_from_one_frame_to_a_minute(seed, tmp_path):
    lengths = shot_lengths(seed)
    rng = random.Random(seed)
    moods = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in lengths]
    # A calm 1.6-s shot after a driving one: the plan fits it one beat, 37.5 bpm.
    lengths[5:5] = [3.0, 1.6]
    moods[5:5] = [(0.5, 0.9), (-0.5, -1.0)]
    spans = edit_spans(lengths)
    plan = plan_score(spans, moods, seed)
    planned = [s.tempo_bpm for s in plan.scenes]
    assert max(planned) > 900 and min(planned) < 40  # what the plan alone would write
    path = tmp_path / "s.mid"
    arrange(plan, seed).midi.write(str(path))
    tempi = [bpm for _, bpm in tempo_map(path)]
    assert min(tempi) >= 40 and max(tempi) <= 240
    # Every cut is within the 1-ms contract; every cut a bar starts on is on its exact tick
    # (whole-microsecond tempos put a tick up to half a microsecond a beat off: 0.1 ms at most
    # after a minute's beats, where a tick is 0.3 ms).
    grid = beat_spans([s.end_s for s in plan.scenes], [s.beats for s in plan.scenes])
    bars = {round(g.end_s, 9) for g, nxt in zip(grid, grid[1:], strict=False) if nxt.bar}
    back = load_midi(path)
    exact = 0
    for a in measure_alignment(back, plan.hard_boundaries_s):
        assert a.error_ms is not None and a.error_ms < 1.0, a
        if round(a.cut_s, 9) in bars:
            assert a.error_ms < 0.1, a
            exact += 1
    # Only cuts of short shots lose their bar line: at most one per short shot (the cuts
    # inside a run of them, and the one between the run and the scene that took it in).
    short = sum(s.end_s - s.start_s < 0.25 for s in plan.scenes)
    assert exact >= len(plan.hard_boundaries_s) - short


def test_a_stinger_borrows_the_neighbouring_tempo_and_leaves_its_other_beats_alone():
    # 6 s at 100 bpm (10 beats), a 1-frame shot, then 4.8 s at 100 bpm (8 beats).
    ends = [6.0, 6.0 + FRAME, 10.8 + FRAME]
    spans = beat_spans(ends, [10, 1, 8])
    # The frame is taken into the last beat of the scene before (ties go there): nine beats
    # at 100 bpm, one a frame longer, then the next scene's own bar at 100 bpm.
    assert [(s.beats, s.bar) for s in spans] == [(9, True), (1, False), (8, True)]
    assert spans[0].end_s == pytest.approx(5.4)
    assert spans[1].end_s == ends[1] and spans[2].end_s == ends[2]
    midi = new_midi()
    set_beat_grid(midi, ends, [10, 1, 8])
    tempi = midi.get_tempo_changes()[1]
    assert tempi[0] == pytest.approx(100, rel=1e-5) and tempi[2] == pytest.approx(100, rel=1e-5)
    assert tempi[1] == pytest.approx(60 / (0.6 + FRAME), rel=1e-5)
    # 4/4 from time 0, 2/4 for the last two beats, 4/4 again from the cut after the frame.
    bars = [(ts.numerator, round(ts.time, 6)) for ts in midi.time_signature_changes]
    assert bars == [(4, 0.0), (2, 4.8), (4, round(ends[1], 6))]


def test_a_scene_too_slow_counts_half_beats():
    # One beat of 1.6 s (37.5 bpm), as the plan fits a calm 1.6-s shot.
    spans = beat_spans([4.0, 5.6], [4, 1])
    assert [(s.beats, round(s.end_s, 6)) for s in spans] == [(4, 4.0), (2, 5.6)]


def test_a_run_of_flashes_long_enough_for_a_beat_takes_its_own():
    # Ten 1-frame flashes (0.42 s) between two 100-bpm scenes: one beat of their own
    # (143 bpm) moves the tempo less than stretching a 0.6-s beat to 1.02 s.
    ends = [6.0, *(6.0 + k * FRAME for k in range(1, 11)), 6.0 + 10 * FRAME + 6.0]
    spans = beat_spans(ends, [10, *[1] * 10, 10])
    assert [(s.beats, s.bar) for s in spans] == [(10, True), (1, True), (10, True)]


def test_a_whole_file_shorter_than_a_beat_at_240_bpm():
    midi = new_midi()
    set_beat_grid(midi, [0.1], [1])
    assert midi.get_tempo_changes()[1].tolist() == pytest.approx([240.0])
