"""The `Edit`: everything the scorer needs to know about a timeline, as plain data.

All positions are integer frames at the timeline rate, with frame 0 the timeline's first
frame (the start timecode is reported, never added). Seconds are derived exactly from the
rational rate, so 23.976 fps is 24000/1001 and not a rounded float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

# A marker named "hit" (or "hit: strong", "HIT", ...) asks for a musical accent there.
_HIT_RE = re.compile(r"^\s*hit\s*(:.*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Marker:
    """A marker on the timeline, a track or a clip, moved to timeline frames."""

    frame: int
    duration: int
    name: str
    note: str = ""
    color: str = ""
    scope: str = "timeline"  # "timeline", "track" or "clip"

    @property
    def is_hit(self) -> bool:
        return self.hit_strength is not None

    @property
    def hit_strength(self) -> str | None:
        """None for other markers; "normal" for `hit`, else what follows the colon
        (`hit: strong` -> "strong")."""
        for text in (self.name, self.note):
            match = _HIT_RE.match(text or "")
            if match:
                detail = (match.group(1) or "").lstrip(":").strip().lower()
                return detail or "normal"
        return None


@dataclass(frozen=True)
class Transition:
    """A dissolve or wipe: the cut is at its edit point, `start`..`end` is its extent."""

    cut: int
    start: int
    end: int
    kind: str = "SMPTE_Dissolve"


@dataclass(frozen=True)
class Scene:
    """The span between two consecutive boundaries, [start, end) in frames."""

    index: int
    start: int
    end: int
    name: str = ""
    media_path: str | None = None
    source_start_s: float | None = None  # where the scene's first frame sits in its media

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Edit:
    """One timeline reduced to what scoring needs: rate, length, cuts, scenes and markers."""

    name: str
    rate: Fraction
    duration: int
    cuts: tuple[int, ...]
    scenes: tuple[Scene, ...]
    start_timecode: str = "00:00:00:00"
    markers: tuple[Marker, ...] = ()
    transitions: tuple[Transition, ...] = ()
    media_paths: tuple[str, ...] = ()
    source_path: str | None = None
    warnings: tuple[str, ...] = ()
    other_timelines: tuple[str, ...] = field(default=())

    def seconds(self, frame: int) -> float:
        """Exact time of `frame` in seconds (rounded only at the final float conversion)."""
        return float(Fraction(frame) / self.rate)

    def timecode(self, frame: int) -> str:
        """The record timecode of `frame`, as the editor's timeline shows it (start timecode
        plus `frame`)."""
        from emsync_core.timeline.timebase import record_timecode  # OTIO: only when asked

        return record_timecode(self.start_timecode, frame, self.rate)

    @property
    def duration_s(self) -> float:
        return self.seconds(self.duration)

    @property
    def cut_seconds(self) -> tuple[float, ...]:
        return tuple(self.seconds(f) for f in self.cuts)

    @property
    def hit_frames(self) -> tuple[int, ...]:
        """Frames of `hit` markers inside the timeline that are not already cuts."""
        cuts = set(self.cuts)
        return tuple(
            sorted(
                {m.frame for m in self.markers if m.is_hit and 0 < m.frame < self.duration} - cuts
            )
        )
