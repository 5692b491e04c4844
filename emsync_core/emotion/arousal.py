"""Arousal of a scene straight from its cues, as film-affect and music-psychology work models it.

Arousal is predicted well by low-level cues (motion, editing pace, sound energy: Hanjalic & Xu
2005; Baveye et al. 2015), far better than valence. So it is not read off the emotion classes
(the paper's table puts sadness at -0.8 whatever the footage does, and a misread class moved
arousal with it); it is a weighted sum of per-cue scores, each cue mapped linearly (or on a
log scale) from its calm anchor (score -1) to its excited anchor (score +1) and clipped there.
The weights sum to 1, so a scene at every calm anchor (static, uncut, dim, silent) lands at -1
and one at every excited anchor (fast, cut-heavy, loud, dense onsets) at +1. One cue moved
from its calm to its excited anchor moves arousal by twice its weight. A cue that cannot be
measured (no speech to take a pitch from) scores 0.

Picture and editing hold 0.55 of the weight, sound 0.45. Sound cannot tell music laid under
a scene (temp music, an earlier score) from the scene's own sound, so sound alone must not
decide: with a neutral picture it reaches at most +-0.45, and a static, uncut, dim picture
under loud, busy music stays below zero. Without an audio track the picture decides alone
(its score scaled to the full range); without picture, sound keeps its 0.45 cap.

Each cue's weight, anchors and source: `CUES` below and docs/emotion.md ("Arousal").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

PICTURE, SOUND = "picture", "sound"


@dataclass(frozen=True)
class Cue:
    feature: str  # key in emotion.features.FEATURES
    weight: float  # arousal moves 2 x weight from the calm to the excited anchor
    calm: float  # value that scores -1
    excited: float  # value that scores +1
    group: str  # PICTURE or SOUND
    log_eps: float | None = None  # map ln(x + eps) instead of x (ratio-like cues)


CUES: tuple[Cue, ...] = (
    # Picture and editing (0.55).
    Cue("motion", 0.18, 0.003, 0.08, PICTURE, log_eps=0.002),
    Cue("motion_var", 0.07, 0.0005, 0.02, PICTURE, log_eps=0.0003),
    Cue("cut_rate_per_min", 0.18, 2.0, 40.0, PICTURE, log_eps=1.0),
    Cue("brightness", 0.06, 0.15, 0.65, PICTURE),
    Cue("saturation", 0.06, 0.10, 0.70, PICTURE),
    # Sound (0.45).
    Cue("loudness_dbfs", 0.13, -50.0, -14.0, SOUND),
    Cue("loudness_range_db", 0.06, 2.0, 20.0, SOUND),
    Cue("spectral_flux", 0.07, 0.3, 8.0, SOUND, log_eps=0.1),
    Cue("onset_rate", 0.10, 0.2, 5.0, SOUND, log_eps=0.2),
    Cue("spectral_centroid_hz", 0.04, 300.0, 3000.0, SOUND, log_eps=10.0),
    Cue("speech_pitch_hz", 0.05, 100.0, 280.0, SOUND, log_eps=0.0),
)
GROUP_WEIGHT = {g: sum(c.weight for c in CUES if c.group == g) for g in (PICTURE, SOUND)}
# A group counts as measured when one of these is present (the others may be None).
GROUP_PRESENT = {PICTURE: "brightness", SOUND: "loudness_dbfs"}


def cue_score(cue: Cue, value: float | None) -> float:
    """-1 at the calm anchor, +1 at the excited anchor, linear in between, clipped; 0 when the
    cue was not measured."""
    if value is None or not math.isfinite(value):
        return 0.0

    def f(x: float) -> float:
        return math.log(max(x, 0.0) + cue.log_eps) if cue.log_eps is not None else x

    if cue.log_eps is not None and value + cue.log_eps <= 0:
        return -1.0
    s = 2.0 * (f(value) - f(cue.calm)) / (f(cue.excited) - f(cue.calm)) - 1.0
    return max(-1.0, min(1.0, s))


@dataclass(frozen=True)
class Arousal:
    value: float  # in [-1, 1]
    parts: dict[str, float]  # per cue: its contribution to `value`


def arousal_from_features(features: Mapping[str, float | None]) -> Arousal | None:
    """Arousal of one scene from its features (emotion.features.scene_features); None when
    neither picture nor sound was measured."""
    has = {g: features.get(k) is not None for g, k in GROUP_PRESENT.items()}
    if not any(has.values()):
        return None
    # Without sound the picture decides alone (full range); without picture, sound keeps its
    # cap (it must not decide on its own).
    scale = {PICTURE: 1.0 / GROUP_WEIGHT[PICTURE] if not has[SOUND] else 1.0, SOUND: 1.0}
    parts = {
        c.feature: c.weight * scale[c.group] * cue_score(c, features.get(c.feature))
        for c in CUES
        if has[c.group]
    }
    return Arousal(max(-1.0, min(1.0, sum(parts.values()))), parts)
