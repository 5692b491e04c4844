"""`emsync train-emotion FOLDER|TIMELINE`: fit the emotion head on the user's own labels.

FOLDER holds one sub-folder per label (`joy/`, `sadness/`, ... or common aliases such as
`happy/`), each with video clips. Every detected scene of a clip takes the clip's label. A
deterministic share of the clips (by file name) is held out, and the default and the fitted
head are both scored on it, so the user sees whether fitting helped before relying on it.

TIMELINE is an edit the user already has (OTIO, EDL, FCP XML, ...) with markers named (or
noted) `emotion: NAME` on the scenes they want to label; only those scenes are decoded and
analysed, from their media (`--media-root` relinks moved files) or from one `--video` that
holds the whole timeline. A deterministic share of the labelled scenes (by clip name and
position) is held out and scored before and after fitting, as for a folder.

The fitted head is saved where `emsync score` and `emsync analyze` look for it by default
(`user_head_path()`), or to `--out`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..errors import EmsyncError
from ..video.frames import VIDEO_SUFFIXES
from .classify import (
    EmotionHead,
    analyze_edit_detailed,
    analyze_video_detailed,
    fit_head,
    standardise,
)
from .mapping import CLASSES
from .user_head import user_head_path

ALIASES = {
    "angry": "anger",
    "disgusted": "disgust",
    "fearful": "fear",
    "scared": "fear",
    "happy": "joy",
    "happiness": "joy",
    "sad": "sadness",
    "surprised": "surprise",
    "calm": "neutral",
}


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str
    held_out: bool


def find_clips(folder: Path, holdout_percent: float) -> list[Clip]:
    """Labelled clips under `folder`, one sub-folder per label."""
    if not folder.is_dir():
        raise EmsyncError(
            f"'{folder}' is not a folder of labelled clips (one sub-folder per label)."
        )
    clips, unknown = [], []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        label = ALIASES.get(sub.name.lower(), sub.name.lower())
        if label not in CLASSES:
            unknown.append(sub.name)
            continue
        for path in sorted(sub.rglob("*")):
            if path.suffix.lower() in VIDEO_SUFFIXES:
                bucket = int(hashlib.sha1(path.name.encode()).hexdigest(), 16) % 100
                clips.append(Clip(path, label, bucket < holdout_percent))
    if unknown:
        raise EmsyncError(
            f"Unknown label folders in '{folder}': {', '.join(unknown)}. Name them after "
            f"{', '.join(CLASSES)} (or happy, sad, angry, ...)."
        )
    if len({c.label for c in clips if not c.held_out}) < 2:
        raise EmsyncError(
            f"'{folder}' needs video clips for at least two labels to fit on; found "
            f"{len(clips)} clip(s)."
        )
    return clips


_LABEL_MARKER = re.compile(r"^\s*emotion\s*:\s*([A-Za-z]+)\s*$", re.IGNORECASE)


def marker_labels(edit) -> tuple[dict[int, str], list[str]]:
    """Scene index -> label from `emotion: NAME` markers (name or note; aliases such as happy
    or sad accepted), and a warning for each marker that names no known emotion or that
    labels a scene a second time (the first marker on a scene wins)."""
    labels: dict[int, str] = {}
    warnings: list[str] = []
    for marker in sorted(edit.markers, key=lambda m: m.frame):
        for text in (marker.name, marker.note):
            match = _LABEL_MARKER.match(text or "")
            if match:
                break
        else:
            continue
        name = match.group(1).lower()
        label = ALIASES.get(name, name)
        where = f"marker '{text}' at frame {marker.frame}"
        scene = next((s.index for s in edit.scenes if s.start <= marker.frame < s.end), None)
        if label not in CLASSES:
            warnings.append(f"{where}: '{name}' is not one of {', '.join(CLASSES)}; ignored")
        elif scene is None:
            warnings.append(f"{where}: outside the timeline; ignored")
        elif scene in labels:
            warnings.append(f"{where}: scene {scene} is already labelled {labels[scene]}; ignored")
        else:
            labels[scene] = label
    return labels, warnings


def held_out_scene(edit, index: int, holdout_percent: float) -> bool:
    """Deterministic hold-out of a labelled scene, by clip name and position."""
    scene = edit.scenes[index]
    key = f"{scene.name}:{scene.start}:{scene.end}".encode()
    return int(hashlib.sha1(key).hexdigest(), 16) % 100 < holdout_percent


def run_timeline(args: argparse.Namespace) -> tuple[list, list]:
    """(training (features, label) pairs, held-out ([features], label) groups) from the
    labelled scenes of a timeline."""
    from ..timeline import read

    edit = read(args.input, rate=args.rate, timeline=args.timeline)
    labels, warnings = marker_labels(edit)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if len(set(labels.values())) < 2:
        raise EmsyncError(
            f"'{args.input}' needs `emotion: NAME` markers on scenes of at least two different "
            f"emotions to fit on; found {len(labels)} labelled scene(s). Put a marker named, "
            "e.g., `emotion: sad` inside each scene you want to label."
        )
    print(f"{len(labels)} labelled scenes of {len(edit.scenes)}; analysing them", flush=True)
    analysed = analyze_edit_detailed(
        edit, args.video, args.media_root, smooth=False, only=set(labels)
    )
    missing = [i for i in labels if analysed[i] is None]
    if missing:
        print(
            f"skipped {len(missing)} labelled scene(s) whose media was not found (scenes "
            f"{', '.join(map(str, missing[:10]))}); pass --media-root DIR or --video FILE",
            file=sys.stderr,
        )
    train, held = [], []
    for i, label in sorted(labels.items()):
        if analysed[i] is None:
            continue
        if held_out_scene(edit, i, args.holdout):
            held.append(([analysed[i].features], label))
        else:
            train.append((analysed[i].features, label))
    return train, held


def run(args: argparse.Namespace) -> int:
    if args.input.is_file():
        train, held = run_timeline(args)
        unit = "scene"
        if not train:
            raise EmsyncError(f"No labelled scene of '{args.input}' could be analysed.")
    else:
        train, held = run_folder(args)
        unit = "clip"
    head = fit_head([f for f, _ in train], [label for _, label in train])
    print(f"fitted on {len(train)} scenes")
    if held:
        for name, candidate in (("default", EmotionHead.default()), ("fitted", head)):
            print(
                f"held-out {unit} accuracy ({len(held)} {unit}s), {name} head: "
                f"{accuracy(candidate, held):.2f}"
            )
    else:
        print(f"no {unit}s held out (raise --holdout to measure accuracy)")
    out = args.out or user_head_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    head.to_json(tmp)
    os.replace(tmp, out)
    print(f"saved {out}; `emsync score` and `emsync analyze` use it from now on")
    return 0


def run_folder(args: argparse.Namespace) -> tuple[list, list]:
    """(training (features, label) pairs, held-out ([features], label) per clip) from a
    folder of labelled clips."""
    clips = find_clips(args.input, args.holdout)
    features: dict[Clip, list[dict]] = {}
    for clip in tqdm(clips, desc="analysing clips", disable=not sys.stderr.isatty()):
        try:
            _, scenes = analyze_video_detailed(clip.path, smooth=False)
        except EmsyncError as exc:
            print(f"skipped {clip.path}: {exc}", file=sys.stderr)
            continue
        features[clip] = [s.features for s in scenes]
    train = [(f, c.label) for c, fs in features.items() if not c.held_out for f in fs]
    if not train:
        raise EmsyncError(f"No clip in '{args.input}' could be analysed; nothing to fit.")
    held = [(fs, c.label) for c, fs in features.items() if c.held_out and fs]
    print(f"{sum(not c.held_out for c in features)} training clips")
    return train, held


def accuracy(head: EmotionHead, clips: list[tuple[list[dict], str]]) -> float:
    """Share of clips (or scenes) whose scene-averaged top class is their label."""
    hits = 0
    for scenes, label in clips:
        mean = sum(head.probs(standardise(f)) for f in scenes) / len(scenes)
        hits += CLASSES[int(mean.argmax())] == label
    return hits / len(clips)


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input",
        type=Path,
        help="a folder with one sub-folder of clips per label (joy/, sad/, ...), or a timeline "
        "whose scenes carry `emotion: NAME` markers",
    )
    p.add_argument("--out", type=Path, help=f"where to save (default: {user_head_path()})")
    p.add_argument(
        "--holdout",
        type=float,
        default=20.0,
        help="percent of clips (or labelled scenes) held out (default 20)",
    )
    p.add_argument("--video", type=Path, help="TIMELINE: one video holding the whole timeline")
    p.add_argument("--media-root", type=Path, help="TIMELINE: folder to find moved media in")
    p.add_argument("--rate", type=float, help="TIMELINE: frame rate for EDL timelines")
    p.add_argument("--timeline", help="TIMELINE: which timeline of a multi-timeline file")
    p.set_defaults(func=run)
