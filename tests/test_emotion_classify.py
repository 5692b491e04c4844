"""Scene emotion from generated footage: arousal/valence order, smoothing, timelines, CLI."""

import argparse
import json
from fractions import Fraction

import numpy as np
import pytest

from emsync_core.emotion import analyze as analyze_cli
from emsync_core.emotion.classify import (
    EmotionHead,
    analyze_edit,
    analyze_video,
    analyze_video_detailed,
    classify_scenes,
    fit_head,
    standardise,
)
from emsync_core.emotion.mapping import CLASSES, SceneMood
from emsync_core.emotion.overrides import resolve_moods
from emsync_core.timeline.edit import Edit, Marker, Scene
from emsync_core.video.synth import EXCITED, GLOOMY, Segment, write_video

CALM_TALK = Segment(3.0, brightness=0.55, saturation=0.35, hue=25, speed=1, audio="speech",
                    loudness_db=-26)  # fmt: skip


@pytest.fixture(scope="module")
def moods_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("moods") / "moods.mp4"
    write_video(path, [EXCITED, GLOOMY, CALM_TALK], fps=25)
    return path


def test_raw_video_scenes_and_order(moods_clip):
    duration, scenes = analyze_video_detailed(moods_clip)
    assert duration == pytest.approx(9.0, abs=0.05)
    assert [(round(s.start_s, 2), round(s.end_s, 2)) for s in scenes] == [
        (0, 3), (3, 6), (6, 9)
    ]  # fmt: skip
    excited, gloomy, talk = scenes
    assert excited.arousal > gloomy.arousal + 0.8
    assert excited.valence > gloomy.valence + 0.5
    assert max(gloomy.probs, key=gloomy.probs.get) == "sadness"
    assert gloomy.valence < -0.5 and gloomy.arousal < -0.5
    # the talk scene sits between the two on arousal, and neutral is likely
    assert gloomy.arousal < talk.arousal < excited.arousal
    assert talk.probs["neutral"] > 0.2 and talk.features["speech"] > 0.5
    for s in scenes:
        assert set(s.probs) == set(CLASSES) and sum(s.probs.values()) == pytest.approx(1)
        assert 0 <= s.confidence <= 1
    assert gloomy.confidence > talk.confidence
    spans, moods = analyze_video(moods_clip)
    assert len(spans) == 3 and all(m.source == "video" for m in moods)


def test_smoothing_keeps_real_changes():
    def feats(**kw):
        f = dict.fromkeys(
            ("brightness", "saturation", "motion", "loudness_dbfs", "onset_rate"), None
        )
        f.update(kw)
        return f

    happy = feats(brightness=0.7, saturation=0.7, motion=0.05, loudness_dbfs=-20, onset_rate=3)
    happy2 = feats(brightness=0.68, saturation=0.6, motion=0.04, loudness_dbfs=-22, onset_rate=3)
    sad = feats(brightness=0.15, saturation=0.1, motion=0.0, loudness_dbfs=-45, onset_rate=0)
    spans = [(0, 1), (1, 2), (2, 10)]
    raw = classify_scenes(spans, [happy, happy2, sad], smooth=False)
    smooth = classify_scenes(spans, [happy, happy2, sad], smooth=True)
    # the two similar short scenes pull together ...
    d_raw = abs(raw[0].probs["joy"] - raw[1].probs["joy"])
    d_smooth = abs(smooth[0].probs["joy"] - smooth[1].probs["joy"])
    assert d_smooth < d_raw
    # ... while the sad scene after a real change keeps its own mood
    assert abs(smooth[2].probs["sadness"] - raw[2].probs["sadness"]) < 0.02
    assert smooth[1].probs["sadness"] < 0.05


def test_missing_features_are_none_and_lower_confidence():
    pic_only = dict(brightness=0.5, saturation=0.4)
    both = dict(pic_only, loudness_dbfs=-26.0)
    res = classify_scenes([(0, 3), (3, 6), (6, 9)], [pic_only, None, both], smooth=False)
    assert res[1] is None and res[0].confidence < res[2].confidence
    assert standardise({})[:-1] == pytest.approx(np.zeros(len(standardise({})) - 1))


def test_timeline_analysis_feeds_resolve_moods(moods_clip, tmp_path):
    rate = Fraction(25)
    # scene 0 plays the gloomy shot (source 3 s), scene 1 the excited one, scene 2 is offline
    scenes = (
        Scene(0, 0, 50, "a", str(moods_clip), 3.5),
        Scene(1, 50, 100, "b", str(moods_clip), 0.5),
        Scene(2, 100, 150, "c", str(tmp_path / "offline.mov"), 0.0),
    )
    marker = Marker(120, 1, "emotion: fear")
    edit = Edit("t", rate, 150, (50, 100), scenes, markers=(marker,))
    analysed = analyze_edit(edit)
    assert analysed[2] is None
    assert analysed[0].source == "video" and analysed[1].arousal > analysed[0].arousal + 0.5
    default = SceneMood(0.1, -0.3, "default")
    moods = resolve_moods(edit, analysed=[m or default for m in analysed])
    assert [m.source for m in moods] == ["video", "video", "marker"]
    # one video for the whole timeline, at timeline time: scene 0 is 0-2 s (excited)
    whole = analyze_edit(edit, video=moods_clip)
    assert whole[0].arousal > whole[2].arousal + 0.5 and None not in whole


def test_head_roundtrip_and_fit(tmp_path):
    head = EmotionHead.default()
    path = tmp_path / "head.json"
    head.to_json(path)
    again = EmotionHead.from_json(path)
    z = standardise({"brightness": 0.2, "loudness_dbfs": -40.0})
    assert again.probs(z) == pytest.approx(head.probs(z))
    rng = np.random.default_rng(0)
    feats, labels = [], []
    for _ in range(40):  # loud bright clips labelled anger, quiet bright ones labelled joy
        loud = rng.random() < 0.5
        feats.append({"brightness": 0.6 + 0.1 * rng.random(),
                      "loudness_dbfs": (-12.0 if loud else -35.0) + rng.normal(0, 2)})  # fmt: skip
        labels.append("anger" if loud else "joy")
    fitted = fit_head(feats, labels)
    pred = [CLASSES[int(np.argmax(fitted.probs(standardise(f))))] for f in feats]
    assert pred == labels


def test_cli_json(moods_clip, capsys):
    p = argparse.ArgumentParser()
    analyze_cli.configure_parser(p)
    args = p.parse_args([str(moods_clip), "--json"])
    assert args.func(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["duration_s"] == pytest.approx(9.0, abs=0.05) and len(doc["scenes"]) == 3
    s = doc["scenes"][1]
    assert set(s) >= {"start_s", "end_s", "probs", "valence", "arousal", "confidence", "features"}
    assert set(s["probs"]) == set(CLASSES) and s["features"]["loudness_dbfs"] < -35


def test_video_without_audio(tmp_path):
    path = tmp_path / "silent.mp4"
    write_video(path, [EXCITED, GLOOMY], audio=False)
    _, scenes = analyze_video_detailed(path)
    assert len(scenes) == 2 and all(s.features["loudness_dbfs"] is None for s in scenes)
    assert scenes[0].arousal > scenes[1].arousal + 0.5
    assert all(s.confidence <= 0.6 for s in scenes)  # picture only: coverage 0.6
