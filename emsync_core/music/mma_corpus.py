"""The MMA corpus: songs written as MMA text, rendered by Debian's `mma`, labelled by construction.

`emsync train --build-mma OUT --hours H --seed S --workers 2` writes OUT/songs/NNN/sXXXXXX.mma,
.mid and .json (the sidecar, `sidecar.py`), then `--build-corpus OUT` tokenises them with the
known `<CHORD>` boundaries and per-window labels. `mma` (GPL-2+) is a build-time tool only;
the generated MIDI carries GPL groove patterns and is never shipped (docs/corpus.md).

A song (`plan_song`, seeded per song so any subset reproduces): one groove family (curated in
`mma_grooves.py`), a tempo from the family's range, a progression paired by style
(`progressions.py`), a key, a harmonic rhythm; an optional intro, 2-6 eight-bar sections
alternating two main variants (A/B), fills at some section ends, an ending on the tonic;
dynamics per section (`Cresc`/`Decresc`), and in some songs an `Aria` lead line (MMA's
chord-following melody) in some sections. Percussion follows the song's energy
(`plan_drums`): calm songs mostly leave the groove's DRUM tracks off, middling ones often
bring the kit in at a later section, energetic ones mostly keep it throughout.

Labels per window (every section is one window), from what was written, not re-detected:
- valence = 0.5 * (+1 major / -1 minor) + 0.5 * (bright - dark share of the window's chord
  time), with labels.BRIGHT/DARK;
- arousal = 0.75 * density term + 0.25 * dynamics term. Density is the variant's measured
  onsets/s/group at 120 bpm scaled by tempo/120, mapped log-linearly from 2.5 (-1) to 12 (+1)
  (about the 5th-95th percentile over families at their tempi); dynamics maps MMA's volume
  factor (p 0.4 ... f 1.3) linearly onto [-1, 1]. A section with its drums off uses the
  variant's density measured without the drum channel (`Measure.density_pitched`), so the
  label describes what was rendered.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import EmsyncError
from . import labels, mma_grooves, progressions, sidecar
from .harmony import NOTE_NAMES
from .mma_grooves import Family
from .progressions import ChartChord, Progression

SECTION_BARS = 8
VOLUME = {"p": 0.4, "mp": 0.7, "m": 1.0, "mf": 1.1, "f": 1.3}  # MMA's volume.py factors
LEVELS = tuple(VOLUME)
DENSITY_RANGE = (2.5, 12.0)  # onsets/s/group -> arousal -1 .. +1 (log scale)
LEAD_VOICES = (
    "Flute", "Clarinet", "Oboe", "Trumpet", "AltoSax", "TenorSax", "Violin", "Vibraphone",
    "JazzGuitar", "Piano1", "SopranoSax", "Harmonica",
)  # fmt: skip
ARIA_SEQUENCES = (
    "{1 4 90; 2 4 80; 3 2 85}",
    "{1 8 90; 1.5 8 70; 2 4 80; 3 4. 85; 4.5 8 70}",
    "{1 2 90; 3 2 80}",
    "{1 4. 90; 2.5 8 70; 3 4 85; 4 4 75}",
)
PAIRED_STYLE_P = 0.7  # chance the progression's style matches the groove family's
CHAIN_P = 0.2  # chance of a fresh functional chain instead of a stored progression

# Drums follow the energy (docs/corpus.md, "Drums follow the energy"). A song's energy is the
# time-weighted arousal its body sections would have with the full groove; the chance of each
# drum plan is interpolated linearly between these anchors (and held outside them):
# "none" = DRUM tracks off all song, "enters" = off until the loudest later body section, then
# on to the end, "all" = on throughout (the groove as written). Background music: a calm cue
# rarely has a kit, a driving one nearly always does, a middling one often builds into it.
# Anchors: song energy over seed-5 plans is -0.88 / -0.19 / +0.68 (5th / 50th / 95th
# percentile); -0.5 and +0.3 give 27% and 20% of songs an end's full odds, and this set gave
# the cleanest calm/aroused split of the anchor sets tried (docs/corpus.md).
DRUM_ENERGY = (-0.5, -0.1, 0.3)
DRUM_PLAN_P = {
    "none": (0.85, 0.30, 0.03),
    "enters": (0.12, 0.40, 0.12),
    "all": (0.03, 0.30, 0.85),
}
DRUM_STREAM = 1  # the drum draws use their own generator, [seed, index, DRUM_STREAM], so the
# rest of a song's plan (and its RndSeed) is what it was before drums followed the energy


@dataclass(frozen=True)
class Section:
    kind: str  # "intro", "A", "B" or "end"
    start_bar: int
    bars: int
    groove: str  # MMA groove ref
    density: float  # measured onsets/s/group at 120 bpm (intros/ends: the family mean)
    dynamics: tuple[str, str]  # volume at the start and at the end (Cresc/Decresc between)
    fill: str | None = None  # fill groove on the last bar
    lead: bool = False  # the Aria track plays
    # The section renders drum-channel notes: the song lets its DRUM tracks play here and the
    # groove (or its fill) has some. False writes `AllTracks Drum Off` after its Groove lines.
    drums: bool = True


@dataclass(frozen=True)
class Aria:
    voice: str
    sequence: str
    direction: str
    scale: str


@dataclass(frozen=True)
class SongPlan:
    song_id: str
    rnd_seed: int
    family: str
    beats: int
    tempo: int
    tonic: int
    mode: str
    progression: Progression
    chords_per_bar: float
    chart: tuple[ChartChord, ...]  # absolute, from bar 1 of the song
    sections: tuple[Section, ...]
    force_bass: dict[str, tuple[str, ...]]  # groove ref -> tracks re-voiced to AcousticBass
    aria: Aria | None
    drum_plan: str = "all"  # "none", "enters", "all" (DRUM_PLAN_P) or "no-kit" (no DRUM tracks)

    @property
    def bars(self) -> int:
        return sum(s.bars for s in self.sections)

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo

    @property
    def duration_s(self) -> float:
        return self.bars * self.beats * self.seconds_per_beat


# ---------------------------------------------------------------------------------------
# Planning


def _pick(rng: np.random.Generator, seq: Sequence):  # noqa: ANN202
    return seq[int(rng.integers(len(seq)))]


def choose_progression(
    rng: np.random.Generator, style: str, beats: int, pool: Sequence[Progression]
) -> Progression:
    """Style-matched most of the time; MMA charts only on grooves with their bar length."""
    usable = [p for p in pool if p.beats is None or p.beats == beats]
    if rng.random() < CHAIN_P or not usable:
        return progressions.functional_chain(rng, "minor" if rng.random() < 0.4 else "major")
    matched = [p for p in usable if p.style == style]
    if matched and rng.random() < PAIRED_STYLE_P:
        return _pick(rng, matched)
    return _pick(rng, usable)


def plan_song(
    index: int, seed: int, families: Sequence[Family], pool: Sequence[Progression]
) -> SongPlan:
    """Song `index` of the corpus with `seed`: depends on nothing else (resumable, parallel)."""
    rng = np.random.default_rng([seed, index])
    family = _pick(rng, families)
    beats = family.beats
    tempo = int(rng.integers(family.tempo[0], family.tempo[1] + 1))
    prog = choose_progression(rng, family.style, beats, pool)
    if prog.source == "blues":
        cpb = 1.0
    elif prog.source == "chorale":
        cpb = float(_pick(rng, (1.0, 2.0)))  # a chord per bar or half bar (mma-corpus.md 3)
    else:
        cpb = float(rng.choice([0.5, 1.0, 2.0], p=[0.25, 0.5, 0.25]))
    cpb = progressions.harmonic_rhythm(beats, cpb)
    tonic = int(rng.integers(12))
    n_body = int(rng.integers(2, 7))
    a = _pick(rng, family.mains)
    others = [g for g in family.mains if g.ref != a.ref]
    b = _pick(rng, others) if others else a
    mean_density = float(np.mean(list(family.density.values())))
    sections: list[Section] = []
    bar = 0
    level = int(rng.integers(0, 4))
    if family.intros and rng.random() < 0.7:
        intro = _pick(rng, family.intros)
        n = int(min(max(intro.size, 2), 4))
        sections.append(
            Section("intro", bar, n, intro.ref, mean_density, (LEVELS[level], LEVELS[level]))
        )
        bar += n
    for i in range(n_body):
        main = a if i % 2 == 0 else b
        nxt = int(np.clip(level + rng.integers(-1, 2), 0, len(LEVELS) - 1))
        fill = None
        if family.fills and i < n_body - 1 and rng.random() < 0.5:
            fill = _pick(rng, family.fills).ref
        sections.append(
            Section(
                "A" if i % 2 == 0 else "B",
                bar,
                SECTION_BARS,
                main.ref,
                family.density[main.ref],
                (LEVELS[level], LEVELS[nxt]),
                fill,
            )
        )
        level = nxt
        bar += SECTION_BARS
    end_bars = 0
    if family.ends:
        end = _pick(rng, family.ends)
        end_bars = 2
        sections.append(Section("end", bar, end_bars, end.ref, mean_density, (LEVELS[level], "p")))
    aria = None
    if rng.random() < 0.4:
        aria = Aria(
            voice=_pick(rng, LEAD_VOICES),
            sequence=_pick(rng, ARIA_SEQUENCES),
            direction=_pick(rng, ("r", "1 1 -1 r", "rr 1 -1 2 r", "1 2 -1 -2")),
            scale=_pick(rng, ("Chord", "Scale")),
        )
        body = [i for i, s in enumerate(sections) if s.kind in ("A", "B")]
        on = [i for i in body if rng.random() < 0.6] or [body[-1]]
        sections = [
            Section(**{**asdict(s), "dynamics": s.dynamics, "lead": i in on})
            for i, s in enumerate(sections)
        ]
    groove_of = {g.ref: g for g in family.mains + family.intros + family.fills + family.ends}
    drum_plan, sections = plan_drums(
        np.random.default_rng([seed, index, DRUM_STREAM]), sections, tempo, family, groove_of
    )
    chart = _song_chart(prog, beats, cpb, sections, tonic)
    refs = {s.groove for s in sections} | {s.fill for s in sections if s.fill}
    force = {r: groove_of[r].force_bass for r in sorted(refs) if groove_of[r].force_bass}
    return SongPlan(
        song_id=f"s{index:06d}",
        rnd_seed=int(rng.integers(1, 2**31 - 1)),
        family=family.name,
        beats=beats,
        tempo=tempo,
        tonic=tonic,
        mode=prog.mode,
        progression=prog,
        chords_per_bar=cpb,
        chart=tuple(chart),
        sections=tuple(sections),
        force_bass=force,
        aria=aria,
        drum_plan=drum_plan,
    )


def song_energy(sections: Sequence[Section], tempo: float) -> float:
    """Bar-weighted arousal of the body sections as planned (drums in, if the groove has any)."""
    body = [s for s in sections if s.kind in ("A", "B")]
    values = [arousal_of(s.density, tempo, s.dynamics) for s in body]
    return float(np.average(values, weights=[s.bars for s in body]))


def drum_plan_p(energy: float) -> dict[str, float]:
    return {k: float(np.interp(energy, DRUM_ENERGY, v)) for k, v in DRUM_PLAN_P.items()}


def plan_drums(
    rng: np.random.Generator,
    sections: Sequence[Section],
    tempo: int,
    family: Family,
    groove_of: dict[str, mma_grooves.Groove],
) -> tuple[str, list[Section]]:
    """The drum plan and the sections with `drums` and the density of what they render.

    `sections` carry the full groove's density; a section with its drums off gets the density
    measured without the drum channel. "enters" switches the kit on at the body section (not
    the first) that would be most aroused, ties to the earliest: the kit comes in where the
    music builds, and stays to the end."""
    p = drum_plan_p(song_energy(sections, tempo))
    plan = str(rng.choice(list(p), p=np.array(list(p.values())) / sum(p.values())))
    body = [i for i, s in enumerate(sections) if s.kind in ("A", "B")]
    if plan == "all":
        first_on = 0
    elif plan == "enters" and len(body) > 1:
        later = body[1:]
        first_on = max(
            later, key=lambda i: (arousal_of(sections[i].density, tempo, sections[i].dynamics), -i)
        )
    else:
        plan, first_on = "none", len(sections)
    mean_pitched = float(np.mean([family.density_without_drums(g.ref) for g in family.mains]))
    kits = [any(groove_of[r].has_drums for r in (s.groove, s.fill) if r) for s in sections]
    out = []
    for i, (s, kit) in enumerate(zip(sections, kits, strict=True)):
        on = i >= first_on and kit
        density = s.density
        if not on:
            density = (
                family.density_without_drums(s.groove) if s.kind in ("A", "B") else mean_pitched
            )
        out.append(replace(s, drums=on, density=density))
    if not any(kits):
        plan = "no-kit"  # the family has no DRUM tracks (slowspiritual, hymn, arpeggio44, ...)
    return plan, out


def _song_chart(
    prog: Progression, beats: int, cpb: float, sections: Sequence[Section], tonic: int
) -> list[ChartChord]:
    """Intro on the tonic, the progression over the body, the ending on the tonic."""
    tonic_quality = "min" if prog.mode == "minor" else "maj"
    chart: list[ChartChord] = []
    for s in sections:
        start = s.start_bar * beats
        if s.kind in ("intro", "end"):
            chart.append(ChartChord(start, s.bars * beats, 0, tonic_quality))
    body = [s for s in sections if s.kind in ("A", "B")]
    first = body[0].start_bar * beats
    laid = progressions.lay_out(prog, beats, cpb, sum(s.bars for s in body))
    chart += [ChartChord(c.start_beat + first, c.beats, c.root, c.quality) for c in laid]
    chart.sort(key=lambda c: c.start_beat)
    merged: list[ChartChord] = []
    for c in chart:
        if merged and (merged[-1].root, merged[-1].quality) == (c.root, c.quality):
            m = merged[-1]
            merged[-1] = ChartChord(m.start_beat, m.beats + c.beats, m.root, m.quality)
        else:
            merged.append(c)
    return progressions.transpose(merged, tonic)


# ---------------------------------------------------------------------------------------
# Writing MMA text


def chord_lines(plan: SongPlan, start_bar: int, bars: int) -> list[str]:
    """One MMA chord line per bar, a cell per beat; every bar restates its current chord."""
    lines = []
    for bar in range(start_bar, start_bar + bars):
        cells = []
        for beat in range(plan.beats):
            t = bar * plan.beats + beat
            chord = next(c for c in reversed(plan.chart) if c.start_beat <= t + 1e-9)
            starts_here = abs(chord.start_beat - t) < 1e-9
            cells.append(
                progressions.chart_symbol(chord.root, chord.quality)
                if starts_here or beat == 0
                else "/"
            )
        lines.append(f"{bar + 1} " + " ".join(cells))
    return lines


def song_text(plan: SongPlan) -> str:
    out = [
        f"// EMSYNC MMA corpus {plan.song_id}: {plan.family}, {plan.progression.name}, "
        f"{NOTE_NAMES[plan.tonic]} {plan.mode}. Generated with GPL groove patterns: not for "
        "redistribution (docs/corpus.md).",
        f"RndSeed {plan.rnd_seed}",
        f"Tempo {plan.tempo}",
    ]
    if plan.aria:
        out += [
            "Begin Aria",
            f" Voice {plan.aria.voice}",
            " Octave 5",
            " Range 1.5",
            " Articulate 90",
            f" Direction {plan.aria.direction}",
            f" ScaleType {plan.aria.scale}",
            f" Sequence {plan.aria.sequence}",
            " Rskip 10",
            " Rvolume 15",
            " Rtime 5",
            "End",
        ]
    # MMA keeps a track's Off/On across Groove changes, but a Groove that creates a DRUM track
    # creates it On: the switch is restated after every Groove line (checked with mma 21.09).
    # A song whose every section plays its drums is written as before (no switch lines).
    switch = any(not s.drums for s in plan.sections)
    for s in plan.sections:
        drums = [f"AllTracks Drum {'On' if s.drums else 'Off'}"] if switch else []
        out.append("")
        out.append(f"// {s.kind}")
        out.append(f"Groove {s.groove}")
        out += [f"{t} Voice AcousticBass" for t in plan.force_bass.get(s.groove, ())]
        out += drums
        if plan.aria:
            out.append("Aria On" if s.lead else "Aria Off")
        a, b = s.dynamics
        out.append(f"Volume {a}")
        if b != a:
            out.append(f"{'Cresc' if VOLUME[b] > VOLUME[a] else 'Decresc'} {a} {b} {s.bars}")
        body = s.bars - (1 if s.fill else 0)
        out += chord_lines(plan, s.start_bar, body)
        if s.fill:
            out.append(f"Groove {s.fill}")
            out += [f"{t} Voice AcousticBass" for t in plan.force_bass.get(s.fill, ())]
            out += drums
            out += chord_lines(plan, s.start_bar + body, 1)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------
# Labels


def arousal_of(density_120: float, tempo: float, dynamics: tuple[str, str]) -> float:
    d = max(density_120 * tempo / 120.0, 1e-6)
    lo, hi = np.log(DENSITY_RANGE[0]), np.log(DENSITY_RANGE[1])
    dens = float(np.clip(2 * (np.log(d) - lo) / (hi - lo) - 1, -1, 1))
    vol = (VOLUME[dynamics[0]] + VOLUME[dynamics[1]]) / 2
    dyn = 2 * (vol - VOLUME["p"]) / (VOLUME["f"] - VOLUME["p"]) - 1
    return round(0.75 * dens + 0.25 * dyn, 4)


def quality_share(chart: Sequence[ChartChord], start_beat: float, end_beat: float) -> float:
    """Bright minus dark share of the chord time inside [start_beat, end_beat)."""
    bright = dark = total = 0.0
    for c in chart:
        overlap = max(0.0, min(c.start_beat + c.beats, end_beat) - max(c.start_beat, start_beat))
        total += overlap
        bright += overlap if c.quality in labels.BRIGHT else 0.0
        dark += overlap if c.quality in labels.DARK else 0.0
    return (bright - dark) / total if total > 0 else 0.0


def song_labels(plan: SongPlan) -> dict:
    """The sidecar JSON (`sidecar.FORMAT`) of a song: exact, from the plan."""
    spb = plan.seconds_per_beat
    mode_sign = 1.0 if plan.mode == "major" else -1.0
    windows = []
    for s in plan.sections:
        lo, hi = s.start_bar * plan.beats, (s.start_bar + s.bars) * plan.beats
        quality = quality_share(plan.chart, lo, hi)
        windows.append(
            {
                "kind": s.kind,
                "start_s": round(lo * spb, 4),
                "end_s": round(hi * spb, 4),
                "groove": s.groove,
                "fill": s.fill,
                "density_120": s.density,  # of what renders: without drums when they are off
                "drums": s.drums,
                "dynamics": list(s.dynamics),
                "lead": s.lead,
                "mode": plan.mode,
                "chord_quality": round(quality, 4),
                "valence": round(0.5 * mode_sign + 0.5 * quality, 4),
                "arousal": arousal_of(s.density, plan.tempo, s.dynamics),
            }
        )
    length = [w["end_s"] - w["start_s"] for w in windows]
    chart = [
        {
            "time_s": round(c.start_beat * spb, 4),
            "beats": c.beats,
            "symbol": progressions.chart_symbol(c.root, c.quality),
            "root": c.root,
            "quality": c.quality,
        }
        for c in plan.chart
    ]
    return {
        "format": sidecar.FORMAT,
        "source": "mma",
        "song": plan.song_id,
        "key": f"{NOTE_NAMES[plan.tonic]} {plan.mode}",
        "tonic": plan.tonic,
        "mode": plan.mode,
        "tempo": plan.tempo,
        "beats_per_bar": plan.beats,
        "bars": plan.bars,
        "duration_s": round(plan.duration_s, 4),
        "family": plan.family,
        "grooves": sorted({s.groove for s in plan.sections}),
        "lead_voice": plan.aria.voice if plan.aria else None,
        "drum_plan": plan.drum_plan,
        "drum_windows": [i for i, w in enumerate(windows) if w["drums"]],
        "progression": {
            "name": plan.progression.name,
            "source": plan.progression.source,
            "style": plan.progression.style,
        },
        "chords_per_bar": plan.chords_per_bar,
        "chart": chart,
        # `<CHORD>` boundaries: chords held for at least chords.MIN_BEATS beats, as in training.
        "boundaries_s": [c["time_s"] for c in chart if c["beats"] >= 2],
        "valence": round(float(np.average([w["valence"] for w in windows], weights=length)), 4),
        "arousal": round(float(np.average([w["arousal"] for w in windows], weights=length)), 4),
        "windows": windows,
    }


def rendered_drums(midi, windows: Sequence[dict], margin_s: float = 0.05) -> list[bool]:  # noqa: ANN001
    """Per window (sidecar `windows`): does the MIDI hold drum notes that the tokens keep?

    Checks a render against its labels, and measures corpora written before the sidecar had
    `drums`. `margin_s` keeps MMA's timing jitter at a section's edge out of its neighbour."""
    from . import events

    starts = np.array(
        [n.start for n in events.piece_from_midi(midi).notes if n.group == events.DRUMS]
    )
    return [
        bool(np.any((starts >= w["start_s"] + margin_s) & (starts < w["end_s"] - margin_s)))
        for w in windows
    ]


# ---------------------------------------------------------------------------------------
# Rendering and building


def song_paths(out: Path, index: int) -> tuple[Path, Path, Path]:
    folder = out / "songs" / f"{index // 1000:03d}"
    stem = folder / f"s{index:06d}"
    return stem.with_suffix(".mma"), stem.with_suffix(".mid"), stem.with_suffix(".json")


def render(plan: SongPlan, out: Path, index: int) -> float:
    """Write .mma, .mid and the sidecar .json (last, atomically); returns the music seconds."""
    # Absolute paths: mma runs inside the song's folder.
    mma_path, mid_path, json_path = song_paths(out.resolve(), index)
    mma_path.parent.mkdir(parents=True, exist_ok=True)
    mma_path.write_text(song_text(plan))
    tmp_mid = mid_path.with_name(f".{mid_path.name}.tmp.mid")
    result = subprocess.run(
        ["mma", "-w", "-xNOCREDIT", str(mma_path), "-f", str(tmp_mid)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=mma_path.parent,
    )
    if result.returncode != 0 or not tmp_mid.exists():
        raise RuntimeError(f"mma failed on {mma_path}: {result.stdout[-300:]}")
    os.replace(tmp_mid, mid_path)
    tmp = json_path.with_name(f".{json_path.name}.tmp")
    tmp.write_text(json.dumps(song_labels(plan), indent=1))
    os.replace(tmp, json_path)
    return plan.duration_s


_STATE: dict = {}


def _init_worker(out: Path, seed: int, families: list[Family], pool: list[Progression]) -> None:
    _STATE.update(out=out, seed=seed, families=families, pool=pool)


def _render_job(index: int) -> tuple[int, float, str | None]:
    s = _STATE
    plan = plan_song(index, s["seed"], s["families"], s["pool"])
    try:
        return index, render(plan, s["out"], index), None
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return index, 0.0, str(exc)[:300]


def load_or_build_inputs(
    out: Path, workers: int, log
) -> tuple[list[Family], list[Progression], dict]:  # noqa: ANN001
    """The curated groove families and the progression pool, cached in OUT (resumable)."""
    version = mma_grooves.mma_version()
    inv_path = out / "grooves.json"
    inventory = json.loads(inv_path.read_text()) if inv_path.exists() else None
    if (
        inventory is None
        or inventory.get("mma_version") != version
        or inventory.get("format") != mma_grooves.INVENTORY_FORMAT
    ):
        started = time.perf_counter()
        inventory = mma_grooves.build_inventory(workers, log)
        inv_path.write_text(json.dumps(inventory))
        log(f"groove inventory: {time.perf_counter() - started:.0f} s -> {inv_path}")
    grooves, measures = mma_grooves.load_inventory(inventory)
    families, dropped = mma_grooves.curate(grooves, measures)
    prog_path = out / "progressions.json"
    if prog_path.exists():
        pool = [progressions.from_json(d) for d in json.loads(prog_path.read_text())]
    else:
        started = time.perf_counter()
        pool = build_progressions(workers)
        prog_path.write_text(json.dumps([progressions.to_json(p) for p in pool]))
        log(f"progressions: {len(pool)} in {time.perf_counter() - started:.0f} s -> {prog_path}")
    info = {"mma_version": version, "curation": mma_grooves.summary(families, dropped)}
    return families, pool, info


def build_progressions(workers: int) -> list[Progression]:
    from . import corpus

    files = sorted(
        str(p)
        for p in (corpus.music21_root() / "bach").rglob("*")
        if p.suffix.lower() in (".mxl", ".xml")
    )
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(max(1, workers)) as pool:
        chorales = [p for p in pool.map(_safe_chorale, files, chunksize=8) if p is not None]
        _finish(pool)
    seen: set = set()
    out = []
    for p in progressions.generated_progressions() + progressions.example_progressions() + chorales:
        key = (p.chords, p.beats)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _finish(pool) -> None:  # noqa: ANN001
    """Close and join a pool: leaving the `with` block would terminate (SIGTERM) the idle
    workers, and the CLI's signal handler prints a traceback for each."""
    pool.close()
    pool.join()


def _safe_chorale(path: str) -> Progression | None:
    try:
        return progressions.chorale_progression(path)
    except Exception:  # an unparsable chorale is one progression fewer, not a failed build
        return None


def plan_corpus(
    hours: float, seed: int, families: Sequence[Family], pool: Sequence[Progression]
) -> list[tuple[int, float]]:
    """(index, seconds) of the songs until their music adds up to `hours`."""
    out, total, index = [], 0.0, 0
    while total < hours * 3600:
        seconds = plan_song(index, seed, families, pool).duration_s
        out.append((index, seconds))
        total += seconds
        index += 1
    return out


def build_mma(out: Path, hours: float, seed: int, workers: int = 2, log=None) -> dict:  # noqa: ANN001
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    families, pool, info = load_or_build_inputs(out, workers, log)
    if not families:
        raise EmsyncError("no usable MMA groove survived curation; check the mma install")
    songs = plan_corpus(hours, seed, families, pool)
    todo = [(i, s) for i, s in songs if not song_paths(out, i)[2].exists()]
    log(
        f"mma corpus: {len(songs)} songs, {sum(s for _, s in songs) / 3600:.1f} h planned; "
        f"{len(songs) - len(todo)} already written, {len(todo)} to render with {workers} workers"
    )
    done_s, failed, last = 0.0, [], time.perf_counter()
    want_s = sum(s for _, s in todo)
    ctx = multiprocessing.get_context("fork")
    args = (out, seed, list(families), list(pool))
    with ctx.Pool(max(1, workers), initializer=_init_worker, initargs=args) as workers_pool:
        results = workers_pool.imap_unordered(_render_job, [i for i, _ in todo], chunksize=4)
        for n, (index, seconds, error) in enumerate(results, 1):
            done_s += seconds
            if error:
                failed.append({"index": index, "error": error})
                if len(failed) <= 3:
                    log(f"mma corpus: song {index} failed: {error}")
                if len(failed) >= 20 and len(failed) == n:
                    raise EmsyncError(f"mma corpus: the first {n} songs all failed: {error}")
            now = time.perf_counter()
            if now - last > 15 or n == len(todo):
                last = now
                rate = done_s / max(now - started, 1e-6)
                left = (want_s - done_s) / rate if rate > 0 else math.inf
                log(
                    f"mma corpus: {n}/{len(todo)} songs, {done_s / 3600:.2f}/"
                    f"{want_s / 3600:.2f} h of music, {now - started:.0f} s elapsed, "
                    f"about {left:.0f} s left"
                )
        _finish(workers_pool)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    manifest = {
        **info,
        "seed": seed,
        "hours_requested": hours,
        "songs": len(songs),
        "hours": round(sum(s for _, s in songs) / 3600, 3),
        "rendered_now": len(todo) - len(failed),
        "failed": failed,
        "build_seconds": round(time.perf_counter() - started, 1),
        "child_cpu_seconds": round(children.ru_utime + children.ru_stime, 1),
    }
    (out / "mma_manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


# ---------------------------------------------------------------------------------------
# Command line (options added to `emsync train` by corpus.configure_parser)


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--build-mma",
        metavar="OUT",
        type=Path,
        help="write an MMA song corpus (.mma, .mid, label .json) into OUT; needs `mma` "
        "(scripts/setup-training.sh). Then tokenise it with --build-corpus OUT",
    )
    # `emsync train` already has --hours (the training run's wall-clock budget, train.py);
    # with --build-mma it is read as hours of music. --mma-hours says the same explicitly.
    p.add_argument(
        "--mma-hours",
        type=float,
        help="with --build-mma: hours of music (default: --hours, else 1; --seed seeds it)",
    )


def run(args: argparse.Namespace) -> int:
    hours = args.mma_hours or getattr(args, "hours", None) or 1.0
    if hours <= 0 or args.workers < 1:
        raise EmsyncError("--hours must be > 0 and --workers >= 1")
    seed = int(getattr(args, "seed", 0) or 0)  # `emsync train --seed` (train.configure_parser)
    m = build_mma(Path(args.build_mma), hours, seed, args.workers)
    print(
        f"mma corpus: {m['songs']} songs, {m['hours']:.2f} h, seed {seed}; rendered "
        f"{m['rendered_now']} now, {len(m['failed'])} failed; {m['build_seconds']:.0f} s -> "
        f"{args.build_mma}. Next: emsync train --build-corpus {args.build_mma} --out CORPUS"
    )
    return 1 if m["failed"] else 0
