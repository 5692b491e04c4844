"""Put the score back on the timeline: the input plus an "EMSYNC Score" audio track."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

SCORE_TRACK = "EMSYNC Score"


def add_score_track(
    timeline: otio.schema.Timeline, audio_path: Path, duration_frames: int, rate: Fraction
) -> otio.schema.Timeline:
    """A copy of `timeline` with the score on a new audio track from frame 0.

    A score track left by an earlier run is replaced, so re-scoring never stacks tracks.
    """
    scored = copy.deepcopy(timeline)
    for track in list(scored.tracks):
        if track.name == SCORE_TRACK and track.kind == otio.schema.TrackKind.Audio:
            scored.tracks.remove(track)
    span = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, float(rate)),
        otio.opentime.RationalTime(duration_frames, float(rate)),
    )
    reference = otio.schema.ExternalReference(
        target_url=Path(audio_path).resolve().as_uri(), available_range=span
    )
    track = otio.schema.Track(name=SCORE_TRACK, kind=otio.schema.TrackKind.Audio)
    track.append(otio.schema.Clip(name=SCORE_TRACK, media_reference=reference, source_range=span))
    scored.tracks.append(track)
    return scored


def write_otio(timeline: otio.schema.Timeline, path: Path) -> None:
    otio.adapters.write_to_file(timeline, str(path), adapter_name="otio_json")
