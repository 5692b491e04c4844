"""score.mid for a composer: CUT lyrics, cut and hit markers with timecode, tempi in range."""

from __future__ import annotations

import io
import json
from fractions import Fraction

import mido
import opentimelineio as otio
import pretty_midi
import pytest

from emsync_core.music.arranger import arrange
from emsync_core.music.midi_file import (
    Mark,
    edit_marks,
    read_marks,
    timeline_timecode,
    to_midi_file,
    write_midi,
)
from emsync_core.music.plan import plan_score
from emsync_core.music.score import ChordEvent, add_cut_lyrics, load_midi, new_midi
from emsync_core.pipeline import ScoreOptions, score
from emsync_core.timeline.build import timeline_from_cuts
from emsync_core.timeline.edit import Edit, Marker, Scene

RATE_2398 = Fraction(24000, 1001)
CUTS = (41, 42, 97, 130, 211, 212, 214, 600)  # a 1-frame and a 2-frame shot among them
HITS = (170, 450)
DURATION = 1500  # 62.6 s: the last shot is 37 s long


def make_edit(
    rate=RATE_2398, start_timecode="01:00:00:00", cuts=CUTS, hits=HITS, duration=DURATION
):
    edges = [0, *cuts, duration]
    scenes = tuple(Scene(i, a, b) for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False)))
    markers = tuple(Marker(h, 0, "hit") for h in hits) + (Marker(300, 0, "emotion: joy"),)
    return Edit("reel", rate, duration, tuple(cuts), scenes, start_timecode, markers)


def plan_for_edit(edit: Edit, seed: int = 0):
    edges = sorted({0, *edit.cuts, *edit.hit_frames, edit.duration})
    spans = [(edit.seconds(a), edit.seconds(b)) for a, b in zip(edges, edges[1:], strict=False)]
    moods = [(0.5 - (i % 3) * 0.6, 0.8 - (i % 4) * 0.5) for i in range(len(spans))]
    return plan_score(spans, moods, seed)


def hand_timecode(frame: int, fps: int, start_hours: int = 1) -> str:
    """Non-drop timecode worked out by hand, independently of OTIO."""
    total = start_hours * 3600 * fps + frame
    ff, seconds = total % fps, total // fps
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}"


def notes_of(midi: pretty_midi.PrettyMIDI) -> list[tuple]:
    return sorted(
        (i.name, n.pitch, n.velocity, round(n.start, 6), round(n.end, 6))
        for i in midi.instruments
        for n in i.notes
    )


def test_every_cut_and_hit_has_a_marker_at_its_tick_with_its_timecode(tmp_path):
    edit = make_edit()
    result = arrange(plan_for_edit(edit))
    path = tmp_path / "score.mid"
    write_midi(result.midi, path, edit_marks(edit, result.chords))

    marks = read_marks(path)
    assert len(marks) == len(CUTS) + len(HITS)
    back = load_midi(path)
    chord_at = {round(c.start_s, 6): c.symbol for c in result.chords if c.hard}
    expected = sorted(
        [(edit.seconds(f), "CUT", f) for f in CUTS] + [(edit.seconds(f), "HIT", f) for f in HITS]
    )
    for (tick, text), (t, kind, frame) in zip(marks, expected, strict=True):
        assert abs(back.tick_to_time(tick) - t) < 1e-3, (text, t)
        # 23.976 counts 24 frames a second, non-drop.
        assert text == f"{kind} {hand_timecode(frame, 24)} {chord_at[round(t, 6)]}"
    assert marks[0][1].startswith("CUT 01:00:01:17 ")  # frame 41 = 1 s 17 f
    # Markers sit in the conductor track (the first), with the tempo map, not with the notes.
    mf = mido.MidiFile(path)
    assert all(m.type != "marker" for track in mf.tracks[1:] for m in track)
    assert mf.tracks[0][-1].type == "end_of_track"
    # Notes, lyrics and tempo map are what pretty_midi alone writes.
    plain = tmp_path / "plain.mid"
    result.midi.write(str(plain))
    plain_back = load_midi(plain)
    assert notes_of(back) == notes_of(plain_back)
    for a, b in zip(notes_of(back), notes_of(result.midi), strict=True):
        assert a[:3] == b[:3] and a[3:] == pytest.approx(b[3:], abs=1e-3)
    assert [(ly.text, ly.time) for ly in back.lyrics] == [
        (ly.text, ly.time) for ly in plain_back.lyrics
    ]
    assert back.get_tempo_changes()[1].tolist() == plain_back.get_tempo_changes()[1].tolist()
    for a, b in zip(mf.tracks[1:], mido.MidiFile(plain).tracks[1:], strict=True):
        assert list(a) == list(b)


def test_markers_past_the_last_event_and_without_chords():
    midi = new_midi()
    inst = pretty_midi.Instrument(0, name="pad - Piano")
    inst.notes.append(pretty_midi.Note(80, 60, 0.0, 1.0))
    midi.instruments.append(inst)
    path_marks = [Mark(0.5, "cut", "CUT 00:00:00:12"), Mark(9.0, "hit", "HIT 00:00:09:00")]
    buffer = io.BytesIO()
    to_midi_file(midi, path_marks).save(file=buffer)
    buffer.seek(0)
    mf = mido.MidiFile(file=buffer)
    ticks, t = [], 0
    for m in mf.tracks[0]:
        t += m.time
        ticks.append((t, m.type, getattr(m, "text", "")))
    assert (midi.time_to_tick(9.0), "marker", "HIT 00:00:09:00") in ticks
    assert ticks[-1][1] == "end_of_track" and ticks[-1][0] >= midi.time_to_tick(9.0)
    # No chord starts at the marks: the text is the kind and the timecode alone.
    edit = make_edit(cuts=(12,), hits=(), duration=48)
    assert [m.text for m in edit_marks(edit)] == ["CUT 01:00:00:12"]


@pytest.mark.parametrize(
    ("rate", "start", "frame", "expected"),
    [
        (Fraction(25), "10:00:00:00", 25 * 61 + 3, "10:01:01:03"),
        (RATE_2398, "00:59:58:00", 24 * 2 + 5, "01:00:00:05"),
        # 29.97 drop-frame: frames ;00 and ;01 are skipped at every minute but the tenth.
        (Fraction(30000, 1001), "01:00:00;00", 1800, "01:01:00;02"),
        (Fraction(30000, 1001), "01:00:00;00", 17982, "01:10:00;00"),
        # The same rate counted non-drop when the timeline says so.
        (Fraction(30000, 1001), "01:00:00:00", 1800, "01:01:00:00"),
        # A rate SMPTE does not define: plain HH:MM:SS:FF at the rounded rate.
        (Fraction(12), "00:00:10:00", 13, "00:00:11:01"),
    ],
)
def test_timeline_timecode(rate, start, frame, expected):
    edit = make_edit(rate=rate, start_timecode=start, cuts=(frame,), hits=(), duration=frame + 10)
    assert timeline_timecode(edit, frame) == expected


def test_cut_lyrics_name_the_chord_on_every_cut_but_not_time_zero():
    midi = new_midi()
    chords = [
        ChordEvent(0.0, 2.0, "C", "C major", True, 0),
        ChordEvent(2.0, 3.0, "F", "C major", False, 0),  # a soft boundary: no lyric
        ChordEvent(3.0, 3.04, "G7", "C major", True, 1),
        ChordEvent(3.04, 9.0, "Am", "C major", True, 2),
    ]
    add_cut_lyrics(midi, chords)
    assert [(ly.text, ly.time) for ly in midi.lyrics] == [("CUT G7", 3.0), ("CUT Am", 3.04)]


def test_score_writes_markers_and_reports_the_tempo_the_midi_uses(tmp_path):
    path = tmp_path / "reel.otio"
    timeline = timeline_from_cuts(
        list(CUTS), DURATION, float(RATE_2398), "reel", markers=[(h, "hit") for h in HITS]
    )
    otio.adapters.write_to_file(timeline, str(path))
    options = ScoreOptions(
        out=tmp_path / "out", engine="arranger", render=False, analyze=False, progress=False
    )
    result = score(path, options)
    marks = read_marks(result.out_dir / "score.mid")
    assert [text.split()[:2] for _, text in marks] == [
        [kind, hand_timecode(f, 24)]
        for f, kind in sorted([(c, "CUT") for c in CUTS] + [(h, "HIT") for h in HITS])
    ]
    report = json.loads((result.out_dir / "report.json").read_text())
    tempi = [s["tempo_bpm"] for s in report["scenes"]]
    midi = load_midi(result.out_dir / "score.mid")
    assert all(40 <= t <= 240 for t in midi.get_tempo_changes()[1])
    assert all(40 <= t <= 240 for t in tempi)
    used = {round(t, 2) for t in midi.get_tempo_changes()[1]}
    assert set(tempi) <= used
