"""The Resolve bridge against the fake Resolve API: real exports, real `emsync score` runs."""

from __future__ import annotations

import ast
import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fake_resolve import FakeBmd, FakeFusion, FakeMediaPoolItem, FakeResolve

from resolve_plugin import bridge, dialog

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "resolve_plugin"
VENV_PYTHON = REPO / ".venv" / "bin" / "python"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Headless runs with the venv interpreter, scores and config under tmp_path."""
    python = VENV_PYTHON if VENV_PYTHON.is_file() else Path(sys.executable)
    monkeypatch.setenv("EMSYNC_PYTHON", str(python))
    monkeypatch.setenv("EMSYNC_SCORES_DIR", str(tmp_path / "scores"))
    monkeypatch.setenv("EMSYNC_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("EMSYNC_HEADLESS", "1")
    for name in ("EMSYNC_EMOTION", "EMSYNC_ENGINE", "EMSYNC_SEED", "PYTHONPATH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def make_resolve(rate="24", drop=False, version=(21, 0, 2, 0, ""), studio=True, seconds=5):
    """A project with a 3-shot timeline, a dialogue clip on Audio 1 and a mood marker."""
    resolve = FakeResolve(version=version, studio=studio)
    project = resolve.new_project("Film", rate_text=rate)
    tl = project.add_timeline("Cut 1", drop_frame=drop)
    fps = round(float(rate))
    total = seconds * fps
    cuts = [0, 2 * fps, 3 * fps + 5, total]
    for i, (a, b) in enumerate(zip(cuts, cuts[1:], strict=False)):
        media = FakeMediaPoolItem(resolve, Path(f"/media/shot_{i}.mov"), rate, 10_000)
        tl.add_clip("video", 1, media, a, b - a)
    dialogue = FakeMediaPoolItem(resolve, Path("/media/dialogue.wav"), rate, 10_000)
    tl.add_clip("audio", 1, dialogue, 0, total)
    assert tl.AddMarker(2 * fps + 3, "Blue", "emotion: joy", "", 1)
    return resolve, project, tl


def score_tracks(tl):
    return [t for t in tl.tracks["audio"] if t.name == bridge.SCORE_TRACK]


def others(tl):
    snap = tl.snapshot()
    snap["audio"] = [t for t in snap["audio"] if t[0] != bridge.SCORE_TRACK]
    return snap


def check_scored(tl, project):
    """Exactly one score track, one clip at the start for the whole length, WAV that long."""
    (track,) = score_tracks(tl)
    assert track.subtype == "stereo"
    (clip,) = track.items
    duration = max(i.end for i in tl.tracks["video"][0].items) - tl.start
    assert (clip.GetStart(), clip.GetDuration()) == (tl.GetStartFrame(), duration)
    wav = clip.GetMediaPoolItem().path
    assert wav.is_file()
    info = soundfile.info(str(wav))
    rate = bridge.parse_rate(tl.rate_text)
    exact = {23.976: 24000 / 1001, 29.97: 30000 / 1001}.get(rate, rate)
    assert info.samplerate == 48000 and info.channels == 2
    assert info.frames == round(duration / exact * 48000)
    (bin_,) = [f for f in project.media_pool.root.subfolders if f.name == bridge.BIN_NAME]
    assert clip.GetMediaPoolItem() in bin_.clips
    assert project.media_pool.current is project.media_pool.root  # current bin restored
    return clip


def test_headless_twice_replaces_the_score(env, monkeypatch, capsys):
    resolve, project, tl = make_resolve()
    before = others(tl)
    assert tl.GetStartFrame() == 86400
    assert bridge.main(resolve, None, None) == 0
    first = check_scored(tl, project)
    assert others(tl) == before
    report = json.loads((first.GetMediaPoolItem().path.parent / "report.json").read_text())
    assert [s["mood_source"] for s in report["scenes"]][1] == "marker"  # 'emotion: joy'
    assert report["scenes"][1]["probs"]["joy"] == 1.0

    # second run through the menu script itself, as Resolve would run it
    monkeypatch.setenv("EMSYNC_SEED", "7")
    g = runpy.run_path(
        str(PLUGIN / "Generate Score.py"),
        init_globals={"resolve": resolve, "fusion": FakeFusion(resolve), "bmd": None},
    )
    assert g["EXIT_CODE"] == 0, capsys.readouterr().err
    second = check_scored(tl, project)
    assert second is not first and second.GetMediaPoolItem().path != first.GetMediaPoolItem().path
    assert others(tl) == before
    assert len(tl.tracks["audio"]) == 2
    assert "seed7" in str(second.GetMediaPoolItem().path)


def test_headless_transformer_engine(env, monkeypatch):
    resolve, project, tl = make_resolve()
    before = others(tl)
    monkeypatch.setenv("EMSYNC_ENGINE", "transformer")
    assert bridge.main(resolve, None, None) == 0
    clip = check_scored(tl, project)
    assert others(tl) == before
    report = json.loads((clip.GetMediaPoolItem().path.parent / "report.json").read_text())
    assert report["engine"] == "transformer"
    assert all(c["new_harmony"] and c["error_ms"] < 1.0 for c in report["cuts"]), report["cuts"]


@pytest.mark.parametrize(
    ("rate", "drop", "start"), [("23.976", False, 86400), ("29.97", True, 107892)]
)
def test_ntsc_rates(env, rate, drop, start):
    resolve, project, tl = make_resolve(rate=rate, drop=drop, seconds=4)
    assert tl.GetStartFrame() == start
    before = others(tl)
    outcome = bridge.generate_score(resolve, bridge.Options(emotion="sadness"), {})
    assert outcome.start_frame == start
    check_scored(tl, project)
    assert others(tl) == before


def test_free_19_1_inclusive_end_and_no_dialog(env, monkeypatch, capsys):
    """Free 19.1: no UIManager (never touched), endFrame inclusive; placement still exact."""
    monkeypatch.delenv("EMSYNC_HEADLESS")
    resolve, project, tl = make_resolve(version=(19, 1, 4, 0, ""), studio=False, seconds=4)
    fusion = FakeFusion(resolve)
    bmd = FakeBmd(on_run=lambda win: pytest.fail("no dialog on Free 19.1"))
    assert bridge.main(resolve, fusion, bmd) == 0
    assert not resolve.modal_open
    assert "no script dialogs" in capsys.readouterr().out
    check_scored(tl, project)


def _tone(tmp_path, seconds=5):
    wav = tmp_path / "tone.wav"
    soundfile.write(str(wav), np.zeros((48000 * seconds, 2)), 48000, subtype="PCM_24")
    return wav


def test_end_convention_is_decided_by_version_only(env, tmp_path):
    """A 21.0 acting like 19.1 is not silently "calibrated": the miss is reported."""
    resolve, project, tl = make_resolve()
    resolve.end_exclusive = False
    item = bridge.import_score(resolve, project.media_pool, _tone(tmp_path))
    index = bridge.new_score_track(tl)
    with pytest.raises(bridge.BridgeError, match=r"got \[\(86400, 101\)\]"):
        bridge.place_clip(resolve, project.media_pool, tl, item, index, 100)
    assert tl.tracks["audio"][index - 1].items == []


@pytest.mark.parametrize(("project_rate", "timeline_rate"), [("24", "25"), ("30", "29.97")])
def test_mixed_rates_one_frame_short_moves_the_end_frame(
    env, tmp_path, project_rate, timeline_rate
):
    """The WAV's clip rate is the project's; converting to the timeline's floors."""
    resolve = FakeResolve()
    project = resolve.new_project("Film", rate_text=project_rate)
    tl = project.add_timeline("Cut", rate_text=timeline_rate)
    item = bridge.import_score(resolve, project.media_pool, _tone(tmp_path, 10))
    index = bridge.new_score_track(tl)
    for duration in (97, 100, 143):
        bridge.place_clip(resolve, project.media_pool, tl, item, index, duration)
        (clip,) = tl.tracks["audio"][index - 1].items
        assert (clip.GetStart(), clip.GetDuration()) == (tl.start, duration)
        resolve.OpenPage("edit")
        tl.DeleteClips([clip])


def test_silently_dropped_clip_fails_loudly(env, tmp_path):
    resolve, project, tl = make_resolve()
    wav = tmp_path / "tone.wav"
    soundfile.write(str(wav), np.zeros((48000 * 5, 2)), 48000, subtype="PCM_24")
    item = bridge.import_score(resolve, project.media_pool, wav)
    # audio track 1 holds the dialogue: Resolve drops an overlapping clip without an error
    with pytest.raises(bridge.BridgeError, match="placed the score wrongly"):
        bridge.place_clip(resolve, project.media_pool, tl, item, 1, 120)
    (dialogue,) = tl.tracks["audio"][0].items
    assert dialogue.GetName() == "dialogue.wav"


def test_record_frame_zero_would_fail_read_back(env, tmp_path, monkeypatch):
    """Placing at 0 (the classic bug) puts the clip before the timeline: read-back refuses."""
    resolve, project, tl = make_resolve()
    wav = tmp_path / "tone.wav"
    soundfile.write(str(wav), np.zeros((48000 * 5, 2)), 48000, subtype="PCM_24")
    pool = project.media_pool
    item = bridge.import_score(resolve, pool, wav)
    index = bridge.new_score_track(tl)
    real = pool.AppendToTimeline
    monkeypatch.setattr(
        pool, "AppendToTimeline", lambda infos: real([dict(i, recordFrame=0) for i in infos])
    )
    with pytest.raises(bridge.BridgeError, match="placed the score wrongly"):
        bridge.place_clip(resolve, pool, tl, item, index, 120)
    assert tl.tracks["audio"][index - 1].items == []


@pytest.mark.parametrize("what", ["project", "timeline"])
def test_nothing_open(env, what, capsys):
    resolve, project, tl = make_resolve()
    if what == "project":
        resolve.project_manager.project = None
    else:
        project.current_timeline = None
    assert bridge.main(resolve, None, None) == 2
    assert f"No {what} is open" in capsys.readouterr().err


def test_export_fails_leaves_everything(env, capsys):
    resolve, project, tl = make_resolve()
    tl.fail_export = True
    before = tl.snapshot()
    assert bridge.main(resolve, None, None) == 2
    assert "could not export" in capsys.readouterr().err
    assert tl.snapshot() == before
    assert project.media_pool.root.subfolders == []
    assert not (env / "scores").exists()


def test_otio_export_refused_falls_back_to_fcp7_xml(env):
    resolve, project, tl = make_resolve(seconds=4)
    otio_type = resolve.EXPORT_OTIO
    real = tl.Export
    tl.Export = lambda path, kind, sub=None: kind != otio_type and real(path, kind, sub)
    outcome = bridge.generate_score(resolve, bridge.Options(), {})
    assert outcome.export_format == "fcp7xml"
    check_scored(tl, project)


def test_core_error_is_shown_and_timeline_untouched(env, monkeypatch, capsys):
    resolve, project, tl = make_resolve()
    # a previous score must survive a failed re-run
    assert bridge.main(resolve, None, None) == 0
    before = tl.snapshot()
    monkeypatch.setenv("EMSYNC_EMOTION", "glee")  # not a mood the core knows
    assert bridge.main(resolve, None, None) == 2
    err = capsys.readouterr().err
    assert "glee" in err and "Traceback" not in err
    assert tl.snapshot() == before
    assert len(project.media_pool.root.subfolders[0].clips) == 1


def test_old_resolve_is_refused_before_touching_anything(env):
    resolve, project, tl = make_resolve(version=(18, 1, 4, 0, ""))
    before = tl.snapshot()
    with pytest.raises(bridge.BridgeError, match="18.5"):
        bridge.generate_score(resolve, bridge.Options(), {})
    assert tl.snapshot() == before


def test_missing_interpreter_says_how_to_fix(env, monkeypatch):
    resolve, project, tl = make_resolve()
    monkeypatch.delenv("EMSYNC_PYTHON")
    with pytest.raises(bridge.BridgeError, match="install-resolve"):
        bridge.generate_score(resolve, bridge.Options(), {})
    monkeypatch.setenv("EMSYNC_PYTHON", str(env / "nope" / "python"))
    with pytest.raises(bridge.BridgeError, match="does not exist"):
        bridge.generate_score(resolve, bridge.Options(), {})


def test_start_frames_at_25_and_60():
    assert FakeResolve().new_project(rate_text="25").add_timeline().GetStartFrame() == 90000
    tl = FakeResolve().new_project(rate_text="59.94").add_timeline(drop_frame=True)
    assert tl.GetStartFrame() == 215784


def test_child_env_and_command():
    env = bridge.child_env({"PYTHONHOME": "/x", "PYTHONPATH": "/y", "PATH": "/bin"})
    assert "PYTHONHOME" not in env and "PYTHONPATH" not in env and env["PATH"] == "/bin"
    opts = bridge.Options(emotion="-0.5,0.2", seed=3, soundfont="/s.sf2")
    cmd = bridge.score_command("/venv/python", Path("/t/cut.edl"), Path("/o"), opts, 25.0)
    assert cmd[:4] == ["/venv/python", "-m", "emsync_core.cli", "score"]
    assert "--emotion=-0.5,0.2" in cmd and cmd[-2:] == ["--rate", "25"]
    assert "--rate" not in bridge.score_command("p", Path("a.otio"), Path("o"), opts, 25.0)


def test_headless_options_and_fields():
    opts = bridge.headless_options(
        {"EMSYNC_EMOTION": "fear", "EMSYNC_SEED": "12"}, bridge.Options(engine="arranger")
    )
    assert opts == bridge.Options(emotion="fear", engine="arranger", seed=12)
    with pytest.raises(bridge.BridgeError):
        bridge.headless_options({"EMSYNC_SEED": "x"})
    assert bridge.options_from_fields("Valence/Arousal", -50, 120, "arranger", "4", "") == (
        bridge.Options(emotion="-0.50,1.00", engine="arranger", seed=4)
    )
    from emsync_core import defaults

    assert bridge.options_from_fields("Joy", 0, 0, "", "", "").engine == defaults.ENGINE
    auto = bridge.options_from_fields(bridge.MOOD_CHOICES[0], 0, 0, "arranger", "", "")
    assert auto.emotion is None


def test_dialog_on_studio(env, monkeypatch):
    """Studio: the window opens with the saved choices, its fields reach generate(), and
    what generate() says lands in the status line."""
    monkeypatch.delenv("EMSYNC_HEADLESS")
    resolve, project, tl = make_resolve()
    calls, statuses = [], []

    def play(win):
        items = win.GetItems()
        assert items["Mood"].CurrentText == "Valence/Arousal"  # the saved "0.3,-0.2"
        assert (items["Valence"].Value, items["Arousal"].Value) == (30, -20)
        items["Mood"].CurrentIndex = items["Mood"].items.index("Joy")
        items["Seed"].Text = "5"
        win.fire("Go")
        statuses.append(items["Status"].Text)
        items["Seed"].Text = "five"
        win.fire("Go")
        statuses.append(items["Status"].Text)
        win.fire("NewTake")
        assert items["Seed"].Text.isdigit()
        win.fire("Close")

    def generate(fields, status):
        calls.append(fields)
        status("working")
        try:
            return str(bridge.options_from_fields(**fields))
        except bridge.BridgeError as exc:
            return f"Error: {exc}"

    bmd = FakeBmd(play)
    form = bridge.dialog_form(bridge.Options(emotion="0.3,-0.2", engine="arranger"))
    dialog.run_dialog(FakeFusion(resolve), bmd, form, generate)
    assert calls[0]["mood"] == "Joy" and calls[0]["seed"] == "5"
    assert calls[0]["engine"] == "arranger"
    assert statuses[0] == str(bridge.Options(emotion="joy", engine="arranger", seed=5))
    assert statuses[1].startswith("Error: The seed")
    assert not bmd.dispatchers[0].running and not resolve.modal_open


def _imports(path: Path) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            mods |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mods.add("." * node.level + (node.module or ""))
    return mods


def test_plugin_is_stdlib_only_and_reaches_the_shared_names():
    """Resolve's Python has none of our venv's packages (21.1 has no pip at all)."""
    allowed = set(sys.stdlib_module_names) | {"bridge", "dialog", "DaVinciResolveScript"}
    for name in ("bridge.py", "dialog.py", "Generate Score.py"):
        for mod in _imports(PLUGIN / name):
            top = mod.lstrip(".").split(".")[0]
            assert top in allowed | {"__future__"} or mod == ".dialog", (name, mod)
    # dialog.py imports nothing of ours: bridge.py calls it, never the other way round
    assert not {m for m in _imports(PLUGIN / "dialog.py") if "bridge" in m}
    # and they import in a bare interpreter without site-packages; bridge.py then has the
    # names from emsync_core/defaults.py, loaded by path
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bridge, dialog; "
        "print(bridge.SCORE_TRACK, bridge.shared.ENGINE, *bridge.ENGINES, *bridge.EKMAN)"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(PLUGIN)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    from emsync_core import defaults

    assert out[:2] == defaults.SCORE_TRACK.split()
    assert out[2:] == [defaults.ENGINE, *defaults.ENGINES, *defaults.EMOTIONS]


def test_the_core_never_imports_the_plugin():
    for path in (REPO / "emsync_core").rglob("*.py"):
        assert not {m for m in _imports(path) if m.startswith("resolve_plugin")}, path


def test_one_place_for_the_shared_names():
    """The core's own lists agree with the shared module (emsync_core/defaults.py)."""
    from emsync_core import defaults
    from emsync_core.emotion.mapping import EKMAN6
    from emsync_core.timeline import fcp7, write

    assert EKMAN6 == defaults.EMOTIONS == bridge.EKMAN
    assert write.SCORE_TRACK == fcp7.SCORE == bridge.SCORE_TRACK == defaults.SCORE_TRACK
    assert bridge.ENGINES == defaults.ENGINES and defaults.ENGINE in defaults.ENGINES
    assert bridge.Options().engine == defaults.ENGINE


def test_studio_main_runs_the_dialog_end_to_end(env, monkeypatch):
    monkeypatch.delenv("EMSYNC_HEADLESS")
    resolve, project, tl = make_resolve(seconds=4)
    shown = []

    def play(win):
        items = win.GetItems()
        items["Mood"].CurrentIndex = items["Mood"].items.index("Fear")
        win.fire("Go")
        shown.append(items["Status"].Text)
        win.fire("Close")

    assert bridge.main(resolve, FakeFusion(resolve), FakeBmd(play)) == 0
    assert shown[0].startswith("Score added on audio track 2"), shown
    check_scored(tl, project)
    saved = bridge.load_config(env / "config.json")["defaults"]
    assert saved["emotion"] == "fear"  # remembered for Free / headless runs


# ------------------------------------------------------------------ per Resolve version

VERSIONS = {
    "19.1": (19, 1, 4, 0, ""),  # every Free 19.x user: endFrame inclusive, video-track check
    "20.1": (20, 1, 0, 0, ""),  # video-track check, append fails with nothing selected
    "20.3": (20, 3, 0, 0, ""),  # nothing selected still fails (fixed in 20.3.2)
    "21.1": (21, 1, 0, 0, ""),  # numbers for rates, GetSettings(), ImportMedia([{FilePath}])
}


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_the_fake_has_the_documented_bugs(tmp_path, name):
    """What a plain append of the score to A2 of a V1+A1 timeline does on each version."""
    resolve, project, tl = make_resolve(version=VERSIONS[name])
    item = project.media_pool.ImportMedia([str(_tone(tmp_path))])[0]
    tl.AddTrack("audio", "stereo")
    info = {"mediaPoolItem": item, "startFrame": 0, "endFrame": 24, "mediaType": 2}
    info |= {"trackIndex": 2, "recordFrame": tl.start}
    placed = project.media_pool.AppendToTimeline([info])
    assert bool(placed) == (name == "21.1")  # 19.1/20.1: video-track check; 20.x: selection
    project.media_pool.SetSelectedClip(item)
    placed = project.media_pool.AppendToTimeline([info])
    assert bool(placed) == (name in ("20.3", "21.1"))  # 19.1, 20.1: one video track only
    if name == "21.1":
        assert isinstance(tl.GetSettings()["timelineFrameRate"], int)


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_versions_place_rescore_after_a_trim_and_keep_the_old_score_on_failure(
    env, monkeypatch, name
):
    """V1+A1: the score lands on A2 (helper video tracks gone again), a re-run after a trim
    replaces it with a shorter one, and a placement Resolve refuses leaves the old score."""
    monkeypatch.setenv("EMSYNC_ENGINE", "arranger")  # the placement is under test here
    resolve, project, tl = make_resolve(version=VERSIONS[name], seconds=4)
    resolve.empty_imports = 1  # the first import comes back empty, as while a file settles
    assert bridge.main(resolve, None, None) == 0
    first = check_scored(tl, project)
    assert first.GetDuration() == 96 and len(tl.tracks["video"]) == 1
    assert [t.name for t in tl.tracks["audio"]] == ["Audio 1", bridge.SCORE_TRACK]
    wav = str(first.GetMediaPoolItem().path)
    if name == "21.1":
        assert [{"FilePath": wav}] in resolve.import_calls
    if name.startswith("20."):
        assert project.media_pool.GetSelectedClips() == [first.GetMediaPoolItem()]

    # trim the last shot and the dialogue by half a second: the old, longer score must not
    # set the length (Resolve's export does not keep our track name)
    shots = sorted(tl.tracks["video"][0].items, key=lambda i: i.start)
    shots[-1].duration -= 12
    tl.tracks["audio"][0].items[0].duration -= 12
    trimmed = others(tl)
    assert bridge.main(resolve, None, None) == 0
    second = check_scored(tl, project)
    assert second.GetDuration() == 84 and first not in tl.tracks["audio"][1].items
    assert others(tl) == trimmed and len(tl.tracks["video"]) == 1

    # Resolve refuses the next placement: the timeline keeps the score it had
    before = tl.snapshot()
    resolve.refuse_appends = True
    monkeypatch.setenv("EMSYNC_SEED", "9")
    assert bridge.main(resolve, None, None) == 2
    assert tl.snapshot() == before
    assert check_scored(tl, project) is second


def test_deleting_the_old_score_is_checked(env, monkeypatch, tmp_path):
    resolve, project, tl = make_resolve()
    first_track = bridge.new_score_track(tl)
    item = bridge.import_score(resolve, project.media_pool, _tone(tmp_path))
    bridge.place_clip(resolve, project.media_pool, tl, item, first_track, 120)
    monkeypatch.setattr(tl, "DeleteClips", lambda items, ripple=False: False)
    with pytest.raises(bridge.BridgeError, match="refused to delete the previous score"):
        bridge.remove_tracks(resolve, tl, [first_track])
    assert len(tl.tracks["audio"][first_track - 1].items) == 1


def test_stray_placements_and_helper_tracks_are_removed(env, monkeypatch, tmp_path):
    """19.1: helper video tracks come and go; whatever the append put on another track (here a
    copy on V1, as an A/V append would) is deleted, found with GetTrackTypeAndIndex."""
    resolve, project, tl = make_resolve(version=VERSIONS["19.1"])
    pool = project.media_pool
    item = bridge.import_score(resolve, pool, _tone(tmp_path))
    index = bridge.new_score_track(tl)
    real = pool.AppendToTimeline
    video_counts = []

    def append_with_a_stray(infos):
        video_counts.append(len(tl.tracks["video"]))
        stray = tl.add_clip("video", 1, item, 200, 10)
        return real(infos) + [stray]

    monkeypatch.setattr(pool, "AppendToTimeline", append_with_a_stray)
    before_video = [(i.id, i.start) for i in tl.tracks["video"][0].items]
    bridge.place_clip(resolve, pool, tl, item, index, 100)
    assert video_counts == [2]  # one helper track while appending to A2
    assert len(tl.tracks["video"]) == 1
    assert [(i.id, i.start) for i in tl.tracks["video"][0].items] == before_video
    (clip,) = tl.tracks["audio"][index - 1].items
    assert (clip.GetStart(), clip.GetDuration()) == (tl.start, 100)
