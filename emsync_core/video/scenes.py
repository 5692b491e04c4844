"""Scene cuts in a raw video (no timeline): PySceneDetect's AdaptiveDetector, fed from the
same PyAV pass that samples frames and decodes audio (see frames.collect).

AdaptiveDetector compares each frame's content score with the rolling average of its
neighbours, so hand-held camera motion does not read as cuts (ContentDetector's fixed
threshold does). It runs on the ~160 px thumbnails.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scenedetect.common import FrameTimecode
from scenedetect.detectors import AdaptiveDetector

from .frames import SAMPLE_FPS, MediaSamples, collect

MIN_SCENE_S = 0.6
# Tuned on generated clips (benchmarks/results/analyze.md): 2.0 gave precision 1.0 and
# recall 0.97 where the PySceneDetect default 3.0 gave 0.85 recall.
ADAPTIVE_THRESHOLD = 2.0


class CutDetector:
    """Callable for frames.collect: (frame index, BGR thumbnail) -> cut frame indices."""

    def __init__(
        self,
        fps: float,
        adaptive_threshold: float = ADAPTIVE_THRESHOLD,
        min_scene_s: float = MIN_SCENE_S,
        min_content_val: float = 15.0,
    ):
        self.rate = Fraction(fps).limit_denominator(1001)
        self.detector = AdaptiveDetector(
            adaptive_threshold=adaptive_threshold,
            min_scene_len=max(1, int(round(min_scene_s * fps))),
            min_content_val=min_content_val,
        )
        self.last = 0

    def __call__(self, index: int, bgr: np.ndarray) -> list[int]:
        self.last = index
        found = self.detector.process_frame(FrameTimecode(index, self.rate), bgr)
        return [tc.frame_num for tc in found]

    def flush(self) -> list[int]:
        found = self.detector.post_process(FrameTimecode(self.last, self.rate))
        return [tc.frame_num for tc in found]


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float


def analyse_pass(
    path: str | os.PathLike,
    sample_fps: float = SAMPLE_FPS,
    frame_fn=None,
    adaptive_threshold: float = ADAPTIVE_THRESHOLD,
    min_scene_s: float = MIN_SCENE_S,
    face_fn=None,
    fast_decode: bool = True,
) -> MediaSamples:
    """One pass over a whole video: samples, motion, audio, detected cut times and (with
    `face_fn`) faces."""
    from .frames import probe

    info = probe(path)
    det = CutDetector(info.fps, adaptive_threshold, min_scene_s)
    samples = collect(
        path,
        sample_fps=sample_fps,
        frame_fn=frame_fn,
        cut_detector=det,
        face_fn=face_fn,
        fast_decode=fast_decode,
    )
    extra = [samples.frame_times[k] for k in det.flush() if 0 < k < len(samples.frame_times)]
    samples.cuts = sorted(set(samples.cuts) | set(float(t) for t in extra))
    return samples


def spans_from_cuts(cuts: list[float], duration_s: float) -> list[Span]:
    edges = [0.0, *[c for c in cuts if 0 < c < duration_s], duration_s]
    return [Span(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def match_cuts(found: list[float], truth: list[float], tolerance_s: float) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives), one-to-one within tolerance."""
    used: set[int] = set()
    tp = 0
    for t in truth:
        best = None
        for i, f in enumerate(found):
            near = i not in used and abs(f - t) <= tolerance_s
            if near and (best is None or abs(f - t) < abs(found[best] - t)):
                best = i
        if best is not None:
            used.add(best)
            tp += 1
    return tp, len(found) - tp, len(truth) - tp
