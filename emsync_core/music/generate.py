"""Scoring a `ScorePlan` with the EMSYNC transformer: sampling, cut constraints, the `Score`.

    model = EmsyncTransformer.load(weights_dir)
    score = generate(plan, model, seed=0)                    # constrained (the default)
    score = generate(plan, model, seed=0, constrained=False) # what the model does alone

What the model is told at every step (paper sections 1 and 4, plus our changes):
- valence/arousal of the scene the time cursor is in. They sit in the two condition positions
  at the front of the context, so when the cursor reaches a cut the context is re-encoded
  with the new scene's values (the mood changes at cuts, not once per video);
- `t_next`, the seconds to the next pending boundary: every cut (hard) and the plan's
  harmonic-rhythm chord starts inside scenes (soft), so long scenes look like training data.
  A boundary stops being pending when a `<CHORD>` is emitted within 1 s of it or the cursor
  passes it (paper: `chord_sensitivity_seconds`); a hard boundary under the constraint only
  when its forced `<CHORD>` is emitted.

Sampling: temperature, then nucleus (top-p), seeded by `seed` (paper: T 1.3, top-p 0.6).
Three optional levers act on the logits first: classifier-free guidance on the mood, a key
bias towards each scene's planned key (past the paper: this checkpoint does not learn valence,
so the mode comes from the plan, as the arranger's does), and a pace bias that tilts time
shifts by the scene's arousal (past the paper: the model's own density response is flat for
arousal between about -0.5 and +0.5).
`<PAD>`, `<START>` and the instrument-count tokens are never sampled. The paper's repetition
penalty is not implemented.

Constrained decoding (default) makes a new chord on every cut a guarantee:
1. a sampled time shift that would cross the next cut is clamped to land exactly on it;
2. at the cut, only NOTE_OFFs of sounding notes, one `<BAR>` and `<CHORD>` may come, until
   `<CHORD>` does (training data orders a time step as OFFs, BAR, CHORD, ONs);
3. after it, only NOTE_ONs of pitched groups that add a pitch class the new chord needs, until
   it has three or more pitch classes (the lowest is the bass) and differs from the set that
   sounded just before; further ONs at that step may not turn it back into that set.
Time moves on only after that. Shifts never cross the plan's end, so the piece ends there and
notes still sounding stop at it. Without the constraint (`constrained=False`) only the end
is enforced, to measure how often the model lands cuts by itself.

Timing. Tokens count 8 ms steps, and cuts are rarely on that grid (a 23.976 fps frame is
41.7 ms). Each cut is rounded to its step and the MIDI times are mapped piecewise-linearly
through (step of cut, cut seconds) anchors, so chords at cuts start exactly on the cut (to
MIDI tick precision) while every other time moves by under 4 ms. Two cuts on one step (under
8 ms apart: closer than any video frame rate puts them) share one chord.

Context. The cache holds as many tokens as the model was trained on (`model.context`: its
position embeddings past that were never trained). When it is full, the last 3/4 of it is
re-encoded and decoding goes on (learned absolute positions cannot be shifted in place;
perf-notes.md).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pretty_midi
import torch

from . import events
from .chords import classify
from .events import (
    CHORD,
    DRUMS,
    GROUP_PROGRAM,
    GROUPS,
    GUITAR,
    KEYS,
    N_PITCHES,
    NOTE_OFF_BASE,
    NOTE_ON_BASE,
    PITCH_MIN,
    SHIFT_BASE,
    STEP_S,
)
from .harmony import NOTE_NAMES, Chord, Key
from .labels import key_correlations
from .model import N_COND, EmsyncTransformer, KVCache, int8_for_cpu
from .plan import ScenePlan, ScorePlan
from .score import ChordEvent, Score, new_midi

SENSITIVITY_STEPS = round(1.0 / STEP_S)  # paper: a <CHORD> within 1 s consumes a boundary
MAX_NOTE_STEPS = round(8.0 / STEP_S)  # 8 s: longer notes are model slips, not music
PACE_FLOOR_STEPS = round(0.125 / STEP_S)  # gaps the pace bias leaves alone (125 ms)
CALM_PACE_SHARE = 0.5  # of the pace bias that lengthens gaps (see `bias_for` in `generate`)
TONIC_LEAN = 0.5  # key bias share added to the tonic triad (`_Vocab.key_leaning`)
KEEP_FRACTION = 0.75  # of the context kept when it is re-encoded (the rest is dropped)
PROGRESS_STEPS = round(1.0 / STEP_S)  # report progress once per second of music
MAX_TOKENS_PER_STEP = 48  # then only a time shift may follow (an untrained model may dither)

# Stems group by layer: "<layer> - <sound>".
LAYER: dict[int, str] = {
    events.BASS: "bass",
    events.DRUMS: "percussion",
    events.KEYS: "keys",
    events.GUITAR: "plucks",
    events.STRINGS: "strings",
    events.WINDS: "winds",
}


def _is_shift(token: int) -> bool:
    return SHIFT_BASE <= token < NOTE_ON_BASE


def _key_of(token: int) -> tuple[int, int]:
    index = (token - NOTE_ON_BASE) % (len(GROUPS) * N_PITCHES)
    return index // N_PITCHES, index % N_PITCHES + PITCH_MIN


@dataclass
class _Vocab:
    """Token masks used by the sampler, built once."""

    base: torch.Tensor = field(init=False)  # what may ever be sampled
    shifts: torch.Tensor = field(init=False)
    pitched_on_by_pc: torch.Tensor = field(init=False)  # (12, V) pitched NOTE_ONs per class
    pace_tilt: torch.Tensor = field(init=False)  # (V,) on time shifts, see __post_init__

    def __post_init__(self) -> None:
        V = events.VOCAB_SIZE
        self.base = torch.ones(V, dtype=torch.bool)
        for token in (events.PAD, events.START, events.LESS_INSTRUMENTS, events.MORE_INSTRUMENTS):
            self.base[token] = False
        self.shifts = torch.zeros(V, dtype=torch.bool)
        self.shifts[SHIFT_BASE:NOTE_ON_BASE] = True
        # -log2(steps / PACE_FLOOR_STEPS) for shifts longer than the floor, 0 for shorter
        # ones: pace can push the gaps down to the floor, never towards an 8 ms buzz.
        self.pace_tilt = torch.zeros(V)
        steps = torch.arange(1, NOTE_ON_BASE - SHIFT_BASE + 1, dtype=torch.float32)
        self.pace_tilt[SHIFT_BASE:NOTE_ON_BASE] = -torch.log2(
            torch.clamp(steps / PACE_FLOOR_STEPS, min=1.0)
        )
        self.pitched_on_by_pc = torch.zeros(12, V, dtype=torch.bool)
        for group in range(len(GROUPS)):
            if group == DRUMS:
                continue
            for pitch in range(PITCH_MIN, PITCH_MIN + N_PITCHES):
                self.pitched_on_by_pc[pitch % 12, events.note_on(group, pitch)] = True

    def key_leaning(self, key: Key) -> torch.Tensor:
        """(V,) -1 on pitched NOTE_ONs outside `key`, +TONIC_LEAN on its tonic triad.

        The scale alone cannot set the mode: C minor and E-flat major share theirs. Leaning
        towards the tonic triad is what makes the key (and so the mode) heard.
        """
        lean = torch.zeros(self.base.shape)
        outside = sorted(set(range(12)) - key.pitch_classes)
        if outside:
            lean -= self.pitched_on_by_pc[outside].any(dim=0).float()
        triad = sorted(key.degree(1).pitch_classes)
        return lean + TONIC_LEAN * self.pitched_on_by_pc[triad].any(dim=0).float()


def sample(
    logits: torch.Tensor,
    allowed: torch.Tensor,
    temperature: float,
    top_p: float,
    generator: torch.Generator,
) -> tuple[int, int]:
    """One token from `logits` (V,): masked, divided by `temperature`, nucleus `top_p`.

    Also returns how many tokens the nucleus kept (the repetition guard watches it).
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
    """The paper's guard against loops: when the nucleus keeps collapsing to one or two
    tokens (`streak` counts that, halving otherwise), the temperature rises
    logarithmically: T * (1 + max(0, log((streak + 1) / 4)) * 0.4)."""
    return temperature * (1 + max(0.0, math.log((streak + 1) / 4)) * 0.4)


class _Decoder:
    """The model plus its KV cache, fed token by token; re-encodes when the mood changes or
    the context is full.

    With `guidance` != 1 it decodes a batch of two, the second row without valence/arousal
    (the null vectors condition dropout trained), and returns classifier-free guided logits
    unconditional + guidance * (conditional - unconditional): the model's own idea of what
    the mood changes, amplified. On CPU it decodes with the int8 copy of the model
    (`int8_for_cpu`, 1.4-2x faster per step), unless `int8` is False.
    """

    def __init__(
        self,
        model: EmsyncTransformer,
        keep_fraction: float = KEEP_FRACTION,
        guidance: float = 1.0,
        int8: bool = True,
    ) -> None:
        self.model = int8_for_cpu(model) if int8 else model
        self.device = next(model.parameters()).device
        self.guidance = guidance
        self.rows = 1 if guidance == 1.0 else 2
        self.cache = KVCache(model.config, self.rows, self.device)
        self.capacity = model.context
        self.keep = max(2, int(self.capacity * keep_fraction))
        self.instrument_token = events.MORE_INSTRUMENTS

    def _t(self, values: list, dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor([values] * self.rows, dtype=dtype, device=self.device)

    def _guided(self, logits: torch.Tensor) -> torch.Tensor:
        last = logits[:, -1]
        if self.rows == 1:
            return last[0]
        return last[1] + self.guidance * (last[0] - last[1])

    def prefill(
        self, tokens: list[int], offsets: list[float], valence: float, arousal: float
    ) -> torch.Tensor:
        """Encode the tail of `tokens` from scratch under (valence, arousal)."""
        if len(tokens) > self.keep:
            # A window that does not start at the piece start begins with the instrument-count
            # token only, as training windows do.
            tokens = [self.instrument_token] + tokens[-(self.keep - 1) :]
            offsets = [offsets[-(self.keep - 1)]] + offsets[-(self.keep - 1) :]
        self.cache.reset()
        nan = float("nan")
        va = torch.tensor([valence, nan][: self.rows], device=self.device)
        ar = torch.tensor([arousal, nan][: self.rows], device=self.device)
        logits = self.model(
            self._t(tokens, torch.long), self._t(offsets, torch.float32), va, ar, self.cache
        )
        return self._guided(logits)

    def step(self, token: int, offset: float) -> torch.Tensor | None:
        """Logits after `token`, or None when the cache is full (the caller re-encodes)."""
        if self.cache.length + 1 > self.capacity + N_COND:
            return None
        logits = self.model(
            self._t([token], torch.long), self._t([offset], torch.float32), cache=self.cache
        )
        return self._guided(logits)


def _heard_before(
    sounding: dict[tuple[int, int], int],
    ended: list[tuple[int, int, int]],
    now: int,
    since: int,
) -> set[int]:
    """Pitch classes heard just before step `now` in the MIDI `_to_score` will write: pitched
    notes struck at least two steps earlier, still sounding or ended within a step. Notes
    struck before `since` (the previous cut, where every note is released) or more than
    `MAX_NOTE_STEPS` ago are silent there, even if the model never released them."""
    first = max(since, now - MAX_NOTE_STEPS)
    heard = {p % 12 for (g, p), s in sounding.items() if g != DRUMS and first <= s <= now - 2}
    return heard | {pc for pc, s, e in ended if first <= s <= now - 2 and e >= now - 1}


@torch.inference_mode()
def generate(
    plan: ScorePlan,
    model: EmsyncTransformer,
    seed: int,
    temperature: float = 1.3,
    top_p: float = 0.6,
    constrained: bool = True,
    guidance: float = 1.0,
    key_bias: float = 0.0,
    pace_bias: float = 0.0,
    on_progress: Callable[[float], None] | None = None,
    int8: bool = True,
) -> Score:
    """A `Score` for `plan` written by `model` (see the module docstring). `guidance` > 1
    strengthens the mood's effect (classifier-free guidance, see `_Decoder`); `key_bias`
    (nats) lowers pitched notes outside each scene's planned key and raises its tonic triad
    by half that (`_Vocab.key_leaning`), so the plan's mode, which follows valence, is heard.
    `pace_bias` (nats per doubling of a time shift, times the scene's arousal) makes long
    shifts rarer in aroused scenes and commoner in calm ones, so density follows arousal.
    `on_progress(fraction)` is called as each further second of music is written. On CPU the
    int8 copy of the model decodes (`int8_for_cpu`); `int8=False` keeps float32 (evaluation)."""
    if not 0.0 <= key_bias < math.inf:
        raise ValueError(f"key_bias must be finite and >= 0, not {key_bias}")
    if not 0.0 <= pace_bias < math.inf:
        raise ValueError(f"pace_bias must be finite and >= 0, not {pace_bias}")
    model.eval()
    generator = torch.Generator().manual_seed(int(seed))
    vocab = _Vocab()
    # One vector per distinct key: a long timeline has thousands of scenes but few keys.
    leaning = {key: key_bias * vocab.key_leaning(key) for key in {s.key for s in plan.scenes}}

    def bias_for(mood: ScenePlan) -> torch.Tensor:
        """What the levers add to the logits in this scene. Calm scenes get half the pace
        tilt: told to wait longer, the model holds a chord past the 8 s the MIDI lets a note
        ring, and at full strength 30-s calm scenes fell silent for up to 13 s."""
        pace = pace_bias * mood.arousal * (1.0 if mood.arousal > 0 else CALM_PACE_SHARE)
        return leaning[mood.key] + pace * vocab.pace_tilt

    def levered(logits: torch.Tensor) -> torch.Tensor:
        """`logits` plus this scene's biases. The pace tilt moves probability between time
        shifts only: whether the model waits stays its own choice, how long it waits follows
        arousal (tilting waiting against playing left calm scenes silent for 20 s)."""
        out = logits + bias
        if pace_bias:
            waits = slice(SHIFT_BASE, NOTE_ON_BASE)
            out[waits] -= torch.logsumexp(out[waits], 0) - torch.logsumexp(logits[waits], 0)
        return out

    end = max(1, round(plan.duration_s / STEP_S))

    # Boundaries on the step grid. Time 0 is hard too under the constraint: the score opens
    # on a chord.
    cuts = [(round(t / STEP_S), t) for t in plan.hard_boundaries_s if 0 < round(t / STEP_S) < end]
    hard_steps = sorted({s for s, _ in cuts} | ({0} if constrained else set()))
    soft_steps = sorted(
        {round(t / STEP_S) for t in plan.soft_boundaries_s} - set(hard_steps) - {0, end}
    )
    soft_steps = [s for s in soft_steps if 0 < s < end]
    pending: list[tuple[int, bool]] = sorted(
        [(s, True) for s in hard_steps] + [(s, False) for s in soft_steps]
    )
    scene_starts = [round(s.start_s / STEP_S) for s in plan.scenes]

    def scene_at(step: int) -> int:
        return max(0, bisect.bisect_right(scene_starts, step) - 1)

    def t_next(now: int) -> float:
        return (pending[0][0] - now) * STEP_S if pending else float("inf")

    # State of the music so far (what decode_events will make of the tokens).
    now = 0
    sounding: dict[tuple[int, int], int] = {}  # (group, pitch) -> start step
    ended: list[tuple[int, int, int]] = []  # pitched (pc, start, end) that ended lately
    at_step = 0  # tokens emitted since time last moved
    bar_at_step = False
    phase = "free"  # or "need_chord" / "need_notes" at a hard boundary under the constraint
    streak = 0.0  # how long the nucleus has kept only one or two tokens (see `heated`)
    reported = 0  # whole seconds of music reported to `on_progress`
    chord_step = -1  # step of the last forced <CHORD>
    attack: set[int] = set()  # pitch classes struck at `chord_step`
    before: set[int] = set()  # pitch classes sounding just before `chord_step`

    tokens = events.sequence_prefix(4, True)  # <START>, <MORE_INSTRUMENTS>
    offsets = [t_next(0)] * len(tokens)
    decoder = _Decoder(model, guidance=guidance, int8=int8)
    scene = scene_at(0)
    mood = plan.scenes[scene]
    bias = bias_for(mood)
    logits = decoder.prefill(tokens, offsets, mood.valence, mood.arousal)

    def enter_step() -> None:
        nonlocal phase, at_step, bar_at_step
        at_step, bar_at_step = 0, False
        if constrained and pending and pending[0] == (now, True):
            phase = "need_chord"

    enter_step()
    while now < end:
        # -- what may come next
        if phase == "need_chord":
            allowed = torch.zeros_like(vocab.base)
            allowed[CHORD] = True
            allowed[events.BAR] = not bar_at_step
            for group, pitch in sounding:
                allowed[events.note_off(group, pitch)] = True
        elif phase == "need_notes":
            wanted = (set(range(12)) - attack) if len(attack) < 3 else (set(range(12)) - before)
            allowed = vocab.pitched_on_by_pc[sorted(wanted)].any(dim=0)
        else:
            allowed = vocab.base.clone()
            if at_step >= MAX_TOKENS_PER_STEP:
                allowed &= vocab.shifts
            if constrained and now == chord_step and before and attack < before:
                # One more pitch class must not turn the new chord back into the old one.
                missing = before - attack
                if len(missing) == 1:
                    allowed &= ~vocab.pitched_on_by_pc[next(iter(missing))]
        token, kept = sample(
            levered(logits), allowed, heated(temperature, streak), top_p, generator
        )
        streak = streak + 1 if kept <= 2 else streak / 2

        # -- clamp time shifts: never past the next cut (constrained) or the end
        if _is_shift(token):
            limit = end
            if constrained:
                nxt = next((s for s, hard in pending if hard and s > now), end)
                limit = min(limit, nxt)
            steps = min(token - SHIFT_BASE + 1, limit - now)
            token = events.shift_token(steps)

        # -- apply it
        tokens.append(token)
        at_step += 1
        moved = False
        if _is_shift(token):
            now += token - SHIFT_BASE + 1
            ended = [e for e in ended if e[2] >= now - 2]
            pending = [b for b in pending if b[0] >= now]  # passed boundaries are dropped
            moved = True
        elif token == CHORD:
            if phase == "need_chord":
                pending.pop(0)
                before = _heard_before(sounding, ended, now, since=max(chord_step, 0))
                chord_step, attack, phase = now, set(), "need_notes"
            else:
                near = [b for b in pending if abs(b[0] - now) <= SENSITIVITY_STEPS]
                if near and not (constrained and near[0][1]):
                    pending.remove(near[0])
        elif token == events.BAR:
            bar_at_step = True
        elif token >= NOTE_ON_BASE:
            key = _key_of(token)
            if token < NOTE_OFF_BASE:
                if key in sounding and sounding[key] < now:  # re-strike ends the old note
                    if key[0] != DRUMS:
                        ended.append((key[1] % 12, sounding[key], now))
                    del sounding[key]
                sounding.setdefault(key, now)
                if now == chord_step and key[0] != DRUMS:
                    attack.add(key[1] % 12)
                    if phase == "need_notes" and len(attack) >= 3 and attack != before:
                        phase = "free"
            elif key in sounding and sounding[key] < now:
                if key[0] != DRUMS:
                    ended.append((key[1] % 12, sounding[key], now))
                del sounding[key]
        offsets.append(t_next(now))
        if now >= end:
            break
        if moved:
            enter_step()
            if on_progress and now // PROGRESS_STEPS > reported:
                reported = now // PROGRESS_STEPS
                on_progress(now / end)

        # -- next logits: re-encode on a new scene or a full context, else one cached step
        new_scene = scene_at(now)
        step_logits = None
        if new_scene == scene:
            step_logits = decoder.step(token, offsets[-1])
        if step_logits is None:
            scene = new_scene
            mood = plan.scenes[scene]
            bias = bias_for(mood)
            step_logits = decoder.prefill(tokens, offsets, mood.valence, mood.arousal)
        logits = step_logits

    return _to_score(plan, tokens, cuts, set(hard_steps) | {0}, end, seed, constrained)


# ---------------------------------------------------------------------------------------
# Tokens -> Score


def _to_score(
    plan: ScorePlan,
    tokens: list[int],
    cuts: list[tuple[int, float]],
    hard_steps: set[int],
    end: int,
    seed: int,
    release_at_cuts: bool = True,
) -> Score:
    anchors = sorted({0: 0.0, **{s: t for s, t in cuts}, end: plan.duration_s}.items())
    xs = np.array([a for a, _ in anchors], dtype=float)
    ys = np.array([b for _, b in anchors], dtype=float)

    def seconds(step: float) -> float:
        return float(np.interp(step, xs, ys))

    decoded = events.decode_events(tokens)
    boundaries = sorted(hard_steps)
    chord_steps = sorted(set(decoded.chords))
    chord_set = set(chord_steps)
    midi = new_midi()
    instruments: dict[int, pretty_midi.Instrument] = {}
    for group, pitch, start, stop in decoded.notes:
        if group not in instruments:
            program = GROUP_PROGRAM[group]
            sound = "Drums" if group == DRUMS else pretty_midi.program_to_instrument_name(program)
            instruments[group] = pretty_midi.Instrument(
                program=program, is_drum=group == DRUMS, name=f"{LAYER[group]} - {sound}"
            )
        # Paper: keys and guitar accented on boundary chords; we lift the other pitched
        # groups a little too, so a cut chord played by strings alone is still heard.
        velocity = 80
        if start in chord_set and group != DRUMS:
            velocity = 120 if group in (KEYS, GUITAR) else 100
        # A note the model never released would drone on for minutes: cap its length, and
        # under the constraint end it at the next cut, so no chord rings over a cut.
        stop = min(stop, end, start + MAX_NOTE_STEPS)
        if release_at_cuts:
            k = bisect.bisect_right(boundaries, start)
            if k < len(boundaries):
                stop = min(stop, boundaries[k])
        instruments[group].notes.append(
            pretty_midi.Note(velocity, pitch, seconds(start), seconds(stop))
        )
    midi.instruments = [instruments[g] for g in sorted(instruments)]

    pitched = [n for n in decoded.notes if n[0] != DRUMS]
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
    not the plan's: the model follows the plan's key only as far as the key bias leans it."""
    lo = round(plan.scenes[scene].start_s / STEP_S)
    hi = round(plan.scenes[scene].end_s / STEP_S)
    hist = np.zeros(12)
    for _, pitch, s, e in notes:
        hist[pitch % 12] += max(0, min(e, hi) - max(s, lo))
    major, minor = key_correlations(hist)
    if not hist.any():
        return plan.scenes[scene].key.name
    if major.max() >= minor.max():
        return f"{NOTE_NAMES[int(major.argmax())]} major"
    return f"{NOTE_NAMES[int(minor.argmax())]} minor"
