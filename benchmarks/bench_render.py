"""Real-time factor of rendering, stems and mastering for a generated 3-minute score; and
peak memory and time of `emsync score` on long reels.

    .venv/bin/python benchmarks/bench_render.py [--seconds 180] [--repeats 3]
    .venv/bin/python benchmarks/bench_render.py --reels 10 60 120 [--no-stems]

Prints the figures and appends one line (machine, date) to benchmarks/results/render.md.
A real-time factor of 70 means 70 seconds of audio per second of wall time.

`--reels MINUTES...` builds a timeline of that length with 25 cuts a minute (3,000 cuts for
two hours, seeded random shot lengths, four moods in turn), scores it with
`emsync score --engine arranger` in a fresh process (the arranger takes a second, so the
render, mastering and writing are what is measured), and reads the process's peak resident
memory from the kernel (wait4), the stage timings from report.json, the bytes written, and
the written score.wav's length, loudness and true peak (streamed, as the render is).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pretty_midi

from emsync_core.audio import render as render_module
from emsync_core.audio.master import finish_stem, loudness_lufs, master, true_peak_dbtp
from emsync_core.audio.render import render, render_stems, resolve_soundfont

SR = 48000
RESULTS = Path(__file__).resolve().parent / "results" / "render.md"
HEADER = (
    "# Render benchmark (benchmarks/bench_render.py)\n\n"
    "Generated 5-instrument score (piano, bass, strings, flute, drums), 48 kHz stereo.\n"
    "RTF = seconds of audio per second of wall time (median of the repeats).\n\n"
    "| date | machine | cpus | score | SoundFont load | render RTF | stems RTF | master RTF "
    "| stems finish RTF | master LUFS / dBTP |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)


def generated_score(seconds: float, seed: int = 0) -> pretty_midi.PrettyMIDI:
    """Five random-walk parts with drums: dense enough to load the synth realistically."""
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI()
    parts = [("piano", 0, 60, 0.25), ("bass", 33, 36, 0.5), ("strings", 48, 64, 2.0)]
    parts += [("flute", 73, 72, 0.5), ("drums", 0, 36, 0.25)]
    for name, program, base, step in parts:
        inst = pretty_midi.Instrument(program=program, is_drum=name == "drums", name=name)
        for k in range(int(seconds / step)):
            if inst.is_drum:
                pitch = int(rng.choice([36, 38, 42, 46]))
            else:
                pitch = base + int(rng.choice([0, 2, 4, 5, 7, 9, 11, 12]))
            velocity = int(rng.integers(60, 110))
            inst.notes.append(pretty_midi.Note(velocity, pitch, k * step, k * step + step * 0.9))
        pm.instruments.append(inst)
    return pm


def timed(label: str, fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time over `repeats` runs, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        result = None  # free the previous result first: big buffers, and allocation is costly
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    print(f"  {label:<8} runs: " + ", ".join(f"{t:.2f} s" for t in times))
    return statistics.median(times), result


def soundfont_load_s(repeats: int) -> float:
    """Synth creation plus sfload, as one render call pays it (before any preset decode)."""
    path = resolve_soundfont(None)

    def load() -> None:
        render_module._Engine(path, SR).close()

    return timed("load", load, repeats)[0]


REELS_HEADING = "## Long reels (emsync score --engine arranger, one fresh process each)"
REELS_HEADER = (
    f"\n{REELS_HEADING}\n\n"
    "Peak memory is the process's maximum resident set (kernel, wait4). RTF = audio seconds "
    "per wall second for the whole command (start-up, arranger, render, master, write).\n\n"
    "| date | commit | machine | cpus | load | reel | cuts | stems | peak memory | wall | RTF "
    "| render s | master s | written | score.wav LUFS / dBTP |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
    "| --- |\n"
)
CUTS_PER_MINUTE = 25  # 3,000 cuts in two hours


def long_timeline(minutes: float, folder: Path) -> tuple[Path, Path, int]:
    """An OTIO timeline of `minutes` at 24 fps with seeded random shot lengths, and a moods
    file giving its scenes four moods in turn."""
    import opentimelineio as otio

    from emsync_core.timeline.build import timeline_from_cuts

    frames = round(minutes * 60 * 24)
    count = round(minutes * CUTS_PER_MINUTE)
    rng = np.random.default_rng(0)
    cuts = sorted(set(rng.choice(np.arange(24, frames - 24), size=count, replace=False).tolist()))
    path = folder / f"reel_{minutes:g}min.otio"
    otio.adapters.write_to_file(timeline_from_cuts(cuts, frames, 24.0, path.stem), str(path))
    moods = folder / "moods.json"
    cycle = ["joy", "sadness", "fear", "0.2,0.6"]
    moods.write_text(json.dumps([cycle[i % 4] for i in range(len(cuts) + 1)]))
    return path, moods, len(cuts)


class WavAudio:
    """A WAV file with the `read(begin, end)` of emsync_core.audio.stream, for the scan."""

    def __init__(self, path: Path) -> None:
        import soundfile

        self.file = soundfile.SoundFile(str(path))
        self.frames = self.file.frames

    def read(self, begin: int, end: int) -> np.ndarray:
        out = np.zeros((end - begin, 2))
        lo, hi = max(begin, 0), min(end, self.frames)
        if hi > lo:
            self.file.seek(lo)
            out[lo - begin : hi - begin] = self.file.read(hi - lo, dtype="float64")
        return out


def bench_reel(minutes: float, stems: bool) -> str:
    from emsync_core.audio.master_stream import scan

    work = Path(tempfile.mkdtemp(prefix="emsync-bench-"))
    try:
        timeline, moods, cuts = long_timeline(minutes, work)
        out = work / "out"
        command = [sys.executable, "-m", "emsync_core.cli", "score", str(timeline)]
        command += ["--out", str(out), "--engine", "arranger", "--emotion", str(moods)]
        command += ["--no-analyze", "--stems" if stems else "--no-stems"]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"emsync score failed on the {minutes:g}-minute reel ({status})")
        peak_mb = usage.ru_maxrss / 1024
        report = json.loads((out / "report.json").read_text())
        written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        wav = WavAudio(out / "score.wav")
        expected = round(minutes * 60 * 48000)
        assert wav.frames == expected, (wav.frames, expected)
        measured = scan(wav.read, wav.frames, 48000, floor=10 ** (-1.5 / 20), loudness=True)
        peak = float(measured.block_peak.max())
        dbtp = 20 * np.log10(peak) if peak > 0 else -np.inf
        timings = report["timings_s"]
        seconds = minutes * 60
        print(
            f"{minutes:g} min, {cuts} cuts, stems {stems}: peak {peak_mb:.0f} MB, wall "
            f"{wall:.0f} s (RTF {seconds / wall:.1f}), render {timings['render']:.0f} s, master "
            f"{timings['master']:.0f} s, written {written / 1e9:.2f} GB, "
            f"{measured.loudness:.2f} LUFS, {dbtp:.2f} dBTP (load {load:.1f})"
        )
        commit = (
            os.environ.get("EMSYNC_COMMIT")
            or subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
            ).stdout.strip()
        )
        machine = f"{platform.platform()} {platform.processor() or platform.machine()}"
        return (
            f"| {datetime.date.today().isoformat()} | {commit} | {machine} | {os.cpu_count()} "
            f"| {load:.1f} | {minutes:g} min | {cuts} | {'yes' if stems else 'no'} "
            f"| {peak_mb:.0f} MB | {wall:.0f} s | {seconds / wall:.1f} "
            f"| {timings['render']:.0f} | {timings['master']:.0f} | {written / 1e9:.2f} GB "
            f"| {measured.loudness:.2f} / {dbtp:.2f} |\n"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reels", type=float, nargs="+", metavar="MINUTES")
    parser.add_argument("--stems", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    if args.reels:
        for minutes in args.reels:
            line = bench_reel(minutes, args.stems)
            text = RESULTS.read_text() if RESULTS.exists() else HEADER
            if REELS_HEADING not in text:
                text += REELS_HEADER
            head, section = text.split(REELS_HEADING, 1)
            lines = section.splitlines(keepends=True)
            last_row = max(i for i, row in enumerate(lines) if row.startswith("|"))
            lines.insert(last_row + 1, line)  # under the table's last row, above any notes
            RESULTS.write_text(head + REELS_HEADING + "".join(lines))
        print(f"appended to {RESULTS}")
        return

    seconds, repeats = args.seconds, args.repeats
    n = round(seconds * SR)
    score = generated_score(seconds)
    load_s = soundfont_load_s(repeats)
    render_s, mix = timed("render", lambda: render(score, n_samples=n), repeats)
    stems_s, stems = timed("stems", lambda: render_stems(score, n_samples=n), repeats)
    master_s, (mastered, gain) = timed("master", lambda: master(mix, SR, n), repeats)
    finish_s, _ = timed(
        "finish", lambda: [finish_stem(s, SR, n, gain) for s in stems.values()], repeats
    )

    lufs, dbtp = loudness_lufs(mastered, SR), true_peak_dbtp(mastered)
    machine = f"{platform.platform()} {platform.processor() or platform.machine()}"
    cpus = os.cpu_count()
    print(f"machine: {machine}, {cpus} CPUs, Python {platform.python_version()}")
    print(f"score: {seconds:.0f} s, {len(score.instruments)} instruments, repeats {repeats}")
    print(f"SoundFont load ({resolve_soundfont(None).name}): {load_s * 1000:.0f} ms")
    print(f"render:  {render_s:6.2f} s  RTF {seconds / render_s:6.1f}")
    print(f"stems:   {stems_s:6.2f} s  RTF {seconds / stems_s:6.1f}  ({len(stems)} stems)")
    print(f"master:  {master_s:6.2f} s  RTF {seconds / master_s:6.1f}")
    print(f"finish:  {finish_s:6.2f} s  RTF {seconds / finish_s:6.1f}  (all stems)")
    print(f"mastered: {lufs:.2f} LUFS, {dbtp:.2f} dBTP, gain {20 * np.log10(gain):+.2f} dB")

    line = (
        f"| {datetime.date.today().isoformat()} | {machine} | {cpus} "
        f"| {seconds:.0f} s, {len(score.instruments)} parts | {load_s * 1000:.0f} ms "
        f"| {seconds / render_s:.1f} | {seconds / stems_s:.1f} | {seconds / master_s:.1f} "
        f"| {seconds / finish_s:.1f} | {lufs:.2f} / {dbtp:.2f} |\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    if REELS_HEADING in text:  # this table comes before the long-reels section
        head, tail = text.split(f"\n{REELS_HEADING}", 1)
        text = head.rstrip("\n") + "\n" + line + f"\n{REELS_HEADING}" + tail
    else:
        text += line
    RESULTS.write_text(text)
    print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
