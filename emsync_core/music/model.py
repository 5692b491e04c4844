"""The EMSYNC generator: a decoder-only transformer over the event vocabulary of `events.py`.

Read top to bottom: config, safetensors I/O, the KV cache, attention, block, model.

Input layout, as in the paper (Sulun, Viana & Davies, arXiv 2502.10154, sections 1 and 4):

    position   0          1          2      3      ...   T+1
    input      valence    arousal    x_0    x_1    ...   x_{T-1}
    predicts   -          x_0        x_1    x_2    ...   x_T

- Valence and arousal are continuous values in [-1, 1], each embedded by its own small MLP
  (1 -> d/2 -> d) into a whole sequence position ("continuous_token" mode). A NaN value means
  "unknown / dropped" and selects a learned null vector instead (condition dropout in
  training, classifier-free use at inference).
- With `key_condition`, the key (12 tonics x major/minor, `labels.key_index`; a 25th entry
  is the null key) is embedded and added to every position, as a control every token sees.
  Not in the paper: valence alone did not carry the mode into a model trained on the mixed
  corpus, and a key added to the valence position alone was not heard either
  (docs/training.md).
- Every position also gets `8 - min(t_next, 8)`, where `t_next` is the seconds from that
  token's time to the next boundary (`chords.boundary_offsets`), embedded by an MLP to d/2 and
  concatenated with a learned absolute position embedding of d/2; the d-wide result is added
  to the input (the paper's `chord_insertion='concat'`). NaN selects a learned null vector
  (boundary dropout). The two condition positions copy the first token's offset.

Positions (`ModelConfig.positions`). "learned" is the paper's absolute table above (the
shipped weights). "rotary" drops the table, embeds the boundary signal to the full width d,
and rotates queries and keys by their position (RoPE, Su et al. 2021), so attention depends
only on distances. That lets decoding slide (`EmsyncTransformer.slide`): when the cache is
full the oldest tokens are dropped, the condition positions and the instrument-count token
kept, and the cached keys are rotated back to their new, contiguous positions instead of
re-encoding everything. Positions thus never exceed the trained window.

Decoding on CPU runs an int8 copy of the blocks (`int8_for_cpu`): at batch 1 the step is a
chain of small matrix-vector products whose fp32 weights (16 MB) no longer sit in cache, and
int8 weights make it 1.4-1.6x faster (benchmarks/bench_decode.py).

Weights are stored as safetensors (written and read here without the `safetensors` package,
which the project does not depend on; the files are byte-compatible with it), the config as
JSON beside them. Nothing is ever unpickled.
"""

from __future__ import annotations

import copy
import json
import math
import struct
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..safetensors_io import read_raw
from . import events
from .events import VOCAB_SIZE
from .labels import N_KEYS, NULL_KEY

MAX_OFFSET_S = 8.0  # paper: `max_seconds_to_chord`
N_COND = 2  # condition positions: valence, arousal


@dataclass
class ModelConfig:
    vocab_size: int = VOCAB_SIZE
    block_size: int = 1216  # positions, the 2 condition positions included (paper: 1216)
    n_layer: int = 6
    n_head: int = 6
    d_model: int = 384
    dropout: float = 0.1
    # "learned": absolute position table (the shipped weights); "rotary": RoPE, can slide.
    positions: str = "learned"
    # The token stream ends every note at `events.MAX_NOTE_STEPS` with a NOTE_OFF, as the
    # MIDI does (training windows capped, decoding forces the NOTE_OFF). False for the
    # shipped weights, which were trained on uncapped tokens.
    note_off_at_cap: bool = False
    # The key (tonic and major/minor, `labels.key_index`) is embedded at every position and
    # sets a learned key profile on the output (`EmsyncTransformer.key_bias`). Valence alone
    # did not carry the mode (docs/training.md); False for the shipped weights.
    key_condition: bool = False
    # Pitch relative to the key's tonic (`key_frame.py`): framed windows and decoding move the
    # tonic to C, so the key condition tells only the mode. Needs `key_condition`.
    key_frame: bool = False

    def __post_init__(self) -> None:
        if self.positions not in ("learned", "rotary"):
            raise ValueError(f"positions must be 'learned' or 'rotary', not {self.positions!r}")
        if self.key_frame and not self.key_condition:
            raise ValueError("key_frame needs key_condition: the frame is the key's")

    @property
    def max_tokens(self) -> int:
        """Event tokens that fit beside the condition positions."""
        return self.block_size - N_COND

    def context_for(self, seq_len: int) -> int:
        """Event tokens a model trained on `seq_len`-token windows attends to: a window trains
        inputs of seq_len - 1 tokens (the last is only a target); the position rows past
        them stay random."""
        return min(int(seq_len) - 1, self.max_tokens)

    @classmethod
    def from_dict(cls, data: Mapping) -> ModelConfig:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True)
class Sampling:
    """How a model's tokens are sampled by default: nucleus (top-p) after temperature.

    The defaults are the paper's. Weights whose harness figures were measured with other
    values say so in their model.json ("sampling"), and decoding uses them: a narrow nucleus
    is tuned to one model, it is not a property of the method (docs/training.md)."""

    temperature: float = 1.3
    top_p: float = 0.6

    def __post_init__(self) -> None:
        if not (self.temperature > 0 and 0 < self.top_p <= 1):
            raise ValueError(f"sampling needs temperature > 0 and 0 < top_p <= 1, not {self}")


# ---------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header size, a JSON header, then raw little-endian data

_DTYPES: dict[torch.dtype, str] = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
_FROM_NAME = {v: k for k, v in _DTYPES.items()}


def save_safetensors(
    tensors: Mapping[str, torch.Tensor], path: Path | str, metadata: dict[str, str] | None = None
) -> None:
    """Write `tensors` to `path` in the safetensors format (atomically: temp file + rename)."""
    path = Path(path)
    header: dict[str, object] = {}
    blobs: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        data = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {
            "dtype": _DTYPES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8-byte alignment
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for blob in blobs:
            fh.write(blob)
    tmp.replace(path)


def load_safetensors(path: Path | str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors, metadata) from a safetensors file."""
    raw, metadata = read_raw(path)
    out: dict[str, torch.Tensor] = {}
    for name, (dtype_name, shape, data) in raw.items():
        dtype = _FROM_NAME[dtype_name]
        if not data:  # frombuffer rejects an empty buffer
            out[name] = torch.zeros(shape, dtype=dtype)
            continue
        out[name] = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape)
    return out, metadata


# ---------------------------------------------------------------------------------------
# KV cache: allocated once for the whole context, filled in place


class KVCache:
    """Keys and values of every layer for up to `block_size` positions.

    Preallocated so the decode step never reallocates; `length` is how many positions
    (condition positions included) are filled.
    """

    def __init__(
        self, config: ModelConfig, batch: int = 1, device: str | torch.device = "cpu"
    ) -> None:
        shape = (
            config.n_layer,
            batch,
            config.n_head,
            config.block_size,
            config.d_model // config.n_head,
        )
        # float32 even for bf16 weights: bf16 attention was measured getting slower as
        # the context grows, and cached keys keep full precision.
        self.k = torch.zeros(shape, device=device)
        self.v = torch.zeros(shape, device=device)
        self.length = 0

    def reset(self) -> None:
        self.length = 0

    def keep(self, index: torch.Tensor) -> None:
        """Keep only the positions `index` (ascending), moved to the front in that order."""
        n = int(index.numel())
        self.k[:, :, :, :n] = self.k.index_select(3, index)
        self.v[:, :, :, :n] = self.v.index_select(3, index)
        self.length = n


# ---------------------------------------------------------------------------------------
# Rotary positions (RoPE): each head's channels, taken in pairs (2i, 2i+1), are a complex
# number rotated by position x frequency_i (Su et al. 2021; the interleaved layout, so the
# rotation is one complex multiplication: the cheapest form at batch 1)


class Rotary(nn.Module):
    """The rotation of every position up to `block_size`, as (cos, sin) pairs."""

    def __init__(self, head_dim: int, block_size: int, base: float = 10000.0) -> None:
        super().__init__()
        inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
        # Real (cos, sin) pairs rather than a complex tensor, which DDP's buffer broadcast and
        # some backends do not take; not persistent: derived from the config, so the weights
        # file holds no table.
        self.register_buffer("inv_freq", inv_freq.float(), persistent=False)
        self.register_buffer("turns", _turns(torch.arange(block_size), inv_freq), persistent=False)

    def table(self, start: int, n: int) -> torch.Tensor:
        """Complex rotations (n, head_dim / 2) of positions start..start+n-1."""
        return torch.view_as_complex(self.turns[start : start + n])

    def shift(self, delta: torch.Tensor) -> torch.Tensor:
        """Complex rotations that move keys by `delta` positions (one per key, any sign)."""
        return torch.view_as_complex(_turns(delta, self.inv_freq).to(self.turns.device))


def _turns(positions: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    angles = positions.double()[:, None] * inv_freq.double()[None]
    return torch.stack([angles.cos(), angles.sin()], dim=-1).float()


def rotate(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """x (..., head_dim) rotated by `turns`, complex, broadcastable to (..., head_dim / 2)."""
    pairs = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
    return torch.view_as_real(pairs * turns).flatten(-2).to(x.dtype)


# ---------------------------------------------------------------------------------------
# The network


class SelfAttention(nn.Module):
    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.layer = layer
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)  # fused Q, K, V
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout
        self.resid_drop = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        cache: KVCache | None = None,
        rope: torch.Tensor | None = None,
    ) -> torch.Tensor:
        B, T, C = x.shape
        if rope is None:
            q, k, v = self.qkv(x).split(C, dim=2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        else:
            # Queries and keys rotated in one multiplication; keys are cached rotated (a
            # slide re-rotates them: `EmsyncTransformer.slide`).
            qkv = self.qkv(x).view(B, T, 3, self.n_head, C // self.n_head)
            q, k = rotate(qkv[:, :, :2], rope[:, None, None]).transpose(1, 3).unbind(2)
            v = qkv[:, :, 2].transpose(1, 2)
        mask: torch.Tensor | None = None
        causal = T > 1
        if cache is not None:
            start = cache.length
            cache.k[self.layer, :B, :, start : start + T] = k
            cache.v[self.layer, :B, :, start : start + T] = v
            k = cache.k[self.layer, :B, :, : start + T]
            v = cache.v[self.layer, :B, :, : start + T]
            q = q.to(k.dtype)
            if start and T > 1:
                # A chunk appended to a filled cache: query i sees the cache and chunk[:i+1].
                mask = torch.ones(T, start + T, dtype=torch.bool, device=x.device).tril(start)
                causal = False
            elif start:
                causal = False  # one new query may see everything cached
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=causal,
        )
        y = y.to(x.dtype).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_drop(self.proj(y))


class MLP(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.d_model, 4 * config.d_model)
        self.proj = nn.Linear(4 * config.d_model, config.d_model)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """Pre-LN: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = SelfAttention(config, layer)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config)

    def forward(
        self,
        x: torch.Tensor,
        cache: KVCache | None = None,
        rope: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache, rope)
        return x + self.mlp(self.ln2(x))


class ScalarEmbedding(nn.Module):
    """A continuous scalar -> vector MLP, with a learned null vector where the value is NaN."""

    def __init__(self, hidden: int, out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, out))
        self.null = nn.Parameter(torch.zeros(out))

    def forward(self, value: torch.Tensor) -> torch.Tensor:
        missing = torch.isnan(value).unsqueeze(-1)
        emb = self.net(torch.nan_to_num(value, nan=0.0).unsqueeze(-1))
        return torch.where(missing, self.null.to(emb.dtype), emb)


class EmsyncTransformer(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        assert config.d_model % config.n_head == 0 and config.d_model % 4 == 0
        self.config = config
        # Event tokens the model attends to when decoding: positions past the training window
        # keep their random initialisation, so `load` narrows this to what training covered.
        self.context = config.max_tokens
        self.sampling = Sampling()  # the weights' own, from model.json (`load`)
        d = config.d_model
        self.tok_emb = nn.Embedding(config.vocab_size, d)
        self.valence_emb = ScalarEmbedding(d // 2, d)  # paper: 1 -> 256 -> 512
        self.arousal_emb = ScalarEmbedding(d // 2, d)
        self.key_emb = nn.Embedding(N_KEYS + 1, d) if config.key_condition else None
        self.rotary: Rotary | None = None
        if config.positions == "rotary":
            self.rotary = Rotary(d // config.n_head, config.block_size)
            self.boundary_emb = ScalarEmbedding(d // 2, d)  # the whole width: no table beside it
        else:
            self.pos_emb = nn.Parameter(torch.zeros(config.block_size, d // 2))
            self.boundary_emb = ScalarEmbedding(d // 4, d // 2)  # paper: 1 -> 128 -> 256
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.vocab_size, bias=False)
        self.apply(self._init_weights)
        if self.rotary is None:
            nn.init.normal_(self.pos_emb, std=0.02)
        if self.key_emb is not None:  # starts silent: weights trained without it decode as before
            nn.init.zeros_(self.key_emb.weight)
            # A learned key profile on the output: one logit offset per mode and scale degree
            # for every pitched NOTE_ON. Every note in the data trains the same 24 numbers, so
            # it is learned in a few hundred steps where the key embedding alone, whose
            # gradient is a sum over a whole window, was not (docs/training.md).
            self.key_profile = nn.Parameter(torch.zeros(2, 12))
            pcs = torch.full((config.vocab_size,), -1, dtype=torch.long)
            for group in range(len(events.GROUPS)):
                if group != events.DRUMS:
                    for pitch in range(events.PITCH_MIN, events.PITCH_MAX + 1):
                        pcs[events.note_on(group, pitch)] = pitch % 12
            self.register_buffer("note_on_pc", pcs, persistent=False)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):  # GPT-2: residual projections scaled by depth
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        tokens: torch.Tensor,
        offsets: torch.Tensor,
        valence: torch.Tensor | None = None,
        arousal: torch.Tensor | None = None,
        cache: KVCache | None = None,
        key: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Next-token logits.

        tokens (B, T) int64; offsets (B, T) float: `t_next` in seconds per token (inf: none
        ahead, NaN: dropped). Without a cache, or with an empty one, the two condition
        positions are prepended (valence, arousal: (B,) floats, NaN = null) and the result is
        (B, T + 1, V): logits[:, j] predicts x_j. With a filled cache the tokens are appended
        after it and the result is (B, T, V): logits[:, j] predicts the token after x_j.
        With `key_condition`, key: (B,) key indices (NULL_KEY or None: null), added to every
        position of this chunk, so each cached step passes the key again.
        """
        B, T = tokens.shape
        start = cache.length if cache is not None else 0
        # 8 - min(t_next, 8): 0 means no boundary within 8 s, 8 means "now" (NaN stays NaN).
        signal = MAX_OFFSET_S - torch.clamp(offsets.float(), max=MAX_OFFSET_S)
        x = self.tok_emb(tokens)
        if start == 0:
            if valence is None or arousal is None:
                raise ValueError("the first chunk needs valence and arousal (NaN for null)")
            cond = torch.stack(
                [self.valence_emb(valence.float()), self.arousal_emb(arousal.float())], dim=1
            )
            x = torch.cat([cond.to(x.dtype), x], dim=1)
            signal = torch.cat([signal[:, :1].expand(B, N_COND), signal], dim=1)
        if self.key_emb is not None:
            if key is None:
                key = torch.full((B,), NULL_KEY, dtype=torch.long, device=tokens.device)
            x = x + self.key_emb(key.long()).unsqueeze(1).to(x.dtype)  # at every position
        n = x.shape[1]
        if start + n > self.config.block_size:
            raise ValueError(f"{start + n} positions exceed block_size {self.config.block_size}")
        rope = None
        if self.rotary is not None:
            rope = self.rotary.table(start, n)
            x = x + self.boundary_emb(signal).to(x.dtype)
        else:
            pos = self.pos_emb[start : start + n].unsqueeze(0).expand(B, n, -1)
            x = x + torch.cat([pos, self.boundary_emb(signal)], dim=-1).to(x.dtype)
        x = self.drop(x)
        for block in self.blocks:
            x = block(x, cache, rope)
        if cache is not None:
            cache.length = start + n
        if start == 0:
            x = x[:, N_COND - 1 :]  # from the arousal position on: each predicts the next token
        logits = self.head(self.ln_f(x))
        if self.key_emb is not None:
            logits = logits + self.key_bias(key, B).unsqueeze(1).to(logits.dtype)
        return logits

    def key_bias(self, key: torch.Tensor | None, batch: int) -> torch.Tensor:
        """(B, V) the key profile's offset for each pitched NOTE_ON under each row's key
        (zero for other tokens and for the null key)."""
        if key is None:
            key = torch.full((batch,), NULL_KEY, dtype=torch.long)
        key = key.long().to(self.key_profile.device)
        tonic, minor = key % 12, (key // 12).clamp(max=1)  # the null key is masked below
        degree = (self.note_on_pc[None, :] - tonic[:, None]) % 12  # (B, V)
        profile = self.key_profile[minor[:, None], degree]
        applies = (self.note_on_pc >= 0)[None, :] & (key != NULL_KEY)[:, None]
        return torch.where(applies, profile, torch.zeros((), device=profile.device))

    def slide(self, cache: KVCache, keep: torch.Tensor) -> None:
        """Keep only the cached positions `keep` (ascending indices), moved to positions
        0..len(keep)-1, their keys rotated by how far they moved. Rotary positions only.

        Exact for the first layer: its keys and values depend only on each token, its
        boundary offset and (through the rotation) its position. Deeper layers keep what the
        dropped tokens contributed to the kept ones, as a model decoding the whole piece in
        one window would (StreamingLLM, Xiao et al. 2023, keeps "sink" tokens the same way:
        here the condition positions and the instrument-count token).
        """
        if self.rotary is None:
            raise ValueError("only a rotary-position model can slide its cache")
        keep = keep.to(device=cache.k.device, dtype=torch.long)
        moved = torch.arange(keep.numel(), device=keep.device) - keep
        cache.keep(keep)
        n = keep.numel()
        cache.k[:, :, :, :n] = rotate(cache.k[:, :, :, :n], self.rotary.shift(moved))

    # -- weights on disk: safetensors + JSON config ---------------------------------------

    def save(self, folder: Path | str, extra: dict | None = None) -> None:
        """`model.safetensors` and `model.json` (config, plus anything in `extra`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_safetensors(self.state_dict(), folder / "model.safetensors")
        info = {"config": asdict(self.config), **(extra or {})}
        (folder / "model.json").write_text(json.dumps(info, indent=1))

    @classmethod
    def load(cls, folder: Path | str, device: str | torch.device = "cpu") -> EmsyncTransformer:
        folder = Path(folder)
        info = json.loads((folder / "model.json").read_text())
        model = cls(ModelConfig.from_dict(info["config"]))
        tensors, _ = load_safetensors(folder / "model.safetensors")
        model.load_state_dict(tensors)
        model.sampling = Sampling(**info.get("sampling", {}))
        seq_len = info.get("train_config", {}).get("seq_len")
        if seq_len:
            model.context = model.config.context_for(seq_len)
        return model.to(device).eval()


def stretch_positions(table: torch.Tensor, trained: int, wanted: int) -> torch.Tensor:
    """A learned position table whose first `trained` event positions (after the condition
    positions) are spread over `wanted` by linear interpolation, the rows past them kept.

    Position interpolation (Chen et al. 2023, for rotary positions; ViT does the same to its
    learned table): the rows past a training window are random (validation cross-entropy
    4.5 nats/token on positions 512-1,023 of 1,024-token windows for 512-token weights, where
    the stretched table gives 1.0 before any training; `benchmarks/results/context.md`).
    """
    out = table.clone()
    where = torch.linspace(0, trained - 1, wanted, dtype=torch.float64)
    lo = where.floor().long().clamp(max=trained - 2)
    frac = (where - lo).to(table.dtype).unsqueeze(1)
    rows = table[N_COND : N_COND + trained]
    out[N_COND : N_COND + wanted] = rows[lo] * (1 - frac) + rows[lo + 1] * frac
    return out


def rotary_from_learned(state: Mapping[str, torch.Tensor], trained: int) -> dict[str, torch.Tensor]:
    """The state of a learned-position model rewritten for the rotary layout, so a rotary
    run can start from it instead of from scratch.

    A learned model adds [position row (d/2) | boundary MLP (d/2)] to each token; a rotary
    one adds a boundary MLP d wide. The rotary MLP here computes the old boundary MLP in its
    first half (its extra hidden units start at zero and so stay silent) and, in the second
    half, the mean of the `trained` event position rows: what every position had in common.
    What told positions apart now comes from the rotation, which the blocks have to learn;
    everything else (tokens, conditions, blocks, head) carries over unchanged.
    """
    out = {k: v.clone() for k, v in state.items() if k != "pos_emb"}
    mean_pos = state["pos_emb"][N_COND : N_COND + trained].mean(0)
    w1, b1 = state["boundary_emb.net.0.weight"], state["boundary_emb.net.0.bias"]
    w2, b2 = state["boundary_emb.net.2.weight"], state["boundary_emb.net.2.bias"]
    out["boundary_emb.net.0.weight"] = torch.cat([w1, torch.zeros_like(w1)])
    out["boundary_emb.net.0.bias"] = torch.cat([b1, torch.zeros_like(b1)])
    out["boundary_emb.net.2.weight"] = torch.block_diag(w2, torch.zeros_like(w2))
    out["boundary_emb.net.2.bias"] = torch.cat([b2, mean_pos])
    out["boundary_emb.null"] = torch.cat([state["boundary_emb.null"], mean_pos])
    return out


def for_decoding(model: EmsyncTransformer) -> EmsyncTransformer:
    """The model CPU decoding runs: its int8 copy (`int8_for_cpu`), made once per loaded
    model and kept on it (outside its modules, so it is never saved or trained)."""
    copy_ = model.__dict__.get("_decoding_copy")
    if copy_ is None:
        copy_ = int8_for_cpu(model)
        object.__setattr__(model, "_decoding_copy", copy_)
    return copy_


def int8_for_cpu(model: EmsyncTransformer) -> EmsyncTransformer:
    """A copy of `model` for CPU decoding whose blocks' linear layers hold int8 weights.

    PyTorch's dynamic quantization: weights quantized once per output channel, activations per
    call. The embeddings and the output head stay float32, so the logits the sampler reads
    come from a full-precision projection. Returns `model` itself where that is unavailable
    (a CPU without a quantized engine, or a PyTorch that has dropped `torch.ao.quantization`,
    which it deprecates): slower, same music up to rounding.
    """
    engines = torch.backends.quantized.supported_engines
    if next(model.parameters()).device.type != "cpu" or not {"fbgemm", "x86", "qnnpack"} & set(
        engines
    ):
        return model
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the deprecation notice; the fallback covers it
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            fast = copy.deepcopy(model)
            fast.blocks = quantize_dynamic(
                fast.blocks, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
            )
    except (ImportError, AttributeError, RuntimeError):
        return model
    return fast.eval()
