"""`emsync analyze VIDEO|TIMELINE`: per-scene emotion probabilities, valence/arousal,
confidence and the features that drove them.

The lead wires this into emsync_core/cli.py with
    p = sub.add_parser("analyze", help="estimate each scene's emotion from the footage")
    analyze.configure_parser(p)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import EmsyncError
from ..video.frames import VIDEO_SUFFIXES, MediaError


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="a video file, or a timeline (OTIO, EDL, XML, ...)")
    p.add_argument(
        "--video",
        type=Path,
        default=None,
        help="one video holding the whole timeline at timeline time (for a TIMELINE input)",
    )
    p.add_argument(
        "--media-root",
        type=Path,
        default=None,
        help="folder to find moved media in, by file name (for a TIMELINE input)",
    )
    p.add_argument("--rate", type=float, default=None, help="frame rate for EDL timelines")
    p.add_argument("--timeline", default=None, help="which timeline of a multi-timeline file")
    p.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="a JSON emotion head (e.g. fitted on your labelled clips) instead of the default",
    )
    p.add_argument("--no-smooth", action="store_true", help="do not smooth adjacent scenes")
    p.add_argument(
        "--no-faces",
        action="store_true",
        help="skip face detection and facial expressions (a little faster)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .classify import EmotionHead, analyze_edit_detailed, analyze_video_detailed
    from .user_head import load_user_head

    head = load_user_head()  # a head fitted by `emsync train-emotion`, else None (default)
    if args.weights is not None:
        try:
            head = EmotionHead.from_json(args.weights)
        except (OSError, ValueError, KeyError) as exc:
            raise EmsyncError(f"Cannot load the emotion weights '{args.weights}': {exc}.") from None
    path: Path = args.input
    if not path.exists():
        raise EmsyncError(f"'{path}' does not exist.")
    smooth = not args.no_smooth
    faces = not getattr(args, "no_faces", False)
    try:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            duration, scenes = analyze_video_detailed(path, head, smooth, faces)
            missing = 0
            spans = [(sc.start_s, sc.end_s) for sc in scenes]
        else:
            from ..timeline import read

            edit = read(path, rate=args.rate, timeline=args.timeline)
            result = analyze_edit_detailed(edit, args.video, args.media_root, head, smooth, faces)
            duration = edit.duration_s
            missing = sum(1 for r in result if r is None)
            scenes = result
            spans = [(edit.seconds(sc.start), edit.seconds(sc.end)) for sc in edit.scenes]
    except MediaError as exc:
        raise EmsyncError(str(exc)) from None
    if args.json:
        doc = {
            "duration_s": round(duration, 4),
            "scenes": [
                s.to_json()
                if s is not None
                else {"start_s": round(t0, 4), "end_s": round(t1, 4), "error": "media not found"}
                for s, (t0, t1) in zip(scenes, spans, strict=True)
            ],
        }
        print(json.dumps(doc))
    else:
        print(f"{path.name}: {duration:.2f} s, {len(scenes)} scenes")
        for i, s in enumerate(scenes):
            if s is None:
                print(f"  scene {i:>3}  media not found (use --media-root or --video)")
                continue
            faces = "" if s.face_share is None else f" faces={s.face_share:.0%}"
            damaged = "  TOO FEW FRAMES" if s.too_few_frames else ""
            top = max(s.probs, key=s.probs.get)
            print(
                f"  scene {i:>3}  {s.start_s:8.2f}-{s.end_s:<8.2f} {top:<9} "
                f"p={s.probs[top]:.2f}  V={s.valence:+.2f} A={s.arousal:+.2f} "
                f"conf={s.confidence:.2f}{faces}{damaged}"
            )
    few = [i for i, sc in enumerate(scenes) if sc is not None and sc.too_few_frames]
    if few:
        share = _decoded_share(scenes)
        print(
            f"warning: {len(few)} of {len(scenes)} scene(s) got their mood from too few frames "
            f"(scenes {', '.join(map(str, few))}; {share:.0%} of the analysed frames could be "
            f"decoded): '{path}' looks damaged. Re-export or re-encode it before trusting "
            "these moods.",
            file=sys.stderr,
        )
    if missing:
        print(
            f"note: media for {missing} scene(s) was not found; pass --media-root DIR or "
            "--video FILE.",
            file=sys.stderr,
        )
    return 0


def _decoded_share(scenes) -> float:
    """Duration-weighted share of the frames that could be decoded, over analysed scenes."""
    pairs = [(s.end_s - s.start_s, s.decoded_share) for s in scenes if s is not None]
    total = sum(d for d, _ in pairs)
    return sum(d * share for d, share in pairs) / total if total > 0 else 1.0
