"""One decoding step at batch 1: a token appended to a filled KV cache, in functional ops.

`EmsyncTransformer.forward` serves training and prefill: batches, masks, dropout, module
calls. At batch 1 a 4 x 256 model's step does about 0.7 ms of arithmetic on 2 cores, and
forward spent another 1 ms around it in Python: some 40 module calls, views, the boundary
offset's MLP and the learned key profile recomputed every step (profiled in session 11).
`CachedStep` does the same arithmetic in the same order, with what is fixed for a decoder
computed once (the key's embedding and profile, each boundary value's embedding), so its
logits are bit-identical to forward's (tests/test_decode_step.py): the model step alone is
about 1.5x faster, a sampled token 1.3x (benchmarks/bench_decode.py).

Only the cached one-token case is here; prefill, training and batches go through forward.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .labels import NULL_KEY
from .model import MAX_OFFSET_S, EmsyncTransformer, KVCache, rotate


class CachedStep:
    """`model(tokens=[[token]], offsets=[[offset]], cache=cache, key=key)[0, -1]`, faster.

    Made once per (model, key); `model` may be the int8 copy (`model.for_decoding`): each
    linear layer is called through its own `forward`, float or quantized alike.
    """

    def __init__(self, model: EmsyncTransformer, key: torch.Tensor | None) -> None:
        self.model = model
        config = model.config
        self.width = config.d_model
        device = model.tok_emb.weight.device
        if key is None:
            key = torch.tensor([NULL_KEY], device=device)
        self.key_add = None if model.key_emb is None else model.key_emb(key.long())[0]
        self.key_bias = None if model.key_emb is None else model.key_bias(key, 1)[0]
        self.boundary: dict[float, torch.Tensor] = {}
        self.device = device
        self.layers = [_Layer(block, config.n_head) for block in model.blocks]

    def _boundary(self, offset: float) -> torch.Tensor:
        """The boundary signal's embedding for `offset` seconds, as forward computes it
        (8 - min(t, 8) in float32, then the MLP), kept per signal value: the tokens of one
        time step share it, and every offset past 8 s gives the same one."""
        value = float(np.float32(min(offset, MAX_OFFSET_S)))  # forward rounds to float32
        emb = self.boundary.get(value)
        if emb is None:
            if len(self.boundary) >= 4096:  # a long scene on a sliding model: stay small
                self.boundary.clear()
            t = torch.tensor([[value]], device=self.device)
            emb = self.model.boundary_emb(MAX_OFFSET_S - t)[0, 0]
            self.boundary[value] = emb
        return emb

    def __call__(self, token: int, offset: float, cache: KVCache) -> torch.Tensor:
        """(V,) logits for the token after `token`, which is appended to `cache`."""
        model, start = self.model, cache.length
        if start == 0:
            raise ValueError("a cached step needs a filled cache: prefill first")
        if start + 1 > model.config.block_size:
            raise ValueError(f"{start + 1} positions exceed block_size {model.config.block_size}")
        x = model.tok_emb.weight[token]
        if self.key_add is not None:
            x = x + self.key_add.to(x.dtype)
        rope = None
        if model.rotary is not None:
            rope = model.rotary.table(start, 1)
            x = x + self._boundary(offset).to(x.dtype)
        else:
            x = x + torch.cat([model.pos_emb[start], self._boundary(offset)]).to(x.dtype)
        x = x.view(1, 1, self.width)
        for index, layer in enumerate(self.layers):
            x = layer(x, index, cache, start, rope)
        cache.length = start + 1
        logits = model.head(F.layer_norm(x, (self.width,), *_norm(model.ln_f)))[0, 0]
        if self.key_bias is not None:
            logits = logits + self.key_bias.to(logits.dtype)
        return logits


def _norm(ln: torch.nn.LayerNorm) -> tuple[torch.Tensor, torch.Tensor, float]:
    return ln.weight, ln.bias, ln.eps


class _Layer:
    """One block's layer norms and its linear layers' bound `forward`s."""

    def __init__(self, block: torch.nn.Module, heads: int) -> None:
        self.heads = heads
        self.width = block.ln1.normalized_shape[0]
        self.ln1, self.ln2 = _norm(block.ln1), _norm(block.ln2)
        self.qkv, self.proj = block.attn.qkv.forward, block.attn.proj.forward
        self.fc, self.out = block.mlp.fc.forward, block.mlp.proj.forward

    def __call__(
        self, x: torch.Tensor, index: int, cache: KVCache, start: int, rope: torch.Tensor | None
    ) -> torch.Tensor:
        """x + attention + MLP for the token at position `start`, as `Block.forward`."""
        width, heads = self.width, self.heads
        qkv = self.qkv(F.layer_norm(x, (width,), *self.ln1)).view(3, heads, 1, width // heads)
        if rope is None:
            q, k, v = qkv.unbind(0)
        else:
            q, k = rotate(qkv[:2], rope).unbind(0)
            v = qkv[2]
        cache.k[index, 0, :, start] = k[:, 0]
        cache.v[index, 0, :, start] = v[:, 0]
        keys = cache.k[index, :1, :, : start + 1]
        values = cache.v[index, :1, :, : start + 1]
        y = F.scaled_dot_product_attention(q.unsqueeze(0).to(keys.dtype), keys, values)
        x = x + self.proj(y.to(x.dtype).view(1, 1, width))
        return x + self.out(F.gelu(self.fc(F.layer_norm(x, (width,), *self.ln2))))
