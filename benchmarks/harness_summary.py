"""A candidate model's harness rows in brief, against issue 15's lines.

    .venv/bin/python benchmarks/harness_summary.py benchmarks/results/music/rows-key-ft3*.jsonl

Prints per setting: degenerate scores on the acceptance edits (30-s and 3-minute) and which
thresholds they crossed, the longest re-strike runs, the mean activity of each instrument
layer per emotion (drums should sound in aroused scenes, not in calm ones), new harmonies at
cuts against control times, and the mood sweeps (seeds whose mode moves toward major from
valence -1 to +1, seeds whose new pitches per second rise 1.5x from arousal -1 to +1, and the
means per level), and in how many sweep scores the key the plan asked for is the key heard
(diagnostic: rows written since 2026-12-06 session 5); with the reference rows among the files
(rows-arranger.jsonl), each setting's distance to real music. The full report is
`python -m emsync_core.eval report`.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emsync_core.eval.report import distances, load_rows, mood_response  # noqa: E402


def summarise(rows: list[dict]) -> list[str]:
    out: list[str] = []
    for setting in sorted({r["setting"] for r in rows}):
        mine = [r for r in rows if r["setting"] == setting]
        accept = [r for r in mine if r["part"] == "accept"]
        out.append(setting)
        for edit in ("short_30s", "reel_3min"):
            sel = [r for r in accept if r["edit"] == edit]
            if sel:
                bad = sum(bool(r["degenerate"]) for r in sel)
                out.append(f"  accept {edit}: {bad}/{len(sel)} degenerate")
        reasons = collections.Counter(d.split(" ")[0] for r in mine for d in r["degenerate"])
        out.append(f"  thresholds crossed (all parts): {dict(reasons)}")
        runs = [r["degeneration"]["longest_restrike_run"] for r in mine]
        out.append(f"  longest re-strike run: median {np.median(runs):.0f}, max {max(runs):.0f}")
        layers: dict[str, dict[str, list[float]]] = collections.defaultdict(
            lambda: collections.defaultdict(list)
        )
        for r in accept:
            for layer, share in r["activity"].items():
                layers[r["label"]][layer].append(share)
        for label, shares in sorted(layers.items()):
            text = ", ".join(f"{k} {np.mean(v):.2f}" for k, v in sorted(shares.items()))
            out.append(f"  activity, {label}: {text}")
        contrast = [r["contrast"] for r in mine if (r.get("contrast") or {}).get("n_cuts")]
        if contrast:
            at = np.mean([c["new_harmony_at_cuts"] for c in contrast])
            ctl = np.mean([c["new_harmony_at_controls"] for c in contrast])
            out.append(f"  new harmony within 250 ms: at cuts {at:.2f}, at control times {ctl:.2f}")
    for part in ("sweep", "unseen_sweep"):  # the same sweeps on seen and on unseen edits
        for setting in sorted({r["setting"] for r in rows}):
            ranks = [
                r["planned_key_rank"]
                for r in rows
                if r["setting"] == setting and r["part"] == part and "planned_key_rank" in r
            ]
            if ranks:
                heard = sum(rank == 0 for rank in ranks)
                out.append(
                    f"{setting} {part}s: planned key heard (best of 24) in {heard}/{len(ranks)}"
                )
        for setting, m in mood_response(rows, (part,)).items():
            out.append(
                f"{setting} {part}s: {m['seeds']} seeds, mode toward major {m['mode_up']}, "
                f"new pitches up 1.5x {m['density_up']}"
            )
            out.append("  mode by valence: " + ", ".join(
                f"{k:+.1f}: {v:+.3f}" for k, v in m["mode_by_level"].items()))  # fmt: skip
            out.append("  new pitches/s by arousal: " + ", ".join(
                f"{k:+.1f}: {v:.2f}" for k, v in m["density_by_level"].items()))  # fmt: skip
    # Needs the reference rows too (rows-arranger.jsonl holds them).
    for setting, d in distances(rows).items():
        out.append(f"{setting}: distance to real music, mean overlapped area {d['mean']:.3f}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rows", type=Path, nargs="+", help="harness JSON-lines files")
    args = ap.parse_args()
    print("\n".join(summarise(load_rows(args.rows))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
