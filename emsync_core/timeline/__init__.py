"""Timelines: read any OpenTimelineIO-readable file into a plain `Edit`."""

from emsync_core.timeline.edit import Edit, Marker, Scene, Transition
from emsync_core.timeline.read import edit_from_timeline, load_otio, read, read_with_timeline

__all__ = [
    "Edit",
    "Marker",
    "Scene",
    "Transition",
    "edit_from_timeline",
    "load_otio",
    "read",
    "read_with_timeline",
]
