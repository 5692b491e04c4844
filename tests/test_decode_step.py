"""`decode_step.CachedStep`: the decoder's one-token step gives exactly forward's logits
(bit for bit, not approximately), for every model kind decoding meets: learned or rotary
positions, with or without the key condition, float32 or the int8 copy."""

import pytest
import torch

from emsync_core.music import events
from emsync_core.music.decode_step import CachedStep
from emsync_core.music.model import EmsyncTransformer, KVCache, ModelConfig, int8_for_cpu

KINDS = {
    "learned": ModelConfig(n_layer=2, n_head=4, d_model=32, block_size=64, dropout=0.0),
    "rotary": ModelConfig(
        n_layer=2, n_head=4, d_model=32, block_size=64, dropout=0.0, positions="rotary"
    ),
    "keyed": ModelConfig(
        n_layer=2, n_head=4, d_model=32, block_size=64, dropout=0.0, key_condition=True
    ),
}


def _model(config: ModelConfig, int8: bool) -> EmsyncTransformer:
    torch.manual_seed(3)
    model = EmsyncTransformer(config).eval()
    if model.key_emb is not None:  # a trained key profile and embedding, not the zero init
        with torch.no_grad():
            model.key_emb.weight.normal_(0, 0.1)
            model.key_profile.normal_(0, 1.0)
    return int8_for_cpu(model) if int8 else model


@pytest.mark.parametrize("int8", [False, True])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_cached_step_gives_forwards_logits_bit_for_bit(kind, int8):
    config = KINDS[kind]
    model = _model(config, int8)
    g = torch.Generator().manual_seed(5)
    tokens = torch.randint(0, events.VOCAB_SIZE, (1, 30), generator=g)
    # Offsets as decoding passes them: fractional seconds, repeats, none ahead (inf).
    offsets = [round(float(x), 3) for x in torch.rand(30, generator=g) * 10]
    offsets[12], offsets[13], offsets[20] = 2.5, 2.5, float("inf")
    key = torch.tensor([14]) if config.key_condition else None
    with torch.inference_mode():
        prefix = (
            tokens[:, :6],
            torch.tensor([offsets[:6]]),
            torch.tensor([0.3]),
            torch.tensor([-0.6]),
        )
        by_forward, by_step = KVCache(config), KVCache(config)
        model(*prefix, by_forward, key=key)
        model(*prefix, by_step, key=key)
        step = CachedStep(model, key)
        for i in range(6, 30):
            token, offset = int(tokens[0, i]), offsets[i]
            want = model(tokens[:, i : i + 1], torch.tensor([[offset]]), cache=by_forward, key=key)
            got = step(token, offset, by_step)
            assert torch.equal(got, want[0, -1]), f"step {i}"
        assert by_step.length == by_forward.length
        assert torch.equal(by_step.k, by_forward.k) and torch.equal(by_step.v, by_forward.v)


def test_a_cached_step_needs_a_prefilled_cache():
    config = KINDS["learned"]
    with pytest.raises(ValueError, match="prefill first"):
        CachedStep(_model(config, False), None)(5, 1.0, KVCache(config))
