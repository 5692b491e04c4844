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


@pytest.mark.parametrize(
    "name", ["premiere_example.xml", "premiere_generators.xml", "hiero_xml_export.xml"]
)
def test_everything_but_the_score_track_is_the_input(timeline_fixtures, tmp_path, name):
    edit, timeline = read_with_timeline(timeline_fixtures / name)
    wav = tmp_path / "out" / "score.wav"
    written = write_scored(edit, wav, tmp_path / "out" / "x.scored.xml", timeline=timeline)
    main = written.files[0]
    assert main.suffix == ".xml" and not written.messages
    root = ET.fromstring(main.read_text(encoding="utf-8"))
    tracks = [
        (audio, t)
        for audio in root.iter("audio")
        for t in audio.findall("track")
        if [i.findtext("name") for i in t.findall("clipitem")] == [SCORE_TRACK]
    ]
    [(audio, track)] = tracks
    item = track.find("clipitem")
    assert (item.findtext("start"), item.findtext("end")) == ("0", str(edit.duration))
    assert item.find("file/pathurl").text == wav.resolve().as_uri()
    audio.remove(track)
    assert _canonical(root) == _canonical(ET.parse(timeline_fixtures / name).getroot())


def test_scoring_twice_keeps_one_score_track(timeline_fixtures):
    text = (timeline_fixtures / "premiere_example.xml").read_text(encoding="utf-8")
    once = fcp7.add_score(text, "file:///a/score.wav", 100)
    twice = fcp7.add_score(once, "file:///b/score.wav", 120)
    root = ET.fromstring(twice)
    items = [i for i in root.iter("clipitem") if i.findtext("name") == SCORE_TRACK]
    assert len(items) == 1 and items[0].findtext("end") == "120"
    assert "file:///a/score.wav" not in twice


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
