"""Nothing half-written: concurrent runs, --force failures and signals, with real processes.

Each case must end with either the old output or the new one, no hidden staging folder, and
exit 2 with one paragraph.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import opentimelineio as otio
import pytest

from emsync_core import output_folder
from emsync_core.errors import OutputError
from emsync_core.timeline.build import timeline_from_cuts

SCORE = [sys.executable, "-m", "emsync_core.cli", "score"]
FAST = ["--engine", "arranger", "--emotion", "joy", "--no-analyze"]


@pytest.fixture(scope="module")
def long_edit(tmp_path_factory) -> Path:
    """A 60-second timeline: its render takes a few seconds, time enough to interrupt."""
    path = tmp_path_factory.mktemp("edit") / "long.otio"
    frames = 24 * 60
    otio.adapters.write_to_file(
        timeline_from_cuts(list(range(96, frames, 96)), frames, 24.0, "long"), str(path)
    )
    return path


@pytest.fixture(scope="module")
def short_edit(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("edit") / "short.otio"
    otio.adapters.write_to_file(timeline_from_cuts([24, 60], 100, 24.0, "short"), str(path))
    return path


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def start(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [*SCORE, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


def wait_for_render(out: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the run's staging folder holds score.mid (it is rendering audio then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((p / "score.mid").exists() for p in output_folder.leftovers(out)):
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before rendering: {proc.communicate()}")
        time.sleep(0.02)
    pytest.fail("the run never started rendering")


def one_paragraph(err: str) -> str:
    """The error: one line after any progress lines, no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if not line.startswith("emsync: [")]
    assert len(lines) == 1, err
    assert lines[0].startswith(("emsync: error:", "emsync: stopped")), err
    return lines[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signal_during_render_leaves_nothing(long_edit, tmp_path, signum):
    out = tmp_path / "o"
    proc = start(long_edit, "--out", out, *FAST)
    wait_for_render(out, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert signal.Signals(signum).name in one_paragraph(err)
    assert not out.exists()
    assert hidden(tmp_path) == []


def test_signal_during_forced_rerun_keeps_the_old_output(long_edit, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    proc = start(long_edit, "--out", out, "--force", *FAST)
    wait_for_render(out, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert hidden(tmp_path) == []


def test_two_runs_into_one_folder(long_edit, tmp_path):
    out = tmp_path / "o"
    first = start(long_edit, "--out", out, *FAST)
    wait_for_render(out, first)
    second = start(long_edit, "--out", out, *FAST)
    _, err2 = second.communicate(timeout=60)
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 2
    assert "Another emsync run" in one_paragraph(err2)
    assert str(first.pid) in err2
    assert json.loads((out / "report.json").read_text())["duration_frames"] == 24 * 60
    assert hidden(tmp_path) == []


def test_two_runs_started_together(short_edit, tmp_path):
    out = tmp_path / "o"
    runs = [start(short_edit, "--out", out, "--no-render", *FAST) for _ in range(3)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2, 2], results
    for code, err in results:
        if code == 2:
            text = one_paragraph(err)
            assert "Another emsync run" in text or "already exists" in text
    assert hidden(tmp_path) == []


def _freeze(folder: Path) -> Callable[[], None]:
    """Make `folder` impossible to rename, as another user's folder in a sticky /tmp is:
    `chattr +i` (which stops root too) where available, else a read-only parent."""
    if shutil.which("chattr"):
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        if done.returncode == 0:
            return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)
    if os.geteuid() == 0:
        pytest.skip("no chattr, and root may move any folder")
    folder.parent.chmod(0o555)
    return lambda: folder.parent.chmod(0o755)


def test_force_onto_an_unmovable_folder(short_edit, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "old.txt").write_text("old")
    thaw = _freeze(out)
    try:
        proc = start(short_edit, "--out", out, "--force", "--no-render", *FAST)
        _, err = proc.communicate(timeout=120)
    finally:
        thaw()
    assert proc.returncode == 2
    text = one_paragraph(err)
    assert str(out) in text and "Errno" not in text
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert hidden(tmp_path) == []


def test_force_swap_failure_cleans_up(tmp_path, monkeypatch):
    """The rename that moves the old output aside fails (as on a sticky or immutable folder,
    which root is not spared): clear error, old output kept, no staging folder."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "old.txt").write_text("old")
    real_rename = Path.rename

    def refuse(self, target):
        if self == out:
            raise PermissionError(1, "Operation not permitted")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", refuse)
    with (
        output_folder.locked(out),
        pytest.raises(OutputError, match="could not move"),
        output_folder.Staging(out, force=True) as staging,
    ):
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert hidden(tmp_path) == []


def test_stale_staging_of_a_killed_run_is_swept(long_edit, short_edit, tmp_path):
    out = tmp_path / "o"
    proc = start(long_edit, "--out", out, *FAST)
    wait_for_render(out, proc)
    proc.kill()  # SIGKILL: nothing can clean up
    proc.communicate(timeout=60)
    assert output_folder.leftovers(out)
    rerun = start(short_edit, "--out", out, "--no-render", *FAST)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert hidden(tmp_path) == []


def test_out_that_is_a_file(short_edit, tmp_path):
    target = tmp_path / "o"
    target.write_text("not a folder")
    proc = start(short_edit, "--out", target, "--no-render", *FAST)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "is a file" in one_paragraph(err)
    assert target.read_text() == "not a folder"


def test_out_under_a_read_only_system_path(short_edit):
    proc = start(short_edit, "--out", "/proc/emsync-out", "--no-render", *FAST)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    text = one_paragraph(err)
    assert "/proc" in text and "Errno" not in text
