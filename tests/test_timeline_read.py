"""Every real timeline file in tests/fixtures/timelines, with cuts worked out from the file.

Each expected value below was derived by reading the file itself (EDL record timecodes, XML
start/end/in/out, OTIO JSON ranges); the derivation is in the comment above each case.
Frames count from the timeline's first frame (frame 0), never from its start timecode.
"""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
import pytest

from emsync_core.errors import EmsyncError, TimelineError
from emsync_core.timeline import Edit, Transition, load_otio, read

# file -> (rate, duration in frames, start timecode, cuts)
EXPECTED: dict[str, tuple[Fraction, int, str, list[int]]] = {
    # Record (last two) timecodes at 24 fps, first record-in 00:59:53:11:
    # 001 00:59:53:11-00:59:54:18 = 1s07f = 31 frames; 002 00:59:54:18-00:59:56:20 = 50 frames.
    "avid_example.edl": (Fraction(24), 81, "00:59:53:11", [31]),
    # Same record timecodes as avid_example.edl (Premiere's export of the same cut).
    "premiere_example.edl": (Fraction(24), 81, "00:59:53:11", [31]),
    # 001 clip_A rec 01:00:00:00-00:09 (9 f); 002 C is a zero-length from-side; 002 D 010 clip_B
    # rec 00:09-00:19, a 10-frame dissolve starting at the edit point 9; 003 clip_B src
    # 01:00:08:18-08:19 continues 002's src 08:08-08:18 on the same reel: a through edit, so
    # frame 19 is not a cut. Length 01:00:00:20 - 01:00:00:00 = 20.
    "dissolve_test.edl": (Fraction(24), 20, "01:00:00:00", [9]),
    # 24 fps, record 00:00:00:00-00:01:00 (0-24), 00:01:16-00:02:16 (40-64),
    # 00:04:06-00:05:06 (102-126): black between them, so 24, 40, 64, 102 are all cuts.
    "gap_test.edl": (Fraction(24), 126, "00:00:00:00", [24, 40, 64, 102]),
    # 24 fps, record start 01:00:48:20. 001 48:20-53:06 = 4s10f = 106; 002 53:06-56:08 = 74
    # (106-180); 003 C zero length then 003 D 026 rec 56:08-59:09 = 73 (180-253), a 26-frame
    # dissolve from the edit point 180; 004 59:09-01:01:05:20 = 155 (253-408).
    "transition_duration.edl": (Fraction(24), 408, "01:00:48:20", [106, 180, 253]),
    # 24 fps, record start 01:00:00:00. 001 00:00-05:06 = 126; gap to 01:08:30:00 (frame 12240);
    # 002 M2 freeze 30:00-30:17 (12240-12257); 003 30:17-30:18 (12257-12258) src 10:20-10:21;
    # 004 30:18-31:12 (12258-12276) src restarts at 10:20, not continuous with 003's 10:21, so
    # a cut; gap to 01:11:31:16 (16600); 005 M2 47.6 fps 31:16-33:04 = 36 (16600-16636).
    "speed_effects_small.edl": (
        Fraction(24),
        16636,
        "01:00:00:00",
        [126, 12240, 12257, 12258, 12276, 16600],
    ),
    # Frame fields reach 24 (01:00:01:24), so 25 fps. Record: 00:00-06:11 = 161;
    # 06:11-14:11 = 200 (161-361); 14:11-17:22 = 86 (361-447); 17:22-19:21 = 49 (447-496).
    "25fps.edl": (Fraction(25), 496, "00:00:00:00", [161, 361, 447]),
    # 25 fps (frame 24 appears). Record side at 25 fps: 0,161,361,447; 004 rec 17:22-19:19 ends
    # at 494 (source says 49 frames, record 47); 005 rec starts 19:21 = 496, so 494-496 is
    # black; then 22:02=552, 23:03=578, 25:22=647, 28:01=701, 30:06=756, 33:22=847, 36:21=921,
    # 45:17=1142, 47:17=1192, 52:11=1311, 1:00:21=1521, 1:01:11=1536, 1:01:22=1547,
    # 1:02:11=1561, 1:09:01=1726, last record-out 1:11:14 = 1789.
    "timecode_mismatch.edl": (
        Fraction(25),
        1789,
        "00:00:00:00",
        [161, 361, 447, 494, 496, 552, 578, 647, 701, 756, 847, 921, 1142, 1192, 1311]
        + [1521, 1536, 1547, 1561, 1726],
    ),
    # AA channel only (tracks A1, A2): no picture. One event 00:00:00:00-00:56:55:22 at 24 fps
    # = 56*1440 + 55*24 + 22 = 81982 frames, no edit points.
    "multi_audio.edl": (Fraction(24), 81982, "00:00:00:00", []),
    # One track at 24: Clip-001 source 3 f, Clip-002 6 f, Clip-003 4 f, Clip-004 has no
    # source_range so its available range (6 f) -> 0-3, 3-9, 9-13, 13-19.
    "simple_cut.otio": (Fraction(24), 19, "00:00:00:00", [3, 9, 13]),
    # Same clip lengths as simple_cut (3, 6, 4, 6); the transition (in 2, out 3) between
    # Clip-002 and Clip-003 takes no track time: edit point 9, extent 7-12.
    "transition.otio": (Fraction(24), 19, "00:00:00:00", [3, 9, 13]),
    # Three video tracks at 24 (children[0] is the bottom one):
    #   V1 clip 0-720, gap 720-803, clip 803-1525, gap -1957, clip 1957-2677, gap -3282
    #   V2 gap 0-482, t-hawk 482-962, gap -3282
    #   V3 gap 0-1198, KOLL 1198-1838, gap -3282
    # Topmost visible: tech.fux 0-482, t-hawk 482-962, out-b 962-1198 (V1), KOLL 1198-1838,
    # black 1838-1957, brokchrd 1957-2677, black 2677-3282.
    "multitrack.otio": (Fraction(24), 3282, "00:00:00:00", [482, 962, 1198, 1838, 1957, 2677]),
    # One track at 24: Normal Clip 1 (238 f) 0-238; Nested Stack 1 (range 0+31 of a 37-frame
    # clip) 238-269; Normal Clip 2 (33) 269-302; Nested Stack 2 (29 f, time warp 0.8545: 29
    # frames show 24.8 frames of its 24-frame clip, no black) 302-331; Normal Clip 3 (63)
    # 331-394; Nested Track (4 f, freeze frame of a 1-frame clip: held) 394-398; Normal
    # Clip 4 (238) 398-636.
    "nested_example.otio": (Fraction(24), 636, "00:00:00:00", [238, 269, 302, 331, 394, 398]),
    # <sequence> timebase 24, timecode 01:00:00:00, one video track: gap 0-14,
    # A160C005 <start>14 <end>1069, gap 1069-1085, "/" <start>1085 <end>1324.
    "hiero_xml_export.xml": (Fraction(24), 1324, "01:00:00:00", [14, 1069, 1085]),
    # timebase 24 + ntsc TRUE = 24000/1001. V1 items start/end: 0-264, 264-383, 383-502
    # (generator "Blue Matte"), 502-621, 621-737, 737-856; V2 and V3 are empty.
    "premiere_generators.xml": (
        Fraction(24000, 1001),
        856,
        "00:00:00:00",
        [264, 383, 502, 621, 737],
    ),
    # timebase 30. Tracks bottom to top:
    #   V1 clip 536-636 (50 frames at its own timebase 15 = 100 frames at 30)
    #   V2 clip 13-113, clip 165-322, clip 322-557 with an end-black fade 538-557,
    #      nested sequence 636-956
    #   V3 title "test_title" 15-956
    #   V4 clip 956-(1164), center cross-dissolve 1152-1177, clip (1164)-1246; the edit
    #      point 1164 is where the A7 audio track cuts too (956-1164, 1164-1246).
    # Visible: black 0-13, V2 clip 13-15, title 15-956, V4 956-1164, 1164-1246, then black.
    # The end is the longest track: audio track 6 holds clip 956-1177 and a 94-frame clip
    # whose <start> is 1164; the fcp_xml adapter lays that clip end to end (1177 + 94), so
    # the timeline is 1271 frames (the XML's own <duration>636 is stale).
    "premiere_example.xml": (Fraction(30), 1271, "00:00:00:00", [13, 15, 956, 1164, 1246]),
    # FCPXML at frameDuration 100/3000s = 30 fps, spine in seconds (x30 for frames):
    #   IMG_0715 0-10s (0-300); gaps 10-80s with connected clips: lane 1 IMG_0513 20-30s
    #   (600-900); lane -1 clips hold only audio; lane 1 storyline at 50s: IMG_0268 9.5s
    #   (1500-1785), IMG_0740 9.5s (1785-2070); lane 2 IMG_0857 at 60s + 137 f (1937-2237);
    #   ref-clip compound_clip_1 80-110s from 109 f into the compound (IMG_0233 0-300, gap,
    #   lane 1 IMG_0268 600-900, gap): IMG_0233 2400-2591, black 2591-2891, IMG_0268
    #   2891-3191, black 3191-3300; IMG_0233 110-120s (3300-3600); IMG_0687 (3600-3900);
    #   IMG_0268 (3900-4200); compound from 57 f for 10s: IMG_0233 4200-4443, black 4443-4500.
    # Sequence duration 21602243/144000 s = 4500.47 frames -> 4500.
    "fcpx_project.fcpxml": (
        Fraction(30),
        4500,
        "00:00:00:00",
        [300, 600, 900, 1500, 1785, 1937, 2237, 2400, 2591, 2891, 3191, 3300]
        + [3600, 3900, 4200, 4443],
    ),
    # A library with one event holding two projects whose <sequence>s are identical to
    # fcpx_project.fcpxml's (only resource ids differ), so the same cuts.
    "fcpx_example.fcpxml": (
        Fraction(30),
        4500,
        "00:00:00:00",
        [300, 600, 900, 1500, 1785, 1937, 2237, 2400, 2591, 2891, 3191, 3300]
        + [3600, 3900, 4200, 4443],
    ),
}

# Files that must be refused with a clear message (a substring of it).
REFUSED = {
    # <sequence> with an empty <media>: no tracks at all, so nothing to score.
    "sample_just_track.xml": "empty",
    # Uses Marker.3 (schema newer than OTIO 0.18.1 knows, which is Marker.2).
    "screening_example.otio": "newer OpenTimelineIO",
}


def test_every_fixture_has_a_case(timeline_fixtures):
    licences = {"README.md", "LICENSE-Apache-2.0.txt", "NOTICE-OpenTimelineIO.txt"}
    files = {p.name for p in timeline_fixtures.iterdir() if p.name not in licences}
    assert files == set(EXPECTED) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_cuts(timeline_fixtures, name):
    rate, duration, start_tc, cuts = EXPECTED[name]
    edit = read(timeline_fixtures / name)
    assert isinstance(edit, Edit)
    assert edit.rate == rate
    assert edit.duration == duration
    assert edit.start_timecode == start_tc
    assert list(edit.cuts) == cuts
    # scenes tile the timeline exactly, one per span between cuts
    assert [(s.start, s.end) for s in edit.scenes] == list(
        zip([0, *cuts], [*cuts, duration], strict=True)
    )
    assert [s.index for s in edit.scenes] == list(range(len(cuts) + 1))
    assert edit.source_path == str(timeline_fixtures / name)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_fixture_refused(timeline_fixtures, name):
    with pytest.raises(TimelineError) as info:
        read(timeline_fixtures / name)
    assert REFUSED[name] in str(info.value)
    assert name in str(info.value)
    assert isinstance(info.value, EmsyncError)


def test_newer_otio_names_the_schema(timeline_fixtures):
    with pytest.raises(TimelineError, match=r"Marker\.3"):
        load_otio(timeline_fixtures / "screening_example.otio")


# --------------------------------------------------------------------------- details


def test_simple_cut_scenes(timeline_fixtures):
    edit = read(timeline_fixtures / "simple_cut.otio")
    assert [s.name for s in edit.scenes] == ["Clip-001", "Clip-002", "Clip-003", "Clip-004"]
    # target_url file:///folder/x.mov -> /folder/x.mov
    assert edit.media_paths == (
        "/folder/titles.mov",
        "/folder/wind-up.mov",
        "/folder/punchline.mov",
        "/folder/credits.mov",
    )
    # Clip-001 starts 3 frames into media whose available range starts at 0: 3/24 s.
    # Clip-004 uses its whole media, available from frame 100: 0 s into the file.
    assert edit.scenes[0].source_start_s == pytest.approx(3 / 24)
    assert edit.scenes[3].source_start_s == pytest.approx(0.0)
    assert edit.cut_seconds == (3 / 24, 9 / 24, 13 / 24)
    assert edit.warnings == ()


def test_transition_otio(timeline_fixtures):
    edit = read(timeline_fixtures / "transition.otio")
    # edit point 9 (Clip-002 ends), in_offset 2 before it, out_offset 3 after it
    assert edit.transitions == (Transition(cut=9, start=7, end=12, kind="SMPTE_Dissolve"),)


def test_edl_dissolves(timeline_fixtures):
    dissolve = read(timeline_fixtures / "dissolve_test.edl")
    # "002 D 010": a 10-frame dissolve that starts at the edit point (record 01:00:00:09)
    assert dissolve.transitions == (Transition(cut=9, start=9, end=19),)
    assert [s.name for s in dissolve.scenes] == ["clip_A", "clip_B"]  # 003 joined clip_B
    duration = read(timeline_fixtures / "transition_duration.edl")
    assert duration.transitions == (Transition(cut=180, start=180, end=206),)  # "D 026"


def test_gap_scenes_have_no_source(timeline_fixtures):
    edit = read(timeline_fixtures / "gap_test.edl")
    assert [s.name for s in edit.scenes] == ["shot1", "", "shot2", "", "shot3"]
    assert edit.scenes[1].source_start_s is None and edit.scenes[1].media_path is None
    # shot2 source in 23:00:00:00 (no media range known: the timecode itself)
    assert edit.scenes[2].source_start_s == pytest.approx(23 * 3600)


def test_avid_edl_media_paths(timeline_fixtures):
    edit = read(timeline_fixtures / "avid_example.edl")
    # "* FROM CLIP:" comments, not URLs: kept as written
    assert edit.media_paths == (
        r"S:\path\to\ZZ100_501.take_1.0001.exr",
        r"S:\path\to\ZZ100_502A.take_2.0101.exr",
    )
    assert [s.name for s in edit.scenes] == ["take_1", "take_2"]


def test_25fps_edl_rate_detected_or_given(timeline_fixtures):
    path = timeline_fixtures / "25fps.edl"
    detected = read(path)
    assert any("25 fps" in w for w in detected.warnings)
    given = read(path, rate=25)
    assert given.cuts == detected.cuts and given.rate == 25
    assert given.warnings == ()
    with pytest.raises(TimelineError, match="--rate"):
        read(path, rate=24)  # frame 24 cannot exist at 24 fps


def test_timecode_mismatch_warns_and_uses_record_side(timeline_fixtures):
    edit = read(timeline_fixtures / "timecode_mismatch.edl")
    mismatch = [w for w in edit.warnings if "record" in w]
    assert len(mismatch) == 1
    # 004: src 49 / rec 47, 005: 31 / 56, 009: 51 / 55, 010: 95 / 91 frames
    for event in ("004", "005", "009", "010"):
        assert event in mismatch[0]
    assert edit.scenes[4].name == "" and (edit.scenes[4].start, edit.scenes[4].end) == (494, 496)


def test_audio_only_edl_falls_back_with_warning(timeline_fixtures):
    edit = read(timeline_fixtures / "multi_audio.edl")
    assert any("no video" in w and "A1" in w for w in edit.warnings)
    assert [s.name for s in edit.scenes] == ["AX"]


def test_speed_effects_scene_names(timeline_fixtures):
    edit = read(timeline_fixtures / "speed_effects_small.edl")
    assert [s.name for s in edit.scenes] == [
        "Z677_4C (ANIM10)",
        "",
        "Z682_156 (LAY3)",
        "Z682_157 (LAY2) FF",
        "Z682_157 (LAY2)",
        "",
        "Z686_5A (LAY2) (47.56 FPS)",
    ]
    # the freeze frame holds source 01:00:10:21 for its 17 frames
    assert edit.scenes[2].source_start_s == pytest.approx(3610 + 21 / 24)


def test_multitrack_scene_sources(timeline_fixtures):
    edit = read(timeline_fixtures / "multitrack.otio")
    names = [s.name for s in edit.scenes]
    assert names == [
        "tech.fux (loop)-HD.mp4",
        "t-hawk (loop)-HD.mp4",
        "out-b (loop)-HD.mp4",
        "KOLL-HD.mp4",
        "",
        "brokchrd (loop)-HD.mp4",
        "",
    ]
    # out-b starts at 803 on V1 with source 0; it is uncovered at 962: 159 frames in
    assert edit.scenes[2].source_start_s == pytest.approx(159 / 24)


def test_nested_example_scenes(timeline_fixtures):
    edit = read(timeline_fixtures / "nested_example.otio")
    assert [s.name for s in edit.scenes] == [
        "Normal Clip 1",
        "Clip Inside A Stack 1",
        "Normal Clip 2",
        "Clip Inside A Stack 2",
        "Normal Clip 3",
        "Clip Inside A Track",
        "Normal Clip 4",
    ]
    # Clip Inside A Stack 1 has source start 373, the stack shows it from its frame 0
    assert edit.scenes[1].source_start_s == pytest.approx(373 / 24)


def test_hiero_xml(timeline_fixtures):
    edit = read(timeline_fixtures / "hiero_xml_export.xml")
    # pathurl file://localhost/A160R0MN/... -> /A160R0MN/...
    assert edit.media_paths == ("/A160R0MN/A160R0MN/A160C005_171213_R0MN.mxf",)
    assert [s.name for s in edit.scenes] == ["", "A160C005_171213_R0MN", "", "/"]


def test_premiere_xml_details(timeline_fixtures):
    edit = read(timeline_fixtures / "premiere_example.xml")
    assert [s.name for s in edit.scenes] == [
        "",
        "sc01_sh010_anim.mov",
        "test_title",
        "sc01_master_layerA_sh030_temp.mov",
        "sc01_sh010_anim.mov",
        "",
    ]
    # V4's center-aligned dissolve <start>1152 <end>1177 around the edit point 1164; V2's
    # end-black fade (538-557) is hidden under the title on V3, so it is not reported.
    assert edit.transitions == (Transition(cut=1164, start=1152, end=1177),)
    # file://localhost/D%3a/media/... -> D:/media/...
    assert edit.media_paths == (
        "D:/media/sc01_sh010_anim.mov",
        "D:/media/sc01_master_layerA_sh030_temp.mov",
    )
    # V4 first clip <in>34: 34 frames into its media
    assert edit.scenes[3].source_start_s == pytest.approx(34 / 30)
    # Sequence markers <in>113 "My MArker 1" (comment "so, this happened"), <in>492 "dsf",
    # <in>298 unnamed; clip marker <in>73 on the V2 clip that starts at 322 with <in>0 -> 395.
    assert [(m.frame, m.name, m.note, m.scope) for m in edit.markers] == [
        (113, "My MArker 1", "so, this happened", "timeline"),
        (298, "", "", "timeline"),
        (395, "", "", "clip"),
        (492, "dsf", "fsfsfs", "timeline"),
    ]


def test_premiere_generators_are_pictures(timeline_fixtures):
    edit = read(timeline_fixtures / "premiere_generators.xml")
    assert [s.name for s in edit.scenes] == [
        "Universal Counting Leader",
        "Black Video",
        "Blue Matte",
        "HD Bars and Tone",
        "Transparent Video",
        "Graphic",
    ]
    assert edit.media_paths == ()  # generators have no media files
    assert edit.seconds(264) == pytest.approx(264 * 1001 / 24000)


FCPX_MARKERS = [
    # name: frame derived from the FCPXML (30 fps)
    ("Marker 1", 180),  # on IMG_0715 (offset 0, start 0) at 6s
    ("Marker 5", 660),  # on lane-1 IMG_0513 at 20s, marker 2s
    ("Marker 2", 841),  # lane -1 IMG_0513: 20s + 0.983s + 7.039s = 840.7
    ("Marker 9", 1096),  # on the <gap> at 30s (start 3600s): 30s + 6.525s = 1095.8
    ("Marker 4", 1937),  # IMG_0740 at 1785, start 15 f, marker 167 f: 1785 + 152
    ("Marker 7", 2400),  # ref-clip at 80s, start 109 f, marker 109 f
    ("Marker 8", 2714),  # same ref-clip, marker 14.1s = 423 f: 2400 + 314
    # Marker 3 (1.947s) lies before its clip's start (3.572s): outside the used part.
]


@pytest.mark.parametrize("name", ["fcpx_project.fcpxml", "fcpx_example.fcpxml"])
def test_fcpx_markers(timeline_fixtures, name):
    edit = read(timeline_fixtures / name)
    got = [(m.name, m.frame) for m in edit.markers]
    assert [n for n, _ in got] == [n for n, _ in FCPX_MARKERS]
    for (_, frame), (_, expected) in zip(got, FCPX_MARKERS, strict=True):
        assert abs(frame - expected) <= 1
    # On the picture clip showing at that moment; else (a gap, audio) on the timeline.
    scopes = {m.name: m.scope for m in edit.markers}
    assert scopes["Marker 1"] == scopes["Marker 4"] == scopes["Marker 7"] == "clip"
    assert scopes["Marker 9"] == "timeline"


def test_fcpx_library_picks_first_and_lists_others(timeline_fixtures):
    path = timeline_fixtures / "fcpx_example.fcpxml"
    first = read(path)
    assert first.name == "OpenTimeline_Project"
    assert first.other_timelines == ("OpenTimeline_Project 1",)
    assert any("--timeline" in w for w in first.warnings)
    second = read(path, timeline="OpenTimeline_Project 1")
    assert second.name == "OpenTimeline_Project 1"
    assert second.other_timelines == ("OpenTimeline_Project",)
    assert second.cuts == first.cuts
    with pytest.raises(TimelineError) as info:
        read(path, timeline="Nope")
    assert "OpenTimeline_Project 1" in str(info.value) and "Nope" in str(info.value)


def test_load_otio_returns_a_real_timeline(timeline_fixtures):
    timeline, warnings, others = load_otio(timeline_fixtures / "25fps.edl")
    assert isinstance(timeline, otio.schema.Timeline)
    assert others == []
    assert warnings and "25 fps" in warnings[0]
    timeline, warnings, others = load_otio(timeline_fixtures / "simple_cut.otio")
    assert isinstance(timeline, otio.schema.Timeline) and warnings == [] and others == []
