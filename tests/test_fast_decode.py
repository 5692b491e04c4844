"""Skipping non-reference frames (frames.collect(skip_nonref=True)) and the fast cut path
(scenes.analyse_pass): the same samples, faces and exact motion values as a full decode, and
frame-exact cuts identical to a full decode, also where a cut falls on a B-frame."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from scenedetect.common import FrameTimecode
from scenedetect.detectors import AdaptiveDetector

from emsync_core.emotion.features import frame_stats
from emsync_core.video import scenes
from emsync_core.video.frames import (
    SceneSource,
    collect,
    collect_sources,
    is_intra,
    is_reference,
    nal_length_size,
    stream_media,
)
from emsync_core.video.scenes import adaptive_cuts, analyse_pass, content_score
from emsync_core.video.synth import Segment, with_b_frames, write_video

FPS = 25
# Cut frames 29, 66, 103, 140: with 3 B-frames in a row (B-pyramid, I every 50 frames) they
# land on a non-reference B, the reference B, a non-reference B and a P-frame.
SHOTS = [
    Segment(29 / FPS, brightness=0.7, saturation=0.6, hue=20, speed=10),
    Segment(37 / FPS, brightness=0.3, saturation=0.3, hue=110, speed=3),
    Segment(37 / FPS, brightness=0.5, saturation=0.5, hue=60, speed=14, contrast=0.4),
    Segment(37 / FPS, brightness=0.85, saturation=0.3, hue=150, speed=2),
    Segment(30 / FPS, brightness=0.2, saturation=0.8, hue=0, speed=6),
]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("fast")
    truth = write_video(d / "src.mp4", SHOTS, fps=FPS, audio=False, gop=250)
    with_b_frames(d / "src.mp4", d / "b.mp4", scenecut=False)
    with_b_frames(d / "src.mp4", d / "b_scenecut.mp4", scenecut=True)
    return d, truth


def _frame_kinds(path: Path) -> dict[int, tuple[bool, bool]]:
    """Frame number -> (reference, intra), from the packets."""
    out = {}
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        cc = vs.codec_context
        size = nal_length_size(cc.name, cc.extradata)
        for p in c.demux(vs):
            if p.size:
                data = bytes(p)
                out[round(float(p.pts * vs.time_base) * FPS)] = (
                    is_reference(data, cc.name, size),
                    is_intra(data, cc.name, size),
                )
    return out


def test_cuts_on_b_frames_identical_to_full_decode(clips, monkeypatch):
    d, truth = clips
    path = d / "b.mp4"
    kinds = _frame_kinds(path)
    cut_frames = [round(t * FPS) for t in truth]
    assert cut_frames == [29, 66, 103, 140]
    # the clip does what it is for: two cuts on non-reference B-frames, none on an I-frame
    assert [kinds[k][0] for k in cut_frames] == [False, True, False, True]
    assert not any(kinds[k][1] for k in cut_frames)
    full = analyse_pass(path, fast_decode=False).cuts  # every frame, deblocking on
    every = analyse_pass(path, skip_nonref=False).cuts
    seeks = []
    real = scenes.exact_scores
    monkeypatch.setattr(scenes, "exact_scores", lambda *a: seeks.append(a[2]) or real(*a))
    fast = analyse_pass(path).cuts
    assert fast == every == full
    assert [round(t * FPS) for t in fast] == cut_frames
    assert seeks  # cuts off I-frames are placed by decoding their neighbourhood again


def test_cuts_at_i_frames_need_no_second_decode(clips, monkeypatch):
    d, truth = clips
    path = d / "b_scenecut.mp4"
    kinds = _frame_kinds(path)
    assert all(kinds[round(t * FPS)][1] for t in truth)  # x264 starts each shot with an I
    seeks = []
    monkeypatch.setattr(scenes, "exact_scores", lambda *a: seeks.append(a) or {})
    fast = analyse_pass(path).cuts
    monkeypatch.undo()
    assert fast == analyse_pass(path, skip_nonref=False).cuts
    assert [round(t * FPS) for t in fast] == [round(t * FPS) for t in truth]
    assert seeks == []  # the pass decoded the I-frames' neighbourhoods in full


def test_skipping_keeps_samples_and_exact_motion(clips):
    d, _ = clips
    path = d / "b.mp4"
    full = collect(path, frame_fn=frame_stats)
    fast = collect(path, frame_fn=frame_stats, skip_nonref=True)
    assert len(full.frame_times) == 170
    # fewer frames decoded; the rest accounted for, so the clip is not "damaged"
    assert len(fast.frame_times) < 0.85 * len(full.frame_times)
    assert len(fast.frame_times) + len(fast.skipped_times) == len(full.frame_times)
    assert fast.decoded_share == 1.0 and fast.window(1.0, 4.0).decoded_share == 1.0
    # colour samples from the very same frames
    assert np.array_equal(fast.sample_times, full.sample_times)
    assert np.array_equal(np.stack(fast.samples), np.stack(full.samples))
    # motion: exact per-frame values where the previous frame was decoded, several a second
    at = np.searchsorted(full.frame_times, fast.motion_times)
    assert np.array_equal(full.frame_times[at], fast.motion_times)
    assert np.array_equal(fast.motion, full.motion[at])
    assert len(fast.motion) >= 6 * 6.8
    w = fast.window(2.0, 4.0)
    assert len(w.motion) == len(w.motion_times) and np.all(w.motion_times >= 2.0)


def test_timeline_sources_skip_non_reference_frames(clips):
    d, _ = clips
    src = [SceneSource(str(d / "b.mp4"), 0.0, 2.0), SceneSource(str(d / "b.mp4"), 2.0, 6.8)]
    fast = collect_sources(src, frame_fn=frame_stats)
    full = collect_sources(src, frame_fn=frame_stats, skip_nonref=False)
    for a, b in zip(fast, full, strict=True):
        assert len(a.skipped_times) > 0 and a.decoded_share == 1.0
        assert np.array_equal(a.sample_times, b.sample_times)


def test_other_codecs_decode_every_frame(tmp_path):
    path = tmp_path / "mpeg4.mp4"
    with av.open(str(path), "w") as out:
        vs = out.add_stream("mpeg4", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.options = {"bf": "2"}
        for i in range(20):
            img = np.full((48, 64, 3), i * 10, np.uint8)
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
    events = [ev.kind for ev in stream_media(path, skip_nonref=True)]
    assert events.count("video") == 20 and "skip" not in events


def test_adaptive_rule_matches_pyscenedetect(clips):
    """adaptive_cuts on content_score gives AdaptiveDetector's cuts, frame for frame."""
    d, _ = clips
    det = AdaptiveDetector(adaptive_threshold=2.0, min_scene_len=15, min_content_val=15.0)
    rate = Fraction(FPS)
    expected, scores, prev = [], {}, None
    for i, ev in enumerate(e for e in stream_media(d / "b.mp4", audio=False) if e.kind == "video"):
        expected += [tc.frame_num for tc in det.process_frame(FrameTimecode(i, rate), ev.bgr)]
        hsv = scenes._hsv(ev.bgr)
        scores[i] = 0.0 if prev is None else content_score(prev, hsv)
        assert scores[i] == (det._frame_score or 0.0)
        prev = hsv
    n = len(scores)
    assert adaptive_cuts(scores, range(n), n, 15, 2.0, 15.0) == expected == [29, 66, 103, 140]


def test_nal_classification():
    # AVCC (4-byte lengths): an SEI then a non-reference B slice (nal_ref_idc 0, type 1)
    sei, b_slice = b"\x06\x05\x01\x00", b"\x01\x9e\x00\x00"
    avcc = b"".join(len(n).to_bytes(4, "big") + n for n in (sei, b_slice))
    assert not is_reference(avcc, "h264", 4)
    # nal_ref_idc 2 P slice: first_mb 0 ('1'), slice_type 0 ('1') -> not intra
    p_slice = b"\x41\xc0\x00"
    assert is_reference(len(p_slice).to_bytes(4, "big") + p_slice, "h264", 4)
    assert not is_intra(len(p_slice).to_bytes(4, "big") + p_slice, "h264", 4)
    # I slice: first_mb 0 ('1'), slice_type 7 ('0001000') -> 1000 1000 = 0x88
    i_slice = b"\x41\x88\x00"
    assert is_intra(b"\x00\x00\x00\x01" + i_slice, "h264", 0)  # Annex B start code
    assert is_intra(b"\x00\x00\x01\x65\x88", "h264", 0)  # IDR
    # HEVC: TRAIL_N (type 0) is non-reference, TRAIL_R (1) reference, CRA (21) intra
    assert not is_reference(b"\x00\x00\x01" + bytes([0 << 1, 1]), "hevc", 0)
    assert is_reference(b"\x00\x00\x01" + bytes([1 << 1, 1]), "hevc", 0)
    assert is_intra(b"\x00\x00\x01" + bytes([21 << 1, 1]), "hevc", 0)
    # a packet with no slice at all is treated as a reference (never skipped)
    assert is_reference(avcc[:8], "h264", 4)


def test_motion_variation_counts_only_neighbouring_frames(clips):
    """Motion is known on short runs when frames are skipped: the variation between runs is
    not a frame-to-frame change, so it must not raise a shot's motion variation."""
    from emsync_core.emotion.features import picture_features

    d, _ = clips
    full = collect(d / "b.mp4", frame_fn=frame_stats)
    fast = collect(d / "b.mp4", frame_fn=frame_stats, skip_nonref=True)
    edges = np.cumsum([0.0] + [s.seconds for s in SHOTS])
    for t0, t1 in zip(edges[:-1], edges[1:], strict=True):  # inside each shot
        a = picture_features(full.window(t0 + 0.1, t1))
        b = picture_features(fast.window(t0 + 0.1, t1))
        assert b["motion_var"] == pytest.approx(a["motion_var"], rel=0.3, abs=3e-4), (t0, t1)
        assert b["motion"] == pytest.approx(a["motion"], rel=0.15, abs=1e-3), (t0, t1)
