"""A demo the project makes itself: a short video, an edit of it, and its score.

The video is drawn with OpenCV (coloured shots with moving shapes and captions, no
third-party footage). The timeline uses part of each shot, out of order, so every boundary is
a real cut, and carries `emotion:` / `va:` markers that give the scenes an arc.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import opentimelineio as otio

from .errors import OutputError
from .pipeline import Deliverables, ScoreOptions, score

RATE = 24
SIZE = (640, 360)
_STAMP = ".emsync-demo"


@dataclass(frozen=True)
class Shot:
    label: str
    mood: str  # marker text, e.g. "emotion: joy" or "va: 0.3,-0.5"
    colour: tuple[int, int, int]  # BGR
    speed: float  # how fast the shapes move: calm shots drift, tense shots race
    frames: int  # length used in the edit


SHOTS = (
    Shot("Dawn over the harbour", "va: 0.4,-0.6", (160, 120, 60), 0.3, 132),
    Shot("Boats leave", "va: 0.5,-0.2", (170, 140, 70), 0.6, 84),
    Shot("Market, laughter", "emotion: joy", (60, 190, 240), 1.2, 108),
    Shot("Children run", "emotion: joy", (70, 200, 250), 1.6, 60),
    Shot("A letter arrives", "emotion: surprise", (200, 200, 230), 1.0, 54),
    Shot("Storm clouds", "emotion: fear", (90, 60, 50), 2.2, 96),
    Shot("The chase", "emotion: anger", (40, 40, 180), 3.0, 72),
    Shot("Empty pier", "emotion: sadness", (110, 100, 100), 0.2, 144),
    Shot("Lights come on", "va: 0.7,0.1", (80, 200, 220), 0.5, 120),
)
HANDLE = 12  # frames of each shot the edit leaves out, so clip boundaries are real cuts


def run_demo(out: Path, force: bool = False) -> Deliverables:
    """Make (or remake) the demo folder: media/demo.mp4, demo.otio, score/."""
    out = Path(out)
    if out.exists():
        if not (out / _STAMP).exists() and not force:
            raise OutputError(
                f"'{out}' exists and is not a demo folder made by emsync; pass --out with a "
                "new folder (or --force to replace it)."
            )
        shutil.rmtree(out)
    (out / "media").mkdir(parents=True)
    (out / _STAMP).write_text("made by `emsync demo`; safe to delete\n")
    video = out / "media" / "demo.mp4"
    write_video(video, SHOTS)
    timeline = build_timeline(video, SHOTS)
    otio.adapters.write_to_file(timeline, str(out / "demo.otio"))
    result = score(out / "demo.otio", ScoreOptions(out=out / "score"))
    print(f"Demo timeline: {out / 'demo.otio'} (video: {video})")
    print(f"Score: {result.files['wav']}  MIDI: {result.files['midi']}")
    print(f"Scored timeline: {result.files['otio']}  Report: {result.files['report']}")
    print(f"Listen: play '{result.files['wav']}' with any audio player.")
    return result


def write_video(path: Path, shots: tuple[Shot, ...]) -> None:
    """Render every shot (with its handles) into one MPEG-4 file (OpenCV's own encoder)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), RATE, SIZE)
    if not writer.isOpened():
        raise OutputError(f"OpenCV cannot write the demo video '{path}'.")
    try:
        for shot in shots:
            for f in range(shot.frames + 2 * HANDLE):
                writer.write(draw_frame(shot, f))
    finally:
        writer.release()


def draw_frame(shot: Shot, f: int) -> np.ndarray:
    import cv2

    w, h = SIZE
    frame = np.empty((h, w, 3), np.uint8)
    frame[:] = shot.colour
    t = f / RATE
    for k in range(5):
        phase = t * shot.speed * 2 + k * 1.3
        x = int(w / 2 + (w / 2.5) * math.sin(phase))
        y = int(h / 2 + (h / 3) * math.cos(phase * 1.7 + k))
        shade = tuple(int(min(255, c * 0.6 + 90)) for c in shot.colour)
        cv2.circle(frame, (x, y), 18 + 6 * k, shade, -1)
    cv2.putText(frame, shot.label, (24, h - 54), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255,) * 3, 2)
    cv2.putText(frame, shot.mood, (24, h - 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (235,) * 3, 1)
    return frame


def build_timeline(video: Path, shots: tuple[Shot, ...]) -> otio.schema.Timeline:
    """One video track using the middle of each shot, with a mood marker per scene."""
    timeline = otio.schema.Timeline(name="EMSYNC demo")
    timeline.global_start_time = otio.opentime.from_timecode("01:00:00:00", RATE)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    total = sum(s.frames + 2 * HANDLE for s in shots)
    media = otio.schema.ExternalReference(
        target_url=video.resolve().as_uri(),
        available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(total, RATE)
        ),
    )
    source_start, record = 0, 0
    for shot in shots:
        clip = otio.schema.Clip(
            name=shot.label,
            media_reference=media.clone(),
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(source_start + HANDLE, RATE),
                otio.opentime.RationalTime(shot.frames, RATE),
            ),
        )
        track.append(clip)
        timeline.tracks.markers.append(
            otio.schema.Marker(
                name=shot.mood,
                marked_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(record + 1, RATE),
                    otio.opentime.RationalTime(0, RATE),
                ),
            )
        )
        source_start += shot.frames + 2 * HANDLE
        record += shot.frames
    timeline.tracks.append(track)
    return timeline
