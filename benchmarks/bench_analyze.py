"""Video emotion analysis: speed (real-time factor), peak memory and cut precision/recall.

    .venv/bin/python benchmarks/bench_analyze.py              # 10 s clips, 720p + 1080p
    .venv/bin/python benchmarks/bench_analyze.py --seconds 60 --cut-videos 20

Speed: `analyze_video` (one PyAV pass: thumbnails -> AdaptiveDetector + motion, 2 fps colour
samples, AAC -> 16 kHz mono -> audio features, classifier) on generated H.264 + AAC clips;
RTF = video seconds / wall seconds, also for decoding alone (the floor). Peak memory is the
process's max RSS growth during the analysis. Cuts: random generated videos with known cut
times (random looks, pans up to 14 px/frame at 320 px, similar-looking neighbour shots),
precision/recall of the detected cuts within one frame, per AdaptiveDetector threshold.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emsync_core.emotion.classify import analyze_video_detailed  # noqa: E402
from emsync_core.video.scenes import analyse_pass, match_cuts  # noqa: E402
from emsync_core.video.synth import Segment, write_video  # noqa: E402


def random_segments(rng: np.random.Generator, seconds: float) -> list[Segment]:
    segs: list[Segment] = []
    total = 0.0
    prev_hue = rng.uniform(0, 180)
    while total < seconds:
        length = float(min(rng.uniform(0.8, 4.0), seconds - total))
        if length < 0.7:
            break
        similar = rng.random() < 0.25  # a new shot that looks like the last one
        hue = (prev_hue + (rng.uniform(-15, 15) if similar else rng.uniform(40, 140))) % 180
        segs.append(
            Segment(
                round(length * 25) / 25,
                brightness=float(rng.uniform(0.15, 0.85)),
                saturation=float(rng.uniform(0.1, 0.9)),
                hue=float(hue),
                speed=float(rng.choice([0, 2, 6, 10, 14])),
                contrast=float(rng.uniform(0.05, 0.4)),
                audio=str(rng.choice(["tone", "bursts", "speech"])),
                loudness_db=float(rng.uniform(-40, -16)),
                onsets_per_s=float(rng.uniform(0.5, 5)),
            )
        )
        prev_hue = hue
        total += segs[-1].seconds
    return segs


def bench_cuts(n: int, seconds: float, thresholds: list[float], folder: Path) -> list[str]:
    rng = np.random.default_rng(7)
    clips = []
    for i in range(n):
        path = folder / f"cuts{i}.mp4"
        truth = write_video(path, random_segments(rng, seconds), fps=25, seed=i, gop=50)
        clips.append((path, truth))
    rows = [
        "| threshold | cuts | TP | FP | FN | precision | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for th in thresholds:
        tp = fp = fn = 0
        for path, truth in clips:
            found = analyse_pass(path, adaptive_threshold=th).cuts
            a, b, c = match_cuts(found, truth, tolerance_s=0.041)
            tp, fp, fn = tp + a, fp + b, fn + c
        p = tp / max(tp + fp, 1)
        r = tp / max(tp + fn, 1)
        rows.append(f"| {th} | {tp + fn} | {tp} | {fp} | {fn} | {p:.3f} | {r:.3f} |")
        print(rows[-1], flush=True)
    return rows


def decode_only(path: Path) -> float:
    t = time.perf_counter()
    with av.open(str(path)) as c:
        c.streams.video[0].thread_type = "AUTO"
        for _ in c.decode(c.streams.video[0], *c.streams.audio[:1]):
            pass
    return time.perf_counter() - t


def peak_rss_mb(path: Path) -> float:
    """Max RSS of a fresh Python process that imports EMSYNC and analyses `path`."""
    code = (
        "import resource, sys; sys.path.insert(0, sys.argv[2]);"
        "from emsync_core.emotion.classify import analyze_video_detailed;"
        "analyze_video_detailed(sys.argv[1]);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), root], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1]) / 1024


def bench_speed(seconds: float, sizes: list[tuple[int, int]], folder: Path) -> list[str]:
    rows = [
        "| size | video s | scenes | analyse s | RTF (x real time) | RTF without faces "
        "| decode-only RTF | peak RSS MB (own process) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rng = np.random.default_rng(1)
    for w, h in sizes:
        path = folder / f"speed{h}.mp4"
        write_video(path, random_segments(rng, seconds), width=w, height=h, fps=30, gop=90)
        dec = decode_only(path)
        t = time.perf_counter()
        duration, scenes = analyze_video_detailed(path)
        wall = time.perf_counter() - t
        t = time.perf_counter()
        analyze_video_detailed(path, faces=False)
        wall_nf = time.perf_counter() - t
        rows.append(
            f"| {w}x{h} | {duration:.1f} | {len(scenes)} | {wall:.2f} | {duration / wall:.1f} | "
            f"{duration / wall_nf:.1f} | {duration / dec:.1f} | {peak_rss_mb(path):.0f} |"
        )
        print(rows[-1], flush=True)
    return rows


def bench_faces(repeats: int = 10) -> list[str]:
    """Per face-sampled frame (1 per second): Haar detection at 400 px + mini-Xception on the
    two largest faces, on a frame with a real face (scikit-image's astronaut.png, public
    domain, scaled into a 720p/1080p frame) and on a frame without one."""
    import cv2

    from emsync_core.emotion.face import FaceAnalyzer, expression_model

    spec = importlib.util.find_spec("skimage")
    src = None
    if spec is not None and spec.submodule_search_locations:
        p = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
        src = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) if p.is_file() else None
    analyzer = FaceAnalyzer()
    rows = ["| frame | faces | ms per face-sampled frame |", "|---|---|---|"]
    model = expression_model()
    crops = np.zeros((1, 64, 64), np.uint8)
    model.predict(crops)
    t = time.perf_counter()
    for _ in range(repeats * 5):
        model.predict(crops)
    fer_ms = (time.perf_counter() - t) / (repeats * 5) * 1000
    for w, h in [(1280, 720), (1920, 1080)]:
        frames = {"flat grey": np.full((h, w), 110, np.uint8)}
        if src is not None:
            img = frames["flat grey"].copy()
            img[:, w // 4 : w // 4 + h] = cv2.resize(src, (h, h))  # face ~ 19 % of the height
            frames["astronaut portrait"] = img
        for name, img in frames.items():
            n = analyzer(img).count
            t = time.perf_counter()
            for _ in range(repeats):
                analyzer(img)
            ms = (time.perf_counter() - t) / repeats * 1000
            rows.append(f"| {w}x{h} {name} | {n} | {ms:.1f} |")
            print(rows[-1], flush=True)
    rows.append(f"| mini-Xception alone (numpy), per face | | {fer_ms:.1f} |")
    print(rows[-1], flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the speed clips")
    ap.add_argument("--cut-videos", type=int, default=8)
    ap.add_argument("--cut-seconds", type=float, default=20.0)
    ap.add_argument("--thresholds", default="1.5,2,2.5,3")
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args()
    print(f"{platform.platform()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.no_speed:
            bench_faces()
            bench_speed(args.seconds, [(1280, 720), (1920, 1080)], folder)
        ths = [float(x) for x in args.thresholds.split(",")]
        if args.cut_videos:
            bench_cuts(args.cut_videos, args.cut_seconds, ths, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
