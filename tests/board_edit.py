"""A short edit for the scene board's tests: five shots of drawn video (22 s) in one OTIO
timeline with a `hit` marker, made in a second or two (emsync_core.demo draws the pictures)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import opentimelineio as otio

from emsync_core.demo import RATE, SHOTS, build_timeline, write_video

FRAMES = (96, 120, 72, 144, 96)  # 4 s, 5 s, 3 s, 6 s, 4 s at 24 fps
HIT_FRAME = 336  # 2 s into the fourth shot


def make_edit(folder: Path, name: str = "edit") -> Path:
    """folder/media/shots.mp4 and folder/<name>.otio; returns the timeline's path."""
    shots = tuple(replace(s, frames=f) for s, f in zip(SHOTS[:5], FRAMES, strict=False))
    (folder / "media").mkdir(parents=True, exist_ok=True)
    video = folder / "media" / "shots.mp4"
    write_video(video, shots)
    timeline = build_timeline(video, shots)
    # No mood markers (the page sets moods; a marker would win over it), one hit.
    timeline.tracks.markers[:] = [
        otio.schema.Marker(
            name="hit",
            marked_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(HIT_FRAME, RATE), otio.opentime.RationalTime(0, RATE)
            ),
        )
    ]
    path = folder / f"{name}.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path
