"""Seeded test edits that look like real ones.

Shot lengths in edited film are close to lognormal (Cutting, DeLong & Nothelfer, "Attention
and the evolution of Hollywood film", Psychological Science 2010; Cutting et al. 2011): most
shots last 2-8 s, a few are long takes. Dialogue holds a shot/reverse-shot rhythm of 2-8 s,
montages cut every 0.5-3 s, and a single take can run a minute. Moods are held over several
shots (a scene) as well as changed at every cut, and `hit` markers sit inside long shots.

Every edit is a plain `TestEdit`: cut and hit times on the edit's frame grid, and one mood per
shot. `suite(seed)` gives the mixed edits of the harness; `one_mood(edit, va)` gives the same
cuts with one mood everywhere (acceptance runs per emotion and the mood sweeps).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from ..emotion.mapping import EKMAN6, EMOTION_VA
from ..music.plan import ScorePlan, plan_score

RATE = 24.0  # frames per second: cuts fall on whole frames, as on a real timeline
MIN_SHOT_S = 0.5
MAX_SHOT_S = 60.0


@dataclass(frozen=True)
class TestEdit:
    """An edit to score: cut times, hit-marker times and a mood (V, A) per shot."""

    name: str
    duration_s: float
    cuts_s: tuple[float, ...]  # shot starts after the first, on the frame grid
    hits_s: tuple[float, ...]  # `hit` markers, inside shots
    moods: tuple[tuple[float, float], ...]  # one (valence, arousal) per shot
    labels: tuple[str, ...]  # one mood name per shot ("joy", "-0.5,0.2", ...)

    @property
    def shots_s(self) -> list[tuple[float, float]]:
        edges = [0.0, *self.cuts_s, self.duration_s]
        return list(zip(edges[:-1], edges[1:], strict=True))

    @property
    def sections(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """(span, mood) of each planned scene: shots split at hits, as `pipeline.plan_for`."""
        out = []
        for (start, end), mood in zip(self.shots_s, self.moods, strict=True):
            edges = [start, *sorted(h for h in self.hits_s if start < h < end), end]
            out.extend(((a, b), mood) for a, b in zip(edges[:-1], edges[1:], strict=True))
        return out

    def plan(self, seed: int) -> ScorePlan:
        """The score plan of this edit's sections, as the engines are given it."""
        return plan_score([s for s, _ in self.sections], [m for _, m in self.sections], seed)


def _on_frame(t: float) -> float:
    return round(t * RATE) / RATE


def shot_lengths(rng: random.Random, total_s: float, median_s: float, sigma: float) -> list[float]:
    """Lognormal shot lengths (clipped to 0.5-60 s) until `total_s` is filled."""
    lengths: list[float] = []
    while sum(lengths) < total_s:
        x = math.exp(rng.gauss(math.log(median_s), sigma))
        lengths.append(min(MAX_SHOT_S, max(MIN_SHOT_S, x)))
    return fit_total(lengths, total_s)


# Shot rhythm of each kind of stretch: (median shot length in s, lognormal sigma).
STRETCH_RHYTHM = {"dialogue": (4.0, 0.4), "montage": (1.2, 0.5), "coverage": (3.5, 0.8)}


def stretch_shots(rng: random.Random, kind: str, span_s: float) -> list[float]:
    """Shot lengths filling `span_s` seconds of a dialogue, montage or coverage stretch, or
    one shot for a "long_take"."""
    if kind == "long_take":
        return [span_s]
    return shot_lengths(rng, span_s, *STRETCH_RHYTHM[kind])


def fit_total(lengths: list[float], total_s: float) -> list[float]:
    """`lengths` cut to add up to `total_s`: shots wholly past it are dropped, the last one
    ends there (merged into the one before when that leaves it under half a second)."""
    lengths = list(lengths)
    while len(lengths) > 1 and sum(lengths[:-1]) >= total_s:
        lengths.pop()
    lengths[-1] = total_s - sum(lengths[:-1])
    if lengths[-1] < MIN_SHOT_S and len(lengths) > 1:
        # Popped first: `lengths[-2] += lengths.pop()` reads the shot before the last, pops,
        # then writes one place earlier (a shot lost, the total wrong; two shots: IndexError).
        last = lengths.pop()
        lengths[-1] += last
    return lengths


def make_edit(
    name: str,
    lengths: list[float],
    labels: list[str],
    hits: list[float] | None = None,
) -> TestEdit:
    edges = [0.0]
    for length in lengths:
        edges.append(edges[-1] + length)
    duration = _on_frame(edges[-1])
    cuts = sorted({_on_frame(t) for t in edges[1:-1]} - {0.0, duration})
    n_shots = len(cuts) + 1
    labels = (labels * n_shots)[:n_shots]
    return TestEdit(
        name=name,
        duration_s=duration,
        cuts_s=tuple(cuts),
        hits_s=tuple(sorted({_on_frame(h) for h in hits or []} - set(cuts))),
        moods=tuple(mood_of(label) for label in labels),
        labels=tuple(labels),
    )


def mood_of(label: str) -> tuple[float, float]:
    """An Ekman name or "V,A" -> (valence, arousal)."""
    if label in EMOTION_VA:
        return EMOTION_VA[label]
    v, a = (float(x) for x in label.split(","))
    return (v, a)


def _scenes(rng: random.Random, n_shots: int, shots_per_scene: tuple[int, int]) -> list[str]:
    """One Ekman mood per scene of several shots; neighbouring scenes differ."""
    labels: list[str] = []
    previous = ""
    while len(labels) < n_shots:
        mood = rng.choice([e for e in EKMAN6 if e != previous])
        labels += [mood] * rng.randint(*shots_per_scene)
        previous = mood
    return labels[:n_shots]


def hits_in_long_shots(rng: random.Random, lengths: list[float], min_len: float) -> list[float]:
    """A hit marker somewhere in the middle of every shot longer than `min_len` seconds."""
    hits, t = [], 0.0
    for length in lengths:
        if length >= min_len:
            hits.append(t + length * rng.uniform(0.35, 0.65))
        t += length
    return hits


def short_edit(seed: int = 0) -> TestEdit:
    """30 s, 5 shots of 2-12 s (the size of a quick cut-down or a social clip)."""
    rng = random.Random(seed)
    weights = [rng.uniform(0.4, 1.6) for _ in range(5)]
    lengths = [30.0 * w / sum(weights) for w in weights]
    return make_edit("short_30s", lengths, ["joy"])


def reel_3min(seed: int = 0) -> TestEdit:
    """3 minutes of ordinary coverage: lognormal shots (median 3.5 s), scenes of 3-10 shots."""
    rng = random.Random(1000 + seed)
    lengths = shot_lengths(rng, 180.0, 3.5, 0.8)
    return make_edit(
        "reel_3min",
        lengths,
        _scenes(rng, len(lengths), (3, 10)),
        hits_in_long_shots(rng, lengths, 12.0),
    )


def reel_10min(seed: int = 0) -> TestEdit:
    """10 minutes: dialogue, montage and long takes, scenes of 4-15 shots, hits."""
    rng = random.Random(2000 + seed)
    lengths: list[float] = []
    spans = {"dialogue": (40, 90), "montage": (15, 30), "coverage": (30, 60), "long_take": (20, 60)}
    while sum(lengths) < 600.0:
        kind = rng.choice(["dialogue", "dialogue", "montage", "coverage", "long_take"])
        lengths += stretch_shots(rng, kind, rng.uniform(*spans[kind]))
    lengths = fit_total(lengths, 600.0)
    return make_edit(
        "reel_10min",
        lengths,
        _scenes(rng, len(lengths), (4, 15)),
        hits_in_long_shots(rng, lengths, 15.0),
    )


def dialogue(seed: int = 0) -> TestEdit:
    """2 minutes of shot/reverse-shot, 2-8 s shots, one mood throughout."""
    rng = random.Random(3000 + seed)
    lengths = [min(8.0, max(2.0, x)) for x in shot_lengths(rng, 120.0, 4.0, 0.4)]
    return make_edit("dialogue_2min", lengths, [rng.choice(["sadness", "joy", "0.1,-0.3"])])


def montage(seed: int = 0) -> TestEdit:
    """1 minute of 0.5-3 s shots, the mood changing at every cut."""
    rng = random.Random(4000 + seed)
    lengths = [min(3.0, x) for x in shot_lengths(rng, 60.0, 1.2, 0.5)]
    return make_edit("montage_1min", lengths, _scenes(rng, len(lengths), (1, 1)))


def long_take(seed: int = 0) -> TestEdit:
    """One 60-s shot with two hit markers."""
    rng = random.Random(5000 + seed)
    return make_edit(
        "long_take_60s", [60.0], [rng.choice(EKMAN6)], [rng.uniform(15, 25), rng.uniform(35, 50)]
    )


def grid_5s(seed: int = 0) -> TestEdit:
    """The old evaluation's timeline: a cut every 5 s for a minute, a new mood at every cut."""
    rng = random.Random(6000 + seed)
    return make_edit("grid_5s", [5.0] * 12, _scenes(rng, 12, (1, 1)))


def suite(seed: int = 0) -> list[TestEdit]:
    """The mixed-mood edits of the harness, in order of length."""
    return [
        grid_5s(seed),
        montage(seed),
        long_take(seed),
        dialogue(seed),
        reel_3min(seed),
        reel_10min(seed),
    ]


def one_mood(edit: TestEdit, label: str) -> TestEdit:
    """The same cuts and hits with `label` ("joy", "0.5,-0.5", ...) in every shot."""
    n = len(edit.moods)
    return replace(edit, moods=(mood_of(label),) * n, labels=(label,) * n)
