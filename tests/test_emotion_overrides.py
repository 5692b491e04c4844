"""Moods stated by the user: --emotion names, V,A pairs, JSON files and markers."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from emsync_core.emotion.mapping import EMOTION_VA, va_from_probs
from emsync_core.emotion.overrides import marker_warnings, parse_emotion_spec, resolve_moods
from emsync_core.errors import EmotionSpecError
from emsync_core.timeline.edit import Edit, Marker, Scene


def edit_with(markers=(), cuts=(48, 96), duration=144) -> Edit:
    edges = [0, *cuts, duration]
    scenes = tuple(Scene(i, a, b) for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False)))
    return Edit("t", Fraction(24), duration, tuple(cuts), scenes, markers=tuple(markers))


def test_paper_mapping_is_the_weighted_mean():
    v, a = va_from_probs({"joy": 0.5, "sadness": 0.5})
    assert v == pytest.approx((0.8 - 0.789) / 2)
    assert a == pytest.approx((0.477 - 0.8) / 2)
    assert va_from_probs({"fear": 1.0}) == EMOTION_VA["fear"]
    assert va_from_probs({"neutral": 1.0}) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("joy", (0.8, 0.477)),
        ("Sadness", (-0.789, -0.8)),
        ("-0.5,0.2", (-0.5, 0.2)),
        (" 0.3 , -1 ", (0.3, -1.0)),
    ],
)
def test_parse_emotion_spec(spec, expected):
    mood = parse_emotion_spec(spec)
    assert (mood.valence, mood.arousal) == pytest.approx(expected)
    assert mood.source == "cli"


@pytest.mark.parametrize("spec", ["glee", "1.5,0", "0.2", "a,b", ""])
def test_bad_emotion_spec_says_what_is_accepted(spec):
    with pytest.raises(
        EmotionSpecError, match="anger, disgust, fear, joy, sadness, surprise|\\[-1, 1\\]"
    ):
        parse_emotion_spec(spec)


def test_default_mood_when_nothing_is_given():
    moods = resolve_moods(edit_with())
    assert [m.source for m in moods] == ["default"] * 3


def test_markers_override_their_scene_only():
    markers = [Marker(50, 0, "emotion: fear"), Marker(100, 0, "note", note="va: 0.4,-0.2")]
    moods = resolve_moods(edit_with(markers), emotion="joy")
    assert [m.source for m in moods] == ["cli", "marker", "marker"]
    assert (moods[1].valence, moods[1].arousal) == EMOTION_VA["fear"]
    assert (moods[2].valence, moods[2].arousal) == (0.4, -0.2)


@pytest.mark.parametrize(
    ("word", "emotion"),
    [("happy", "joy"), ("Sad", "sadness"), ("angry", "anger"), ("scared", "fear")],
)
def test_synonyms_are_their_ekman_emotion(word, emotion):
    assert parse_emotion_spec(word) == parse_emotion_spec(emotion)


def test_calm_and_tense_sit_where_they_should():
    calm, tense = parse_emotion_spec("calm"), parse_emotion_spec("tense")
    assert calm.valence > 0 > calm.arousal
    assert tense.valence < 0 < tense.arousal


def test_unreadable_mood_marker_warns_and_keeps_the_scene_mood():
    markers = [
        Marker(10, 0, "Fix the colour here"),  # editorial: not a mood marker, no warning
        Marker(50, 0, "emotion: glee"),
        Marker(100, 0, "mood: happy"),
    ]
    edit = edit_with(markers)
    moods = resolve_moods(edit, emotion="sadness")
    assert [m.source for m in moods] == ["cli", "cli", "marker"]
    assert moods[2] == parse_emotion_spec("joy", "marker")
    (warning,) = marker_warnings(edit)
    assert "'emotion: glee' at 00:00:02:02" in warning and "scene 1" in warning


def test_two_mood_markers_in_one_scene_the_later_wins_with_a_warning():
    markers = [Marker(52, 0, "emotion: fear"), Marker(60, 0, "x", note="emotion: calm")]
    edit = edit_with(markers)
    moods = resolve_moods(edit)
    assert moods[1] == parse_emotion_spec("calm", "marker")
    (warning,) = marker_warnings(edit)
    assert "Scene 1 has 2 mood markers" in warning
    assert "00:00:02:04" in warning and "00:00:02:12" in warning
    assert warning.endswith("the later one, 'x', sets its mood.")


@pytest.mark.parametrize(
    ("name", "strength"),
    [("hit", "normal"), ("HIT", "normal"), ("hit: strong", "strong"), ("hit:soft", "soft")],
)
def test_hit_strength(name, strength):
    assert Marker(5, 0, name).hit_strength == strength
    assert Marker(5, 0, "other", note=name).is_hit


def test_other_markers_are_not_hits():
    assert Marker(5, 0, "hitchcock shot").hit_strength is None


def test_json_file_per_scene(tmp_path):
    path = tmp_path / "moods.json"
    path.write_text(json.dumps(["sadness", None, {"valence": 0.1, "arousal": 0.9}]))
    moods = resolve_moods(edit_with(), emotion=str(path))
    assert [m.source for m in moods] == ["json", "default", "json"]
    assert moods[2].arousal == 0.9


def test_json_file_with_wrong_length_is_a_clear_error(tmp_path):
    path = tmp_path / "moods.json"
    path.write_text(json.dumps(["joy"]))
    with pytest.raises(EmotionSpecError, match="1 entries but the timeline has 3 scenes"):
        resolve_moods(edit_with(), emotion=str(path))


def test_missing_json_file(tmp_path):
    with pytest.raises(EmotionSpecError, match="does not exist"):
        resolve_moods(edit_with(), emotion=str(tmp_path / "nope.json"))
