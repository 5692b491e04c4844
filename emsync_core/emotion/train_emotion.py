"""`emsync train-emotion FOLDER`: fit the emotion head on the user's own labelled clips.

FOLDER holds one sub-folder per label (`joy/`, `sadness/`, ... or common aliases such as
`happy/`), each with video clips. Every detected scene of a clip takes the clip's label. A
deterministic share of the clips (by file name) is held out, and the default and the fitted
head are both scored on it, so the user sees whether fitting helped before relying on it.

The fitted head is saved where `emsync score` and `emsync analyze` look for it by default
(`user_head_path()`), or to `--out`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..errors import EmsyncError
from ..video.frames import VIDEO_SUFFIXES
from .classify import EmotionHead, analyze_video_detailed, fit_head, standardise
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


def run(args: argparse.Namespace) -> int:
    clips = find_clips(args.folder, args.holdout)
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
        raise EmsyncError(f"No clip in '{args.folder}' could be analysed; nothing to fit.")
    head = fit_head([f for f, _ in train], [label for _, label in train])
    held = [(fs, c.label) for c, fs in features.items() if c.held_out and fs]
    print(f"fitted on {len(train)} scenes from {sum(not c.held_out for c in features)} clips")
    if held:
        for name, candidate in (("default", EmotionHead.default()), ("fitted", head)):
            print(f"held-out clip accuracy, {name} head: {accuracy(candidate, held):.2f}")
    else:
        print("no clips held out (raise --holdout to measure accuracy)")
    out = args.out or user_head_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    head.to_json(tmp)
    os.replace(tmp, out)
    print(f"saved {out}; `emsync score` and `emsync analyze` use it from now on")
    return 0


def accuracy(head: EmotionHead, clips: list[tuple[list[dict], str]]) -> float:
    """Share of clips whose scene-averaged top class is their label."""
    hits = 0
    for scenes, label in clips:
        mean = sum(head.probs(standardise(f)) for f in scenes) / len(scenes)
        hits += CLASSES[int(mean.argmax())] == label
    return hits / len(clips)


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, help="one sub-folder of clips per label (joy/, sad/, ...)")
    p.add_argument("--out", type=Path, help=f"where to save (default: {user_head_path()})")
    p.add_argument(
        "--holdout", type=float, default=20.0, help="percent of clips held out (default 20)"
    )
    p.set_defaults(func=run)
