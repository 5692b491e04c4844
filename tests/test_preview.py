"""The preview movie: the edit's picture conformed from its media, the score under it."""

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import soundfile as sf

from emsync_core.errors import EmsyncError
from emsync_core.timeline.edit import Edit, Scene
from emsync_core.video.preview import write_preview
from emsync_core.video.synth import EXCITED, GLOOMY, Segment, write_video

RATE = Fraction(24)  # the footage is 25 fps: conforming must sample, not stretch
SRC_FPS = 25
LOUD_TONE = Segment(3.0, brightness=0.5, saturation=0.6, hue=60, speed=2, loudness_db=-12)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    # 0-3 s excited (moving), 3-6 s gloomy (still), 6-9 s green with a loud tone
    path = tmp_path_factory.mktemp("preview") / "A001_C002.mp4"
    write_video(path, [EXCITED, GLOOMY, LOUD_TONE], fps=SRC_FPS, seed=7)
    return path


@pytest.fixture(scope="module")
def source_frames(clip) -> np.ndarray:
    with av.open(str(clip)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def _edit(clip: Path, offline: Path) -> Edit:
    scenes = (
        Scene(0, 0, 48, "gloomy", str(clip), 3.5),
        Scene(1, 48, 96, "excited", str(clip), 0.5),
        Scene(2, 96, 144, "Night exterior", str(offline), 0.0),
        Scene(3, 144, 192, "green", str(clip), 6.2),
    )
    return Edit("t", RATE, 192, (48, 96, 144), scenes, start_timecode="01:00:00:00")


def _score(path: Path, seconds: float = 8.0) -> Path:
    """440 Hz at -10 dBFS RMS for the first half, silence for the second."""
    t = np.arange(int(seconds * 48_000)) / 48_000
    x = np.sqrt(2) * 10 ** (-10 / 20) * np.sin(2 * np.pi * 440 * t) * (t < seconds / 2)
    sf.write(path, np.stack([x, x], 1), 48_000, subtype="PCM_24")
    return path


def _decode(path: Path) -> tuple[av.VideoStream, list[np.ndarray], np.ndarray, list[float]]:
    with av.open(str(path)) as c:
        assert len(c.streams.video) == 1 and len(c.streams.audio) == 1
        vs, ast = c.streams.video[0], c.streams.audio[0]
        info = (vs.codec_context.name, ast.codec_context.name, vs.average_rate, ast.rate)
        pictures, times = [], []
        for f in c.decode(video=0):
            pictures.append(f.to_ndarray(format="rgb24"))
            times.append(f.time)
    with av.open(str(path)) as c:
        pcm = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    return info, pictures, pcm, times


def _rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _small(picture: np.ndarray, like: np.ndarray) -> np.ndarray:
    return cv2.resize(picture, (like.shape[1], like.shape[0]), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def preview(clip, tmp_path_factory):
    folder = tmp_path_factory.mktemp("out")
    score = _score(folder / "score.wav")
    heard: list[float] = []
    info = write_preview(
        _edit(clip, folder / "gone" / "B007_C001.mov"),
        score,
        folder / "preview.mp4",
        on_progress=heard.append,
    )
    return info, _decode(info.path), heard, folder


def test_streams_size_and_length(preview):
    info, ((vcodec, acodec, fps, arate), pictures, pcm, times), heard, folder = preview
    assert (vcodec, acodec, fps, arate) == ("h264", "aac", RATE, 48_000)
    assert (info.width, info.height, info.frames, info.slates) == (640, 360, 192, 1)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert len(pictures) == 192 and pictures[0].shape == (360, 640, 3)
    assert abs(times[-1] + 1 / 24 - 8.0) < 1 / 24 and times[0] == 0
    assert pcm.shape[0] == 2 and abs(pcm.shape[1] / 48_000 - 8.0) < 1 / 24
    assert heard[-1] == 1.0 and heard == sorted(heard) and len(heard) > 10
    # nothing but the inputs and the movie: the temporary file was renamed, not left behind
    assert sorted(p.name for p in folder.iterdir()) == ["preview.mp4", "score.wav"]


def test_each_frame_is_the_source_frame_on_screen_at_that_time(preview, source_frames):
    _, (_, pictures, _, _), _, _ = preview
    for k in (48, 50, 61, 75, 95):  # scene 1: the moving shot from 0.5 s
        want = int(np.floor((0.5 + (k - 48) / 24) * SRC_FPS + 1e-6))
        small = _small(pictures[k], source_frames[0])
        near = {i: _mad(small, source_frames[i]) for i in range(want - 2, want + 3)}
        assert min(near, key=near.get) == want, (k, near)
        assert near[want] < 6
    gloomy = _small(pictures[10], source_frames[0])
    assert _mad(gloomy, source_frames[int((3.5 + 10 / 24) * SRC_FPS)]) < 6
    assert _mad(gloomy, source_frames[30]) > 40  # another shot looks nothing like it


def test_offline_scene_is_a_slate_with_a_running_timecode(preview):
    _, (_, pictures, _, _), _, _ = preview
    a, b = (cv2.cvtColor(pictures[k], cv2.COLOR_RGB2GRAY) for k in (100, 130))
    for gray in (a, b):
        assert np.median(gray) < 40  # a dark card
        assert 500 < np.count_nonzero(gray > 180) < 0.1 * gray.size  # with text on it
    moved = np.abs(a.astype(int) - b.astype(int)) > 60
    rows = np.flatnonzero(moved.any(axis=1))
    assert rows.size and rows.min() > 0.75 * a.shape[0]  # only the timecode line changed


def test_sound_follows_the_score(preview):
    _, (_, _, pcm, _), _, _ = preview
    loud, quiet = pcm[:, 4800 : 4 * 48_000 - 4800], pcm[:, 4 * 48_000 + 4800 :]
    assert abs(_rms_db(loud) - (-10)) < 1.5 and _rms_db(quiet) < -60
    spectrum = np.abs(np.fft.rfft(loud[0, :48_000]))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second


def test_original_sound_is_mixed_under_the_score_in_sync(clip, tmp_path):
    # from 5.5 s: half a second of the gloomy shot (-42 dBFS), then the loud tone (-12 dBFS)
    edit = Edit("o", RATE, 48, (), (Scene(0, 0, 48, "tone", str(clip), 5.5),))
    score = tmp_path / "score.wav"
    sf.write(score, np.zeros((96_000, 2)), 48_000)  # a silent score: only the original
    info = write_preview(edit, score, tmp_path / "p.mp4", width=160, original_audio_db=-18)
    _, _, pcm, _ = _decode(info.path)
    assert abs(_rms_db(pcm[:, 30_000:90_000]) - (-12 - 18)) < 1.5
    blocks = [_rms_db(pcm[:, i : i + 480]) for i in range(0, 48_000, 480)]
    onset = next(i for i, db in enumerate(blocks) if db > -40) * 480 / 48_000
    assert abs(onset - 0.5) <= 1 / 24, onset
    info = write_preview(edit, score, tmp_path / "q.mp4", width=160)
    assert _rms_db(_decode(info.path)[2]) < -60


def test_one_video_for_the_whole_timeline_and_relinked_media(clip, source_frames, tmp_path):
    score = _score(tmp_path / "score.wav", 2.0)
    edit = Edit(
        "v",
        RATE,
        48,
        (24,),
        (Scene(0, 0, 24, "a", "/nowhere/x.mov", 9.0), Scene(1, 24, 48, "b", None, None)),
    )
    # `video=`: the file plays at timeline time, scene by scene, without a seek
    info = write_preview(edit, score, tmp_path / "v.mp4", video=clip, width=321)
    _, pictures, _, _ = _decode(info.path)
    assert (info.width, info.height, info.slates) == (320, 180, 0)
    for k in (0, 23, 24, 47):
        want = int(np.floor(k / 24 * SRC_FPS + 1e-6))
        assert _mad(pictures[k], source_frames[want]) < 6, k
    # `media_root=`: a clip moved since the edit is found by its name
    # (at 23.976 fps: the movie keeps the exact rational rate)
    ntsc = Fraction(24000, 1001)
    moved = Edit("m", ntsc, 24, (), (Scene(0, 0, 24, "a", f"/old/disk/{clip.name}", 3.5),))
    info = write_preview(moved, score, tmp_path / "m.mp4", media_root=clip.parent, width=320)
    (_, _, fps, _), pictures, _, times = _decode(info.path)
    assert info.slates == 0 and fps == ntsc and len(pictures) == 24
    assert abs(times[-1] - 23 / ntsc) < 1e-3
    assert _mad(pictures[5], source_frames[int((3.5 + 5 / ntsc) * 25)]) < 6
    info = write_preview(moved, score, tmp_path / "s.mp4", width=320)
    assert info.slates == 1


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failure_leaves_the_old_file_and_no_temporary(clip, tmp_path, error):
    score = _score(tmp_path / "score.wav")
    out = tmp_path / "preview.mp4"
    out.write_bytes(b"the previous preview")

    def stop(fraction: float) -> None:
        if fraction > 0.3:
            raise error("stop")

    with pytest.raises(error):
        write_preview(_edit(clip, tmp_path / "x.mov"), score, out, width=160, on_progress=stop)
    assert out.read_bytes() == b"the previous preview"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preview.mp4", "score.wav"]


def test_missing_or_unreadable_score_is_a_clear_error(clip, tmp_path):
    edit = _edit(clip, tmp_path / "x.mov")
    with pytest.raises(EmsyncError, match="does not exist"):
        write_preview(edit, tmp_path / "score.wav", tmp_path / "p.mp4")
    (tmp_path / "score.wav").write_bytes(b"not audio at all" * 10)
    with pytest.raises(EmsyncError, match="cannot be read"):
        write_preview(edit, tmp_path / "score.wav", tmp_path / "p.mp4")
    assert not (tmp_path / "p.mp4").exists()
