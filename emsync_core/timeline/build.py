"""Make a simple OTIO timeline from a cut list: for the demo, the benchmarks and tests."""

from __future__ import annotations

from collections.abc import Sequence

import opentimelineio as otio


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
