"""Piano rolls of scores with the cuts drawn as lines: what a person looks at before a number
from the harness is believed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pretty_midi

COLOURS = {
    "bass": "tab:blue",
    "strings": "tab:orange",
    "keys": "tab:green",
    "plucks": "tab:purple",
    "winds": "tab:brown",
    "pad": "tab:orange",
    "ostinato": "tab:green",
    "melody": "tab:red",
    "percussion": "tab:gray",
}


def draw(
    axes,  # noqa: ANN001 (a matplotlib Axes)
    midi: pretty_midi.PrettyMIDI,
    cuts_s: Sequence[float],
    hits_s: Sequence[float] = (),
    title: str = "",
    span: tuple[float, float] | None = None,
) -> None:
    """Notes as bars (pitch against time, one colour per layer), cuts as solid lines, hits as
    dashed ones; drums as ticks along the bottom."""
    seen = set()
    for inst in midi.instruments:
        layer = inst.name.split(" - ")[0].strip()
        colour = COLOURS.get(layer, "black")
        for n in inst.notes:
            if span and not (span[0] <= n.start < span[1]):
                continue
            y = 22 if inst.is_drum else n.pitch
            h = 1.5 if inst.is_drum else 0.8
            axes.broken_barh(
                [(n.start, max(n.end - n.start, 0.02))],
                (y - h / 2, h),
                facecolors=colour,
                label=None if layer in seen else layer,
            )
            seen.add(layer)
    for t in cuts_s:
        if not span or span[0] <= t <= span[1]:
            axes.axvline(t, color="crimson", lw=0.8)
    for t in hits_s:
        if not span or span[0] <= t <= span[1]:
            axes.axvline(t, color="crimson", lw=0.8, ls="--")
    if span:
        axes.set_xlim(*span)
    axes.set_ylim(18, 100)
    axes.set_title(title, fontsize=8, loc="left")
    axes.tick_params(labelsize=7)
    if seen:
        axes.legend(fontsize=6, loc="upper right", ncol=len(seen))


def figure(
    panels: Sequence[tuple[pretty_midi.PrettyMIDI, Sequence[float], Sequence[float], str]],
    path: Path,
    span: tuple[float, float] | None = None,
) -> None:
    """One piano roll per panel, stacked, written to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 2.2 * len(panels)), squeeze=False)
    for ax, (midi, cuts, hits, title) in zip(axes[:, 0], panels, strict=True):
        draw(ax, midi, cuts, hits, title, span)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
