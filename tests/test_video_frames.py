"""Media access: one PyAV pass gives frames, motion, samples and audio; timelines resolve media."""

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from emsync_core.emotion.features import frame_stats
from emsync_core.timeline.edit import Edit, Scene
from emsync_core.video.frames import (
    collect,
    decode_audio,
    iter_sampled_frames,
    probe,
    resolve_scene_sources,
    scene_samples,
)
from emsync_core.video.synth import Segment, write_video

LOUD = Segment(2.0, brightness=0.8, speed=6, audio="bursts", loudness_db=-16, onsets_per_s=4)
QUIET = Segment(2.0, brightness=0.2, speed=0, audio="tone", loudness_db=-40)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("frames") / "clip.mp4"
    write_video(path, [LOUD, QUIET, LOUD], fps=25)
    return path


def _db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


def test_probe(clip):
    info = probe(clip)
    assert (info.width, info.height, info.fps, info.has_audio) == (320, 180, 25.0, True)
    assert info.duration_s == pytest.approx(6.0, abs=0.05)


def test_collect_whole_file(clip):
    s = collect(clip, frame_fn=frame_stats)
    assert len(s.frame_times) == 150
    assert np.all(np.diff(s.frame_times) > 0)
    assert s.frame_times[1] == pytest.approx(0.04)
    # 2 samples per second, each reduced to the 6 colour statistics
    assert len(s.samples) == 12 and s.samples[0].shape == (6,)
    assert np.diff(s.sample_times) == pytest.approx(np.full(11, 0.5), abs=0.021)  # 25 fps grid
    # mono 16 kHz audio covering the file, loud / quiet / loud where the segments are
    assert len(s.audio) == pytest.approx(6.0 * 16000, abs=0.05 * 16000)
    loud, quiet = s.window(0.2, 1.8).audio, s.window(2.2, 3.8).audio
    assert _db(loud) - _db(quiet) > 20
    assert _db(quiet) == pytest.approx(-40, abs=2)
    # motion: the moving shot moves, the static one does not
    assert s.window(0.1, 1.9).motion.mean() > 0.02
    assert s.window(2.1, 3.9).motion.mean() < 0.002


def test_collect_span_and_raw_frames(clip):
    s = collect(clip, start_s=2.0, end_s=4.0)
    assert s.frame_times[0] == pytest.approx(2.0) and s.frame_times[-1] < 4.0
    assert len(s.frame_times) == 50
    assert len(s.audio) == pytest.approx(2 * 16000, abs=400)
    assert s.samples[0].shape == (90, 160, 3) and s.samples[0].dtype == np.uint8
    assert s.samples[0].mean() < 80  # the dark shot
    frames = list(iter_sampled_frames(clip, sample_fps=1.0))
    assert [round(t, 2) for t, _ in frames] == [0, 1, 2, 3, 4, 5]
    assert frames[0][1].mean() > frames[2][1].mean() + 60
    audio = decode_audio(clip)
    assert audio.dtype == np.float32 and len(audio) == pytest.approx(96000, abs=800)


def _edit(media: str | None, starts: list[float | None]) -> Edit:
    scenes = tuple(
        Scene(i, i * 25, (i + 1) * 25, f"s{i}", media if st is not None else None, st)
        for i, st in enumerate(starts)
    )
    cuts = tuple(s.start for s in scenes[1:])
    return Edit("t", Fraction(25), 25 * len(starts), cuts, scenes)


def test_resolve_sources_relink_and_video(clip, tmp_path):
    edit = _edit("/nowhere/old/clip.mp4", [4.0, 2.0, None])
    assert resolve_scene_sources(edit) == [None, None, None]
    srcs = resolve_scene_sources(edit, media_root=clip.parent)
    assert srcs[0].path == str(clip) and srcs[0].start_s == 4.0 and srcs[0].end_s == 5.0
    assert srcs[1].start_s == 2.0 and srcs[2] is None
    whole = resolve_scene_sources(edit, video=clip)
    assert [(s.start_s, s.end_s) for s in whole] == [(0, 1), (1, 2), (2, 3)]
    per_scene = scene_samples(edit, media_root=clip.parent, frame_fn=frame_stats)
    assert per_scene[2] is None
    # scene 0 is source 4-5 s (a loud shot), scene 1 is 2-3 s (the quiet one)
    assert _db(per_scene[0].audio) - _db(per_scene[1].audio) > 20
    assert len(per_scene[0].frame_times) == 25


def test_source_past_end_is_unreachable(clip):
    assert resolve_scene_sources(_edit(str(clip), [60.0])) == [None]


def test_memory_bounded(tmp_path):
    """Peak traced memory of a pass grows only with the audio (64 KB/s), not with frames."""
    import tracemalloc

    seg = Segment(3.0, speed=5, audio="tone")
    short, long = tmp_path / "short.mp4", tmp_path / "long.mp4"
    write_video(short, [seg], width=480, height=270)
    write_video(long, [seg] * 3, width=480, height=270)
    peaks = []
    for p in (short, long):
        tracemalloc.start()
        collect(p, frame_fn=frame_stats)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 12e6
    assert peaks[1] - peaks[0] < 6 * 64e3 * 2.5  # 6 s more video: its audio, little else
