"""The EDL through-edit rule: when two events are one continuing shot, and when they are a cut.

CMX 3600 keeps only 8 characters of a reel name, so camera files such as
A001C003_230101_R1AB.MOV and A001C003_230101_R2CD.MOV both become reel A001C003. Their clip
name and source-file comments still tell them apart. The EDLs are generated here with a seeded
random layout, so the expected cuts are known by construction.
"""

from __future__ import annotations

import random

from emsync_core.timeline import read

RATE = 24


def tc(frames: int, hour: int = 1) -> str:
    f = frames % RATE
    s = frames // RATE
    return f"{hour + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}"


def event(n: int, reel: str, src: int, rec: int, length: int, comments: list[str]) -> str:
    times = f"{tc(src)} {tc(src + length)} {tc(rec)} {tc(rec + length)}"
    head = f"{n:03d}  {reel:<8} V     C        {times}"
    return "\n".join([head, *comments, ""])


def write_edl(path, events: list[str]) -> None:
    path.write_text("TITLE: GENERATED\nFCM: NON-DROP FRAME\n\n" + "\n".join(events))


def test_truncated_reels_with_different_clip_names_are_cuts(tmp_path):
    rng = random.Random(7)
    events, expected, rec, src = [], [], 0, 0
    previous_file = None
    for n in range(1, 41):
        length = rng.randint(12, 60)
        # Every other event changes file within one truncated reel, with continuous source TC:
        # exactly what used to be merged as a through edit.
        file = f"A001C003_230101_R{rng.choice('ABCD')}{n % 3}.MOV"
        comments = [f"* FROM CLIP NAME: {file}", f"* SOURCE FILE: {file}"]
        if previous_file is not None and file != previous_file:
            expected.append(rec)
        events.append(event(n, "A001C003", src, rec, length, comments))
        previous_file = file
        rec += length
        src += length  # source timecode continues, as across a through edit
    path = tmp_path / "truncated.edl"
    write_edl(path, events)
    edit = read(path)
    assert len(expected) > 20
    assert list(edit.cuts) == expected


def test_source_file_alone_tells_sources_apart(tmp_path):
    path = tmp_path / "files.edl"
    write_edl(
        path,
        [
            event(1, "B002C011", 0, 0, 48, ["* SOURCE FILE: B002C011_X.MXF"]),
            event(2, "B002C011", 48, 48, 48, ["* SOURCE FILE: B002C011_Y.MXF"]),
        ],
    )
    assert read(path).cuts == (48,)


def test_same_clip_continuous_source_is_still_a_through_edit(tmp_path):
    name = ["* FROM CLIP NAME: A001C003_230101_R1AB.MOV"]
    path = tmp_path / "through.edl"
    write_edl(
        path,
        [
            event(1, "A001C003", 0, 0, 30, name),
            event(2, "A001C003", 30, 30, 30, name),  # continues: no cut
            event(3, "A001C003", 100, 60, 30, name),  # source jumps: a cut
            event(4, "A001C004", 130, 90, 30, []),  # another reel: a cut
            event(5, "A001C004", 160, 120, 30, []),  # no comments, continuous: no cut
        ],
    )
    assert read(path).cuts == (60, 90)


def test_event_without_comment_does_not_split_a_named_shot(tmp_path):
    # Only one side names its clip, so nothing says the media changed: the rule stays the reel.
    path = tmp_path / "half.edl"
    write_edl(
        path,
        [
            event(1, "A001C003", 0, 0, 30, ["* FROM CLIP NAME: A001C003_R1.MOV"]),
            event(2, "A001C003", 30, 30, 30, []),
        ],
    )
    assert read(path).cuts == ()


def test_clip_name_case_does_not_make_a_cut(tmp_path):
    path = tmp_path / "case.edl"
    write_edl(
        path,
        [
            event(1, "A001C003", 0, 0, 30, ["* FROM CLIP NAME: a001c003_r1.mov"]),
            event(2, "A001C003", 30, 30, 30, ["* FROM CLIP NAME: A001C003_R1.MOV"]),
        ],
    )
    assert read(path).cuts == ()


def test_black_into_black_is_not_a_cut(tmp_path):
    path = tmp_path / "black.edl"
    write_edl(
        path,
        [
            event(1, "A001", 0, 0, 30, []),
            event(2, "BL", 0, 30, 30, []),
            event(3, "BL", 0, 60, 30, []),  # source TC restarts, but black is black
            event(4, "A002", 0, 90, 30, []),
        ],
    )
    assert read(path).cuts == (30, 90)
