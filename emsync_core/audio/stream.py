"""Audio too long to hold in memory: raw files on disk, read and measured in chunks.

A 2-hour stereo render is 2.8 GB as float32 and mastering it in memory took several copies
of that (a 57-minute timeline peaked at ~20 GB). Here the renderer appends chunks to a raw
float32 file (`RawWriter`), and the mastering passes read it back a chunk at a time
(`RawAudio.read`, plain reads rather than a memory map, so the pages read do not count
towards the process's resident memory). `LoudnessMeter` measures BS.1770-4 integrated
loudness from chunks and gives the value pyloudnorm gives for the whole signal (same
K-weighting filters, run with carried state; same block bounds and gating).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyloudnorm
from scipy.signal import lfilter, lfilter_zi

CHANNELS = 2
_ITEM = np.dtype("<f4").itemsize * CHANNELS  # bytes per stereo float32 frame


def chunk_size(sample_rate: int, hop: int, seconds: float = 2.0) -> int:
    """A chunk length (samples) that keeps every grid aligned across chunk boundaries: the
    true-peak estimator's 4096-sample chunks, the limiter's control hop and FluidSynth's
    64-sample block."""
    grid = math.lcm(4096, hop, 64)
    return grid * max(1, round(seconds * sample_rate / grid))


class RawWriter:
    """Appends float32 stereo chunks to a raw file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file = self.path.open("wb")
        self.frames = 0

    def write(self, chunk: np.ndarray) -> None:
        data = np.ascontiguousarray(chunk, dtype="<f4")
        if data.ndim != 2 or data.shape[1] != CHANNELS:
            raise ValueError(f"chunks must have shape (n, 2), got {data.shape}")
        self._file.write(data.tobytes())
        self.frames += len(data)

    def close(self) -> RawAudio:
        self._file.close()
        return RawAudio(self.path, self.frames)


class RawAudio:
    """A raw float32 stereo file of `frames` frames, read as float64 ranges."""

    def __init__(self, path: Path, frames: int) -> None:
        self.path, self.frames = Path(path), frames

    def read(self, begin: int, end: int) -> np.ndarray:
        """float64 (end - begin, 2); zeros outside [0, frames), so ranges may overhang."""
        out = np.zeros((max(0, end - begin), CHANNELS))
        lo, hi = max(begin, 0), min(end, self.frames)
        if hi > lo:
            with self.path.open("rb") as f:
                f.seek(lo * _ITEM)
                data = np.fromfile(f, dtype="<f4", count=(hi - lo) * CHANNELS)
            out[lo - begin : hi - begin] = data.reshape(-1, CHANNELS)
        return out

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class ArrayAudio:
    """An in-memory array with the same `read` as RawAudio (for tests and short audio)."""

    def __init__(self, audio: np.ndarray) -> None:
        self.audio = np.asarray(audio, dtype=np.float64)
        self.frames = len(self.audio)

    def read(self, begin: int, end: int) -> np.ndarray:
        out = np.zeros((max(0, end - begin), CHANNELS))
        lo, hi = max(begin, 0), min(end, self.frames)
        if hi > lo:
            out[lo - begin : hi - begin] = self.audio[lo:hi]
        return out


class LoudnessMeter:
    """BS.1770-4 integrated loudness of a stereo signal of known length, fed in order.

    Block j covers [int(0.4 * 0.25 * j * rate), int(0.4 * (0.25 * j + 1) * rate)), exactly
    the float expressions pyloudnorm uses, so the two agree to rounding.
    """

    BLOCK_S, STEP = 0.4, 0.25

    def __init__(self, sample_rate: int, total_frames: int) -> None:
        self.rate = sample_rate
        meter = pyloudnorm.Meter(sample_rate)
        self._stages = [(f.b, f.a, f.passband_gain) for f in meter._filters.values()]
        self._state = [
            [lfilter_zi(b, a) * 0.0 for _ in range(CHANNELS)] for b, a, _ in self._stages
        ]
        duration = total_frames / sample_rate
        self.blocks = int(np.round((duration - self.BLOCK_S) / (self.BLOCK_S * self.STEP))) + 1
        j = np.arange(max(self.blocks, 0))
        self._lower = (self.BLOCK_S * (j * self.STEP) * sample_rate).astype(np.int64)
        self._upper = (self.BLOCK_S * (j * self.STEP + 1) * sample_rate).astype(np.int64)
        # The last block may reach past the end; like a slice, it stops there (its sum is
        # still divided by the full block length, as pyloudnorm does).
        np.minimum(self._lower, total_frames, out=self._lower)
        np.minimum(self._upper, total_frames, out=self._upper)
        # Running sum of squares at every block bound, per channel.
        self._bounds = np.union1d(self._lower, self._upper)
        self._at_bound = np.zeros((len(self._bounds), CHANNELS))
        self._next_bound = 0
        self._sum = np.zeros(CHANNELS)
        self._pos = 0

    def feed(self, chunk: np.ndarray) -> None:
        x = np.asarray(chunk, dtype=np.float64)
        y = np.empty_like(x)
        for ch in range(CHANNELS):
            signal = x[:, ch]
            for stage, (b, a, gain) in enumerate(self._stages):
                signal, self._state[stage][ch] = lfilter(b, a, signal, zi=self._state[stage][ch])
                signal = gain * signal
            y[:, ch] = signal
        cumulative = np.cumsum(np.square(y), axis=0) + self._sum
        end = self._pos + len(x)
        first = self._next_bound
        last = int(np.searchsorted(self._bounds, end, side="right"))
        for k in range(first, last):
            offset = int(self._bounds[k]) - self._pos  # sum of samples before the bound
            self._at_bound[k] = self._sum if offset == 0 else cumulative[offset - 1]
        self._next_bound = last
        if len(x):
            self._sum = cumulative[-1].copy()
        self._pos = end

    def integrated(self) -> float:
        """Integrated loudness in LUFS: nan when shorter than one block, -inf when gated out."""
        if self.blocks <= 0 or self._pos <= self.BLOCK_S * self.rate:
            return math.nan
        index = {int(b): k for k, b in enumerate(self._bounds)}
        lo = self._at_bound[[index[int(v)] for v in self._lower]]
        hi = self._at_bound[[index[int(v)] for v in self._upper]]
        # (blocks, channels); differences of running sums can dip a hair under 0 in silence
        z = np.maximum(hi - lo, 0.0) / (self.BLOCK_S * self.rate)
        with np.errstate(divide="ignore"):
            block_loudness = -0.691 + 10.0 * np.log10(z.sum(axis=1))
        gated = block_loudness >= -70.0
        if not gated.any():
            return -math.inf
        relative = -0.691 + 10.0 * np.log10(z[gated].mean(axis=0).sum()) - 10.0
        gated &= block_loudness > relative
        if not gated.any():
            return -math.inf
        with np.errstate(divide="ignore"):
            return float(-0.691 + 10.0 * np.log10(z[gated].mean(axis=0).sum()))


def free_bytes(folder: Path) -> int:
    """Free space for an unprivileged writer on the file system holding `folder`."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize
