"""The EMSYNC transformer: cache equivalence, causality, learning, safetensors."""

import torch

from emsync_core.music import events
from emsync_core.music.model import (
    EmsyncTransformer,
    KVCache,
    ModelConfig,
    int8_for_cpu,
    load_safetensors,
    save_safetensors,
)
from emsync_core.pipeline import WEIGHTS_DIR

TINY = ModelConfig(n_layer=2, n_head=2, d_model=32, block_size=48, dropout=0.0)


def _inputs(seed: int, batch: int = 2, length: int = 24):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, events.VOCAB_SIZE, (batch, length), generator=g)
    offsets = torch.rand(batch, length, generator=g) * 10
    offsets[0, 3] = float("inf")  # no boundary ahead
    if batch > 1:
        offsets[1] = float("nan")  # boundary signal dropped
    valence = torch.tensor([0.4, float("nan")])[:batch]
    arousal = torch.tensor([-0.3, 0.7])[:batch]
    return tokens, offsets, valence, arousal


def test_default_size_is_cpu_friendly():
    n = EmsyncTransformer(ModelConfig()).n_params()
    assert 8e6 < n < 20e6


def test_kv_cache_matches_full_forward():
    torch.manual_seed(0)
    model = EmsyncTransformer(TINY).eval()
    tokens, offsets, valence, arousal = _inputs(1)
    with torch.no_grad():
        full = model(tokens, offsets, valence, arousal)
        cache = KVCache(TINY, batch=2)
        parts = [model(tokens[:, :7], offsets[:, :7], valence, arousal, cache)]
        parts.append(model(tokens[:, 7:12], offsets[:, 7:12], cache=cache))  # a chunk
        for i in range(12, tokens.shape[1]):  # then one token at a time
            parts.append(model(tokens[:, i : i + 1], offsets[:, i : i + 1], cache=cache))
    assert full.shape == (2, tokens.shape[1] + 1, events.VOCAB_SIZE)
    assert torch.allclose(full, torch.cat(parts, dim=1), atol=1e-5)
    assert cache.length == tokens.shape[1] + 2


def test_future_tokens_do_not_change_past_logits():
    torch.manual_seed(0)
    model = EmsyncTransformer(TINY).eval()
    tokens, offsets, valence, arousal = _inputs(2)
    changed = tokens.clone()
    changed[:, 15:] = (changed[:, 15:] + 17) % events.VOCAB_SIZE
    moved = offsets.clone()
    moved[:, 15:] += 1.0
    with torch.no_grad():
        a = model(tokens, offsets, valence, arousal)
        b = model(changed, moved, valence, arousal)
    # logits[:, j] predicts x_j from x_<j: positions up to 15 only see unchanged inputs.
    assert torch.allclose(a[:, :16], b[:, :16], atol=1e-6)
    assert not torch.allclose(a[:, 16:], b[:, 16:])


def test_conditions_change_the_output():
    torch.manual_seed(0)
    model = EmsyncTransformer(TINY).eval()
    tokens, offsets, _, _ = _inputs(3, batch=1)
    with torch.no_grad():
        sad = model(tokens, offsets, torch.tensor([-0.8]), torch.tensor([-0.8]))
        happy = model(tokens, offsets, torch.tensor([0.8]), torch.tensor([0.8]))
        null = model(tokens, offsets, torch.tensor([float("nan")]), torch.tensor([float("nan")]))
    assert torch.isfinite(null).all()
    assert not torch.allclose(sad, happy)


def test_tiny_model_overfits_a_tiny_sequence():
    torch.manual_seed(0)
    model = EmsyncTransformer(TINY)
    tokens, offsets, valence, arousal = _inputs(4, batch=1, length=32)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        logits = model(tokens[:, :-1], offsets[:, :-1], valence, arousal)
        loss = torch.nn.functional.cross_entropy(logits[0], tokens[0])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]


def test_int8_copy_predicts_like_the_shipped_model():
    model = EmsyncTransformer.load(WEIGHTS_DIR)
    fast = int8_for_cpu(model)
    assert fast is not model and fast.context == model.context
    assert type(fast.blocks[0].mlp.fc) is not torch.nn.Linear  # quantized...
    assert type(model.blocks[0].mlp.fc) is torch.nn.Linear  # ...in a copy only
    tokens, offsets, valence, arousal = _inputs(4, length=200)
    with torch.inference_mode():
        exact = model(tokens, offsets, valence, arousal).log_softmax(-1)
        cache = KVCache(model.config, batch=2)
        parts = [fast(tokens[:, :100], offsets[:, :100], valence, arousal, cache)]
        for i in range(100, tokens.shape[1]):
            parts.append(fast(tokens[:, i : i + 1], offsets[:, i : i + 1], cache=cache))
        approx = torch.cat(parts, dim=1).log_softmax(-1)
    kl = (exact.exp() * (exact - approx)).sum(-1)
    assert kl.mean() < 0.03 and kl.max() < 0.5, (kl.mean(), kl.max())
    assert (exact.argmax(-1) == approx.argmax(-1)).float().mean() > 0.85


def test_safetensors_round_trip(tmp_path):
    torch.manual_seed(0)
    model = EmsyncTransformer(TINY)
    model.save(tmp_path, {"note": "test"})
    again = EmsyncTransformer.load(tmp_path)
    assert again.config == TINY
    for (name, a), (_, b) in zip(
        model.state_dict().items(), again.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    raw = (tmp_path / "model.safetensors").read_bytes()
    assert b"pickle" not in raw[:64] and raw[8:9] == b"{"  # a JSON header, not a pickle
    mixed = {
        "bf16": torch.randn(3, 2).to(torch.bfloat16),
        "i64": torch.arange(5),
        "u8": torch.tensor([1, 2, 255], dtype=torch.uint8),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
    }
    save_safetensors(mixed, tmp_path / "mixed.safetensors", {"k": "v"})
    back, meta = load_safetensors(tmp_path / "mixed.safetensors")
    assert meta == {"k": "v"}
    for name, t in mixed.items():
        assert back[name].dtype == t.dtype and torch.equal(back[name], t), name


def test_context_is_the_trained_window(tmp_path):
    # Position rows past the training window stay random: decoding must not reach them.
    model = EmsyncTransformer(TINY)
    assert model.context == TINY.max_tokens
    model.save(tmp_path / "trained", {"train_config": {"seq_len": 20}})
    assert EmsyncTransformer.load(tmp_path / "trained").context == 19
    model.save(tmp_path / "long", {"train_config": {"seq_len": 4096}})
    assert EmsyncTransformer.load(tmp_path / "long").context == TINY.max_tokens
    model.save(tmp_path / "unknown")
    assert EmsyncTransformer.load(tmp_path / "unknown").context == TINY.max_tokens


def test_our_safetensors_files_match_the_reference_library(tmp_path):
    from safetensors.torch import load_file, save_file

    tensors = {
        "w": torch.randn(4, 3),
        "b16": torch.randn(2).to(torch.bfloat16),
        "i": torch.arange(3),
    }
    save_safetensors(tensors, tmp_path / "ours.safetensors")
    theirs = load_file(str(tmp_path / "ours.safetensors"))
    save_file(tensors, str(tmp_path / "theirs.safetensors"))
    ours, _ = load_safetensors(tmp_path / "theirs.safetensors")
    for name, t in tensors.items():
        assert torch.equal(theirs[name], t) and torch.equal(ours[name], t), name
