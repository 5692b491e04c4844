"""Read a 5,000-cut timeline and list its cuts (target: under 2 s), per format.

Appends a results line (machine, date, seconds) to benchmarks/results/timeline.md.
Run: .venv/bin/python benchmarks/bench_timeline.py
"""

from __future__ import annotations

import datetime
import os
import platform
import random
import tempfile
import time
import warnings
from pathlib import Path

import opentimelineio as otio

from emsync_core.timeline import read

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
RESULTS = Path(__file__).parent / "results" / "timeline.md"


def timeline(n: int) -> otio.schema.Timeline:
    rng = random.Random(5000)
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for i in range(n + 1):
        span = TR(RT(0, 24), RT(rng.randint(1, 60), 24))
        ref = otio.schema.ExternalReference(target_url=f"file:///m/c{i}.mov", available_range=span)
        track.append(otio.schema.Clip(name=f"c{i}", media_reference=ref, source_range=span))
    tl = otio.schema.Timeline(name="bench")
    tl.tracks.append(track)
    return tl


def main() -> None:
    warnings.simplefilter("ignore")
    tl = timeline(5000)
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for ext, adapter in [
            (".otio", "otio_json"),
            (".edl", "cmx_3600"),
            (".xml", "fcp_xml"),
            (".fcpxml", "fcpx_xml"),
        ]:
            path = Path(tmp) / f"bench{ext}"
            otio.adapters.write_to_file(tl, str(path), adapter)
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                edit = read(path, rate=24)
                cuts = list(edit.cuts)
                best = min(best, time.perf_counter() - start)
            assert len(cuts) == 5000
            figures.append(f"{ext} {best:.2f} s")
            print(f"{ext}: 5,000 cuts read and listed in {best:.2f} s (best of 3)")
    line = (
        f"| {datetime.date.today()} | {platform.node()} ({os.cpu_count()} cores, "
        f"{platform.python_version()}) | {' / '.join(figures)} |\n"
    )
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Timeline reading: 5,000 cuts, read and listed (best of 3; target < 2 s)\n\n"
            "| date | machine | seconds per format |\n| --- | --- | --- |\n",
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(line)


if __name__ == "__main__":
    main()
