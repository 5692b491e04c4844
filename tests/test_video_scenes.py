"""Cuts in raw video: AdaptiveDetector fed from the same PyAV pass."""

import pytest

from emsync_core.video.scenes import analyse_pass, match_cuts, spans_from_cuts
from emsync_core.video.synth import Segment, write_video

SHOTS = [
    Segment(1.6, brightness=0.7, saturation=0.6, hue=20, speed=10),  # fast pan
    Segment(1.2, brightness=0.3, saturation=0.3, hue=110, speed=0),
    Segment(2.0, brightness=0.5, saturation=0.5, hue=60, speed=14, contrast=0.4),  # fast pan
    Segment(0.8, brightness=0.6, saturation=0.5, hue=85, speed=2),  # similar look, new shot
    Segment(1.4, brightness=0.2, saturation=0.8, hue=0, speed=6),
]


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("cuts") / "cuts.mp4"
    truth = write_video(path, SHOTS, fps=25, gop=30)
    return path, truth


def test_cuts_found_at_the_right_frames(cut_clip):
    path, truth = cut_clip
    assert truth == pytest.approx([1.6, 2.8, 4.8, 5.6])
    found = analyse_pass(path).cuts
    # every cut on its exact frame (25 fps: 1 frame = 0.04 s), and no cut inside the pans
    assert match_cuts(found, truth, tolerance_s=0.001) == (4, 0, 0)


def test_spans_and_matching():
    spans = spans_from_cuts([1.0, 2.5], 4.0)
    assert [(s.start_s, s.end_s) for s in spans] == [(0, 1.0), (1.0, 2.5), (2.5, 4.0)]
    assert match_cuts([1.02, 3.0, 5.0], [1.0, 2.0, 5.04], 0.05) == (2, 1, 1)
    assert match_cuts([], [1.0], 0.05) == (0, 0, 1)
