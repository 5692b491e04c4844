"""Issue 15, the model that slides: rotary positions, the sliding KV cache, the 8-s note cap
in the tokens, and the shipped (learned-position) model decoding exactly as recorded."""

import hashlib
import platform
import re
from pathlib import Path

import pytest
import torch

from emsync_core.music import events
from emsync_core.music import generate as generate_module
from emsync_core.music.cut_rule import HELD_STEPS, Boundaries, CutRule, Masks
from emsync_core.music.decode_step import CachedStep
from emsync_core.music.generate import Decoder, generate
from emsync_core.music.model import N_COND, EmsyncTransformer, KVCache, ModelConfig, Sampling
from emsync_core.music.plan import plan_score
from emsync_core.pipeline import WEIGHTS_DIR

ROTARY = ModelConfig(
    n_layer=2, n_head=4, d_model=32, block_size=64, dropout=0.0, positions="rotary"
)


def _inputs(seed: int, batch: int, length: int):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, events.VOCAB_SIZE, (batch, length), generator=g)
    offsets = torch.rand(batch, length, generator=g) * 10
    offsets[0, 3] = float("inf")
    return (
        tokens,
        offsets,
        torch.tensor([0.4, float("nan")])[:batch],
        torch.tensor([-0.3, 0.7])[:batch],
    )


def test_rotary_forward_equals_cached_step_by_step_decoding():
    torch.manual_seed(0)
    model = EmsyncTransformer(ROTARY).eval()
    assert not hasattr(model, "pos_emb") and "rotary.cos" not in model.state_dict()
    tokens, offsets, valence, arousal = _inputs(1, 2, 40)
    with torch.no_grad():
        full = model(tokens, offsets, valence, arousal)
        cache = KVCache(ROTARY, batch=2)
        parts = [model(tokens[:, :6], offsets[:, :6], valence, arousal, cache)]
        parts.append(model(tokens[:, 6:11], offsets[:, 6:11], cache=cache))  # a chunk
        for i in range(11, 40):
            parts.append(model(tokens[:, i : i + 1], offsets[:, i : i + 1], cache=cache))
    assert torch.allclose(full, torch.cat(parts, dim=1), atol=1e-5)


def _slid_and_reencoded(layers: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of the next token after a slide (keep the conditions, the instrument token
    and the last 20 tokens), and of re-encoding exactly those tokens from scratch."""
    torch.manual_seed(0)
    config = ModelConfig(
        n_layer=layers, n_head=4, d_model=32, block_size=64, dropout=0.0, positions="rotary"
    )
    model = EmsyncTransformer(config).eval()
    tokens, offsets, valence, arousal = _inputs(2, 1, 41)
    with torch.no_grad():
        cache = KVCache(config)
        model(tokens[:, :40], offsets[:, :40], valence, arousal, cache)  # 42 positions
        kept = list(range(20, 40))  # token indices kept (cache index = token index + 2)
        model.slide(cache, torch.tensor([0, 1, 2] + [N_COND + i for i in kept]))
        assert cache.length == 23
        slid = model(tokens[:, 40:41], offsets[:, 40:41], cache=cache)[0, -1]
        keep = [0, *kept, 40]
        fresh = model(tokens[:, keep], offsets[:, keep], valence, arousal)[0, -1]
    return slid, fresh


def test_sliding_cache_equals_reencoding_the_kept_tokens():
    # One layer: keys and values depend only on token, offset and (rotated) position, so a
    # slide is exactly a re-encoding of the kept tokens.
    slid, fresh = _slid_and_reencoded(layers=1)
    assert torch.allclose(slid, fresh, atol=1e-5)
    # Deeper layers keep what the dropped tokens told the kept ones: close, not equal.
    slid, fresh = _slid_and_reencoded(layers=2)
    cos = torch.nn.functional.cosine_similarity(slid, fresh, dim=0)
    assert cos > 0.99, cos


def test_learned_positions_cannot_slide():
    model = EmsyncTransformer(ModelConfig(n_layer=1, n_head=2, d_model=32, block_size=16))
    with pytest.raises(ValueError, match="rotary"):
        model.slide(KVCache(model.config), torch.arange(3))
    with pytest.raises(ValueError, match="positions"):
        ModelConfig(positions="alibi")


def _plan(duration: float = 12.0):
    return plan_score([(0.0, duration)], [(0.3, 0.5)], 4)


def test_a_rotary_model_slides_instead_of_reencoding(monkeypatch):
    torch.manual_seed(1)
    model = EmsyncTransformer(ROTARY).eval()
    model.context = 40
    chunks: list[int] = []
    lengths: list[int] = []

    def record(module, args, kwargs):
        cache = kwargs.get("cache", args[4] if len(args) > 4 else None)
        chunks.append(args[0].shape[1])
        lengths.append(cache.length if cache is not None else 0)

    model.register_forward_pre_hook(record, with_kwargs=True)  # prefills
    step = CachedStep.__call__

    def record_step(self, token, offset, cache):  # one-token steps
        chunks.append(1)
        lengths.append(cache.length)
        return step(self, token, offset, cache)

    monkeypatch.setattr(CachedStep, "__call__", record_step)
    score = generate(_plan(), model, seed=2, int8=False)
    assert abs(score.midi.get_end_time() - 12.0) < 1e-6
    assert chunks[0] == 2 and all(n == 1 for n in chunks[1:])  # one prefill, then steps
    assert max(lengths) == N_COND + 40 - 1  # filled to the context, never past it
    drops = [a for a, b in zip(lengths, lengths[1:], strict=False) if b < a]
    assert len(drops) >= 3  # it slid, again and again
    # The front survives a slide: conditions and instrument token, at positions 0-2.
    decoder = Decoder(model, int8=False)
    decoder.prefill([events.START, events.MORE_INSTRUMENTS], [1.0, 1.0], 0.0, 0.0)
    assert decoder.front == [0, 1, 3]  # <START> (position 2) is dropped by the first slide
    for _ in range(45):
        decoder.step(300, 1.0)
    assert decoder.front == [0, 1, 2] and decoder.cache.length <= N_COND + 40


def test_the_cut_rule_forces_note_off_at_the_cap():
    masks = Masks()
    rule = CutRule(Boundaries([], []), 3000, False, masks, note_cap=True)
    on = events.note_on(events.STRINGS, 60)
    rule.observe(on)
    assert rule.due_note_off() is None
    for _ in range(7):  # 7 x 125 = 875 steps
        rule.observe(rule.clamp(events.shift_token(125)))
    shift = rule.clamp(events.shift_token(125))
    assert shift == events.shift_token(events.MAX_NOTE_STEPS - 875)  # stops at the cap
    rule.observe(shift)
    assert rule.now == events.MAX_NOTE_STEPS
    assert rule.due_note_off() == events.note_off(events.STRINGS, 60)
    rule.observe(events.note_off(events.STRINGS, 60))
    assert rule.due_note_off() is None and not rule.sounding
    plain = CutRule(Boundaries([], []), 3000, False, masks)  # the shipped model: unchanged
    plain.observe(on)
    assert plain.clamp(events.shift_token(125)) == events.shift_token(125)


def test_at_a_cut_held_notes_end_in_the_tokens_and_the_rest_quietly():
    masks = Masks()
    cut = 500  # 4 s
    rule = CutRule(Boundaries([cut], []), 3000, True, masks, note_cap=True)
    rule.observe(events.note_on(events.STRINGS, 60))  # held from 0 s
    for steps in (125, 125, 125, 65):
        rule.observe(rule.clamp(events.shift_token(steps)))
    rule.observe(events.note_on(events.KEYS, 72))  # struck 0.48 s before the cut
    rule.observe(rule.clamp(events.shift_token(125)))  # clamped to land on the cut
    assert rule.now == cut and rule.phase == "need_chord"
    # The held note's NOTE_OFF is written at the cut, as chord changes end held notes in the
    # training data; the short one is released without a token (the MIDI ends both here).
    assert set(rule.sounding) == {(events.STRINGS, 60)}
    assert rule.due_note_off() == events.note_off(events.STRINGS, 60)
    rule.observe(events.note_off(events.STRINGS, 60))
    assert rule.due_note_off() is None and not rule.sounding
    assert rule.allowed()[events.CHORD] and not rule.allowed()[events.note_off(events.KEYS, 72)]
    rule.observe(events.CHORD)
    for pitch in (48, 52, 55):
        rule.observe(events.note_on(events.KEYS, pitch))
    while rule.now < cut + events.MAX_NOTE_STEPS - 60:
        assert rule.due_note_off() is None  # the short note's cap never comes
        rule.observe(rule.clamp(events.shift_token(125)))
    # The keys struck at the cut still meet their own cap, 8 s after the cut.
    while rule.now < cut + events.MAX_NOTE_STEPS:
        rule.observe(rule.clamp(events.shift_token(125)))
    assert rule.due_note_off() == events.note_off(events.KEYS, 48)


@pytest.mark.parametrize("constrained", [False, True])
def test_decoding_writes_the_note_off_where_the_midi_ends_the_note(monkeypatch, constrained):
    torch.manual_seed(3)
    config = ModelConfig(
        n_layer=1, n_head=2, d_model=32, block_size=64, dropout=0.0, positions="rotary",
        note_off_at_cap=True,
    )  # fmt: skip
    model = EmsyncTransformer(config).eval()
    real_sample = generate_module.sample
    seen: dict[str, list[int]] = {}

    def no_note_offs(logits, allowed, *args):  # the model never releases a note itself
        allowed = allowed.clone()
        allowed[events.NOTE_OFF_BASE :] = False
        return real_sample(logits, allowed, *args)

    def keep_tokens(plan, tokens, *args, **kwargs):
        seen["tokens"] = list(tokens)
        return to_score(plan, tokens, *args, **kwargs)

    to_score = generate_module.to_score
    monkeypatch.setattr(generate_module, "sample", no_note_offs)
    monkeypatch.setattr(generate_module, "to_score", keep_tokens)
    # Under the constraint the MIDI also ends every note at a cut (the 10.5-s shot still
    # holds notes to the cap); unconstrained, notes ring over cuts.
    shots = [(0.0, 4.5), (4.5, 15.0), (15.0, 20.0)]
    plan = plan_score(shots, [(0.3, 0.5)] * len(shots), 4)
    score = generate(plan, model, seed=0, constrained=constrained, int8=False)
    end = round(20.0 / events.STEP_S)
    cuts = [round(4.5 / events.STEP_S), round(15.0 / events.STEP_S)] if constrained else []
    decoded = events.decode_events(seen["tokens"])
    capped = [n for n in decoded.notes if n[3] - n[2] == events.MAX_NOTE_STEPS]
    assert capped, "no note reached the cap"
    offs = {t for t in seen["tokens"] if t >= events.NOTE_OFF_BASE}
    assert {events.note_off(g, p) for g, p, _, _ in capped} <= offs
    # At a cut a held note ends in the tokens; a note struck just before it is left open
    # there, and the cap does not end it again later.
    assert not [n for n in decoded.notes if any(n[2] <= c - HELD_STEPS and c < n[3] for c in cuts)]
    assert not [n for n in capped if any(n[2] < c < n[3] for c in cuts)]
    if not constrained:
        assert all(n[3] - n[2] <= events.MAX_NOTE_STEPS for n in decoded.notes)
    # The MIDI is what the tokens say, with every note released at the next cut.
    midi_notes = sorted(
        (round(n.start / events.STEP_S), round(n.end / events.STEP_S), n.pitch)
        for i in score.midi.instruments
        for n in i.notes
    )
    token_notes = sorted(
        (s, min([e, s + events.MAX_NOTE_STEPS, end] + [c for c in cuts if c > s]), p)
        for _, p, s, e in decoded.notes
    )
    assert midi_notes == token_notes


def test_capped_training_tokens_end_notes_at_8_seconds():
    tokens = events.serialize([(events.STRINGS, 60, 0, 1500), (events.BASS, 40, 10, 200)], [0], [0])
    capped = events.decode_events(events.cap_notes(tokens))
    assert capped.notes == [(events.BASS, 40, 10, 200), (events.STRINGS, 60, 0, 1000)]
    assert capped.bars == [0] and capped.chords == [0]


# Token hashes of the shipped weights' fixed-seed score (margin-ft1), recorded on 2026-12-07
# (session 15) when these weights were shipped (the plan below changes key twice): decoding
# must not change under them unless on purpose. float32 decodes the same everywhere; the int8
# kernels round differently per CPU family, so int8 has one hash per family it was recorded
# on (`_cpu_family()`). On another family the int8 case is skipped with its family named:
# record the hash there and add it (a session on an AMD EPYC can record that family's).
SHIPPED_FLOAT32 = (1194, "fffd9cb7681fdd1b")
SHIPPED_INT8 = {"Intel(R) Xeon(R) Processor|avx512_vnni": (1378, "fffb8ea679be6b41")}


def _cpu_family() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = re.search(r"model name\s*:\s*(.*)", info)
    vnni = "|avx512_vnni" if "avx512_vnni" in info else ""
    return (name.group(1).strip() if name else platform.processor()) + vnni


@pytest.mark.parametrize("int8", [True, False])
def test_the_shipped_model_decodes_exactly_as_recorded(monkeypatch, int8):
    want = SHIPPED_INT8.get(_cpu_family()) if int8 else SHIPPED_FLOAT32
    if want is None:
        pytest.skip(f"no int8 hash recorded for CPU family {_cpu_family()!r}")
    seen: dict[str, list[int]] = {}
    to_score = generate_module.to_score

    def keep_tokens(plan, tokens, *args, **kwargs):
        seen["tokens"] = list(tokens)
        return to_score(plan, tokens, *args, **kwargs)

    monkeypatch.setattr(generate_module, "to_score", keep_tokens)
    model = EmsyncTransformer.load(WEIGHTS_DIR)
    assert model.config.positions == "learned" and model.config.key_frame
    plan = plan_score(
        [(0.0, 9.3), (9.3, 21.7), (21.7, 40.0)], [(0.6, 0.5), (-0.5, -0.3), (0.2, 0.8)], 7
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the shared test machine: one thread is faster and the same
    try:
        generate(plan, model, seed=11, int8=int8)
    finally:
        torch.set_num_threads(threads)
    tokens = seen["tokens"]
    assert (len(tokens), hashlib.sha256(str(tokens).encode()).hexdigest()[:16]) == want


def test_rotary_attention_matches_a_plain_reference():
    import torch.nn.functional as F

    from emsync_core.music.model import rotate

    torch.manual_seed(0)
    model = EmsyncTransformer(ROTARY).eval()
    attn = model.blocks[0].attn
    x = torch.randn(2, 7, 32)
    turns = model.rotary.table(0, 7)
    with torch.no_grad():
        fused = attn(x, None, turns)
        q, k, v = (
            t.view(2, 7, 4, 8).transpose(1, 2) for t in attn.qkv(x).split(32, dim=2)
        )  # fmt: skip
        y = F.scaled_dot_product_attention(rotate(q, turns), rotate(k, turns), v, is_causal=True)
        reference = attn.proj(y.transpose(1, 2).reshape(2, 7, 32))
    assert torch.allclose(fused, reference, atol=1e-6)
    # Distances only: the same queries and keys five positions later attend alike.
    later = model.rotary.table(5, 7)
    scores = rotate(q, turns) @ rotate(k, turns).transpose(-1, -2)
    moved = rotate(q, later) @ rotate(k, later).transpose(-1, -2)
    assert torch.allclose(scores, moved, atol=1e-5)


def test_weights_sample_with_the_values_their_model_json_gives(tmp_path):
    torch.manual_seed(2)
    EmsyncTransformer(ROTARY).save(tmp_path / "paper")
    EmsyncTransformer.load(tmp_path / "paper").save(
        tmp_path / "wide", {"sampling": {"top_p": 0.95}}
    )
    paper, wide = (EmsyncTransformer.load(tmp_path / name) for name in ("paper", "wide"))
    assert paper.sampling == Sampling(1.3, 0.6) and wide.sampling == Sampling(1.3, 0.95)

    def notes(model, **kw) -> list:
        midi = generate(_plan(6.0), model, seed=3, **kw).midi
        return [(n.pitch, n.start) for inst in midi.instruments for n in inst.notes]

    # The same weights: their own top-p is what the caller gets without asking, and an
    # explicit value still wins.
    assert notes(wide) == notes(paper, top_p=0.95) != notes(paper)
    assert notes(wide, top_p=0.6) == notes(paper)
    (tmp_path / "wide" / "model.json").write_text(
        (tmp_path / "wide" / "model.json").read_text().replace("0.95", "1.5")
    )
    with pytest.raises(ValueError, match="top_p"):
        EmsyncTransformer.load(tmp_path / "wide")
