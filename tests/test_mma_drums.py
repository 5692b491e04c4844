"""Drums follow the song's energy in the MMA corpus (issue 15): the drum plan per song, the
MMA switch lines, labels of what renders, and real `mma` renders checked note by note."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from emsync_core.music import events, mma_corpus, mma_grooves, progressions
from emsync_core.music.mma_corpus import Section, SongPlan
from emsync_core.music.mma_grooves import Family, Groove, Track

BALLAD = Path("/usr/share/mma/lib/stdlib/ballad.mma")
KIT = (("BASS", "AcousticBass"), ("CHORD", "Piano1"), ("DRUM-KICK", "KickDrum1"))


def _groove(file: str, name: str, tracks=KIT) -> Groove:
    return Groove("stdlib", file, name, 4, 4, tuple(Track(n, v) for n, v in tracks))


def _family(file: str, density: tuple[float, float], tempo: tuple[int, int]) -> Family:
    """Two main variants with a kit; without it they measure 30% sparser per group."""
    a, b = _groove(file, file.title()), _groove(file, file.title() + "Sus")
    return Family(
        name=f"stdlib/{file}",
        beats=4,
        mains=(a, b),
        intros=(_groove(file, file.title() + "Intro"),),
        fills=(_groove(file, file.title() + "Fill"),),
        ends=(_groove(file, file.title() + "End"),),
        density={a.ref: density[0], b.ref: density[1]},
        tempo=tempo,
        style="pop",
        density_pitched={a.ref: 0.7 * density[0], b.ref: 0.7 * density[1]},
    )


FAMILIES = [
    _family("lullaby", (2.0, 2.5), (56, 70)),
    _family("pop", (4.5, 6.0), (90, 120)),
    _family("metal", (9.0, 12.0), (150, 180)),
]
NO_KIT = Family(
    name="stdlib/hymn",
    beats=4,
    mains=(_groove("hymn", "Hymn", KIT[:2]),),
    intros=(),
    fills=(),
    ends=(_groove("hymn", "HymnEnd", KIT[:2]),),
    density={"stdlib/hymn:Hymn": 3.0},
    tempo=(64, 88),
    style="hymn",
)
POOL = progressions.generated_progressions()


def _bin(arousal: float) -> int:
    return 0 if arousal < -0.3 else (2 if arousal > 0.3 else 1)


def test_drum_plan_chances_sum_to_one_and_follow_energy():
    for e in np.linspace(-1.2, 1.2, 25):
        p = mma_corpus.drum_plan_p(float(e))
        assert sum(p.values()) == pytest.approx(1.0)
        assert all(v >= 0 for v in p.values())
    calm, mid, hot = (mma_corpus.drum_plan_p(e) for e in (-0.8, 0.0, 0.8))
    assert calm["none"] > 0.8 and hot["all"] > 0.8
    assert mid["enters"] > max(calm["enters"], hot["enters"])
    assert calm["all"] < mid["all"] < hot["all"]


def test_drum_share_rises_with_arousal_over_a_seeded_batch():
    plans = [mma_corpus.plan_song(i, 11, FAMILIES + [NO_KIT], POOL) for i in range(300)]
    again = [mma_corpus.plan_song(i, 11, FAMILIES + [NO_KIT], POOL) for i in range(300)]
    assert [mma_corpus.song_text(p) for p in plans] == [mma_corpus.song_text(p) for p in again]
    assert {p.drum_plan for p in plans} == {"none", "enters", "all", "no-kit"}
    share: dict[int, list[bool]] = {0: [], 1: [], 2: []}
    for plan in plans:
        labels = mma_corpus.song_labels(plan)
        for w in labels["windows"]:
            share[_bin(w["arousal"])].append(w["drums"])
        assert labels["drum_windows"] == [i for i, s in enumerate(plan.sections) if s.drums]
        on = [s.drums for s in plan.sections]
        if plan.drum_plan in ("none", "no-kit"):
            assert not any(on)
        elif plan.drum_plan == "all":
            assert all(on)
        else:  # the kit comes in once, at a body section after the first, and stays
            first = on.index(True)
            body = [i for i, s in enumerate(plan.sections) if s.kind in ("A", "B")]
            assert first in body[1:] and all(on[first:]) and not any(on[:first])
            # ... where the section is at its loudest among the later body sections
            arousal = [w["arousal"] for w in labels["windows"]]
            full = [
                mma_corpus.arousal_of(s.density / 0.7, plan.tempo, s.dynamics)
                if not s.drums
                else arousal[i]
                for i, s in enumerate(plan.sections)
            ]
            assert full[first] == pytest.approx(max(full[i] for i in body[1:]), abs=1e-3)
    rate = {k: float(np.mean(v)) for k, v in share.items()}
    assert all(len(v) >= 60 for v in share.values()), {k: len(v) for k, v in share.items()}
    assert rate[0] < 0.25 and rate[2] > 0.75 and rate[0] < rate[1] < rate[2], rate


def test_a_drumless_section_is_labelled_with_the_density_without_drums():
    family = FAMILIES[1]
    plans = [mma_corpus.plan_song(i, 3, [family], POOL) for i in range(80)]
    seen = set()
    for plan in plans:
        for s, w in zip(plan.sections, mma_corpus.song_labels(plan)["windows"], strict=True):
            if s.kind in ("A", "B"):
                full = family.density[s.groove]
                want = full if s.drums else family.density_pitched[s.groove]
                assert w["density_120"] == pytest.approx(want)
                assert w["arousal"] == mma_corpus.arousal_of(want, plan.tempo, s.dynamics)
                seen.add(s.drums)
    assert seen == {True, False}


def test_switch_lines_follow_every_groove_line_and_only_when_needed():
    plans = [mma_corpus.plan_song(i, 4, FAMILIES, POOL) for i in range(120)]
    for plan in plans:
        lines = mma_corpus.song_text(plan).splitlines()
        switches = [ln for ln in lines if ln.startswith("AllTracks Drum")]
        if plan.drum_plan == "all":
            assert not switches  # the groove as written: same text as before this change
            continue
        groove_lines = [i for i, ln in enumerate(lines) if ln.startswith("Groove ")]
        assert len(switches) == len(groove_lines)
        for i in groove_lines:  # right after the Groove line (and its bass re-voicing)
            j = i + 1
            while lines[j].endswith("Voice AcousticBass"):
                j += 1
            assert lines[j].startswith("AllTracks Drum ")


# ---------------------------------------------------------------------------------------
# Real renders with Debian's mma


def _ballad() -> dict[str, Groove]:
    if shutil.which("mma") is None:
        pytest.fail("mma is not installed: run scripts/setup.sh (it apt-installs mma)")
    return {g.name: g for g in mma_grooves.dump_file(("stdlib", str(BALLAD)))}


def _render(tmp_path: Path, drums: tuple[bool, ...], plan_name: str) -> tuple[dict, Path]:
    """intro 2 bars, A 8 (fill on its last bar), B 8, end 2, at 120 bpm (2 s a bar)."""
    g = _ballad()
    kinds = ("intro", "A", "B", "end")
    starts, bars = (0, 2, 10, 18), (2, 8, 8, 2)
    refs = ("BalladIntro", "Ballad", "BalladSus", "BalladEnd")
    dyn = (("p", "p"), ("p", "mp"), ("mp", "mf"), ("mf", "p"))
    sections = tuple(
        Section(
            kinds[i],
            starts[i],
            bars[i],
            g[refs[i]].ref,
            5.0,
            dyn[i],
            g["BalladFill"].ref if kinds[i] == "A" else None,
            drums=drums[i],
        )
        for i in range(4)
    )
    prog = next(p for p in POOL if p.name == "doo-wop")
    chart = mma_corpus._song_chart(prog, 4, 1.0, sections, tonic=0)
    plan = SongPlan(
        "s000000", 9, "stdlib/ballad", 4, 120, 0, "major", prog, 1.0, tuple(chart), sections,
        {}, None, plan_name,
    )  # fmt: skip
    mma_corpus.render(plan, tmp_path, 0)
    _, mid, side = mma_corpus.song_paths(tmp_path, 0)
    return json.loads(side.read_text()), mid


def test_a_calm_render_has_no_drum_notes_and_a_build_brings_them_in(tmp_path):
    labels, mid = _render(tmp_path / "none", (False, False, False, False), "none")
    midi = pretty_midi.PrettyMIDI(str(mid))
    assert not [n for i in midi.instruments if i.is_drum for n in i.notes]
    pitched = {events.GROUPS[g] for g in events.piece_from_midi(midi).groups}
    assert pitched >= {"BASS", "KEYS"} and "DRUMS" not in pitched
    assert labels["drum_plan"] == "none" and labels["drum_windows"] == []
    # Kit in from section B (the build) to the end: not in the intro, A or A's fill bar.
    labels, mid = _render(tmp_path / "enters", (False, False, True, True), "enters")
    midi = pretty_midi.PrettyMIDI(str(mid))
    assert mma_corpus.rendered_drums(midi, labels["windows"]) == [False, False, True, True]
    assert labels["drum_windows"] == [2, 3]
    assert [w["drums"] for w in labels["windows"]] == [False, False, True, True]
    drums = [n.start for i in midi.instruments if i.is_drum for n in i.notes]
    assert min(drums) >= labels["windows"][2]["start_s"] - 0.05
    # Every bar from B on has drum hits (the kit stays once in).
    assert {int(t // 2.0) for t in drums} == set(range(10, 20))
    # The groove as written: drums everywhere, no switch lines.
    labels, mid = _render(tmp_path / "all", (True, True, True, True), "all")
    midi = pretty_midi.PrettyMIDI(str(mid))
    assert mma_corpus.rendered_drums(midi, labels["windows"]) == [True] * 4
    assert "AllTracks" not in mma_corpus.song_paths(tmp_path / "all", 0)[0].read_text()


def test_measure_gives_the_density_without_the_drum_channel():
    g = _ballad()["Ballad"]
    m = mma_grooves.measure(g)
    assert m is not None and "DRUMS" in m.groups and m.density_pitched is not None
    assert 0 < m.density_pitched != m.density
    family, _ = mma_grooves.curate([g], {g.ref: m})
    assert family[0].density_without_drums(g.ref) == m.density_pitched
    assert family[0].has_drums
