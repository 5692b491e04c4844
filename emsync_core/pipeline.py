"""`score(path)`: the whole chain from a timeline file to the deliverables.

This is the only module that knows every stage. Each stage is a plain function from one
dataclass to the next; here they are called in order, timed, and their results written
atomically into the output folder.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio

from . import __version__, defaults, output_folder
from .audio import master as mastering
from .audio import render as rendering
from .emotion.classify import analyze_edit, analyze_video
from .emotion.mapping import DEFAULT_VA, SceneMood
from .emotion.overrides import marker_mood, resolve_moods
from .emotion.user_head import load_user_head
from .errors import EmsyncError, OutputError
from .music.alignment import CutAlignment, measure_alignment
from .music.arranger import arrange
from .music.plan import ScorePlan, plan_score
from .music.score import Score, layer_of, load_midi
from .progress import Stages
from .timeline import Edit, Marker, read_with_timeline
from .timeline.build import video_timeline
from .timeline.timebase import exact_rate
from .timeline.write import write_scored
from .video.frames import VIDEO_SUFFIXES, probe

SAMPLE_RATE = 48_000
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# Stems, mix and mastering buffers are all held in memory: a 57-minute timeline peaked at
# 19.7 GB (benchmarks/results/score.md). Longer renders would not fit a 24 GB machine, so
# they are refused up front instead of crashing late; streaming the render would lift this.
MAX_RENDER_S = 3600


@dataclass(frozen=True)
class ScoreOptions:
    out: Path | None = None
    seed: int = 0
    emotion: str | None = None
    engine: str = defaults.ENGINE
    soundfont: Path | None = None
    rate: float | None = None
    timeline: str | None = None
    render: bool = True
    force: bool = False
    target_lufs: float = -16.0
    relative_media: bool = False  # media paths in the scored timeline relative to --out
    video: Path | None = None  # one file holding the whole timeline, for mood analysis
    media_root: Path | None = None  # where moved media can be found, by file name
    analyze: bool = True  # estimate moods from the footage when it can be reached
    unconstrained: bool = False  # transformer only: no forced chord on cuts (evaluation)
    guidance: float = defaults.GUIDANCE  # transformer only (see defaults.py)
    key_bias: float = defaults.KEY_BIAS  # transformer only
    pace_bias: float = defaults.PACE_BIAS  # transformer only
    progress: bool | None = None  # None: only when stderr is a terminal


@dataclass(frozen=True)
class Deliverables:
    out_dir: Path
    files: dict[str, Path]
    edit: Edit
    moods: tuple[SceneMood, ...]
    alignment: tuple[CutAlignment, ...]
    messages: tuple[str, ...] = field(default=())


def score(input_path: str | Path, options: ScoreOptions | None = None) -> Deliverables:
    """Score a timeline file: score.mid, score.wav, stems/, <stem>.scored.otio, report.json."""
    options = options or ScoreOptions()
    path = Path(input_path)
    out_dir = Path(options.out) if options.out else Path.cwd() / f"{path.stem}.emsync"
    output_folder.check_target(out_dir, options.force)
    with output_folder.locked(out_dir):
        output_folder.check_target(out_dir, options.force)  # another run may have finished
        return _score_locked(path, out_dir, options)


def _score_locked(path: Path, out_dir: Path, options: ScoreOptions) -> Deliverables:
    stages = Stages(total=7 if options.render else 5, enabled=options.progress)
    try:
        analysed = None
        with stages.stage("read timeline"):
            if path.suffix.lower() in VIDEO_SUFFIXES:
                edit, timeline, analysed = read_video(path)
            else:
                edit, timeline = read_with_timeline(path, options.rate, options.timeline)
        n_samples = samples_for(edit.duration, edit.rate)
        if options.render and n_samples > MAX_RENDER_S * SAMPLE_RATE:
            raise EmsyncError(
                f"'{path.name}' is {edit.duration_s / 60:.0f} minutes long; rendering audio "
                f"is limited to {MAX_RENDER_S // 60} minutes per run (it is done in memory). "
                "Pass --no-render to write the MIDI, report and timeline only, or score "
                "the reels separately."
            )
        with stages.stage("moods"):
            moods = moods_for(edit, options, analysed)
        with stages.stage("plan"):
            plan, owners = plan_for(edit, moods, options.seed)
        with stages.stage("generate"):
            result = compose(plan, options, lambda f: stages.detail(f"{f:.0%} of the music"))

        with output_folder.Staging(out_dir, options.force) as staging:
            files = {"midi": staging / "score.mid"}
            result.midi.write(str(files["midi"]))
            audio_info: dict[str, object] = {}
            if options.render:
                with stages.stage("render"):
                    stems = rendering.render_stems(
                        result.midi,
                        options.soundfont,
                        SAMPLE_RATE,
                        n_samples,
                        group=layer_of,
                        on_stem=lambda name, i, n: stages.detail(f"{name} ({i + 1}/{n})"),
                    )
                with stages.stage("master"):
                    audio_info = _master_and_write(stems, n_samples, options, staging, files)
            with stages.stage("write"):
                written = write_scored(
                    edit,
                    out_dir / "score.wav",
                    staging / f"{path.stem}.scored{timeline_suffix(path)}",
                    relative_media=options.relative_media,
                    timeline=timeline,
                    audio_file=files.get("wav"),  # bundled into .otioz / .otiod
                    media_dir=out_dir,  # relative paths are relative to the final folder
                    audio_rendered=options.render,  # else a message: score.wav is missing
                )
                for written_file in written.files:
                    files["otio" if written_file.suffix == ".otio" else "timeline"] = written_file
                midi = load_midi(files["midi"])
                alignment = measure_alignment(midi, edit.cut_seconds)
                hit_alignment = measure_alignment(midi, [edit.seconds(f) for f in edit.hit_frames])
                messages = _messages(edit, moods) + written.messages
                report = build_report(
                    path, edit, moods, (plan, owners), result, (alignment, hit_alignment), options
                )
                report["audio"] = audio_info
            report["timings_s"] = stages.timings
            files["report"] = staging / "report.json"
            files["report"].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    finally:
        stages.close()
    final_files = {name: out_dir / p.relative_to(staging) for name, p in files.items()}
    return Deliverables(out_dir, final_files, edit, tuple(moods), tuple(alignment), messages)


def compose(
    plan: ScorePlan, options: ScoreOptions, on_progress: Callable[[float], None] | None = None
) -> Score:
    """Run the chosen engine on the plan; `on_progress(fraction)` hears how far the
    transformer has got (the arranger takes milliseconds)."""
    if options.engine == "arranger":
        return arrange(plan, options.seed)
    if options.engine != "transformer":
        raise EmsyncError(f"Unknown engine '{options.engine}': use arranger or transformer.")
    from .music.generate import generate
    from .music.model import EmsyncTransformer

    if not (WEIGHTS_DIR / "model.safetensors").is_file():
        raise EmsyncError(
            f"No transformer weights in '{WEIGHTS_DIR}' (model.safetensors). Train them with "
            "`emsync train --corpus DIR --out RUN` and copy the best model there, or use "
            "--engine arranger."
        )
    model = EmsyncTransformer.load(WEIGHTS_DIR)
    return generate(
        plan,
        model,
        options.seed,
        constrained=not options.unconstrained,
        guidance=options.guidance,
        key_bias=options.key_bias,
        pace_bias=options.pace_bias,
        on_progress=on_progress,
    )


def moods_for(
    edit: Edit, options: ScoreOptions, analysed: list[SceneMood] | None = None
) -> list[SceneMood]:
    """Each scene's mood: analysed from its footage where reachable, then --emotion, markers.

    A single --emotion for every scene makes analysis pointless, so it is skipped then.
    """
    single = options.emotion and Path(options.emotion).suffix.lower() != ".json"
    if analysed is None and options.analyze and not single:
        found = analyze_edit(edit, options.video, options.media_root, head=load_user_head())
        if any(m is not None for m in found):
            default = SceneMood(*DEFAULT_VA, "default")
            analysed = [m if m is not None else default for m in found]
    return resolve_moods(edit, analysed=analysed, emotion=options.emotion)


def read_video(path: Path) -> tuple[Edit, otio.schema.Timeline, list[SceneMood]]:
    """A raw video as a timeline: cuts and per-scene moods from one analysis pass."""
    if not path.is_file():
        raise EmsyncError(f"The video '{path}' does not exist. Check the path.")
    info = probe(path)
    rate = exact_rate(info.fps)
    duration = round(Fraction(info.duration_s).limit_denominator(10**6) * rate)
    if duration <= 0:
        raise EmsyncError(f"The video '{path}' has no frames to score.")
    spans, moods = analyze_video(path, head=load_user_head())
    cuts = sorted({round(Fraction(s.start_s).limit_denominator(10**6) * rate) for s in spans[1:]})
    cuts = [c for c in cuts if 0 < c < duration]
    edit, timeline = video_timeline(path, duration, rate, cuts)
    if len(moods) != len(edit.scenes):  # cuts merged by rounding to frames: re-analyse per scene
        found = analyze_edit(edit, video=path, head=load_user_head())
        moods = [m or SceneMood(*DEFAULT_VA, "default") for m in found]
    return edit, timeline, moods


def plan_for(edit: Edit, moods: list[SceneMood], seed: int) -> tuple[ScorePlan, list[int]]:
    """The plan, with every cut and every `hit` marker as a hard boundary.

    A hit splits its scene into sections that share the scene's mood. Returns the plan and,
    for each of its sections, the index of the scene it belongs to.
    """
    hits = set(edit.hit_frames)
    spans, owners, values = [], [], []
    for scene, mood in zip(edit.scenes, moods, strict=True):
        edges = [scene.start, *sorted(h for h in hits if scene.start < h < scene.end), scene.end]
        for start, end in itertools.pairwise(edges):
            spans.append((edit.seconds(start), edit.seconds(end)))
            owners.append(scene.index)
            values.append((mood.valence, mood.arousal))
    return plan_score(spans, values, seed), owners


def timeline_suffix(path: Path) -> str:
    """The scored timeline's extension: the input's own, or .otio for a raw video."""
    suffix = path.suffix.lower()
    return ".otio" if suffix in VIDEO_SUFFIXES else suffix


def samples_for(duration_frames: int, rate: Fraction) -> int:
    """Exact audio length of the timeline, rounded only once, to the nearest sample."""
    return round(Fraction(duration_frames) / rate * SAMPLE_RATE)


def _master_and_write(
    stems: dict[str, np.ndarray], n_samples: int, options: ScoreOptions, staging: Path, files: dict
) -> dict[str, object]:
    """Master the mix (the sum of the stems), then finish each stem with the mix's gain.

    Buffers are released as soon as they are written: a long timeline holds several GB each.
    """
    names = sorted(stems)
    mix = np.zeros_like(stems[names[0]])
    for stem in stems.values():
        mix += stem
    mixed, gain = mastering.master(mix, SAMPLE_RATE, n_samples, target_lufs=options.target_lufs)
    del mix
    files["wav"] = staging / "score.wav"
    mastering.write_wav(files["wav"], mixed, SAMPLE_RATE)
    loudness = mastering.loudness_lufs(mixed, SAMPLE_RATE)
    del mixed
    (staging / "stems").mkdir()
    for name in names:
        finished = mastering.finish_stem(stems.pop(name), SAMPLE_RATE, n_samples, gain)
        files[f"stem:{name}"] = staging / "stems" / f"{name}.wav"
        mastering.write_wav(files[f"stem:{name}"], finished, SAMPLE_RATE)
        del finished
    return {
        "sample_rate": SAMPLE_RATE,
        "channels": 2,
        "samples": n_samples,
        "loudness_lufs": round(loudness, 2),
        "target_lufs": options.target_lufs,
        "gain_db": round(20 * math.log10(gain), 2) if gain > 0 else None,
        "stems": names,
    }


def _messages(edit: Edit, moods: list[SceneMood]) -> tuple[str, ...]:
    messages = list(edit.warnings)
    if any(m.source == "default" for m in moods):
        n = sum(m.source == "default" for m in moods)
        messages.append(
            f"{n} of {len(moods)} scenes had no mood given (no --emotion, no marker, and their "
            "footage was not found: pass --video or --media-root): they use a gentle neutral "
            "default (valence 0.1, arousal -0.3)."
        )
    few = [i for i, m in enumerate(moods) if m.too_few_frames]
    if few:  # damaged media: most of these scenes' frames could not be decoded
        messages.append(
            f"{len(few)} of {len(moods)} scenes got their mood from too few frames (most of "
            f"their frames could not be decoded; scenes {', '.join(map(str, few[:10]))}"
            f"{', ...' if len(few) > 10 else ''}): the video looks damaged. Re-export it, or "
            "set those scenes' moods with markers or --emotion."
        )
    return tuple(messages)


def build_report(
    path: Path,
    edit: Edit,
    moods: list[SceneMood],
    planned: tuple[ScorePlan, list[int]],
    result: Score,
    measured: tuple[list[CutAlignment], list[CutAlignment]],
    options: ScoreOptions,
) -> dict[str, object]:
    """Everything a user or a test needs to check the score against the cut list."""
    plan, owners = planned
    alignment, hit_alignment = measured
    errors = [a.error_ms for a in alignment if a.error_ms is not None]
    frame_ms = 1000 / float(edit.rate)
    first_section = {scene: owners.index(scene) for scene in set(owners)}
    return {
        "emsync_version": __version__,
        "input": str(path.resolve()),
        "timeline": edit.name,
        "other_timelines": list(edit.other_timelines),
        "engine": result.engine,
        "seed": result.seed,
        "rate": float(edit.rate),
        "rate_exact": f"{edit.rate.numerator}/{edit.rate.denominator}",
        "start_timecode": edit.start_timecode,
        "duration_frames": edit.duration,
        "duration_s": edit.duration_s,
        "warnings": list(edit.warnings),
        "cuts": [
            {
                "frame": frame,
                "seconds": a.cut_s,
                "chord_onset_s": a.onset_s,
                "error_ms": None if a.error_ms is None else round(a.error_ms, 3),
                "pitch_classes": list(a.pitch_classes),
                "new_harmony": a.new_harmony,
            }
            for frame, a in zip(edit.cuts, alignment, strict=True)
        ],
        "hits": [
            {
                "frame": frame,
                "seconds": a.cut_s,
                "chord_onset_s": a.onset_s,
                "error_ms": None if a.error_ms is None else round(a.error_ms, 3),
                "new_harmony": a.new_harmony,
            }
            for frame, a in zip(edit.hit_frames, hit_alignment, strict=True)
        ],
        "markers": [
            {"frame": m.frame, "name": m.name, "note": m.note, "used_as": _marker_use(m, edit)}
            for m in edit.markers
        ],
        "alignment": {
            "cuts": len(alignment),
            "max_error_ms": round(max(errors), 3) if errors else None,
            "within_1_frame": sum(e <= frame_ms for e in errors),
            "new_harmony_on_cut": sum(a.new_harmony for a in alignment),
        },
        "scenes": [
            {
                "index": scene.index,
                "start_frame": scene.start,
                "end_frame": scene.end,
                "start_s": edit.seconds(scene.start),
                "end_s": edit.seconds(scene.end),
                "clip": scene.name,
                "valence": round(mood.valence, 4),
                "arousal": round(mood.arousal, 4),
                "mood_source": mood.source,
                "mood_decoded_share": mood.decoded_share and round(mood.decoded_share, 4),
                "mood_too_few_frames": mood.too_few_frames,
                "probs": dict(mood.probs),
                "key": plan.scenes[first_section[scene.index]].key.name,
                "tempo_bpm": round(plan.scenes[first_section[scene.index]].tempo_bpm, 2),
            }
            for scene, mood in zip(edit.scenes, moods, strict=True)
        ],
        "chords": [
            {
                "start_s": round(c.start_s, 6),
                "end_s": round(c.end_s, 6),
                "chord": c.symbol,
                "key": c.key,
                "on_boundary": c.hard,  # a cut, a hit marker or time 0
                "scene": owners[c.scene],
            }
            for c in result.chords
        ],
        "soundfont": str(options.soundfont or rendering.DEFAULT_SOUNDFONT),
    }


def render_midi_file(
    midi_path: Path, out: Path, soundfont: Path | None = None, force: bool = False
) -> Path:
    """Render any MIDI file to a mastered 48 kHz stereo WAV of the MIDI's length."""
    if not midi_path.is_file():
        raise EmsyncError(f"The MIDI file '{midi_path}' does not exist.")
    try:
        midi = load_midi(midi_path)
    except Exception as exc:  # mido and pretty_midi raise many types on corrupt files
        raise EmsyncError(
            f"'{midi_path}' is not a readable MIDI file ({exc}). Give a Standard MIDI File."
        ) from None
    if out.exists() and not force:
        raise OutputError(f"'{out}' already exists. Pass --force to replace it.")
    n_samples = round((midi.get_end_time() + 2.0) * SAMPLE_RATE)
    audio = rendering.render(midi, soundfont, SAMPLE_RATE, n_samples)
    mixed, _ = mastering.master(audio, SAMPLE_RATE, n_samples)
    mastering.write_wav(out, mixed, SAMPLE_RATE)
    return out


def _marker_use(marker: Marker, edit: Edit) -> str:
    if marker_mood(marker) is not None:
        return "mood"
    if marker.is_hit:
        return "hit" if marker.frame in edit.hit_frames else "hit on a cut (already a boundary)"
    return "ignored"
