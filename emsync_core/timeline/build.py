"""Timelines made from cut lists: for raw videos, the demo, the benchmarks and tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from .edit import Edit, Scene


def timeline_from_cuts(
    cuts: Sequence[int],
    duration: int,
    rate: float = 24.0,
    name: str = "generated",
    start_timecode: str = "01:00:00:00",
    markers: Sequence[tuple[int, str]] = (),
) -> otio.schema.Timeline:
    """One video track, a clip per scene (each from its own media), markers on the timeline.

    Every clip has its own media reference, so each boundary is a real cut, never a through
    edit.
    """
    timeline = otio.schema.Timeline(name=name)
    timeline.global_start_time = otio.opentime.from_timecode(start_timecode, rate)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    edges = [0, *sorted(cuts), duration]
    for i, (start, end) in enumerate(zip(edges, edges[1:], strict=False)):
        span = otio.opentime.TimeRange(
            otio.opentime.RationalTime(1000 + start, rate),
            otio.opentime.RationalTime(end - start, rate),
        )
        media = otio.schema.ExternalReference(target_url=f"file:///media/shot_{i:04d}.mov")
        track.append(otio.schema.Clip(name=f"shot {i}", media_reference=media, source_range=span))
    for frame, text in markers:
        timeline.tracks.markers.append(
            otio.schema.Marker(
                name=text,
                marked_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(frame, rate), otio.opentime.RationalTime(0, rate)
                ),
            )
        )
    timeline.tracks.append(track)
    return timeline


def video_timeline(
    video: Path, duration: int, rate: Fraction, cuts: Sequence[int]
) -> tuple[Edit, otio.schema.Timeline]:
    """The `Edit` and OTIO timeline of a raw video whose cuts were detected from the picture.

    The timeline holds the whole video as one clip (it is one file, so its shots are not
    separate clips) with a "cut" marker on every detected cut, so an editor can see them.
    """
    spans = list(itertools.pairwise([0, *cuts, duration]))
    url = video.resolve().as_uri()
    scenes = tuple(
        Scene(i, a, b, f"{video.name} shot {i + 1}", str(video.resolve()), float(a / rate))
        for i, (a, b) in enumerate(spans)
    )
    edit = Edit(
        name=video.stem,
        rate=rate,
        duration=duration,
        cuts=tuple(cuts),
        scenes=scenes,
        media_paths=(str(video.resolve()),),
        source_path=str(video),
    )
    fps = float(rate)
    whole = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(duration, fps)
    )
    timeline = otio.schema.Timeline(name=video.stem)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    reference = otio.schema.ExternalReference(target_url=url, available_range=whole)
    track.append(otio.schema.Clip(name=video.name, media_reference=reference, source_range=whole))
    for frame in cuts:
        at = otio.opentime.TimeRange(
            otio.opentime.RationalTime(frame, fps), otio.opentime.RationalTime(0, fps)
        )
        timeline.tracks.markers.append(otio.schema.Marker(name="cut", marked_range=at))
    timeline.tracks.append(track)
    return edit, timeline
