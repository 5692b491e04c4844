"""EMSYNC's own FCPXML reader and score writer (emsync_core/timeline/fcpxml.py).

The document below is built the way Final Cut Pro 10.6+ writes projects (FCPXML 1.10,
media in <media-rep>, a 01:00:00:00 start at 23.976 fps) and uses every story element an
editor meets: connected clips, a disabled one, a title, a transition, a multicam clip, a
synchronized clip, a secondary storyline hanging past its anchor, and a compound clip. The
expected cuts are worked out by hand in the comments.
"""

# ruff: noqa: E501 (the document below is laid out as Final Cut Pro writes it, one element a line)
from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from emsync_core.timeline import fcpxml, read, read_with_timeline
from emsync_core.timeline.write import SCORE_TRACK, write_scored

START = 86400  # 01:00:00:00 at 23.976 NDF, in frames


def t(frames: int) -> str:
    """`frames` at 23.976 fps as an FCPXML time."""
    return f"{frames * 1001}/24000s" if frames else "0s"


def at(frame: int) -> str:
    """Timeline frame `frame` (from the first frame) in the sequence's time."""
    return t(START + frame)


def asset(n: int, video: bool = True) -> str:
    ext = "mov" if video else "wav"
    return (
        f'<asset id="a{n}" name="A00{n}" start="0s" duration="{t(24000)}" '
        f'hasVideo="{int(video)}" hasAudio="1" format="r1">'
        f'<media-rep kind="original-media" src="file:///Volumes/Media/A00{n}.{ext}"/></asset>'
    )


DOC = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" name="FFVideoFormat1080p2398" frameDuration="1001/24000s"/>
    {asset(1)}{asset(2)}{asset(3)}{asset(4)}{asset(5, video=False)}
    <effect id="e1" name="Basic Title" uid=".../Basic Title.moti"/>
    <effect id="e2" name="Cross Dissolve" uid="FxPlug:4731E73A"/>
    <media id="m1" name="Multicam">
      <multicam format="r1">
        <mc-angle name="Cam A" angleID="A"><asset-clip ref="a1" offset="0s" duration="{t(9000)}"/></mc-angle>
        <mc-angle name="Cam B" angleID="B"><asset-clip ref="a3" offset="0s" duration="{t(9000)}"/></mc-angle>
      </multicam>
    </media>
    <media id="m2" name="Compound">
      <sequence format="r1" duration="{t(112)}">
        <spine>
          <asset-clip ref="a1" offset="0s" duration="{t(12)}"/>
          <asset-clip ref="a4" offset="{t(12)}" duration="{t(100)}"/>
        </spine>
      </sequence>
    </media>
  </resources>
  <library>
    <event name="Day 1">
      <project name="Cut 3">
        <sequence format="r1" duration="{t(360)}" tcStart="{at(0)}" tcFormat="NDF">
          <spine>
            <!-- 0-48 A001, its local time starting at media frame 24 -->
            <asset-clip ref="a1" offset="{at(0)}" name="Wide" start="{t(24)}" duration="{t(48)}">
              <!-- 12-24: a cutaway connected above (local 36 = timeline 12) -->
              <asset-clip ref="a2" lane="1" offset="{t(36)}" name="Cutaway" start="{t(100)}" duration="{t(12)}"/>
              <!-- disabled: never seen -->
              <asset-clip ref="a3" lane="2" offset="{t(54)}" name="Off" duration="{t(6)}" enabled="0"/>
              <marker start="{t(60)}" duration="{t(1)}" value="hit" note="door slams"/>
            </asset-clip>
            <!-- 48-72 a title on the storyline -->
            <title ref="e1" offset="{at(48)}" name="Opening" start="{t(86486)}" duration="{t(24)}">
              <text>EMSYNC</text>
            </title>
            <!-- 72-120 A002 -->
            <asset-clip ref="a2" offset="{at(72)}" name="Close" start="{t(500)}" duration="{t(48)}"/>
            <!-- a dissolve centred on 120 -->
            <transition name="Cross Dissolve" offset="{at(108)}" duration="{t(24)}">
              <filter-video ref="e2" name="Cross Dissolve"/>
            </transition>
            <!-- 120-168 multicam: camera B's picture, camera A's sound -->
            <mc-clip ref="m1" offset="{at(120)}" name="Multicam" start="{t(300)}" duration="{t(48)}">
              <mc-source angleID="A" srcEnable="audio"/>
              <mc-source angleID="B" srcEnable="video"/>
            </mc-clip>
            <!-- 168-216 synchronized clip: A004 picture, A005 sound below -->
            <sync-clip offset="{at(168)}" name="Synced" start="{t(0)}" duration="{t(48)}">
              <asset-clip ref="a4" offset="0s" duration="{t(48)}"/>
              <asset-clip ref="a5" lane="-1" offset="0s" duration="{t(48)}"/>
            </sync-clip>
            <!-- 216-264 a gap carrying a secondary storyline (216-240 A001, 240-276 A002):
                 it hangs 12 frames over the next clip, so the cut is at 276, not 264 -->
            <gap offset="{at(216)}" name="Gap" start="3600s" duration="{t(48)}">
              <spine lane="1" offset="3600s">
                <asset-clip ref="a1" offset="0s" name="Story 1" duration="{t(24)}"/>
                <asset-clip ref="a2" offset="{t(24)}" name="Story 2" duration="{t(36)}"/>
              </spine>
            </gap>
            <!-- 264-324 A003 (seen from 276) -->
            <asset-clip ref="a3" offset="{at(264)}" name="Reverse" duration="{t(60)}"/>
            <!-- 324-360 a compound clip: A001 for 12 frames, then A004 -->
            <ref-clip ref="m2" offset="{at(324)}" name="Compound" duration="{t(36)}"/>
          </spine>
        </sequence>
      </project>
    </event>
  </library>
</fcpxml>
"""

CUTS = (12, 24, 48, 72, 120, 168, 216, 240, 276, 324, 336)


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "cut3.fcpxml"
    path.write_text(DOC, encoding="utf-8")
    return path


def test_cuts_of_a_final_cut_pro_project(project):
    edit = read(project)
    assert edit.rate == Fraction(24000, 1001)
    assert edit.start_timecode == "01:00:00:00"
    assert edit.duration == 360
    assert edit.cuts == CUTS
    names = [s.name for s in edit.scenes]
    assert names[:5] == ["Wide", "Cutaway", "Wide", "Opening", "Close"]
    assert names[5] == "Multicam" and edit.scenes[5].media_path == "/Volumes/Media/A003.mov"
    assert (names[6], edit.scenes[6].media_path) == ("Synced", "/Volumes/Media/A004.mov")
    assert names[7:10] == ["Story 1", "Story 2", "Reverse"]
    assert [s.media_path for s in edit.scenes[10:]] == [
        "/Volumes/Media/A001.mov",
        "/Volumes/Media/A004.mov",
    ]


def test_source_times_markers_and_transitions(project):
    edit = read(project)
    # The cutaway starts at media frame 100; the multicam at multicam frame 300.
    assert edit.scenes[1].source_start_s == pytest.approx(100 * 1001 / 24000)
    assert edit.scenes[5].source_start_s == pytest.approx(300 * 1001 / 24000)
    assert edit.scenes[0].source_start_s == pytest.approx(24 * 1001 / 24000)
    [marker] = edit.markers
    assert (marker.frame, marker.name, marker.note, marker.scope) == (
        36,
        "hit",
        "door slams",
        "clip",
    )
    assert edit.hit_frames == (36,)
    [dissolve] = edit.transitions
    assert (dissolve.cut, dissolve.start, dissolve.end) == (120, 108, 132)


def test_score_is_added_to_the_document_and_nothing_else_changes(project, tmp_path):
    edit, timeline = read_with_timeline(project)
    wav = tmp_path / "score.wav"
    written = write_scored(edit, wav, tmp_path / "out" / "cut3.scored.fcpxml", timeline=timeline)
    main = written.files[0]
    assert main.suffix == ".fcpxml" and not written.messages
    back, back_timeline = read_with_timeline(main)
    assert back.cuts == CUTS and back.duration == 360 and back.markers == edit.markers
    scores = [
        tr for tr in back_timeline.tracks if [c.name for c in tr.find_clips()] == [SCORE_TRACK]
    ]
    assert len(scores) == 1 and scores[0].kind == "Audio"
    assert scores[0].range_in_parent().start_time.value == 0
    assert scores[0].duration().value == 360

    root = ET.fromstring(main.read_text(encoding="utf-8"))
    [clip] = [c for c in root.iter("asset-clip") if c.get("name") == SCORE_TRACK]
    assert fcpxml.seconds(clip.get("offset")) == fcpxml.seconds(t(24))  # anchor time at frame 0
    assert fcpxml.seconds(clip.get("duration")) == fcpxml.seconds(t(360))
    assert clip.get("lane") == "-2"
    [rep] = [r for a in root.iter("asset") if a.get("name") == SCORE_TRACK for r in a]
    assert rep.get("src") == wav.resolve().as_uri()

    # Everything else is the input, element for element.
    for parent in list(root.iter()):
        for child in list(parent):
            if child.get("name") == SCORE_TRACK:
                parent.remove(child)
    original = ET.fromstring(DOC)
    assert _canonical(root) == _canonical(original)


def test_scoring_twice_replaces_the_score(project, tmp_path):
    once = fcpxml.add_score(DOC, "file:///a/score.wav", 360)
    twice = fcpxml.add_score(once, "file:///b/score.wav", 360)
    root = ET.fromstring(twice)
    assert [a.get("id") for a in root.iter("asset") if a.get("name") == SCORE_TRACK] == ["emsync1"]
    assert len([c for c in root.iter("asset-clip") if c.get("name") == SCORE_TRACK]) == 1
    assert "file:///b/score.wav" in twice and "file:///a/score.wav" not in twice


@pytest.mark.parametrize(
    ("bad", "message"),
    [("<fcpxml version='1.10'><resources/></fcpxml>", "no project"), ("<fcpxml", "malformed")],
)
def test_add_score_refuses_what_it_cannot_follow(bad, message):
    with pytest.raises(fcpxml.FcpxmlError, match=message):
        fcpxml.add_score(bad, "file:///s.wav", 10)


def test_reader_refuses_other_xml():
    with pytest.raises(fcpxml.FcpxmlError, match="not <fcpxml>"):
        fcpxml.read_fcpxml("<xmeml version='5'/>")


def test_bad_frame_duration_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.fcpxml"
    path.write_text(DOC.replace('frameDuration="1001/24000s"', 'frameDuration="0s"'), "utf-8")
    from emsync_core.errors import TimelineError

    with pytest.raises(TimelineError, match="frameDuration"):
        read(path)


def _canonical(element: ET.Element) -> list:
    """Tags, attributes and text of a tree in document order (whitespace ignored)."""
    return [
        (e.tag, sorted(e.attrib.items()), (e.text or "").strip())
        for e in element.iter()
        if isinstance(e.tag, str)
    ]


def test_fcpxmld_bundle_reads_and_comes_back_as_fcpxml(tmp_path):
    bundle = tmp_path / "Cut 3.fcpxmld"
    bundle.mkdir()
    (bundle / "Info.fcpxml").write_text(DOC, encoding="utf-8")
    edit, timeline = read_with_timeline(bundle)
    assert edit.cuts == CUTS
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "out" / "Cut 3.scored.fcpxmld")
    assert written.files[0].name == "Cut 3.scored.fcpxml"
    assert any("one .fcpxml file" in m for m in written.messages)
    assert read(written.files[0]).cuts == CUTS


def test_relative_media_keeps_fcpxml_urls_absolute_and_says_so(project, tmp_path):
    edit, timeline = read_with_timeline(project)
    wav = tmp_path / "out" / "score.wav"
    written = write_scored(
        edit, wav, tmp_path / "out" / "cut3.scored.fcpxml", relative_media=True, timeline=timeline
    )
    text = written.files[0].read_text(encoding="utf-8")
    assert wav.resolve().as_uri() in text
    assert any("the score's is absolute" in m for m in written.messages)


def _fcpxml(frame_duration: str, frames: list[int], per_second: int) -> str:
    """An FCPXML 1.9 project as Final Cut Pro writes it: one spine of asset clips."""
    num, den = (int(x) for x in frame_duration.removesuffix("s").split("/"))

    def t(n: int) -> str:
        return f"{n * num}/{den}s" if n else "0s"

    clips, offset = [], 0
    for i, n in enumerate(frames):
        clips.append(
            f'<asset-clip ref="a{i % 2}" offset="{t(offset)}" name="c{i}" '
            f'start="{t(10 * i)}" duration="{t(n)}" format="f1"/>'
        )
        offset += n
    assets = "".join(
        f'<asset id="a{i}" name="m{i}" start="0s" duration="{t(per_second * 600)}" '
        f'hasVideo="1" format="f1"><media-rep kind="original-media" '
        f'src="file:///media/m{i}.mov"/></asset>'
        for i in range(2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n<fcpxml version="1.9">'
        f'<resources><format id="f1" name="FFVideoFormat1080p" frameDuration="{frame_duration}"'
        f' width="1920" height="1080"/>{assets}</resources>'
        '<library><event name="E"><project name="P">'
        f'<sequence format="f1" duration="{t(offset)}" tcStart="0s" tcFormat="NDF">'
        f"<spine>{''.join(clips)}</spine></sequence></project></event></library></fcpxml>"
    )


@pytest.mark.parametrize(
    ("frame_duration", "rate", "per_second"),
    [
        ("1001/24000s", Fraction(24000, 1001), 24),
        ("1001/30000s", Fraction(30000, 1001), 30),
        ("1001/60000s", Fraction(60000, 1001), 60),
        ("100/2400s", Fraction(24), 24),
        ("100/2500s", Fraction(25), 25),
    ],
)
def test_fcpxml_exact_rates(tmp_path, frame_duration, rate, per_second):
    # Upstream read 1001/24000s as 23 fps and truncated frame counts (OTIO issue #903).
    lengths = [37, 1, 250, 12, 4001]
    path = tmp_path / "p.fcpxml"
    path.write_text(_fcpxml(frame_duration, lengths, per_second), encoding="utf-8")
    from emsync_core.timeline import fcpxml_dtd

    assert fcpxml_dtd.problems(ET.parse(path).getroot()) == []  # a valid 1.9 document
    edit = read(path)
    assert edit.rate == rate
    assert edit.cuts == (37, 38, 288, 300)
    assert edit.duration == sum(lengths)


# ------------------------------------------------------------------ DTD content models


def _asset(version: str, n: int) -> str:
    """A video asset as the given FCPXML version writes it: `src` in 1.8, <media-rep> after."""
    url = f"file:///Volumes/Media/B00{n}.mov"
    attrs = (
        f'id="b{n}" name="B00{n}" start="0s" duration="600s" hasVideo="1" hasAudio="1" format="f"'
    )
    if version == "1.8":
        return f'<asset {attrs} src="{url}"/>'
    return f'<asset {attrs}><media-rep kind="original-media" src="{url}"/></asset>'


# The first storyline item in the forms Final Cut Pro writes: audio channels configured
# (audio-channel-source after the markers), a synchronized clip (sync-source), a clip with
# channels and a filter, a multicam clip (mc-source first). Each runs frames 0-48.
FIRST_ITEMS = {
    "plain": '<asset-clip ref="b1" offset="3600s" name="One" duration="2s"/>',
    "audio-channel-source": (
        '<asset-clip ref="b1" offset="3600s" name="One" start="10s" duration="2s">'
        '<adjust-volume amount="-3dB"/>'
        '<marker start="11s" duration="1/24s" value="hit"/>'
        '<audio-channel-source srcCh="1, 2" outCh="L, R" role="dialogue.dialogue-1"/>'
        '<metadata><md key="com.apple.proapps.studio.reel" value="1"/></metadata>'
        "</asset-clip>"
    ),
    "sync-source": (
        '<sync-clip offset="3600s" name="One" duration="2s" format="f" tcFormat="NDF">'
        '<asset-clip ref="b1" offset="0s" duration="2s" audioRole="dialogue"/>'
        '<marker start="1s" duration="1/24s" value="slate"/>'
        '<sync-source sourceID="storyline"><audio-role-source role="dialogue.dialogue-1"/>'
        "</sync-source></sync-clip>"
    ),
    "clip": (
        '<clip offset="3600s" name="One" duration="2s" format="f" tcFormat="NDF">'
        '<video ref="b1" offset="0s" duration="2s"/>'
        '<audio-channel-source srcCh="1, 2" role="dialogue"/>'
        '<filter-audio ref="fx" name="Channel EQ"/></clip>'
    ),
    "mc-clip": (
        '<mc-clip ref="mc" offset="3600s" name="One" duration="2s">'
        '<mc-source angleID="A" srcEnable="all"/></mc-clip>'
    ),
}


def _versioned(version: str, first: str) -> str:
    multicam = (
        '<media id="mc" name="Multi"><multicam format="f">'
        '<mc-angle name="A" angleID="A"><asset-clip ref="b1" offset="0s" duration="10s"/>'
        "</mc-angle></multicam></media>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n<fcpxml version="{version}">'
        '<resources><format id="f" name="FFVideoFormat1080p24" frameDuration="100/2400s"/>'
        f"{_asset(version, 1)}{_asset(version, 2)}{_asset(version, 3)}"
        '<effect id="fx" name="Channel EQ" uid="FFAUChannelEQ"/>'
        f"{multicam}</resources>"
        '<library><event name="Day"><project name="Reel">'
        '<sequence format="f" duration="6s" tcStart="3600s" tcFormat="NDF"><spine>'
        f"{FIRST_ITEMS[first]}"
        '<asset-clip ref="b2" offset="3602s" name="Two" duration="2s"/>'
        '<asset-clip ref="b3" offset="3604s" name="Three" duration="2s"/>'
        "</spine></sequence></project></event></library></fcpxml>\n"
    )


@pytest.mark.parametrize("first", sorted(FIRST_ITEMS))
@pytest.mark.parametrize("version", ["1.8", "1.9", "1.10", "1.11"])
def test_every_written_fcpxml_satisfies_the_dtd(tmp_path, version, first):
    from emsync_core.timeline import fcpxml_dtd

    text = _versioned(version, first)
    assert fcpxml_dtd.problems(ET.fromstring(text)) == []  # the input itself is valid
    path = tmp_path / "reel.fcpxml"
    path.write_text(text, encoding="utf-8")
    edit, timeline = read_with_timeline(path)
    assert edit.cuts == (48, 96) and edit.duration == 144
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "o" / "reel.scored.fcpxml")
    main = written.files[0]
    assert main.suffix == ".fcpxml" and not written.messages
    root = ET.parse(main).getroot()
    assert fcpxml_dtd.problems(root) == []
    [asset] = [a for a in root.iter("asset") if a.get("name") == SCORE_TRACK]
    if version == "1.8":
        assert asset.get("src") and not list(asset)
    else:
        assert "src" not in asset.attrib and [r.tag for r in asset] == ["media-rep"]
    back, back_timeline = read_with_timeline(main)
    assert back.cuts == edit.cuts and back.duration == 144
    [score] = [t for t in back_timeline.tracks if t.name and SCORE_TRACK in _names(t)]
    assert score.range_in_parent().start_time.value == 0 and score.duration().value == 144


def _names(track) -> list[str]:
    return [c.name for c in track.find_clips()]


def test_the_checker_catches_what_final_cut_refuses():
    from emsync_core.timeline import fcpxml_dtd

    # The score asset as the old writer made it for 1.9: `src`, no <media-rep>.
    old = _versioned("1.9", "plain").replace(
        "</resources>", '<asset id="s" name="EMSYNC Score" src="file:///s.wav"/></resources>'
    )
    found = fcpxml_dtd.problems(ET.fromstring(old))
    assert any("src not allowed" in p for p in found)
    assert any("media-rep+" in p for p in found)
    # attributes per version: auxVideoFlags from 1.10 on, an asset's src required in 1.8
    flagged = _versioned("1.10", "plain").replace('hasVideo="1"', 'hasVideo="1" auxVideoFlags="0"')
    assert fcpxml_dtd.problems(ET.fromstring(flagged)) == []
    assert fcpxml_dtd.problems(ET.fromstring(flagged.replace('"1.10"', '"1.9"')))
    no_src = _versioned("1.8", "plain").replace(' src="file:///Volumes/Media/B001.mov"', "")
    assert any("lacks src" in p for p in fcpxml_dtd.problems(ET.fromstring(no_src)))
    # A connected clip after audio-channel-source (where the old writer appended it).
    root = ET.fromstring(_versioned("1.10", "audio-channel-source"))
    first = root.find(".//spine/asset-clip")
    assert fcpxml_dtd.insertion_index(first, "asset-clip", (1, 10)) == 1  # after the volume
    ET.SubElement(first, "asset-clip", {"ref": "b2", "lane": "-1", "offset": "10s"})
    assert any("audio-channel-source" in p for p in fcpxml_dtd.problems(root))


def test_second_project_is_written_back_as_fcpxml(timeline_fixtures, tmp_path):
    """--timeline picks the second project: it comes back as FCPXML, scored there."""
    path = timeline_fixtures / "fcpx_example.fcpxml"
    edit, timeline = read_with_timeline(path, timeline="OpenTimeline_Project 1")
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "o" / "x.scored.fcpxml")
    assert written.files[0].suffix == ".fcpxml" and not written.messages
    root = ET.parse(written.files[0]).getroot()
    from emsync_core.timeline import fcpxml_dtd

    assert fcpxml_dtd.problems(root) == []
    [project] = [p for p in root.iter("project") if p.get("name") == "OpenTimeline_Project 1"]
    assert any(c.get("name") == SCORE_TRACK for c in project.iter("asset-clip"))
    back, _ = read_with_timeline(written.files[0], timeline="OpenTimeline_Project 1")
    assert back.cuts == edit.cuts


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("fcpx_example.fcpxml", None),  # Final Cut's own 1.8 documents, scored in place
        ("fcpx_project.fcpxml", None),
        ("simple_cut.otio", "fcpxml"),  # OTIO's writer (1.8), for other inputs
        ("multitrack.otio", "fcpxml"),
        ("gap_test.edl", "fcpxml"),
    ],
)
def test_fixtures_written_as_fcpxml_satisfy_the_dtd(timeline_fixtures, tmp_path, name, fmt):
    from emsync_core.timeline import fcpxml_dtd

    edit = read(timeline_fixtures / name)
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "x.scored.fcpxml", fmt=fmt)
    assert written.files[0].suffix == ".fcpxml"
    assert fcpxml_dtd.problems(ET.parse(written.files[0]).getroot()) == []
