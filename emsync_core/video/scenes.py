"""Scene cuts in a raw video (no timeline): PySceneDetect's AdaptiveDetector, fed from the
same PyAV pass that samples frames and decodes audio (see frames.collect).

AdaptiveDetector compares each frame's content score with the rolling average of its
neighbours, so hand-held camera motion does not read as cuts (ContentDetector's fixed
threshold does). It runs on the ~160 px thumbnails.

Fast path (H.264/HEVC, `analyse_pass(skip_nonref=True)`, the default): the pass decodes only
the reference frames (plus short runs around samples, frames.collect), so it cannot place a
cut on its frame. It scores each decoded frame against the previous decoded one and keeps as
candidates the steps that could hide a cut (CANDIDATE_MIN / CANDIDATE_RATIO, well below what
a cut needs); then each candidate's neighbourhood is decoded in full (seek to the keyframe
before it, non-reference frames outside the neighbourhood still skipped) and
AdaptiveDetector's rule (`adaptive_cuts`, the same scores, ratio, minimum content and minimum
scene length) is applied to the exact per-frame scores there. Cuts are therefore the full
decode's wherever the candidate test does not miss one; benchmarks/bench_analyze.py and
tests/test_fast_decode.py check that they are identical, also with cuts on B-frames.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np
from scenedetect.common import FrameTimecode
from scenedetect.detectors import AdaptiveDetector

from .frames import (
    SAMPLE_FPS,
    SKIPPABLE_CODECS,
    THUMB_WIDTH,
    MediaError,
    MediaSamples,
    _thumb_step,
    collect,
    configure_decoder,
    is_reference,
    nal_length_size,
    probe,
    thumbnail,
)

MIN_SCENE_S = 0.6
# Tuned on generated clips (benchmarks/results/analyze.md): 2.0 gave precision 1.0 and
# recall 0.97 where the PySceneDetect default 3.0 gave 0.85 recall.
ADAPTIVE_THRESHOLD = 2.0
MIN_CONTENT_VAL = 15.0  # AdaptiveDetector's default: the smallest content score of a cut
WINDOW = 2  # AdaptiveDetector's window_width: frames on each side of the rolling average
# Candidate cuts of the fast path: a step between consecutive decoded frames (one or more
# frames apart) whose content score is at least CANDIDATE_MIN * MIN_CONTENT_VAL and
# CANDIDATE_RATIO * adaptive_threshold times the mean score of the two steps on each side. A
# cut needs 1.0 and 1.0 of these on single frames; over gaps its step keeps most of its score
# while the neighbours' grow, so the ratio drops: the lowest seen at a cut of the generated
# clips (122 cuts, results/analyze.md) was 0.875 of the threshold and the lowest score 1.46 of
# MIN_CONTENT_VAL; 0.65 and 0.6 leave margins and ~1.5 % of the other steps as candidates.
CANDIDATE_MIN = 0.6
CANDIDATE_RATIO = 0.65


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


def _hsv(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(cv2.split(cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)))


def content_score(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """ContentDetector's frame score between two HSV thumbnails (default weights 1, 1, 1, 0:
    the mean absolute hue, saturation and value difference), computed the way it does."""
    n = float(a[0].shape[0] * a[0].shape[1])
    parts = [
        np.sum(np.abs(x.astype(np.int32) - y.astype(np.int32))) / n
        for x, y in zip(a, b, strict=True)
    ]
    return sum(c * 1.0 for c in (*parts, 0.0)) / 3.0


def adaptive_cuts(
    scores: dict[int, float],
    targets: Sequence[int],
    n_frames: int,
    min_scene_len: int,
    adaptive_threshold: float = ADAPTIVE_THRESHOLD,
    min_content_val: float = MIN_CONTENT_VAL,
) -> list[int]:
    """AdaptiveDetector's decisions for the frames `targets` (ascending), from per-frame
    content scores (`scores[k]`: frame k-1 -> k; frame 0 scores 0): a cut at k when its score
    is at least `adaptive_threshold` times the mean of the WINDOW scores on each side and at
    least `min_content_val`, and k is `min_scene_len` frames after the last cut (the first
    counts from frame 0). Frames without a full window (the first and last WINDOW) are not
    targets, as in AdaptiveDetector."""
    cuts: list[int] = []
    last = 0
    for k in targets:
        if k < WINDOW or k + WINDOW >= n_frames:
            continue
        around = [scores[j] for j in range(k - WINDOW, k + WINDOW + 1) if j != k]
        score = scores[k]
        average = sum(around) / (2.0 * WINDOW)
        if abs(average) >= 0.00001:
            ratio = min(score / average, 255.0)
        else:
            ratio = 255.0 if score >= min_content_val else 0.0
        if ratio >= adaptive_threshold and score >= min_content_val and k - last >= min_scene_len:
            cuts.append(k)
            last = k
    return cuts


class StepScorer:
    """Callable for frames.collect: the content score of each decoded frame against the
    previous decoded one (the fast path's candidate cuts)."""

    def __init__(self):
        self.scores: list[float] = []
        self._prev: tuple[np.ndarray, ...] | None = None

    def __call__(self, index: int, bgr: np.ndarray) -> list[int]:
        hsv = _hsv(bgr)
        self.scores.append(0.0 if self._prev is None else content_score(self._prev, hsv))
        self._prev = hsv
        return []


def candidate_steps(
    scores: Sequence[float], adaptive_threshold: float = ADAPTIVE_THRESHOLD
) -> list[int]:
    """Positions i (in the decoded frames) whose step from decoded frame i-1 may hold a cut."""
    out = []
    for i in range(1, len(scores)):
        s = scores[i]
        if s < CANDIDATE_MIN * MIN_CONTENT_VAL:
            continue
        nb = [scores[j] for j in (i - 2, i - 1, i + 1, i + 2) if 1 <= j < len(scores)]
        if not nb or s >= CANDIDATE_RATIO * adaptive_threshold * sum(nb) / len(nb):
            out.append(i)
    return out


class _NeedFullDecode(Exception):
    """The fast path could not decode a neighbourhood frame for frame (damaged media, a seek
    that never lands before it): analyse_pass falls back to decoding every frame."""


def _windows(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def exact_scores(
    path: str | os.PathLike,
    all_times: np.ndarray,
    windows: list[tuple[int, int]],
    thumb_width: int,
    fast_decode: bool = True,
) -> dict[int, float]:
    """Content scores of every frame k with k-1 and k inside one of `windows` (inclusive
    frame-number ranges over `all_times`), decoding only those stretches in full: seek to the
    keyframe before each (further back if the seek lands late), reference frames on the way,
    non-reference frames only inside the window."""
    scores: dict[int, float] = {0: 0.0}  # AdaptiveDetector scores the first frame 0
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"Cannot open the video '{path}': {exc}.") from None
    with container:
        vs = container.streams.video[0]
        configure_decoder(vs, fast_decode)
        cc = vs.codec_context
        codec = cc.name
        length_size = nal_length_size(codec, cc.extradata) if codec in SKIPPABLE_CODECS else -1
        origin = float(vs.start_time * vs.time_base) if vs.start_time is not None else 0.0
        step = _thumb_step(cc.width, thumb_width)
        half = 0.5 / max(float(vs.average_rate or vs.guessed_rate or 25), 1e-6)
        for a, b in windows:
            t0, t1 = float(all_times[a]), float(all_times[b])
            back = 0.0
            for _attempt in range(4):
                got = _decode_stretch(
                    container, vs, codec, length_size, origin, step, t0, t1, half, back
                )
                if len(got) == b - a + 1:
                    break
                back = back * 2 + 2.0  # the seek landed after t0 (or on a broken keyframe)
            else:
                raise _NeedFullDecode(f"{path}: frames around {t0:.2f} s did not decode")
            for k in range(a + 1, b + 1):
                scores[k] = content_score(got[k - a - 1], got[k - a])
    return scores


def _decode_stretch(container, vs, codec, length_size, origin, step, t0, t1, half, back):
    """HSV thumbnails of every frame shown in [t0, t1] (display order), decoded from the
    keyframe at or before t0 - back."""
    target = max(0.0, t0 - back) + origin
    container.seek(int(math.floor(target / vs.time_base)), stream=vs, backward=True)
    cc = vs.codec_context
    cc.flush_buffers()
    skipping = False
    got: dict[float, tuple[np.ndarray, ...]] = {}
    done = False
    for packet in container.demux(vs):
        if packet.size and packet.pts is not None and length_size >= 0:
            t = float(packet.pts * vs.time_base) - origin
            skip = not (t0 - half <= t <= t1 + half) and not is_reference(
                bytes(packet), codec, length_size
            )
            if skip != skipping:
                cc.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
        try:
            frames = packet.decode()
        except av.FFmpegError:
            continue
        for frame in frames:
            if frame.time is None:
                continue
            t = frame.time - origin
            if t > t1 + half:
                done = True
            elif t >= t0 - half:
                got[t] = _hsv(thumbnail(frame, step)[0])
        if done:
            break
    cc.skip_frame = "DEFAULT"
    return [got[t] for t in sorted(got)]


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
    skip_nonref: bool | None = None,
) -> MediaSamples:
    """One pass over a whole video: samples, motion, audio, detected cut times and (with
    `face_fn`) faces. `skip_nonref` (default: `fast_decode`) takes the fast path for H.264 and
    HEVC (module docstring); `fast_decode=False` decodes every frame with the deblocking
    filter on (the reference the fast paths are measured against)."""
    info = probe(path)
    if skip_nonref is None:
        skip_nonref = fast_decode
    if skip_nonref and _codec(path) in SKIPPABLE_CODECS:
        try:
            return _analyse_fast(path, info, sample_fps, frame_fn, adaptive_threshold,
                                 min_scene_s, face_fn, fast_decode)  # fmt: skip
        except _NeedFullDecode:
            pass  # (face_fn.results() at the end of the first pass made it ready again)
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


def _codec(path: str | os.PathLike) -> str:
    try:
        with av.open(str(path)) as container:
            return container.streams.video[0].codec_context.name
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise MediaError(f"Cannot read the video '{path}': {exc}.") from None


def _analyse_fast(
    path, info, sample_fps, frame_fn, adaptive_threshold, min_scene_s, face_fn, fast_decode
) -> MediaSamples:
    scorer = StepScorer()
    samples = collect(
        path,
        sample_fps=sample_fps,
        frame_fn=frame_fn,
        cut_detector=scorer,
        face_fn=face_fn,
        fast_decode=fast_decode,
        skip_nonref=True,
        intra_runs=True,
    )
    # Every frame of the file in display order, decoded or not: frame numbers as a full
    # decode counts them (what AdaptiveDetector's frame-based rules use).
    all_times = np.union1d(samples.frame_times, samples.skipped_times)
    index = np.searchsorted(all_times, samples.frame_times)
    n = len(all_times)
    # Where the pass decoded two frames in a row (runs around samples and I-frames, reference
    # frames without B-frames between them) its step score is the exact per-frame score.
    scores = {0: 0.0}
    for i in range(1, len(index)):
        if index[i] - index[i - 1] == 1:
            scores[int(index[i])] = scorer.scores[i]
    cands = candidate_steps(scorer.scores, adaptive_threshold)
    # A cut at k in (index[i-1], index[i]] is decided by the scores of k-2..k+2, i.e. by the
    # frames from k-3 to k+2; decode in full what the pass did not.
    ranges = []
    for i in cands:
        a = max(0, int(index[i - 1]) - WINDOW)
        b = min(n - 1, int(index[i]) + WINDOW)
        if any(k not in scores for k in range(a + 1, b + 1)):
            ranges.append((a, b))
    windows = _windows(ranges)
    if windows:
        scores.update(exact_scores(path, all_times, windows, THUMB_WIDTH, fast_decode))
    targets = [k for i in cands for k in range(int(index[i - 1]) + 1, int(index[i]) + 1)]
    min_len = max(1, int(round(min_scene_s * info.fps)))
    found = adaptive_cuts(scores, sorted(set(targets)), n, min_len, adaptive_threshold)
    samples.cuts = [float(all_times[k]) for k in found]
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
