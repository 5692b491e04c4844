"""Acceptance check of the video-emotion analyser on your own labelled clips.

Usage:
    .venv/bin/python benchmarks/eval_emotion.py FOLDER [--head HEAD.json] [--holdout PERCENT]
        [--no-faces] [--save]

FOLDER has one sub-folder of video clips per label, laid out as for `emsync train-emotion`
(`joy/`, `sadness/`, ... or aliases such as `happy/`, `sad/`, `angry/`). Every clip is
analysed as `emsync analyze` does (scene detection, features, faces, smoothing) with the
default head, or with `--head`, a JSON head saved by `emsync train-emotion` (by default at
~/.config/emsync/emotion_head.json). A clip's valence and arousal are the duration-weighted
means over its scenes; its top class is the largest duration-weighted mean probability.

It prints, as Markdown:
- per label: clips, mean valence, mean arousal, the share of clips whose valence has the sign
  the criteria expect (joy positive; anger, disgust, fear, sadness negative), and top-class
  accuracy;
- a confusion matrix (rows: label, columns: top class over the 7 classes);
- the issue's acceptance criteria, each PASS / FAIL / not checked with the numbers behind it:
  (1) joy gets mean valence >= +MARGIN; (2) anger, disgust, fear and sadness get mean valence
  <= -MARGIN (MARGIN = `--margin`, default 0.15: the sign must be right with room to spare);
  (3) anger, fear and surprise each get a higher mean arousal than sadness. A label with no
  clips leaves its part "not checked", and a criterion with any part not checked is never
  reported as PASS.

`--holdout PERCENT` evaluates only the clips that `emsync train-emotion --holdout PERCENT`
held out of fitting (the split is by file name), so a head fitted on the same folder is not
scored on its own training clips. `--save` appends the report, with the date, the machine and
the command, to benchmarks/results/emotion_eval.md.

Exit status: 0 when no criterion fails, 1 when one fails, 2 for an input error.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emsync_core.emotion.classify import EmotionHead, analyze_video_detailed
from emsync_core.emotion.mapping import CLASSES
from emsync_core.emotion.train_emotion import find_clips
from emsync_core.emotion.user_head import user_head_path
from emsync_core.errors import EmsyncError

RESULTS = Path(__file__).resolve().parent / "results" / "emotion_eval.md"

POSITIVE = ("joy",)
NEGATIVE = ("anger", "disgust", "fear", "sadness")
AROUSED = ("anger", "fear", "surprise")
CALM = "sadness"
# The valence sign each label should get; labels not here (surprise, neutral) have none.
EXPECTED_SIGN = {**dict.fromkeys(POSITIVE, 1), **dict.fromkeys(NEGATIVE, -1)}

PASS, FAIL, NOT_CHECKED = "PASS", "FAIL", "not checked"
MARGIN = 0.15  # |mean valence| a signed label must reach (issue 18)


@dataclass(frozen=True)
class ClipResult:
    path: Path
    label: str
    valence: float
    arousal: float
    top: str
    duration_s: float


@dataclass(frozen=True)
class LabelStats:
    label: str
    clips: int
    valence: float
    arousal: float
    sign_right: int | None  # clips with the expected valence sign; None where none is expected
    correct: int  # clips whose top class is the label


@dataclass(frozen=True)
class Check:
    text: str
    status: str


@dataclass(frozen=True)
class Criterion:
    title: str
    checks: tuple[Check, ...]

    @property
    def status(self) -> str:
        statuses = {c.status for c in self.checks}
        if FAIL in statuses:
            return FAIL
        # A part without clips means the criterion as a whole was not shown to hold.
        if NOT_CHECKED in statuses or not statuses:
            return NOT_CHECKED
        return PASS


def clip_result(
    path: Path, label: str, head: EmotionHead | None = None, faces: bool = True
) -> ClipResult:
    """One clip analysed as `emsync analyze` does, reduced to duration-weighted means."""
    duration, scenes = analyze_video_detailed(path, head, smooth=True, faces=faces)
    if not scenes:
        raise EmsyncError(f"'{path}': no scene could be analysed.")
    weights = np.array([max(s.end_s - s.start_s, 0.0) for s in scenes])
    if weights.sum() <= 0:
        weights = np.ones(len(scenes))
    probs = np.array([[s.probs[c] for c in CLASSES] for s in scenes])
    return ClipResult(
        path=path,
        label=label,
        valence=float(np.average([s.valence for s in scenes], weights=weights)),
        arousal=float(np.average([s.arousal for s in scenes], weights=weights)),
        top=CLASSES[int(np.average(probs, axis=0, weights=weights).argmax())],
        duration_s=duration,
    )


def evaluate(
    folder: Path,
    head: EmotionHead | None = None,
    holdout: float | None = None,
    faces: bool = True,
) -> tuple[list[ClipResult], list[tuple[Path, str]]]:
    """(results, skipped clips with the reason) for the labelled clips under `folder`."""
    clips = find_clips(folder, holdout or 0.0)
    if holdout:
        clips = [c for c in clips if c.held_out]
        if not clips:
            raise EmsyncError(
                f"No clip in '{folder}' is held out at --holdout {holdout:g}; raise it, or "
                "leave it out to evaluate every clip."
            )
    results, skipped = [], []
    for clip in tqdm(clips, desc="analysing clips", unit="clip", file=sys.stderr):
        try:
            results.append(clip_result(clip.path, clip.label, head, faces))
        except EmsyncError as exc:
            # One unreadable file should not void an hour of analysis; it is listed instead.
            skipped.append((clip.path, str(exc)))
    if not results:
        raise EmsyncError(f"No clip in '{folder}' could be analysed.")
    return results, skipped


def label_stats(results: Sequence[ClipResult]) -> dict[str, LabelStats]:
    """Per label present in `results`, in CLASSES order."""
    out = {}
    for label in CLASSES:
        rs = [r for r in results if r.label == label]
        if not rs:
            continue
        sign = EXPECTED_SIGN.get(label)
        out[label] = LabelStats(
            label=label,
            clips=len(rs),
            valence=float(np.mean([r.valence for r in rs])),
            arousal=float(np.mean([r.arousal for r in rs])),
            sign_right=None if sign is None else sum(r.valence * sign > 0 for r in rs),
            correct=sum(r.top == label for r in rs),
        )
    return out


def confusion(results: Sequence[ClipResult]) -> dict[str, dict[str, int]]:
    """counts[label][top class], for the labels present and all 7 top classes."""
    counts = {
        lab: dict.fromkeys(CLASSES, 0) for lab in CLASSES if any(r.label == lab for r in results)
    }
    for r in results:
        counts[r.label][r.top] += 1
    return counts


def check_criteria(
    means: Mapping[str, tuple[float, float]], margin: float = MARGIN
) -> list[Criterion]:
    """The issue's three acceptance criteria from per-label (mean valence, mean arousal);
    signed labels must clear zero by `margin`."""

    def sign_check(label: str, positive: bool) -> Check:
        if label not in means:
            return Check(f"no {label} clips", NOT_CHECKED)
        v = means[label][0]
        ok = v >= margin if positive else v <= -margin
        bound = f">= {margin:+.2f}" if positive else f"<= {-margin:+.2f}"
        return Check(f"{label} mean valence {v:+.3f} {bound}", _ok(ok and v != 0))

    def arousal_check(label: str) -> Check:
        if label not in means or CALM not in means:
            missing = " and ".join(lab for lab in (label, CALM) if lab not in means)
            return Check(f"{label} vs {CALM}: no {missing} clips", NOT_CHECKED)
        a, calm = means[label][1], means[CALM][1]
        return Check(f"{label} mean arousal {a:+.3f} > {CALM} {calm:+.3f}", _ok(a > calm))

    return [
        Criterion(
            f"1. joy clips get positive valence (by {margin:g} or more)",
            tuple(sign_check(lab, True) for lab in POSITIVE),
        ),
        Criterion(
            "2. anger, disgust, fear and sadness clips get negative valence "
            f"(by {margin:g} or more)",
            tuple(sign_check(lab, False) for lab in NEGATIVE),
        ),
        Criterion(
            "3. anger, fear and surprise get higher arousal than sadness",
            tuple(arousal_check(lab) for lab in AROUSED),
        ),
    ]


def _ok(ok: bool) -> str:
    return PASS if ok else FAIL


def format_report(
    results: Sequence[ClipResult],
    skipped: Sequence[tuple[Path, str]],
    head_origin: str,
    seconds: float,
    margin: float = MARGIN,
) -> str:
    """The Markdown report: setup line, per-label table, confusion matrix, criteria."""
    stats = label_stats(results)
    lines = [
        f"Head: {head_origin}.",
        f"{len(results)} clips analysed ({sum(r.duration_s for r in results):.1f} s of video "
        f"in {seconds:.1f} s), {len(skipped)} skipped.",
        "",
        "| label | clips | mean valence | mean arousal | valence sign right | top-class accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in stats.values():
        sign = "—" if s.sign_right is None else _share(s.sign_right, s.clips)
        lines.append(
            f"| {s.label} | {s.clips} | {s.valence:+.3f} | {s.arousal:+.3f} | {sign} "
            f"| {_share(s.correct, s.clips)} |"
        )
    signed = [s for s in stats.values() if s.sign_right is not None]
    signed_text = (
        _share(sum(s.sign_right for s in signed), sum(s.clips for s in signed)) if signed else "—"
    )
    lines.append(
        f"| all | {len(results)} | | | {signed_text} "
        f"| {_share(sum(s.correct for s in stats.values()), len(results))} |"
    )
    lines += [
        "",
        "Confusion matrix (rows: label, columns: top class):",
        "",
        "| label | " + " | ".join(CLASSES) + " |",
        "| --- |" + " ---: |" * len(CLASSES),
    ]
    for label, row in confusion(results).items():
        lines.append(f"| {label} | " + " | ".join(str(row[c]) for c in CLASSES) + " |")
    lines += ["", "Acceptance criteria (on the per-label means):", ""]
    means = {lab: (s.valence, s.arousal) for lab, s in stats.items()}
    for crit in check_criteria(means, margin):
        lines.append(f"- {crit.title}: **{crit.status}**")
        lines += [f"  - {c.status}: {c.text}" for c in crit.checks]
    if skipped:
        lines += ["", "Skipped:", ""]
        lines += [f"- {path}: {reason}" for path, reason in skipped]
    return "\n".join(lines) + "\n"


def _share(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.2f})" if n else "—"


def save(report: str, command: str, path: Path | None = None) -> None:
    """Append the report under a dated heading that names the machine and the command
    (to RESULTS, looked up at call time so tests can point it elsewhere)."""
    path = path or RESULTS
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "# Video emotion analysis on labelled clips (benchmarks/eval_emotion.py)\n\n"
            "Acceptance criteria of the video-emotion analyser on real labelled clips; what "
            'the tables mean: `docs/emotion.md`, "Checking accuracy on your own labelled '
            'clips".\n',
            encoding="utf-8",
        )
    machine = f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n## {datetime.date.today().isoformat()} — {machine}\n\n`{command}`\n\n")
        f.write(report)


def load_head(path: Path | None) -> EmotionHead:
    """The head saved at `path`, or the default (hand-set) head."""
    if path is None:
        return EmotionHead.default()
    try:
        return EmotionHead.from_json(path)
    except (OSError, ValueError, KeyError) as exc:
        raise EmsyncError(f"Cannot load the emotion head '{path}': {exc}.") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="eval_emotion.py",
        description="Check the video-emotion analyser against labelled clips.",
    )
    p.add_argument("folder", type=Path, help="one sub-folder of clips per label (joy/, sad/, ...)")
    p.add_argument(
        "--head",
        type=Path,
        default=None,
        help="a JSON head saved by `emsync train-emotion` (it saves to "
        f"{user_head_path()}); default: the built-in hand-set head",
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=None,
        metavar="PERCENT",
        help="evaluate only the clips `emsync train-emotion --holdout PERCENT` held out",
    )
    p.add_argument("--no-faces", action="store_true", help="skip facial expressions")
    p.add_argument(
        "--margin",
        type=float,
        default=MARGIN,
        help=f"|mean valence| each signed label must reach (default {MARGIN})",
    )
    p.add_argument(
        "--save",
        action="store_true",
        help="append the report to benchmarks/results/emotion_eval.md",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        head = load_head(args.head)
        start = time.perf_counter()
        results, skipped = evaluate(args.folder, head, args.holdout, not args.no_faces)
        seconds = time.perf_counter() - start
    except EmsyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path, reason in skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    report = format_report(results, skipped, head.origin, seconds, args.margin)
    print(report, end="")
    if args.save:
        save(report, shlex.join(["benchmarks/eval_emotion.py", *argv]))
        print(f"appended to {RESULTS}", file=sys.stderr)
    means = {lab: (s.valence, s.arousal) for lab, s in label_stats(results).items()}
    return 1 if any(c.status == FAIL for c in check_criteria(means, args.margin)) else 0


if __name__ == "__main__":
    sys.exit(main())
