"""`score(path)`: the whole chain from a timeline file to the deliverables.

This is the only module that knows every stage. Each stage is a plain function from one
dataclass to the next; here they are called in order, timed, and their results written
atomically into the output folder.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio

from . import __version__, defaults, output_folder
from .audio import render as rendering
from .emotion.mapping import DEFAULT_VA, SceneMood
from .emotion.overrides import marker_mood, marker_warnings, mood_marker_text, resolve_moods
from .errors import EmsyncError, OutputError
from .music.alignment import CutAlignment, measure_alignment
from .music.arranger import Context, arrange
from .music.ensemble import DEFAULT_ENSEMBLE, ENSEMBLES, apply_ensemble
from .music.midi_file import edit_marks, write_midi
from .music.plan import ScorePlan, plan_score, plan_to_json
from .music.score import Score, layer_of, load_midi, tempo_in
from .progress import Stages, format_duration
from .timeline import Edit, Marker, formats, read_with_timeline
from .timeline.build import video_timeline
from .timeline.timebase import exact_rate
from .timeline.write import write_scored
from .video.frames import VIDEO_SUFFIXES, probe

SAMPLE_RATE = 48_000
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# Renders longer than this say up front how much they will write and about how long they take.
LONG_RENDER_S = 600
DISK_MARGIN_BYTES = 200 * 2**20  # free space kept beyond the estimate
# Wall seconds per second of audio on the 2-core test machine under load, for the estimate a
# long render announces: rendering per layer, mastering the mix, finishing each stem
# (benchmarks/bench_render.py --reels; benchmarks/results/render.md).
RENDER_COST_PER_LAYER = 0.016
# The transformer's wall seconds per second of music on 2 cores (README: a 3-minute timeline
# in 13-24 s, render included); announced before it starts on timelines this long.
GENERATE_COST = 0.1
LONG_GENERATE_S = 120
MASTER_COST = 0.06
STEM_COST = 0.01


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
    weights: Path | None = None  # transformer only: a trained run's folder (None: the shipped)
    stems: bool = True  # also write one WAV per layer into stems/
    ensemble: str = DEFAULT_ENSEMBLE  # "film": the engine's own instruments (music/ensemble.py)
    preview: bool = False  # also write preview.mp4: the edit's picture with the score
    progress: bool | None = None  # None: a bar on a terminal, log lines elsewhere
    progress_json: bool = False  # one JSON object per progress update, for a driving program


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
    _check_input(path)
    out_dir = Path(options.out) if options.out else Path.cwd() / f"{path.stem}.emsync"
    output_folder.check_target(out_dir, options.force)
    with output_folder.locked(out_dir):
        output_folder.check_target(out_dir, options.force)  # another run may have finished
        return _score_locked(path, out_dir, options)


def _score_locked(path: Path, out_dir: Path, options: ScoreOptions) -> Deliverables:
    stages = new_stages(options)
    try:
        analysed = None
        with stages.stage("read timeline"):
            if path.suffix.lower() in VIDEO_SUFFIXES:
                edit, timeline, analysed = read_video(path)
            else:
                edit, timeline = read_with_timeline(path, options.rate, options.timeline)
        if options.render:  # before any long work: the mix alone must fit on the disk
            _check_disk(out_dir.parent, samples_for(edit.duration, edit.rate), 0, None, 0)
        with stages.stage("moods"):
            moods = moods_for(edit, options, analysed)
        with stages.stage("plan"):
            plan, owners = plan_for(edit, moods, options.seed)
        if options.engine == "transformer" and edit.duration_s >= LONG_GENERATE_S:
            estimate = format_duration(edit.duration_s * GENERATE_COST)
            stages.note(
                f"the transformer writes {edit.duration_s / 60:.0f} minutes of music: about "
                f"{estimate} on a 2-core machine (--engine arranger takes seconds)."
            )
        with stages.stage("generate"):
            result = compose(plan, options, lambda f: stages.fraction(f, "of the music"))
        composed = Composed(path, edit, timeline, tuple(moods), plan, tuple(owners), result)
        take = {"take": 1, "scene": None, "seed": options.seed, "engine": result.engine}
        return deliver(composed, out_dir, options, stages, takes=[take])
    finally:
        stages.close()


@dataclass(frozen=True)
class Composed:
    """Everything the stages before writing produce: the timeline, its moods, the plan (with,
    per section, the scene it belongs to) and the music."""

    path: Path
    edit: Edit
    timeline: otio.schema.Timeline
    moods: tuple[SceneMood, ...]
    plan: ScorePlan
    owners: tuple[int, ...]
    result: Score


def new_stages(options: ScoreOptions, extra: int = 0) -> Stages:
    """The progress display of a run: read, moods, plan, generate, (render, master,) write,
    plus `extra` stages, and a preview movie when asked for."""
    total = (7 if options.render else 5) + extra + int(options.preview and options.render)
    return Stages(total=total, enabled=options.progress, json_lines=options.progress_json)


def deliver(
    composed: Composed,
    out_dir: Path,
    options: ScoreOptions,
    stages: Stages,
    takes: list[dict],
    keep: Callable[[Path], None] | None = None,
    replace: bool | None = None,
) -> Deliverables:
    """Write the deliverables of `composed` into `out_dir` in one step: the MIDI, the audio
    (when rendering), the scored timeline, the preview movie (when asked), the reports.
    `takes` is the take history kept in report.json; `keep(staging)` may add files from the
    previous output (a re-roll keeps its earlier takes) before the folder is swapped in;
    `replace` (default `options.force`) lets it replace an existing folder."""
    path, edit, result = composed.path, composed.edit, composed.result
    n_samples = samples_for(edit.duration, edit.rate)
    replace = options.force if replace is None else replace
    with output_folder.Staging(out_dir, replace) as staging:
        files = {"midi": staging / "score.mid"}
        write_midi(result.midi, files["midi"], edit_marks(edit, result.chords))
        audio_info: dict[str, object] = {}
        if options.render:
            audio_info = render_and_master(result.midi, n_samples, options, staging, stages)
            files["wav"] = staging / "score.wav"
            files.update({f"stem:{n}": staging / "stems" / f"{n}.wav" for n in audio_info["stems"]})
        with stages.stage("write"):
            written = write_scored(
                edit,
                out_dir / "score.wav",
                staging / f"{path.stem}.scored{timeline_suffix(path)}",
                relative_media=options.relative_media,
                timeline=composed.timeline,
                audio_file=files.get("wav"),  # bundled into .otioz / .otiod
                media_dir=out_dir,  # relative paths are relative to the final folder
                audio_rendered=options.render,  # else a message: score.wav is missing
            )
            for written_file in written.files:
                files["otio" if written_file.suffix == ".otio" else "timeline"] = written_file
            midi = load_midi(files["midi"])
            alignment = measure_alignment(midi, edit.cut_seconds)
            hit_alignment = measure_alignment(midi, [edit.seconds(f) for f in edit.hit_frames])
            messages = _messages(edit, list(composed.moods)) + written.messages
            report = build_report(
                path,
                edit,
                list(composed.moods),
                (composed.plan, list(composed.owners)),
                result,
                (alignment, hit_alignment),
                options,
            )
            report["audio"] = audio_info
            report["takes"] = takes
            if keep is not None:
                keep(staging)
        if options.preview and "wav" in files:
            with stages.stage("preview"):
                from .video.preview import write_preview

                files["preview"] = staging / "preview.mp4"
                write_preview(
                    edit,
                    files["wav"],
                    files["preview"],
                    video=options.video,
                    media_root=options.media_root,
                    on_progress=lambda f: stages.fraction(f, "of the preview"),
                )
        report["timings_s"] = stages.timings
        report["messages"] = list(messages)
        files["report"] = staging / "report.json"
        files["report"].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        files["report_txt"] = staging / "report.txt"
        files["report_txt"].write_text(report_text(report), encoding="utf-8")
    final_files = {name: out_dir / p.relative_to(staging) for name, p in files.items()}
    return Deliverables(
        out_dir, final_files, edit, composed.moods, tuple(alignment), tuple(messages)
    )


def _check_input(path: Path) -> None:
    """Plain words for an input that is not a timeline or video file, before any work."""
    suffix = path.suffix.lower()
    accepted = (
        f"a timeline ({', '.join(formats.supported_extensions())}) or a video "
        f"({', '.join(sorted(VIDEO_SUFFIXES))})"
    )
    if path.is_dir() and suffix not in formats.FORMATS:
        raise EmsyncError(
            f"'{path}' is a folder. Give the file to score: {accepted}, e.g. "
            f"emsync score '{path / 'my_edit.otio'}'."
        )
    if path.exists() and suffix not in formats.FORMATS and suffix not in VIDEO_SUFFIXES:
        raise EmsyncError(
            f"'{path.name}' is not a file EMSYNC can score ('{suffix or 'no extension'}'). "
            f"Give {accepted}. From an editor, export the timeline as OpenTimelineIO, an EDL, "
            "FCP 7 XML or FCPXML."
        )


def compose(
    plan: ScorePlan,
    options: ScoreOptions,
    on_progress: Callable[[float], None] | None = None,
    context: Context | None = None,
) -> Score:
    """Run the chosen engine on the plan and voice it for the ensemble; `on_progress(fraction)`
    hears how far the transformer has got (the arranger takes milliseconds). `context` when
    `plan` is an excerpt of a longer score (a re-rolled scene)."""
    if options.ensemble not in ENSEMBLES:
        raise EmsyncError(
            f"Unknown ensemble '{options.ensemble}': use one of {', '.join(ENSEMBLES)}."
        )
    result = _engine_score(plan, options, on_progress, context)
    apply_ensemble(result.midi, options.ensemble)
    return result


def _engine_score(
    plan: ScorePlan,
    options: ScoreOptions,
    on_progress: Callable[[float], None] | None,
    context: Context | None,
) -> Score:
    if options.engine == "arranger":
        return arrange(plan, options.seed, context)
    if options.engine != "transformer":
        raise EmsyncError(f"Unknown engine '{options.engine}': use arranger or transformer.")
    from .music.generate import generate
    from .music.model import EmsyncTransformer

    weights = Path(options.weights) if options.weights is not None else WEIGHTS_DIR
    if not (weights / "model.safetensors").is_file() or not (weights / "model.json").is_file():
        raise EmsyncError(
            f"No transformer weights in '{weights}' (model.safetensors and model.json). Train "
            "them with `emsync train --corpus DIR --out RUN` and pass --weights RUN, or use "
            "--engine arranger."
        )
    model = EmsyncTransformer.load(weights)
    return generate(
        plan,
        model,
        options.seed,
        constrained=not options.unconstrained,
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
        from .emotion.classify import analyze_edit  # heavy (OpenCV, the face model): on demand
        from .emotion.user_head import load_user_head

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
    from .emotion.classify import analyze_edit, analyze_video
    from .emotion.user_head import load_user_head

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


def render_and_master(
    midi, n_samples: int, options: ScoreOptions, staging: Path, stages: Stages
) -> dict[str, object]:
    """Render the stems a chunk at a time to raw files in `staging`, then master the mix (their
    sum) into score.wav and finish each stem with the mix's gain, reading from disk in passes:
    memory stays flat whatever the timeline's length. Returns the report's "audio" entry."""
    # scipy.signal alone takes a second to import: only runs that render pay for it.
    from .audio import master as mastering
    from .audio import master_stream, stream

    names = sorted({rendering.stem_name(layer_of(inst)) for inst in midi.instruments})
    if not names:
        raise EmsyncError("The score has no instruments to render; use --no-render.")
    _check_disk(staging, n_samples, len(names) if options.stems else 0, stages, len(names))
    work = staging / ".work"
    work.mkdir()
    hop = mastering.limiter_hop(SAMPLE_RATE)
    chunk = stream.chunk_size(SAMPLE_RATE, hop)
    mix_writer = stream.RawWriter(work / "mix.f32")
    stem_writers = {n: stream.RawWriter(work / f"{n}.f32") for n in names} if options.stems else {}
    with stages.stage("render"):
        chunks = rendering.stem_chunks(
            midi, options.soundfont, SAMPLE_RATE, n_samples, group=layer_of, chunk=chunk
        )
        for begin, parts in chunks:
            mix = np.zeros_like(next(iter(parts.values())))
            for name, part in parts.items():
                mix += part
                if name in stem_writers:
                    stem_writers[name].write(part)
            mix_writer.write(mix)
            stages.fraction(min(1.0, (begin + len(mix)) / max(n_samples, 1)), "of the audio")
    mix_raw = mix_writer.close()
    stem_raws = {name: w.close() for name, w in stem_writers.items()}
    with stages.stage("master"):
        mastered = master_stream.master_file(
            mix_raw,
            staging / "score.wav",
            SAMPLE_RATE,
            n_samples,
            target_lufs=options.target_lufs,
            progress=stages.detail,
        )
        mix_raw.remove()
        if stem_raws:
            (staging / "stems").mkdir()
        # The mix's passes take about as long as all the stems together (render.md): count
        # it as half of the stage, so the time left is not over-estimated.
        for number, (name, raw) in enumerate(sorted(stem_raws.items())):
            stages.fraction(0.5 + 0.5 * number / len(stem_raws), f"(stem {name})")
            master_stream.finish_stem_file(
                raw, staging / "stems" / f"{name}.wav", SAMPLE_RATE, n_samples, mastered.gain
            )
            raw.remove()
    work.rmdir()
    gain = mastered.gain
    return {
        "sample_rate": SAMPLE_RATE,
        "channels": 2,
        "samples": n_samples,
        "loudness_lufs": round(mastered.loudness_lufs, 2),
        "target_lufs": options.target_lufs,
        "gain_db": round(20 * math.log10(gain), 2) if gain > 0 else None,
        "stems": sorted(stem_raws),
        "layers": names,
        "bytes_written": _wav_bytes(n_samples) * (1 + len(stem_raws)),
    }


def _wav_bytes(n_samples: int) -> int:
    return n_samples * 2 * 3 + 80  # 24-bit stereo and the header


def _check_disk(
    staging: Path, n_samples: int, n_stems: int, stages: Stages | None, n_layers: int
) -> None:
    """Refuse a render the disk cannot hold, before it starts; announce a long one (when
    `stages` is given).

    The most the disk holds at once: every raw float32 render (mix and stems) plus every
    finished WAV, since a raw file is removed only after its WAV is written."""
    from .audio import stream

    files = 1 + n_stems
    final = _wav_bytes(n_samples) * files
    peak = (n_samples * 2 * 4 + _wav_bytes(n_samples)) * files
    free = stream.free_bytes(staging)
    if peak + DISK_MARGIN_BYTES > free:
        lighter = "" if n_stems == 0 else " or pass --no-stems to write the mix alone,"
        raise EmsyncError(
            f"Not enough disk space to render this score: it needs about {_gb(peak)} while it "
            f"works ({_gb(final)} kept), and '{staging}' has {_gb(free)} free. Free some "
            f"space, choose another --out on a larger disk,{lighter} or use --no-render."
        )
    seconds = n_samples / SAMPLE_RATE
    if stages is not None and seconds >= LONG_RENDER_S:
        cost = RENDER_COST_PER_LAYER * n_layers + MASTER_COST + STEM_COST * n_stems
        stages.note(
            f"rendering {seconds / 60:.0f} minutes of audio ({files} file{'s' * (files > 1)}) "
            f"takes about {format_duration(seconds * cost)} on a 2-core machine, writes "
            f"{_gb(final)} and needs {_gb(peak)} of free disk while it works ({_gb(free)} free)."
        )


def _gb(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e8 else f"{n_bytes / 1e6:.0f} MB"


def _messages(edit: Edit, moods: list[SceneMood]) -> tuple[str, ...]:
    messages = list(edit.warnings) + marker_warnings(edit)
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
        "weights": str(Path(options.weights).resolve()) if options.weights else None,
        "seed": result.seed,
        "ensemble": options.ensemble,
        "rate": float(edit.rate),
        "rate_exact": f"{edit.rate.numerator}/{edit.rate.denominator}",
        "start_timecode": edit.start_timecode,
        "duration_frames": edit.duration,
        "duration_s": edit.duration_s,
        "warnings": list(edit.warnings),
        "cuts": [
            {
                "frame": frame,
                "timecode": edit.timecode(frame),
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
                "timecode": edit.timecode(frame),
                "seconds": a.cut_s,
                "strength": _hit_strength(edit, frame),
                "chord_onset_s": a.onset_s,
                "error_ms": None if a.error_ms is None else round(a.error_ms, 3),
                "new_harmony": a.new_harmony,
            }
            for frame, a in zip(edit.hit_frames, hit_alignment, strict=True)
        ],
        "markers": [
            {
                "frame": m.frame,
                "timecode": edit.timecode(m.frame),
                "name": m.name,
                "note": m.note,
                "used_as": _marker_use(m, edit),
                **({"hit_strength": m.hit_strength} if m.is_hit else {}),
            }
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
                "start_timecode": edit.timecode(scene.start),
                "start_s": edit.seconds(scene.start),
                "end_s": edit.seconds(scene.end),
                "clip": scene.name,
                "valence": round(mood.valence, 4),
                "arousal": round(mood.arousal, 4),
                "mood_source": mood.source,
                "mood_decoded_share": mood.decoded_share and round(mood.decoded_share, 4),
                "mood_too_few_frames": mood.too_few_frames,
                "mood_face_share": mood.face_share and round(mood.face_share, 4),
                "probs": dict(mood.probs),
                "key": plan.scenes[first_section[scene.index]].key.name,
                "tempo_bpm": round(
                    tempo_in(result.midi, edit.seconds(scene.start), edit.seconds(scene.end)), 2
                ),
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
        "plan": plan_to_json(plan, owners),
    }


def report_text(report: dict) -> str:
    """report.json as a page an editor reads: the cuts with their timecodes, each scene's
    mood, key and tempo, the hits, the loudness, and every warning."""
    lines = [
        f"EMSYNC score of '{report['timeline']}' ({Path(report['input']).name})",
        f"{report['duration_frames']} frames at {report['rate']:g} fps "
        f"({report['duration_s']:.2f} s), start {report['start_timecode']}; "
        f"engine {report['engine']}, seed {report['seed']}",
        "",
    ]
    alignment = report["alignment"]
    if alignment["cuts"]:
        largest = alignment["max_error_ms"]
        lines.append(
            f"{alignment['cuts']} cuts, a new chord on {alignment['new_harmony_on_cut']} of them"
            + (f"; largest offset {largest:.3f} ms" if largest is not None else "")
        )
    else:
        lines.append("No cuts: one scene.")
    lines += ["", "scene  timecode      frame     mood (valence, arousal)       key        tempo"]
    for scene in report["scenes"]:
        mood = f"{scene['valence']:+.2f}, {scene['arousal']:+.2f} ({scene['mood_source']})"
        lines.append(
            f"{scene['index']:>5}  {scene['start_timecode']}  {scene['start_frame']:>7}   "
            f"{mood:<28}  {scene['key']:<9}  {scene['tempo_bpm']:.0f} bpm"
        )
    if report["hits"]:
        lines += ["", "hits (marker accents):"]
        lines += [f"  {h['timecode']}  frame {h['frame']}  {h['strength']}" for h in report["hits"]]
    audio = report.get("audio") or {}
    if audio:
        stems = ", ".join(audio["stems"]) or "none (--no-stems)"
        lines += [
            "",
            f"score.wav: {audio['samples']} samples at {audio['sample_rate']} Hz, "
            f"{audio['loudness_lufs']:.1f} LUFS (target {audio['target_lufs']:g}); stems: {stems}",
        ]
    else:
        lines += ["", "No audio rendered (--no-render): score.mid only."]
    if report.get("messages"):
        lines += ["", "Notes:"] + [f"- {m}" for m in report["messages"]]
    return "\n".join(lines) + "\n"


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
    from .audio import master as mastering
    from .audio import master_stream, stream

    n_samples = round((midi.get_end_time() + 2.0) * SAMPLE_RATE)
    chunk = stream.chunk_size(SAMPLE_RATE, mastering.limiter_hop(SAMPLE_RATE))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise OutputError(
            f"Cannot write to '{out.parent}' ({exc.strerror or 'not writable'}). Choose "
            "another --out."
        ) from None
    try:  # in flat memory, as `emsync score` does: raw render on disk, mastered in passes
        writer = stream.RawWriter(work / "mix.f32")
        for _, part in rendering.render_chunks(midi, soundfont, SAMPLE_RATE, n_samples, chunk):
            writer.write(part)
        master_stream.master_file(writer.close(), out, SAMPLE_RATE, n_samples)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _hit_strength(edit: Edit, frame: int) -> str:
    """The strongest-worded hit marker at `frame` ("strong" over "normal")."""
    strengths = [m.hit_strength for m in edit.markers if m.frame == frame and m.is_hit]
    return next((x for x in strengths if x != "normal"), "normal")


def _marker_use(marker: Marker, edit: Edit) -> str:
    if marker_mood(marker) is not None:
        return "mood"
    if mood_marker_text(marker) is not None:
        return "ignored: mood not understood"
    if marker.is_hit:
        return "hit" if marker.frame in edit.hit_frames else "hit on a cut (already a boundary)"
    return "ignored"
