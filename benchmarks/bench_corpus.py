"""Corpus build time and peak memory: the music21 corpus and a synthetic folder of MIDI files.

Usage: .venv/bin/python benchmarks/bench_corpus.py [--files N] [--workers W] [--no-music21]

The synthetic folder holds N small random MIDI files (2 to 4 instruments, 20-60 s each) in
nested folders, plus 1% broken files and 1% duplicates. Peak memory is the largest resident
set of the main process and of any worker (ru_maxrss); it stays flat as N grows because only
file names and hashes are kept for the whole folder and one shard per worker is in memory.
Appends the figures, with machine and date, to benchmarks/results/corpus.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pretty_midi

from emsync_core.music.corpus import build_corpus

RESULTS = Path(__file__).parent / "results" / "corpus.md"


def synthetic_folder(root: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    written: list[Path] = []
    for i in range(n):
        path = root / f"{i % 97:02d}" / f"song{i}.mid"
        path.parent.mkdir(parents=True, exist_ok=True)
        if i % 100 == 17:
            path.write_bytes(b"MThd\x00\x00\x00\x06" + rng.randbytes(40))  # broken
            continue
        if i % 100 == 42 and written:
            shutil.copy(rng.choice(written), path)  # duplicate by content
            continue
        midi = pretty_midi.PrettyMIDI(initial_tempo=rng.choice([72, 90, 110, 128]))
        length = rng.uniform(20, 60)
        for _ in range(rng.randint(2, 4)):
            drum = rng.random() < 0.25
            inst = pretty_midi.Instrument(program=rng.randrange(96), is_drum=drum)
            t = 0.0
            while t < length:
                dur = rng.choice([0.125, 0.25, 0.5, 1.0])
                pitch = rng.randint(36, 60) if drum else rng.randint(40, 84)
                inst.notes.append(pretty_midi.Note(rng.randint(40, 120), pitch, t, t + dur))
                t += dur
            midi.instruments.append(inst)
        midi.write(str(path))
        written.append(path)


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def timed_build(sources: list[str], out: Path, workers: int) -> tuple[dict, float]:
    start = time.perf_counter()
    manifest = build_corpus(sources, out, workers=workers, progress=False)
    return manifest, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300, help="synthetic MIDI files")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-music21", action="store_true", help="skip the music21 build")
    args = parser.parse_args()
    lines = [
        f"\n## {datetime.date.today()} — {platform.node()}, {os.cpu_count()} CPUs, "
        f"{args.workers} workers\n",
        "| build | files | pieces | broken | dupes | tokens | hours | seconds | "
        "rerun s | peak MB main / worker |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        builds: list[tuple[str, list[str], int]] = []
        if not args.no_music21:
            builds.append(("music21 (default sub-corpora)", ["music21"], 0))
        folder = tmp_path / "midi"
        start = time.perf_counter()
        synthetic_folder(folder, args.files)
        print(f"wrote {args.files} synthetic files in {time.perf_counter() - start:.1f} s")
        builds.append((f"synthetic folder ({args.files} files)", [str(folder)], args.files))
        for name, sources, n_files in builds:
            out = tmp_path / f"out{len(lines)}"
            manifest, seconds = timed_build(sources, out, args.workers)
            _, rerun = timed_build(sources, out, args.workers)
            own, child = peak_mb()
            c, s = manifest["counts"], manifest["splits"]
            pieces = c["ok"]
            tokens = s["train"]["tokens"] + s["val"]["tokens"]
            hours = s["train"]["hours"] + s["val"]["hours"]
            files = n_files or sum(c.values())
            row = (
                f"| {name} | {files} | {pieces} | {c['broken']} | {c['duplicate']} | "
                f"{tokens:,} | {hours:.2f} | {seconds:.1f} | {rerun:.1f} | "
                f"{own:.0f} / {child:.0f} |"
            )
            print(row)
            lines.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as fh:
        if RESULTS.stat().st_size == 0:
            fh.write("# Corpus build benchmark (benchmarks/bench_corpus.py)\n")
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
