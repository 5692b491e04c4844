"""Fixes to two OpenTimelineIO adapters, applied once to the modules OTIO itself loads.

Both adapters are pinned in pyproject.toml (otio-fcp-adapter 1.0.0, otio-fcpx-xml-adapter
1.0.0); each fix replaces one small function and says what was wrong with the original.

- FCP 7 XML reading was quadratic: every clip's frame rate is looked up by searching each
  enclosing element (the whole track included) with ElementPath. The lookups are pure, so they
  are remembered per element: 5,000 clips read in a fraction of the time.
- The FCPXML writer (used when another format is written out as FCPXML; FCPXML itself is
  read by fcpxml.py and scored in place) truncated frame rates to integers (upstream
  OpenTimelineIO issue #903) and had no frame duration for 23.976, 29.97 (as stored by OTIO),
  48 or 59.94 fps: it wrote `frameDuration=""`. Times are now exact fractions and every rate
  gets the frame duration Final Cut Pro itself writes.
"""

from __future__ import annotations

import weakref
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from emsync_core.timeline.fcpxml import seconds, time_string
from emsync_core.timeline.timebase import exact_rate

_installed = False


def install() -> None:
    """Apply the fixes (idempotent; cheap after the first call)."""
    global _installed
    if _installed:
        return
    _fix_fcp_xml(otio.adapters.from_name("fcp_xml").module())
    _fix_fcpx_xml(otio.adapters.from_name("fcpx_xml").module())
    _installed = True


# --------------------------------------------------------------------------- FCP 7 XML


def _fix_fcp_xml(mod: Any) -> None:
    context = mod._Context
    # element -> {path: found element or None}; entries vanish with the parsed document.
    memo: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def getitem(self: Any, key: str) -> Any:
        for element in reversed(self.elements):
            found_here = memo.setdefault(element, {})
            if key not in found_here:
                found_here[key] = element.find(key)
            if found_here[key] is not None:
                return found_here[key]
        raise KeyError(key)

    context.__getitem__ = getitem


# --------------------------------------------------------------------------- FCPXML


def frame_duration(rate: float) -> str:
    """The frameDuration Final Cut Pro writes for `rate` (23.976 -> "1001/24000s")."""
    exact = exact_rate(float(rate))
    if exact.denominator == 1001:
        return f"1001/{exact.numerator}s"
    if exact.denominator == 1:
        return f"100/{exact.numerator * 100}s"
    return f"{exact.denominator}/{exact.numerator}s"


def _fix_fcpx_xml(mod: Any) -> None:
    writer = mod.FcpxOtio

    def to_rational_time(rational_number: str | None, fps: float) -> otio.opentime.RationalTime:
        rate = exact_rate(float(fps))
        frames = round(seconds(rational_number) * rate)
        return otio.opentime.RationalTime(frames, float(rate))

    def frame_rate_from_element(self: Any, element: Any, default_format_id: str) -> float:
        # The original's branches, returning the exact rate instead of int(rate).
        format_id = default_format_id
        if element.tag == "ref-clip":
            format_id = self._media_by_id(element.get("ref")).find("./sequence").get("format")
        elif element.tag == "clip":
            gap = element.find("./gap")
            media = gap.find("./audio") if gap is not None else element.find("./video")
            format_id = self._asset_by_id(media.get("ref")).get("format")
        elif element.tag == "asset-clip":
            format_id = self._asset_by_id(element.get("ref")).get("format")
        found = self.resource_element.find(f"./format[@id='{format_id}']")
        return float(exact_rate(float(1 / seconds(found.get("frameDuration")))))

    def calculate_rational_number(frames: float, rate: float) -> str:
        # Frames come as floats; 1/1000 of a frame is far below anything an editor writes.
        return time_string(Fraction(frames).limit_denominator(1000) / exact_rate(float(rate)))

    def from_rational_time(t: otio.opentime.RationalTime) -> str:
        return calculate_rational_number(t.value, t.rate)

    mod.to_rational_time = to_rational_time
    mod.from_rational_time = from_rational_time
    writer._framerate_to_frame_duration = staticmethod(frame_duration)
    writer._frame_rate_from_element = frame_rate_from_element
    writer._calculate_rational_number = staticmethod(calculate_rational_number)
