"""Per-scene re-roll: how long one new take of one scene takes on a 3-minute, 40-cut edit.

    nice .venv/bin/python benchmarks/bench_reroll.py                 # both engines
    nice .venv/bin/python benchmarks/bench_reroll.py --engines arranger --takes 3

The edit has 41 shots of lognormal length (median about 3 s, from half a second to over ten;
seeded), as real edits do. Each engine scores it once without audio, then re-rolls scenes
spread over the edit with a new seed and a new mood, timed three ways:

- `library`: `reroll(...)` in a warm process with `render=False`: the new MIDI, report.json,
  the scored timeline and the A/B auditions of the scene (what the scene board waits for
  before it shows the new take);
- `cli`: the same as a fresh `emsync score --reroll ... --no-render` process (how the scene
  board runs it: Python start-up and imports included);
- `cli+render`: a fresh process that also renders and masters the whole score and its stems
  again (what an exported folder needs).

Figures are medians of `--takes` re-rolls, in seconds, with the load average at the start
(the machine is shared: compare rows measured together).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import opentimelineio as otio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emsync_core.pipeline import ScoreOptions, score  # noqa: E402
from emsync_core.reroll import reroll  # noqa: E402
from emsync_core.timeline.build import timeline_from_cuts  # noqa: E402

RATE = 24
MOODS = ("fear", "joy", "sadness", "anger", "surprise", "disgust")


def edit_file(folder: Path, seed: int = 40, shots: int = 41, total_s: float = 180.0) -> Path:
    rng = random.Random(seed)
    lengths = [min(60.0, max(0.5, rng.lognormvariate(1.1, 0.8))) for _ in range(shots)]
    scale = total_s / sum(lengths)
    cuts, t = [], 0.0
    for length in lengths[:-1]:
        t += length * scale
        cuts.append(round(t * RATE))
    path = folder / "reel.otio"
    timeline = timeline_from_cuts(sorted(set(cuts)), round(total_s * RATE), RATE)
    otio.adapters.write_to_file(timeline, str(path))
    return path


def cli(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "emsync"), *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", nargs="+", default=["arranger", "transformer"])
    parser.add_argument("--takes", type=int, default=5)
    args = parser.parse_args()
    print(
        f"# bench_reroll {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timeline = edit_file(folder)
        n_cuts = len(otio.adapters.read_from_file(str(timeline)).tracks[0]) - 1
        print(f"edit: 180 s, {n_cuts} cuts")
        print(
            "| engine | first score (s) | library re-roll (s) | CLI re-roll (s) "
            "| CLI re-roll + render (s) |"
        )
        print("| --- | --- | --- | --- | --- |")
        for engine in args.engines:
            out = folder / f"{engine}.emsync"
            options = ScoreOptions(
                out=out, render=False, progress=False, analyze=False, engine=engine, emotion="joy"
            )
            start = time.perf_counter()
            score(timeline, options)
            first = time.perf_counter() - start
            scenes = [round(i * n_cuts / args.takes) for i in range(args.takes)]
            library, fresh = [], []
            for k, scene in enumerate(scenes):
                mood = MOODS[k % len(MOODS)]
                opts = ScoreOptions(**{**options.__dict__, "seed": 100 + k, "emotion": mood})
                start = time.perf_counter()
                reroll(timeline, scene, opts)
                library.append(time.perf_counter() - start)
                common = ["score", str(timeline), "--out", str(out), "--reroll", str(scene)]
                fresh.append(cli([*common, "--seed", str(200 + k), "--no-render"]))
            rendered = cli(
                ["score", str(timeline), "--out", str(out), "--reroll", "3", "--seed", "7"]
            )
            print(
                f"| {engine} | {first:.2f} | {statistics.median(library):.2f} "
                f"(max {max(library):.2f}) | {statistics.median(fresh):.2f} "
                f"(max {max(fresh):.2f}) | {rendered:.2f} |"
            )


if __name__ == "__main__":
    main()
