"""`master` and `finish_stem` for audio on disk, in passes of fixed-size chunks.

The same algorithm as `master.master` (see its module docstring), reorganised so that no pass
holds more than a chunk and its margins: pass 1 measures integrated loudness and the sample
peak, pass 2 the true-peak envelope per 1 ms limiter block, then each re-aim of the limited
gain is one measuring pass, and the last pass writes the 24-bit WAV. Only the limiter's
control curve (one value per millisecond: 58 MB for two hours) is held whole.

Chunk boundaries do not change the result: chunks are multiples of the true-peak estimator's
4096-sample chunk and of the limiter hop, and each is read with a 4096-sample margin on both
sides, so every estimate sees the neighbours it would see in the whole signal
(tests/test_audio_stream.py compares the two on the same input).
"""

from __future__ import annotations

import logging
import math
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from .master import (
    _TP_CHUNK,
    _WAV_LIMIT_BYTES,
    FADE_MAX_FRACTION,
    LOUDNESS_BLOCK_S,
    LOUDNESS_TOLERANCE_LU,
    MAX_GAIN_DB,
    SILENCE_PEAK,
    _db_to_gain,
    block_peaks,
    curve_gain,
    limiter_curve,
    limiter_hop,
    true_peak_envelope,
)
from .stream import LoudnessMeter, chunk_size

log = logging.getLogger(__name__)

Reader = Callable[[int, int], np.ndarray]  # (begin, end) -> float64 (end - begin, 2)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Mastered:
    gain: float  # linear static gain applied (loudness gain and any final trim)
    loudness_lufs: float  # of the written file


def faded(source, n_samples: int, sample_rate: int, fade_out_s: float = 1.0) -> Reader:
    """A reader of `source` cut or padded to `n_samples` and faded out as `master.fade_out`
    does (equal-power, at most a quarter of the clip, last sample exactly 0)."""
    fade = min(round(fade_out_s * sample_rate), int(n_samples * FADE_MAX_FRACTION))
    curve = np.cos(0.5 * np.pi * np.arange(1, fade + 1) / fade) if fade > 0 else np.ones(0)
    if fade > 0:
        curve[-1] = 0.0
    fade_start = n_samples - fade

    def read(begin: int, end: int) -> np.ndarray:
        x = source.read(begin, end)
        if end > n_samples:
            x[max(n_samples, begin) - begin :] = 0.0
        lo, hi = max(begin, fade_start), min(end, n_samples)
        if fade > 0 and hi > lo:
            x[lo - begin : hi - begin] *= curve[lo - fade_start : hi - fade_start, None]
        return x

    return read


def scaled(read: Reader, gain: float, curve: np.ndarray | None, hop: int) -> Reader:
    """`read` times a static gain and, where given, the limiter's per-sample gain curve."""

    def out(begin: int, end: int) -> np.ndarray:
        x = read(begin, end) * gain
        if curve is not None:
            x *= curve_gain(curve, hop, begin, end)[:, None]
        return x

    return out


@dataclass
class _Scan:
    block_peak: np.ndarray | None
    loudness: float | None
    sample_peak: float


def scan(
    read: Reader,
    n: int,
    sample_rate: int,
    *,
    floor: float | None = None,
    loudness: bool = False,
    write: Callable[[np.ndarray], None] | None = None,
    chunk: int | None = None,
) -> _Scan:
    """One pass over `read`: the sample peak, and optionally the integrated loudness, the
    true-peak envelope's maximum per limiter block (exact above `floor`), and each chunk
    handed to `write`."""
    hop = limiter_hop(sample_rate)
    chunk = chunk or chunk_size(sample_rate, hop)
    margin = _TP_CHUNK
    meter = LoudnessMeter(sample_rate, n) if loudness else None
    peaks: list[np.ndarray] = []
    sample_peak = 0.0
    for begin in range(0, n, chunk):
        end = min(begin + chunk, n)
        if floor is not None:
            wide = read(begin - margin, end + margin)
            y = wide[margin : margin + end - begin]
            envelope = true_peak_envelope(wide, floor)[margin : margin + end - begin]
            peaks.append(block_peaks(envelope, hop))
        else:
            y = read(begin, end)
        if meter is not None:
            meter.feed(y)
        sample_peak = max(sample_peak, float(np.abs(y).max(initial=0.0)))
        if write is not None:
            write(y)
    block_peak = None
    if floor is not None:
        block_peak = np.concatenate(peaks) if peaks else np.zeros(0)
    return _Scan(block_peak, meter.integrated() if meter else None, sample_peak)


def master_file(
    source,
    out: Path,
    sample_rate: int,
    n_samples: int,
    target_lufs: float = -16.0,
    ceiling_dbtp: float = -1.0,
    fade_out_s: float = 1.0,
    progress: Progress | None = None,
) -> Mastered:
    """Master `source` (anything with `read(begin, end)`) into a 24-bit WAV at `out`; see
    `master.master` for the rules. Returns the gain, and the written file's loudness and
    true peak."""
    say = progress or (lambda _text: None)
    x = faded(source, n_samples, sample_rate, fade_out_s)
    ceiling = _db_to_gain(ceiling_dbtp)
    hop = limiter_hop(sample_rate)
    say("measuring loudness")
    first = scan(x, n_samples, sample_rate, loudness=True)
    loudness = first.loudness if first.loudness is not None else math.nan

    def finish(gain: float, curve: np.ndarray | None = None) -> Mastered:
        say("writing score.wav")
        return _write(scaled(x, gain, curve, hop), out, sample_rate, n_samples, gain)

    if n_samples == 0 or first.sample_peak < SILENCE_PEAK:
        log.info("master: the audio is silent; loudness normalisation skipped")
        return finish(1.0)
    if math.isnan(loudness):
        log.warning(
            "master: %.3f s is shorter than the %.1f s loudness block; loudness normalisation "
            "skipped, only the true-peak ceiling applied",
            n_samples / sample_rate,
            LOUDNESS_BLOCK_S,
        )
        peak = scan(x, n_samples, sample_rate, floor=ceiling).block_peak
        return finish(min(1.0, ceiling / float(peak.max())))
    if math.isinf(loudness):
        log.info("master: the audio is below the -70 LUFS gate; loudness normalisation skipped")
        return finish(1.0)
    if target_lufs - loudness > MAX_GAIN_DB:
        log.warning(
            "master: the render measures %.1f LUFS; gain capped at +%.0f dB", loudness, MAX_GAIN_DB
        )
    gain = _db_to_gain(min(target_lufs - loudness, MAX_GAIN_DB))
    gain_cap = min(gain * 2.0, _db_to_gain(MAX_GAIN_DB))
    say("measuring true peak")
    envelope = scan(x, n_samples, sample_rate, floor=ceiling / gain_cap).block_peak
    limited_gain, curve = gain, None
    for attempt in range(4):  # the limiter takes a little loudness off; re-aim until on target
        if float(envelope.max()) * gain <= ceiling:
            return finish(gain)  # nothing to limit
        say(f"limiting peaks (pass {attempt + 1})")
        limited_gain, curve = gain, limiter_curve(envelope * gain, sample_rate, ceiling)
        measured = scan(scaled(x, gain, curve, hop), n_samples, sample_rate, loudness=True)
        error = target_lufs - measured.loudness
        if abs(error) <= LOUDNESS_TOLERANCE_LU or gain >= gain_cap:
            break
        gain = min(gain * _db_to_gain(error), gain_cap)
    # The gain curve moves slowly, so the limited true peak is within a hair of the ceiling;
    # a static trim removes that hair and is counted in the returned gain.
    limited = scaled(x, limited_gain, curve, hop)
    peak = float(scan(limited, n_samples, sample_rate, floor=ceiling).block_peak.max())
    trim = ceiling / peak if peak > ceiling else 1.0
    return finish(limited_gain * trim, curve)


def finish_stem_file(
    source,
    out: Path,
    sample_rate: int,
    n_samples: int,
    gain: float,
    fade_out_s: float = 1.0,
    ceiling_dbtp: float = -1.0,
) -> None:
    """`master.finish_stem` for audio on disk: the mix's length, fade and static gain, and
    the true peak held under the ceiling by the stem's own limiter only where needed."""
    x = faded(source, n_samples, sample_rate, fade_out_s)
    ceiling = _db_to_gain(ceiling_dbtp)
    hop = limiter_hop(sample_rate)
    envelope = scan(scaled(x, gain, None, hop), n_samples, sample_rate, floor=ceiling).block_peak
    curve, trim = None, 1.0
    if float(envelope.max(initial=0.0)) > ceiling:
        curve = limiter_curve(envelope, sample_rate, ceiling)
        limited = scaled(x, gain, curve, hop)
        peak = float(scan(limited, n_samples, sample_rate, floor=ceiling).block_peak.max())
        trim = ceiling / peak if peak > ceiling else 1.0
    _write(scaled(x, gain * trim, curve, hop), out, sample_rate, n_samples, gain * trim)


def _write(read: Reader, path: Path, sample_rate: int, n: int, gain: float) -> Mastered:
    """Stream `read` into a 24-bit WAV atomically (temporary file beside `path`, fsync,
    rename), measuring the loudness of what is written."""
    path = Path(path)
    container = "RF64" if n * 2 * 3 > _WAV_LIMIT_BYTES else "WAV"
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "w+b") as f:
            with soundfile.SoundFile(
                f, mode="w", samplerate=sample_rate, channels=2, subtype="PCM_24", format=container
            ) as wav:

                def write(chunk: np.ndarray) -> None:
                    if not np.isfinite(chunk.sum()):
                        raise ValueError("audio contains NaN or infinite samples")
                    wav.write(np.clip(chunk, -1.0, 1.0))

                measured = scan(read, n, sample_rate, loudness=True, write=write)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    loudness = measured.loudness if measured.loudness is not None else math.nan
    return Mastered(gain=float(gain), loudness_lufs=loudness)
