"""Real-time factor of rendering, stems and mastering for a generated 3-minute score.

    .venv/bin/python benchmarks/bench_render.py [--seconds 180] [--repeats 3]

Prints the figures and appends one line (machine, date) to benchmarks/results/render.md.
A real-time factor of 70 means 70 seconds of audio per second of wall time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

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
    if not RESULTS.exists():
        RESULTS.write_text(HEADER)
    with RESULTS.open("a") as f:
        f.write(line)
    print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
