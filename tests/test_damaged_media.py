"""Damaged media: undecodable packets are skipped and counted, and the scenes whose mood rests
on too few frames are marked (analysis, `emsync analyze`, report.json) with a warning."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emsync_core.cli import main
from emsync_core.emotion.classify import MIN_DECODED_SHARE, analyze_video_detailed
from emsync_core.video.frames import MediaError, collect
from emsync_core.video.synth import Segment, write_video

SEGMENTS = [
    Segment(2.0, brightness=0.3 + 0.2 * (k % 2), hue=20 + 60 * k, speed=4, audio="tone")
    for k in range(4)
]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """(intact, damaged): the damaged copy has 40 % of its bytes, from 45 % of the file on,
    overwritten with seeded noise, so the second half's frames mostly cannot be decoded."""
    folder = tmp_path_factory.mktemp("damaged")
    good = folder / "good.mp4"
    write_video(good, SEGMENTS, width=160, height=90, fps=12, gop=12)
    data = bytearray(good.read_bytes())
    lo, hi = int(len(data) * 0.45), int(len(data) * 0.85)
    data[lo:hi] = np.random.default_rng(0).integers(0, 256, hi - lo, dtype=np.uint8).tobytes()
    bad = folder / "bad.mp4"
    bad.write_bytes(bytes(data))
    return good, bad


def test_undecodable_packets_are_counted_not_fatal(clips):
    good, bad = clips
    intact = collect(good)
    assert intact.decode_errors == 0 and intact.decoded_share == pytest.approx(1.0)
    damaged = collect(bad)
    assert damaged.decode_errors > 10
    assert 0.2 < damaged.decoded_share < 0.8
    assert damaged.window(0.0, 2.0).decoded_share == pytest.approx(1.0)  # before the damage
    assert damaged.window(4.0, 6.0).decoded_share < MIN_DECODED_SHARE


def test_scenes_from_too_few_frames_are_marked(clips):
    good, bad = clips
    _, intact = analyze_video_detailed(good, faces=False)
    assert not any(s.too_few_frames for s in intact)
    _, scenes = analyze_video_detailed(bad, faces=False)
    marked = [s for s in scenes if s.too_few_frames]
    assert marked and not scenes[0].too_few_frames
    for s in marked:
        assert s.decoded_share < MIN_DECODED_SHARE and s.to_json()["too_few_frames"] is True
        assert s.mood().too_few_frames and s.confidence <= s.decoded_share


def test_analyze_warns_and_exits_0(clips, capsys):
    _, bad = clips
    assert main(["analyze", str(bad), "--json", "--no-faces"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert any(s["too_few_frames"] for s in doc["scenes"])
    assert "too few frames" in err and "damaged" in err and "Traceback" not in err


def test_report_marks_the_scenes(clips, tmp_path, capsys):
    _, bad = clips
    out = tmp_path / "scored"
    code = main(["score", str(bad), "--out", str(out), "--engine", "arranger", "--no-render"])
    assert code == 0
    assert "too few frames" in capsys.readouterr().err
    scenes = json.loads((out / "report.json").read_text())["scenes"]
    assert any(s["mood_too_few_frames"] for s in scenes)
    assert all(s["mood_decoded_share"] is not None for s in scenes)
    assert all(s["mood_face_share"] == 0 for s in scenes)  # analysed for faces, none found


def test_a_file_with_no_decodable_frame_is_an_error(clips, tmp_path):
    good, _ = clips
    data = bytearray(good.read_bytes())
    start, end = data.find(b"mdat") + 4, data.find(b"moov") - 4  # every packet, not the index
    assert 0 < start < end
    noise = np.random.default_rng(1).integers(0, 256, end - start, dtype=np.uint8)
    data[start:end] = noise.tobytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    with pytest.raises(MediaError, match="No frame of .* could be decoded"):
        collect(broken)
