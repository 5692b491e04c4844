"""The cut rule: what constrained decoding allows next, so every cut gets a new chord.

The sampler asks `rule.allowed()` for a mask before each token, passes time shifts through
`rule.clamp()`, and tells the rule every token it kept with `rule.observe()`. Under the
constraint (ARCHITECTURE.md, "past the paper"):
1. a time shift that would cross the next cut is clamped to land exactly on it;
2. at the cut, only NOTE_OFFs of sounding notes, one `<BAR>` and `<CHORD>` may come, until
   `<CHORD>` does (training data orders a time step as OFFs, BAR, CHORD, ONs);
3. after it, only NOTE_ONs of pitched groups that add a pitch class the new chord needs,
   until it has three or more pitch classes and differs from the set heard just before;
   further ONs at that step may not turn it back into that set.
Without the constraint only the end of the plan is enforced, to measure what the model does
alone. Either way at most `MAX_TOKENS_PER_STEP` tokens come between two time shifts.

The rule also keeps the boundaries the model is told about (`Boundaries.seconds_to_next`,
the paper's boundary offset): cuts are hard, the plan's chord starts inside scenes soft. A
boundary stops being pending when a `<CHORD>` is emitted within 1 s of it or time passes it
(paper: `chord_sensitivity_seconds`); a cut under the constraint only with its forced chord.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from . import events
from .events import (
    CHORD,
    DRUMS,
    GROUPS,
    MAX_NOTE_STEPS,
    N_PITCHES,
    NOTE_OFF_BASE,
    NOTE_ON_BASE,
    PITCH_MIN,
    SHIFT_BASE,
    STEP_S,
)

SENSITIVITY_STEPS = round(1.0 / STEP_S)  # paper: a <CHORD> within 1 s consumes a boundary
MAX_TOKENS_PER_STEP = 48  # then only a time shift may follow (an untrained model may dither)
HELD_STEPS = round(1.0 / STEP_S)  # with the note cap: a note this long ends at a cut in tokens


class Masks:
    """Token masks over the vocabulary, built once."""

    def __init__(self) -> None:
        V = events.VOCAB_SIZE
        self.base = torch.ones(V, dtype=torch.bool)  # what may ever be sampled
        for token in (events.PAD, events.START, events.LESS_INSTRUMENTS, events.MORE_INSTRUMENTS):
            self.base[token] = False
        self.shifts = torch.zeros(V, dtype=torch.bool)
        self.shifts[SHIFT_BASE:NOTE_ON_BASE] = True
        self.pitched_on_by_pc = torch.zeros(12, V, dtype=torch.bool)  # NOTE_ONs per class
        for group in range(len(GROUPS)):
            if group == DRUMS:
                continue
            for pitch in range(PITCH_MIN, PITCH_MIN + N_PITCHES):
                self.pitched_on_by_pc[pitch % 12, events.note_on(group, pitch)] = True


def is_shift(token: int) -> bool:
    return SHIFT_BASE <= token < NOTE_ON_BASE


def note_key(token: int) -> tuple[int, int]:
    """(group, pitch) of a NOTE_ON or NOTE_OFF token."""
    index = (token - NOTE_ON_BASE) % (len(GROUPS) * N_PITCHES)
    return index // N_PITCHES, index % N_PITCHES + PITCH_MIN


def heard_before(
    sounding: dict[tuple[int, int], int],
    ended: list[tuple[int, int, int]],
    now: int,
    since: int,
) -> set[int]:
    """Pitch classes heard just before step `now` in the MIDI the tokens decode to: pitched
    notes struck at least two steps earlier, still sounding or ended within a step. Notes
    struck before `since` (the previous cut, where every note is released) or more than
    `MAX_NOTE_STEPS` ago are silent there, even if the model never released them."""
    first = max(since, now - MAX_NOTE_STEPS)
    heard = {p % 12 for (g, p), s in sounding.items() if g != DRUMS and first <= s <= now - 2}
    return heard | {pc for pc, s, e in ended if first <= s <= now - 2 and e >= now - 1}


class Boundaries:
    """Pending boundaries on the 8 ms step grid: (step, hard), in time order."""

    def __init__(self, hard: Iterable[int], soft: Iterable[int]) -> None:
        self.pending = sorted([(s, True) for s in hard] + [(s, False) for s in soft])

    def seconds_to_next(self, now: int) -> float:
        return (self.pending[0][0] - now) * STEP_S if self.pending else float("inf")

    def next_hard(self, now: int, default: int) -> int:
        return next((s for s, hard in self.pending if hard and s > now), default)

    def passed(self, now: int) -> None:
        self.pending = [b for b in self.pending if b[0] >= now]

    def chord(self, now: int, keep_hard: bool) -> None:
        """A free `<CHORD>` consumes the first boundary within 1 s (not a cut kept for its
        forced chord)."""
        near = [b for b in self.pending if abs(b[0] - now) <= SENSITIVITY_STEPS]
        if near and not (keep_hard and near[0][1]):
            self.pending.remove(near[0])


class CutRule:
    """Decoding state that the constraint needs: the time cursor, what sounds, and the phase
    at a cut ("free", "need_chord", "need_notes")."""

    def __init__(
        self,
        boundaries: Boundaries,
        end: int,
        constrained: bool,
        masks: Masks,
        note_cap: bool = False,
    ) -> None:
        self.boundaries = boundaries
        self.note_cap = note_cap  # end notes at MAX_NOTE_STEPS in the tokens (`due_note_off`)
        self.end = end
        self.constrained = constrained
        self.masks = masks
        self.now = 0
        self.sounding: dict[tuple[int, int], int] = {}  # (group, pitch) -> start step
        self.ended: list[tuple[int, int, int]] = []  # pitched (pc, start, end), lately ended
        self.phase = "free"
        self.chord_step = -1  # step of the last forced <CHORD>
        self.attack: set[int] = set()  # pitch classes struck at `chord_step`
        self.before: set[int] = set()  # pitch classes heard just before `chord_step`
        self._enter_step()

    def _enter_step(self) -> None:
        self.at_step, self.bar_at_step = 0, False
        pending = self.boundaries.pending
        if self.constrained and pending and pending[0] == (self.now, True):
            self.phase = "need_chord"
            if self.note_cap:
                self._release_at_cut()

    def _release_at_cut(self) -> None:
        """The MIDI ends every note at a cut (`events.to_midi`). A note held `HELD_STEPS` or
        longer stays sounding here so that `due_note_off` writes its NOTE_OFF at the cut, as
        a chord change in the training data ends its held notes. A shorter one (a note struck
        just before the cut, which the training data would have ended before the chord) is
        released without a token: NOTE_OFFs of such notes at the chord step read like a
        scene's end and thinned the aroused scores (docs/training.md, session 19). Either way
        the cap no longer ends it again 8 s after it started."""
        for (group, pitch), start in list(self.sounding.items()):
            if self.now - HELD_STEPS < start < self.now:
                if group != DRUMS:
                    self.ended.append((pitch % 12, start, self.now))
                del self.sounding[(group, pitch)]

    def allowed(self) -> torch.Tensor:
        """Mask of the tokens that may come next."""
        m = self.masks
        if self.phase == "need_chord":
            allowed = torch.zeros_like(m.base)
            allowed[CHORD] = True
            allowed[events.BAR] = not self.bar_at_step
            for group, pitch in self.sounding:
                allowed[events.note_off(group, pitch)] = True
            return allowed
        if self.phase == "need_notes":
            attack, before = self.attack, self.before
            wanted = (set(range(12)) - attack) if len(attack) < 3 else (set(range(12)) - before)
            return m.pitched_on_by_pc[sorted(wanted)].any(dim=0)
        allowed = m.base.clone()
        if self.at_step >= MAX_TOKENS_PER_STEP:
            allowed &= m.shifts
        if self.now == self.chord_step and self.before and self.attack < self.before:
            missing = self.before - self.attack  # one more class must not restore the old set
            if len(missing) == 1:
                allowed &= ~m.pitched_on_by_pc[next(iter(missing))]
        return allowed

    def clamp(self, token: int) -> int:
        """A time shift shortened to stop at the next cut (constrained) or the end."""
        if not is_shift(token):
            return token
        limit = self.end
        if self.constrained:
            limit = min(limit, self.boundaries.next_hard(self.now, self.end))
        if self.note_cap and self.sounding:  # stop where the oldest note reaches the cap
            limit = min(limit, min(self.sounding.values()) + MAX_NOTE_STEPS)
        return events.shift_token(min(token - SHIFT_BASE + 1, limit - self.now))

    def due_note_off(self) -> int | None:
        """With `note_cap`: the NOTE_OFF of a note the MIDI ends here (`events.to_midi`), to
        be written before anything is sampled; else None. That is a note that has sounded
        `MAX_NOTE_STEPS` (`clamp` makes time stop at that step, so the OFF lands on it
        exactly) and, under the constraint, a held note at a cut (`_release_at_cut`)."""
        if not self.note_cap:
            return None
        if self.constrained and self.phase == "need_chord":  # the held notes (`_release_at_cut`)
            due = [(s, key) for key, s in self.sounding.items() if s < self.now]
        else:
            due = [(s, k) for k, s in self.sounding.items() if s + MAX_NOTE_STEPS <= self.now]
        return events.note_off(*min(due)[1]) if due else None

    def observe(self, token: int) -> bool:
        """Take `token` into the state; True when it moved time."""
        self.at_step += 1
        now = self.now
        if is_shift(token):
            self.now = now = now + token - SHIFT_BASE + 1
            self.ended = [e for e in self.ended if e[2] >= now - 2]
            self.boundaries.passed(now)
            self._enter_step()
            return True
        if token == CHORD:
            if self.phase == "need_chord":
                self.boundaries.pending.pop(0)
                since = max(self.chord_step, 0)
                self.before = heard_before(self.sounding, self.ended, now, since)
                self.chord_step, self.attack, self.phase = now, set(), "need_notes"
            else:
                self.boundaries.chord(now, keep_hard=self.constrained)
        elif token == events.BAR:
            self.bar_at_step = True
        elif token >= NOTE_ON_BASE:
            key = note_key(token)
            struck = key in self.sounding and self.sounding[key] < now
            if struck:  # a NOTE_OFF, or a re-strike, ends the note that sounds
                if key[0] != DRUMS:
                    self.ended.append((key[1] % 12, self.sounding[key], now))
                del self.sounding[key]
            if token < NOTE_OFF_BASE:
                self.sounding.setdefault(key, now)
                if now == self.chord_step and key[0] != DRUMS:
                    self.attack.add(key[1] % 12)
                    done = len(self.attack) >= 3 and self.attack != self.before
                    if self.phase == "need_notes" and done:
                        self.phase = "free"
        return False
