"""Cut lists of generated EDLs match a reference computed independently of the reader.

Each EDL is written as text from a random edit (clips with their own reels, some gaps); the
expected cuts come straight from the record timecodes the generator chose, never from
OpenTimelineIO or from the program's output.
"""

from __future__ import annotations

import random

import pytest

from emsync_core.timeline import read


def timecode(frame: int, fps: int) -> str:
    seconds, ff = divmod(frame, fps)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def random_edl(seed: int, fps: int) -> tuple[str, list[int], int]:
    """EDL text, its expected cuts (frames from the first frame) and its duration."""
    rng = random.Random(seed)
    record_start = 3600 * fps  # 01:00:00:00
    lines = ["TITLE: REFERENCE", "FCM: NON-DROP FRAME", ""]
    boundaries: set[int] = set()
    position = 0
    for event in range(1, rng.randint(2, 30)):
        if event > 1 and rng.random() < 0.2:
            position += rng.randint(1, 3 * fps)  # a gap: black between clips
        length = rng.randint(1, 8 * fps)
        source_in = rng.randint(0, 20_000)
        lines.append(
            f"{event:03d}  R{event:04d}   V     C        "
            f"{timecode(source_in, fps)} {timecode(source_in + length, fps)} "
            f"{timecode(record_start + position, fps)} "
            f"{timecode(record_start + position + length, fps)}"
        )
        boundaries.update((position, position + length))
        position += length
    duration = position
    cuts = sorted(b for b in boundaries if 0 < b < duration)
    return "\n".join(lines) + "\n", cuts, duration


@pytest.mark.parametrize("fps", [24, 25, 30])
@pytest.mark.parametrize("seed", range(8))
def test_generated_edl_cuts_match_the_reference(tmp_path, fps, seed):
    text, cuts, duration = random_edl(seed * 31 + fps, fps)
    path = tmp_path / "reference.edl"
    path.write_text(text, encoding="ascii")
    edit = read(path, rate=fps)
    assert list(edit.cuts) == cuts
    assert edit.duration == duration
    assert edit.start_timecode == "01:00:00:00"
