"""Per-scene emotion from picture, motion, editing and sound features.

A small linear-softmax head over standardised features gives probabilities over Ekman-6 plus
neutral; `mapping.va_from_probs` turns them into valence (the paper's mapping). Arousal is
not read off the classes: `arousal.py` sums documented per-cue scores (motion, cut rate,
loudness, onsets, ...), which film-affect work finds predict arousal far better. The
default weights are not fitted to data: they are set by hand from published film-affect and
music/voice-affect findings (docs/emotion.md lists which finding sets which sign). A head with
other weights (e.g. fitted to labelled clips with `fit_head`) can be saved as JSON and loaded.

Adjacent scenes are smoothed only as far as their features agree, so a real change of mood at
a cut is kept while a short, unreliable scene leans on similar neighbours.

Faces: where the footage shows faces, their mean expression over time (face.py, mini-Xception
on FER2013, read twice a second) is blended into the head's probabilities, and the
expression's arousal into the cue arousal, with a weight that grows with the share of the
scene with a face and the expression's certainty, at most FACE_WEIGHT (a face's expression is
often not the scene's emotion, so the picture/sound cues keep the larger share;
docs/emotion.md).

Damaged media: a scene for which fewer than MIN_DECODED_SHARE of its frames could be decoded is
marked `too_few_frames` (and its confidence scaled down by the share); callers warn.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..video import frames as vframes
from ..video.scenes import Span, analyse_pass, spans_from_cuts
from .arousal import arousal_from_features
from .face import FaceAnalyzer, face_probs_ekman, faces_available
from .features import frame_stats, scene_features
from .mapping import CLASSES, SceneMood, va_from_probs

# name: (centre, scale, log) -- z = (f(x) - f(centre)) / scale, f = ln(x + eps) when log.
NORMALISE: dict[str, tuple[float, float, float | None]] = {
    "brightness": (0.40, 0.15, None),
    "contrast": (0.18, 0.07, None),
    "low_key": (0.20, 0.20, None),
    "saturation": (0.35, 0.20, None),
    "colourfulness": (0.35, 0.20, None),
    "warmth": (0.0, 0.5, None),
    "motion": (0.025, 0.8, 0.005),
    "cut_rate_per_min": (12.0, 0.6, 1.0),
    "loudness_dbfs": (-26.0, 8.0, None),
    "loudness_range_db": (8.0, 6.0, None),
    "spectral_centroid_hz": (1500.0, 0.6, 50.0),
    "onset_rate": (1.5, 1.5, None),
    "speech": (0.3, 0.35, None),
}
MODEL_FEATURES = (*NORMALISE, "extremity")
Z_CLIP = 2.5

# Hand-set weights (see docs/emotion.md for the finding behind each sign). Missing = 0.
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "anger": {
        "bias": 0.0, "brightness": -0.2, "contrast": 0.5, "low_key": 0.2, "saturation": 0.2,
        "warmth": 0.5, "motion": 0.8, "cut_rate_per_min": 0.7, "loudness_dbfs": 1.0,
        "loudness_range_db": 0.3, "spectral_centroid_hz": 0.5, "onset_rate": 0.6,
        "extremity": 0.3,
    },
    "disgust": {
        "bias": -0.8, "brightness": -0.2, "low_key": 0.2, "saturation": -0.3, "warmth": 0.3,
        "contrast": 0.1, "spectral_centroid_hz": -0.2, "extremity": 0.2,
    },
    "fear": {
        "bias": 0.0, "brightness": -0.9, "contrast": 0.6, "low_key": 0.9, "saturation": -0.3,
        "warmth": -0.5, "motion": 0.3, "cut_rate_per_min": 0.4, "loudness_dbfs": -0.1,
        "loudness_range_db": 0.7, "onset_rate": 0.2, "speech": -0.3, "extremity": 0.3,
    },
    "joy": {
        "bias": 0.0, "brightness": 1.0, "low_key": -0.6, "saturation": 0.7, "colourfulness": 0.6,
        "warmth": 0.4, "motion": 0.2, "cut_rate_per_min": 0.1, "loudness_dbfs": 0.2,
        "spectral_centroid_hz": 0.4, "onset_rate": 0.3, "extremity": 0.3,
    },
    "sadness": {
        "bias": 0.0, "brightness": -0.5, "low_key": 0.3, "saturation": -0.8,
        "colourfulness": -0.5, "warmth": -0.2, "motion": -0.8, "cut_rate_per_min": -0.8,
        "loudness_dbfs": -0.6, "loudness_range_db": -0.3, "spectral_centroid_hz": -0.5,
        "onset_rate": -0.7, "extremity": 0.3,
    },
    "surprise": {
        "bias": -0.3, "brightness": 0.3, "saturation": 0.2, "colourfulness": 0.2, "motion": 0.4,
        "cut_rate_per_min": 0.5, "loudness_dbfs": 0.3, "loudness_range_db": 0.9,
        "onset_rate": 0.3, "speech": -0.6, "extremity": 0.3,
    },
    "neutral": {"bias": 1.0, "speech": 0.8, "extremity": -2.0},
}  # fmt: skip
DEFAULT_TEMPERATURE = 1.5
FACE_WEIGHT = 0.35  # the most a scene's faces can move its probabilities (presence 1, certain)
MIN_DECODED_SHARE = 0.5  # a scene with fewer decodable frames has a mood "from too few frames"


@dataclass
class EmotionHead:
    """logits = (W z + b) / temperature over CLASSES; z = standardised MODEL_FEATURES."""

    weights: np.ndarray  # (len(CLASSES), len(MODEL_FEATURES))
    bias: np.ndarray  # (len(CLASSES),)
    temperature: float = DEFAULT_TEMPERATURE
    origin: str = "default: hand-set from published findings (docs/emotion.md)"

    @classmethod
    def default(cls) -> EmotionHead:
        w = np.array([[DEFAULT_WEIGHTS[c].get(f, 0.0) for f in MODEL_FEATURES] for c in CLASSES])
        b = np.array([DEFAULT_WEIGHTS[c].get("bias", 0.0) for c in CLASSES])
        return cls(w, b)

    def probs(self, z: np.ndarray) -> np.ndarray:
        logits = (self.weights @ z + self.bias) / self.temperature
        e = np.exp(logits - logits.max())
        return e / e.sum()

    def to_json(self, path: str | os.PathLike) -> None:
        doc = {
            "classes": list(CLASSES),
            "features": list(MODEL_FEATURES),
            "normalise": NORMALISE,
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
            "temperature": self.temperature,
            "origin": self.origin,
        }
        Path(path).write_text(json.dumps(doc, indent=1), encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> EmotionHead:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc["classes"] != list(CLASSES) or doc["features"] != list(MODEL_FEATURES):
            raise ValueError(f"{path}: classes/features do not match this version of EMSYNC")
        return cls(
            np.array(doc["weights"], float),
            np.array(doc["bias"], float),
            float(doc.get("temperature", 1.0)),
            str(doc.get("origin", str(path))),
        )


def standardise(features: dict[str, float | None]) -> np.ndarray:
    """MODEL_FEATURES vector; a missing feature sits at its centre (z = 0)."""
    z = []
    for name, (centre, scale, eps) in NORMALISE.items():
        x = features.get(name)
        if x is None or not math.isfinite(x):
            z.append(0.0)
            continue
        if eps is not None:
            v = (math.log(max(x, 0.0) + eps) - math.log(centre + eps)) / scale
        else:
            v = (x - centre) / scale
        z.append(max(-Z_CLIP, min(Z_CLIP, v)))
    z_arr = np.array(z)
    present = [features.get(n) is not None for n in NORMALISE]
    extremity = float(np.abs(z_arr[present]).mean()) - 0.8 if any(present) else 0.0
    return np.append(z_arr, extremity)


def face_weight(features: dict[str, float | None]) -> float:
    """Blend weight of the faces' mean expression: FACE_WEIGHT x presence x min(1, 0.4 +
    certainty), certainty = 1 - normalised entropy of the mean face probabilities."""
    presence = features.get("face_presence")
    p = face_probs_ekman(features, CLASSES)
    if not presence or p is None:
        return 0.0
    certainty = 1.0 - float(-(p * np.log(p + 1e-12)).sum()) / math.log(len(p))
    return FACE_WEIGHT * float(presence) * min(1.0, 0.4 + max(certainty, 0.0))


def blend_faces(p: np.ndarray, features: dict[str, float | None]) -> np.ndarray:
    """Head probabilities mixed with the scene's mean face expression (unchanged without)."""
    w = face_weight(features)
    if w <= 0:
        return p
    q = (1.0 - w) * p + w * face_probs_ekman(features, CLASSES)
    return q / q.sum()


def fit_head(
    features: Sequence[dict[str, float | None]],
    labels: Sequence[str],
    l2: float = 0.05,
    steps: int = 2000,
    lr: float = 0.1,
) -> EmotionHead:
    """Multinomial logistic regression from labelled scenes, regularised toward the default
    weights (so classes absent from the labels keep their hand-set behaviour)."""
    prior = EmotionHead.default()
    x = np.stack([standardise(f) for f in features])
    y = np.array([CLASSES.index(lab) for lab in labels])
    w = prior.weights / prior.temperature
    b = prior.bias / prior.temperature
    w0, b0 = w.copy(), b.copy()
    onehot = np.eye(len(CLASSES))[y]
    for _ in range(steps):
        logits = x @ w.T + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / len(x)
        w -= lr * (g.T @ x + l2 * (w - w0))
        b -= lr * (g.sum(axis=0) + l2 * (b - b0))
    return EmotionHead(w, b, 1.0, f"fitted on {len(x)} labelled scenes")


@dataclass
class SceneAnalysis:
    start_s: float
    end_s: float
    probs: dict[str, float]
    valence: float
    arousal: float
    confidence: float
    features: dict[str, float | None] = field(default_factory=dict)
    arousal_parts: dict[str, float] = field(default_factory=dict)  # per cue (arousal.py)
    decoded_share: float = 1.0  # decoded frames / frames the scene should have

    @property
    def too_few_frames(self) -> bool:
        return self.decoded_share < MIN_DECODED_SHARE

    @property
    def face_share(self) -> float | None:
        """Share of the scene's face-sampled frames with a usable face (None: not analysed)."""
        return self.features.get("face_presence")

    def mood(self) -> SceneMood:
        return SceneMood(
            self.valence,
            self.arousal,
            "video",
            self.probs,
            self.confidence,
            decoded_share=self.decoded_share,
            too_few_frames=self.too_few_frames,
            face_share=self.face_share,
        )

    def to_json(self) -> dict:
        face_share = self.face_share
        return {
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "probs": {k: round(v, 4) for k, v in self.probs.items()},
            "valence": round(self.valence, 4),
            "arousal": round(self.arousal, 4),
            "confidence": round(self.confidence, 4),
            "face_share": None if face_share is None else round(face_share, 4),
            "decoded_share": round(self.decoded_share, 4),
            "too_few_frames": self.too_few_frames,
            "arousal_parts": {k: round(v, 4) for k, v in self.arousal_parts.items()},
            "features": {
                k: (None if v is None else round(float(v), 4)) for k, v in self.features.items()
            },
        }


def classify_scenes(
    spans: Sequence[tuple[float, float]],
    feats: Sequence[dict[str, float | None] | None],
    head: EmotionHead | None = None,
    smooth: bool = True,
    decoded: Sequence[float] | None = None,
) -> list[SceneAnalysis | None]:
    """Probabilities, V/A and confidence per scene (None where `feats` is None). `decoded`:
    per scene, the share of its frames that could be decoded (1 when not given)."""
    head = head or EmotionHead.default()
    decoded = list(decoded) if decoded is not None else [1.0] * len(spans)
    zs = [standardise(f) if f is not None else None for f in feats]
    raw = [
        blend_faces(head.probs(z), f) if z is not None else None
        for z, f in zip(zs, feats, strict=True)
    ]
    cues = [arousal_from_features(f) if f is not None else None for f in feats]
    raw_a = [
        None if p is None else _scene_arousal(p, c, f)
        for p, c, f in zip(raw, cues, feats, strict=True)
    ]
    if smooth:
        probs, arousal = smooth_probs(spans, zs, raw), smooth_values(spans, zs, raw_a)
    else:
        probs, arousal = raw, raw_a
    out: list[SceneAnalysis | None] = []
    for (t0, t1), f, p, a, c, share in zip(
        spans, feats, probs, arousal, cues, decoded, strict=True
    ):
        if f is None or p is None:
            out.append(None)
            continue
        pd = {c: float(v) for c, v in zip(CLASSES, p, strict=True)}
        v, _ = va_from_probs(pd)
        conf = _confidence(p, f, t1 - t0) * min(1.0, share)
        parts = dict(c.parts) if c is not None else {}
        out.append(SceneAnalysis(t0, t1, pd, v, float(a), conf, dict(f), parts, share))
    return out


def _scene_arousal(p: np.ndarray, cues, features: dict[str, float | None]) -> float:
    """Cue arousal (arousal.py) blended with the faces' expression arousal by the face weight;
    the classes' arousal only when no cue could be measured."""
    if cues is None:
        return va_from_probs(dict(zip(CLASSES, p, strict=True)))[1]
    w = face_weight(features)
    if w <= 0:
        return cues.value
    q = face_probs_ekman(features, CLASSES)
    face_a = va_from_probs(dict(zip(CLASSES, q, strict=True)))[1]
    return (1.0 - w) * cues.value + w * face_a


def _neighbour_weights(
    spans: Sequence[tuple[float, float]], zs: Sequence[np.ndarray | None], sigma: float
) -> list[list[tuple[int, float]]]:
    """For each scene, (neighbour index, weight) of its present neighbours (see smooth_probs)."""
    out = []
    for i, z in enumerate(zs):
        if z is None:
            out.append([])
            continue
        dur = spans[i][1] - spans[i][0]
        lean = 0.15 + 0.45 * (1.0 - min(1.0, dur / 4.0))
        ws = []
        for j in (i - 1, i + 1):
            if 0 <= j < len(zs) and zs[j] is not None:
                d = float(np.sqrt(np.mean((z - zs[j]) ** 2)))
                ws.append((j, lean * math.exp(-(d**2) / (2 * sigma**2))))
        out.append(ws)
    return out


def smooth_probs(
    spans: Sequence[tuple[float, float]],
    zs: Sequence[np.ndarray | None],
    probs: Sequence[np.ndarray | None],
    sigma: float = 0.5,
) -> list[np.ndarray | None]:
    """Mix each scene with its neighbours by feature similarity exp(-d^2 / 2 sigma^2) (d: RMS
    z distance). Short scenes (< 4 s, less reliable features) lean on neighbours more; a real
    change (features far apart) gets a weight near zero and is kept."""
    out: list[np.ndarray | None] = []
    for i, ws in enumerate(_neighbour_weights(spans, zs, sigma)):
        p = probs[i]
        if p is None:
            out.append(None)
            continue
        acc = p.copy()
        for j, w in ws:
            if probs[j] is not None:
                acc = acc + w * probs[j]
        out.append(acc / acc.sum())
    return out


def smooth_values(
    spans: Sequence[tuple[float, float]],
    zs: Sequence[np.ndarray | None],
    values: Sequence[float | None],
    sigma: float = 0.5,
) -> list[float | None]:
    """The same neighbour mixing as smooth_probs, for one number per scene (a weighted mean)."""
    out: list[float | None] = []
    for i, ws in enumerate(_neighbour_weights(spans, zs, sigma)):
        if values[i] is None:
            out.append(None)
            continue
        acc, total = float(values[i]), 1.0
        for j, w in ws:
            if values[j] is not None:
                acc += w * float(values[j])
                total += w
        out.append(acc / total)
    return out


def _confidence(p: np.ndarray, feats: dict[str, float | None], dur: float) -> float:
    certainty = 1.0 - float(-(p * np.log(p + 1e-12)).sum()) / math.log(len(p))
    coverage = (0.6 if feats.get("brightness") is not None else 0.0) + (
        0.4 if feats.get("loudness_dbfs") is not None else 0.0
    )
    length = min(1.0, 0.5 + dur / 4.0)
    return max(0.0, min(1.0, math.sqrt(max(certainty, 0.0)) * coverage * length))


# -- entry points ---------------------------------------------------------------------------


def analyze_edit_detailed(
    edit,
    video: str | os.PathLike | None = None,
    media_root: str | os.PathLike | None = None,
    head: EmotionHead | None = None,
    smooth: bool = True,
    faces: bool = True,
    only: set[int] | None = None,
) -> list[SceneAnalysis | None]:
    """Per scene of a timeline: analysis from its media, or None where media is unreachable
    (or, with `only`, where the scene's index is not in it: those are not decoded at all).
    `faces=False` skips face detection and expressions (face features stay None)."""
    sources = vframes.resolve_scene_sources(edit, video, media_root)
    if only is not None:
        sources = [src if i in only else None for i, src in enumerate(sources)]
    samples = vframes.collect_sources(sources, frame_fn=frame_stats, face_fn=_face_fn(faces))
    cuts = list(edit.cut_seconds)
    total = edit.duration_s
    spans, feats, decoded = [], [], []
    for scene, s in zip(edit.scenes, samples, strict=True):
        t0, t1 = edit.seconds(scene.start), edit.seconds(scene.end)
        spans.append((t0, t1))
        feats.append(None if s is None else scene_features(s, t0, t1, cuts, total))
        decoded.append(1.0 if s is None else s.decoded_share)
    return classify_scenes(spans, feats, head, smooth, decoded)


def analyze_edit(
    edit,
    video: str | os.PathLike | None = None,
    media_root: str | os.PathLike | None = None,
    head: EmotionHead | None = None,
    faces: bool = True,
) -> list[SceneMood | None]:
    """One SceneMood (source "video") per scene, None where its media cannot be reached."""
    return [
        a.mood() if a is not None else None
        for a in analyze_edit_detailed(edit, video, media_root, head, faces=faces)
    ]


def _face_fn(faces: bool):
    return FaceAnalyzer() if faces and faces_available() else None


def analyze_video_detailed(
    path: str | os.PathLike,
    head: EmotionHead | None = None,
    smooth: bool = True,
    faces: bool = True,
    fast_decode: bool = True,
) -> tuple[float, list[SceneAnalysis]]:
    """(duration, per detected scene analysis) of a raw video, in one decoding pass
    (`fast_decode=False` keeps the deblocking filter on: for measuring what skipping it
    changes)."""
    samples = analyse_pass(
        path, frame_fn=frame_stats, face_fn=_face_fn(faces), fast_decode=fast_decode
    )
    duration = max(samples.end_s, samples.info.duration_s)
    spans = spans_from_cuts(samples.cuts, duration)
    windows = [samples.window(s.start_s, s.end_s) for s in spans]
    feats = [
        scene_features(w, s.start_s, s.end_s, samples.cuts, duration)
        for w, s in zip(windows, spans, strict=True)
    ]
    decoded = [w.decoded_share for w in windows]
    result = classify_scenes([(s.start_s, s.end_s) for s in spans], feats, head, smooth, decoded)
    return duration, [r for r in result if r is not None]


def analyze_video(
    path: str | os.PathLike, head: EmotionHead | None = None, faces: bool = True
) -> tuple[list[Span], list[SceneMood]]:
    """Scene spans (detected cuts) and one SceneMood per span for a raw video file."""
    _, analyses = analyze_video_detailed(path, head, faces=faces)
    return [Span(a.start_s, a.end_s) for a in analyses], [a.mood() for a in analyses]
