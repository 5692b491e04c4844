"""benchmarks/eval_emotion.py: per-label table, confusion, criteria and errors (generated clips)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from emsync_core.emotion.classify import EmotionHead, analyze_video_detailed
from emsync_core.emotion.train_emotion import find_clips
from emsync_core.video.synth import Segment, write_video

BRIGHT = dict(brightness=0.85, saturation=0.9, hue=25, speed=10, audio="bursts", loudness_db=-14,
              onsets_per_s=5)  # fmt: skip
DARK = dict(brightness=0.2, saturation=0.1, hue=110, speed=0, audio="tone", loudness_db=-45)


def _load_script():
    # benchmarks/ is not a package: load the script by path, as `python benchmarks/...` would.
    spec = importlib.util.spec_from_file_location(
        "eval_emotion", Path(__file__).resolve().parent.parent / "benchmarks" / "eval_emotion.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_emotion"] = module
    spec.loader.exec_module(module)
    return module


ev = _load_script()


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """happy/ x2 (bright, loud), sad/ x2 (dark, quiet), surprised/ x1 with a cut (2 s + 1 s)."""
    root = tmp_path_factory.mktemp("labelled")
    for label, look in (("happy", BRIGHT), ("sad", DARK)):
        (root / label).mkdir()
        for k in range(2):
            segment = Segment(1.5, **{**look, "brightness": look["brightness"] - 0.04 * k})
            write_video(root / label / f"{label}{k}.mp4", [segment], width=160, height=90,
                        fps=12, seed=k)  # fmt: skip
    (root / "surprised").mkdir()
    write_video(root / "surprised" / "cut.mp4", [Segment(2.0, **BRIGHT), Segment(1.0, **DARK)],
                width=160, height=90, fps=12, seed=5)  # fmt: skip
    return root


def _row(out: str, label: str) -> list[str]:
    line = next(ln for ln in out.splitlines() if ln.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def _criterion(out: str, number: int) -> str:
    return re.search(rf"^- {number}\. .*: \*\*(.+)\*\*$", out, re.M).group(1)


def test_report_rows_confusion_and_criteria(labelled, capsys):
    rc = ev.main([str(labelled), "--no-faces"])
    out = capsys.readouterr().out
    assert rc == 0

    # One row per label folder (aliases resolved), none for labels without clips.
    assert _row(out, "joy")[:2] == ["joy", "2"]
    assert _row(out, "sadness")[:2] == ["sadness", "2"]
    assert _row(out, "surprise")[:2] == ["surprise", "1"]
    assert _row(out, "all")[:2] == ["all", "5"]
    assert not any(ln.startswith(("| anger |", "| fear |")) for ln in out.splitlines())
    # The clearly bright and clearly dark clips land on the right side of valence.
    joy, sad = _row(out, "joy"), _row(out, "sadness")
    assert float(joy[2]) > 0 > float(sad[2]) and float(joy[3]) > float(sad[3])
    assert joy[4] == "2/2 (1.00)" and sad[4] == "2/2 (1.00)"
    assert _row(out, "surprise")[4] == "—"  # no valence sign is expected of surprise

    # Confusion rows sum to each label's clips, over all 7 classes.
    header = next(ln for ln in out.splitlines() if ln.startswith("| label | anger"))
    assert header.count("|") == 9
    conf = out.split("Confusion matrix")[1].split("Acceptance")[0]
    assert sum(int(c) for c in _row(conf, "joy")[1:]) == 2
    assert sum(int(c) for c in _row(conf, "surprise")[1:]) == 1

    # Joy is present: criterion 1 is decided. Anger, disgust and fear are absent: criteria 2
    # and 3 are "not checked" even though their present parts pass.
    assert _criterion(out, 1) == "PASS"
    assert _criterion(out, 2) == "not checked"
    assert _criterion(out, 3) == "not checked"
    assert "- not checked: no anger clips" in out
    assert "- not checked: fear vs sadness: no fear clips" in out
    assert re.search(r"- PASS: sadness mean valence -\d\.\d{3} <= -0\.15", out)
    assert re.search(r"- PASS: surprise mean arousal [-+]\d\.\d{3} > sadness -\d\.\d{3}", out)


def test_clip_values_are_duration_weighted_scene_means(labelled):
    path = labelled / "surprised" / "cut.mp4"
    _, scenes = analyze_video_detailed(path, faces=False)
    assert len(scenes) == 2  # the cut is found, so the weighting matters
    result = ev.clip_result(path, "surprise", EmotionHead.default(), faces=False)
    w = [s.end_s - s.start_s for s in scenes]
    assert w[0] == pytest.approx(2 * w[1], rel=0.1)
    assert result.valence == pytest.approx(np.average([s.valence for s in scenes], weights=w))
    assert result.arousal == pytest.approx(np.average([s.arousal for s in scenes], weights=w))
    assert result.top == "joy"  # two thirds bright and loud


def test_holdout_evaluates_only_held_out_clips(labelled, capsys):
    held = [c for c in find_clips(labelled, 40) if c.held_out]
    assert 0 < len(held) < 5
    ev.main([str(labelled), "--no-faces", "--holdout", "40"])
    assert _row(capsys.readouterr().out, "all")[1] == str(len(held))


def test_criteria_pass_fail_and_not_checked():
    good = {
        "joy": (0.5, 0.4),
        "anger": (-0.4, 0.6),
        "disgust": (-0.3, 0.2),
        "fear": (-0.6, 0.5),
        "sadness": (-0.7, -0.6),
        "surprise": (0.2, 0.7),
    }
    assert [c.status for c in ev.check_criteria(good)] == ["PASS", "PASS", "PASS"]

    # Joy negative, fear positive, surprise calmer than sadness: each criterion fails.
    bad = {**good, "joy": (-0.1, 0.4), "fear": (0.05, 0.5), "surprise": (0.2, -0.7)}
    c1, c2, c3 = ev.check_criteria(bad)
    assert (c1.status, c2.status, c3.status) == ("FAIL", "FAIL", "FAIL")
    assert [c.status for c in c2.checks] == ["PASS", "PASS", "FAIL", "PASS"]
    assert c2.checks[2].text == "fear mean valence +0.050 <= -0.15"
    assert c3.checks[2].text == "surprise mean arousal -0.700 > sadness -0.600"

    # A failing part wins over a missing one; a missing part is never a pass.
    partial = {"anger": (0.1, 0.5), "joy": (0.3, 0.1)}
    c1, c2, c3 = ev.check_criteria(partial)
    assert (c1.status, c2.status, c3.status) == ("PASS", "FAIL", "not checked")
    assert {c.status for c in c3.checks} == {"not checked"}
    assert [c.status for c in ev.check_criteria({})] == ["not checked"] * 3
    # Exactly zero valence is not positive; the right sign without the margin is not enough.
    assert ev.check_criteria({"joy": (0.0, 0.0)})[0].status == "FAIL"
    assert ev.check_criteria({"joy": (0.1, 0.0)})[0].status == "FAIL"
    assert ev.check_criteria({"joy": (0.1, 0.0)}, margin=0.05)[0].status == "PASS"
    assert ev.check_criteria({"sadness": (-0.149, 0.0)})[1].checks[3].status == "FAIL"


def test_exit_status_is_1_when_a_criterion_fails(labelled, tmp_path, capsys):
    # A head that always says anger gives joy clips negative valence: criterion 1 fails.
    head = EmotionHead.default()
    head.weights[:] = 0
    head.bias[:] = -10
    head.bias[0] = 10  # CLASSES[0] == "anger"
    path = tmp_path / "anger.json"
    head.to_json(path)
    assert ev.main([str(labelled), "--no-faces", "--head", str(path)]) == 1
    out = capsys.readouterr().out
    assert _criterion(out, 1) == "FAIL"
    assert _row(out, "joy")[4] == "0/2 (0.00)" and _row(out, "joy")[5] == "0/2 (0.00)"


def test_input_errors_name_the_folder(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    assert ev.main([str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "error:" in err

    empty = tmp_path / "empty"
    (empty / "joy").mkdir(parents=True)
    assert ev.main([str(empty)]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "0 clip(s)" in err

    bad_head = tmp_path / "head.json"
    bad_head.write_text("{}")
    assert ev.main([str(tmp_path), "--head", str(bad_head)]) == 2
    assert str(bad_head) in capsys.readouterr().err


def test_save_appends_dated_report_with_command(labelled, tmp_path, monkeypatch, capsys):
    results = tmp_path / "results" / "emotion_eval.md"
    monkeypatch.setattr(ev, "RESULTS", results)
    assert ev.main([str(labelled), "--no-faces", "--save"]) == 0
    assert ev.main([str(labelled), "--no-faces", "--save"]) == 0
    out = capsys.readouterr().out
    text = results.read_text()
    assert text.startswith("# Video emotion analysis on labelled clips")
    assert text.count("\n## ") == 2
    assert f"`benchmarks/eval_emotion.py {labelled} --no-faces --save`" in text
    assert out.split("\n| joy |")[1].split("\n")[0] in text  # the printed table is saved


def test_an_unreadable_clip_is_skipped_and_listed(labelled, tmp_path, capsys):
    for label in ("happy", "sad"):
        (tmp_path / label).mkdir()
        src = next((labelled / label).glob("*.mp4"))
        (tmp_path / label / src.name).write_bytes(src.read_bytes())
    broken = tmp_path / "sad" / "broken.mp4"
    broken.write_text("not a video")
    assert ev.main([str(tmp_path), "--no-faces"]) == 0
    captured = capsys.readouterr()
    assert "2 clips analysed" in captured.out and "1 skipped" in captured.out
    assert f"- {broken}: " in captured.out and f"skipped {broken}" in captured.err
    assert _row(captured.out, "sadness")[:2] == ["sadness", "1"]
