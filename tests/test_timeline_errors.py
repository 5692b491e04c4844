"""Bad input gives a TimelineError with a message naming the file, never a traceback."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from emsync_core.errors import TimelineError
from emsync_core.timeline import load_otio, read

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange

JUNK = bytes(range(256)) * 8  # deterministic binary junk, NUL bytes included


def refused(path, **kwargs) -> str:
    with pytest.raises(TimelineError) as info:
        read(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message  # one paragraph
    assert "Traceback" not in message
    return message


def test_missing_file(tmp_path):
    message = refused(tmp_path / "nowhere.otio")
    assert "nowhere.otio" in message and "no such file" in message


def test_unsupported_extension_lists_supported_ones(tmp_path):
    path = tmp_path / "movie.txt"
    path.write_text("not a timeline")
    message = refused(path)
    assert "movie.txt" in message
    for ext in (".otio", ".edl", ".xml", ".fcpxml", ".aaf"):
        assert ext in message


@pytest.mark.parametrize("ext", [".otio", ".edl", ".xml", ".fcpxml", ".aaf", ".ale", ".otioz"])
def test_binary_junk(tmp_path, ext):
    path = tmp_path / f"junk{ext}"
    path.write_bytes(JUNK)
    assert f"junk{ext}" in refused(path)


def test_text_junk_edl(tmp_path):
    path = tmp_path / "words.edl"
    path.write_text("hello\nthis is not an edit decision list\n")
    assert "words.edl" in refused(path)


def test_edl_without_events_is_empty(tmp_path):
    path = tmp_path / "title_only.edl"
    path.write_text("TITLE: nothing here\nFCM: NON-DROP FRAME\n")
    assert "empty" in refused(path)


def test_truncated_xml(timeline_fixtures, tmp_path):
    data = (timeline_fixtures / "premiere_example.xml").read_bytes()
    path = tmp_path / "cut_short.xml"
    path.write_bytes(data[: len(data) // 2])
    assert "cut_short.xml" in refused(path)


def test_truncated_fcpxml(timeline_fixtures, tmp_path):
    data = (timeline_fixtures / "fcpx_project.fcpxml").read_bytes()
    path = tmp_path / "cut_short.fcpxml"
    path.write_bytes(data[: len(data) // 3])
    assert "cut_short.fcpxml" in refused(path)


def test_truncated_otio(timeline_fixtures, tmp_path):
    data = (timeline_fixtures / "simple_cut.otio").read_bytes()
    path = tmp_path / "cut_short.otio"
    path.write_bytes(data[: len(data) // 2])
    assert "cut_short.otio" in refused(path)


def test_latin1_bytes_in_otio(tmp_path):
    path = tmp_path / "latin1.otio"
    path.write_bytes(b'{"OTIO_SCHEMA": "Timeline.1", "name": "caf\xe9", "tracks": ')
    assert "latin1.otio" in refused(path)


def test_zero_length_timeline(tmp_path):
    tl = otio.schema.Timeline(name="nothing")
    tl.tracks.append(otio.schema.Track(kind="Video"))
    path = tmp_path / "empty.otio"
    otio.adapters.write_to_file(tl, str(path))
    message = refused(path)
    assert "empty.otio" in message and "empty" in message


def test_timeline_of_zero_length_clips(tmp_path):
    tl = otio.schema.Timeline(name="zero")
    track = otio.schema.Track(kind="Video")
    track.append(otio.schema.Clip(name="z", source_range=TR(RT(0, 24), RT(0, 24))))
    tl.tracks.append(track)
    path = tmp_path / "zero.otio"
    otio.adapters.write_to_file(tl, str(path))
    assert "empty" in refused(path)


def test_unknown_timeline_name(timeline_fixtures):
    message = refused(timeline_fixtures / "simple_cut.otio", timeline="Reel 9")
    assert "Reel 9" in message and "Figure 1 - Simple Cut List" in message


def test_bad_rate(timeline_fixtures):
    with pytest.raises(TimelineError, match="positive"):
        load_otio(timeline_fixtures / "avid_example.edl", rate=0)


def test_clip_without_any_length(tmp_path):
    tl = otio.schema.Timeline(name="unknowable")
    track = otio.schema.Track(kind="Video")
    track.append(otio.schema.Clip(name="no range"))  # no source range, no media range
    tl.tracks.append(track)
    path = tmp_path / "unknowable.otio"
    otio.adapters.write_to_file(tl, str(path))
    assert "unknowable.otio" in refused(path)
