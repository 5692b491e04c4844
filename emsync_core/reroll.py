"""A new take of one scene: `emsync score INPUT --out DIR --reroll K --seed N`.

An editor keeps the scenes whose music works and asks again for the one that does not. The
re-roll reads the score already in DIR (score.mid and report.json, whose "plan" holds every
section's tempo, key and harmonic rhythm), writes scene K again with the same engine and
ensemble (a new seed, and a new mood when given), and splices it in: every note that starts
outside scene K is kept exactly. The cuts around the scene still get a new harmony: the
arranger is told the chords on both sides; the transformer's excerpt is checked at both
seams and, if a seam fails, written again with the next seed of a fixed sequence (so a take
is reproducible from the seed that was asked for).

The folder keeps its history in `takes/`: each earlier take's score.mid and report.json
(`take-<n>.mid`, `take-<n>.json`), and short auditions of the re-rolled scene in every take
(`take-<n>-scene-<k>.wav`, the scene with a second either side) for A/B listening.
`--take N` brings scene K of take N back, note for note.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pretty_midi

from . import output_folder
from .audio import render as rendering
from .emotion.mapping import SceneMood
from .emotion.overrides import parse_emotion_spec
from .errors import EmsyncError
from .music.alignment import measure_alignment
from .music.arranger import Context
from .music.harmony import chord_from_symbol
from .music.plan import ScorePlan, excerpt, plan_from_json, replan_scene
from .music.score import (
    ChordEvent,
    Score,
    add_cut_lyrics,
    load_midi,
    new_midi,
    set_beat_grid,
    tick_scale,
)
from .pipeline import (
    SAMPLE_RATE,
    Composed,
    Deliverables,
    ScoreOptions,
    compose,
    deliver,
    new_stages,
)
from .timeline import Edit, read_with_timeline
from .timeline.build import video_timeline
from .video.frames import VIDEO_SUFFIXES

TAKES = "takes"
AUDITION_MARGIN_S = 1.0
SEAM_TRIES = 8
# A note starting this close before a cut is heard on the cut: it belongs to the later scene
# (times read back from a MIDI file are whole ticks, a fraction of a millisecond off).
_ON_CUT_S = 1e-3


@dataclass(frozen=True)
class Take:
    """One scene's new music, spliced into the whole score."""

    midi: pretty_midi.PrettyMIDI
    chords: tuple[ChordEvent, ...]
    seed: int | None  # the seed whose excerpt was kept (asked-for unless a seam failed); None
    # when the scene came back from an earlier take


def reroll(
    input_path: str | Path, scene: int, options: ScoreOptions, from_take: int | None = None
) -> Deliverables:
    """Write a new take of scene `scene` into the existing output folder `options.out` (or
    the default `<stem>.emsync`), with `options.seed`, `options.emotion` (one mood, or None
    to keep the scene's), `options.render`... `from_take` brings scene `scene` of that earlier
    take back instead of writing new music."""
    path = Path(input_path)
    out_dir = Path(options.out) if options.out else Path.cwd() / f"{path.stem}.emsync"
    with output_folder.locked(out_dir):
        report = read_report(out_dir)
        return _reroll_locked(path, out_dir, report, scene, options, from_take)


def read_report(out_dir: Path) -> dict:
    """The report of the score in `out_dir`, or a plain error saying what to run first."""
    report_path, midi_path = out_dir / "report.json", out_dir / "score.mid"
    if not report_path.is_file() or not midi_path.is_file():
        raise EmsyncError(
            f"'{out_dir}' holds no EMSYNC score (report.json and score.mid are needed). "
            f"Score the timeline first: emsync score INPUT --out '{out_dir}'."
        )
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmsyncError(f"'{report_path}' cannot be read ({exc}). Score it again.") from None
    if "plan" not in report:
        raise EmsyncError(
            f"'{report_path}' was written by an older EMSYNC without the plan a re-roll needs. "
            "Score the timeline again with --force, then re-roll."
        )
    return report


def _reroll_locked(
    path: Path,
    out_dir: Path,
    report: dict,
    scene: int,
    options: ScoreOptions,
    from_take: int | None,
) -> Deliverables:
    n_scenes = len(report["scenes"])
    if not 0 <= scene < n_scenes:
        raise EmsyncError(
            f"There is no scene {scene}: the score in '{out_dir}' has scenes 0-{n_scenes - 1} "
            '(report.json, "scenes").'
        )
    # A re-roll writes with the engine (and the weights) the score was written with.
    weights = report.get("weights")
    options = dataclasses.replace(
        options,
        engine=report["engine"],
        ensemble=report.get("ensemble", "film"),
        weights=Path(weights) if weights else options.weights,
    )
    takes = list(report.get("takes") or [{"take": 1, "scene": None, "seed": report["seed"]}])
    number = max(t["take"] for t in takes) + 1
    stages = new_stages(options)
    try:
        with stages.stage("read timeline"):
            edit, timeline = _same_edit(path, report, options)
        with stages.stage("moods"):
            moods = _moods(report, scene, options.emotion if from_take is None else None)
        with stages.stage("plan"):
            plan, owners = plan_from_json(report["plan"])
            old = load_midi(out_dir / "score.mid")
            old_chords = _chords(report)
            if from_take is not None:
                earlier = read_take(out_dir, from_take)
                plan = _with_sections(plan, owners, scene, plan_from_json(earlier["plan"])[0])
                moods[scene] = _report_mood(earlier["scenes"][scene])
            elif options.emotion:
                plan = replan_scene(
                    plan, owners, scene, (moods[scene].valence, moods[scene].arousal)
                )
        with stages.stage("generate"):
            if from_take is not None:
                take = restore(old, old_chords, out_dir, from_take, earlier, plan, owners, scene)
            else:
                take = new_take(old, old_chords, plan, owners, scene, options)
        result = Score(take.midi, take.chords, report["engine"], report["seed"])
        composed = Composed(path, edit, timeline, tuple(moods), plan, tuple(owners), result)
        entry = {
            "take": number,
            "scene": scene,
            "seed": options.seed if from_take is None else None,
            "kept_seed": take.seed,
            "from_take": from_take,
            "valence": round(moods[scene].valence, 4),
            "arousal": round(moods[scene].arousal, 4),
            "engine": report["engine"],
        }
        span = _scene_span(plan, owners, scene)
        gain = _gain(report)

        def keep(staging: Path) -> None:
            audition = (number, scene, span, gain, options.soundfont)
            _keep_takes(out_dir, staging, old, take.midi, audition)

        return deliver(composed, out_dir, options, stages, takes + [entry], keep, replace=True)
    finally:
        stages.close()


def _same_edit(path: Path, report: dict, options: ScoreOptions) -> tuple[Edit, object]:
    """The timeline again, checked against the one the score was made for."""
    rate = Fraction(report["rate_exact"])
    cuts = [c["frame"] for c in report["cuts"]]
    if path.suffix.lower() in VIDEO_SUFFIXES:  # its cuts were detected once: reuse them
        edit, timeline = video_timeline(path, report["duration_frames"], rate, cuts)
    else:
        edit, timeline = read_with_timeline(path, options.rate, options.timeline or None)
    if edit.duration != report["duration_frames"] or list(edit.cuts) != cuts:
        raise EmsyncError(
            f"'{path.name}' is not the timeline this score was made for: it has "
            f"{len(edit.cuts)} cuts over {edit.duration} frames, the score "
            f"{len(cuts)} over {report['duration_frames']}. The edit changed: score it again "
            "(emsync score ... --force) instead of re-rolling a scene."
        )
    return edit, timeline


def _report_mood(entry: dict) -> SceneMood:
    return SceneMood(
        float(entry["valence"]),
        float(entry["arousal"]),
        entry.get("mood_source") or "default",
        entry.get("probs") or {},
        decoded_share=entry.get("mood_decoded_share"),
        too_few_frames=bool(entry.get("mood_too_few_frames")),
        face_share=entry.get("mood_face_share"),
    )


def _moods(report: dict, scene: int, emotion: str | None) -> list[SceneMood]:
    """The moods the score was made with; scene `scene`'s replaced by `emotion` if given."""
    moods = [_report_mood(s) for s in report["scenes"]]
    if emotion:
        if Path(emotion).suffix.lower() == ".json":
            raise EmsyncError(
                "A re-roll changes one scene: give its mood as a name or V,A pair "
                f"(--emotion fear, --emotion=-0.5,0.2), not the file '{emotion}'."
            )
        moods[scene] = parse_emotion_spec(emotion, "cli")
    return moods


def _chords(report: dict) -> list[ChordEvent]:
    """The report's chords, with `scene` as the index of the plan's section (as engines give)."""
    starts = [s["start_s"] for s in report["plan"]["sections"]]
    chords = []
    for c in report["chords"]:
        section = bisect.bisect_right(starts, c["start_s"] + _ON_CUT_S) - 1
        chords.append(
            ChordEvent(c["start_s"], c["end_s"], c["chord"], c["key"], c["on_boundary"], section)
        )
    return chords


def _scene_span(plan: ScorePlan, owners: list[int], scene: int) -> tuple[float, float]:
    sections = [s for s, o in zip(plan.scenes, owners, strict=True) if o == scene]
    return sections[0].start_s, sections[-1].end_s


def _sections_of(owners: list[int], scene: int) -> tuple[int, int]:
    indices = [i for i, o in enumerate(owners) if o == scene]
    return indices[0], indices[-1] + 1


def _with_sections(plan: ScorePlan, owners: list[int], scene: int, earlier: ScorePlan) -> ScorePlan:
    """`plan` with scene `scene`'s sections as they were in the `earlier` take's plan."""
    first, stop = _sections_of(owners, scene)
    sections = list(plan.scenes)
    sections[first:stop] = earlier.scenes[first:stop]
    return ScorePlan(plan.duration_s, tuple(sections), plan.seed)


def _context(chords: list[ChordEvent], plan: ScorePlan, first: int, stop: int) -> Context:
    """The chords either side of sections [first, stop), for the arranger (a chord the
    transformer wrote may have no symbol of ours: "N.C.", then that side is free)."""
    start, end = plan.scenes[first].start_s, plan.scenes[stop - 1].end_s
    before = [c for c in chords if c.start_s < start - _ON_CUT_S]
    after = [c for c in chords if c.start_s >= end - _ON_CUT_S]
    chord_before = chord_from_symbol(before[-1].symbol) if before else None
    chord_after = chord_from_symbol(after[0].symbol) if after else None
    # A chord before the excerpt means it does not open the score: first > 0.
    return Context(
        before=(chord_before, plan.scenes[first - 1].key) if chord_before else None,
        after=chord_after,
    )


def new_take(
    old: pretty_midi.PrettyMIDI,
    old_chords: list[ChordEvent],
    plan: ScorePlan,
    owners: list[int],
    scene: int,
    options: ScoreOptions,
) -> Take:
    """Scene `scene` written again by `options.engine` with `options.seed` and spliced into
    `old`; both seams checked (see the module docstring)."""
    first, stop = _sections_of(owners, scene)
    start, end = plan.scenes[first].start_s, plan.scenes[stop - 1].end_s
    part = excerpt(plan, first, stop)
    context = _context(old_chords, plan, first, stop)
    seams = [t for t in (start, end) if 0 < t < plan.duration_s]
    take = None
    for attempt in range(SEAM_TRIES):
        seed = options.seed + 7919 * attempt  # a fixed sequence: the take is reproducible
        written = compose(part, dataclasses.replace(options, seed=seed), context=context)
        moved = _moved_chords(written.chords, start, first)
        span = (start, end)
        midi, chords = _spliced(old, old_chords, written.midi, moved, plan, span, options.engine)
        take = Take(midi, chords, seed)
        if all(a.new_harmony for a in measure_alignment(midi, seams)):
            break
    assert take is not None
    return take


def restore(
    old: pretty_midi.PrettyMIDI,
    old_chords: list[ChordEvent],
    out_dir: Path,
    number: int,
    earlier: dict,
    plan: ScorePlan,
    owners: list[int],
    scene: int,
) -> Take:
    """Scene `scene` as it was in take `number` (whose report is `earlier`), spliced into
    `old`."""
    first, stop = _sections_of(owners, scene)
    start, end = plan.scenes[first].start_s, plan.scenes[stop - 1].end_s
    earlier_midi = load_midi(out_dir / TAKES / f"take-{number}.mid")
    part = _relative(_window(earlier_midi, start, end, keep_inside=True), start)
    _planned_grid(part, excerpt(plan, first, stop), earlier["engine"])
    chords = [c for c in _chords(earlier) if start - _ON_CUT_S <= c.start_s < end - _ON_CUT_S]
    midi, chords = _spliced(old, old_chords, part, chords, plan, (start, end), earlier["engine"])
    return Take(midi, chords, None)


def _planned_grid(midi: pretty_midi.PrettyMIDI, plan: ScorePlan, engine: str) -> None:
    """The tempo map the engine gives a score of `plan`: the arranger's planned beats, or,
    for the transformer, beats fitted to its notes scene by scene."""
    if engine == "transformer":
        from .music.tempo_fit import set_fitted_beat_grid

        set_fitted_beat_grid(midi, plan.scenes)
    else:
        set_beat_grid(midi, [s.end_s for s in plan.scenes], [s.beats for s in plan.scenes])


def _relative(midi: pretty_midi.PrettyMIDI, origin: float) -> pretty_midi.PrettyMIDI:
    """`midi` moved earlier by `origin` seconds, into a new file with the score's resolution."""
    moved = new_midi()
    for inst in midi.instruments:
        copy = pretty_midi.Instrument(inst.program, inst.is_drum, inst.name)
        copy.notes = [
            pretty_midi.Note(n.velocity, n.pitch, n.start - origin, n.end - origin)
            for n in inst.notes
        ]
        copy.control_changes = [
            pretty_midi.ControlChange(c.number, c.value, max(0.0, c.time - origin))
            for c in inst.control_changes
        ]
        moved.instruments.append(copy)
    return moved


def read_take(out_dir: Path, number: int) -> dict:
    path = out_dir / TAKES / f"take-{number}.json"
    if not path.is_file() or not path.with_suffix(".mid").is_file():
        kept = sorted(p.stem for p in (out_dir / TAKES).glob("take-*.json"))
        raise EmsyncError(
            f"There is no take {number} in '{out_dir / TAKES}' (kept: "
            f"{', '.join(kept) or 'none'}; the current take is score.mid itself)."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _moved_chords(chords: tuple[ChordEvent, ...], start: float, first: int) -> list[ChordEvent]:
    return [
        dataclasses.replace(
            c, start_s=c.start_s + start, end_s=c.end_s + start, scene=c.scene + first
        )
        for c in chords
    ]


def _spliced(
    old: pretty_midi.PrettyMIDI,
    old_chords: list[ChordEvent],
    part: pretty_midi.PrettyMIDI,
    new_chords: list[ChordEvent],
    plan: ScorePlan,
    span: tuple[float, float],
    engine: str,
) -> tuple[pretty_midi.PrettyMIDI, tuple[ChordEvent, ...]]:
    """`old` outside `span` and `part` (an excerpt that starts at time 0, with its own tempo
    map) inside it, as one MIDI.

    The tempo map is spliced too (`_spliced_grid`), so every note outside the scene keeps its
    tick and its time to the microsecond; only when the old map has no tempo change on the
    scene's cuts (a shot shorter than a beat borrowed its neighbour's tempo there) is the
    whole map rebuilt, which moves later notes by a few microseconds."""
    start, end = span
    midi = new_midi()
    grid = _spliced_grid(old, part, span)
    origin = float(old.tick_to_time(int(old.time_to_tick(start)))) if grid else start
    end_file = float(old.tick_to_time(int(old.time_to_tick(end)))) if grid else end
    by_sound: dict[tuple[str, int, bool], pretty_midi.Instrument] = {}
    for source, inside, moved_by in ((old, False, 0.0), (part, True, origin)):
        for inst in source.instruments:
            sound = (inst.name, inst.program, inst.is_drum)
            if sound not in by_sound:
                by_sound[sound] = pretty_midi.Instrument(inst.program, inst.is_drum, inst.name)
                midi.instruments.append(by_sound[sound])
            target = by_sound[sound]
            kept = inst if inside else _window_instrument(inst, start, end, keep_inside=False)
            for n in kept.notes:
                stop = min(n.end + moved_by, end_file) if inside else n.end
                target.notes.append(pretty_midi.Note(n.velocity, n.pitch, n.start + moved_by, stop))
            for c in kept.control_changes:
                target.control_changes.append(
                    pretty_midi.ControlChange(c.number, c.value, c.time + moved_by)
                )
            for b in kept.pitch_bends:
                target.pitch_bends.append(pretty_midi.PitchBend(b.pitch, b.time + moved_by))
    midi.instruments = [i for i in midi.instruments if i.notes]
    for inst in midi.instruments:
        inst.notes.sort(key=lambda n: (n.start, n.pitch))
        inst.control_changes.sort(key=lambda c: c.time)
        inst.pitch_bends.sort(key=lambda b: b.time)
    outside = [c for c in old_chords if not start - _ON_CUT_S <= c.start_s < end - _ON_CUT_S]
    chords = tuple(sorted(outside + list(new_chords), key=lambda c: c.start_s))
    add_cut_lyrics(midi, chords)
    if grid:
        scales, total, signatures = grid
        midi._tick_scales = scales  # pretty_midi has no public API for a tempo map
        midi._update_tick_to_time(total + 1)
        midi.time_signature_changes = [
            pretty_midi.TimeSignature(n, d, float(midi.tick_to_time(tick)))
            for tick, n, d in signatures
        ]
    else:
        _planned_grid(midi, plan, engine)
    return midi, chords


Grid = tuple[list[tuple[int, float]], int, list[tuple[int, int, int]]]


def _spliced_grid(
    old: pretty_midi.PrettyMIDI, part: pretty_midi.PrettyMIDI, span: tuple[float, float]
) -> Grid | None:
    """The old tempo map with the scene's stretch replaced by `part`'s: (tick scales, last
    tick, time signatures as (tick, numerator, denominator)), or None when the old map has no
    tempo change at the scene's start or end.

    The scene keeps its length on the file's clock to the microsecond (its last beat absorbs
    the rounding of the new tempos), so everything after it keeps its time as well as its
    place in the bar."""
    res = old.resolution
    if part.resolution != res:
        return None
    t0, t1 = int(old.time_to_tick(span[0])), int(old.time_to_tick(span[1]))
    old_scales = list(old._tick_scales)
    ticks = [t for t, _ in old_scales]
    last = int(old.time_to_tick(old.get_end_time()))
    at_end = abs(span[1] - old.get_end_time()) < _ON_CUT_S or t1 >= max(ticks[-1], last)
    if t0 not in ticks or not (t1 in ticks or at_end):
        return None
    old_us = _clock_us(old_scales, t0, t1, res)
    part_end = int(part.time_to_tick(span[1] - span[0]))
    part_scales = [(t, s) for t, s in part._tick_scales if t < part_end]
    tempos = [(t, round(s * res * 1e6)) for t, s in part_scales]
    new_us = _clock_us([(t, u / (res * 1e6)) for t, u in tempos], 0, part_end, res)
    residual = old_us - new_us
    if residual:  # the last beat takes up the difference: whole microseconds, exactly
        last_tick, last_tempo = tempos[-1]
        if part_end - last_tick > res:
            tempos.append((part_end - res, last_tempo))
        tick, tempo = tempos[-1]
        tempos[-1] = (tick, tempo + round(residual * res / (part_end - tick)))
        if _clock_us([(t, u / (res * 1e6)) for t, u in tempos], 0, part_end, res) != old_us:
            return None
    moved = part_end - (t1 - t0)
    # Scales read from a file are not always the floats pretty_midi writes back as the same
    # tempo: every one goes through `tick_scale` again.
    scales = [(t, tick_scale(round(s * res * 1e6), res)) for t, s in old_scales if t < t0]
    scales += [(t0 + t, tick_scale(u, res)) for t, u in tempos]
    scales += [
        (t + moved, tick_scale(round(s * res * 1e6), res))
        for t, s in old_scales
        if t >= t1 and not at_end
    ]
    signatures = [(int(old.time_to_tick(ts.time)), ts) for ts in old.time_signature_changes]
    inside = [(t0 + int(part.time_to_tick(ts.time)), ts) for ts in part.time_signature_changes]
    merged = [(t, ts) for t, ts in signatures if t < t0] + inside
    merged += [(t + moved, ts) for t, ts in signatures if t >= t1 and not at_end]
    total = max(last + moved, t0 + part_end)
    return scales, total, [(t, ts.numerator, ts.denominator) for t, ts in merged]


def _clock_us(scales: list[tuple[int, float]], t0: int, t1: int, res: int) -> int:
    """Microseconds the file's clock runs from tick t0 to t1 (tempos in whole microseconds)."""
    total = 0
    for k, (tick, scale) in enumerate(scales):
        stop = scales[k + 1][0] if k + 1 < len(scales) else t1
        lo, hi = max(tick, t0), min(stop, t1)
        if hi > lo:
            total += (hi - lo) * round(scale * res * 1e6)
    return total // res if total % res == 0 else round(total / res)


def _window(
    midi: pretty_midi.PrettyMIDI, start: float, end: float, keep_inside: bool
) -> pretty_midi.PrettyMIDI:
    copy = pretty_midi.PrettyMIDI(resolution=midi.resolution)
    copy.instruments = [_window_instrument(i, start, end, keep_inside) for i in midi.instruments]
    return copy


def _window_instrument(
    inst: pretty_midi.Instrument, start: float, end: float, keep_inside: bool
) -> pretty_midi.Instrument:
    """The notes starting inside [start, end) (or outside, with `keep_inside=False`), and the
    controller moves they need: those in (start, end] belong to the inside (an expression
    swell ends on the cut after the scene), the rest outside."""

    def inside_note(t: float) -> bool:
        return start - _ON_CUT_S <= t < end - _ON_CUT_S

    def inside_control(t: float) -> bool:
        return start + _ON_CUT_S < t <= end + _ON_CUT_S

    copy = pretty_midi.Instrument(inst.program, inst.is_drum, inst.name)
    copy.notes = [n for n in inst.notes if inside_note(n.start) == keep_inside]
    copy.control_changes = [
        c for c in inst.control_changes if inside_control(c.time) == keep_inside or c.time == 0
    ]
    copy.pitch_bends = [b for b in inst.pitch_bends if inside_control(b.time) == keep_inside]
    return copy


def _gain(report: dict) -> float:
    """The take's mastering gain (auditions of every take sound at the score's level)."""
    gain_db = (report.get("audio") or {}).get("gain_db")
    return 10 ** (gain_db / 20) if gain_db is not None else 1.0


def _keep_takes(
    out_dir: Path,
    staging: Path,
    old: pretty_midi.PrettyMIDI,
    new: pretty_midi.PrettyMIDI,
    audition: tuple[int, int, tuple[float, float], float, Path | None],
) -> None:
    """Carry `takes/` over, add the previous take's MIDI and report, and auditions of scene
    `scene` in the previous take (when missing) and in the new one."""
    number, scene, span, gain, soundfont = audition
    takes = staging / TAKES
    if (out_dir / TAKES).is_dir():
        shutil.copytree(out_dir / TAKES, takes)
    takes.mkdir(exist_ok=True)
    previous = number - 1
    shutil.copyfile(out_dir / "score.mid", takes / f"take-{previous}.mid")
    shutil.copyfile(out_dir / "report.json", takes / f"take-{previous}.json")
    before = takes / f"take-{previous}-scene-{scene}.wav"
    if not before.exists():
        write_audition(old, span, before, gain, soundfont)
    write_audition(new, span, takes / f"take-{number}-scene-{scene}.wav", gain, soundfont)


def write_audition(
    midi: pretty_midi.PrettyMIDI,
    span: tuple[float, float],
    out: Path,
    gain: float = 1.0,
    soundfont: Path | None = None,
) -> None:
    """The scene [start, end) with `AUDITION_MARGIN_S` either side, rendered on its own at the
    score's gain: what the A/B buttons play. Notes already sounding at the excerpt's start
    are struck there."""
    import soundfile

    t0 = max(0.0, span[0] - AUDITION_MARGIN_S)
    t1 = span[1] + AUDITION_MARGIN_S
    part = pretty_midi.PrettyMIDI(resolution=midi.resolution)
    for inst in midi.instruments:
        copy = pretty_midi.Instrument(inst.program, inst.is_drum, inst.name)
        copy.notes = [
            pretty_midi.Note(n.velocity, n.pitch, max(0.0, n.start - t0), min(n.end, t1) - t0)
            for n in inst.notes
            if n.start < t1 and n.end > t0
        ]
        copy.control_changes = [
            pretty_midi.ControlChange(c.number, c.value, max(0.0, c.time - t0))
            for c in inst.control_changes
            if c.time < t1
        ]
        if copy.notes:
            part.instruments.append(copy)
    n_samples = round((t1 - t0) * SAMPLE_RATE)
    audio = np.zeros((n_samples, 2), dtype=np.float32)
    if part.instruments:
        for begin, chunk in rendering.render_chunks(part, soundfont, SAMPLE_RATE, n_samples):
            audio[begin : begin + len(chunk)] = chunk
    audio *= gain
    peak = float(np.abs(audio).max(initial=0.0))
    if peak > 0.89:  # -1 dBFS: an audition is not mastered, so it must not clip
        audio *= 0.89 / peak
    soundfile.write(out, audio, SAMPLE_RATE, subtype="PCM_16")
