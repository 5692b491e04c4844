"""Constrained generation lands a new chord on every cut, even with an untrained model."""

import random

import pytest
import torch

from emsync_core.music.alignment import measure_alignment
from emsync_core.music.generate import generate
from emsync_core.music.model import EmsyncTransformer, ModelConfig
from emsync_core.music.plan import plan_score
from emsync_core.music.score import layer_of


@pytest.fixture(scope="module")
def model() -> EmsyncTransformer:
    torch.manual_seed(0)
    # A small block so the sliding window is exercised within a short plan.
    return EmsyncTransformer(ModelConfig(n_layer=2, n_head=2, d_model=32, block_size=96))


def _random_plan(seed: int, duration: float = 12.0, cuts: int = 8):
    rng = random.Random(seed)
    # Off the 8 ms grid on purpose (23.976 fps-like times).
    inner = sorted(round(rng.uniform(0.2, duration - 0.2), 5) for _ in range(cuts))
    edges = [0.0, *inner, duration]
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    moods = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in spans]
    return plan_score(spans, moods, seed)


@pytest.mark.parametrize("seed", [0, 1])
def test_constrained_lands_a_new_chord_on_every_cut(model, seed):
    plan = _random_plan(seed)
    score = generate(plan, model, seed=seed)
    for a in measure_alignment(score.midi, plan.hard_boundaries_s):
        assert a.error_ms is not None and a.error_ms < 1.0, a
        assert len(a.pitch_classes) >= 3 and a.new_harmony, a
    hard = [c for c in score.chords if c.hard]
    assert sorted(round(c.start_s, 6) for c in hard) == [0.0] + sorted(
        round(t, 6) for t in plan.hard_boundaries_s
    )
    assert abs(score.midi.get_end_time() - plan.duration_s) < 1e-6
    assert score.engine == "transformer"
    for inst in score.midi.instruments:
        assert " - " in inst.name and layer_of(inst)


def test_generation_is_seeded(model):
    plan = _random_plan(5, duration=6.0, cuts=3)
    a = generate(plan, model, seed=3).midi.instruments
    b = generate(plan, model, seed=3).midi.instruments
    notes = [[(n.pitch, n.start, n.end) for n in i.notes] for i in a]
    assert notes == [[(n.pitch, n.start, n.end) for n in i.notes] for i in b]


def test_unconstrained_does_not_force_chords(model):
    plan = _random_plan(0)
    score = generate(plan, model, seed=0, constrained=False)
    aligned = [
        a.error_ms is not None and a.error_ms < 1.0 and a.new_harmony
        for a in measure_alignment(score.midi, plan.hard_boundaries_s)
    ]
    assert not all(aligned)  # an untrained model does not hit cuts by itself
    assert abs(score.midi.get_end_time() - plan.duration_s) < 1e-6


def test_decoding_stays_within_the_trained_context(monkeypatch):
    from emsync_core.music.decode_step import CachedStep
    from emsync_core.music.model import N_COND

    torch.manual_seed(1)
    model = EmsyncTransformer(ModelConfig(n_layer=2, n_head=2, d_model=32, block_size=96))
    model.context = 30  # as `load` sets it for a model trained on 31-token windows
    reached = []

    def record(module, args, kwargs):
        cache = kwargs.get("cache", args[4] if len(args) > 4 else None)
        start = cache.length if cache is not None else 0
        reached.append(start + args[0].shape[1] + (N_COND if start == 0 else 0))

    model.register_forward_pre_hook(record, with_kwargs=True)  # prefills
    step = CachedStep.__call__

    def record_step(self, token, offset, cache):  # one-token steps
        reached.append(cache.length + 1)
        return step(self, token, offset, cache)

    monkeypatch.setattr(CachedStep, "__call__", record_step)
    plan = _random_plan(3)
    score = generate(plan, model, seed=3)
    assert max(reached) == N_COND + 30  # filled to the trained window, never past it
    assert sum(n == max(reached) for n in reached) > 1  # and re-encoded to go on
    assert abs(score.midi.get_end_time() - plan.duration_s) < 1e-6


def test_repetition_guard_heats_only_long_streaks():
    from emsync_core.music.generate import heated

    assert heated(1.3, 0) == heated(1.3, 3) == 1.3
    assert 1.3 < heated(1.3, 7) < heated(1.3, 30)


def test_the_decoder_reads_the_models_own_conditional_logits(model):
    from emsync_core.music import events
    from emsync_core.music.generate import Decoder

    tokens = events.sequence_prefix(4, True) + [events.CHORD]
    offsets = [1.0] * len(tokens)
    x, o = torch.tensor([tokens]), torch.tensor([offsets])
    with torch.inference_mode():
        model.eval()
        cond = model(x, o, torch.tensor([0.7]), torch.tensor([-0.4]))[0, -1]
        decoded = Decoder(model, int8=False).prefill(tokens, offsets, 0.7, -0.4)
    assert torch.allclose(decoded, cond, atol=1e-5)  # no lever between the model and sampling


def test_the_chord_before_a_cut_is_what_the_midi_lets_sound():
    from emsync_core.music.cut_rule import heard_before
    from emsync_core.music.events import DRUMS, KEYS, MAX_NOTE_STEPS, STRINGS

    sounding = {
        (KEYS, 62): 40,  # struck before the previous cut (step 50): released there
        (KEYS, 64): 60,
        (STRINGS, 67): 61,
        (DRUMS, 36): 60,  # unpitched
        (KEYS, 71): 99,  # struck one step before: not yet part of what was heard
    }
    ended = [(0, 55, 99), (9, 52, 90)]  # C ended just now; A ended long ago
    assert heard_before(sounding, ended, now=100, since=50) == {4, 7, 0}
    # A note held longer than the MIDI keeps any note is silent by the cut.
    held = {(KEYS, 65): 60}
    assert heard_before(held, [], now=60 + MAX_NOTE_STEPS + 5, since=0) == set()
    assert heard_before(held, [], now=60 + MAX_NOTE_STEPS - 5, since=0) == {5}


def test_progress_is_reported_once_per_second_of_music(model):
    plan = _random_plan(4, duration=6.0, cuts=3)
    seen: list[float] = []
    generate(plan, model, seed=4, on_progress=seen.append)
    assert seen == sorted(seen) and seen[0] > 0 and seen[-1] <= 1.0
    assert 3 <= len(seen) <= 6  # whole seconds passed; a long shift may skip one


def test_the_int8_copy_is_made_once_per_model(model):
    from emsync_core.music.model import for_decoding

    first = for_decoding(model)
    assert for_decoding(model) is first
    assert "_decoding_copy" not in dict(model.named_modules())  # never saved nor trained
    assert set(model.state_dict()) == set(EmsyncTransformer(model.config).state_dict())


def test_repetition_guard_can_be_turned_off_and_changes_the_music():
    from emsync_core.pipeline import WEIGHTS_DIR

    shipped = EmsyncTransformer.load(WEIGHTS_DIR)
    plan = plan_score([(0.0, 2.0), (2.0, 4.0)], [(0.3, 0.2)] * 2, seed=1)
    with_guard = generate(plan, shipped, seed=6).midi
    without = generate(plan, shipped, seed=6, repetition_guard=False).midi

    def notes(midi):
        return [(n.pitch, round(n.start, 4)) for i in midi.instruments for n in i.notes]

    assert notes(with_guard) != notes(without)


def test_the_midi_carries_cut_lyrics_and_a_tempo_map_within_40_to_240_bpm(model, tmp_path):
    import mido

    plan = _random_plan(6, duration=8.0, cuts=4)
    score = generate(plan, model, seed=6)
    lyrics = [(round(lyric.time, 4), lyric.text) for lyric in score.midi.lyrics]
    assert [t for t, _ in lyrics] == sorted(round(t, 4) for t in set(plan.hard_boundaries_s))
    assert all(text.startswith("CUT ") for _, text in lyrics)
    score.midi.write(str(tmp_path / "score.mid"))
    conductor = mido.MidiFile(str(tmp_path / "score.mid")).tracks[0]
    tempos = [mido.tempo2bpm(m.tempo) for m in conductor if m.type == "set_tempo"]
    assert len(tempos) >= len(plan.scenes) and all(40 <= t <= 240 for t in tempos), tempos
