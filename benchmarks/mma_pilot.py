"""Numbers and piano rolls for an MMA corpus and its tokenised build (docs/corpus.md).

    python benchmarks/mma_pilot.py SONGS_DIR CORPUS_DIR [--rolls N] [--img docs/img]

SONGS_DIR is what `emsync train --build-mma` wrote, CORPUS_DIR what `--build-corpus SONGS_DIR`
built from it. Prints one JSON object; draws N songs (spread over arousal) with their chord
changes as lines into IMG/mma_<k>.png.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pretty_midi

from emsync_core.eval import pianoroll
from emsync_core.music import corpus, events

LAYER = {"BASS": "bass", "KEYS": "keys", "GUITAR": "plucks", "STRINGS": "strings"}
LAYER |= {"WINDS": "winds", "DRUMS": "percussion"}


def spread(values: list[float]) -> dict:
    x = np.asarray(values, dtype=float)
    p = np.percentile(x, [5, 25, 50, 75, 95])
    return {
        "mean": round(float(x.mean()), 3),
        "sd": round(float(x.std()), 3),
        "p5_25_50_75_95": [round(float(v), 3) for v in p],
    }


def stats(songs: Path, built: Path) -> dict:
    manifest = json.loads((songs / "mma_manifest.json").read_text())
    c = corpus.Corpus(built)
    pieces = [p for p in c.pieces if p.get("source") == "mma"]
    minutes = np.array([p["duration_s"] / 60 for p in pieces])
    tokens = np.array([p["n_tokens"] for p in pieces])
    bounds = np.array([p["n_boundaries"] for p in pieces])
    groups = Counter(len(p["groups"]) for p in pieces)
    group_use = Counter(g for p in pieces for g in p["groups"])
    windows = [lab for p in pieces for lab in p["window_labels"]]
    sidecars = [json.loads(Path(p["path"]).with_suffix(".json").read_text()) for p in pieces]
    return {
        "songs": len(pieces),
        "music_hours": round(float(minutes.sum()) / 60, 2),
        "render": {k: manifest.get(k) for k in ("build_seconds", "child_cpu_seconds", "songs")},
        "corpus_build_seconds": json.loads((built / "manifest.json").read_text())["build_seconds"],
        "tokens_per_min": spread(list(tokens / minutes)),
        "chord_per_min": spread(list(bounds / minutes)),
        "recognised_chords_per_min": spread(
            [p["n_chords"] / m for p, m in zip(pieces, minutes, strict=True)]
        ),
        "share_zero_boundaries": round(float(np.mean(bounds == 0)), 4),
        "groups_per_piece": dict(sorted(groups.items())),
        "pieces_using_group": dict(group_use.most_common()),
        "piece_valence": spread([p["valence"] for p in pieces]),
        "piece_arousal": spread([p["arousal"] for p in pieces]),
        "window_valence": spread([v for v, _ in windows]),
        "window_arousal": spread([a for _, a in windows]),
        "windows": len(windows),
        "within_song_arousal_range": spread(
            [
                max(a for _, a in p["window_labels"]) - min(a for _, a in p["window_labels"])
                for p in pieces
                if p["window_labels"]
            ]
        ),
        "minor_share": round(float(np.mean([s["mode"] == "minor" for s in sidecars])), 3),
        "lead_share": round(float(np.mean([s["lead_voice"] is not None for s in sidecars])), 3),
        "progression_sources": dict(Counter(s["progression"]["source"] for s in sidecars)),
        "families_used": len({s["family"] for s in sidecars}),
        "minutes_per_song": spread(list(minutes)),
    }


def draw(songs: Path, img: Path, n: int) -> list[str]:
    labels = sorted(
        (json.loads(p.read_text()) for p in sorted((songs / "songs").rglob("s*.json"))),
        key=lambda d: d["arousal"],
    )
    picks = [labels[int(i)] for i in np.linspace(0, len(labels) - 1, n)]
    out = []
    for k, lab in enumerate(picks):
        mid = songs / "songs" / lab["song"][1:4] / f"{lab['song']}.mid"
        if not mid.exists():
            mid = next((songs / "songs").rglob(f"{lab['song']}.mid"))
        midi = pretty_midi.PrettyMIDI(str(mid))
        for inst in midi.instruments:
            group = events.group_of(inst.program, inst.is_drum)
            inst.name = (
                "melody"
                if inst.name.upper() == "ARIA"
                else LAYER.get(events.GROUPS[group] if group is not None else "", "other")
            )
        title = (
            f"{lab['song']} {lab['family']} @{lab['tempo']} {lab['key']}, "
            f"{lab['progression']['name']} ({lab['progression']['source']}), "
            f"{lab['chords_per_bar']} chords/bar; arousal {lab['arousal']:+.2f}, "
            f"valence {lab['valence']:+.2f}; lines = labelled chord changes"
        )
        end = min(lab["duration_s"], 60.0)
        path = img / f"mma_{k + 1}.png"
        pianoroll.figure([(midi, lab["boundaries_s"], [], title)], path, span=(0.0, end))
        out.append(f"{path}: {title}")
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("songs", type=Path)
    p.add_argument("corpus", type=Path)
    p.add_argument("--rolls", type=int, default=4)
    p.add_argument("--img", type=Path, default=Path("docs/img"))
    args = p.parse_args()
    result = stats(args.songs, args.corpus)
    result["rolls"] = draw(args.songs, args.img, args.rolls) if args.rolls else []
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
