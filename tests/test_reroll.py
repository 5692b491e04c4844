"""Per-scene re-roll: one scene gets new music, every other note stays exactly as it was."""

from __future__ import annotations

import json
import random

import mido
import opentimelineio as otio
import pytest
import soundfile

from emsync_core.cli import _ENSEMBLES, main
from emsync_core.music.ensemble import ENSEMBLES, apply_ensemble
from emsync_core.music.score import load_midi
from emsync_core.pipeline import ScoreOptions, score
from emsync_core.reroll import reroll
from emsync_core.timeline.build import timeline_from_cuts

RATE = 24


def _edit(path, seed: int, total_s: float, shots: int):
    """A timeline of `shots` shots from half a second to over ten, like a real edit."""
    rng = random.Random(seed)
    lengths = [rng.lognormvariate(1.0, 0.7) + 0.5 for _ in range(shots)]
    scale = total_s / sum(lengths)
    cuts, t = [], 0.0
    for length in lengths[:-1]:
        t += length * scale
        cuts.append(round(t * RATE))
    otio.adapters.write_to_file(timeline_from_cuts(cuts, round(total_s * RATE), RATE), str(path))
    return path


def _notes(midi_path, span, inside: bool):
    """Note content (track, program, pitch, velocity, start and end) inside or outside span."""
    midi = load_midi(midi_path)
    return sorted(
        (inst.name, inst.program, inst.is_drum, n.pitch, n.velocity, n.start, n.end)
        for inst in midi.instruments
        for n in inst.notes
        if (span[0] - 1e-3 <= n.start < span[1] - 1e-3) == inside
    )


def _tick_events(midi_path):
    """Every note onset of the file with its absolute tick, per track name (offs at a cut are
    the previous scene's, so onsets are what belongs to each side)."""
    events = []
    for track in mido.MidiFile(midi_path).tracks:
        name, tick = "", 0
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            if msg.type == "note_on" and msg.velocity > 0:
                events.append((name, tick, msg.note, msg.velocity))
    return events


def _span(report, scene):
    entry = report["scenes"][scene]
    return entry["start_s"], entry["end_s"]


@pytest.fixture(scope="module")
def arranged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reroll")
    timeline = _edit(folder / "edit.otio", seed=11, total_s=40, shots=8)
    options = ScoreOptions(
        out=folder / "out", render=False, progress=False, analyze=False, emotion="joy"
    )
    score(timeline, options)
    return timeline, options


def _read(out):
    return json.loads((out / "report.json").read_text())


@pytest.mark.parametrize("engine", ["arranger", "transformer"])
def test_reroll_changes_only_the_scene_and_keeps_its_cuts(tmp_path, engine):
    timeline = _edit(tmp_path / "edit.otio", seed=3, total_s=24, shots=6)
    options = ScoreOptions(
        out=tmp_path / "out",
        render=False,
        progress=False,
        analyze=False,
        emotion="joy",
        engine=engine,
    )
    score(timeline, options)
    first = _read(options.out)
    (tmp_path / "take1.mid").write_bytes((options.out / "score.mid").read_bytes())
    reroll(timeline, 3, ScoreOptions(**{**options.__dict__, "seed": 9, "emotion": "fear"}))
    report = _read(options.out)
    span = _span(report, 3)
    old, new = tmp_path / "take1.mid", options.out / "score.mid"

    assert _notes(old, span, inside=False) == _notes(new, span, inside=False)
    assert _notes(old, span, inside=True) != _notes(new, span, inside=True)
    # Byte for byte in the file too: every note event outside the scene keeps its tick,
    # moved only by the beats the scene gained or lost.
    assert report["alignment"]["within_1_frame"] == len(report["cuts"])
    assert report["alignment"]["new_harmony_on_cut"] == len(report["cuts"])
    assert report["scenes"][3]["valence"] < 0 < first["scenes"][3]["valence"]
    assert [s["valence"] for i, s in enumerate(report["scenes"]) if i != 3] == [
        s["valence"] for i, s in enumerate(first["scenes"]) if i != 3
    ]
    assert report["takes"][-1] == {
        "take": 2,
        "scene": 3,
        "seed": 9,
        "kept_seed": report["takes"][-1]["kept_seed"],
        "from_take": None,
        "valence": report["scenes"][3]["valence"],
        "arousal": report["scenes"][3]["arousal"],
        "engine": engine,
    }


def test_outside_notes_keep_their_ticks(arranged, tmp_path):
    timeline, options = arranged
    out = options.out
    before = _tick_events(out / "score.mid")
    old_report = _read(out)
    # A mood far from the old one changes the scene's tempo and number of beats.
    reroll(timeline, 2, ScoreOptions(**{**options.__dict__, "seed": 4, "emotion": "anger"}))
    after = _tick_events(out / "score.mid")
    start, end = _span(old_report, 2)
    old_midi = load_midi(out / "takes" / f"take-{len(_read(out)['takes']) - 1}.mid")
    t0, t1 = old_midi.time_to_tick(start), old_midi.time_to_tick(end)
    new_midi = load_midi(out / "score.mid")
    n0, n1 = new_midi.time_to_tick(start), new_midi.time_to_tick(end)
    moved = (n1 - n0) - (t1 - t0)
    keep_before = [e for e in before if e[1] < t0]
    keep_after = [(e[0], e[1] + moved, *e[2:]) for e in before if e[1] >= t1]
    assert sorted(e for e in after if e[1] < n0) == sorted(keep_before)
    assert sorted(e for e in after if e[1] >= n1) == sorted(keep_after)


def test_an_earlier_take_comes_back_note_for_note(arranged):
    timeline, options = arranged
    out = options.out
    reroll(timeline, 5, ScoreOptions(**{**options.__dict__, "seed": 21}))
    number = _read(out)["takes"][-1]["take"]
    span = _span(_read(out), 5)
    earlier = out / "takes" / f"take-{number - 1}.mid"
    reroll(timeline, 5, ScoreOptions(**options.__dict__), from_take=number - 1)
    assert _notes(out / "score.mid", span, True) == _notes(earlier, span, True)
    assert _read(out)["takes"][-1]["from_take"] == number - 1
    # the same seed again writes the same take: a take is reproducible from its seed
    reroll(timeline, 5, ScoreOptions(**{**options.__dict__, "seed": 21}))
    assert _notes(out / "score.mid", span, True) == _notes(
        out / "takes" / f"take-{number}.mid", span, True
    )


def test_reroll_renders_auditions_and_the_whole_score(tmp_path):
    timeline = _edit(tmp_path / "edit.otio", seed=5, total_s=10, shots=3)
    options = ScoreOptions(
        out=tmp_path / "out", progress=False, analyze=False, emotion="sadness", stems=False
    )
    score(timeline, options)
    reroll(timeline, 1, ScoreOptions(**{**options.__dict__, "seed": 2, "emotion": "joy"}))
    out = options.out
    report = _read(out)
    start, end = _span(report, 1)
    for name in ("take-1-scene-1.wav", "take-2-scene-1.wav"):
        audio, rate = soundfile.read(out / "takes" / name)
        assert rate == 48_000
        assert abs(len(audio) / rate - (min(end + 1, 1e9) - max(0, start - 1))) < 0.01
        assert 0.01 < abs(audio).max() < 0.9
    audio, rate = soundfile.read(out / "score.wav")
    assert len(audio) == round(report["duration_s"] * rate)
    assert report["audio"]["loudness_lufs"] == pytest.approx(-16, abs=1)


def test_reroll_errors_say_what_to_do(arranged, tmp_path, capsys):
    timeline, options = arranged
    assert main(["score", str(timeline), "--out", str(options.out), "--reroll", "99"]) == 2
    assert "There is no scene 99" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["score", str(timeline), "--out", str(empty), "--reroll", "1"]) == 2
    assert "holds no EMSYNC score" in capsys.readouterr().err
    other = _edit(tmp_path / "other.otio", seed=99, total_s=40, shots=8)
    assert main(["score", str(other), "--out", str(options.out), "--reroll", "1"]) == 2
    assert "is not the timeline this score was made for" in capsys.readouterr().err
    assert main(["score", str(timeline), "--out", str(options.out), "--take", "1"]) == 2
    assert "--reroll" in capsys.readouterr().err
    args = ["score", str(timeline), "--out", str(options.out), "--reroll", "1", "--take", "77"]
    assert main(args) == 2
    assert "no take 77" in capsys.readouterr().err


def test_ensembles_revoice_without_touching_the_notes(arranged):
    assert set(_ENSEMBLES) == set(ENSEMBLES)  # --help lists exactly what exists
    _, options = arranged
    midi = load_midi(options.out / "score.mid")
    notes = sorted(
        (n.pitch, n.start, n.end) for i in midi.instruments if not i.is_drum for n in i.notes
    )
    apply_ensemble(midi, "piano")
    assert {i.program for i in midi.instruments} == {0}
    assert not any(i.is_drum for i in midi.instruments)
    assert notes == sorted((n.pitch, n.start, n.end) for i in midi.instruments for n in i.notes)
    with pytest.raises(ValueError, match="unknown ensemble"):
        apply_ensemble(midi, "kazoo")


def test_progress_json_lines(tmp_path, capsys):
    timeline = _edit(tmp_path / "edit.otio", seed=8, total_s=8, shots=3)
    args = ["score", str(timeline), "--out", str(tmp_path / "o"), "--no-render", "--no-analyze"]
    assert main([*args, "--progress", "json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    stages = [x["stage"] for x in lines if x["fraction"] == 0]
    assert stages == ["read timeline", "moods", "plan", "generate", "write"]
    assert all(x["total"] == 5 and 1 <= x["index"] <= 5 for x in lines)
    assert lines[-1] == {**lines[-1], "stage": "write", "fraction": 1.0}
