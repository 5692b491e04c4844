"""CMX 3600 EDL text, fixed up before OpenTimelineIO's adapter reads it.

EDLs do not store their frame rate, and hand-edited or conformed EDLs often have events whose
source and record durations disagree. The adapter assumes 24 fps and raises on a mismatch, so
we work out the rate from the timecodes and rewrite mismatched source-out points so that the
record side (where the picture actually changes) wins.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from opentimelineio import opentime

from emsync_core.errors import TimelineError
from emsync_core.timeline.timebase import exact_rate

DEFAULT_RATE = Fraction(24)
# Rates an EDL can be at when its frame fields prove 24 wrong, smallest first.
_CANDIDATE_RATES = (25, 30, 50, 60)

_TIMECODE = re.compile(r"\b\d{2}:\d{2}:\d{2}[:;.]\d{2}\b")
_EVENT_TIMECODE = re.compile(r"^\d{2}:\d{2}:\d{2}[:;.]\d{2}$")
# The adapter treats these comments as speed changes and fixes the durations itself.
_SPEED_COMMENT = re.compile(r"^\*?\s*(M2\b|\*\s*FREEZE FRAME)", re.IGNORECASE)


def frame_rate(text: str, requested: float | None, name: str) -> tuple[Fraction, list[str]]:
    """The rate to read the EDL at, and a warning when it had to be guessed."""
    top = max((int(tc[-2:]) for tc in _TIMECODE.findall(text)), default=0)
    drop_frame = re.search(r"^\s*FCM:\s*DROP FRAME", text, re.MULTILINE | re.IGNORECASE)
    if requested is not None:
        rate = exact_rate(float(requested))
        if top >= math.ceil(rate):
            raise TimelineError(
                f"{name}: its timecodes reach frame {top}, which cannot exist at the requested "
                f"{float(rate):g} fps. Pass the EDL's real frame rate with --rate "
                f"(for example --rate {_smallest_rate_above(top, name)})."
            )
        return rate, []
    if drop_frame:
        # Drop-frame timecode only exists at 29.97 (and 59.94) fps.
        rate = Fraction(60000, 1001) if top >= 30 else Fraction(30000, 1001)
        return rate, [
            f"{name}: the EDL uses drop-frame timecode, so it was read at {float(rate):.3f} fps "
            "(EDLs do not store their rate; pass --rate if that is wrong)."
        ]
    if top < DEFAULT_RATE:
        return DEFAULT_RATE, []
    rate = Fraction(_smallest_rate_above(top, name))
    return rate, [
        f"{name}: its timecodes reach frame {top}, so it cannot be {DEFAULT_RATE} fps; it was "
        f"read at {rate} fps (EDLs do not store their rate; pass --rate if that is wrong)."
    ]


def _smallest_rate_above(top_frame: int, name: str) -> int:
    for rate in _CANDIDATE_RATES:
        if top_frame < rate:
            return rate
    raise TimelineError(
        f"{name}: an EDL timecode has frame number {top_frame}, more than any video frame "
        "rate allows; the file is damaged or is not a CMX 3600 EDL."
    )


def trust_record_side(text: str, rate: Fraction, name: str) -> tuple[str, list[str]]:
    """Rewrite source-out points so every event's source duration equals its record duration.

    Events with a speed change (M2, freeze frame) are left alone: their durations differ on
    purpose and the adapter handles them.
    """
    lines = text.splitlines(keepends=True)
    fixed_events: list[str] = []
    for i, line in enumerate(lines):
        fields = line.split()
        if not _is_event(fields) or _has_speed_change(lines, i + 1):
            continue
        src_in, src_out, rec_in, rec_out = fields[-4:]
        src_frames = _frames(src_out, rate) - _frames(src_in, rate)
        rec_frames = _frames(rec_out, rate) - _frames(rec_in, rate)
        if src_frames == rec_frames or rec_frames < 0:
            continue
        new_out = opentime.to_timecode(
            opentime.RationalTime(_frames(src_in, rate) + rec_frames, float(rate)), float(rate)
        )
        lines[i] = _replace_field(line, len(fields) - 3, new_out)
        fixed_events.append(fields[0])
    if not fixed_events:
        return text, []
    return "".join(lines), [
        f"{name}: source and record durations differ in event(s) {', '.join(fixed_events)}; "
        "the record timecodes were used, since they say where the picture changes."
    ]


def _is_event(fields: list[str]) -> bool:
    return (
        len(fields) in (8, 9)
        and fields[0].isdigit()
        and all(_EVENT_TIMECODE.match(f) for f in fields[-4:])
    )


def _has_speed_change(lines: list[str], start: int) -> bool:
    """Whether the comment lines after an event line (up to the next event) set a speed."""
    for line in lines[start:]:
        stripped = line.strip()
        if stripped[:1].isdigit():
            return False
        if _SPEED_COMMENT.match(stripped):
            return True
    return False


def _frames(tc: str, rate: Fraction) -> int:
    return round(opentime.from_timecode(tc, float(rate)).value)


def _replace_field(line: str, index: int, value: str) -> str:
    """`line` with its `index`-th whitespace-separated field replaced, spacing preserved."""
    parts = re.split(r"(\s+)", line)
    seen = -1
    for k, part in enumerate(parts):
        if part and not part.isspace():
            seen += 1
            if seen == index:
                parts[k] = value
                break
    return "".join(parts)
