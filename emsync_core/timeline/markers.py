"""Markers from the timeline, its tracks and its clips, moved to timeline frames.

OTIO stores a marker in the time of the object that holds it: a clip's markers are in its
source (media) time, a track's in track time. Each object therefore gets a `Place`, the linear
map from its own frames to timeline frames, built up as we walk down the tree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

import opentimelineio as otio

from emsync_core.timeline.edit import Marker
from emsync_core.timeline.picture import time_scalar
from emsync_core.timeline.timebase import frames_exact, round_half_up, to_frames


@dataclass(frozen=True)
class Place:
    """timeline frame = offset + scale * (frame in the object's own time), inside [lo, hi)."""

    # ints where possible: Fraction arithmetic is slow on long timelines
    offset: Fraction | int
    scale: Fraction | int
    lo: Fraction | int
    hi: Fraction | int

    def __call__(self, t: Fraction | int) -> Fraction | int:
        return self.offset + t if self.scale == 1 else self.offset + self.scale * t

    def child(self, pos: int, trim_start: Fraction | int, length: int, speed: Fraction) -> Place:
        """The place of an item at `pos` in this object, showing its own time from
        `trim_start` at `speed` for `length` frames."""
        lo, hi = max(self(pos), self.lo), min(self(pos + length), self.hi)
        if speed == 1:
            return Place(self(pos - trim_start), self.scale, lo, hi)
        if speed <= 0:  # a freeze frame: everything inside sits on its first frame
            return Place(self(pos), 0, lo, hi)
        return Place(self(pos - trim_start / speed), self.scale / speed, lo, hi)


def collect_markers(
    timeline: otio.schema.Timeline, rate: Fraction, duration: int, record_start: int
) -> list[Marker]:
    """All markers on enabled objects that fall inside the timeline, sorted by frame."""
    stack = timeline.tracks
    stack_start = frames_exact(stack.source_range.start_time, rate) if stack.source_range else 0
    top = Place(-stack_start, 1, 0, duration)
    found = list(_convert(stack, top, "timeline", rate, record_start))
    for child in stack:
        if not getattr(child, "enabled", True):
            continue
        if isinstance(child, otio.schema.Track):
            start = _track_start(child, rate)
            place = Place(top(-start), top.scale, top.lo, top.hi)
            found += _convert(child, place, "track", rate, record_start)
            found += _children(child, place, rate, record_start)
        elif isinstance(child, otio.core.Item):
            found += _item(child, top, 0, rate, record_start)
    return sorted(
        (m for m in found if 0 <= m.frame < duration),
        key=lambda m: (m.frame, m.scope, m.name),
    )


def _track_start(track: otio.schema.Track, rate: Fraction) -> Fraction | int:
    if track.source_range is None:
        return 0
    # negative: the CMX 3600 adapter's record start, not a trim (see picture._top_track_spans)
    return max(frames_exact(track.source_range.start_time, rate), 0)


def _children(
    comp: otio.core.Composition, place: Place, rate: Fraction, record_start: int
) -> Iterator[Marker]:
    stacked = isinstance(comp, otio.schema.Stack)  # stack children all start at frame 0
    pos = 0
    for child in comp:
        if not isinstance(child, otio.core.Item):
            continue  # transitions hold no markers we use
        length = to_frames(child.duration(), rate)
        if child.enabled:
            if stacked and isinstance(child, otio.schema.Track):
                inner = place.child(0, _track_start(child, rate), length, 1)
                yield from _convert(child, inner, "track", rate, record_start)
                yield from _children(child, inner, rate, record_start)
            else:
                yield from _item(child, place, pos, rate, record_start)
        if not stacked:
            pos += length


def _item(
    item: otio.core.Item, parent: Place, pos: int, rate: Fraction, record_start: int
) -> Iterator[Marker]:
    is_composition = isinstance(item, otio.core.Composition)
    if not is_composition and not item.markers:
        return  # the common case, skipped before any arithmetic
    length = to_frames(item.duration(), rate)
    trim_start = frames_exact(item.trimmed_range().start_time, rate)
    place = parent.child(pos, trim_start, length, time_scalar(item))
    yield from _convert(item, place, "clip", rate, record_start)
    if is_composition:
        yield from _children(item, place, rate, record_start)


def _convert(
    holder: otio.core.SerializableObjectWithMetadata,
    place: Place,
    scope: str,
    rate: Fraction,
    record_start: int,
) -> Iterator[Marker]:
    markers = holder.markers
    # Indexing, not iterating: ending an iteration over OTIO's list wrappers costs ~15 us.
    for i in range(len(markers)):
        m = markers[i]
        start = frames_exact(m.marked_range.start_time, rate)
        metadata = m.metadata
        if len(metadata) and "cmx_3600" in metadata:
            # EDL locators (* LOC:) carry a record timecode, not a source time.
            frame = round_half_up(start) - record_start
        else:
            at = place(start)
            if not place.lo <= at < place.hi:
                continue  # outside the part of its clip that is used
            frame = round_half_up(at)
        yield Marker(
            frame=frame,
            duration=to_frames(m.marked_range.duration, rate),
            name=m.name,
            note=_note(m),
            color=m.color or "",
            scope=scope,
        )


# Where adapters keep a marker's text when they do not use Marker.comment:
# FCP 7 XML {"fcp_xml": {"comment": ...}}, DaVinci Resolve {"Resolve_OTIO": {"Note": ...}}.
_NOTE_KEYS = ("comment", "Note", "note")


def _note(marker: otio.schema.Marker) -> str:
    if marker.comment:
        return marker.comment
    metadata = marker.metadata
    if not len(metadata):
        return ""
    for value in metadata.values():
        if isinstance(value, Mapping):
            for key in _NOTE_KEYS:
                if isinstance(value.get(key), str) and value[key]:
                    return value[key]
    return ""
