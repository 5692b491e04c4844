"""The MMA corpus: charts, song text, labels by construction, curation, the builder's sidecar
hook, and one real `mma` render (mma comes from scripts/setup.sh)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from emsync_core.music import chords, corpus, events, mma_corpus, mma_grooves, progressions
from emsync_core.music import sidecar as sidecar_mod
from emsync_core.music.mma_corpus import Aria, Section, SongPlan
from emsync_core.music.mma_grooves import Family, Groove, Measure, Track
from emsync_core.music.progressions import ChartChord

AXIS = next(p for p in progressions.generated_progressions() if p.name == "axis")


# ---------------------------------------------------------------------------------------
# Charts


def test_lay_out_harmonic_rhythms_and_transposition():
    for cpb, slot in ((0.5, 8), (1.0, 4), (2.0, 2)):
        chart = progressions.lay_out(AXIS, 4, cpb, 8)
        assert [c.start_beat for c in chart] == [slot * i for i in range(len(chart))]
        assert sum(c.beats for c in chart) == 32
        assert [c.root for c in chart[:4]] == [0, 7, 9, 5][: len(chart[:4])]
    # 2 chords per bar is impossible in 3/4, and in a 2-beat bar would make 1-beat chords
    # (no <CHORD> boundary): one per bar instead.
    assert [c.beats for c in progressions.lay_out(AXIS, 3, 2.0, 4)] == [3, 3, 3, 3]
    assert [c.beats for c in progressions.lay_out(AXIS, 2, 2.0, 4)] == [2, 2, 2, 2]
    assert [c.beats for c in progressions.lay_out(AXIS, 6, 2.0, 2)] == [3, 3, 3, 3]
    up = progressions.transpose(progressions.lay_out(AXIS, 4, 1.0, 4), 10)
    assert [(c.root, c.quality) for c in up] == [(10, "maj"), (5, "maj"), (7, "min"), (3, "maj")]
    assert [progressions.chart_symbol(c.root, c.quality) for c in up] == ["Bb", "F", "Gm", "Eb"]
    # A repeated chord is one longer chord (one boundary, not two).
    vamp = progressions.Progression("v", "vamp", "major", "vamp", ((0, "maj", 1), (0, "maj", 1)))
    assert progressions.lay_out(vamp, 4, 1.0, 4) == [ChartChord(0, 16, 0, "maj")]


def test_every_generated_progression_exists_in_both_modes_and_chains_cadence():
    gen = progressions.generated_progressions()
    assert {p.mode for p in gen} == {"major", "minor"}
    assert {p.source for p in gen} == {"loop", "blues", "vamp"}
    assert {"blues", "minor-blues", "andalusian", "dorian"} <= {p.name for p in gen}
    rng = np.random.default_rng(3)
    for mode, tonic_quality in (("major", "maj"), ("minor", "min")):
        for _ in range(20):
            chain = progressions.functional_chain(rng, mode)
            assert chain.chords[-1][:2] == (0, tonic_quality)
            assert chain.chords[-2][:2] == (7, "dom7")  # V7 - I: an authentic cadence
            assert chain.chords[0][:2] == (0, tonic_quality)


def test_mma_chart_parser_reads_chord_lines_only():
    text = """// a song
Tempo 120
Groove Swing
1  Cm7 / F7 /   // comment
2  Bb
   Ebmaj7 * 2
Cresc mp f 4
3  Am7b5 / D7 /
4  Gm {lyric} Gdim
z * 4
5  Gm
"""
    beats, bars = progressions.parse_mma_chart(text)
    assert beats == 4
    assert bars[0] == [(0, "min7"), None, (5, "dom7"), None]
    assert bars[1] == [(10, "maj")]
    assert bars[2] == bars[3] == [(3, "maj7")]
    assert bars[4] == [(9, "hdim7"), None, (2, "dom7"), None]
    assert bars[5] == [(7, "min"), (7, "dim")]
    assert len(bars) == 7
    assert progressions.quality_of("m7b5") == "hdim7"
    assert progressions.quality_of("13") == "dom7"
    assert progressions.quality_of("weird") is None


# ---------------------------------------------------------------------------------------
# A hand-made family and song


def _groove(name: str, tracks=(("BASS", "AcousticBass"), ("CHORD", "Piano1"))) -> Groove:
    return Groove("stdlib", "ballad", name, 4, 4, tuple(Track(n, v) for n, v in tracks))


def _family() -> Family:
    mains = (_groove("Ballad"), _groove("BalladSus"))
    return Family(
        name="stdlib/ballad",
        beats=4,
        mains=mains,
        intros=(_groove("BalladIntro"),),
        fills=(_groove("BalladFill"),),
        ends=(_groove("BalladEnd"),),
        density={"stdlib/ballad:Ballad": 4.0, "stdlib/ballad:BalladSus": 6.0},
        tempo=(64, 88),
        style="hymn",
    )


def _plan(tempo: int = 100, aria: bool = True) -> SongPlan:
    """Intro 2 bars, A 8 bars (fill on its last bar), B 8 bars with the lead, end 2 bars."""
    sections = (
        Section("intro", 0, 2, "stdlib/ballad:BalladIntro", 5.0, ("mp", "mp")),
        Section("A", 2, 8, "stdlib/ballad:Ballad", 4.0, ("mp", "f"), "stdlib/ballad:BalladFill"),
        Section("B", 10, 8, "stdlib/ballad:BalladSus", 6.0, ("f", "mp"), lead=aria),
        Section("end", 18, 2, "stdlib/ballad:BalladEnd", 5.0, ("mp", "p")),
    )
    minor_loop = next(p for p in progressions.generated_progressions() if p.name == "lament")
    chart = mma_corpus._song_chart(minor_loop, 4, 1.0, sections, tonic=9)  # A minor
    return SongPlan(
        song_id="s000001",
        rnd_seed=42,
        family="stdlib/ballad",
        beats=4,
        tempo=tempo,
        tonic=9,
        mode="minor",
        progression=minor_loop,
        chords_per_bar=1.0,
        chart=tuple(chart),
        sections=sections,
        force_bass={"stdlib/ballad:BalladSus": ("BASS",)},
        aria=Aria("Flute", "{1 2 90; 3 2 80}", "1 1 -1 r", "Chord") if aria else None,
    )


def test_song_text_has_groove_sections_fills_ending_aria_and_dynamics():
    text = mma_corpus.song_text(_plan())
    lines = text.splitlines()
    assert "RndSeed 42" in lines and "Tempo 100" in lines
    grooves = [ln.split()[1] for ln in lines if ln.startswith("Groove ")]
    assert grooves == [
        "stdlib/ballad:BalladIntro",
        "stdlib/ballad:Ballad",
        "stdlib/ballad:BalladFill",  # the fill takes bar 10, the last of section A
        "stdlib/ballad:BalladSus",
        "stdlib/ballad:BalladEnd",
    ]
    chord_lines = [ln for ln in lines if ln[:1].isdigit()]
    assert [int(ln.split()[0]) for ln in chord_lines] == list(range(1, 21))
    assert all(len(ln.split()) == 5 for ln in chord_lines)  # bar number + one cell per beat
    assert chord_lines[0] == "1 Am / / /" and chord_lines[-1] == "20 Am / / /"
    assert chord_lines[2].split()[1] == "Am" and chord_lines[3].split()[1] == "Dm"  # i iv V i
    assert chord_lines[4].split()[1] == "E"
    assert lines.index("Groove stdlib/ballad:BalladFill") == lines.index("10 Am / / /") - 1
    assert "Begin Aria" in lines and " Voice Flute" in lines
    on_off = [ln for ln in lines if ln.startswith("Aria ")]
    assert on_off == ["Aria Off", "Aria Off", "Aria On", "Aria Off"]
    assert "Cresc mp f 8" in lines and "Decresc f mp 8" in lines and "Decresc mp p 2" in lines
    # The forced bass voice follows the groove that needs it, right after its Groove line.
    sus = lines.index("Groove stdlib/ballad:BalladSus")
    assert lines[sus + 1] == "BASS Voice AcousticBass"
    assert "Aria" not in mma_corpus.song_text(_plan(aria=False))


def test_labels_per_window_come_from_construction():
    plan = _plan(tempo=120)  # 2 s per bar
    lab = mma_corpus.song_labels(plan)
    assert lab["format"] == sidecar_mod.FORMAT and lab["key"] == "A minor"
    assert [(w["kind"], w["start_s"], w["end_s"]) for w in lab["windows"]] == [
        ("intro", 0.0, 4.0),
        ("A", 4.0, 20.0),
        ("B", 20.0, 36.0),
        ("end", 36.0, 40.0),
    ]
    # lament = i iv V i at one chord a bar: minor, minor, major, minor -> 2 bars dark per
    # bright one... valence = 0.5 * -1 + 0.5 * (bright - dark share).
    a = lab["windows"][1]
    assert a["chord_quality"] == pytest.approx((2 - 6) / 8)
    assert a["valence"] == pytest.approx(-0.5 + 0.5 * (-0.5))
    assert lab["windows"][0]["valence"] == -1.0  # tonic minor only
    # The denser, louder-starting B section is more aroused than the quiet ending.
    arousal = [w["arousal"] for w in lab["windows"]]
    assert arousal[2] > arousal[3] and arousal[1] > arousal[3]
    assert all(-1 <= v <= 1 for v in arousal)
    assert mma_corpus.arousal_of(4.0, 160, ("m", "m")) > mma_corpus.arousal_of(4.0, 80, ("m", "m"))
    assert mma_corpus.arousal_of(4.0, 100, ("f", "f")) > mma_corpus.arousal_of(4.0, 100, ("p", "p"))
    # Chart times in seconds at the written tempo; boundaries are the chords of >= 2 beats.
    # The intro's Am runs on into the first bar of A (one chord), and i at the loop's end
    # runs into i at its start.
    assert [c["time_s"] for c in lab["chart"]][:5] == [0.0, 6.0, 8.0, 10.0, 14.0]
    assert lab["boundaries_s"] == [c["time_s"] for c in lab["chart"]]
    assert lab["duration_s"] == 40.0
    weights = [w["end_s"] - w["start_s"] for w in lab["windows"]]
    assert lab["arousal"] == pytest.approx(np.average(arousal, weights=weights), abs=1e-3)


def test_plans_are_seeded_varied_and_well_formed():
    families = [_family()]
    pool = progressions.generated_progressions()
    plans = [mma_corpus.plan_song(i, 5, families, pool) for i in range(60)]
    again = [mma_corpus.plan_song(i, 5, families, pool) for i in range(60)]
    assert [mma_corpus.song_text(p) for p in plans] == [mma_corpus.song_text(p) for p in again]
    other = [mma_corpus.song_text(mma_corpus.plan_song(i, 6, families, pool)) for i in range(60)]
    assert other != [mma_corpus.song_text(p) for p in plans]
    assert any(p.aria for p in plans) and any(not p.aria for p in plans)
    assert any(s.fill for p in plans for s in p.sections)
    assert {p.mode for p in plans} == {"major", "minor"}
    assert len({p.tonic for p in plans}) >= 10
    assert {p.chords_per_bar for p in plans} >= {0.5, 1.0, 2.0}
    for p in plans:
        body = [s for s in p.sections if s.kind in ("A", "B")]
        assert 2 <= len(body) <= 6 and all(s.bars == 8 for s in body)
        assert [s.kind for s in body] == ["A", "B"] * (len(body) // 2) + ["A"] * (len(body) % 2)
        assert 64 <= p.tempo <= 88
        # The chart covers every beat of the song exactly once.
        assert sum(c.beats for c in p.chart) == p.bars * p.beats
        assert all(
            b.start_beat == a.start_beat + a.beats
            for a, b in zip(p.chart[:-1], p.chart[1:], strict=True)
        )
    # Style pairing: a hymn family draws hymn progressions more often than their share.
    hymn_share = np.mean([q.style == "hymn" for q in pool])
    drawn = np.mean([p.progression.style == "hymn" for p in plans])
    assert drawn > hymn_share + 0.2


# ---------------------------------------------------------------------------------------
# Curation


def test_curation_rules_on_a_hand_written_inventory():
    ok = Measure(
        5.0,
        2,
        ("BASS", "DRUMS", "KEYS"),
        {"BASS": 40, "CHORD": 62},
        {"BASS": "BASS", "CHORD": "KEYS"},
        0.9,
    )
    drums = (("DRUM-KICK", "KickDrum1"), ("DRUM-HH", "ClosedHiHat"))
    grooves = {
        "good": Groove("stdlib", "pop", "Pop", 4, 4, (Track("BASS", "FingeredBass"),)),
        "good-end": Groove("stdlib", "pop", "PopEnd", 2, 4, (Track("BASS", "FingeredBass"),)),
        "zoom": Groove("zoom", "rock", "Rock", 4, 4, (Track("BASS", "FingeredBass"),)),
        "drums": Groove("stdlib", "beat", "Beat", 4, 4, tuple(Track(*t) for t in drums)),
        "dense": Groove("kara", "shuffle", "ShuffleA", 4, 4, (Track("CHORD", "Organ2"),)),
        "tracks": Groove("casio", "big", "Big", 4, 4, (Track("CHORD", "Piano1"),)),
        "lowkeys": Groove("kara", "low", "Low", 4, 4, (Track("CHORD", "Organ2"),)),
        "highbass": Groove("casio", "hb", "Hb", 4, 4, (Track("BASS", "FingeredBass"),)),
        "power": Groove("casio", "digitalrock", "DigitalRock", 4, 4, (Track("BASS-6", "Dist"),)),
        "power-end": Groove(
            "casio", "digitalrock", "DigitalRockEnd", 2, 4, (Track("BASS-6", "Dist"),)
        ),
    }
    from dataclasses import replace

    measures = {
        grooves["good"].ref: ok,
        grooves["dense"].ref: replace(ok, density=46.2),
        grooves["tracks"].ref: replace(ok, pitched_tracks=12),
        grooves["lowkeys"].ref: replace(ok, medians={"CHORD-11": 28.0}),
        grooves["highbass"].ref: replace(ok, medians={"BASS": 72.0}),
        grooves["power"].ref: replace(ok, chord_share=0.0),
    }
    families, dropped = mma_grooves.curate(grooves.values(), measures)
    assert [f.name for f in families] == ["stdlib/pop"]
    assert [g.name for g in families[0].ends] == ["PopEnd"]
    assert families[0].density == {"stdlib/pop:Pop": 5.0}
    assert families[0].tempo == (96, 132) and families[0].style == "pop"
    why = {ref.split(":")[1]: reason for ref, reason in dropped.items()}
    assert why["Rock"] == "drums-only library"
    assert why["Beat"] == "drums only"
    assert why["ShuffleA"].startswith("density 46.2")
    assert why["Big"].startswith("12 pitched tracks")
    assert why["Low"].startswith("wrong register: CHORD-11")
    assert why["Hb"].startswith("wrong register: bass track BASS")
    assert why["DigitalRock"].startswith("no recognisable chord")
    assert why["DigitalRockEnd"] == "no usable main groove in its family"
    # Bass voicing: re-voice only when no bass track has a bass voice.
    bossa = Groove(
        "stdlib",
        "bossanova",
        "BossaNova",
        4,
        4,
        (Track("BASS", "JazzGuitar"), Track("CHORD", "JazzGuitar")),
    )
    rock = Groove(
        "casio",
        "dr",
        "Dr",
        4,
        4,
        (Track("BASS-6", "DistortionGuitar"), Track("BASS-9", "FingeredBass")),
    )
    assert bossa.force_bass == ("BASS",) and rock.force_bass == ()
    assert [
        mma_grooves.role_of(n)
        for n in (
            "BalladIntro1",
            "HappyshuffleEndingA",
            "Ballad1End",
            "SwingFill",
            "Ballad1SusPlus",
        )
    ] == ["intro", "end", "end", "fill", "main"]
    assert mma_grooves.tempo_and_style("stdlib/slowbolero")[0] == (56, 76)


def test_parse_dump_reads_mma_json(tmp_path):
    lib = tmp_path / "waltzy.mma"
    lib.write_text("SeqClear\nTime 3\nTimeSig 3 4\n")
    dump = (
        'Warning: x\nJSON\n[{"groove": "Waltzy", "size": 4, "tracks": [{"track": "BASS", '
        '"voice": ["Tuba", "Tuba"], "sequence": []}, {"track": "DRUM-KICK", "voice": ["K"]}]}]'
    )
    (g,) = mma_grooves.parse_dump("stdlib", lib, dump)
    assert (g.ref, g.beats, g.size, g.role) == ("stdlib/waltzy:Waltzy", 3, 4, "main")
    assert [t.kind for t in g.tracks] == ["BASS", "DRUM"] and not g.drums_only


# ---------------------------------------------------------------------------------------
# The corpus builder's sidecar hook


def _power_chord_midi(path: Path, roots=(48, 53, 55, 48), bar_s: float = 2.0) -> None:
    """Root + fifth + octave (no third) over a bass root, one chord a bar."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    guitar = pretty_midi.Instrument(program=30)
    bass = pretty_midi.Instrument(program=33)
    for i, root in enumerate(roots):
        for beat in range(4):
            t = i * bar_s + beat * bar_s / 4
            for p in (root, root + 7, root + 12):
                guitar.notes.append(pretty_midi.Note(90, p, t, t + bar_s / 4 - 0.05))
        bass.notes.append(pretty_midi.Note(90, root - 12, i * bar_s, (i + 1) * bar_s - 0.05))
    midi.instruments += [guitar, bass]
    midi.write(str(path))


def test_builder_takes_sidecar_boundaries_and_window_labels(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _power_chord_midi(src / "with.mid")
    _power_chord_midi(src / "plain.mid", roots=(50, 55, 57, 50))
    windows = [
        {"start_s": 0.0, "end_s": 4.0, "valence": -0.8, "arousal": 0.6, "mode": "minor"},
        {"start_s": 4.0, "end_s": 8.0, "valence": 0.5, "arousal": -0.4, "mode": "major"},
    ]
    (src / "with.json").write_text(
        json.dumps(
            {
                "format": sidecar_mod.FORMAT,
                "source": "mma",
                "mode": "minor",
                "valence": -0.15,
                "arousal": 0.1,
                "boundaries_s": [0.0, 3.0, 5.0],
                "windows": windows,
            }
        )
    )
    (src / "plain.json").write_text(json.dumps({"something": "else"}))  # not a sidecar
    out = tmp_path / "corpus"
    corpus.build_corpus([str(src)], out, workers=1, val_percent=0.0)
    built = corpus.Corpus(out)
    by_name = {Path(p["path"]).stem: p for p in built.pieces}
    w, plain = by_name["with"], by_name["plain"]
    # Without a sidecar the boundaries are recognised (a chord a bar) ...
    plain_tokens = np.asarray(built.tokens(plain))
    times = events.token_times(plain_tokens)[plain_tokens == events.CHORD] * events.STEP_S
    assert times.tolist() == pytest.approx([0.0, 2.0, 4.0, 6.0]) and plain["source"] == "midi"
    # ... with one they are exactly the sidecar's, even where the notes say otherwise (the
    # times here are deliberately off the bar lines to show where they come from).
    assert w["n_boundaries"] == 3 and w["source"] == "mma"
    tokens = np.asarray(built.tokens(w))
    times = events.token_times(tokens)[tokens == events.CHORD] * events.STEP_S
    assert times.tolist() == pytest.approx([0.0, 3.0, 5.0])
    assert (w["valence"], w["arousal"]) == (-0.15, 0.1)  # known labels, not the proxy
    second = int(w["window_tokens"][1])
    assert events.token_times(tokens)[second] * events.STEP_S == pytest.approx(4.0)
    assert built.labels_at(w, 0) == (-0.8, 0.6)
    assert built.labels_at(w, second - 1) == (-0.8, 0.6)
    assert built.labels_at(w, second) == (0.5, -0.4)
    assert built.labels_at(w, len(tokens) - 1) == (0.5, -0.4)
    # A plain piece gets proxy windows (8 bars each) scaled like its piece labels.
    assert len(plain["window_labels"]) == 1
    assert all(-1 <= v <= 1 for v in built.labels_at(plain, 5))
    # Changing the labels changes the content hash, so the shard is rebuilt.
    before = corpus.list_sources([str(src)])[0]
    (src / "with.json").write_text((src / "with.json").read_text().replace("-0.15", "-0.2"))
    after = corpus.list_sources([str(src)])[0]
    assert {i.sha1 for i in before} != {i.sha1 for i in after}


def test_mix_weights_cap_the_mma_share():
    pieces = [{"n_tokens": 900, "source": "mma"}, {"n_tokens": 100, "source": "music21"}]
    w = corpus.mix_weights(pieces, {"mma": 0.7})
    assert w.tolist() == pytest.approx([0.7, 0.3])
    assert corpus.mix_weights(pieces, {"mma": 0.95}).tolist() == pytest.approx([0.9, 0.1])


def test_build_mma_cli_routes_through_emsync_train(monkeypatch, tmp_path):
    from emsync_core import cli

    seen = {}
    monkeypatch.setattr(
        mma_corpus,
        "build_mma",
        lambda out, hours, seed, workers: (
            seen.update(out=out, hours=hours, seed=seed, workers=workers)
            or {"songs": 1, "hours": 0.1, "rendered_now": 1, "failed": [], "build_seconds": 1.0}
        ),
    )
    code = cli.main(
        ["train", "--build-mma", str(tmp_path), "--hours", "2.5", "--seed", "9", "--workers", "2"]
    )
    assert code == 0
    assert seen == {"out": tmp_path, "hours": 2.5, "seed": 9, "workers": 2}
    assert cli.main(["train", "--build-mma", str(tmp_path), "--mma-hours", "0.5"]) == 0
    assert seen["hours"] == 0.5
    both = ["train", "--build-mma", str(tmp_path), "--build-corpus", "music21"]
    assert cli.main(both) == 2  # a plain error: one or the other


# ---------------------------------------------------------------------------------------
# One real render with Debian's mma


def test_real_mma_render_has_tracks_tempo_and_chords_at_the_labelled_times(tmp_path):
    if shutil.which("mma") is None:
        pytest.fail("mma is not installed: run scripts/setup.sh (it apt-installs mma)")
    lib = Path("/usr/share/mma/lib/stdlib/ballad.mma")
    grooves = {g.name: g for g in mma_grooves.dump_file(("stdlib", str(lib)))}
    assert {"Ballad", "BalladSus", "BalladEnd"} <= set(grooves)
    sections = (
        Section("A", 0, 8, grooves["Ballad"].ref, 5.7, ("mp", "f")),
        Section("B", 8, 8, grooves["BalladSus"].ref, 6.0, ("f", "mp"), lead=True),
    )
    prog = next(p for p in progressions.generated_progressions() if p.name == "doo-wop")
    chart = mma_corpus._song_chart(prog, 4, 1.0, sections, tonic=2)  # D major, I vi IV V
    plan = SongPlan(
        "s000000",
        7,
        "stdlib/ballad",
        4,
        90,
        2,
        "major",
        prog,
        1.0,
        tuple(chart),
        sections,
        {},
        Aria("Flute", "{1 2 90; 3 2 80}", "1 1 -1 r", "Chord"),
    )
    mma_corpus.render(plan, tmp_path, 0)
    mma_path, mid_path, json_path = mma_corpus.song_paths(tmp_path, 0)
    labels = json.loads(json_path.read_text())
    midi = pretty_midi.PrettyMIDI(str(mid_path))
    names = {i.name.upper() for i in midi.instruments if i.notes}
    assert {"BASS", "CHORD", "ARPEGGIO", "ARIA"} <= names
    assert any(i.is_drum and i.notes for i in midi.instruments)
    tempi = midi.get_tempo_changes()[1]
    assert tempi == pytest.approx([90.0], abs=0.01)
    assert labels["duration_s"] == pytest.approx(16 * 4 * 60 / 90)
    assert midi.get_end_time() == pytest.approx(labels["duration_s"], abs=1.0)
    # The lead plays only in section B (from bar 9).
    aria = next(i for i in midi.instruments if i.name.upper() == "ARIA")
    assert min(n.start for n in aria.notes) >= labels["windows"][1]["start_s"] - 0.1
    # Every labelled chord change: the bass attacks the new root right there, and the chord
    # recogniser names the labelled chord over the following beats.
    bass = next(i for i in midi.instruments if i.name.upper() == "BASS")
    piece = events.piece_from_midi(midi)
    spans = chords.recognize(piece)
    assert len(labels["chart"]) == 16  # I vi IV V repeated, one chord a bar
    for c in labels["chart"]:
        t = c["time_s"]
        attacks = [n for n in bass.notes if abs(n.start - t) < 0.08]
        assert attacks and attacks[0].pitch % 12 == c["root"], c
        mid = t + 2 * 60 / 90
        names_at = [s.symbol for s in spans if s.start <= mid < s.end]
        assert names_at and names_at[0] == c["symbol"], (c, names_at)
    # Same plan, same seed -> byte-identical MIDI.
    again = tmp_path / "again"
    mma_corpus.render(plan, again, 0)
    assert mma_corpus.song_paths(again, 0)[1].read_bytes() == mid_path.read_bytes()
    # And the builder reads it with its sidecar: the labelled changes are its boundaries.
    out = tmp_path / "corpus"
    corpus.build_corpus([str(mid_path.parent)], out, workers=1, val_percent=0.0)
    (rec,) = corpus.Corpus(out).pieces
    assert rec["n_boundaries"] == len(labels["boundaries_s"]) and rec["source"] == "mma"
    assert len(rec["window_labels"]) == 2
