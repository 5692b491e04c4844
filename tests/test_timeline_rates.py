"""Every common frame rate, with a non-zero start timecode, through every text format."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
import pytest

from emsync_core.timeline import read

pytestmark = pytest.mark.filterwarnings("ignore")

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange

RATES = {
    "23.976": (24000 / 1001, Fraction(24000, 1001)),
    "24": (24.0, Fraction(24)),
    "25": (25.0, Fraction(25)),
    "29.97": (30000 / 1001, Fraction(30000, 1001)),
    "30": (30.0, Fraction(30)),
    "48": (48.0, Fraction(48)),
    "50": (50.0, Fraction(50)),
    "59.94": (60000 / 1001, Fraction(60000, 1001)),
    "60": (60.0, Fraction(60)),
}
LENGTHS = (37, 1, 250, 12)


def build(rate: float) -> otio.schema.Timeline:
    start = otio.opentime.from_timecode("01:00:00:00", rate)
    tl = otio.schema.Timeline(name="rates", global_start_time=start)
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for i, n in enumerate(LENGTHS):
        rng = TR(RT(86400 + 100 * i, rate), RT(n, rate))
        ref = otio.schema.ExternalReference(target_url=f"file:///m/{i}.mov", available_range=rng)
        track.append(otio.schema.Clip(name=f"c{i}", media_reference=ref, source_range=rng))
    tl.tracks.append(track)
    return tl


@pytest.mark.parametrize("label", sorted(RATES))
@pytest.mark.parametrize(
    ("ext", "adapter"),
    [(".otio", "otio_json"), (".xml", "fcp_xml"), (".fcpxml", "fcpx_xml"), (".edl", "cmx_3600")],
)
def test_rate_and_start_timecode(tmp_path, label, ext, adapter):
    stored, exact = RATES[label]
    path = tmp_path / f"r{ext}"
    otio.adapters.write_to_file(build(stored), str(path), adapter)
    edit = read(path, rate=stored if ext == ".edl" else None)
    assert edit.rate == exact
    assert edit.cuts == (37, 38, 288)
    assert edit.duration == 300
    if ext in (".otio", ".xml") and label not in ("29.97", "59.94"):
        assert edit.start_timecode == "01:00:00:00"


@pytest.mark.parametrize("fcm", ["DROP FRAME", "NON-DROP FRAME"])
def test_edl_drop_and_non_drop_2997(tmp_path, fcm):
    tc = "01:00:00;00" if fcm == "DROP FRAME" else "01:00:00:00"
    path = tmp_path / "d.edl"
    sep = ";" if fcm == "DROP FRAME" else ":"
    path.write_text(
        f"TITLE: t\nFCM: {fcm}\n\n"
        f"001  AX V C 00:00:00{sep}00 00:00:10{sep}00 01:00:00{sep}00 01:00:10{sep}00\n"
        f"002  AX V C 00:10:00{sep}00 00:10:20{sep}00 01:00:10{sep}00 01:00:30{sep}00\n",
        encoding="utf-8",
    )
    edit = read(path, rate=29.97)
    assert edit.rate == Fraction(30000, 1001)
    # 10 s of 29.97 timecode is 300 frames either way (the first frame dropped is at 1 min)
    assert edit.cuts == (300,)
    assert edit.duration == 900
    assert edit.start_timecode.replace(";", ":") == tc.replace(";", ":")


def test_mixed_rate_clips(tmp_path):
    tl = build(24.0)
    track = tl.tracks[0]
    rng = TR(RT(0, 25), RT(50, 25))  # 2 s at 25 fps = 48 frames at 24
    track.append(otio.schema.Clip(name="pal", source_range=rng))
    rng = TR(RT(0, 30000 / 1001), RT(60, 30000 / 1001))  # 2.002 s = 48.048 frames at 24
    track.append(otio.schema.Clip(name="ntsc", source_range=rng))
    path = tmp_path / "mixed.otio"
    otio.adapters.write_to_file(tl, str(path))
    edit = read(path)
    assert edit.rate == 24
    assert edit.cuts == (37, 38, 288, 300, 348)
    assert edit.duration == 396
