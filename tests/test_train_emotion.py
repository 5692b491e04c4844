"""`emsync train-emotion`: fit the head on labelled clips, save it, and the pipeline uses it."""

from __future__ import annotations

import json

import pytest

from emsync_core.cli import main
from emsync_core.emotion.classify import EmotionHead
from emsync_core.emotion.train_emotion import find_clips
from emsync_core.emotion.user_head import load_user_head
from emsync_core.errors import EmsyncError
from emsync_core.video.synth import Segment, write_video

BRIGHT = dict(brightness=0.85, saturation=0.9, hue=25, speed=10, audio="bursts", loudness_db=-14,
              onsets_per_s=5)  # fmt: skip
DARK = dict(brightness=0.2, saturation=0.1, hue=110, speed=0, audio="tone", loudness_db=-45)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Two labels, four short clips each; names chosen so both labels keep training clips."""
    root = tmp_path_factory.mktemp("labelled")
    for label, look in (("happy", BRIGHT), ("sad", DARK)):
        (root / label).mkdir()
        for k in range(4):
            segment = Segment(1.5, **{**look, "brightness": look["brightness"] - 0.04 * k})
            write_video(root / label / f"{label}{k}.mp4", [segment], width=160, height=90,
                        fps=12, seed=k)  # fmt: skip
    return root


def test_fits_saves_and_is_picked_up(labelled, tmp_path, monkeypatch, capsys):
    head_path = tmp_path / "head.json"
    monkeypatch.setenv("EMSYNC_EMOTION_HEAD", str(head_path))
    assert load_user_head() is None
    assert main(["train-emotion", str(labelled), "--holdout", "30"]) == 0
    out = capsys.readouterr().out
    assert "fitted on 5 scenes from 5 clips" in out and str(head_path) in out
    assert "held-out clip accuracy, fitted head: 1.00" in out
    head = load_user_head()
    assert head is not None and head.origin.startswith("fitted on")
    assert json.loads(head_path.read_text())["classes"][3] == "joy"
    assert head.weights.shape == EmotionHead.default().weights.shape


def test_aliases_and_holdout_are_deterministic(labelled):
    first = find_clips(labelled, 30)
    assert {c.label for c in first} == {"joy", "sadness"}
    assert first == find_clips(labelled, 30)


def test_unknown_label_folder_is_a_clear_error(tmp_path):
    (tmp_path / "meh").mkdir()
    with pytest.raises(EmsyncError, match="Unknown label folders.*meh"):
        find_clips(tmp_path, 20)


def test_a_broken_saved_head_is_reported(tmp_path, monkeypatch):
    bad = tmp_path / "head.json"
    bad.write_text("{}")
    monkeypatch.setenv("EMSYNC_EMOTION_HEAD", str(bad))
    with pytest.raises(EmsyncError, match="train-emotion"):
        load_user_head()


def test_analyze_uses_the_fitted_head(labelled, tmp_path, monkeypatch, capsys):
    clip = next((labelled / "sad").glob("*.mp4"))
    assert main(["analyze", str(clip), "--json", "--no-faces"]) == 0
    default = json.loads(capsys.readouterr().out)["scenes"][0]["probs"]
    # A head that always says joy, saved where train-emotion saves it, changes the answer.
    head = EmotionHead.default()
    head.weights[:] = 0
    head.bias[:] = -10
    head.bias[3] = 10  # CLASSES[3] == "joy"
    path = tmp_path / "head.json"
    head.to_json(path)
    monkeypatch.setenv("EMSYNC_EMOTION_HEAD", str(path))
    assert main(["analyze", str(clip), "--json", "--no-faces"]) == 0
    fitted = json.loads(capsys.readouterr().out)["scenes"][0]["probs"]
    assert fitted["joy"] > 0.9 > default["joy"]
