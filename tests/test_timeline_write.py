"""Writing the scored timeline back (write_scored): every writable format, read back and compared.

Round trip: read a shared fixture -> score it (pipeline, no render) -> write_scored -> read the
written file -> the cuts, scenes, markers and transitions are those of the input, and the score
track is there, from frame 0, exactly as long as the timeline.
"""

from __future__ import annotations

import warnings
import zipfile

import opentimelineio as otio
import pytest

from emsync_core.pipeline import ScoreOptions, score
from emsync_core.timeline import read, read_with_timeline
from emsync_core.timeline.write import SCORE_TRACK, add_score_track, write_scored

pytestmark = pytest.mark.filterwarnings("ignore")  # the interchange adapters warn a lot

# fixture -> (extension written for it with fmt=None, whether a message must say why)
NATIVE = {
    "simple_cut.otio": (".otio", False),
    "transition.otio": (".otio", False),
    "multitrack.otio": (".otio", False),
    "nested_example.otio": (".otio", False),
    "premiere_example.xml": (".xml", False),
    "premiere_generators.xml": (".xml", False),
    "hiero_xml_export.xml": (".xml", False),
    "fcpx_example.fcpxml": (".fcpxml", False),
    "fcpx_project.fcpxml": (".fcpxml", False),
    "avid_example.edl": (".xml", True),
    "dissolve_test.edl": (".xml", True),
    "gap_test.edl": (".xml", True),
    "speed_effects_small.edl": (".xml", True),
    "transition_duration.edl": (".xml", True),
    "multi_audio.edl": (".xml", True),
}

# Explicit formats that must work for these inputs (the writer of the format can express them).
FORCED = [
    ("simple_cut.otio", "otioz"),
    ("simple_cut.otio", "otiod"),
    ("simple_cut.otio", "xges"),
    ("simple_cut.otio", "aaf"),
    ("simple_cut.otio", "fcpxml"),
    ("multitrack.otio", "xml"),
    ("multitrack.otio", "fcpxml"),
    ("multitrack.otio", "aaf"),
    ("premiere_example.xml", "otioz"),
    ("fcpx_example.fcpxml", "otiod"),
    ("gap_test.edl", "aaf"),
    ("transition.otio", "xml"),
    ("transition.otio", "aaf"),
    ("dissolve_test.edl", "aaf"),
    ("dissolve_test.edl", "otio"),
]


def same_edit(a, b):
    assert b.duration == a.duration
    assert b.cuts == a.cuts
    assert b.rate == a.rate
    assert [(s.start, s.end) for s in b.scenes] == [(s.start, s.end) for s in a.scenes]
    assert [(m.frame, m.name, m.note) for m in b.markers] == [
        (m.frame, m.name, m.note) for m in a.markers
    ]
    assert [(t.cut, t.start, t.end) for t in b.transitions] == [
        (t.cut, t.start, t.end) for t in a.transitions
    ]


def score_track(timeline):
    """The score track (FCP 7 XML's stereo pair of tracks reads back as one, ganged)."""
    tracks = [
        t
        for t in timeline.tracks
        if isinstance(t, otio.schema.Track)
        and t.kind == otio.schema.TrackKind.Audio
        and [c.name for c in t.find_clips()] == [SCORE_TRACK]
    ]
    assert len(tracks) == 1, "exactly one EMSYNC Score track"
    return tracks[0]


def check_score_track(timeline, edit):
    track = score_track(timeline)
    (clip,) = track.find_clips()
    rate = float(edit.rate)
    assert track.range_of_child(clip).start_time.rescaled_to(rate).value == pytest.approx(0)
    assert clip.duration().rescaled_to(rate).value == pytest.approx(edit.duration, abs=0.01)
    return clip


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_round_trip_in_the_inputs_format(timeline_fixtures, tmp_path, name):
    path = timeline_fixtures / name
    out = tmp_path / "out"
    # The arranger: the formats are under test here, and it scores hours of fixture in ms.
    options = ScoreOptions(out=out, engine="arranger", render=False, progress=False)
    result = score(path, options)
    edit, timeline = read_with_timeline(path)
    wav = out / "score.wav"
    written = write_scored(edit, wav, out / f"{path.stem}.scored{path.suffix}", timeline=timeline)
    ext, explained = NATIVE[name]
    assert written.files[0].suffix == ext
    assert written.files[0].name == f"{path.stem}.scored{ext}"
    assert (ext == ".otio") == (len(written.files) == 1)
    assert bool(written.messages) == explained
    if explained:
        assert "EDL writer drops audio" in written.messages[0]
    for f in written.files:
        back, back_timeline = read_with_timeline(f, rate=float(edit.rate))
        same_edit(result.edit, back)
        clip = check_score_track(back_timeline, edit)
        assert clip.media_reference.target_url == wav.resolve().as_uri()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no temporary files left"


@pytest.mark.parametrize(("name", "fmt"), FORCED)
def test_round_trip_in_another_format(timeline_fixtures, tmp_path, name, fmt):
    edit = read(timeline_fixtures / name)
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "x.scored.otio", fmt=fmt)
    assert written.files[0].suffix == "." + fmt
    assert not written.messages
    back, back_timeline = read_with_timeline(written.files[0], rate=float(edit.rate))
    same_edit(edit, back)
    check_score_track(back_timeline, edit)


def test_edl_writes_fcp7_xml_and_says_why(timeline_fixtures, tmp_path):
    edit = read(timeline_fixtures / "gap_test.edl")
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "gap_test.scored.edl")
    assert [p.name for p in written.files] == ["gap_test.scored.xml", "gap_test.scored.otio"]
    assert written.format == "Final Cut Pro 7 XML"
    assert "drops audio" in written.messages[0] and "Final Cut Pro 7 XML" in written.messages[0]
    assert not (tmp_path / "gap_test.scored.edl").exists()


def test_unwritable_format_falls_back_with_a_reason(timeline_fixtures, tmp_path):
    # The AAF writer cannot express generators (colour mattes): FCP 7 XML instead, and why.
    edit = read(timeline_fixtures / "premiere_generators.xml")
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "g.scored.aaf", fmt="aaf")
    assert written.files[0].name == "g.scored.xml"
    assert "instead of AAF" in written.messages[0] and "generator" in written.messages[0]
    assert not (tmp_path / "g.scored.aaf").exists(), "no partial AAF left behind"
    same_edit(edit, read(written.files[0]))


def test_nothing_but_otio_when_no_writer_can(timeline_fixtures, tmp_path):
    # nested_example has a clip straight inside a nested stack: neither FCP writer takes it.
    edit = read(timeline_fixtures / "nested_example.otio")
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "n.scored.xml", fmt="xml")
    assert [p.name for p in written.files] == ["n.scored.otio"]
    assert "could not be written as Final Cut Pro 7 XML" in written.messages[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.scored.otio"]


def test_relative_media(timeline_fixtures, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "a b.mov").write_bytes(b"")
    tl = otio.schema.Timeline(name="rel")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for i, url in enumerate(
        [(media / "a b.mov").as_uri(), "media/a b.mov", "file:///D:/offline/c.mov"]
    ):
        rng = otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(10 + i, 25)
        )
        ref = otio.schema.ExternalReference(target_url=url, available_range=rng)
        track.append(otio.schema.Clip(name=f"c{i}", media_reference=ref, source_range=rng))
    tl.tracks.append(track)
    src = tmp_path / "edit.otio"
    otio.adapters.write_to_file(tl, str(src))
    edit = read(src)
    out = tmp_path / "out"
    rel = write_scored(
        edit, out / "score.wav", out / "edit.scored.xml", fmt="xml", relative_media=True
    )
    absolute = write_scored(edit, out / "score.wav", out / "abs.scored.otio")
    urls = [
        c.media_reference.target_url
        for c in otio.adapters.read_from_file(str(rel.files[1])).find_clips()
    ]
    assert urls == [
        "../media/a%20b.mov",
        "../media/a%20b.mov",
        "file:///D:/offline/c.mov",
        "score.wav",
    ]
    assert "not paths on this machine" in rel.messages[0]
    urls = [
        c.media_reference.target_url
        for c in otio.adapters.read_from_file(str(absolute.files[0])).find_clips()
    ]
    # the relative one resolved, each in its own style (plain stays plain)
    assert urls[:2] == [(media / "a b.mov").as_uri(), str(media / "a b.mov")]
    assert urls[3] == (out / "score.wav").resolve().as_uri()
    # the FCP 7 XML carries the relative paths too
    xml = rel.files[0].read_text(encoding="utf-8")
    assert "<pathurl>../media/a%20b.mov</pathurl>" in xml and "<pathurl>score.wav</pathurl>" in xml


def test_otioz_bundles_the_score_and_existing_media(timeline_fixtures, tmp_path):
    wav_now = tmp_path / "staging" / "score.wav"
    wav_now.parent.mkdir()
    wav_now.write_bytes(b"RIFF....WAVE")
    edit, timeline = read_with_timeline(timeline_fixtures / "simple_cut.otio")
    written = write_scored(
        edit,
        tmp_path / "final" / "score.wav",
        tmp_path / "s.scored.otioz",
        fmt="otioz",
        timeline=timeline,
        audio_file=wav_now,
    )
    with zipfile.ZipFile(written.files[0]) as z:
        assert "media/score.wav" in z.namelist()
    back, back_timeline = read_with_timeline(written.files[0])
    same_edit(edit, back)
    check_score_track(back_timeline, edit)


def test_rescoring_replaces_the_score_track_even_without_track_names(timeline_fixtures, tmp_path):
    edit = read(timeline_fixtures / "premiere_example.xml")
    first = write_scored(edit, tmp_path / "score.wav", tmp_path / "p.scored.xml")
    again_edit, again_tl = read_with_timeline(first.files[0])  # FCP 7 XML drops track names
    rescored = add_score_track(again_tl, tmp_path / "take2.wav", again_edit.duration, edit.rate)
    assert score_track(rescored).find_clips()[0].media_reference.target_url.endswith("take2.wav")


def test_bad_format_name(timeline_fixtures, tmp_path):
    from emsync_core.errors import OutputError

    edit = read(timeline_fixtures / "simple_cut.otio")
    with pytest.raises(OutputError, match="Cannot write timelines as 'mp4'"):
        write_scored(edit, tmp_path / "score.wav", tmp_path / "x.otio", fmt="mp4")


def test_edit_without_source_needs_the_timeline(timeline_fixtures, tmp_path):
    from emsync_core.errors import TimelineError
    from emsync_core.timeline import edit_from_timeline

    tl = otio.adapters.read_from_file(str(timeline_fixtures / "simple_cut.otio"))
    edit = edit_from_timeline(tl)
    with pytest.raises(TimelineError, match="needs the OTIO timeline"):
        write_scored(edit, tmp_path / "score.wav", tmp_path / "x.otio")
    written = write_scored(edit, tmp_path / "score.wav", tmp_path / "x.otio", timeline=tl)
    with warnings.catch_warnings():
        same_edit(edit, read(written.files[0]))


def test_aaf_describes_the_score_wav_as_it_is(timeline_fixtures, tmp_path):
    """The AAF writer's default is 16-bit mono; the score is what master.write_wav writes."""
    import aaf2
    import numpy as np
    import soundfile

    from emsync_core.audio.master import write_wav

    wav = tmp_path / "out" / "score.wav"
    wav.parent.mkdir()
    write_wav(wav, np.zeros((4800, 2), dtype=np.float32), 48000)
    info = soundfile.info(str(wav))
    assert (info.channels, info.samplerate, info.subtype) == (2, 48000, "PCM_24")
    edit, timeline = read_with_timeline(timeline_fixtures / "simple_cut.otio")
    written = write_scored(edit, wav, tmp_path / "out" / "s.scored.aaf", fmt="aaf")
    with aaf2.open(str(written.files[0]), "r") as f:
        described = [
            mob.descriptor
            for mob in f.content.sourcemobs()
            if isinstance(mob.descriptor, aaf2.essence.PCMDescriptor)
            and any("score.wav" in str(loc["URLString"].value) for loc in mob.descriptor["Locator"])
        ]
        assert len(described) == 1, "one stereo descriptor for the score"
        d = described[0]
        assert d["Channels"].value == 2
        assert d["QuantizationBits"].value == 24
        assert d["AudioSamplingRate"].value == 48000
        assert d["BlockAlign"].value == 6 and d["AverageBPS"].value == 6 * 48000


def _otio_with_urls(path, urls):
    tl = otio.schema.Timeline(name="styles")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for i, url in enumerate(urls):
        rng = otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(24 + i, 24)
        )
        ref = otio.schema.ExternalReference(target_url=url, available_range=rng)
        track.append(otio.schema.Clip(name=f"c{i}", media_reference=ref, source_range=rng))
    tl.tracks.append(track)
    otio.adapters.write_to_file(tl, str(path))


@pytest.mark.parametrize(
    ("urls", "score_plain"),
    [
        (["/Volumes/Media/A001.mov", "/Volumes/Media/A 002.mov"], True),  # as Resolve writes
        (["file:///Volumes/Media/A001.mov", "file:///Volumes/Media/A%20002.mov"], False),
        (["/Volumes/Media/A001.mov", "file:///Volumes/Media/A%20002.mov"], False),
    ],
)
def test_otio_media_paths_keep_their_style(tmp_path, urls, score_plain):
    src = tmp_path / "cut.otio"
    _otio_with_urls(src, urls)
    wav = tmp_path / "out" / "score.wav"
    written = write_scored(read(src), wav, tmp_path / "out" / "cut.scored.otio")
    back = [
        c.media_reference.target_url
        for c in otio.adapters.read_from_file(str(written.files[0])).find_clips()
    ]
    assert back[:-1] == urls  # exactly as the input wrote them
    assert back[-1] == (str(wav.resolve()) if score_plain else wav.resolve().as_uri())


def test_no_render_says_the_wav_is_missing(timeline_fixtures, tmp_path):
    edit = read(timeline_fixtures / "simple_cut.otio")
    wav = tmp_path / "out" / "score.wav"
    written = write_scored(edit, wav, tmp_path / "out" / "s.scored.otio", audio_rendered=False)
    assert not wav.exists()
    [note] = written.messages
    assert "--no-render" in note and str(wav) in note and "s.scored.otio" in note


def test_pipeline_no_render_says_so(timeline_fixtures, tmp_path):
    out = tmp_path / "out"
    options = ScoreOptions(out=out, engine="arranger", render=False, progress=False)
    result = score(timeline_fixtures / "simple_cut.otio", options)
    assert not (out / "score.wav").exists()
    assert any("--no-render" in m and "does not exist yet" in m for m in result.messages)
