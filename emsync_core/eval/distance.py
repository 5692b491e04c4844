"""Distance to real music: Yang & Lerch's overlapped area (Neural Computing and Applications
32, 2020, "On the evaluation of generative models in music").

Every excerpt (a fixed-length window of a score) gets six features. For each feature, the
distances between reference excerpts (intra-set) and the distances between generated and
reference excerpts (inter-set) are smoothed into densities (Gaussian KDE); their overlapped
area is 1 when generated music sits among the reference as the reference sits among itself,
and falls towards 0 as it moves away. The ceiling is the reference against itself: one half
of the excerpts (inter-set to the other half) against the other half's intra-set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pretty_midi
from scipy.stats import gaussian_kde

EXCERPT_S = 20.0
LENGTH_BINS = np.array([0.125, 0.25, 0.5, 1.0, 2.0, 4.0])  # note-length histogram edges (s)
FEATURES = (
    "pitch_count",
    "pitch_class_histogram",
    "pitch_range",
    "top_voice_interval",
    "inter_onset_interval",
    "note_length_histogram",
)


def excerpts(
    midi: pretty_midi.PrettyMIDI, duration: float, most: int = 4
) -> list[list[pretty_midi.Note]]:
    """Pitched notes of up to `most` consecutive 20-s windows (notes starting inside)."""
    notes = sorted(
        (n for i in midi.instruments if not i.is_drum for n in i.notes if n.end > n.start),
        key=lambda n: n.start,
    )
    out = []
    for k in range(min(most, int(duration // EXCERPT_S))):
        lo, hi = k * EXCERPT_S, (k + 1) * EXCERPT_S
        window = [n for n in notes if lo <= n.start < hi]
        if window:
            out.append(window)
    return out


def features(notes: list[pretty_midi.Note]) -> dict[str, np.ndarray]:
    pitches = np.array([n.pitch for n in notes])
    starts = np.array([n.start for n in notes])
    lengths = np.array([n.end - n.start for n in notes])
    pch = np.bincount(pitches % 12, minlength=12).astype(float)
    onset_times = np.unique(np.round(starts, 2))
    # top voice: the highest pitch struck at each onset
    top = [pitches[np.abs(starts - t) <= 0.01].max() for t in onset_times]
    nlh = np.bincount(np.searchsorted(LENGTH_BINS, lengths), minlength=len(LENGTH_BINS) + 1)
    return {
        "pitch_count": np.array([len(set(pitches.tolist()))], float),
        "pitch_class_histogram": pch / pch.sum(),
        "pitch_range": np.array([pitches.max() - pitches.min()], float),
        "top_voice_interval": np.array(
            [np.abs(np.diff(top)).mean() if len(top) > 1 else 0.0], float
        ),
        "inter_onset_interval": np.array(
            [np.diff(onset_times).mean() if len(onset_times) > 1 else EXCERPT_S], float
        ),
        "note_length_histogram": nlh / nlh.sum(),
    }


def _pairwise(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    if b is None:
        d = np.linalg.norm(a[:, None, :] - a[None, :, :], axis=-1)
        return d[np.triu_indices(len(a), k=1)]
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1).ravel()


def overlapped_area(x: np.ndarray, y: np.ndarray) -> float:
    """Area under min(pdf_x, pdf_y) of two 1-D samples (Gaussian KDE, Scott's bandwidth)."""
    if len(x) < 2 or len(y) < 2:
        return math.nan
    spread = max(np.ptp(np.r_[x, y]), 1e-6)
    jitter = np.random.default_rng(0)
    x = x + jitter.normal(0, spread * 1e-6, len(x))  # a constant sample has no KDE
    y = y + jitter.normal(0, spread * 1e-6, len(y))
    grid = np.linspace(
        min(x.min(), y.min()) - 0.2 * spread, max(x.max(), y.max()) + 0.2 * spread, 2000
    )
    px, py = gaussian_kde(x)(grid), gaussian_kde(y)(grid)
    return float(np.trapezoid(np.minimum(px, py), grid))


def _matrix(sets: Sequence[dict[str, np.ndarray]], name: str) -> np.ndarray:
    return np.stack([f[name] for f in sets])


def distance_to_reference(
    generated: Sequence[dict[str, np.ndarray]], reference: Sequence[dict[str, np.ndarray]]
) -> dict[str, float]:
    """Overlapped area per feature (and their mean) of generated excerpts' features against
    the reference's."""
    out = {}
    for name in FEATURES:
        r = _matrix(reference, name)
        g = _matrix(generated, name)
        out[name] = overlapped_area(_pairwise(r), _pairwise(g, r))
    out["mean"] = float(np.nanmean([out[n] for n in FEATURES]))
    return out


def reference_ceiling(
    reference: Sequence[dict[str, np.ndarray]], seed: int = 0
) -> dict[str, float]:
    """The same measure for one random half of the reference against the other half."""
    order = np.random.default_rng(seed).permutation(len(reference))
    half = len(order) // 2
    a = [reference[i] for i in order[:half]]
    b = [reference[i] for i in order[half:]]
    return distance_to_reference(b, a)
