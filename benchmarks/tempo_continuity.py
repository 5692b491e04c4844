"""How much the arranger's tempo jumps at cuts between scenes of similar mood.

Usage: .venv/bin/python benchmarks/tempo_continuity.py [--timelines N]

Random 3-minute timelines with 40 cuts, once with one mood for the whole timeline and once
with a random mood per scene. For every cut between scenes whose arousal differs by < 0.25
(neither a one-beat stinger), the tempo change in percent. Prints the median, the 90th
percentile and the share of changes above 5 % (a steady pulse hears ~5 % as a new tempo).
"""

from __future__ import annotations

import argparse
import random
import statistics

from emsync_core.music.plan import plan_score


def tempo_changes(seed: int, one_mood: bool) -> list[float]:
    rng = random.Random(seed)
    inner = sorted(rng.uniform(0.5, 179.5) for _ in range(40))
    edges = [0.0, *inner, 180.0]
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    if one_mood:
        moods = [(rng.uniform(-1, 1), rng.uniform(-1, 1))] * len(spans)
    else:
        moods = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in spans]
    plan = plan_score(spans, moods, seed)
    return [
        abs(b.tempo_bpm / a.tempo_bpm - 1) * 100
        for a, b in zip(plan.scenes, plan.scenes[1:], strict=False)
        if abs(a.arousal - b.arousal) < 0.25 and a.beats > 1 and b.beats > 1
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timelines", type=int, default=30)
    args = parser.parse_args()
    for one_mood in (True, False):
        changes = sorted(c for s in range(args.timelines) for c in tempo_changes(s, one_mood))
        label = "one mood" if one_mood else "random moods"
        print(
            f"{label}: {len(changes)} cuts, median tempo change {statistics.median(changes):.1f} %,"
            f" 90th percentile {changes[int(0.9 * len(changes))]:.1f} %,"
            f" share above 5 %: {sum(c > 5 for c in changes) / len(changes):.2f}"
        )


if __name__ == "__main__":
    main()
