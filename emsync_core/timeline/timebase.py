"""Exact frame rates and frame arithmetic.

Adapters store NTSC rates as rounded floats (23.976, 29.97, 23.976023976...). We snap them to
the exact rational rate so that frame positions and seconds never drift.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache

import opentimelineio as otio

# Timeline metadata key: whether its timecodes count drop-frame (from an EDL FCM line or an
# FCPXML tcFormat).
DROP_FRAME_KEY = "emsync_drop_frame"

_NTSC_BASES = (24, 30, 48, 60, 120)
# 23.98 (the coarsest rounding in the wild) is 0.0040 away from 24000/1001; 24 is 0.024 away.
_NTSC_TOLERANCE = 0.005


@lru_cache(maxsize=64)
def exact_rate(rate: float) -> Fraction:
    """`rate` as an exact fraction: 23.976 -> 24000/1001, 29.97 -> 30000/1001, 25.0 -> 25."""
    if not rate > 0:
        raise ValueError(f"frame rate must be positive, got {rate}")
    for base in _NTSC_BASES:
        ntsc = Fraction(base * 1000, 1001)
        if abs(rate - float(ntsc)) < _NTSC_TOLERANCE:
            return ntsc
    return Fraction(rate).limit_denominator(1001)


_scales: dict[tuple[float, int, int], Fraction] = {}


def _scale(from_rate: float, to_rate: Fraction) -> Fraction:
    """to_rate / from_rate, cached by plain numbers (hashing a Fraction is slow)."""
    key = (from_rate, to_rate.numerator, to_rate.denominator)
    scale = _scales.get(key)
    if scale is None:
        scale = _scales[key] = to_rate / exact_rate(from_rate)
    return scale


def round_half_up(x: Fraction | float) -> int:
    """Deterministic rounding (Python's round() rounds halves to even)."""
    return math.floor(x + Fraction(1, 2)) if isinstance(x, Fraction) else math.floor(x + 0.5)


def frames_exact(t: otio.opentime.RationalTime, rate: Fraction) -> Fraction | int:
    """`t` in frames at `rate`, without rounding (an int when it is whole, which is cheap)."""
    scale = _scale(t.rate, rate)
    if scale == 1 and float(t.value).is_integer():
        return int(t.value)
    return Fraction(t.value) * scale


def to_frames(t: otio.opentime.RationalTime, rate: Fraction) -> int:
    """`t` as a whole number of frames at `rate` (items at other rates are rescaled)."""
    scale = _scale(t.rate, rate)
    if scale == 1:
        return math.floor(t.value + 0.5)  # the common case, kept cheap for long timelines
    return round_half_up(Fraction(t.value) * scale)


def to_seconds(t: otio.opentime.RationalTime) -> Fraction:
    return Fraction(t.value) / exact_rate(t.rate)


def timecode(frame: int, rate: Fraction, drop_frame: bool | None = None) -> str:
    """SMPTE timecode for `frame`; rates SMPTE does not define get non-drop HH:MM:SS:FF.

    `drop_frame` None lets OTIO infer it from the rate (29.97 and 59.94 count drop-frame);
    an EDL says which it uses in its FCM line, and that wins.
    """
    try:
        rt = otio.opentime.RationalTime(frame, float(rate))
        if drop_frame is None:
            return otio.opentime.to_timecode(rt)
        return otio.opentime.to_timecode(rt, float(rate), drop_frame)
    except (ValueError, otio.exceptions.OTIOError):
        fps = max(1, round(rate))
        seconds, ff = divmod(frame, fps)
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}"


def record_timecode(start_timecode: str, frame: int, rate: Fraction) -> str:
    """The timecode an editor reads at timeline frame `frame`: the start timecode plus
    `frame` frames, counted drop-frame when the start timecode is (its last separator is ';')."""
    drop = ";" in start_timecode
    fps = max(1, round(rate))
    try:
        start = round(otio.opentime.from_timecode(start_timecode, float(rate)).value)
    except (ValueError, otio.exceptions.OTIOError):
        hh, mm, ss, ff = (int(p) for p in re.split(r"[:;.]", start_timecode))
        start = ((hh * 60 + mm) * 60 + ss) * fps + ff
    return timecode(start + frame, rate, drop_frame=drop)
