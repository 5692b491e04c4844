"""The cut rule on its own: what it allows at a cut, how it clamps time, what it remembers."""

from emsync_core.music import events
from emsync_core.music.cut_rule import MAX_TOKENS_PER_STEP, Boundaries, CutRule, Masks
from emsync_core.music.events import CHORD, KEYS, SHIFT_BASE, STEP_S, STRINGS

MASKS = Masks()


def _rule(hard=(0, 100), soft=(50,), end=200, constrained=True) -> CutRule:
    return CutRule(Boundaries(hard, soft), end, constrained, MASKS)


def _allowed(rule: CutRule) -> set[int]:
    return set(rule.allowed().nonzero().flatten().tolist())


def _play(rule: CutRule, *tokens: int) -> None:
    for token in tokens:
        rule.observe(rule.clamp(token))


def test_a_cut_allows_only_releases_a_bar_and_the_chord():
    rule = _rule()
    assert rule.phase == "need_chord"  # time 0 is a cut under the constraint
    assert _allowed(rule) == {CHORD, events.BAR}
    _play(rule, CHORD)
    assert rule.phase == "need_notes"
    allowed = _allowed(rule)
    assert events.note_on(KEYS, 60) in allowed and events.note_on(events.DRUMS, 36) not in allowed
    assert not any(SHIFT_BASE <= t < events.NOTE_ON_BASE for t in allowed)  # time waits


def test_time_moves_only_after_three_new_pitch_classes():
    rule = _rule()
    _play(rule, CHORD, events.note_on(KEYS, 60), events.note_on(KEYS, 64))
    assert rule.phase == "need_notes"
    assert events.note_on(KEYS, 72) not in _allowed(rule)  # C again adds no class
    _play(rule, events.note_on(STRINGS, 67))
    assert rule.phase == "free"
    assert events.shift_token(10) in _allowed(rule)


def test_a_shift_is_clamped_to_land_on_the_next_cut_and_the_end():
    rule = _rule()
    _play(rule, CHORD, *(events.note_on(KEYS, p) for p in (60, 64, 67)))
    assert rule.clamp(events.shift_token(125)) == events.shift_token(100)
    _play(rule, events.shift_token(125))
    assert rule.now == 100 and rule.phase == "need_chord"
    sounding = {events.note_off(KEYS, p) for p in (60, 64, 67)}
    assert _allowed(rule) == {CHORD, events.BAR} | sounding
    free = _rule(hard=(100,), constrained=False)
    assert free.clamp(events.shift_token(125)) == events.shift_token(125)
    free.now = 150
    assert free.clamp(events.shift_token(125)) == events.shift_token(50)  # the end holds


def test_the_new_chord_must_differ_from_the_one_before():
    rule = _rule()
    c_major = [events.note_on(KEYS, p) for p in (60, 64, 67)]
    _play(rule, CHORD, *c_major, events.shift_token(100), events.BAR, CHORD)
    assert rule.before == {0, 4, 7}
    _play(rule, *c_major)
    assert rule.phase == "need_notes"  # the same three classes are not a new chord
    assert events.note_on(KEYS, 69) in _allowed(rule)
    assert events.note_on(KEYS, 72) not in _allowed(rule)


def test_unconstrained_lets_the_model_decide_but_caps_a_step():
    rule = _rule(constrained=False)
    assert rule.phase == "free"
    assert events.note_on(KEYS, 60) in _allowed(rule)
    for _ in range(MAX_TOKENS_PER_STEP):
        rule.observe(events.note_on(KEYS, 60))
    assert _allowed(rule) == set(range(SHIFT_BASE, events.NOTE_ON_BASE))


def test_boundaries_tell_the_time_to_the_next_and_a_free_chord_consumes_one():
    b = Boundaries(hard=[100], soft=[50])
    assert b.seconds_to_next(10) == 40 * STEP_S
    b.chord(now=60, keep_hard=True)  # a chord within 1 s of the soft boundary at 50
    assert b.pending == [(100, True)]
    b.chord(now=100, keep_hard=True)  # a cut waits for its forced chord
    assert b.pending == [(100, True)]
    b.passed(101)
    assert b.pending == [] and b.seconds_to_next(101) == float("inf")
