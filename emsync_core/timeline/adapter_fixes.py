"""Fixes to two OpenTimelineIO adapters, applied once to the modules OTIO itself loads.

Both adapters are pinned in pyproject.toml (otio-fcp-adapter 1.0.0, otio-fcpx-xml-adapter
1.0.0); each fix replaces one small function and says what was wrong with the original.

- FCP 7 XML reading was quadratic: every clip's frame rate is looked up by searching each
  enclosing element (the whole track included) with ElementPath. The lookups are pure, so they
  are remembered per element: 5,000 clips read in a fraction of the time.
- FCPXML reading was quadratic too (each clip's asset found by an attribute search over all
  resources); resources are now indexed by id.
- FCPXML time math truncated frame rates to integers (upstream OpenTimelineIO issue #903):
  a 23.976 fps file (`frameDuration="1001/24000s"`) was read at 23 fps, and frame counts were
  truncated floats. The writer had no frame duration for 23.976, 29.97 (as stored by OTIO),
  48 or 59.94 fps and wrote `frameDuration=""`, which its own reader rejects. Times are now
  exact fractions and every rate gets the frame duration Final Cut Pro itself writes.
"""

from __future__ import annotations

import weakref
from fractions import Fraction
from typing import Any

import opentimelineio as otio

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


def _seconds(value: str | None) -> Fraction:
    """An FCPXML time ("0s", "5s", "1001/24000s", "3.5s") as exact seconds."""
    if not value or value == "0s":
        return Fraction(0)
    return Fraction(value.strip().removesuffix("s"))


def frame_duration(rate: float) -> str:
    """The frameDuration Final Cut Pro writes for `rate` (23.976 -> "1001/24000s")."""
    exact = exact_rate(float(rate))
    if exact.denominator == 1001:
        return f"1001/{exact.numerator}s"
    if exact.denominator == 1:
        return f"100/{exact.numerator * 100}s"
    return f"{exact.denominator}/{exact.numerator}s"


def _fix_fcpx_xml(mod: Any) -> None:
    reader = mod.FcpxXml
    writer = mod.FcpxOtio

    def to_rational_time(rational_number: str | None, fps: float) -> otio.opentime.RationalTime:
        rate = exact_rate(float(fps))
        frames = round(_seconds(rational_number) * rate)
        return otio.opentime.RationalTime(frames, float(rate))

    def format_frame_rate(self: Any, format_id: str) -> float:
        rates = self.__dict__.setdefault("_emsync_rates", {})
        if format_id not in rates:
            total, per = self._format_frame_duration(format_id)
            rates[format_id] = float(exact_rate(float(Fraction(per) / Fraction(total))))
        return rates[format_id]

    def number_of_frames(self: Any, time_value: str | None, format_id: str) -> int:
        if time_value is None or time_value == "0s":
            return 0
        return round(_seconds(time_value) * exact_rate(self._format_frame_rate(format_id)))

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
        return float(exact_rate(float(1 / _seconds(found.get("frameDuration")))))

    def from_rational_time(rational_time: otio.opentime.RationalTime) -> str:
        if int(rational_time.value) == 0:
            return "0s"
        seconds = Fraction(rational_time.value).limit_denominator(1000) / exact_rate(
            rational_time.rate
        )
        if seconds.denominator == 1:
            return f"{seconds.numerator}s"
        return f"{seconds.numerator}/{seconds.denominator}s"

    def calculate_rational_number(duration: float, rate: float) -> str:
        if int(duration) == 0:
            return "0s"
        seconds = Fraction(duration).limit_denominator(1000) / exact_rate(float(rate))
        return f"{seconds.numerator}/{seconds.denominator}s"

    def indexed(path: str, key: str = "id", under_event: bool = False):  # noqa: ANN202
        """A lookup by `key` over the `path` children of the document root (or of its event,
        as the original `_assetclip_by_ref` searched), indexed on first use; first match wins."""

        def lookup(self: Any, wanted: str) -> Any:
            index = self.__dict__.setdefault("_emsync_index", {})
            found = index.get((path, key))
            if found is None:
                root = self.fcpx_xml
                if under_event and root.find("./event") is not None:
                    root = root.find("./event")
                found = index[(path, key)] = {}
                for element in root.findall(path):
                    found.setdefault(element.get(key), element)
            return found.get(wanted)

        return lookup

    mod.to_rational_time = to_rational_time
    mod.from_rational_time = from_rational_time
    reader._format_frame_rate = format_frame_rate
    reader._number_of_frames = number_of_frames
    reader._asset_by_id = indexed("./resources/asset")
    reader._format_by_id = indexed("./resources/format")
    reader._compound_clip_by_id = indexed("./resources/media")
    reader._assetclip_by_ref = indexed("./asset-clip", key="ref", under_event=True)
    writer._framerate_to_frame_duration = staticmethod(frame_duration)
    writer._frame_rate_from_element = frame_rate_from_element
    writer._calculate_rational_number = staticmethod(calculate_rational_number)
