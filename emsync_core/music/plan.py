"""From cuts and per-scene moods to a `ScorePlan`: boundaries, tempo, key and harmonic rhythm.

The plan is engine-neutral: the arranger and the transformer both read it. Hard boundaries
are the cuts (and time 0): a new chord must start exactly there. Soft boundaries split long
scenes into bars of harmonic rhythm, so the music keeps moving between cuts.

Each scene gets its own tempo, nudged so that a whole number of beats fills it (film
composers call this fitting the tempo to the hit points); the bar restarts at every cut.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from .harmony import Key

CHORD_BEATS = 8

# Tonics that sit well in the ranges of the arranger's instruments.
_START_TONICS = (0, 2, 3, 5, 7, 9, 10)


@dataclass(frozen=True)
class ScenePlan:
    index: int
    start_s: float
    end_s: float
    valence: float
    arousal: float
    key: Key
    beat_s: float  # fitted beat length: a whole number of beats fills the scene
    beats: int
    chord_beats: tuple[int, ...]  # harmonic rhythm: beats per chord, summing to `beats`

    @property
    def tempo_bpm(self) -> float:
        return 60.0 / self.beat_s

    @property
    def chord_starts_s(self) -> tuple[float, ...]:
        """Onsets of this scene's chords: the hard boundary first, then the soft ones."""
        starts, beat = [], 0
        for n in self.chord_beats:
            starts.append(self.start_s + beat * self.beat_s)
            beat += n
        return tuple(starts)


@dataclass(frozen=True)
class ScorePlan:
    duration_s: float
    scenes: tuple[ScenePlan, ...]
    seed: int

    @property
    def hard_boundaries_s(self) -> tuple[float, ...]:
        """The cuts (scene starts after the first)."""
        return tuple(s.start_s for s in self.scenes[1:])

    @property
    def soft_boundaries_s(self) -> tuple[float, ...]:
        return tuple(t for s in self.scenes for t in s.chord_starts_s[1:])


def nominal_tempo(arousal: float) -> float:
    """Calm scenes breathe at ~55 bpm, the most aroused drive at ~125 bpm."""
    return 90.0 + 35.0 * arousal


def mode_for(valence: float) -> str:
    """Brighter modes for higher valence: major > mixolydian > dorian > minor."""
    if valence >= 0.15:
        return "major"
    if valence >= 0.0:
        return "mixolydian"
    if valence > -0.15:
        return "dorian"
    return "minor"


def fit_beats(
    length_s: float, arousal: float, previous_beat_s: float | None = None
) -> tuple[int, float]:
    """Whole beats for a scene and the fitted beat length.

    The beat aims at the scene's nominal tempo, or, when given, at the previous scene's beat:
    a steady pulse across a cut between scenes of similar mood hides the fitting, where a new
    tempo at every cut is heard. The aim returns to nominal once it has drifted more than
    `_DRIFT` from it. A scene shorter than most of a beat is a single "stinger" beat.
    """
    nominal = 60.0 / nominal_tempo(arousal)
    target = nominal
    if previous_beat_s is not None and abs(math.log(previous_beat_s / nominal)) < _DRIFT:
        target = previous_beat_s
    if length_s < 0.75 * target:
        return 1, length_s
    beats = max(1, round(length_s / target))
    return beats, length_s / beats


# How far (as a log ratio, ~15 %) a run of scenes may carry the pulse from their nominal tempo.
_DRIFT = math.log(1.15)
# Scenes whose arousal differs by less than this keep the pulse across the cut.
_SAME_PULSE_AROUSAL = 0.25


def harmonic_rhythm(beats: int) -> tuple[int, ...]:
    """Beats per chord inside a scene: two bars of 4/4, so harmony moves with the tempo.

    A new harmony inside a scene should be an event, not a pulse: the cuts already bring one.
    A leftover beat joins the last chord; two or more become a shorter chord that pushes into
    the next cut. (A leftover of up to three beats used to join it: at calm tempi that held
    one chord for over 12 s, which the music-quality harness measured as a static span.)
    """
    span = CHORD_BEATS
    if beats <= span + 1:
        return (beats,)
    chunks = [span] * (beats // span)
    rest = beats % span
    if rest == 1:
        chunks[-1] += rest
    elif rest:
        chunks.append(rest)
    return tuple(chunks)


def next_key(previous: Key, valence: float, arousal_change: float) -> Key:
    """Key for a scene after a cut: keep the tonic unless the arousal jumped.

    A change of mode keeps the tonic (the parallel key: same home note, new colour, the
    clearest mode change to hear); a large rise in arousal lifts the tonic a whole step, a
    large fall drops it a minor third.
    """
    mode = mode_for(valence)
    tonic = previous.tonic
    if arousal_change > 0.5:
        tonic = (tonic + 2) % 12
    elif arousal_change < -0.5:
        tonic = (tonic - 3) % 12
    return Key(tonic, mode)


def plan_score(
    spans_s: Sequence[tuple[float, float]],
    moods: Sequence[tuple[float, float]],
    seed: int = 0,
) -> ScorePlan:
    """Plan a score for scenes `spans_s` ([start, end) seconds) with (valence, arousal) each."""
    if len(spans_s) != len(moods):
        raise ValueError(f"{len(spans_s)} scenes but {len(moods)} moods")
    if not spans_s:
        raise ValueError("a score needs at least one scene")
    rng = random.Random(seed)
    scenes: list[ScenePlan] = []
    key = Key(rng.choice(_START_TONICS), mode_for(moods[0][0]))
    for i, ((start, end), (valence, arousal)) in enumerate(zip(spans_s, moods, strict=True)):
        if i:
            key = next_key(key, valence, arousal - moods[i - 1][1])
        previous = scenes[-1] if scenes else None
        scenes.append(_section(i, (start, end), (valence, arousal), key, previous))
    return ScorePlan(duration_s=spans_s[-1][1], scenes=tuple(scenes), seed=seed)


def _section(
    index: int,
    span: tuple[float, float],
    mood: tuple[float, float],
    key: Key,
    previous: ScenePlan | None,
) -> ScenePlan:
    """A section's plan after `previous`: it carries the previous pulse when the moods are
    close, and its harmonic rhythm follows the beats that fill it."""
    (start, end), (valence, arousal) = span, mood
    carry = (
        previous is not None
        and previous.beats > 1
        and abs(arousal - previous.arousal) < _SAME_PULSE_AROUSAL
    )
    beats, beat_s = fit_beats(end - start, arousal, previous.beat_s if carry else None)
    return ScenePlan(
        index=index,
        start_s=start,
        end_s=end,
        valence=valence,
        arousal=arousal,
        key=key,
        beat_s=beat_s,
        beats=beats,
        chord_beats=harmonic_rhythm(beats),
    )


def plan_to_json(plan: ScorePlan, owners: Sequence[int]) -> dict:
    """The plan as report.json keeps it: enough to re-roll one scene later with every other
    scene's tempo, key and harmonic rhythm exactly as they were (floats survive JSON exactly)."""
    return {
        "seed": plan.seed,
        "duration_s": plan.duration_s,
        "sections": [
            {
                "scene": owner,
                "start_s": s.start_s,
                "end_s": s.end_s,
                "valence": s.valence,
                "arousal": s.arousal,
                "key": {"tonic": s.key.tonic, "mode": s.key.mode},
                "beat_s": s.beat_s,
                "beats": s.beats,
                "chord_beats": list(s.chord_beats),
            }
            for s, owner in zip(plan.scenes, owners, strict=True)
        ],
    }


def plan_from_json(doc: dict) -> tuple[ScorePlan, list[int]]:
    """Inverse of `plan_to_json`: the plan and, per section, the scene it belongs to."""
    sections = [
        ScenePlan(
            index=i,
            start_s=float(s["start_s"]),
            end_s=float(s["end_s"]),
            valence=float(s["valence"]),
            arousal=float(s["arousal"]),
            key=Key(int(s["key"]["tonic"]), str(s["key"]["mode"])),
            beat_s=float(s["beat_s"]),
            beats=int(s["beats"]),
            chord_beats=tuple(int(b) for b in s["chord_beats"]),
        )
        for i, s in enumerate(doc["sections"])
    ]
    plan = ScorePlan(float(doc["duration_s"]), tuple(sections), int(doc["seed"]))
    return plan, [int(s["scene"]) for s in doc["sections"]]


def replan_scene(
    plan: ScorePlan, owners: Sequence[int], scene: int, mood: tuple[float, float]
) -> ScorePlan:
    """`plan` with scene `scene`'s sections given the new mood, every other section untouched.

    The new sections get what `plan_score` would have given them after the previous section:
    its key moved by `next_key`, a beat fitted to the new arousal (carrying the previous pulse
    when the moods are close), and the harmonic rhythm of that beat.
    """
    valence, arousal = mood
    sections = list(plan.scenes)
    for i, owner in enumerate(owners):
        if owner != scene:
            continue
        old = sections[i]
        previous = sections[i - 1] if i else None
        if previous is None:
            key = Key(old.key.tonic, mode_for(valence))
        else:
            key = next_key(previous.key, valence, arousal - previous.arousal)
        sections[i] = _section(old.index, (old.start_s, old.end_s), mood, key, previous)
    return ScorePlan(plan.duration_s, tuple(sections), plan.seed)


def excerpt(plan: ScorePlan, first: int, stop: int) -> ScorePlan:
    """Sections [first, stop) as a plan of their own that starts at time 0 (what an engine
    writes for a re-rolled scene; its notes are moved back by the first section's start)."""
    origin = plan.scenes[first].start_s
    sections = tuple(
        dataclasses.replace(s, index=j, start_s=s.start_s - origin, end_s=s.end_s - origin)
        for j, s in enumerate(plan.scenes[first:stop])
    )
    return ScorePlan(sections[-1].end_s, sections, plan.seed)
