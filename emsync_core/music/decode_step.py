"""One decoding step at batch 1: a token appended to a filled KV cache, in functional ops.

`EmsyncTransformer.forward` serves training and prefill: batches, masks, dropout, module
calls. At batch 1 a 4 x 256 model's step does about 0.7 ms of arithmetic on 2 cores, and
forward spent another 1 ms around it in Python: some 40 module calls, views, the boundary
offset's MLP and the learned key profile recomputed every step (profiled in session 11).
`CachedStep` does the same arithmetic in the same order, with what is fixed for a decoder
computed once (the key's embedding and profile, each boundary value's embedding), so its
logits are bit-identical to forward's (tests/test_decode_step.py) and a step is about 1.5x
faster (benchmarks/bench_decode.py).

Only the cached one-token case is here; prefill, training and batches go through forward.
"""

from __future__ import annotations

from collections.abc import Callable

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
        self.heads = config.n_head
        self.head_dim = config.d_model // config.n_head
        device = model.tok_emb.weight.device
        if key is None:
            key = torch.tensor([NULL_KEY], device=device)
        self.key_add = None if model.key_emb is None else model.key_emb(key.long())[0]
        self.key_bias = None if model.key_emb is None else model.key_bias(key, 1)[0]
        self.boundary: dict[float, torch.Tensor] = {}
        self.device = device
        self.layers = [_Layer.of(block) for block in model.blocks]

    def _boundary(self, offset: float) -> torch.Tensor:
        """The boundary signal's embedding for `offset` seconds, as forward computes it
        (float32 offset, 8 - min(t, 8), the MLP), kept per value: a score has few."""
        emb = self.boundary.get(offset)
        if emb is None:
            t = torch.tensor([[offset]], device=self.device)
            signal = MAX_OFFSET_S - torch.clamp(t.float(), max=MAX_OFFSET_S)
            emb = self.model.boundary_emb(signal)[0, 0]
            self.boundary[offset] = emb
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
            x = layer(x, index, cache, start, rope, self.heads, self.head_dim)
        cache.length = start + 1
        logits = model.head(F.layer_norm(x, (self.width,), *_norm(model.ln_f)))[0, 0]
        if self.key_bias is not None:
            logits = logits + self.key_bias.to(logits.dtype)
        return logits


def _norm(ln: torch.nn.LayerNorm) -> tuple[torch.Tensor, torch.Tensor, float]:
    return ln.weight, ln.bias, ln.eps


class _Layer:
    """One block's parameters and linear layers' `forward`s, bound once."""

    def __init__(
        self,
        ln1: tuple,
        qkv: Callable,
        proj: Callable,
        ln2: tuple,
        fc: Callable,
        out: Callable,
    ) -> None:
        self.ln1, self.qkv, self.proj, self.ln2, self.fc, self.out = ln1, qkv, proj, ln2, fc, out

    @classmethod
    def of(cls, block: torch.nn.Module) -> _Layer:
        return cls(
            _norm(block.ln1),
            block.attn.qkv.forward,
            block.attn.proj.forward,
            _norm(block.ln2),
            block.mlp.fc.forward,
            block.mlp.proj.forward,
        )

    def __call__(
        self,
        x: torch.Tensor,
        index: int,
        cache: KVCache,
        start: int,
        rope: torch.Tensor | None,
        heads: int,
        head_dim: int,
    ) -> torch.Tensor:
        width = heads * head_dim
        qkv = self.qkv(F.layer_norm(x, (width,), *self.ln1)).view(3, heads, 1, head_dim)
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
        h = F.layer_norm(x, (width,), *self.ln2)
        return x + self.out(F.gelu(self.fc(h)))
