"""The scene board's server, through Starlette's TestClient: who may talk to it, what it
serves, and a real `emsync score` job run from it (docs/board.md)."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from board_edit import FRAMES, HIT_FRAME, make_edit
from starlette.testclient import TestClient

from emsync_core.board import security
from emsync_core.board.app import Board, create_app
from emsync_core.board.jobs import parse_progress

PORT = 8765
TOKEN = "test-token"
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def edit_folder(tmp_path_factory):
    return make_edit(tmp_path_factory.mktemp("board-edit")).parent


@pytest.fixture
def project(edit_folder, tmp_path):
    """A fresh copy of the edit's folder (the board writes its work folder beside the input)."""
    folder = tmp_path / "project"
    shutil.copytree(edit_folder, folder)
    return folder / "edit.otio"


def client(board: Board, **headers) -> TestClient:
    c = TestClient(create_app(board), base_url=BASE, headers=headers)
    return c


def authed(board: Board) -> TestClient:
    return client(board, **{"X-EMSYNC-Token": TOKEN})


def wait(board: Board, timeout: float = 90) -> dict:
    job = board.runner.wait(timeout)
    assert job is not None and job.state != "running", "the job did not finish in time"
    return job.to_json()


def test_no_token_no_entry():
    board = Board(TOKEN, PORT)
    with client(board) as c:
        assert c.get("/").status_code == 403
        assert c.get("/api/state").status_code == 403
        assert c.get("/?token=wrong").status_code == 403
        assert c.post("/api/generate", json={}).status_code == 403
        page = c.get(f"/?token={TOKEN}")  # the URL `emsync board` prints
        assert page.status_code == 200 and "scene board" in page.text
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # later requests carry the cookie only
        assert c.get("/static/board.js").status_code == 200
    with authed(board) as c:
        assert c.get("/api/state").json()["project"] is None


@pytest.mark.parametrize(
    "host",
    ["evil.example:8765", "127.0.0.1:9999", "localhost", "attacker.localhost:8765", ""],
)
def test_wrong_host_refused(host):
    """DNS rebinding: a foreign name resolving to 127.0.0.1 still sends its own Host."""
    with authed(Board(TOKEN, PORT)) as c:
        r = c.get(f"/?token={TOKEN}", headers={"Host": host})
        assert r.status_code == 403 and "Host" in r.text
    with authed(Board(TOKEN, PORT)) as c:
        assert c.get("/api/state", headers={"Host": f"localhost:{PORT}"}).status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:1234", "null"])
def test_foreign_origin_refused(origin):
    with authed(Board(TOKEN, PORT)) as c:
        r = c.post("/api/open", json={"path": "/etc/passwd"}, headers={"Origin": origin})
        assert r.status_code == 403 and "another site" in r.text
        ok = c.get("/api/state", headers={"Origin": f"http://127.0.0.1:{PORT}"})
        assert ok.status_code == 200
        cross = c.get("/api/state", headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403


def test_scenes_of_the_fixture(project):
    board = Board(TOKEN, PORT)
    with authed(board) as c:
        r = c.post("/api/open", json={"path": str(project)})
        assert r.status_code == 200, r.text
        assert wait(board)["state"] == "done"  # the mood analysis
        p = c.get("/api/state").json()["project"]
    bounds = [sum(FRAMES[:i]) for i in range(len(FRAMES) + 1)]
    assert [(s["start_frame"], s["end_frame"]) for s in p["scenes"]] == list(
        zip(bounds, bounds[1:], strict=False)
    )
    assert [c["frame"] for c in p["cuts"]] == bounds[1:-1]
    assert [h["frame"] for h in p["hits"]] == [HIT_FRAME]
    assert p["scenes"][0]["name"] == "Dawn over the harbour"
    assert p["scenes"][1]["timecode"] == "01:00:04:00"
    for scene in p["scenes"]:  # the footage was found and analysed
        assert scene["offline"] is False
        a = scene["analysed"]
        assert 0 < a["confidence"] <= 1 and -1 <= a["valence"] <= 1
        assert abs(sum(a["probs"].values()) - 1) < 0.01
    with authed(board) as c:
        thumb = c.get("/api/thumb/2")
        assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"  # a JPEG
        assert c.get("/api/thumb/9").status_code == 404


def test_path_outside_the_project_refused(project, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    inside = project.parent / "notes.txt"
    inside.write_text("yours")
    (project.parent / "link-out").symlink_to(outside)
    (project.parent / "dir-out").symlink_to(tmp_path, target_is_directory=True)
    (project.parent / "link-in").symlink_to(inside)
    board = Board(TOKEN, PORT)
    with authed(board) as c:
        assert c.get("/files/notes.txt").status_code == 404  # nothing opened yet
        c.post("/api/open", json={"path": str(project)})
        wait(board)
        assert c.get("/files/notes.txt").text == "yours"
        assert c.get("/files/link-in").text == "yours"
        for path in (
            "/files/link-out",
            "/files/dir-out/secret.txt",
            "/files/%2e%2e/secret.txt",
            "/files/..%2fsecret.txt",
            f"/files/{outside}",
            "/files//etc/passwd",
            "/files/nothing-here.txt",
        ):
            r = c.get(path)
            assert r.status_code in (403, 404), path
            assert "not yours" not in r.text
    with pytest.raises(security.OutsideProject):
        security.confine("../secret.txt", [project.parent], base=project.parent)
    assert security.confine("notes.txt", [project.parent], base=project.parent) == inside


def test_upload_size_limit(project):
    board = Board(TOKEN, PORT, max_upload=1000)
    with authed(board) as c:
        r = c.post("/api/upload?name=big.otio", content=b"x" * 2000)
        assert r.status_code == 413 and "upload limit" in r.json()["error"]
        r = c.post("/api/upload?name=edit.otio", content=b"{not a timeline")
        assert r.status_code == 400 and r.json()["error"]  # the reader's message, no traceback


def test_generate_job_reports_progress(project):
    board = Board(TOKEN, PORT)
    with authed(board) as c:
        c.post("/api/open", json={"path": str(project)})
        wait(board)
        r = c.post("/api/mood", json={"scene": 1, "mood": {"emotion": "fear"}})
        assert r.status_code == 200
        assert c.post("/api/settings", json={"engine": "arranger", "seed": 3}).status_code == 200
        start = c.get("/api/state").json()["last_event"]
        assert c.post("/api/generate", json={}).status_code == 200
        assert c.post("/api/generate", json={}).status_code == 409  # one job at a time
        job = wait(board)
        assert job["state"] == "done", job
        stream = c.get(f"/api/events?since={start}&once=1").text
        out = c.get("/api/state").json()["output"]
        assert c.get(out["wav"]).status_code == 200
        wave = c.get("/api/waveform").json()
        roll = c.get("/api/pianoroll").json()
    events = [
        (block.split("\nevent: ")[1].split("\n")[0], json.loads(block.split("data: ")[1]))
        for block in stream.split("\n\n")
        if "event: " in block
    ]
    progress = [d["progress"] for kind, d in events if kind == "progress"]
    assert len(progress) >= 5 and progress == sorted(progress) and progress[-1] == 1.0
    assert ("output", {}) in events and events[-1][1]["state"] == "done"
    report = json.loads((project.parent / ".edit.emsync-board/score/report.json").read_text())
    assert report["seed"] == 3 and report["engine"] == "arranger"
    assert report["scenes"][1]["mood_source"] == "json"  # the page's fear
    assert (report["scenes"][1]["valence"], report["scenes"][1]["arousal"]) == (-0.8, 0.681)
    assert out["chords"] and len(out["scenes"]) == len(FRAMES)
    assert abs(wave["duration_s"] - 22.0) < 1e-3 and max(wave["max"]) > 0.05
    assert roll["notes"] and roll["layers"]
    assert not (project.parent / "edit.emsync").exists()  # never the user's export folder


def test_cli_error_is_one_message(project):
    """What the CLI exits 2 on reaches the page as its one-paragraph message."""
    board = Board(TOKEN, PORT)
    with authed(board) as c:
        r = c.post("/api/open", json={"path": str(project.parent / "missing.otio")})
        assert r.status_code == 400 and "does not exist" in r.json()["error"]
        c.post("/api/open", json={"path": str(project)})
        wait(board)
        project.write_text("{ damaged")
        c.post("/api/generate", json={})
        job = wait(board)
    assert job["state"] == "failed"
    assert job["error"] and "Traceback" not in job["error"] and "edit.otio" in job["error"]


def test_cancel_leaves_nothing_half_written(project):
    board = Board(TOKEN, PORT)
    with authed(board) as c:
        c.post("/api/open", json={"path": str(project)})
        wait(board)
        c.post("/api/generate", json={})
        deadline = time.monotonic() + 30
        while board.runner.job.proc is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)  # into the run, before it is written
        assert c.post("/api/cancel", json={}).json()["cancelled"] is True
        job = wait(board)
    work = project.parent / ".edit.emsync-board"
    assert job["state"] == "cancelled"
    assert not (work / "score").exists()
    assert [p.name for p in work.iterdir() if p.name.startswith(".")] == []  # no staging left


def test_progress_lines():
    line = json.dumps(
        {"stage": "render", "index": 5, "total": 7, "fraction": 0.5, "eta_s": 2.0, "note": None}
    )
    assert parse_progress(line) == (4.5 / 7, "render", 2.0)
    assert parse_progress("emsync: [6/7] master 50% (stem bass)") == (5.5 / 7, "master", None)
    assert parse_progress("note: something") is None


def test_shutdown_stops_the_job(project):
    """Leaving the app (the server stopping) SIGTERMs the job and waits for it."""
    board = Board(TOKEN, PORT)
    with authed(board) as c:
        c.post("/api/open", json={"path": str(project)})
        wait(board)
        c.post("/api/generate", json={})
        time.sleep(0.3)
    job = board.runner.job
    assert job.state == "cancelled" and job.proc is None
    leftovers = [p for p in (project.parent / ".edit.emsync-board").iterdir() if p.name[0] == "."]
    assert leftovers == []
    assert os.path.isdir(project.parent)
