"""The seeded one-cue check set: generated clips that differ in one cue only (motion, cut rate,
loudness, brightness, faces) move valence/arousal in the direction and by the amount that
docs/emotion.md ("Arousal", "One-cue check set") documents. Each amount range follows from
the cue weights in emotion/arousal.py: a cue taken from its calm to its excited anchor moves
arousal by 2 x its weight."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from emsync_core.emotion.arousal import CUES, GROUP_WEIGHT, PICTURE, SOUND, arousal_from_features
from emsync_core.emotion.classify import FACE_WEIGHT, analyze_video_detailed, face_weight
from emsync_core.emotion.face import face_probs_ekman
from emsync_core.emotion.mapping import CLASSES, va_from_probs
from emsync_core.video.synth import Segment, write_video

W = {c.feature: c.weight for c in CUES}
# The middle-of-the-road shot every pair starts from: moderate look, slow pan, a tone.
BASE = dict(brightness=0.4, saturation=0.35, hue=20, speed=3, contrast=0.25, audio="tone",
            loudness_db=-30)  # fmt: skip


def _clip(folder: Path, name: str, segments: list[Segment], face=None) -> Path:
    path = folder / f"{name}.mp4"
    write_video(path, segments, width=160, height=90, fps=12, seed=3, face=face)
    return path


def _mood(path: Path, faces: bool = False) -> tuple[float, float]:
    """Duration-weighted valence and arousal of a clip, as `emsync analyze` gives them."""
    _, scenes = analyze_video_detailed(path, faces=faces)
    w = np.array([s.end_s - s.start_s for s in scenes])
    v = float(np.average([s.valence for s in scenes], weights=w))
    a = float(np.average([s.arousal for s in scenes], weights=w))
    return v, a


def _one(folder: Path, name: str, seconds: float = 4.0, **change) -> tuple[float, float]:
    return _mood(_clip(folder, name, [Segment(seconds, **{**BASE, **change})]))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("onecue")


def test_weights_are_documented_shares():
    assert sum(W.values()) == pytest.approx(1.0)
    assert GROUP_WEIGHT[PICTURE] == pytest.approx(0.55)
    assert GROUP_WEIGHT[SOUND] == pytest.approx(0.45)
    doc = (Path(__file__).resolve().parent.parent / "docs" / "emotion.md").read_text()
    for cue in CUES:  # every weight appears in the documentation table
        assert f"| `{cue.feature}` | {cue.weight:.2f} |" in doc, cue.feature


def test_motion_raises_arousal(folder):
    _, still = _one(folder, "still", speed=0)
    _, fast = _one(folder, "fast", speed=12)
    # motion calm -> excited (0.36) plus its frame-to-frame variation (at most 0.14)
    assert 2 * W["motion"] - 0.05 <= fast - still <= 2 * (W["motion"] + W["motion_var"])


def test_cut_rate_raises_arousal(folder):
    one_shot = [Segment(12.0, **BASE)]
    cut_up = [Segment(1.0, **{**BASE, "hue": 20 if k % 2 else 110}) for k in range(12)]
    _, long_take = _mood(_clip(folder, "long_take", one_shot))
    _, cutting = _mood(_clip(folder, "cutting", cut_up))
    # 0 -> 55 cuts per minute: the cut-rate cue goes from calm to excited (2 x 0.18)
    assert (
        2 * W["cut_rate_per_min"] - 0.05 <= cutting - long_take <= 2 * W["cut_rate_per_min"] + 0.08
    )


def test_loudness_raises_arousal(folder):
    _, quiet = _one(folder, "quiet", loudness_db=-45)
    _, loud = _one(folder, "loud", loudness_db=-15)
    # -45 -> -15 dBFS moves the loudness score by 1.67 (0.22); the louder tone's spectral
    # flux rises a little too (at most 2 x 0.07 more)
    assert 1.6 * W["loudness_dbfs"] <= loud - quiet <= 2 * (W["loudness_dbfs"] + W["spectral_flux"])


def test_brightness_raises_arousal_and_valence(folder):
    dim_v, dim_a = _one(folder, "dim", brightness=0.12)
    bright_v, bright_a = _one(folder, "bright", brightness=0.75)
    # brightness calm -> excited (0.12); saturation rises a little with it in HSV (< 0.06)
    assert 2 * W["brightness"] - 0.02 <= bright_a - dim_a <= 2 * W["brightness"] + 0.06
    assert bright_v > dim_v + 0.1  # bright, high-key pictures read positive (docs: valence)


def _astronaut() -> np.ndarray | None:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
    img = cv2.imread(str(path)) if path.is_file() else None
    return None if img is None else cv2.cvtColor(img[:260, 130:390], cv2.COLOR_BGR2RGB)


def test_a_smiling_face_raises_valence(folder):
    face = _astronaut()
    if face is None:
        pytest.skip("scikit-image (its bundled astronaut.png) is not installed")
    look = {**BASE, "speed": 0}
    plain = _clip(folder, "plain", [Segment(4.0, **look)], face=face)
    smiling = _clip(folder, "smiling", [Segment(4.0, **look, face=True)], face=face)
    _, scenes = analyze_video_detailed(smiling)
    assert scenes[0].face_share == pytest.approx(1.0)
    features = scenes[0].features
    q = dict(zip(CLASSES, face_probs_ekman(features, CLASSES), strict=True))
    assert max(q, key=q.get) == "joy"  # she smiles
    face_v, face_a = va_from_probs(q)
    w = face_weight(features)  # 0.35 x face share x min(1, 0.4 + certainty)
    assert 0.25 <= w <= FACE_WEIGHT
    v0, a0 = _mood(plain, faces=True)
    v1, a1 = _mood(smiling, faces=True)
    # The face pulls valence and arousal toward the expression's (paper table) by w; the
    # tolerance covers what the pasted portrait changes in the picture cues themselves.
    assert v1 - v0 == pytest.approx(w * (face_v - v0), abs=0.08)
    assert a1 - a0 == pytest.approx(w * (face_a - a0), abs=0.08)
    assert v1 - v0 > 0.2


def test_the_two_ends_of_the_scale(folder):
    calm = Segment(8.0, brightness=0.1, saturation=0.05, hue=110, speed=0, contrast=0.05,
                   audio="silence")  # fmt: skip
    _, low = _mood(_clip(folder, "calm_end", [calm]))
    excited = [
        Segment(1.0, brightness=0.7, saturation=0.8, hue=15 if k % 2 else 100, speed=14,
                contrast=0.35, audio="bursts", loudness_db=-14, onsets_per_s=6)
        for k in range(8)
    ]  # fmt: skip
    _, high = _mood(_clip(folder, "excited_end", excited))
    assert low <= -0.85 and high >= 0.55  # measured -0.95 and +0.64 (docs/emotion.md)


def test_music_under_a_still_scene_does_not_decide_its_arousal(folder):
    """Loud, busy music (temp track) under a static, uncut, dim shot: the picture wins."""
    music = dict(audio="bursts", loudness_db=-14, onsets_per_s=6)
    still = dict(brightness=0.15, saturation=0.1, hue=110, speed=0, contrast=0.05)
    _, under_still = _mood(_clip(folder, "music_still", [Segment(8.0, **still, **music)]))
    _, silent_still = _mood(_clip(folder, "silent_still", [Segment(8.0, **still, audio="silence")]))
    action = [Segment(1.0, **{**BASE, "speed": 12, "hue": 20 if k % 2 else 110, **music})
              for k in range(8)]  # fmt: skip
    _, under_action = _mood(_clip(folder, "music_action", action))
    assert under_still < 0.0  # sound alone cannot lift a still, uncut, dim scene above neutral
    assert under_still - silent_still <= 2 * GROUP_WEIGHT[SOUND] + 1e-6
    assert under_action - under_still >= 0.5


def test_without_sound_the_picture_decides_alone():
    calm = {"brightness": 0.1, "saturation": 0.05, "motion": 0.0, "motion_var": 0.0,
            "cut_rate_per_min": 0.0}  # fmt: skip
    assert arousal_from_features(calm).value == pytest.approx(-1.0)
    busy_sound = {
        "loudness_dbfs": -10.0,
        "loudness_range_db": 30.0,
        "spectral_flux": 20.0,
        "onset_rate": 8.0,
        "spectral_centroid_hz": 5000.0,
        "speech_pitch_hz": 300.0,
    }
    assert arousal_from_features(busy_sound).value == pytest.approx(GROUP_WEIGHT[SOUND])
    assert arousal_from_features({}) is None
