"""The `emsync` command: argument parsing and printing only; the work is in `pipeline`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import traceback
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

from . import __version__, defaults
from .errors import EmsyncError, Interrupted

# The ensemble names, for --help without importing the music code (tests check they match).
_ENSEMBLES = ("film", "strings", "piano", "chamber", "synth")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    previous = _stop_on_signals()
    try:
        return args.func(args) or 0
    except EmsyncError as exc:
        print(f"emsync: error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(
            f"emsync: stopped by {exc.signal_name} (the terminal closed, or a job manager or "
            "Resolve ended the run). Nothing was written: an existing output folder is "
            "unchanged and no partial files were left. Run the command again to finish.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("emsync: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(
            "emsync: internal error (a bug, not your input). Please report it with the "
            "traceback above.",
            file=sys.stderr,
        )
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stop_on_signals() -> dict[int, object]:
    """Turn SIGTERM and SIGHUP into `Interrupted`, so the run cleans up as for Ctrl-C.

    Returns the previous handlers (main may be called in-process, e.g. by tests)."""

    def stop(signum: int, _frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous: dict[int, object] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous[signum] = signal.signal(signum, stop)
    return previous


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named in `argv` (the first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


class _Parser(argparse.ArgumentParser):
    """One plain paragraph for a usage error, not the whole usage block before it."""

    def error(self, message: str) -> NoReturn:
        hint = ""
        if "--emotion" in message and "expected one argument" in message:
            hint = (
                " A negative value looks like an option to the shell's argument parser: write "
                "--emotion=-0.5,0.2 (with '=')."
            )
        elif "expected one argument" in message:
            hint = " A value that starts with '-' must be joined with '=' (e.g. --seed=-1)."
        self.exit(2, f"emsync: error: {message}.{hint} See `{self.prog} --help`.\n")


# Subcommands whose options come from heavy modules (torch, scipy, OpenCV): configured only
# when named, so that `emsync --help` and light commands start in a fraction of a second.
_HEAVY = {
    "analyze": "estimate each scene's emotion from the footage",
    "train-emotion": "fit the emotion analysis on your labelled clips",
    "train": "build a training corpus (--build-corpus) or train the transformer on one (--corpus)",
    "install-resolve": "add Workspace > Scripts > Generate Score to DaVinci Resolve (per user)",
}


def build_parser(command: str | None = "*") -> argparse.ArgumentParser:
    """The argument parser; the heavy subcommands are configured only when `command` names
    them ("*": all of them)."""
    parser = _Parser(
        prog="emsync",
        description="Original film score that follows each scene's mood and changes chord "
        "on every cut of your timeline.",
    )
    parser.add_argument("--version", action="version", version=f"emsync {__version__}")
    sub = parser.add_subparsers(metavar="COMMAND", parser_class=_Parser)

    def heavy(name: str) -> argparse.ArgumentParser | None:
        p = sub.add_parser(name, help=_HEAVY[name])
        return p if command in ("*", name) else None

    p = sub.add_parser("score", help="score a timeline (OTIO, EDL, FCP XML, FCPXML, AAF, ...)")
    p.add_argument("input", type=Path, help="timeline file")
    p.add_argument("--out", type=Path, help="output folder (default ./<input stem>.emsync/)")
    p.add_argument("--seed", type=int, default=0, help="random seed: same seed, same score")
    p.add_argument(
        "--emotion",
        help="mood for every scene: anger, disgust, fear, joy, sadness, surprise, or V,A in "
        "[-1, 1] (write --emotion=-0.5,0.2 when V is negative), or a JSON file of per-scene "
        "values",
    )
    p.add_argument(
        "--engine",
        choices=list(defaults.ENGINES),
        default=defaults.ENGINE,
        help="music engine: the rule-based arranger (default), or the EMSYNC transformer "
        "(experimental: docs/music-eval.md says why it is not the default yet)",
    )
    p.add_argument(
        "--unconstrained",
        action="store_true",
        help="transformer: do not force a chord on every cut (for evaluation)",
    )
    p.add_argument(
        "--weights",
        type=Path,
        help="transformer: a trained run's folder (model.json, model.safetensors) instead of "
        "the shipped weights",
    )
    p.add_argument("--soundfont", type=Path, help=".sf2/.sf3 to render with")
    p.add_argument("--rate", type=parse_rate, help="frame rate for EDLs (e.g. 25, 23.976)")
    p.add_argument("--timeline", help="which timeline of a multi-timeline file (default first)")
    p.add_argument("--no-render", action="store_true", help="write MIDI and report only")
    p.add_argument(
        "--stems",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write one WAV per layer into stems/ (default; --no-stems: the mix only, "
        "a sixth of the disk space)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--video", type=Path, help="one video of the whole timeline, for moods")
    p.add_argument("--media-root", type=Path, help="folder to find moved media in, by file name")
    p.add_argument("--no-analyze", action="store_true", help="do not analyse the footage")
    p.add_argument(
        "--relative-media",
        action="store_true",
        help="media paths in the scored timeline relative to the output folder (portable)",
    )
    p.add_argument(
        "--ensemble",
        choices=list(_ENSEMBLES),
        default="film",
        help="who plays: film (default: the engine's instruments, chosen by mood), strings, "
        "piano, chamber, synth; the notes stay the same",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="also write preview.mp4: the edit's picture from its media with the score under it",
    )
    p.add_argument(
        "--reroll",
        type=int,
        metavar="SCENE",
        help="a new take of one scene (0-based, as in report.json) in the existing --out "
        "folder, with --seed and optionally --emotion; every other scene stays as it is",
    )
    p.add_argument(
        "--take",
        type=int,
        metavar="N",
        help="with --reroll: bring that scene back as it was in take N (report.json 'takes')",
    )
    p.add_argument(
        "--progress",
        choices=["auto", "json", "none"],
        default="auto",
        help="progress on stderr: a bar on a terminal and log lines elsewhere (auto), one "
        "JSON object per line for programs (json), or nothing",
    )
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("cuts", help="list a timeline's cuts")
    p.add_argument("input", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--rate", type=parse_rate)
    p.add_argument("--timeline")
    p.set_defaults(func=cmd_cuts)

    if p := heavy("analyze"):
        from .emotion import analyze as emotion_analyze

        emotion_analyze.configure_parser(p)

    if p := heavy("train-emotion"):
        from .emotion import train_emotion

        train_emotion.configure_parser(p)

    p = sub.add_parser("render", help="render a MIDI file to a mastered 48 kHz WAV")
    p.add_argument("midi", type=Path)
    p.add_argument("--soundfont", type=Path)
    p.add_argument("--out", type=Path, help="WAV path (default: next to the MIDI file)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("demo", help="make a demo video and timeline, then score it")
    p.add_argument("--out", type=Path, default=Path("demo"))
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "board", help="the scene board: a local page to score, audition and re-roll scenes"
    )
    p.add_argument("input", type=Path, nargs="?", help="timeline or video to open (optional)")
    p.add_argument("--media-root", type=Path, help="folder to find moved media in, by file name")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="print the URL only")
    p.add_argument(
        "--max-upload-mb", type=int, default=None, help="largest file the page may upload"
    )
    p.set_defaults(func=cmd_board)

    if p := heavy("train"):
        from .music import corpus as music_corpus
        from .music import train as music_train

        music_corpus.configure_parser(p)
        music_train.configure_parser(p, out=False)  # --out is shared with --build-corpus
        p.set_defaults(func=cmd_train)

    if p := heavy("install-resolve"):
        from . import resolve_install

        resolve_install.configure_parser(p)
        p.set_defaults(func=resolve_install.run)
    return parser


def parse_rate(text: str) -> float:
    """Frame rate from '25', '23.976' or '24000/1001'; NTSC shorthands become exact."""
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a frame rate (e.g. 25 or 23.976)"
        ) from None
    if not 1 <= value <= 240:
        raise argparse.ArgumentTypeError(f"frame rate {text} is outside 1-240 fps")
    ntsc = {23.976: 24000 / 1001, 29.97: 30000 / 1001, 47.952: 48000 / 1001, 59.94: 60000 / 1001}
    return ntsc.get(round(value, 3), value)


def cmd_score(args: argparse.Namespace) -> int:
    from .pipeline import ScoreOptions, score

    options = ScoreOptions(
        out=args.out,
        seed=args.seed,
        emotion=args.emotion,
        engine=args.engine,
        soundfont=args.soundfont,
        rate=args.rate,
        timeline=args.timeline,
        render=not args.no_render,
        stems=args.stems,
        force=args.force,
        relative_media=args.relative_media,
        video=args.video,
        media_root=args.media_root,
        analyze=not args.no_analyze,
        unconstrained=args.unconstrained,
        weights=args.weights,
        ensemble=args.ensemble,
        preview=args.preview,
        progress={"auto": None, "json": True, "none": False}[args.progress],
        progress_json=args.progress == "json",
    )
    if args.take is not None and args.reroll is None:
        raise EmsyncError("--take N brings one scene back: give the scene with --reroll SCENE.")
    if args.reroll is not None:
        from .reroll import reroll

        result = reroll(args.input, args.reroll, options, from_take=args.take)
    else:
        result = score(args.input, options)
    for message in result.messages:
        print(f"note: {message}", file=sys.stderr)
    print_summary(result)
    return 0


def print_summary(result) -> None:
    edit = result.edit
    errors = [a.error_ms for a in result.alignment if a.error_ms is not None]
    print(
        f"Scored '{edit.name}': {edit.duration_s:.2f} s, {len(edit.cuts)} cuts, "
        f"{len(edit.scenes)} scenes."
    )
    if errors:
        print(f"Chord on every cut: largest offset {max(errors):.3f} ms.")
    print(f"Output in {result.out_dir}/")
    for name, path in sorted(result.files.items()):
        if not name.startswith("stem:"):
            print(f"  {name:<8} {path}")
    if "wav" in result.files:
        print(f"Listen: play '{result.files['wav']}' (any audio player), or import it in your NLE.")


def cmd_train(args: argparse.Namespace) -> int:
    from .music import corpus as music_corpus
    from .music import train as music_train

    builds = args.build_corpus or args.build_mma is not None or args.build_arranger is not None
    return music_corpus.run(args) if builds else music_train.run(args)


def cmd_cuts(args: argparse.Namespace) -> int:
    from .timeline import read

    edit = read(args.input, rate=args.rate, timeline=args.timeline)
    if args.json:
        doc = {
            "rate": float(edit.rate),
            "duration_frames": edit.duration,
            "start_timecode": edit.start_timecode,
            "frames": list(edit.cuts),
            "seconds": list(edit.cut_seconds),
            "timecodes": [edit.timecode(frame) for frame in edit.cuts],
        }
        print(json.dumps(doc))
    else:
        print(
            f"{edit.name}: {edit.duration} frames at {float(edit.rate):g} fps "
            f"({edit.duration_s:.3f} s), start {edit.start_timecode}, {len(edit.cuts)} cuts"
        )
        for scene in edit.scenes:
            print(
                f"  scene {scene.index:>3}  {edit.timecode(scene.start)}  frames "
                f"{scene.start:>7}-{scene.end:<7} {edit.seconds(scene.start):9.3f} s  {scene.name}"
            )
    for warning in edit.warnings:
        print(f"note: {warning}", file=sys.stderr)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .pipeline import render_midi_file

    out = args.out or args.midi.with_suffix(".wav")
    render_midi_file(args.midi, out, soundfont=args.soundfont, force=args.force)
    print(f"Wrote {out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.out, force=args.force)
    return 0


def cmd_board(args: argparse.Namespace) -> int:
    from .board.serve import run

    return run(
        args.input,
        media_root=args.media_root,
        port=args.port,
        browser=not args.no_browser,
        max_upload_mb=args.max_upload_mb,
    )


if __name__ == "__main__":
    sys.exit(main())
