"""Video emotion analysis: speed (real-time factor), peak memory and cut precision/recall.

    .venv/bin/python benchmarks/bench_analyze.py                    # 720p, 1080p, 4K; 20 s clips
    .venv/bin/python benchmarks/bench_analyze.py --sizes 1080 --seconds 30 --cut-videos 0

Speed: `emsync analyze` end to end (`analyze_video_detailed`: one PyAV pass with thumbnails ->
AdaptiveDetector + motion, 2 fps colour samples, faces, AAC -> 16 kHz mono -> audio features,
classifier) on camera-like clips generated here with PyAV: slow pans over scikit-image's
photographs (public domain / CC0) with film grain, a cut every 3 s, H.264 (libx264 veryfast, CRF
20 by default (`--crf`), 3 B-frames, a keyframe every 2 s) + AAC, 30 fps. "Faces in footage":
the astronaut portrait (a real face) drifts over the background in every shot; otherwise the
pictures hold no face. Each run is a fresh Python process (what `emsync analyze` pays, minus
start-up); RTF = video seconds / wall seconds of the analysis; peak memory is that process's max
RSS; its CPU time (user + system, all threads) per video second is given too: it is less
sensitive to other people's load than wall time, and 2 / (CPU s per video s) bounds the RTF two
idle cores could reach. Decoding alone is measured too: reference frames only, every frame
without the deblocking filter, every frame with it (the floors). Three ways of running the
analysis: the default (non-reference frames skipped outside short runs around samples and
I-frames, cuts refined by decoding their neighbourhoods: video.frames / video.scenes),
"every frame" (the previous default: every frame decoded, deblocking skipped) and
"timeline" (`emsync analyze TIMELINE
--video CLIP`: the cuts come from an edit, here one cut every 3 s where the clip has them, so
no cut detection). Fidelity: the default against a full decode (every frame, deblocking on):
whether the cuts are identical and the largest change of any scene's valence/arousal; the
same for the timeline input (skipping against every frame).

The load average (`/proc/loadavg`, 1 min) is printed with every figure: the machine is shared,
and a figure taken under load is slower than the code.

Cuts: random generated videos with known cut times (random looks, pans up to 14 px/frame at
320 px, similar-looking neighbour shots), precision/recall of the detected cuts within one
frame, per AdaptiveDetector threshold. `--cut-bframes` re-encodes each with 3 B-frames in a
fixed pattern and no I-frame at cuts (so cuts fall on B-frames); the last column says in how
many videos the fast path's cuts are identical to those from every frame decoded (deblocking
skipped as in the fast path: what skipping frames changes) and with deblocking on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emsync_core.video.scenes import analyse_pass, match_cuts  # noqa: E402
from emsync_core.video.synth import Segment, with_b_frames, write_video  # noqa: E402

SIZES = {"720": (1280, 720), "1080": (1920, 1080), "2160": (3840, 2160)}


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _photos(h: int) -> tuple[list[np.ndarray], np.ndarray]:
    from skimage import data

    backgrounds = []
    for name in ("coffee", "chelsea", "rocket", "motorcycle_left", "hubble_deep_field"):
        try:
            img = getattr(data, name)()
        except Exception:  # noqa: BLE001 - a photo missing from this scikit-image: skip it
            continue
        backgrounds.append(img if img.ndim == 3 else np.dstack([img] * 3))
    face = data.astronaut()[:300, 110:410]  # head and shoulders
    return backgrounds, face


def camera_clip(
    path: Path, w: int, h: int, seconds: float, faces: bool, fps: int = 30, crf: int = 20
) -> None:
    """A camera-like H.264 + AAC clip (see the module docstring); seeded."""
    rng = np.random.default_rng(11)
    backgrounds, face = _photos(h)
    grain = [
        cv2.resize(rng.normal(0, 3.5, (h // 2, w // 2)).astype(np.float32), (w, h))[..., None]
        for _ in range(6)
    ]
    out = av.open(str(path), "w")
    vs = out.add_stream("libx264", rate=fps)
    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
    vs.options = {"preset": "veryfast", "crf": str(crf), "bf": "3", "g": str(2 * fps)}
    ast = out.add_stream("aac", rate=44100)
    ast.layout = "mono"
    n, shot = int(seconds * fps), 3 * fps
    side = int(h * 0.45)
    portrait = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    bg = None
    for i in range(n):
        if i % shot == 0:
            src = backgrounds[(i // shot) % len(backgrounds)]
            s = max(w * 1.4 / src.shape[1], h * 1.4 / src.shape[0])
            bg = cv2.resize(src, (int(src.shape[1] * s), int(src.shape[0] * s)))
            speed = rng.uniform(1, 6)
        j = i % shot
        ox = int((bg.shape[1] - w) * 0.5 + speed * j * w / 1920) % (bg.shape[1] - w)
        oy = int((bg.shape[0] - h) * (0.5 + 0.3 * np.sin(j / 45)))
        img = bg[oy : oy + h, ox : ox + w].astype(np.float32)
        if faces:
            x0 = int(w * 0.3 + w * 0.1 * np.sin(j / 30))
            y0 = int(h * 0.25)
            img[y0 : y0 + side, x0 : x0 + side] = portrait
        img = np.clip(img + grain[i % len(grain)], 0, 255).astype(np.uint8)
        for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            out.mux(p)
    for p in vs.encode():
        out.mux(p)
    t = np.arange(int(seconds * 44100)) / 44100
    env = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(np.float32)  # speech-like on/off
    pcm = 0.08 * np.sin(2 * np.pi * 180 * t) * env + 0.01 * rng.standard_normal(len(t))
    pcm = pcm.astype(np.float32)
    for k in range(0, len(pcm), 1024):
        fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[None, k : k + 1024]), "fltp",
                                        "mono")  # fmt: skip
        fr.sample_rate, fr.pts = 44100, k
        for p in ast.encode(fr):
            out.mux(p)
    for p in ast.encode():
        out.mux(p)
    out.close()


_CHILD = """
import json, os, sys, time
from fractions import Fraction
from functools import partial
sys.path.insert(0, sys.argv[1])
from emsync_core.emotion import classify, face
from emsync_core.emotion.classify import analyze_edit_detailed, analyze_video_detailed
from emsync_core.timeline.edit import Edit, Scene
from emsync_core.video import frames, scenes
mode = sys.argv[5]
if mode in ("every", "timeline-every"):  # every frame decoded, deblocking skipped
    classify.analyse_pass = partial(scenes.analyse_pass, skip_nonref=False)
    frames.collect_sources = partial(frames.collect_sources, skip_nonref=False)
stats = {}
if sys.argv[3] == "1":
    orig = face.FaceAnalyzer.results
    def results(self):
        stats.update(self.stats)
        return orig(self)
    face.FaceAnalyzer.results = results
t = time.perf_counter()
c0 = os.times()
if mode.startswith("timeline"):  # an edit with a cut every 3 s, where the clip has them
    info = frames.probe(sys.argv[2])
    rate = Fraction(round(info.fps))
    n = round(info.duration_s * info.fps)
    edges = list(range(0, n, 3 * int(rate))) + [n]
    shots = tuple(Scene(i, a, b, f"s{i}") for i, (a, b) in enumerate(zip(edges, edges[1:])))
    edit = Edit("bench", rate, n, tuple(edges[1:-1]), shots)
    scenes = analyze_edit_detailed(edit, video=sys.argv[2], faces=sys.argv[3] == "1")
    duration = edit.duration_s
else:
    duration, scenes = analyze_video_detailed(sys.argv[2], faces=sys.argv[3] == "1",
                                              fast_decode=sys.argv[4] == "1")
wall = time.perf_counter() - t
c1 = os.times()
cpu = c1.user - c0.user + c1.system - c0.system
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork + exec, so a child of a big parent
# (this benchmark holds 4K encoder buffers) would report the parent's peak.
status = open("/proc/self/status").read().split("VmHWM:")[1]
hwm_kb = int(status.split()[0])
print(json.dumps({"duration": duration, "wall": wall, "cpu": cpu, "scenes": len(scenes),
                  "rss_mb": hwm_kb / 1024,
                  "face_share": max((s.face_share or 0) for s in scenes), "faces": stats,
                  "va": [[s.valence, s.arousal] for s in scenes],
                  "cuts": [s.start_s for s in scenes[1:]]}))
"""


def run_analysis(path: Path, faces: bool, fast: bool = True, mode: str = "default") -> dict:
    """`analyze_video_detailed` (or, with mode "timeline...", `analyze_edit_detailed`) in a
    fresh process: wall and CPU time, peak RSS, face statistics, moods, cuts. Modes: "default",
    "every" (every frame decoded), "timeline", "timeline-every"; `fast=False`: deblocking on
    and every frame decoded."""
    args = [sys.executable, "-c", _CHILD, str(ROOT), str(path), str(int(faces)), str(int(fast)),
            mode]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def decode_only(path: Path, fast: bool, refs_only: bool = False) -> tuple[float, float]:
    """(wall, CPU) seconds to decode every video and audio frame (`refs_only`: the video's
    reference frames), nothing else."""
    t = time.perf_counter()
    c0 = os.times()
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"
        if fast:
            vs.codec_context.options = {"skip_loop_filter": "all"}
        if refs_only:
            vs.codec_context.skip_frame = "NONREF"
        for _ in c.decode(vs, *c.streams.audio[:1]):
            pass
    c1 = os.times()
    return time.perf_counter() - t, c1.user - c0.user + c1.system - c0.system


# Stages of the pass and the function whose cumulative time stands for each (cProfile).
STAGES = (
    ("decode video + audio (libavcodec)", "~'decode' of 'av.packet.Packet'"),
    ("thumbnails (plane slicing, YCrCb->BGR)", "frames.py:thumbnail"),
    ("cut detector (content scores of decoded frames)", "scenes.py:__call__"),
    ("cut refinement (its decoding is in the first row)", "scenes.py:exact_scores"),
    ("colour statistics (2 per second)", "features.py:frame_stats"),
    ("full-resolution luma for faces (+ rotation)", "frames.py:full_gray"),
    ("face detection (Haar, reduced plane)", "face.py:detect_faces"),
    ("face crops", "face.py:crop_face"),
    ("expression model (batched)", "face.py:predict"),
    ("audio resampling", "~'resample' of 'av.audio.resampler.AudioResampler'"),
    ("scene features (audio features etc.)", "features.py:scene_features"),
    ("classifier + arousal + smoothing", "classify.py:classify_scenes"),
)


def profile_stages(path: Path) -> list[str]:
    """Where the time of one analysis goes: cProfile, cumulative seconds per stage."""
    import cProfile
    import pstats

    from emsync_core.emotion.classify import analyze_video_detailed

    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    duration, _ = analyze_video_detailed(path)
    prof.disable()
    wall = time.perf_counter() - t
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    rows = [f"profile of {path.name} ({duration:.1f} s of video, {wall:.2f} s under cProfile, "
            f"load {load()}):", "", "| stage | s | share of wall |", "|---|---|---|"]  # fmt: skip
    for label, key in STAGES:
        if key.startswith("~"):  # a C function: its own time
            secs = sum(v[2] for (f, _, name), v in stats.items() if key[1:] in name)
        else:
            file, name = key.split(":")
            secs = sum(v[3] for (f, _, n), v in stats.items() if f.endswith(file) and n == name)
        rows.append(f"| {label} | {secs:.3f} | {secs / wall:.0%} |")
    for r in rows:
        print(r, flush=True)
    return rows


def bench_speed(
    seconds: float,
    sizes: list[str],
    folder: Path,
    repeats: int,
    crf: int,
    footage: list[bool] = (True, False),
) -> list[str]:
    rows = [
        "| size | faces in footage | Mbit/s | video s | scenes | RTF faces on: default / every "
        "frame / timeline | RTF --no-faces | decode-only RTF (refs only / every frame / "
        "deblocking on) | CPU s per video s, faces on: default / every frame / timeline | "
        "CPU s per video s, decode only: refs / every frame | peak RSS MB (default, faces on) | "
        "face detections / expression crops / reused | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    print(rows[0], rows[1], sep="\n", flush=True)

    def best(**kw) -> dict:
        return min((run_analysis(path, **kw) for _ in range(repeats)), key=lambda r: r["wall"])

    for size in sizes:
        w, h = SIZES[size]
        secs = seconds if size != "2160" else min(seconds, 10.0)
        for faces in footage:
            path = folder / f"cam{h}{'f' if faces else ''}_crf{crf}_{secs:g}s.mp4"
            if not path.is_file():  # --clips DIR keeps them for a rerun
                t = time.perf_counter()
                camera_clip(path, w, h, secs, faces, crf=crf)
                print(f"  (encoded {path.name} in {time.perf_counter() - t:.0f} s)", flush=True)
            loads = [load()]
            dec_refs, ref_cpu = min(decode_only(path, True, True) for _ in range(repeats))
            dec_fast, dec_cpu = min(decode_only(path, True) for _ in range(repeats))
            dec_full, _ = min(decode_only(path, False) for _ in range(repeats))
            on = best(faces=True)
            every = best(faces=True, mode="every")
            loads.append(load())
            tl = best(faces=True, mode="timeline")
            off = best(faces=False)
            loads.append(load())
            d = on["duration"]
            f = on["faces"]
            mbit = path.stat().st_size * 8 / d / 1e6
            rows.append(
                f"| {w}x{h} | {'yes' if faces else 'no'} | {mbit:.1f} | {d:.1f} | {on['scenes']} | "
                f"{d / on['wall']:.1f} / {d / every['wall']:.1f} / {d / tl['wall']:.1f} | "
                f"{d / off['wall']:.1f} | {d / dec_refs:.1f} / {d / dec_fast:.1f} / "
                f"{d / dec_full:.1f} | {on['cpu'] / d:.3f} / {every['cpu'] / d:.3f} / "
                f"{tl['cpu'] / d:.3f} | {ref_cpu / d:.3f} / {dec_cpu / d:.3f} | "
                f"{on['rss_mb']:.0f} | {f.get('detections', 0)} / "
                f"{f.get('crops', 0)} / {f.get('reused', 0)} | {' '.join(loads)} |"
            )
            print(rows[-1], flush=True)
            if size == "1080" and faces:
                full = run_analysis(path, True, fast=False)
                tl_every = run_analysis(path, True, mode="timeline-every")
                for label, a, b in (
                    ("default vs full decode (every frame, deblocking on)", on, full),
                    ("timeline input: skipping vs every frame", tl, tl_every),
                ):
                    pairs = list(zip(a["va"], b["va"], strict=True))
                    dv = max(abs(x[0] - y[0]) for x, y in pairs)
                    da = max(abs(x[1] - y[1]) for x, y in pairs)
                    print(
                        f"{label} (1080p, faces): cuts identical {a['cuts'] == b['cuts']}, "
                        f"max |dV| {dv:.3f}, max |dA| {da:.3f}, face share "
                        f"{a['face_share']:.2f} vs {b['face_share']:.2f}",
                        flush=True,
                    )
    return rows


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


def bench_cuts(
    n: int, seconds: float, thresholds: list[float], folder: Path, bframes: bool = False
) -> list[str]:
    rng = np.random.default_rng(7)
    clips = []
    for i in range(n):
        path = folder / f"cuts{i}.mp4"
        truth = write_video(path, random_segments(rng, seconds), fps=25, seed=i, gop=50)
        if bframes:
            with_b_frames(path, folder / f"cuts{i}b.mp4")
            path = folder / f"cuts{i}b.mp4"
        clips.append((path, truth))
    rows = [
        "| threshold | cuts | TP | FP | FN | precision | recall | videos with cuts identical to "
        "every frame decoded: deblocking skipped / on |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for th in thresholds:
        tp = fp = fn = same = same_full = 0
        for path, truth in clips:
            found = analyse_pass(path, adaptive_threshold=th).cuts
            same += found == analyse_pass(path, adaptive_threshold=th, skip_nonref=False).cuts
            same_full += found == analyse_pass(path, adaptive_threshold=th, fast_decode=False).cuts
            a, b, c = match_cuts(found, truth, tolerance_s=0.041)
            tp, fp, fn = tp + a, fp + b, fn + c
        p = tp / max(tp + fp, 1)
        r = tp / max(tp + fn, 1)
        rows.append(
            f"| {th} | {tp + fn} | {tp} | {fp} | {fn} | {p:.3f} | {r:.3f} | "
            f"{same} / {same_full} of {len(clips)} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the speed clips")
    ap.add_argument("--sizes", default="720,1080,2160", help="heights: 720, 1080, 2160")
    ap.add_argument("--repeats", type=int, default=1, help="best of N runs per figure")
    ap.add_argument(
        "--crf",
        type=int,
        default=20,
        help="x264 quality of the clips (20: ~11 Mbit/s at 1080p "
        "with grain, camera-like; 23: ~5 Mbit/s, web delivery)",
    )
    ap.add_argument("--faces-footage", default="yes,no", help="clips with faces, without, or both")
    ap.add_argument("--cut-videos", type=int, default=8)
    ap.add_argument("--cut-seconds", type=float, default=20.0)
    ap.add_argument(
        "--cut-bframes",
        action="store_true",
        help="re-encode the cut videos with B-frames and no I-frames at cuts",
    )
    ap.add_argument("--thresholds", default="1.5,2,2.5,3")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument(
        "--profile", action="store_true", help="also break one 1080p analysis down by stage"
    )
    ap.add_argument(
        "--clips",
        type=Path,
        default=None,
        help="keep the generated speed clips in this folder and reuse them on the next run",
    )
    args = ap.parse_args()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    print(f"{platform.platform()}, {os.cpu_count()} cpus, Python {platform.python_version()}, "
          f"av {av.__version__}, opencv {cv2.__version__}, commit {commit}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.clips is not None:
            args.clips.mkdir(parents=True, exist_ok=True)
        if not args.no_speed:
            bench_speed(args.seconds, args.sizes.split(","), args.clips or folder, args.repeats,
                        args.crf,
                        [x == "yes" for x in args.faces_footage.split(",")])  # fmt: skip
        if args.profile:
            path = (args.clips or folder) / f"cam1080f_crf{args.crf}_{args.seconds:g}s.mp4"
            if not path.is_file():
                camera_clip(path, 1920, 1080, args.seconds, True, crf=args.crf)
            profile_stages(path)
        ths = [float(x) for x in args.thresholds.split(",")]
        if args.cut_videos:
            bench_cuts(args.cut_videos, args.cut_seconds, ths, folder, args.cut_bframes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
