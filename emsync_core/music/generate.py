"""Scoring a `ScorePlan` with the EMSYNC transformer: the sampling loop and the `Score`.

    model = EmsyncTransformer.load(weights_dir)
    score = generate(plan, model, seed=0)                    # constrained (the default)
    score = generate(plan, model, seed=0, constrained=False) # what the model does alone

The loop is nanoGPT's sampler: take the last logits, mask, scale by temperature, keep the
nucleus (top-p), sample, append, step the KV cache. What the model is told at every step:
- valence/arousal of the scene the time cursor is in, in the condition positions at the
  front of the context, so at a cut the context is re-encoded with the new scene's values;
- the seconds to the next pending boundary (`cut_rule.Boundaries`), the paper's boundary
  offset: every cut, and the plan's chord starts inside long scenes so they look like
  training data.
The cut rule (`cut_rule.CutRule`) says what may come next and clamps time shifts, so every
cut gets a new chord on its frame (`constrained=False` leaves that to the model).

Sampling follows the paper by default (temperature 1.3, top-p 0.6), or the values the weights
were measured with (model.json "sampling", `model.Sampling`), seeded; `<PAD>`, `<START>` and the
instrument-count tokens are never sampled; and the paper's repetition penalty: while the
nucleus keeps collapsing to one or two tokens the temperature rises (`heated`).

No decoding lever acts on the logits: the mood and the key reach the music through the
model's conditions alone. (Classifier-free guidance and a hand-set lean towards the planned
key were measured by the harness, docs/music-eval.md, and removed: the key lean froze the top
voice, and the model trained on labelled windows follows the mood without either.)

Timing. Tokens count 8 ms steps, and cuts are rarely on that grid (a 23.976 fps frame is
41.7 ms). Each cut is rounded to its step and MIDI times are mapped piecewise-linearly
through (step of cut, cut seconds) anchors, so chords at cuts start exactly on the cut while
every other time moves by under 4 ms. Two cuts on one step share one chord.

A scene in a new key (a new key condition: tonic, or major/minor) starts a new context
(key-conditioned models): the music of the scene before is dropped, and the model starts from
the instrument-count token alone under the new key, mood and boundary offset. Re-encoding the
old scene's notes in the new key's frame let them outvote the condition. In
`benchmarks/key_following.py` (20 seeds, valence +0.9 to -0.9 at a cut), the new key was
heard in the 8 s after the cut in 0.05 of scores with the whole context kept, 0.30 with its
last 48 tokens and 0.60 with none, and the mode moved the planned way in 10, 10 and 15 of 20
(16 as implemented, where later re-encodes stay in the new scene too; session 11). Under the
cut constraint every note ends at the cut anyway; without it, the notes still sounding are
ended where the new context starts.

Context. The cache holds as many tokens as the model was trained on (`model.context`). When
it is full, a learned-position model re-encodes the last 3/4 of it (absolute positions cannot
be shifted in place); a rotary-position model slides instead (`EmsyncTransformer.slide`): the
oldest `SLIDE_FRACTION` of the tokens are dropped, the condition positions and the
instrument-count token kept, and decoding goes on without encoding anything again.

The 8-s note cap. `events.to_midi` ends every note after `MAX_NOTE_STEPS`. For a model trained
on tokens that say so (`ModelConfig.note_off_at_cap`), decoding says so too: time shifts stop
at the step where a sounding note reaches the cap, and its NOTE_OFF is written there before
anything is sampled, so the model reads what the listener hears.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

import numpy as np
import torch

from . import events
from .chords import classify
from .cut_rule import SENSITIVITY_STEPS, Boundaries, CutRule, Masks
from .decode_step import CachedStep
from .events import DRUMS, STEP_S
from .harmony import Chord, Key
from .key_frame import frame_shift, framed_key, logits_from_frame, to_frame
from .labels import NULL_KEY, key_correlations, key_index, key_name
from .model import N_COND, EmsyncTransformer, KVCache, for_decoding
from .plan import ScorePlan
from .score import ChordEvent, Score, add_cut_lyrics
from .tempo_fit import set_fitted_beat_grid

KEEP_FRACTION = 0.75  # of the context kept when it is re-encoded (the rest is dropped)
# Of the context a rotary model drops per slide: a slide copies the whole cache once, so
# dropping a chunk at a time keeps that cost off most steps.
SLIDE_FRACTION = 0.125
PROGRESS_STEPS = round(1.0 / STEP_S)  # report progress once per second of music


def sample(
    logits: torch.Tensor,
    allowed: torch.Tensor,
    temperature: float,
    top_p: float,
    generator: torch.Generator,
) -> tuple[int, int]:
    """One token from `logits` (V,): masked, divided by `temperature`, nucleus `top_p`.

    Also returns how many tokens the nucleus kept (the repetition penalty watches it).
    """
    logits = logits.float().masked_fill(~allowed, float("-inf")) / max(temperature, 1e-6)
    probs = torch.softmax(logits, dim=-1)
    sorted_p, order = torch.sort(probs, descending=True)
    # Keep the smallest prefix whose mass reaches top_p (always at least the top token).
    keep = (torch.cumsum(sorted_p, dim=-1) - sorted_p) < top_p
    sorted_p = torch.where(keep, sorted_p, torch.zeros_like(sorted_p))
    choice = torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=generator)
    return int(order[choice]), int(keep.sum())


def heated(temperature: float, streak: float) -> float:
    """The paper's repetition penalty: when the nucleus keeps collapsing to one or two
    tokens (`streak` counts that, halving otherwise), the temperature rises
    logarithmically: T * (1 + max(0, log((streak + 1) / 4)) * 0.4)."""
    return temperature * (1 + max(0.0, math.log((streak + 1) / 4)) * 0.4)


class Decoder:
    """The model plus its KV cache, fed token by token; re-encodes when the mood changes or
    the context is full. On CPU it decodes with the model's int8 copy
    (`model.for_decoding`), unless `int8` is False.
    """

    def __init__(self, model: EmsyncTransformer, int8: bool = True) -> None:
        self.model = for_decoding(model) if int8 else model
        self.device = next(model.parameters()).device
        self.cache = KVCache(model.config, 1, self.device)
        self.capacity = model.context
        self.keep = max(2, int(self.capacity * KEEP_FRACTION))
        self.slides = model.rotary is not None
        self.drop = max(1, int(self.capacity * SLIDE_FRACTION))
        self.front: list[int] = []  # cache positions a slide keeps: conditions, instruments
        self.keys: torch.Tensor | None = None  # the key every step adds (key-conditioned models)
        self.cached_step: CachedStep | None = None  # made for each prefill's key
        self.framed = model.config.key_frame
        self.shift = 0  # semitones from the scene's key into the model's frame (`key_frame.py`)

    def _t(self, values: list, dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor([values], dtype=dtype, device=self.device)

    def _out_of_frame(self, logits: torch.Tensor) -> torch.Tensor:
        return logits_from_frame(logits, self.shift) if self.shift else logits

    def prefill(
        self,
        tokens: list[int],
        offsets: list[float],
        valence: float,
        arousal: float,
        key: Key | None = None,
    ) -> torch.Tensor:
        """Encode the tail of `tokens` from scratch under (valence, arousal), and `key`
        when the model is conditioned on one."""
        if len(tokens) > self.keep:
            # A window that does not start at the piece start begins with the instrument-count
            # token only, as training windows do.
            tokens = [events.MORE_INSTRUMENTS] + tokens[-(self.keep - 1) :]
            offsets = [offsets[-(self.keep - 1)]] + offsets[-(self.keep - 1) :]
        self.cache.reset()
        # The condition positions and the instrument-count token (after `<START>`, if any).
        self.front = [*range(N_COND), N_COND + int(tokens[0] == events.START)]
        va = torch.tensor([valence], device=self.device)
        ar = torch.tensor([arousal], device=self.device)
        index = NULL_KEY if key is None else key_index(key.tonic, key.mode)
        self.shift = 0
        if self.framed and key is not None:
            self.shift, index = frame_shift(key.tonic), framed_key(index)
            tokens = to_frame(tokens, self.shift)
        self.keys = torch.tensor([index], device=self.device)
        self.cached_step = CachedStep(self.model, self.keys)
        logits = self.model(
            self._t(tokens, torch.long),
            self._t(offsets, torch.float32),
            va,
            ar,
            self.cache,
            key=self.keys,
        )
        return self._out_of_frame(logits[0, -1])

    def step(self, token: int, offset: float) -> torch.Tensor | None:
        """Logits after `token`, or None when the cache is full (the caller re-encodes);
        a rotary model slides instead and never returns None."""
        if self.cache.length + 1 > self.capacity + N_COND:
            if not self.slides:
                return None
            self.slide()
        if self.shift:
            token = to_frame([token], self.shift)[0]
        return self._out_of_frame(self.cached_step(token, offset, self.cache))

    def slide(self) -> None:
        """Drop the oldest `drop` tokens after the front ones (rotary models only)."""
        length = self.cache.length
        tail = range(max(len(self.front), length - (self.capacity + N_COND - self.drop)), length)
        keep = sorted(set(self.front) | set(tail))
        self.model.slide(self.cache, torch.tensor(keep))
        self.front = list(range(len(self.front)))


@torch.inference_mode()
def generate(
    plan: ScorePlan,
    model: EmsyncTransformer,
    seed: int,
    temperature: float | None = None,
    top_p: float | None = None,
    constrained: bool = True,
    repetition_guard: bool = True,
    on_progress: Callable[[float], None] | None = None,
    int8: bool = True,
) -> Score:
    """A `Score` for `plan` written by `model` (see the module docstring).

    `repetition_guard=False` turns the paper's repetition penalty off (for measuring it).
    `on_progress(fraction)` hears each further second of music. `int8=False` decodes in
    float32 on CPU. `temperature` and `top_p` default to the weights' own (`model.sampling`).
    """
    model.eval()
    temperature = model.sampling.temperature if temperature is None else temperature
    top_p = model.sampling.top_p if top_p is None else top_p
    generator = torch.Generator().manual_seed(int(seed))
    masks = Masks()
    end = max(1, round(plan.duration_s / STEP_S))
    cuts = [(round(t / STEP_S), t) for t in plan.hard_boundaries_s if 0 < round(t / STEP_S) < end]
    # Time 0 is a cut too under the constraint: the score opens on a chord.
    hard = sorted({s for s, _ in cuts} | ({0} if constrained else set()))
    soft = sorted({round(t / STEP_S) for t in plan.soft_boundaries_s} - set(hard) - {0, end})
    boundaries = Boundaries(hard, [s for s in soft if 0 < s < end])
    rule = CutRule(boundaries, end, constrained, masks, note_cap=model.config.note_off_at_cap)
    scene_starts = [round(s.start_s / STEP_S) for s in plan.scenes]

    def scene_at(step: int) -> int:
        return max(0, bisect.bisect_right(scene_starts, step) - 1)

    decoder = Decoder(model, int8=int8)
    tokens = events.sequence_prefix(4, True)  # <START>, <MORE_INSTRUMENTS>
    offsets = [boundaries.seconds_to_next(0)] * len(tokens)
    scene = scene_at(0)
    mood = plan.scenes[scene]
    logits = decoder.prefill(tokens, offsets, mood.valence, mood.arousal, mood.key)
    since = 0  # where the context starts: the first token of the current key (`_context`)
    streak, reported = 0.0, 0
    while rule.now < end:
        token = rule.due_note_off()  # a note at the 8-s cap ends here, in the tokens too
        if token is None:
            heat = heated(temperature, streak) if repetition_guard else temperature
            token, kept = sample(logits, rule.allowed(), heat, top_p, generator)
            streak = streak + 1 if kept <= 2 else streak / 2
            token = rule.clamp(token)
        moved = rule.observe(token)
        tokens.append(token)
        offsets.append(boundaries.seconds_to_next(rule.now))
        if rule.now >= end:
            break
        if moved and on_progress and rule.now // PROGRESS_STEPS > reported:
            reported = rule.now // PROGRESS_STEPS
            on_progress(rule.now / end)
        # next logits: one cached step, or re-encode on a new scene or a full context
        new_scene = scene_at(rule.now)
        step_logits = decoder.step(token, offsets[-1]) if new_scene == scene else None
        if step_logits is None:
            key_before = _condition(mood.key)
            scene, mood = new_scene, plan.scenes[new_scene]
            if model.config.key_condition and _condition(mood.key) != key_before:
                if not constrained:  # notes may ring over cuts: the new context cannot end them
                    for off in [events.note_off(*note) for note in sorted(rule.sounding)]:
                        rule.observe(off)
                        tokens.append(off)
                        offsets.append(offsets[-1])
                since = len(tokens)
            context, context_offsets = _context(tokens, offsets, since)
            step_logits = decoder.prefill(
                context, context_offsets, mood.valence, mood.arousal, mood.key
            )
        logits = step_logits
    return to_score(plan, tokens, cuts, set(hard) | {0}, end, seed, release_at_cuts=constrained)


def _condition(key: Key) -> int:
    """The key condition a model hears for `key`: tonic and major or minor (`key_index`)."""
    return key_index(key.tonic, key.mode)


def _context(tokens: list[int], offsets: list[float], since: int) -> tuple[list[int], list[float]]:
    """What a prefill may read: the tokens from `since` on, behind the instrument-count token
    a window that does not open the piece starts with (all of them while `since` is 0)."""
    if since == 0:
        return tokens, offsets
    return [events.MORE_INSTRUMENTS, *tokens[since:]], [offsets[since - 1], *offsets[since:]]


# ---------------------------------------------------------------------------------------
# Tokens -> Score


def to_score(
    plan: ScorePlan,
    tokens: list[int],
    cuts: list[tuple[int, float]],
    hard_steps: set[int],
    end: int,
    seed: int,
    release_at_cuts: bool = True,
) -> Score:
    """The `Score` of `tokens`: MIDI by `events.to_midi` on the cut-anchored clock, the chord
    heard from every `<CHORD>`, a `CUT <chord>` lyric on every cut and a tempo map fitted to
    the notes of each scene (`tempo_fit`; bars restart at cuts, no tempo leaves 40-240 bpm)."""
    anchors = sorted({0: 0.0, **{s: t for s, t in cuts}, end: plan.duration_s}.items())
    xs = np.array([a for a, _ in anchors], dtype=float)
    ys = np.array([b for _, b in anchors], dtype=float)

    def seconds(step: float) -> float:
        return float(np.interp(step, xs, ys))

    # Under the constraint no chord rings over a cut: notes end at the next cut.
    release = sorted(hard_steps) if release_at_cuts else []
    decoded = events.decode_events(tokens)
    midi = events.to_midi(decoded, seconds=seconds, end=end, release_at=release)
    pitched = [n for n in decoded.notes if n[0] != DRUMS]
    chord_steps = sorted(set(decoded.chords))
    scene_starts = [s.start_s for s in plan.scenes]
    chords: list[ChordEvent] = []
    for i, step in enumerate(chord_steps):
        stop = chord_steps[i + 1] if i + 1 < len(chord_steps) else end
        scene = max(0, bisect.bisect_right(scene_starts, seconds(step) + 1e-9) - 1)
        chords.append(
            ChordEvent(
                start_s=seconds(step),
                end_s=seconds(stop),
                symbol=_chord_symbol(pitched, step, min(stop, step + SENSITIVITY_STEPS)),
                key=_scene_key(pitched, plan, scene),
                hard=step in hard_steps,
                scene=plan.scenes[scene].index,
            )
        )
    add_cut_lyrics(midi, chords)  # "CUT <chord>" on every cut, as the arranger's MIDI has
    set_fitted_beat_grid(midi, plan.scenes)  # a tempo map fitted to the notes, 40-240 bpm
    return Score(midi=midi, chords=tuple(chords), engine="transformer", seed=seed)


def _chord_symbol(notes: list[tuple[int, int, int, int]], start: int, stop: int) -> str:
    """The chord heard in [start, stop) steps, by the corpus's own recogniser."""
    profile = np.zeros(12)
    for _, pitch, s, e in notes:
        overlap = min(e, stop) - max(s, start)
        if overlap > 0:
            profile[pitch % 12] += overlap
    at_start = [p for _, p, s, e in notes if s <= start < e]
    label = classify(profile, min(at_start) % 12 if at_start else -1)
    return Chord(*label).symbol if label else "N.C."


def _scene_key(notes: list[tuple[int, int, int, int]], plan: ScorePlan, scene: int) -> str:
    """The key the model actually wrote in a scene (Krumhansl profiles, as the labels use),
    not the plan's."""
    lo = round(plan.scenes[scene].start_s / STEP_S)
    hi = round(plan.scenes[scene].end_s / STEP_S)
    hist = np.zeros(12)
    for _, pitch, s, e in notes:
        hist[pitch % 12] += max(0, min(e, hi) - max(s, lo))
    if not hist.any():
        return plan.scenes[scene].key.name
    return key_name(*key_correlations(hist))
