"""FCP 7 XML written back by adding the score to the input document (timeline/fcp7.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from emsync_core.timeline import fcp7, read_with_timeline
from emsync_core.timeline.write import SCORE_TRACK, write_scored

pytestmark = pytest.mark.filterwarnings("ignore")


def _canonical(root: ET.Element) -> list:
    return [
        (e.tag, sorted(e.attrib.items()), (e.text or "").strip())
        for e in root.iter()
        if isinstance(e.tag, str)
    ]


def stereo_pair(root: ET.Element, duration: int, url: str) -> tuple[ET.Element, list]:
    """The score as Premiere writes a stereo clip: two new audio tracks, one clip item each
    (channel 1 and 2 of the same file), linked to each other. (audio element, tracks)."""
    found = [
        (audio, t)
        for audio in root.iter("audio")
        for t in audio.findall("track")
        if [i.findtext("name") for i in t.findall("clipitem")] == [SCORE_TRACK]
    ]
    assert len(found) == 2 and found[0][0] is found[1][0], "two tracks in one <audio>"
    audio = found[0][0]
    all_tracks = audio.findall("track")
    items = [t.find("clipitem") for _, t in found]
    numbers = [all_tracks.index(t) + 1 for _, t in found]
    assert numbers[1] == numbers[0] + 1 == len(all_tracks)  # the last two, side by side
    file_id = items[0].find("file").get("id")
    for channel, (item, (_, track)) in enumerate(zip(items, found, strict=True), start=1):
        assert (item.findtext("start"), item.findtext("end")) == ("0", str(duration))
        assert item.findtext("sourcetrack/mediatype") == "audio"
        assert item.findtext("sourcetrack/trackindex") == str(channel)
        assert len(item.findall("rate")) == 1
        assert item.find("file").get("id") == file_id
        links = [
            (ln.findtext("linkclipref"), ln.findtext("trackindex"), ln.findtext("clipindex"))
            for ln in item.findall("link")
        ]
        assert links == [(i.get("id"), str(n), "1") for i, n in zip(items, numbers, strict=True)]
        assert track.get("premiereTrackType") == "Stereo"
        assert track.get("currentExplodedTrackIndex") == str(channel - 1)
    file = items[0].find("file")
    assert file.findtext("pathurl") == url
    assert file.findtext("media/audio/channelcount") == "2"
    assert file.findtext("media/audio/samplecharacteristics/depth") == "24"
    assert file.findtext("media/audio/samplecharacteristics/samplerate") == "48000"
    assert list(items[1].find("file")) == []  # by reference, as Premiere does
    return audio, [t for _, t in found]


@pytest.mark.parametrize(
    "name", ["premiere_example.xml", "premiere_generators.xml", "hiero_xml_export.xml"]
)
def test_everything_but_the_score_tracks_is_the_input(timeline_fixtures, tmp_path, name):
    edit, timeline = read_with_timeline(timeline_fixtures / name)
    wav = tmp_path / "out" / "score.wav"
    written = write_scored(edit, wav, tmp_path / "out" / "x.scored.xml", timeline=timeline)
    main = written.files[0]
    assert main.suffix == ".xml" and not written.messages
    root = ET.fromstring(main.read_text(encoding="utf-8"))
    audio, tracks = stereo_pair(root, edit.duration, wav.resolve().as_uri())
    for track in tracks:
        audio.remove(track)
    assert _canonical(root) == _canonical(ET.parse(timeline_fixtures / name).getroot())


@pytest.mark.parametrize("name", ["premiere_example.edl", "gap_test.edl"])
def test_an_edl_comes_back_as_fcp7_xml_with_a_stereo_score(timeline_fixtures, tmp_path, name):
    """OTIO's writer gave the score one clip item, two <rate>s and an empty audio media
    description; it is now added the way an FCP 7 XML input gets it."""
    edit, timeline = read_with_timeline(timeline_fixtures / name)
    wav = tmp_path / "out" / "score.wav"
    written = write_scored(edit, wav, tmp_path / "out" / "x.scored.edl", timeline=timeline)
    main = written.files[0]
    assert main.suffix == ".xml"
    stereo_pair(ET.parse(main).getroot(), edit.duration, wav.resolve().as_uri())
    back, _ = read_with_timeline(main, rate=float(edit.rate))
    assert back.cuts == edit.cuts and back.duration == edit.duration


def test_scoring_twice_keeps_one_score_pair(timeline_fixtures):
    text = (timeline_fixtures / "premiere_example.xml").read_text(encoding="utf-8")
    once = fcp7.add_score(text, "file:///a/score.wav", 100)
    twice = fcp7.add_score(once, "file:///b/score.wav", 120)
    root = ET.fromstring(twice)
    items = [i for i in root.iter("clipitem") if i.findtext("name") == SCORE_TRACK]
    assert len(items) == 2 and {i.findtext("end") for i in items} == {"120"}
    assert "file:///a/score.wav" not in twice
    stereo_pair(root, 120, "file:///b/score.wav")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("<xmeml version='5'/>", "no sequence"),
        ("<fcpxml/>", "not <xmeml>"),
        ("<xmeml", "malformed"),
    ],
)
def test_refuses_what_it_cannot_follow(bad, message):
    with pytest.raises(fcp7.Fcp7Error, match=message):
        fcp7.add_score(bad, "file:///s.wav", 10)
