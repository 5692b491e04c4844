"""Issue 15: the key condition. Valence alone did not carry the mode into a model trained on
the mixed corpus, so a model may also be told the key (tonic and major/minor): the labels,
their transposition with the training augmentation, the model input, `--init` adding it to
weights trained without it, and decoding with the plan's key."""

import json

import numpy as np
import pytest
import torch

from emsync_core.music import events, labels, train
from emsync_core.music import generate as generate_module
from emsync_core.music.corpus import Corpus
from emsync_core.music.generate import Decoder, generate
from emsync_core.music.harmony import Key
from emsync_core.music.model import EmsyncTransformer, ModelConfig
from emsync_core.music.plan import plan_score
from emsync_core.music.subset import SubsetCorpus, export_subset

TINY = dict(n_layer=1, n_head=2, d_model=32, block_size=66, positions="rotary")


def test_key_indices():
    assert labels.key_index(9, "minor") == 21 and labels.key_index(2, "major") == 2
    assert labels.key_index(7, "mixolydian") == 7 and labels.key_index(2, "dorian") == 14
    assert labels.parse_key("A minor") == 21 and labels.parse_key("Eb major") == 3
    assert labels.parse_key("nonsense") == labels.NULL_KEY
    assert labels.transpose_key(21, 3) == 12  # A minor up 3 -> C minor
    assert labels.transpose_key(11, 2) == 1  # B major up 2 -> C# major
    assert labels.transpose_key(labels.NULL_KEY, 2) == labels.NULL_KEY


def test_window_key_takes_the_window_holding_most_tokens():
    piece = {"valence": 0.0, "arousal": 0.0, "key": 0}
    assert train.window_key(piece, 0, 100) == 0  # no windows: the piece's key
    piece["window_tokens"] = np.array([0, 100, 200])
    piece["window_keys"] = [21, 7, labels.NULL_KEY]
    assert train.window_key(piece, 0, 100) == 21
    assert train.window_key(piece, 80, 180) == 7  # 80 tokens in the second, 20 in the first
    assert train.window_key(piece, 210, 300) == 0  # a window without a key: the piece's


def test_corpus_keys_are_detected_per_window(corpus_dir):
    corpus = Corpus(corpus_dir)
    for piece in corpus.pieces:
        assert 0 <= piece["key"] < labels.N_KEYS
        assert len(piece["window_keys"]) == len(piece["window_tokens"])
        assert all(0 <= k <= labels.NULL_KEY for k in piece["window_keys"])


def _first_pitch(tokens) -> int:
    """Lowest pitch of the first pitched onset."""
    notes = [n for n in events.decode_events(tokens).notes if n[0] != events.DRUMS]
    first = min(n[2] for n in notes)
    return min(n[1] for n in notes if n[2] == first)


def test_the_key_label_moves_with_the_transposition(corpus_dir):
    corpus = Corpus(corpus_dir)
    cfg = train.TrainConfig(start_prob=1.0, augment=True, seq_len=64)
    sampler = train.WindowSampler(corpus, "train", cfg, np.random.default_rng(3))
    piece = sampler.pieces[0]
    sampler.pieces, sampler.weights = [piece], np.ones(1)
    piece["window_tokens"], piece["window_keys"] = np.array([0]), [21]  # A minor
    source = _first_pitch(corpus.tokens(piece)[:192])
    shifts = set()
    for _ in range(30):
        tokens, _, _, _, key, _ = sampler.window(True)
        shift = _first_pitch(tokens) - source
        assert key == labels.transpose_key(21, shift)
        shifts.add(shift)
    assert len(shifts) >= 4  # the augmentation really moved it
    sampler.cfg = train.TrainConfig(start_prob=1.0, augment=False, seq_len=64)
    assert {sampler.window(True)[4] for _ in range(5)} == {21}


def _keyed() -> EmsyncTransformer:
    torch.manual_seed(0)
    model = EmsyncTransformer(ModelConfig(**TINY, key_condition=True)).eval()
    assert not model.key_emb.weight.any()  # starts silent
    torch.nn.init.normal_(model.key_emb.weight, std=0.5)  # as if trained
    return model


def test_the_model_hears_the_key_and_null_is_the_default():
    model = _keyed()
    tokens = torch.tensor([[events.START, events.MORE_INSTRUMENTS, events.BAR]])
    offsets = torch.ones_like(tokens, dtype=torch.float32)
    v, a = torch.tensor([0.5]), torch.tensor([0.0])
    c_major = model(tokens, offsets, v, a, key=torch.tensor([0]))
    a_minor = model(tokens, offsets, v, a, key=torch.tensor([21]))
    null = model(tokens, offsets, v, a, key=torch.tensor([labels.NULL_KEY]))
    assert not torch.allclose(c_major, a_minor)
    assert torch.equal(model(tokens, offsets, v, a), null)
    plain = EmsyncTransformer(ModelConfig(**TINY)).eval()
    assert plain.key_emb is None  # the shipped kind: no key, and a key passed is ignored
    assert torch.equal(
        plain(tokens, offsets, v, a, key=torch.tensor([0])), plain(tokens, offsets, v, a)
    )


def test_the_key_reaches_every_cached_step():
    """Decoding token by token with the cache gives the logits of one full pass: the key is
    added at every position in both."""
    model = _keyed()
    tokens = [events.START, events.MORE_INSTRUMENTS, events.BAR, events.shift_token(10)]
    offsets = [1.0, 1.0, 1.0, 0.9]
    key = Key(9, "minor")
    full = model(
        torch.tensor([tokens]), torch.tensor([offsets]), torch.tensor([0.3]),
        torch.tensor([-0.2]), key=torch.tensor([21]),
    )[0, -1]  # fmt: skip
    d = Decoder(model, int8=False)
    d.prefill(tokens[:2], offsets[:2], 0.3, -0.2, key)
    d.step(tokens[2], offsets[2])
    assert torch.allclose(d.step(tokens[3], offsets[3]), full, atol=1e-5)


def test_the_decoder_passes_the_plan_key():
    model = _keyed()
    tokens, offsets = [events.START, events.MORE_INSTRUMENTS], [1.0, 1.0]
    d = Decoder(model, int8=False)
    c = d.prefill(tokens, offsets, 0.5, 0.0, Key(0, "major"))
    a = d.prefill(tokens, offsets, 0.5, 0.0, Key(9, "minor"))
    dorian = d.prefill(tokens, offsets, 0.5, 0.0, Key(9, "dorian"))  # minor by its third
    assert not torch.allclose(c, a) and torch.equal(a, dorian)
    plan = plan_score([(0.0, 3.0), (3.0, 6.0)], [(0.6, 0.2), (-0.6, -0.2)], 1)

    def notes(score) -> list:
        return [(n.pitch, n.start) for i in score.midi.instruments for n in i.notes]

    first = notes(generate(plan, model, seed=4, int8=False))
    assert first and notes(generate(plan, model, seed=4, int8=False)) == first


def test_init_adds_a_key_condition_to_weights_trained_without_one(corpus_dir, tmp_path):
    base = EmsyncTransformer(ModelConfig(**TINY))
    base.save(tmp_path / "base", {"train_config": {"seq_len": 64}})
    cfg = train.TrainConfig(
        steps=2, batch_size=2, seq_len=64, warmup=1, eval_every=2, ckpt_every=2,
        eval_batches=1, init=str(tmp_path / "base"),
        model=ModelConfig(**TINY, key_condition=True),
    )  # fmt: skip
    train.train(corpus_dir, tmp_path / "run", cfg, progress=False)
    tuned = EmsyncTransformer.load(tmp_path / "run")
    assert tuned.config.key_condition and tuned.key_emb is not None
    info = json.loads((tmp_path / "run" / "model.json").read_text())
    assert info["config"]["key_condition"] is True
    # Everything but the new embedding started from the base weights.
    with pytest.raises(Exception, match="does not fit"):
        bad = train.TrainConfig(**{**cfg.__dict__, "model": ModelConfig(**{**TINY, "d_model": 64})})
        train.train(corpus_dir, tmp_path / "bad", bad, progress=False)


def test_subsets_keep_the_keys(corpus_dir, tmp_path):
    corpus = Corpus(corpus_dir)
    export_subset(corpus_dir, tmp_path / "s.npz", 10**9, seed=1)
    sub = SubsetCorpus(tmp_path / "s.npz")
    keys = {corpus.tokens(p).tobytes(): (p["key"], p["window_keys"]) for p in corpus.pieces}
    for p in sub.pieces:
        assert (p["key"], p["window_keys"]) == keys[sub.tokens(p).tobytes()]


def test_the_key_profile_offsets_pitched_notes_by_scale_degree():
    model = _keyed()
    with torch.no_grad():
        model.key_profile.copy_(torch.arange(24, dtype=torch.float32).reshape(2, 12))
    bias = model.key_bias(torch.tensor([0, 21, labels.NULL_KEY]), 3)
    e4_keys = events.note_on(events.KEYS, 64)  # E: degree 4 of C, degree 7 of A
    a2_bass = events.note_on(events.BASS, 45)  # A: degree 9 of C, the tonic of A
    assert bias[0, e4_keys] == 4 and bias[1, e4_keys] == 12 + 7
    assert bias[0, a2_bass] == 9 and bias[1, a2_bass] == 12 + 0
    assert not bias[2].any()  # the null key: nothing
    drum = events.note_on(events.DRUMS, 38)
    assert not bias[:, drum].any() and not bias[:, events.note_off(events.KEYS, 64)].any()
    assert not bias[:, events.BAR].any()


def test_a_scene_in_a_new_key_starts_a_new_context(monkeypatch):
    """At a cut into a new key the model reads only the instrument-count token (the old
    scene's notes, re-framed, outvoted the new key); into the same key it reads on, and a
    later re-encode in the new key never brings the old scene back."""
    torch.manual_seed(0)
    # Learned positions re-encode when the context is full (a rotary model slides instead),
    # and a small context fills within a scene.
    model = EmsyncTransformer(ModelConfig(**{**TINY, "positions": "learned"}, key_condition=True))
    model.eval().context = 40
    seen: list[tuple[list[int], Key]] = []
    prefill = Decoder.prefill

    def record(self, tokens, offsets, valence, arousal, key=None):
        assert len(tokens) == len(offsets)
        seen.append((list(tokens), key))
        return prefill(self, tokens, offsets, valence, arousal, key)

    monkeypatch.setattr(Decoder, "prefill", record)
    # Scenes 1 and 2 share a key condition (mixolydian is heard as major); 3 turns minor.
    plan = plan_score([(0.0, 4.0), (4.0, 8.0), (8.0, 20.0)], [(0.6, 0.0), (0.05, 0.0), (-0.8, 0.0)])
    assert [s.key.mode for s in plan.scenes] == ["major", "mixolydian", "minor"]
    generate(plan, model, seed=3, int8=False)
    keys = [key for _, key in seen]
    second = keys.index(plan.scenes[1].key)
    third = keys.index(plan.scenes[2].key)
    assert seen[second][0][0] == events.START  # same condition: the piece goes on
    assert seen[third][0] == [events.MORE_INSTRUMENTS]  # new key: a new context
    later = [tokens for tokens, key in seen[third + 1 :]]
    assert later and all(t[0] == events.MORE_INSTRUMENTS and events.START not in t for t in later)


def test_unconstrained_notes_end_where_a_new_key_starts_a_new_context():
    """Without the cut constraint notes may ring over a cut; at a key change the new context
    never saw them, so decoding ends them there instead of leaving them to the 8-s cap."""
    torch.manual_seed(0)
    model = EmsyncTransformer(ModelConfig(**TINY, key_condition=True)).eval()
    plan = plan_score([(0.0, 6.0), (6.0, 12.0)], [(0.7, 0.3), (-0.7, 0.3)])
    assert plan.scenes[0].key != plan.scenes[1].key
    seen: dict[str, list[int]] = {}
    to_score = generate_module.to_score

    def keep_tokens(plan, tokens, *args, **kwargs):
        seen["tokens"] = list(tokens)
        return to_score(plan, tokens, *args, **kwargs)

    change = round(6.0 / events.STEP_S)
    crossing = 0
    for seed in range(4):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(generate_module, "to_score", keep_tokens)
            generate(plan, model, seed=seed, constrained=False, int8=False)
        notes = events.decode_events(seen["tokens"]).notes
        # Time may step over the cut unconstrained: the new scene starts at the first step
        # past it, and every note from before the cut that sounds there ends there.
        ends = {end for _, _, start, end in notes if start < change < end}
        assert len(ends) <= 1, (seed, sorted(ends))
        assert all(end - change < round(1.0 / events.STEP_S) for end in ends)
        crossing += len(ends)
    assert crossing  # some notes did ring over the cut
