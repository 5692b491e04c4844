"""Each cut rule of ARCHITECTURE.md on a small timeline built with the OpenTimelineIO API."""

from __future__ import annotations

import time
from fractions import Fraction

import opentimelineio as otio
import pytest

from emsync_core.timeline import Marker, Transition, edit_from_timeline, read

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


# --------------------------------------------------------------------------- builders


def clip(name, frames, start=0, rate=24, url=None, enabled=True, markers=()):
    ref = otio.schema.ExternalReference(target_url=url) if url else otio.schema.MissingReference()
    c = otio.schema.Clip(
        name=name,
        media_reference=ref,
        source_range=TR(RT(start, rate), RT(frames, rate)),
    )
    c.enabled = enabled
    for m in markers:
        c.markers.append(m)
    return c


def gap(frames, rate=24):
    return otio.schema.Gap(source_range=TR(RT(0, rate), RT(frames, rate)))


def track(*items, kind="Video", enabled=True, name=""):
    t = otio.schema.Track(name=name, kind=kind)
    t.enabled = enabled
    t.extend(items)
    return t


def timeline(*tracks, start=None, name="test"):
    tl = otio.schema.Timeline(name=name, global_start_time=start)
    tl.tracks.extend(tracks)
    return tl


def marker(name, frame, rate=24, note=""):
    m = otio.schema.Marker(name=name, marked_range=TR(RT(frame, rate), RT(0, rate)))
    m.comment = note
    return m


@pytest.fixture
def via_file(tmp_path):
    """Read a timeline the way users do: written to an .otio file, then read()."""

    def run(tl, **kwargs):
        path = tmp_path / "t.otio"
        otio.adapters.write_to_file(tl, str(path))
        return read(path, **kwargs)

    return run


def names(edit):
    return [s.name for s in edit.scenes]


# --------------------------------------------------------------------------- rules


def test_gaps_are_cuts(via_file):
    edit = via_file(timeline(track(clip("a", 10), gap(5), clip("b", 10))))
    assert edit.cuts == (10, 15)  # clip -> gap, gap -> clip
    assert names(edit) == ["a", "", "b"]
    assert edit.scenes[1].source_start_s is None and edit.scenes[1].media_path is None


def test_topmost_track_wins_where_it_has_a_clip(via_file):
    v1 = track(clip("low", 48, url="file:///m/low.mov"))
    v2 = track(gap(10), clip("high", 10), gap(28))
    edit = via_file(timeline(v1, v2))
    assert edit.cuts == (10, 20)
    assert names(edit) == ["low", "high", "low"]
    # "low" is uncovered at frame 20, 20 frames into its media
    assert edit.scenes[2].source_start_s == pytest.approx(20 / 24)
    assert edit.media_paths == ("/m/low.mov",)


def test_disabled_track_is_ignored(via_file):
    v1 = track(clip("low", 48))
    v2 = track(gap(10), clip("hidden", 10), enabled=False)
    edit = via_file(timeline(v1, v2))
    assert edit.cuts == ()
    assert names(edit) == ["low"]


def test_disabled_clip_is_ignored(via_file):
    alone = via_file(timeline(track(clip("a", 10), clip("off", 10, enabled=False), clip("c", 10))))
    assert alone.cuts == (10, 20)
    assert names(alone) == ["a", "", "c"]
    # a disabled clip on top lets the track below show through: no cut at all
    covered = via_file(
        timeline(track(clip("low", 30)), track(gap(10), clip("off", 10, enabled=False)))
    )
    assert covered.cuts == ()


def test_nested_stack_trimmed_padded_and_audio_ignored(via_file):
    inner_video = track(clip("x", 8, start=100), clip("y", 8))
    inner_audio = track(clip("music", 3), clip("music2", 20), kind="Audio")
    nested = otio.schema.Stack(name="compound", source_range=TR(RT(5, 24), RT(10, 24)))
    nested.extend([inner_video, inner_audio])
    padded = otio.schema.Stack(name="padded", source_range=TR(RT(0, 24), RT(20, 24)))
    padded.append(track(clip("z", 16)))
    edit = via_file(timeline(track(clip("a", 10), nested, clip("b", 10), padded)))
    # nested shows its frames 5..15: x 5-8 (3 frames), y 8-15 (7 frames); the audio edit at
    # nested frame 3 is ignored. "padded" shows z for 16 frames, then 4 frames of gap.
    assert edit.cuts == (10, 13, 20, 30, 46)
    assert names(edit) == ["a", "x", "y", "b", "z", ""]
    assert edit.scenes[1].source_start_s == pytest.approx((100 + 5) / 24)
    assert edit.duration == 50


def test_nested_track_inside_track(via_file):
    nested = track(clip("n1", 5), clip("n2", 5), name="compound")
    nested.source_range = TR(RT(2, 24), RT(6, 24))
    edit = via_file(timeline(track(clip("a", 4), nested, clip("b", 4))))
    assert edit.cuts == (4, 7, 10)  # n1 frames 2-5 (3 frames), n2 frames 5-8 (3 frames)
    assert names(edit) == ["a", "n1", "n2", "b"]


def test_through_edit_is_not_a_cut(via_file):
    url = "file:///m/shot.mov"
    edit = via_file(
        timeline(
            track(
                clip("shot", 10, start=0, url=url),
                clip("shot", 10, start=10, url=url),  # same media, continuous: through edit
                clip("shot", 10, start=40, url=url),  # same media, jump: a cut
                clip("other", 10, start=50, url="file:///m/other.mov"),
            )
        )
    )
    assert edit.cuts == (20, 30)
    assert [(s.start, s.end) for s in edit.scenes] == [(0, 20), (20, 30), (30, 40)]


def test_transition_cut_at_edit_point(via_file):
    dissolve = otio.schema.Transition(
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=RT(2, 24),
        out_offset=RT(3, 24),
    )
    edit = via_file(timeline(track(clip("a", 10), dissolve, clip("b", 10))))
    assert edit.cuts == (10,)
    assert edit.duration == 20  # transitions take no track time
    assert edit.transitions == (Transition(cut=10, start=8, end=13, kind="SMPTE_Dissolve"),)


def test_audio_only_timeline_uses_first_audio_track(via_file):
    a1 = track(clip("dialogue", 10), clip("more", 20), kind="Audio", name="A1")
    a2 = track(clip("music", 5), clip("music2", 25), kind="Audio", name="A2")
    edit = via_file(timeline(a1, a2))
    assert edit.cuts == (10,)
    assert len(edit.warnings) == 1 and "A1" in edit.warnings[0]


def test_empty_video_track_still_falls_back_to_audio(via_file):
    edit = via_file(timeline(track(), track(clip("dialogue", 10), clip("b", 5), kind="Audio")))
    assert edit.cuts == (10,)
    assert edit.warnings


@pytest.mark.parametrize(
    ("stored", "exact"),
    [
        (23.976, Fraction(24000, 1001)),
        (23.976023976023978, Fraction(24000, 1001)),
        (29.97, Fraction(30000, 1001)),
        (59.94, Fraction(60000, 1001)),
        (25.0, Fraction(25)),
    ],
)
def test_ntsc_rates_are_exact(via_file, stored, exact):
    edit = via_file(timeline(track(clip("a", 24, rate=stored), clip("b", 24, rate=stored))))
    assert edit.rate == exact
    assert edit.cuts == (24,)
    assert edit.cut_seconds[0] == float(Fraction(24) / exact)


def test_items_at_other_rates_are_rescaled(via_file):
    # 12 frames at 12 fps last as long as 24 frames at 24 fps
    edit = via_file(timeline(track(clip("a", 24), clip("half-rate", 12, rate=12), clip("c", 24))))
    assert edit.rate == 24
    assert edit.cuts == (24, 48)


def test_start_timecode_is_reported_not_added(via_file):
    tl = timeline(track(clip("a", 10), clip("b", 10)), start=RT(86400, 24))
    edit = via_file(tl)
    assert edit.start_timecode == "01:00:00:00"
    assert edit.cuts == (10,)
    drop = via_file(timeline(track(clip("a", 30, rate=29.97)), start=RT(107892, 29.97)))
    assert drop.start_timecode == "01:00:00;00"  # 29.97 timecode is drop-frame


def test_markers_on_timeline_track_and_clip(via_file):
    clip_b = clip(
        "b",
        10,
        start=100,
        markers=[marker("emotion: joy", 103, note="happy"), marker("unused", 50)],
    )
    v1 = track(clip("a", 10), clip_b)
    v1.markers.append(marker("track note", 7))
    tl = timeline(v1)
    tl.tracks.markers.append(marker("va: 0.4,-0.2", 5))
    edit = via_file(tl)
    assert edit.markers == (
        Marker(frame=5, duration=0, name="va: 0.4,-0.2", color="RED", scope="timeline"),
        Marker(frame=7, duration=0, name="track note", color="RED", scope="track"),
        # clip b sits at 10 and starts at source frame 100: source 103 -> frame 13
        Marker(frame=13, duration=0, name="emotion: joy", note="happy", color="RED", scope="clip"),
        # "unused" (source 50) is outside the part of b that is used: dropped
    )


def test_marker_inside_nested_clip(via_file):
    inner = clip("x", 20, start=0, markers=[marker("inside", 12)])
    nested = otio.schema.Stack(name="compound", source_range=TR(RT(10, 24), RT(10, 24)))
    nested.append(track(inner))
    edit = via_file(timeline(track(clip("a", 5), nested)))
    assert [(m.frame, m.name) for m in edit.markers] == [(7, "inside")]  # 5 + (12 - 10)


def test_freeze_frame_on_nested_item_holds_picture(via_file):
    nested = otio.schema.Stack(name="freeze", source_range=TR(RT(0, 24), RT(6, 24)))
    nested.append(track(clip("still", 1), clip("never shown", 5)))
    nested.effects.append(otio.schema.FreezeFrame())
    edit = via_file(timeline(track(clip("a", 4), nested, clip("b", 4))))
    assert edit.cuts == (4, 10)
    assert names(edit) == ["a", "still", "b"]


def test_edit_from_timeline_without_a_file():
    edit = edit_from_timeline(timeline(track(clip("a", 3), clip("b", 4)), name="in memory"))
    assert edit.name == "in memory" and edit.cuts == (3,) and edit.source_path is None


def test_several_timelines_in_one_otio_file(tmp_path):
    collection = otio.schema.SerializableCollection(name="bin")
    collection.append(timeline(track(clip("a", 5), clip("b", 5)), name="Reel 1"))
    collection.append(timeline(track(clip("c", 7), clip("d", 7)), name="Reel 2"))
    path = tmp_path / "reels.otio"
    otio.adapters.write_to_file(collection, str(path))
    first = read(path)
    assert (first.name, first.cuts, first.other_timelines) == ("Reel 1", (5,), ("Reel 2",))
    second = read(path, timeline="reel 2")  # names match case-insensitively as a fallback
    assert (second.name, second.cuts, second.other_timelines) == ("Reel 2", (7,), ("Reel 1",))


def test_rate_argument_ignored_for_formats_that_store_one(via_file):
    edit = via_file(timeline(track(clip("a", 3), clip("b", 4))), rate=25)
    assert edit.rate == 24
    assert any("ignored" in w for w in edit.warnings)


def test_fcpxml_with_xml_extension_is_sniffed(timeline_fixtures, tmp_path):
    copy = tmp_path / "resolve_export.xml"
    copy.write_bytes((timeline_fixtures / "fcpx_project.fcpxml").read_bytes())
    assert read(copy).cuts == read(timeline_fixtures / "fcpx_project.fcpxml").cuts


def test_clip_list_is_laid_end_to_end(tmp_path):
    path = tmp_path / "bin.ale"
    path.write_text(
        "Heading\nFIELD_DELIM\tTABS\nVIDEO_FORMAT\t1080\nFPS\t24\n\n"
        "Column\nName\tTape\tStart\tEnd\n\n"
        "Data\nclip1\tT1\t01:00:00:00\t01:00:01:00\nclip2\tT2\t01:00:00:00\t01:00:02:00\n"
    )
    edit = read(path)
    assert (edit.cuts, edit.duration) == ((24,), 72)
    assert [s.name for s in edit.scenes] == ["clip1", "clip2"]
    assert any("end to end" in w for w in edit.warnings)


def test_long_timeline_reads_fast(tmp_path):
    v1 = track(
        *(clip(f"c{i}", 10 + i % 5, start=i % 7, url=f"file:///m/{i}.mov") for i in range(5001))
    )
    a1 = v1.deepcopy()
    a1.kind = "Audio"
    path = tmp_path / "long.otio"
    otio.adapters.write_to_file(timeline(v1, a1), str(path))
    began = time.perf_counter()
    edit = read(path)
    elapsed = time.perf_counter() - began
    assert len(edit.cuts) == 5000
    assert elapsed < 2.0, f"reading 5,000 cuts took {elapsed:.2f} s"


# --------------------------------------------------------------------------- EDL specifics


EDL_HEADER = "TITLE: synthetic\nFCM: NON-DROP FRAME\n"


def write_edl(tmp_path, body, name="t.edl"):
    path = tmp_path / name
    path.write_text(EDL_HEADER + body)
    return path


def test_edl_locator_is_a_record_timecode(tmp_path):
    path = write_edl(
        tmp_path,
        "001  AX       V     C        05:00:00:00 05:00:01:00 01:00:00:00 01:00:01:00\n"
        "* FROM CLIP NAME:  a\n"
        "* LOC: 01:00:00:12 RED     emotion: joy\n"
        "002  BX       V     C        02:00:00:00 02:00:01:00 01:00:01:00 01:00:02:00\n"
        "* FROM CLIP NAME:  b\n",
    )
    edit = read(path)
    assert edit.cuts == (24,)
    assert [(m.frame, m.name) for m in edit.markers] == [(12, "emotion: joy")]


def test_edl_rate_argument_is_honoured(tmp_path):
    path = write_edl(
        tmp_path,
        "001  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n"
        "002  BX       V     C        00:00:00:00 00:00:01:00 00:00:01:00 00:00:02:00\n",
    )
    assert read(path).cuts == (24,)  # default 24 fps
    assert read(path, rate=30).cuts == (30,)
    ntsc = read(path, rate=23.976)
    assert ntsc.rate == Fraction(24000, 1001) and ntsc.cuts == (24,)


def test_edl_30fps_detected(tmp_path):
    path = write_edl(
        tmp_path,
        "001  AX       V     C        00:00:00:00 00:00:00:29 00:00:00:00 00:00:00:29\n"
        "002  BX       V     C        00:00:00:00 00:00:00:10 00:00:00:29 00:00:01:09\n",
    )
    edit = read(path)
    assert edit.rate == 30 and edit.cuts == (29,)
    assert any("30 fps" in w for w in edit.warnings)


def test_edl_overlapping_events_do_not_crash(tmp_path):
    path = write_edl(
        tmp_path,
        "001  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n"
        "002  BX       V     C        00:00:00:00 00:00:01:00 00:00:00:12 00:00:01:12\n",
    )
    edit = read(path)
    assert edit.cuts == (24,)
    assert any("overlap" in w for w in edit.warnings)
