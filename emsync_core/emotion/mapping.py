"""Discrete emotions to valence/arousal, as in the EMSYNC paper.

Coordinates are Russell & Mehrabian (1977) means, each axis min-max rescaled to [-0.8, 0.8]
(EMSYNC paper, arXiv 2502.10154, section 2). A probability vector over the Ekman-6
emotions (plus an optional neutral class at the origin) maps to the probability-weighted mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

EKMAN6 = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
CLASSES = (*EKMAN6, "neutral")

EMOTION_VA: dict[str, tuple[float, float]] = {
    "anger": (-0.651, 0.664),
    "disgust": (-0.754, 0.255),
    "fear": (-0.800, 0.681),
    "joy": (0.800, 0.477),
    "sadness": (-0.789, -0.800),
    "surprise": (0.389, 0.800),
    "neutral": (0.0, 0.0),
}

# Used when nothing says what a scene feels like: slightly warm and calm, so the score
# sits under dialogue instead of commenting on it.
DEFAULT_VA = (0.1, -0.3)


@dataclass(frozen=True)
class SceneMood:
    """The mood of one scene: where it came from, and the valence/arousal the music follows."""

    valence: float
    arousal: float
    source: str  # "default", "cli", "json", "marker", "video"
    probs: Mapping[str, float] = field(default_factory=dict)
    confidence: float = 1.0
    decoded_share: float | None = None  # from video: share of the scene's frames decoded
    too_few_frames: bool = False  # from video: the mood rests on too few decodable frames
    face_share: float | None = None  # from video: share of the scene with a usable face


def va_from_probs(probs: Mapping[str, float]) -> tuple[float, float]:
    """Probability-weighted mean of the per-emotion coordinates, clipped to [-1, 1]."""
    total = sum(probs.get(name, 0.0) for name in CLASSES)
    if total <= 0:
        raise ValueError("emotion probabilities sum to zero")
    v = sum(probs.get(n, 0.0) * EMOTION_VA[n][0] for n in CLASSES) / total
    a = sum(probs.get(n, 0.0) * EMOTION_VA[n][1] for n in CLASSES) / total
    return _clip(v), _clip(a)


def mood_from_emotion(name: str, source: str) -> SceneMood:
    """A certain, single emotion (e.g. from `--emotion joy`)."""
    probs = {n: float(n == name) for n in CLASSES}
    v, a = va_from_probs(probs)
    return SceneMood(v, a, source, probs)


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x))
