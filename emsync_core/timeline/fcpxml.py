"""Final Cut Pro X XML (FCPXML 1.3 and later) to OpenTimelineIO, read by EMSYNC itself.

Why not OTIO's fcpx_xml adapter for reading: it ignores the sequence's start timecode (a
project starting at 01:00:00:00 arrives with an hour of black before the first shot), drops
titles, generators, multicam and synchronized clips, finds no media in FCPXML 1.10+
(`<media-rep>`), and truncates frame rates (23.976 read as 23 fps; OTIO issue #903).

FCPXML in one paragraph. `resources` hold formats (frame duration), assets (media files),
media (compound clips, multicam clips) and effects (titles, generators). A project's
`sequence` holds a `spine`, the primary storyline: story elements one after another. Every
story element has `offset` (where it sits in its parent's time), `start` (where its own time
begins, default 0) and `duration`; its own time t is at `offset + (t - start)` in its parent.
Children with a `lane` are connected: positive lanes above the storyline, negative below; a
`spine` with a lane is a secondary storyline. The sequence's time starts at `tcStart`.

The result is one OTIO timeline per project: a video track per lane (higher lanes later, so
on top), audio tracks after them, transitions on their spine's track, and every marker on the
timeline's stack in timeline time. Retiming (`timeMap`) changes only where source media is
read, not where anything sits, so it is not needed for cuts and is ignored.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction

import opentimelineio as otio

from emsync_core import defaults
from emsync_core.timeline import fcpxml_dtd
from emsync_core.timeline.timebase import DROP_FRAME_KEY, exact_rate

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange

# Story elements that show something (or hold things that do); anything else is ignored.
_STORY = {
    "asset-clip", "clip", "sync-clip", "ref-clip", "mc-clip", "title", "video", "audio",
    "gap", "spine",
}  # fmt: skip
_MARKERS = {"marker", "chapter-marker"}


class FcpxmlError(ValueError):
    """The document is XML but not an FCPXML timeline we can follow (the message says why)."""


@dataclass(frozen=True)
class _Place:
    """Where an element's own time lands: timeline seconds = t + shift, visible in [lo, hi).
    Connected items hang off it freely but stay inside [bound_lo, bound_hi): the sequence, or
    the clip whose contents they are (a compound clip, a clip, a multicam angle)."""

    shift: Fraction
    lo: Fraction
    hi: Fraction
    bound_lo: Fraction
    bound_hi: Fraction
    lane: int
    enabled: bool

    def contents(self) -> _Place:
        """The place for what is inside this element: everything clipped to its window."""
        return replace(self, bound_lo=self.lo, bound_hi=self.hi)


@dataclass(frozen=True)
class _Item:
    lane: int
    start: Fraction  # timeline seconds from the sequence start
    end: Fraction
    name: str
    video: bool
    audio: bool
    enabled: bool
    url: str | None  # media file URL
    source: Fraction  # media time (seconds) at `start`
    available: tuple[Fraction, Fraction] | None  # media start, duration
    generator: str | None  # effect name of a title or generator
    marks: tuple[_Mark, ...] = ()  # markers on the clip this item shows


@dataclass(frozen=True)
class _Transition:
    lane: int
    start: Fraction
    end: Fraction
    name: str


@dataclass(frozen=True)
class _Mark:
    at: Fraction
    duration: Fraction
    name: str
    note: str
    completed: str | None


def seconds(value: str | None, default: Fraction = Fraction(0)) -> Fraction:
    """An FCPXML time ("0s", "5s", "1001/24000s", "3.5s") in exact seconds."""
    if value is None or not value.strip():
        return default
    text = value.strip().removesuffix("s")
    try:
        if "/" in text:
            num, den = text.split("/")
            return Fraction(int(num), int(den))
        return Fraction(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise FcpxmlError(f"'{value}' is not an FCPXML time") from exc


def read_fcpxml(text: str) -> otio.core.SerializableObject:
    """Every project in an FCPXML document as OTIO timelines (a collection when several);
    a document without projects gives its event clips, as a collection of clips."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FcpxmlError(f"the XML is malformed ({exc})") from exc
    if root.tag != "fcpxml":
        raise FcpxmlError(f"the document is <{root.tag}>, not <fcpxml>")
    doc = _Document(root)
    timelines = [doc.timeline(p) for p in root.iter("project") if p.find("sequence") is not None]
    if len(timelines) == 1:
        return timelines[0]
    if timelines:
        return otio.schema.SerializableCollection(name="fcpxml", children=timelines)
    return otio.schema.SerializableCollection(name="fcpxml", children=doc.event_clips())


class _Document:
    def __init__(self, root: ET.Element) -> None:
        self.resources: dict[str, ET.Element] = {}
        for resources in root.iter("resources"):
            for element in resources:
                self.resources.setdefault(element.get("id", ""), element)
        self.root = root

    # ------------------------------------------------------------------ resources

    def _resource(self, ref: str | None, tag: str | None = None) -> ET.Element | None:
        found = self.resources.get(ref or "")
        return found if found is not None and (tag is None or found.tag == tag) else None

    def frame_rate(self, format_id: str | None) -> Fraction:
        fmt = self._resource(format_id, "format")
        if fmt is None or fmt.get("frameDuration") is None:
            raise FcpxmlError(f"format '{format_id}' has no frameDuration")
        duration = seconds(fmt.get("frameDuration"))
        if duration <= 0:
            raise FcpxmlError(f"format '{format_id}' has frameDuration {duration}")
        return exact_rate(float(1 / duration))

    def media_url(self, asset: ET.Element) -> str | None:
        if asset.get("src"):
            return asset.get("src")
        reps = asset.findall("media-rep")
        original = [r for r in reps if r.get("kind", "original-media") == "original-media"]
        for rep in original or reps:
            if rep.get("src"):
                return rep.get("src")
        return None

    # ------------------------------------------------------------------ timelines

    def timeline(self, project: ET.Element) -> otio.schema.Timeline:
        sequence = project.find("sequence")
        name = project.get("name", "")
        rate = self.frame_rate(sequence.get("format"))
        tc_start = seconds(sequence.get("tcStart"))
        length = seconds(sequence.get("duration"))
        items: list[_Item] = []
        transitions: list[_Transition] = []
        marks: list[_Mark] = []
        spine = sequence.find("spine")
        if spine is not None:
            end = length if length > 0 else Fraction(10**9)
            top = _Place(-tc_start, Fraction(0), end, Fraction(0), end, 0, True)
            self._spine(spine, top, items, transitions, marks)
        timeline = otio.schema.Timeline(
            name=name, global_start_time=RT(float(tc_start * rate), float(rate))
        )
        if sequence.get("tcFormat") in ("DF", "NDF"):
            timeline.metadata[DROP_FRAME_KEY] = sequence.get("tcFormat") == "DF"
        _build_tracks(timeline, items, transitions, marks, rate, length)
        return timeline

    def event_clips(self) -> list[otio.schema.Clip]:
        """Clips in events (a bin export): each with its own range, in document order."""
        clips = []
        for event in self.root.iter("event"):
            for element in event:
                if element.tag in _STORY - {"spine", "gap"}:
                    found: list[_Item] = []
                    start = seconds(element.get("start"))
                    end = seconds(element.get("duration"))
                    place = _Place(-start, Fraction(0), end, Fraction(0), end, 0, True)
                    self._element(element, place, found, [], [], own=True)
                    if found:
                        rate = self._clip_rate(element)
                        clips.append(_clip(found[0], rate, found[0].start))
        return clips

    def _clip_rate(self, element: ET.Element) -> Fraction:
        asset = self._resource(element.get("ref"), "asset")
        for fmt in (element.get("format"), asset.get("format") if asset is not None else None):
            if fmt and self._resource(fmt, "format") is not None:
                return self.frame_rate(fmt)
        return Fraction(24)

    # ------------------------------------------------------------------ the walk

    def _spine(self, spine, place, items, transitions, marks) -> None:
        for child in spine:
            if child.tag == "transition":
                start = place.shift + seconds(child.get("offset"))
                end = start + seconds(child.get("duration"))
                transitions.append(_Transition(place.lane, start, end, child.get("name", "")))
            elif child.tag in _STORY:
                self._element(child, place, items, transitions, marks)

    def _element(self, el, parent: _Place, items, transitions, marks, own: bool = False) -> None:
        """Place `el`, a story element inside `parent` (own=True: `parent` is its own place)."""
        if own:
            here = parent
        else:
            offset, start = seconds(el.get("offset")), seconds(el.get("start"))
            at = parent.shift + offset
            lane = parent.lane + int(el.get("lane", "0") or 0)
            enabled = parent.enabled and el.get("enabled", "1") != "0"
            connected = "lane" in el.attrib  # hangs off its parent, not clipped by it
            lo, hi = (parent.bound_lo, parent.bound_hi) if connected else (parent.lo, parent.hi)
            if el.tag == "spine":  # a secondary storyline: sequential, no start or end of its own
                here = _Place(at, lo, hi, parent.bound_lo, parent.bound_hi, lane, enabled)
                self._spine(el, here, items, transitions, marks)
                return
            end = at + seconds(el.get("duration"))
            lo, hi = max(at, lo), min(end, hi)
            here = _Place(at - start, lo, hi, parent.bound_lo, parent.bound_hi, lane, enabled)
        if here.hi <= here.lo and el.tag != "gap":
            return
        first = len(items)
        self._content(el, here, items, transitions, marks)
        for child in el:
            if child.tag in _MARKERS:
                at = here.shift + seconds(child.get("start"))
                if here.lo <= at < here.hi:
                    _attach(_mark(child, at), items, first, here.lane, marks)
            elif "lane" in child.attrib and child.tag in _STORY:
                self._element(child, here, items, transitions, marks)

    def _content(self, el, here: _Place, items, transitions, marks) -> None:
        """What `el` itself shows (its connected children are placed by the caller)."""
        tag = el.tag
        name = el.get("name", "")
        if tag in ("asset-clip", "video", "audio"):
            asset = self._resource(el.get("ref"), "asset")
            if asset is not None:
                items.append(self._media_item(el, asset, here, name, tag))
            elif tag == "video":  # a generator: <video ref="(an effect)">
                items.append(self._generator(el, here, name))
        elif tag == "title":
            items.append(self._generator(el, here, name))
        elif tag in ("clip", "sync-clip"):
            found: list[_Item] = []
            own = [c for c in el if c.tag in _STORY and "lane" not in c.attrib]
            for child in own:
                self._element(child, here.contents(), found, transitions, marks)
            if not any(i.video for i in found):
                # OTIO's own FCPXML writer puts the source range on the clip and leaves its
                # <video> at offset 0, outside it: read such a clip as showing that media.
                for child in own:
                    asset = self._resource(child.get("ref"), "asset")
                    if child.tag in ("video", "asset-clip") and asset is not None:
                        found.append(self._media_item(child, asset, here, name, child.tag))
                        break
            # The editor sees the clip, so its name wins over what is inside.
            items += [replace(i, name=name or i.name) for i in found]
        elif tag == "ref-clip":
            media = self._resource(el.get("ref"), "media")
            sequence = media.find("sequence") if media is not None else None
            if sequence is None or sequence.find("spine") is None:
                raise FcpxmlError(f"compound clip '{name}' refers to missing media")
            found = []
            self._spine(sequence.find("spine"), here.contents(), found, transitions, marks)
            audio_only = el.get("srcEnable") == "audio"
            items += [replace(i, video=i.video and not audio_only) for i in found]
        elif tag == "mc-clip":
            angle = self._active_angle(el)
            if angle is not None:
                for child in angle:
                    if child.tag in _STORY:
                        found = []
                        self._element(child, here.contents(), found, transitions, marks)
                        items += [replace(i, name=name or i.name) for i in found]

    def _active_angle(self, el: ET.Element) -> ET.Element | None:
        media = self._resource(el.get("ref"), "media")
        multicam = media.find("multicam") if media is not None else None
        if multicam is None:
            raise FcpxmlError(f"multicam clip '{el.get('name', '')}' refers to missing media")
        wanted = None
        for source in el.findall("mc-source"):
            if source.get("srcEnable", "all") in ("all", "video"):
                wanted = source.get("angleID")
        for angle in multicam.findall("mc-angle"):
            if angle.get("angleID") == wanted:
                return angle
        return None

    def _media_item(self, el, asset, here: _Place, name: str, tag: str) -> _Item:
        has_video = asset.get("hasVideo", "0") == "1" and tag != "audio"
        has_audio = asset.get("hasAudio", "0") == "1" and tag != "video"
        enable = el.get("srcEnable", "all")
        media_start = seconds(asset.get("start"))
        return _Item(
            lane=here.lane,
            start=here.lo,
            end=here.hi,
            name=name or asset.get("name", ""),
            video=has_video and enable in ("all", "video"),
            audio=has_audio and enable in ("all", "audio"),
            enabled=here.enabled,
            url=self.media_url(asset),
            source=here.lo - here.shift,
            available=(media_start, seconds(asset.get("duration"))),
            generator=None,
        )

    def _generator(self, el, here: _Place, name: str) -> _Item:
        effect = self._resource(el.get("ref"), "effect")
        kind = effect.get("name", "") if effect is not None else el.tag
        return _Item(
            here.lane, here.lo, here.hi, name or kind, True, False, here.enabled, None,
            here.lo - here.shift, None, kind,
        )  # fmt: skip


def _attach(mark: _Mark, items: list[_Item], first: int, lane: int, marks: list[_Mark]) -> None:
    """Put a clip's marker on the item it shows at that time (items[first:] are the clip's),
    so it is reported as a clip marker; else on the timeline."""
    for n in range(first, len(items)):
        item = items[n]
        if item.lane == lane and item.start <= mark.at < item.end:
            items[n] = replace(item, marks=(*item.marks, mark))
            return
    marks.append(mark)


def _mark(el: ET.Element, at: Fraction) -> _Mark:
    return _Mark(
        at,
        seconds(el.get("duration")),
        el.get("value", ""),
        el.get("note", ""),
        el.get("completed"),
    )


# ---------------------------------------------------------------------- OTIO building


def _build_tracks(timeline, items, transitions, marks, rate: Fraction, length: Fraction) -> None:
    video = [i for i in items if i.video]
    audio = [i for i in items if i.audio and not i.video]
    for kind, group in ((otio.schema.TrackKind.Video, video), (otio.schema.TrackKind.Audio, audio)):
        for lane, lane_items in _lanes(group):
            name = f"{'V' if kind == otio.schema.TrackKind.Video else 'A'} lane {lane}"
            lane_cuts = [t for t in transitions if t.lane == lane]
            timeline.tracks.append(_track(name, kind, lane_items, lane_cuts, rate))
    if not timeline.tracks or (video and length > max(i.end for i in video)):
        # The sequence runs on past its last picture (or has none): black to its end.
        track = next((t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video), None)
        if track is None:
            track = otio.schema.Track(name="V lane 0", kind=otio.schema.TrackKind.Video)
            timeline.tracks.insert(0, track)
        missing = _frames(length, rate) - track.duration().value
        if missing > 0:
            track.append(
                otio.schema.Gap(source_range=TR(RT(0, float(rate)), RT(missing, float(rate))))
            )
    for m in marks:
        timeline.tracks.markers.append(_marker(m, m.at, rate))


def _marker(m: _Mark, at: Fraction, rate: Fraction) -> otio.schema.Marker:
    """`m` as an OTIO marker at `at` seconds in its holder's time."""
    return otio.schema.Marker(
        name=m.name,
        marked_range=TR(
            RT(float(at * rate), float(rate)), RT(float(m.duration * rate), float(rate))
        ),
        color=_MARKER_COLOURS.get(m.completed, otio.schema.MarkerColor.PURPLE),
        comment=m.note,
    )


# FCP's own marker kinds: a to-do marker (completed 0) is red, a done one green.
_MARKER_COLOURS = {"0": otio.schema.MarkerColor.RED, "1": otio.schema.MarkerColor.GREEN}


def _lanes(items: list[_Item]) -> Iterator[tuple[int, list[_Item]]]:
    """Items per lane, lowest lane first; overlapping items in one lane (FCP avoids that, other
    tools may not) spill into extra tracks right above it."""
    for lane in sorted({i.lane for i in items}):
        rows: list[list[_Item]] = []
        for item in sorted((i for i in items if i.lane == lane), key=lambda i: (i.start, i.end)):
            row = next((r for r in rows if r[-1].end <= item.start), None)
            if row is None:
                rows.append(row := [])
            row.append(item)
        for row in rows:
            yield lane, row


def _track(
    name, kind, items: list[_Item], transitions: list[_Transition], rate
) -> otio.schema.Track:
    track = otio.schema.Track(name=name, kind=kind)
    pos = 0
    for item in items:
        start, end = _frames(item.start, rate), _frames(item.end, rate)
        if end <= start or end <= pos:
            continue
        start = max(start, pos)
        if start > pos:
            track.append(
                otio.schema.Gap(source_range=TR(RT(0, float(rate)), RT(start - pos, float(rate))))
            )
        edit = _transition_at(transitions, item.start)
        if edit is not None and track and isinstance(track[-1], otio.schema.Clip) and start == pos:
            into = item.start - edit.start
            track.append(
                otio.schema.Transition(
                    name=edit.name,
                    in_offset=RT(_frames(into, rate), float(rate)),
                    out_offset=RT(_frames(edit.end - edit.start - into, rate), float(rate)),
                )
            )
        track.append(
            _clip(
                item,
                rate,
                item.start + Fraction(start - _frames(item.start, rate)) / rate,
                end - start,
            )
        )
        pos = end
    return track


def _transition_at(transitions: list[_Transition], edit: Fraction) -> _Transition | None:
    """The transition that spans the edit point `edit` (FCP centres them on it by default)."""
    for t in transitions:
        if t.start < edit < t.end:
            return t
    return None


def _clip(item: _Item, rate: Fraction, at: Fraction, frames: int | None = None) -> otio.schema.Clip:
    if frames is None:
        frames = _frames(item.end, rate) - _frames(item.start, rate)
    source = item.source + (at - item.start)
    rng = TR(RT(float(source * rate), float(rate)), RT(frames, float(rate)))
    if item.url:
        available = None
        if item.available is not None and item.available[1] > 0:
            start, duration = item.available
            available = TR(
                RT(float(start * rate), float(rate)), RT(float(duration * rate), float(rate))
            )
        ref = otio.schema.ExternalReference(target_url=item.url, available_range=available)
    elif item.generator is not None:
        ref = otio.schema.GeneratorReference(name=item.generator, generator_kind=item.generator)
    else:
        ref = otio.schema.MissingReference()
    clip = otio.schema.Clip(name=item.name, media_reference=ref, source_range=rng)
    clip.enabled = item.enabled
    for m in item.marks:  # a clip's markers live in its source time
        clip.markers.append(_marker(m, item.source + (m.at - item.start), rate))
    return clip


def _frames(t: Fraction, rate: Fraction) -> int:
    """Seconds to whole frames (FCPXML times sit on frames; audio-only edits may not)."""
    return int((t * rate + Fraction(1, 2)) // 1)


# ---------------------------------------------------------------------- writing the score in


def add_score(
    text: str,
    audio_url: str,
    duration_frames: int,
    *,
    project: str | None = None,
    name: str = defaults.SCORE_TRACK,
    sample_rate: int = 48000,
    channels: int = 2,
) -> str:
    """The FCPXML document `text` with the score added to `project` (default the first):
    an audio asset, connected to the first item of the primary storyline that may hold one,
    from the timeline's first frame, on a lane below every other, in the element order the
    document's DTD version requires (fcpxml_dtd.py). Nothing else in the document changes
    (OTIO's FCPXML writer would rebuild it and lose titles, effects, roles and multicam
    clips). A score added by an earlier run is replaced."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True))
    try:
        root = ET.fromstring(text, parser=parser)
    except ET.ParseError as exc:
        raise FcpxmlError(f"the XML is malformed ({exc})") from exc
    projects = [p for p in root.iter("project") if p.find("sequence/spine") is not None]
    chosen = next((p for p in projects if p.get("name") == project), None)
    if chosen is None and projects:
        chosen = projects[0]
    if chosen is None:
        raise FcpxmlError("the document has no project with a storyline to add the score to")
    sequence = chosen.find("sequence")
    doc = _Document(root)
    frame = 1 / doc.frame_rate(sequence.get("format"))
    _remove_score(root, name)
    version = fcpxml_dtd.document_version(root)
    # The first item of the primary storyline that may hold a connected clip (an audition
    # may not), and where in its children the DTD lets one go: after what is already
    # anchored there, before its markers, audio-channel-source / sync-source, filters and
    # metadata (Final Cut writes audio-channel-source whenever audio channels are set).
    anchor, at_index = None, None
    for child in sequence.find("spine"):
        if child.tag in _STORY - {"spine"}:
            at_index = fcpxml_dtd.insertion_index(child, "asset-clip", version)
            if at_index is not None:
                anchor = child
                break
    if anchor is None:
        raise FcpxmlError(
            f"project '{chosen.get('name', '')}' has no storyline item to hold the score"
        )

    resources = root.find("resources")
    if resources is None:
        resources = ET.Element("resources")
        root.insert(0, resources)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    asset_id = next(f"emsync{n}" for n in range(1, len(ids) + 2) if f"emsync{n}" not in ids)
    duration = time_string(duration_frames * frame)
    asset = ET.SubElement(
        resources,
        "asset",
        {
            "id": asset_id,
            "name": name,
            "start": "0s",
            "duration": duration,
            "hasAudio": "1",
            "audioSources": "1",
            "audioChannels": str(channels),
            "audioRate": str(sample_rate),
        },
    )
    # FCPXML 1.8 names the file in `src`; from 1.9 the DTD has no `src` on an asset and
    # requires a <media-rep> child instead.
    if fcpxml_dtd.rules_version(version) >= (1, 9):
        ET.SubElement(asset, "media-rep", {"kind": "original-media", "src": audio_url})
    else:
        asset.set("src", audio_url)
    lanes = [int(e.get("lane")) for e in sequence.iter() if e.get("lane", "").lstrip("-").isdigit()]
    # The anchor's own time at the timeline's first frame (usually its start).
    at = (
        seconds(anchor.get("start"))
        + seconds(sequence.get("tcStart"))
        - seconds(anchor.get("offset"))
    )
    clip = ET.Element(
        "asset-clip",
        {
            "ref": asset_id,
            "lane": str(min([0, *lanes]) - 1),
            "offset": time_string(at),
            "name": name,
            "duration": duration,
            "audioRole": "music",
        },
    )
    anchor.insert(at_index, clip)
    # A carriage return the input wrote as &#13; (Premiere title text) must stay one: a
    # literal one would be read back as a line feed.
    body = ET.tostring(root, encoding="unicode").replace("\r", "&#13;")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n{body}\n'


def _remove_score(root: ET.Element, name: str) -> None:
    score_ids = {a.get("id") for a in root.iter("asset") if a.get("name") == name and a.get("id")}
    for parent in list(root.iter()):
        for child in list(parent):
            if child.get("id") in score_ids or (
                child.tag == "asset-clip" and child.get("ref") in score_ids
            ):
                parent.remove(child)


def time_string(t: Fraction) -> str:
    """Seconds as FCPXML writes them: "0s", "5s", "1001/24000s"."""
    if t.denominator == 1:
        return f"{t.numerator}s"
    return f"{t.numerator}/{t.denominator}s"
