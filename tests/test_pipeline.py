"""`emsync score` end to end on generated timelines: files, lengths, alignment, safety."""

from __future__ import annotations

import json
from fractions import Fraction

import opentimelineio as otio
import pretty_midi
import pytest
import soundfile as sf

from emsync_core import defaults
from emsync_core.audio.master import loudness_lufs, true_peak_dbtp
from emsync_core.errors import EmsyncError, OutputError, RenderError
from emsync_core.music.alignment import measure_alignment
from emsync_core.music.score import layer_of
from emsync_core.pipeline import ScoreOptions, score
from emsync_core.timeline.build import timeline_from_cuts

RATE_2398 = 24000 / 1001
CUTS = [41, 97, 130, 211, 300, 333, 402]
DURATION = 480  # frames at 23.976: 20.02 s


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scored")
    path = folder / "reel.otio"
    markers = [(45, "emotion: fear"), (310, "va: 0.6,-0.4")]
    timeline = timeline_from_cuts(CUTS, DURATION, RATE_2398, "reel", markers=markers)
    otio.adapters.write_to_file(timeline, str(path))
    result = score(path, ScoreOptions(out=folder / "out", seed=3, emotion="joy", progress=False))
    return path, result


def test_writes_every_deliverable(scored):
    _, result = scored
    out = result.out_dir
    assert sorted(p.name for p in out.iterdir()) == [
        "reel.scored.otio",
        "report.json",
        "report.txt",
        "score.mid",
        "score.wav",
        "stems",
    ]
    midi = pretty_midi.PrettyMIDI(str(out / "score.mid"))
    layers = {layer_of(i) for i in midi.instruments}
    assert len(layers) >= 2  # the transformer's corpus has bass and strings parts
    assert {p.stem for p in (out / "stems").glob("*.wav")} == layers
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_wav_is_48k_stereo_and_exactly_the_timeline_length(scored):
    _, result = scored
    info = sf.info(str(result.out_dir / "score.wav"))
    assert (info.samplerate, info.channels) == (48000, 2)
    assert info.frames == round(Fraction(DURATION) * Fraction(1001, 24000) * 48000)
    for stem in (result.out_dir / "stems").glob("*.wav"):
        assert sf.info(str(stem)).frames == info.frames


def test_midi_has_a_new_chord_within_1_ms_of_every_cut(scored):
    _, result = scored
    midi = pretty_midi.PrettyMIDI(str(result.out_dir / "score.mid"))
    cuts_s = [float(Fraction(c) * Fraction(1001, 24000)) for c in CUTS]
    for a in measure_alignment(midi, cuts_s):
        assert a.error_ms is not None and a.error_ms < 1.0, a
        assert a.new_harmony and len(a.pitch_classes) >= 3


def test_report_lists_cuts_moods_and_errors(scored):
    _, result = scored
    report = json.loads((result.out_dir / "report.json").read_text())
    assert [c["frame"] for c in report["cuts"]] == CUTS
    assert all(c["error_ms"] < 1.0 for c in report["cuts"])
    assert report["alignment"]["within_1_frame"] == len(CUTS)
    sources = [s["mood_source"] for s in report["scenes"]]
    assert sources == ["cli", "marker", "cli", "cli", "cli", "marker", "cli", "cli"]
    assert report["scenes"][1]["valence"] == pytest.approx(-0.8)
    assert report["engine"] == defaults.ENGINE and report["seed"] == 3  # the default engine
    assert set(report["timings_s"]) >= {"read timeline", "plan", "generate", "render", "write"}
    assert report["audio"]["loudness_lufs"] == pytest.approx(-16, abs=1)


def test_scored_otio_keeps_the_edit_and_adds_the_score_track(scored):
    path, result = scored
    original = otio.adapters.read_from_file(str(path))
    written = otio.adapters.read_from_file(str(result.out_dir / "reel.scored.otio"))
    assert len(written.tracks) == len(original.tracks) + 1
    assert [c.name for c in written.video_tracks()[0].find_clips()] == [
        c.name for c in original.video_tracks()[0].find_clips()
    ]
    (track,) = [t for t in written.audio_tracks() if t.name == "EMSYNC Score"]
    (clip,) = track.find_clips()
    assert track.range_in_parent().start_time.value == 0
    assert clip.source_range.duration.to_frames() == DURATION
    assert clip.media_reference.target_url.endswith("/out/score.wav")


def test_existing_output_is_kept_without_force(scored, tmp_path):
    path, result = scored
    before = (result.out_dir / "score.mid").read_bytes()
    with pytest.raises(OutputError, match="already exists.*--force"):
        score(path, ScoreOptions(out=result.out_dir, progress=False))
    assert (result.out_dir / "score.mid").read_bytes() == before


def test_force_replaces_and_same_seed_gives_same_midi(scored, tmp_path):
    path, result = scored
    options = ScoreOptions(out=tmp_path / "again", seed=3, emotion="joy", render=False)
    again = score(path, options)
    assert not (again.out_dir / "score.wav").exists()
    score(
        path, ScoreOptions(out=tmp_path / "again", seed=3, emotion="joy", render=False, force=True)
    )
    first = pretty_midi.PrettyMIDI(str(result.out_dir / "score.mid"))
    second = pretty_midi.PrettyMIDI(str(tmp_path / "again" / "score.mid"))
    notes = lambda m: [(n.pitch, n.start) for i in m.instruments for n in i.notes]  # noqa: E731
    assert notes(first) == notes(second)


def test_failure_leaves_nothing_behind(scored, tmp_path):
    path, _ = scored
    junk = tmp_path / "junk.sf2"
    junk.write_bytes(b"not a soundfont")
    with pytest.raises(RenderError):
        score(path, ScoreOptions(out=tmp_path / "out", soundfont=junk, progress=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.sf2"]


def test_unwritable_output_is_a_clear_error(scored, tmp_path):
    path, _ = scored
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="Cannot write"):
        score(path, ScoreOptions(out=blocker / "sub" / "out", render=False))


def test_long_reel_is_not_refused_for_its_length_only_for_the_disk(tmp_path, monkeypatch):
    """No length limit any more (rendering streams); a 3.5-hour reel the disk cannot hold is
    refused before any work, saying how much it needs."""
    from emsync_core.audio import stream

    path = tmp_path / "long.otio"
    frames = int(3.5 * 3600 * 24)
    otio.adapters.write_to_file(timeline_from_cuts([24], frames, 24.0, "long"), str(path))
    monkeypatch.setattr(stream, "free_bytes", lambda folder: 5 * 10**9)
    calls = []
    monkeypatch.setattr("emsync_core.pipeline.moods_for", lambda *a: calls.append(a))
    with pytest.raises(EmsyncError, match=r"needs about 8\.5 GB.*5\.0 GB free.*--no-render"):
        score(path, ScoreOptions(out=tmp_path / "out", engine="arranger", progress=False))
    assert not calls  # refused before the moods, the plan and the music
    assert not (tmp_path / "out").exists()


def test_hit_markers_are_hard_boundaries_with_a_new_chord(tmp_path):
    path = tmp_path / "hits.otio"
    markers = [(100, "hit"), (150, "HIT: strong"), (48, "hit"), (60, "emotion: joy"), (70, "x")]
    timeline = timeline_from_cuts([48, 200], 300, 24.0, "hits", markers=markers)
    otio.adapters.write_to_file(timeline, str(path))
    result = score(path, ScoreOptions(out=tmp_path / "out", render=False, progress=False))
    report = json.loads((result.out_dir / "report.json").read_text())
    assert [h["frame"] for h in report["hits"]] == [100, 150]
    assert all(h["error_ms"] < 1.0 and h["new_harmony"] for h in report["hits"])
    uses = {m["frame"]: m["used_as"] for m in report["markers"]}
    assert uses == {
        100: "hit",
        150: "hit",
        48: "hit on a cut (already a boundary)",
        60: "mood",
        70: "ignored",
    }
    # The hits split scene 1 but it keeps one mood, and chords report their scene, not section.
    assert len(report["scenes"]) == 3 and report["scenes"][1]["mood_source"] == "marker"
    assert {c["scene"] for c in report["chords"]} == {0, 1, 2}
    onsets = {round(c["start_s"] * 24) for c in report["chords"] if c["on_boundary"]}
    assert {0, 48, 100, 150, 200} <= onsets


def test_moods_come_from_the_footage_when_it_is_reachable(tmp_path):
    from emsync_core.video.synth import Segment, write_video

    calm = Segment(
        3.0, brightness=0.25, saturation=0.15, hue=110, speed=0, audio="tone", loudness_db=-42
    )
    wild = Segment(
        3.0,
        brightness=0.8,
        saturation=0.9,
        hue=20,
        speed=12,
        audio="bursts",
        loudness_db=-12,
        onsets_per_s=6,
    )
    video = tmp_path / "reel.mp4"
    write_video(video, [calm, wild], fps=24)
    path = tmp_path / "reel.otio"
    otio.adapters.write_to_file(timeline_from_cuts([72], 144, 24.0, "reel"), str(path))
    options = ScoreOptions(out=tmp_path / "out", video=video, render=False, progress=False)
    report = json.loads((score(path, options).out_dir / "report.json").read_text())
    calm_scene, wild_scene = report["scenes"]
    assert calm_scene["mood_source"] == wild_scene["mood_source"] == "video"
    assert wild_scene["arousal"] > calm_scene["arousal"]
    assert set(calm_scene["probs"]) == {
        "anger",
        "disgust",
        "fear",
        "joy",
        "sadness",
        "surprise",
        "neutral",
    }
    # A single --emotion skips the analysis; a marker still wins over the footage.
    options = ScoreOptions(out=tmp_path / "o2", video=video, emotion="joy", render=False)
    report = json.loads((score(path, options).out_dir / "report.json").read_text())
    assert {s["mood_source"] for s in report["scenes"]} == {"cli"}


def test_a_raw_video_is_scored_on_its_detected_cuts(tmp_path):
    from emsync_core.video.synth import Segment, write_video

    calm = Segment(3.0, brightness=0.25, saturation=0.15, hue=110, speed=0, loudness_db=-42)
    wild = Segment(3.0, brightness=0.8, saturation=0.9, hue=20, speed=12, audio="bursts",
                   loudness_db=-12, onsets_per_s=6)  # fmt: skip
    video = tmp_path / "rushes.mp4"
    write_video(video, [calm, wild, calm], fps=24)
    result = score(video, ScoreOptions(out=tmp_path / "out", render=False, progress=False))
    report = json.loads((result.out_dir / "report.json").read_text())
    assert [c["frame"] for c in report["cuts"]] == [72, 144]
    assert report["duration_frames"] == 216
    assert all(c["error_ms"] < 1.0 and c["new_harmony"] for c in report["cuts"])
    assert {s["mood_source"] for s in report["scenes"]} == {"video"}
    written = otio.adapters.read_from_file(str(result.out_dir / "rushes.scored.otio"))
    assert [m.name for m in written.tracks.markers] == ["cut", "cut"]
    assert [t.name for t in written.audio_tracks()] == ["EMSYNC Score"]


@pytest.fixture
def reel(tmp_path):
    path = tmp_path / "reel.otio"
    otio.adapters.write_to_file(timeline_from_cuts(CUTS, DURATION, RATE_2398, "reel"), str(path))
    return path


def test_no_stems_writes_the_mix_alone_and_the_same_mix(reel, tmp_path):
    common = dict(seed=1, emotion="joy", engine="arranger", progress=False)
    with_stems = score(reel, ScoreOptions(out=tmp_path / "a", **common))
    without = score(reel, ScoreOptions(out=tmp_path / "b", stems=False, **common))
    assert not (without.out_dir / "stems").exists()
    assert not [name for name in without.files if name.startswith("stem:")]
    report = json.loads((without.out_dir / "report.json").read_text())
    assert report["audio"]["stems"] == [] and report["audio"]["layers"]
    a, _ = sf.read(str(with_stems.out_dir / "score.wav"))
    b, _ = sf.read(str(without.out_dir / "score.wav"))
    assert (a == b).all()  # the mix is the sum of the stems either way
    # The mastering guarantees hold on the streamed master: exact length, -16 LUFS, -1 dBTP.
    assert len(b) == round(Fraction(DURATION) * Fraction(1001, 24000) * 48000)
    assert loudness_lufs(b, 48000) == pytest.approx(-16.0, abs=0.1)
    assert true_peak_dbtp(b) <= -1.0 + 0.05
    for stem in (with_stems.out_dir / "stems").glob("*.wav"):
        assert true_peak_dbtp(sf.read(str(stem))[0]) <= -1.0 + 0.05


def test_render_refused_up_front_when_the_disk_is_too_small(reel, tmp_path, monkeypatch):
    from emsync_core.audio import stream

    # Room for the mix alone (checked before any work) but not for the stems as well.
    monkeypatch.setattr(stream, "free_bytes", lambda folder: 250_000_000)
    options = ScoreOptions(out=tmp_path / "o", emotion="joy", engine="arranger", progress=False)
    with pytest.raises(EmsyncError, match=r"Not enough disk space.*--no-stems"):
        score(reel, options)
    assert not [p.name for p in tmp_path.iterdir() if p.name not in ("reel.otio",)]


def test_long_render_says_what_it_will_write_and_logs_progress(reel, tmp_path, monkeypatch):
    import io

    import emsync_core.pipeline as pipeline
    from emsync_core.progress import Stages

    monkeypatch.setattr(pipeline, "LONG_RENDER_S", 1)
    log = io.StringIO()  # not a terminal: plain log lines
    monkeypatch.setattr(
        pipeline, "Stages", lambda total, enabled, json_lines: Stages(total, stream=log)
    )
    score(reel, ScoreOptions(out=tmp_path / "o", emotion="joy", engine="arranger"))
    lines = log.getvalue().splitlines()
    assert any("writes" in line and "MB" in line and "free" in line for line in lines), lines
    assert any("takes about" in line for line in lines), lines
    assert "emsync: [5/7] render" in lines
    assert any(line.startswith("emsync: [5/7] render 100%") for line in lines)
    assert lines[-1] == "emsync: [7/7] write"


def test_report_has_timecodes_hit_strengths_and_a_text_page(tmp_path):
    path = tmp_path / "reel.otio"
    markers = [
        (45, "emotion: glee"),  # not understood: warned about, scene keeps --emotion
        (50, "hit"),
        (150, "hit: strong"),
        (215, "mood: happy"),
        (220, "emotion: tense"),  # the later of two in one scene: wins, with a warning
    ]
    timeline = timeline_from_cuts(CUTS, DURATION, RATE_2398, "reel", markers=markers)
    otio.adapters.write_to_file(timeline, str(path))
    result = score(
        path,
        ScoreOptions(
            out=tmp_path / "o", emotion="sad", engine="arranger", render=False, progress=False
        ),
    )
    report = json.loads((result.out_dir / "report.json").read_text())
    assert [c["timecode"] for c in report["cuts"]][:2] == ["01:00:01:17", "01:00:04:01"]
    assert [(h["frame"], h["strength"]) for h in report["hits"]] == [
        (50, "normal"),
        (150, "strong"),
    ]
    uses = {m["name"]: (m["used_as"], m["timecode"]) for m in report["markers"]}
    assert uses["emotion: glee"] == ("ignored: mood not understood", "01:00:01:21")
    assert uses["emotion: tense"][0] == "mood"
    assert [m.get("hit_strength") for m in report["markers"]] == [
        None,
        "normal",
        "strong",
        None,
        None,
    ]
    sources = [s["mood_source"] for s in report["scenes"]]
    assert sources[:5] == ["cli", "cli", "cli", "cli", "marker"]
    assert report["scenes"][4]["valence"] < 0 < report["scenes"][4]["arousal"]  # tense
    assert any("'emotion: glee' at 01:00:01:21" in m for m in result.messages)
    assert any("the later one, 'emotion: tense'" in m for m in result.messages)
    text = (result.out_dir / "report.txt").read_text()
    assert "01:00:01:17" in text and "strong" in text and "emotion: glee" in text
    assert "No audio rendered" in text
