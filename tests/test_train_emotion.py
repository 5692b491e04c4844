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
    assert "fitted on 5 scenes" in out and "5 training clips" in out and str(head_path) in out
    assert "held-out clip accuracy (3 clips), fitted head: 1.00" in out
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


def _labelled_timeline(folder, names):
    """An OTIO edit of alternating bright/dark shots, each its own file, with a marker
    `emotion: NAME` (NAME from `names`; None: no marker) inside each shot."""
    import opentimelineio as otio

    rate = 12
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline = otio.schema.Timeline(name="labelled")
    for k, name in enumerate(names):
        look = BRIGHT if k % 2 == 0 else DARK
        shot = folder / f"shot{k}.mp4"
        write_video(shot, [Segment(1.5, **{**look, "hue": look["hue"] + 3 * k})], width=160,
                    height=90, fps=rate, seed=k)  # fmt: skip
        span = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                       otio.opentime.RationalTime(18, rate))  # fmt: skip
        ref = otio.schema.ExternalReference(target_url=shot.resolve().as_uri())
        track.append(otio.schema.Clip(name=shot.name, media_reference=ref, source_range=span))
        if name:
            at = otio.opentime.TimeRange(otio.opentime.RationalTime(18 * k + 4, rate),
                                         otio.opentime.RationalTime(1, rate))  # fmt: skip
            timeline.tracks.markers.append(otio.schema.Marker(name=f"emotion: {name}",
                                                              marked_range=at))  # fmt: skip
    timeline.tracks.append(track)
    path = folder / "labelled.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def test_fits_from_a_labelled_timeline(tmp_path, monkeypatch, capsys):
    names = ["happy", "sad", "joy", "sadness", "happy", "sad", "happy", "sad", None, "meh"]
    path = _labelled_timeline(tmp_path, names)
    head_path = tmp_path / "head.json"
    monkeypatch.setenv("EMSYNC_EMOTION_HEAD", str(head_path))
    assert main(["train-emotion", str(path), "--holdout", "30"]) == 0
    out, err = capsys.readouterr()
    assert "8 labelled scenes of 10" in out
    assert "'meh' is not one of" in err  # an unknown name is named, with its frame, and skipped
    held = [line for line in out.splitlines() if line.startswith("held-out scene accuracy")]
    assert len(held) == 2 and held[1].endswith("1.00")  # before (default) and after (fitted)
    assert load_user_head().origin.startswith("fitted on")


def test_a_timeline_needs_two_labels(tmp_path, capsys):
    path = _labelled_timeline(tmp_path, ["happy", None, "happy"])
    assert main(["train-emotion", str(path)]) == 2
    assert "at least two different emotions" in capsys.readouterr().err
