"""Preview movie (`write_preview`): real-time factor and peak memory on a 1080p edit.

    nice .venv/bin/python benchmarks/bench_preview.py                  # 60-s edit, 10 cuts
    nice .venv/bin/python benchmarks/bench_preview.py --timeline 60 180 --media /tmp/pv-bench

The media is one camera-like 1080p clip (bench_analyze.camera_clip: slow pans over photographs
with film grain, H.264 veryfast CRF 20 (~11 Mbit/s), 3 B-frames, a keyframe every 2 s, AAC;
seeded, cached in --media). The edit has a cut every `timeline / (cuts + 1)` seconds on
average (seeded random lengths), each scene from a random point of the clip, so every scene
costs a seek and a decode from the previous keyframe, as a real edit's does. score.wav is
48 kHz stereo 24-bit noise and tones of the timeline's length (its content does not change the
cost). Each figure is a fresh process: RTF = wall seconds / timeline seconds (under 1 is faster
than real time), CPU = user + system seconds of all threads per timeline second, peak = the
process's VmHWM. Runs with and without the original sound mixed under the score (-18 dB).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_analyze import camera_clip, load  # noqa: E402

from emsync_core.timeline.edit import Edit, Scene  # noqa: E402

FPS = 30

_CHILD = """
import json, os, pickle, sys, time
sys.path.insert(0, sys.argv[1])
from emsync_core.video.preview import write_preview
edit = pickle.loads(bytes.fromhex(sys.argv[2]))
db = None if sys.argv[5] == "none" else float(sys.argv[5])
c0, t = os.times(), time.perf_counter()
info = write_preview(edit, sys.argv[3], sys.argv[4], original_audio_db=db)
wall = time.perf_counter() - t
c1 = os.times()
hwm_kb = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
print(json.dumps({"wall": wall, "cpu": c1.user - c0.user + c1.system - c0.system,
                  "rss_mb": hwm_kb / 1024, "size_mb": os.path.getsize(sys.argv[4]) / 1e6,
                  "w": info.width, "h": info.height, "frames": info.frames}))
"""


def make_edit(clip: Path, clip_s: float, seconds: float, cuts: int, seed: int = 5) -> Edit:
    rng = np.random.default_rng(seed)
    total = round(seconds * FPS)
    weights = rng.uniform(0.5, 1.5, cuts + 1)
    bounds = np.round(np.cumsum(weights) / weights.sum() * total).astype(int)
    starts = [0, *bounds[:-1].tolist()]
    scenes = []
    for i, (a, b) in enumerate(zip(starts, bounds.tolist(), strict=True)):
        src = float(rng.uniform(0, max(0.0, clip_s - (b - a) / FPS - 0.1)))
        scenes.append(Scene(i, a, b, f"shot {i + 1}", str(clip), round(src, 3)))
    return Edit("bench", Fraction(FPS), total, tuple(starts[1:]), tuple(scenes))


def make_score(path: Path, seconds: float) -> None:
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * 48_000)) / 48_000
    x = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.02 * rng.standard_normal(t.size)
    sf.write(path, np.stack([x, x * 0.9], 1), 48_000, subtype="PCM_24")


def run(edit: Edit, score: Path, out: Path, db: float | None) -> dict:
    import pickle

    args = [
        sys.executable, "-c", _CHILD, str(ROOT), pickle.dumps(edit).hex(), str(score), str(out),
        "none" if db is None else str(db),
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeline", type=float, nargs="+", default=[60.0], help="seconds")
    ap.add_argument("--cuts", type=int, default=10)
    ap.add_argument("--media-seconds", type=float, default=60.0)
    ap.add_argument("--media", type=Path, default=Path("/tmp/emsync-bench-preview"))
    args = ap.parse_args()
    args.media.mkdir(parents=True, exist_ok=True)
    clip = args.media / f"camera_1080p_{args.media_seconds:g}s.mp4"
    if not clip.exists():
        camera_clip(clip, 1920, 1080, args.media_seconds, faces=False, fps=FPS)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    cpu = platform.processor() or platform.machine()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, {platform.system()} "
        f"{platform.release()} {cpu}, {len(__import__('os').sched_getaffinity(0))} CPUs, "
        f"Python {platform.python_version()}; media {clip.name} "
        f"({clip.stat().st_size * 8 / args.media_seconds / 1e6:.1f} Mbit/s)"
    )
    print("| timeline s | cuts | original sound | size | RTF (wall / timeline s) | "
          "CPU s per timeline s | peak RSS MB | preview MB | load (1 min) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for seconds in args.timeline:
        edit = make_edit(clip, args.media_seconds, seconds, args.cuts)
        score = args.media / f"score_{seconds:g}.wav"
        make_score(score, seconds)
        for db in (None, -18.0):
            before = load()
            r = run(edit, score, args.media / "preview.mp4", db)
            mixed = "no" if db is None else f"{db:g} dB"
            print(
                f"| {seconds:g} | {len(edit.cuts)} | {mixed} | {r['w']}x{r['h']} | "
                f"{r['wall'] / seconds:.3f} | {r['cpu'] / seconds:.3f} | {r['rss_mb']:.0f} | "
                f"{r['size_mb']:.1f} | {before}-{load()} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
