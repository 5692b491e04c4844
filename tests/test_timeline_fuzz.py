"""Hostile timeline files: each is read correctly or refused with a clear TimelineError, fast.

Seeded, so every run tries the same files. "Clear" means: a TimelineError (exit code 2 from
the CLI) whose one-paragraph message names the file, never another exception or a hang.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
import warnings

import opentimelineio as otio
import pytest

from emsync_core.errors import TimelineError
from emsync_core.timeline import read

pytestmark = pytest.mark.filterwarnings("ignore")

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
SEED = 20240604
LIMIT_S = 5.0  # "within seconds"

EXTENSIONS = [".otio", ".otioz", ".edl", ".xml", ".fcpxml", ".aaf", ".ale", ".xges"]


def outcome(path, **kwargs):
    """'ok' with the Edit, or 'refused' with the message; anything else fails the test."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = ("ok", read(path, **kwargs))
    except TimelineError as exc:
        message = str(exc)
        assert path.name in message, message
        assert "\n" not in message and "Traceback" not in message
        result = ("refused", message)
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT_S, f"{path.name} took {elapsed:.1f} s"
    if result[0] == "ok":
        edit = result[1]
        assert edit.duration > 0
        assert all(0 < c < edit.duration for c in edit.cuts)
        assert list(edit.cuts) == sorted(set(edit.cuts))
    return result


def clip(name, frames, start=0, rate=24, url=None):
    rng = TR(RT(start, rate), RT(frames, rate))
    ref = (
        otio.schema.ExternalReference(target_url=url, available_range=rng)
        if url
        else otio.schema.MissingReference()
    )
    return otio.schema.Clip(name=name, media_reference=ref, source_range=rng)


def write(tl, path):
    otio.adapters.write_to_file(tl, str(path))
    return path


def timeline_of(*items, rate=24):
    tl = otio.schema.Timeline(name="t")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.extend(items)
    tl.tracks.append(track)
    return tl


# --------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize(
    "name", ["premiere_example.xml", "fcpx_example.fcpxml", "simple_cut.otio", "gap_test.edl"]
)
def test_truncated_at_random_points(timeline_fixtures, tmp_path, name):
    data = (timeline_fixtures / name).read_bytes()
    rng = random.Random(f"{SEED}{name}")
    for i, cut in enumerate(sorted(rng.sample(range(1, len(data)), 12))):
        path = tmp_path / f"t{i}{(timeline_fixtures / name).suffix}"
        path.write_bytes(data[:cut])
        outcome(path)


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_random_binary_junk(tmp_path, ext):
    rng = random.Random(f"{SEED}{ext}")
    for i in range(8):
        path = tmp_path / f"junk{i}{ext}"
        path.write_bytes(rng.randbytes(rng.choice([0, 1, 17, 600, 20_000])))
        kind, _ = outcome(path)
        assert kind == "refused"


@pytest.mark.parametrize("name", ["premiere_example.xml", "simple_cut.otio", "gap_test.edl"])
def test_flipped_bytes(timeline_fixtures, tmp_path, name):
    data = bytearray((timeline_fixtures / name).read_bytes())
    rng = random.Random(f"{SEED}flip{name}")
    for i in range(10):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path = tmp_path / f"f{i}{(timeline_fixtures / name).suffix}"
        path.write_bytes(bytes(damaged))
        outcome(path)


# --------------------------------------------------------------------------- encodings


def test_edl_in_utf16_with_bom_reads_like_utf8(timeline_fixtures, tmp_path):
    text = (timeline_fixtures / "gap_test.edl").read_text(encoding="utf-8")
    expected = read(timeline_fixtures / "gap_test.edl")
    for encoding in ("utf-16", "utf-16-be", "utf-8-sig"):
        path = tmp_path / f"{encoding}.edl"
        raw = text.encode(encoding)
        if encoding == "utf-16-be":
            raw = b"\xfe\xff" + raw
        path.write_bytes(raw)
        kind, edit = outcome(path)
        assert kind == "ok" and edit.cuts == expected.cuts, encoding


def test_edl_in_latin1(timeline_fixtures, tmp_path):
    text = (timeline_fixtures / "avid_example.edl").read_text(encoding="utf-8")
    path = tmp_path / "latin1.edl"
    path.write_bytes(text.replace("ZZ100_501", "ZZ100_501_café").encode("latin-1"))
    kind, edit = outcome(path)
    assert kind == "ok"
    assert edit.cuts == read(timeline_fixtures / "avid_example.edl").cuts


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_xml_in_other_encodings(timeline_fixtures, tmp_path, encoding):
    text = (timeline_fixtures / "premiere_example.xml").read_text(encoding="utf-8")
    text = text.replace('encoding="UTF-8"', f'encoding="{encoding}"').replace(
        "sc01_sh010_anim", "sc01_sh010_animé"
    )
    path = tmp_path / f"{encoding}.xml"
    path.write_bytes(text.encode(encoding))
    kind, edit = outcome(path)
    assert kind == "ok"
    assert edit.cuts == read(timeline_fixtures / "premiere_example.xml").cuts


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_otio_in_other_encodings(tmp_path, encoding):
    tl = timeline_of(clip("é1", 10), clip("é2", 10))
    path = tmp_path / f"{encoding}.otio"
    path.write_bytes(otio.adapters.write_to_string(tl, "otio_json").encode(encoding))
    kind, result = outcome(path)
    if kind == "ok":
        assert result.cuts == (10,)
    else:
        assert "cannot be read" in result


# --------------------------------------------------------------------------- odd contents


def test_negative_and_absurd_ranges(tmp_path):
    cases = {
        "negative_duration": timeline_of(clip("a", 10), clip("b", -5), clip("c", 10)),
        "negative_start": timeline_of(clip("a", 10, start=-100), clip("b", 10)),
        "absurd_length": timeline_of(clip("a", 10), clip("b", 10**15)),
        "absurd_rate": timeline_of(clip("a", 10, rate=1e9), clip("b", 10, rate=1e9)),
        "tiny_rate": timeline_of(clip("a", 10, rate=1e-9), clip("b", 10, rate=1e-9)),
        "nan_start": timeline_of(clip("a", 10, start=float("nan")), clip("b", 10)),
    }
    for name, tl in cases.items():
        outcome(write(tl, tmp_path / f"{name}.otio"))


def test_missing_media_still_reads(tmp_path):
    tl = timeline_of(
        clip("a", 10, url="file:///nowhere/a.mov"), clip("b", 10, url="relative/b.mov")
    )
    kind, edit = outcome(write(tl, tmp_path / "missing.otio"))
    assert kind == "ok" and edit.cuts == (10,)
    assert edit.media_paths == ("/nowhere/a.mov", "relative/b.mov")


def test_ten_hour_timeline(tmp_path):
    rng = random.Random(SEED)
    lengths = [rng.randint(24 * 20, 24 * 50) for _ in range(700)]
    total = 10 * 3600 * 24
    lengths.append(total - sum(lengths))
    assert lengths[-1] > 0
    tl = timeline_of(*(clip(f"c{i}", n) for i, n in enumerate(lengths)))
    kind, edit = outcome(write(tl, tmp_path / "ten_hours.otio"))
    assert kind == "ok" and edit.duration == total and len(edit.cuts) == 700


# FCP 7 XML: the adapter needs about 5.5 s for 5,000 clips on 2 cores, so 1,000 there.
@pytest.mark.parametrize(
    ("ext", "adapter", "n"),
    [(".otio", "otio_json", 5000), (".edl", "cmx_3600", 5000), (".xml", "fcp_xml", 1000)],
)
def test_many_cuts(tmp_path, ext, adapter, n):
    rng = random.Random(SEED + n)
    lengths = [rng.randint(1, 60) for _ in range(n + 1)]
    tl = timeline_of(*(clip(f"c{i}", k, url=f"file:///m/c{i}.mov") for i, k in enumerate(lengths)))
    expected, pos = [], 0
    for k in lengths[:-1]:
        pos += k
        expected.append(pos)
    path = tmp_path / f"many{ext}"
    otio.adapters.write_to_file(tl, str(path), adapter)
    kind, edit = outcome(path, rate=24)
    assert kind == "ok" and list(edit.cuts) == expected


@pytest.mark.parametrize("depth", [40, 400, 1500])
def test_deeply_nested_stacks(tmp_path, depth):
    inner: otio.core.Composable = clip("core", 48)
    for i in range(depth):
        holder = otio.schema.Stack(name=f"s{i}") if i % 2 else otio.schema.Track(name=f"t{i}")
        holder.append(inner)
        inner = holder
    tl = timeline_of(clip("a", 24), inner, clip("b", 24))
    path = tmp_path / f"nested{depth}.otio"
    try:
        write(tl, path)
    except RecursionError:
        pytest.skip("OpenTimelineIO itself cannot write this depth")
    kind, result = outcome(path)
    if kind == "ok":
        assert result.cuts == (24, 72)
    else:
        assert "nested" in result


def test_unknown_schema_versions(timeline_fixtures, tmp_path):
    kind, message = outcome(timeline_fixtures / "screening_example.otio")
    assert kind == "refused" and "newer OpenTimelineIO" in message
    text = otio.adapters.write_to_string(timeline_of(clip("a", 10), clip("b", 10)), "otio_json")
    for i, (old, new) in enumerate(
        [('"Clip.2"', '"Clip.99"'), ('"Timeline.1"', '"Timeline.7"'), ('"Clip.2"', '"Klip.1"')]
    ):
        path = tmp_path / f"schema{i}.otio"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        kind, message = outcome(path)
        assert kind == "refused", old


def test_cli_exit_code_2_without_traceback(tmp_path):
    junk = tmp_path / "junk.fcpxml"
    junk.write_bytes(random.Random(SEED).randbytes(300))
    run = subprocess.run(
        [sys.executable, "-m", "emsync_core.cli", "cuts", str(junk)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "junk.fcpxml" in run.stderr
