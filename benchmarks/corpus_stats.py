"""Statistics and plots of a built corpus -> docs/corpus.md and docs/img/corpus_*.png.

Usage: .venv/bin/python benchmarks/corpus_stats.py CORPUS_DIR [--build-note TEXT]

Needs matplotlib (a dev-only tool: `.venv/bin/pip install matplotlib`). The licence section
of docs/corpus.md is kept in this script so that regenerating the file never loses it.
"""

from __future__ import annotations

# ruff: noqa: E501 (the licence tables below are Markdown rows)
import argparse
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from emsync_core.music import events as ev  # noqa: E402
from emsync_core.music.corpus import Corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "corpus.md"
IMG = ROOT / "docs" / "img"

LICENCES = """\
## Sources and licences

The default `music21` source takes these sub-corpora of the corpus shipped inside the
`music21` 10.5.1 wheel (`music21/corpus/`). The compositions are all long in the public
domain. The encodings are distributed with music21 "with the permission of the encoders"
(`music21/corpus/license.txt`; music21 itself is BSD-3-Clause); for these folders neither the
folder nor the files carry a further restriction.

| sub-corpus | what | files | licence as recorded |
| --- | --- | --- | --- |
| `bach` | J. S. Bach four-part chorales (MusicXML) | .mxl/.xml | public-domain music; encodings distributed with music21 (corpus/license.txt), no extra terms |
| `monteverdi` | Monteverdi five-part madrigals, books 3-5 (MusicXML) | .mxl | as above |
| `beethoven` | Beethoven string quartets (MusicXML) | .mxl | as above |
| `haydn` | Haydn string quartets op. 74 no. 1 and others (MusicXML) | .mxl | as above |
| `mozart` | Mozart string quartets K. 80, 155, 156, 458 and K. 545 (MusicXML) | .mxl | as above |

Left out on purpose:

| sub-corpus | why |
| --- | --- |
| `palestrina` (1318 mass movements) | every file says "Copyright 2000, John Miller ... must be accompanied by the licensing agreement" (Ohio State Humdrum licence); not a clear licence for model training |
| `essenFolksong` | its `license.txt`: permission for *non-commercial* distribution and use only |
| `ryansMammoth`, `oneills1850` | public-domain tune books, but monophonic fiddle tunes teach the model nothing about harmony or boundaries; add them with `music21:` if wanted after checking |
| `trecento`, `demos`, single pieces | mixed provenance, or too little to matter |

A MIDI folder (e.g. the Lakh MIDI dataset, CC-BY 4.0) carries its own licence; the builder
records paths and content hashes, not licences.
"""


def spacing_seconds(tokens: np.ndarray) -> np.ndarray:
    times = ev.token_times(tokens)[tokens == ev.CHORD] * ev.STEP_S
    return np.diff(times)


def source_of(path: str) -> str:
    parts = Path(path).parts
    return parts[parts.index("corpus") + 1] if "music21" in parts else "midi folder"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--build-note", default="", help="how the build was timed (for the doc)")
    args = parser.parse_args()
    corpus = Corpus(args.corpus)
    manifest = corpus.manifest
    pieces = corpus.pieces
    IMG.mkdir(parents=True, exist_ok=True)

    by_source: dict[str, list[dict]] = {}
    for p in pieces:
        by_source.setdefault(source_of(p["path"]), []).append(p)
    spacing = np.concatenate([spacing_seconds(np.asarray(corpus.tokens(p))) for p in pieces])
    minutes = np.array([p["duration_s"] / 60 for p in pieces])
    chords_pm = np.array([p["n_chords"] for p in pieces]) / minutes
    bounds_pm = np.array([p["n_boundaries"] for p in pieces]) / minutes
    valence = np.array([p["valence"] for p in pieces])
    arousal = np.array([p["arousal"] for p in pieces])
    group_notes = np.sum([p["group_notes"] for p in pieces], axis=0)
    group_pieces = Counter(g for p in pieces for g in p["groups"])
    modes = Counter(p["raw"]["key"].split()[1] for p in pieces)

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].hist(valence, bins=30, color="#4c72b0")
    axes[0].set_title("valence label")
    axes[1].hist(arousal, bins=30, color="#dd8452")
    axes[1].set_title("arousal label")
    fig.tight_layout()
    fig.savefig(IMG / "corpus_labels.png", dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(valence, arousal, s=6, alpha=0.5)
    ax.set_xlabel("valence")
    ax.set_ylabel("arousal")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    fig.tight_layout()
    fig.savefig(IMG / "corpus_va.png", dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(np.clip(spacing, 0, 16), bins=64, range=(0, 16), color="#55a868")
    ax.set_xlabel("seconds between consecutive boundaries (<CHORD>), clipped at 16")
    ax.set_ylabel("count")
    fig.tight_layout()
    fig.savefig(IMG / "corpus_boundary_spacing.png", dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(chords_pm, bins=40, color="#8172b3", alpha=0.8, label="chords")
    ax.hist(bounds_pm, bins=40, color="#c44e52", alpha=0.8, label="boundaries (>= 2 beats)")
    ax.set_xlabel("per minute, per piece")
    ax.legend()
    fig.tight_layout()
    fig.savefig(IMG / "corpus_chords_per_minute.png", dpi=90)
    plt.close(fig)

    splits = manifest["splits"]
    counts = manifest["counts"]
    total_tokens = splits["train"]["tokens"] + splits["val"]["tokens"]
    total_hours = splits["train"]["hours"] + splits["val"]["hours"]
    out = [
        "# Training corpus",
        "",
        "Built by `emsync train --build-corpus music21 --out DIR` (`emsync_core/music/corpus.py`);",
        "this page is generated by `benchmarks/corpus_stats.py DIR`. Token format, chord",
        "boundaries and labels: `emsync_core/weights/MODEL_CARD.md`. Build speed and memory for large MIDI",
        "folders: `benchmarks/results/corpus.md`.",
        "",
        "## Size",
        "",
        "| split | pieces | hours | tokens |",
        "| --- | --- | --- | --- |",
    ]
    for name in ("train", "val"):
        s = splits[name]
        out.append(f"| {name} | {s['pieces']} | {s['hours']:.2f} | {s['tokens']:,} |")
    out.append(f"| **all** | {len(pieces)} | {total_hours:.2f} | {total_tokens:,} |")
    out += [
        "",
        f"Files skipped: {counts['broken']} broken, {counts['empty']} empty, "
        f"{counts['too_large']} too large, {counts['duplicate']} duplicates. "
        f"Vocabulary: {manifest['vocab_size']} tokens; {len(manifest['shards'])} shards. "
        f"Tokens per second of music: {total_tokens / (total_hours * 3600):.1f}.",
        "",
        "| source | pieces | hours | tokens | chords/min (median) | boundaries/min (median) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, group in sorted(by_source.items()):
        mins = np.array([p["duration_s"] / 60 for p in group])
        cpm = np.median([p["n_chords"] for p in group] / mins)
        bpm = np.median([p["n_boundaries"] for p in group] / mins)
        out.append(
            f"| {name} | {len(group)} | {mins.sum() / 60:.2f} | "
            f"{sum(p['n_tokens'] for p in group):,} | {cpm:.1f} | {bpm:.1f} |"
        )
    out += [
        "",
        "## Build time",
        "",
        f"{manifest['build_seconds']:.0f} s for the whole build (listing, hashing, "
        f"{len(manifest['shards'])} shards, manifest). {args.build_note}",
        "",
        "## Instruments",
        "",
        "| group | notes | share of notes | pieces using it |",
        "| --- | --- | --- | --- |",
    ]
    for g, name in enumerate(ev.GROUPS):
        out.append(
            f"| {name} | {int(group_notes[g]):,} | {group_notes[g] / group_notes.sum():.1%} | "
            f"{group_pieces.get(name, 0)} |"
        )
    out += [
        "",
        "Every music21 part is mapped by role (lowest of 3+ parts = BASS, the rest = STRINGS),",
        "so this corpus alone never produces `<MORE_INSTRUMENTS>`; see the model card.",
        "",
        "## Labels",
        "",
        f"Key-profile mode: {modes.get('major', 0)} pieces major, {modes.get('minor', 0)} minor. "
        f"Valence mean {valence.mean():+.2f} (sd {valence.std():.2f}), arousal mean "
        f"{arousal.mean():+.2f} (sd {arousal.std():.2f}).",
        "",
        "![label histograms](img/corpus_labels.png)",
        "",
        "![valence vs arousal](img/corpus_va.png)",
        "",
        "## Chords and boundaries",
        "",
        f"Chords per minute: median {np.median(chords_pm):.1f} "
        f"(IQR {np.percentile(chords_pm, 25):.1f}-{np.percentile(chords_pm, 75):.1f}); "
        f"boundaries (chords held >= 2 beats) per minute: median {np.median(bounds_pm):.1f}. "
        f"Spacing between consecutive boundaries: median {np.median(spacing):.2f} s, "
        f"90th percentile {np.percentile(spacing, 90):.2f} s, "
        f"{np.mean(spacing > 8):.1%} longer than 8 s (the model's look-ahead).",
        "",
        "![boundary spacing](img/corpus_boundary_spacing.png)",
        "",
        "![chords per minute](img/corpus_chords_per_minute.png)",
        "",
        LICENCES,
    ]
    DOC.write_text("\n".join(out))
    print(f"wrote {DOC} and {IMG}/corpus_*.png")


if __name__ == "__main__":
    main()
