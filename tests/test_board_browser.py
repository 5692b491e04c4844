"""The scene board in a real browser: Debian's Chromium, headless, driven by Selenium through
Debian's chromedriver (scripts/setup.sh installs both; nothing is downloaded here).

As an editor would: open the edit, set scene 2 to fear, generate, re-roll scene 3 and check
that only scene 3's notes changed, lock a scene, export, and read the exported timeline back.
With EMSYNC_SCREENSHOTS=1 each step is saved as docs/img/board_*.png (docs/board.md).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pretty_midi
import pytest
from board_edit import FRAMES, make_edit

from emsync_core.timeline import read_with_timeline

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
RATE = 24

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.fail(
            "Debian's chromium and chromium-driver are needed for the scene board's browser "
            "test: run `bash scripts/setup.sh` (it installs them with apt)."
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,1180",
        "--force-device-scale-factor=1",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp_path / 'chrome-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def board(tmp_path):
    """`emsync board EDIT --no-browser` as a user starts it; yields (url, timeline path)."""
    edit = make_edit(tmp_path / "project")
    proc = subprocess.Popen(
        [sys.executable, "-m", "emsync_core.cli", "board", str(edit), "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
        assert match, f"no URL printed: {line!r} {proc.stderr.read() if proc.poll() else ''}"
        yield match[1], edit
    finally:
        proc.terminate()
        proc.wait(60)


def shot(driver, name: str) -> None:
    if os.environ.get("EMSYNC_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(DOCS_IMG / f"board_{name}.png"))


def wait_for(driver, script: str, timeout: float = 90.0):
    """Poll a JavaScript expression until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.1)
    error = driver.execute_script("return document.querySelector('#error-text').textContent")
    raise AssertionError(f"timed out waiting for {script} (page error: {error!r})")


def click(driver, selector: str) -> None:
    element = driver.find_element("css selector", selector)
    driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", element)
    element.click()


def notes(midi: Path) -> list[tuple]:
    pm = pretty_midi.PrettyMIDI(str(midi))
    return sorted(
        (i.name, n.pitch, round(n.start, 4), round(n.end, 4), n.velocity)
        for i in pm.instruments
        for n in i.notes
    )


def test_board_in_chromium(browser, board, tmp_path):
    url, edit = board
    work = edit.parent / f".{edit.stem}.emsync-board" / "score"
    timings = {}
    driver = browser
    t0 = time.monotonic()
    driver.get(url)
    wait_for(driver, "document.body.dataset.analysed === '1'")
    timings["open + analyse"] = time.monotonic() - t0
    cards = driver.find_elements("css selector", ".scene")
    assert len(cards) == len(FRAMES)
    assert "token=" not in driver.current_url  # the cookie holds it now
    # thumbnails from the media, a frame from each scene
    wait_for(driver, "[...document.querySelectorAll('.thumb img')].every(i => i.naturalWidth > 0)")
    shot(driver, "open")

    # scene 2 (index 1) to fear with its Ekman chip
    click(driver, '.scene[data-index="1"] .chip[data-emotion="fear"]')
    wait_for(driver, """document.querySelector('.scene[data-index="1"] .chip.on')""")
    # The card is re-rendered after the click: read its label in the page, waiting for the
    # new render (an element found first can go stale before its text is read, under load).
    label = """document.querySelector('.scene[data-index="1"] .mood .label')"""
    wait_for(driver, f"{label}?.textContent.trim().toLowerCase() === 'fear'", timeout=10)
    shot(driver, "mood")

    # generate, watching the progress bar
    t0 = time.monotonic()
    click(driver, "#generate")
    wait_for(driver, "document.body.dataset.job === 'running'", 10)
    try:
        wait_for(
            driver, "parseFloat(document.querySelector('#progress-fill').style.width) > 20", 30
        )
        shot(driver, "progress")
    except AssertionError:
        pass  # a fast machine may finish first; the result is checked below
    wait_for(driver, "document.body.dataset.output === '1' && document.body.dataset.job === 'idle'")
    timings["generate"] = time.monotonic() - t0
    assert driver.execute_script("return document.body.dataset.jobState") == "done"
    wait_for(
        driver,
        "!document.querySelector('#audio').hidden || !document.querySelector('#video').hidden",
    )
    shot(driver, "generated")
    report = json.loads((work / "report.json").read_text())
    assert report["scenes"][1]["mood_source"] == "json"
    assert (report["scenes"][1]["valence"], report["scenes"][1]["arousal"]) == (-0.8, 0.681)
    before = notes(work / "score.mid")

    # a new take of scene 3 (index 2): only its notes change
    t0 = time.monotonic()
    click(driver, '.scene[data-index="2"] .new-take')
    wait_for(driver, "document.body.dataset.output === '2' && document.body.dataset.job === 'idle'")
    timings["re-roll one scene"] = time.monotonic() - t0
    assert driver.execute_script("return document.body.dataset.jobState") == "done"
    after = notes(work / "score.mid")
    start, end = FRAMES[0] / RATE + FRAMES[1] / RATE, sum(FRAMES[:3]) / RATE

    def outside(ns):
        return [n for n in ns if not start - 1e-3 <= n[2] < end - 1e-3]

    def inside(ns):
        return [n for n in ns if start - 1e-3 <= n[2] < end - 1e-3]

    assert outside(after) == outside(before)
    assert inside(after) != inside(before) and inside(after)
    report = json.loads((work / "report.json").read_text())
    assert report["takes"][-1]["scene"] == 2
    ab = driver.find_elements("css selector", '.scene[data-index="2"] .takes .ab')
    assert len(ab) == 2  # the earlier take and this one, for A/B
    ab[0].click()  # play the earlier take's excerpt
    wait_for(driver, "document.querySelector('.takes button.playing')", 10)
    shot(driver, "reroll")

    # a locked scene cannot be re-rolled
    click(driver, '.scene[data-index="0"] .lock')
    wait_for(
        driver, """document.querySelector('.scene[data-index="0"]').classList.contains('locked')"""
    )
    assert not driver.find_element("css selector", '.scene[data-index="0"] .new-take').is_enabled()
    assert driver.find_element("css selector", '.scene[data-index="3"] .new-take').is_enabled()

    # export into a folder the user names; a second export asks before replacing it
    target = tmp_path / "delivery" / "my_edit.emsync"
    field = driver.find_element("css selector", "#export-path")
    field.clear()
    field.send_keys(str(target))
    click(driver, "#export-btn")
    wait_for(driver, "document.querySelector('#export-result').textContent.startsWith('Exported')")
    click(driver, "#export-btn")
    wait_for(driver, "!document.querySelector('#export-confirm').hidden", 10)
    shot(driver, "export")
    click(driver, "#export-replace")
    wait_for(driver, "document.querySelector('#export-result').textContent.startsWith('Exported')")
    error_hidden = driver.execute_script("return document.querySelector('#error').hidden")
    assert error_hidden

    # what Export wrote is what `emsync score` writes, and the timeline reads back
    assert {p.name for p in target.iterdir()} >= {
        "score.mid",
        "score.wav",
        "report.json",
        "report.txt",
        "stems",
        "edit.scored.otio",
    }
    assert not (target / "takes").exists()
    assert notes(target / "score.mid") == after
    edit_back, timeline = read_with_timeline(target / "edit.scored.otio")
    assert len(edit_back.scenes) == len(FRAMES)
    score_tracks = [t for t in timeline.tracks if t.name == "EMSYNC Score"]
    assert len(score_tracks) == 1
    clip = next(iter(score_tracks[0].find_clips()))
    assert Path(clip.media_reference.target_url.removeprefix("file://")) == target / "score.wav"
    print("timings (s):", {k: round(v, 2) for k, v in timings.items()})
