"""python -m emsync_core.eval music|report ... (see emsync_core/eval/__init__.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .engines import SETTINGS

DEFAULT_OUT = Path("benchmarks/results/music/rows.jsonl")
DEFAULT_CACHE = Path(".eval-cache/reference")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emsync_core.eval")
    sub = parser.add_subparsers(dest="command", required=True)
    music = sub.add_parser("music", help="score the test edits, append JSON lines")
    music.add_argument(
        "--settings",
        default="reference,arranger,transformer-plain",
        help=f"comma-separated, from: reference, {', '.join(SETTINGS)}",
    )
    music.add_argument("--parts", default="accept,suite,sweep")
    music.add_argument("--sweep-seeds", type=int, default=8)
    music.add_argument("--out", type=Path, default=DEFAULT_OUT)
    music.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    music.add_argument("--threads", type=int, default=1, help="torch threads (transformer)")
    music.add_argument("--quiet", action="store_true")
    music.add_argument(
        "--weights",
        type=Path,
        help="a candidate model's folder (model.json + model.safetensors, e.g. a training "
        "run's): the transformer settings use it, named '<setting>@<folder name>'",
    )
    report = sub.add_parser("report", help="JSON lines -> docs/music-eval.md tables and figures")
    report.add_argument("rows", type=Path, nargs="*", default=[DEFAULT_OUT])
    report.add_argument("--doc", type=Path, default=Path("docs/music-eval.md"))
    report.add_argument("--img", type=Path, default=Path("docs/img"))
    args = parser.parse_args(argv)

    if args.command == "music":
        import torch

        from .run import run

        torch.set_num_threads(args.threads)
        names = [s for s in args.settings.split(",") if s]
        unknown = [s for s in names if s != "reference" and s not in SETTINGS]
        if unknown:
            parser.error(f"unknown setting(s) {', '.join(unknown)}")
        n = run(
            names,
            args.parts.split(","),
            args.out,
            args.sweep_seeds,
            args.cache,
            args.quiet,
            args.weights,
        )
        print(f"{n} rows appended to {args.out}")
        return 0
    from .report import write_report

    write_report(args.rows, args.doc, args.img)
    return 0


if __name__ == "__main__":
    sys.exit(main())
