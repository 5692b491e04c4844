"""The score added to a Final Cut Pro 7 XML (xmeml) document, everything else left as it was.

OTIO's FCP 7 XML writer rebuilds the document from the timeline it read, and on a Premiere
export it loses a lot: on `premiere_example.xml` 7 of 14 audio clips and 4 of 8 audio tracks,
all 57 A/V links, the transitions' parameters and one of five markers (counted element by
element). An editor importing that back would get a sequence with missing sound. So when the
input is FCP 7 XML, the score goes into the input document instead: one new audio track
holding one clip item, from the sequence's first frame.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from emsync_core import defaults

SCORE = defaults.SCORE_TRACK


class Fcp7Error(ValueError):
    """The document is not an FCP 7 XML sequence we can add a track to (the message says why)."""


def add_score(
    text: str,
    audio_url: str,
    duration_frames: int,
    *,
    sequence: str | None = None,
    sample_rate: int = 48000,
    channels: int = 2,
    depth: int = 24,
) -> str:
    """`text` with the score added to `sequence` (default the first top-level sequence) from
    its first frame, `duration_frames` long: one new audio track per channel of the WAV,
    each holding one clip item that plays that channel, linked to the others, as Premiere
    Pro writes a stereo clip (a single clip item would be read as channel 1 only: a mono
    score on the left). A score added by an earlier run is replaced."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True))
    try:
        root = ET.fromstring(text, parser=parser)
    except ET.ParseError as exc:
        raise Fcp7Error(f"the XML is malformed ({exc})") from exc
    if root.tag != "xmeml":
        raise Fcp7Error(f"the document is <{root.tag}>, not <xmeml>")
    top = _top_level_sequences(root)
    chosen = next((s for s in top if s.findtext("name") == sequence), top[0] if top else None)
    if chosen is None or chosen.find("media") is None:
        raise Fcp7Error("the document has no sequence with media to add the score to")
    media = chosen.find("media")
    audio = media.find("audio")
    if audio is None:
        audio = ET.SubElement(media, "audio")
    for track in audio.findall("track"):
        items = track.findall("clipitem")
        if items and all(i.findtext("name") == SCORE for i in items):
            audio.remove(track)
    rate = chosen.find("rate")
    if rate is None:
        raise Fcp7Error(f"sequence '{chosen.findtext('name', '')}' has no <rate>")
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    n = next(n for n in range(1, len(ids) + 2) if f"emsync-score-{n}" not in ids)
    # Tracks come before the audio element's output settings in Premiere's files; after the
    # last existing track is where an importer looks for them.
    tracks = [i for i, child in enumerate(audio) if child.tag == "track"]
    at = tracks[-1] + 1 if tracks else len(audio)
    first_track = len(tracks) + 1  # 1-based index of the first new track in the sequence
    wav = _Wav(f"emsync-score-{n}", audio_url, duration_frames, sample_rate, channels, depth)
    for channel in range(channels, 0, -1):
        audio.insert(at, _track(wav, channel, first_track, rate))
    # A carriage return the input wrote as &#13; (Premiere title text) must stay one: a
    # literal one would be read back as a line feed.
    body = ET.tostring(root, encoding="unicode").replace("\r", "&#13;")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n{body}\n'


def _top_level_sequences(root: ET.Element) -> list[ET.Element]:
    """Sequences that are not nested inside a clip item (nested sequences are clips' media)."""
    nested = {id(s) for item in root.iter("clipitem") for s in item.iter("sequence")}
    return [s for s in root.iter("sequence") if id(s) not in nested]


@dataclass(frozen=True)
class _Wav:
    ident: str
    url: str
    frames: int
    sample_rate: int
    channels: int
    depth: int


def _track(wav: _Wav, channel: int, first_track: int, rate: ET.Element) -> ET.Element:
    """The audio track for one channel of the score, as Premiere writes one half of a
    stereo clip: the file in full on channel 1's item and by reference on the others."""
    attrs = {}
    if wav.channels == 2:
        attrs = {
            "premiereTrackType": "Stereo",
            "currentExplodedTrackIndex": str(channel - 1),
            "totalExplodedTrackCount": "2",
        }
    track = ET.Element("track", attrs)
    item = ET.SubElement(
        track,
        "clipitem",
        {"id": f"{wav.ident}-ch{channel}"}
        | ({"premiereChannelType": "stereo"} if wav.channels == 2 else {}),
    )
    _text(item, "name", SCORE)
    _text(item, "enabled", "TRUE")
    _text(item, "duration", str(wav.frames))
    item.append(copy.deepcopy(rate))
    for tag, value in (("start", 0), ("end", wav.frames), ("in", 0), ("out", wav.frames)):
        _text(item, tag, str(value))
    file = ET.SubElement(item, "file", {"id": f"{wav.ident}-file"})
    if channel == 1:
        _text(file, "name", wav.url.rsplit("/", 1)[-1])
        _text(file, "pathurl", wav.url)
        file.append(copy.deepcopy(rate))
        _text(file, "duration", str(wav.frames))
        file_audio = ET.SubElement(ET.SubElement(file, "media"), "audio")
        characteristics = ET.SubElement(file_audio, "samplecharacteristics")
        _text(characteristics, "depth", str(wav.depth))
        _text(characteristics, "samplerate", str(wav.sample_rate))
        _text(file_audio, "channelcount", str(wav.channels))
    source = ET.SubElement(item, "sourcetrack")
    _text(source, "mediatype", "audio")
    _text(source, "trackindex", str(channel))  # which channel of the file this item plays
    for other in range(1, wav.channels + 1):
        link = ET.SubElement(item, "link")
        _text(link, "linkclipref", f"{wav.ident}-ch{other}")
        _text(link, "mediatype", "audio")
        _text(link, "trackindex", str(first_track + other - 1))
        _text(link, "clipindex", "1")
        _text(link, "groupindex", "1")
    _text(track, "enabled", "TRUE")
    _text(track, "locked", "FALSE")
    return track


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = value
    return element
