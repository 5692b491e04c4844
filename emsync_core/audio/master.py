"""Master a rendered score for delivery: exact length, fade-out, EBU R128 loudness, true peak.

Order: trim/pad to the timeline length, fade out the last second, measure integrated loudness
(ITU-R BS.1770-4 via pyloudnorm) and apply the gain that reaches the target, then hold the
true peak (4x oversampled) under the ceiling with a look-ahead limiter.

Why a limiter and not just less gain: FluidSynth renders with drums or plucked attacks often
have a peak-to-loudness ratio above 15 dB, so -16 LUFS and -1 dBTP cannot both hold by gain
alone, and turning the whole score down to the peaks would land it several LU under target.
The limiter only touches the transients above the ceiling (5 ms look-ahead ramp, 50 ms
exponential release), and the gain is re-aimed so the limited master still measures on target. The
trade-off: at those transients the mix is no longer exactly the sum of the stems. Stems get
the mix's static gain (returned by `master`) and their own limiter only where they alone
would pass the ceiling, which a single part rarely does.
"""

from __future__ import annotations

import logging
import math
import os
import uuid
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import firwin

log = logging.getLogger(__name__)

LOUDNESS_BLOCK_S = 0.4  # BS.1770 gating block: shorter audio has no integrated loudness
OVERSAMPLE = 4  # BS.1770-4 Annex 2 true-peak estimate at 48 kHz
MAX_GAIN_DB = 40.0  # never lift a near-silent render into audible noise
SILENCE_PEAK = 1e-5  # -100 dBFS, below 24-bit dither level: treated as silence
FADE_MAX_FRACTION = 0.25  # a fade never takes more than a quarter of a short clip
LIMITER_HOP_S = 0.001  # control rate of the limiter's gain curve
LIMITER_ATTACK_S = 0.005  # look-ahead: gain ramps down this long before a peak
LIMITER_RELEASE_S = 0.05  # time constant of the exponential recovery (in dB)
LOUDNESS_TOLERANCE_LU = 0.05
_TP_CHUNK = 4096  # oversampling skips quiet passages chunk by chunk
_TP_RUN = 1 << 16  # loud chunks are oversampled in runs of up to this many samples
_WAV_LIMIT_BYTES = 0xFFFFFFFF - 1024  # plain RIFF WAV sizes are 32-bit


def master(
    audio: np.ndarray,
    sample_rate: int,
    n_samples: int,
    target_lufs: float = -16.0,
    ceiling_dbtp: float = -1.0,
    fade_out_s: float = 1.0,
) -> tuple[np.ndarray, float]:
    """Return (float32 (n_samples, 2) master, linear static gain applied).

    The static gain is the loudness gain (and any final peak trim); pass it to `finish_stem`
    so the stems match the mix. Silent audio stays silent and audio shorter than 0.4 s is not
    loudness-normalised (a log message says why); the true-peak ceiling holds in every case.
    """
    x = _prepare(audio, sample_rate, n_samples, fade_out_s)
    ceiling = _db_to_gain(ceiling_dbtp)
    if len(x) == 0 or float(np.abs(x).max()) < SILENCE_PEAK:
        log.info("master: the audio is silent; loudness normalisation skipped")
        return x.astype(np.float32), 1.0
    loudness = _loudness(x, sample_rate)
    if math.isnan(loudness):
        log.warning(
            "master: %.3f s is shorter than the %.1f s loudness block; loudness normalisation "
            "skipped, only the true-peak ceiling applied",
            n_samples / sample_rate,
            LOUDNESS_BLOCK_S,
        )
        gain = min(1.0, ceiling / float(true_peak_envelope(x, floor=ceiling).max()))
        return (x * gain).astype(np.float32), gain
    if math.isinf(loudness):
        log.info("master: the audio is below the -70 LUFS gate; loudness normalisation skipped")
        return x.astype(np.float32), 1.0
    if target_lufs - loudness > MAX_GAIN_DB:
        log.warning(
            "master: the render measures %.1f LUFS; gain capped at +%.0f dB", loudness, MAX_GAIN_DB
        )
    gain = _db_to_gain(min(target_lufs - loudness, MAX_GAIN_DB))
    # Re-aiming after the limiter may add up to 6 dB; the envelope is exact down to there.
    gain_cap = min(gain * 2.0, _db_to_gain(MAX_GAIN_DB))
    envelope = true_peak_envelope(x, floor=ceiling / gain_cap)
    for _ in range(4):  # the limiter takes a little loudness off; re-aim until on target
        if float(envelope.max()) * gain <= ceiling:
            return (x * gain).astype(np.float32), float(gain)  # nothing to limit
        y = x * (gain * limiter_gain(envelope * gain, sample_rate, ceiling))[:, None]
        error = target_lufs - _loudness(y, sample_rate)
        if abs(error) <= LOUDNESS_TOLERANCE_LU or gain >= gain_cap:
            break
        gain = min(gain * _db_to_gain(error), gain_cap)
    # The gain curve moves slowly, so the limited true peak is within a hair of the ceiling;
    # a static trim removes that hair and is counted in the returned gain.
    peak = float(true_peak_envelope(y, floor=ceiling).max())
    if peak > ceiling:
        y *= ceiling / peak
        gain *= ceiling / peak
    return y.astype(np.float32), float(gain)


def finish_stem(
    stem: np.ndarray,
    sample_rate: int,
    n_samples: int,
    gain: float,
    fade_out_s: float = 1.0,
    ceiling_dbtp: float = -1.0,
) -> np.ndarray:
    """A stem with the mix's length, fade and static gain, its true peak under the ceiling.

    The ceiling is held by the same limiter as the mix but driven by the stem alone, so a
    stem is touched only where it alone would pass the ceiling (never clipped).
    """
    x = _prepare(stem, sample_rate, n_samples, fade_out_s)
    x *= gain
    ceiling = _db_to_gain(ceiling_dbtp)
    envelope = true_peak_envelope(x, floor=ceiling)
    if float(envelope.max(initial=0.0)) > ceiling:
        x *= limiter_gain(envelope, sample_rate, ceiling)[:, None]
        peak = float(true_peak_envelope(x, floor=ceiling).max())
        if peak > ceiling:
            x *= ceiling / peak
    return x.astype(np.float32)


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (EBU R128 / BS.1770-4) in LUFS.

    -inf when everything is below the -70 LUFS absolute gate (silence); nan when the audio is
    shorter than one 400 ms gating block, where integrated loudness is undefined.
    """
    return _loudness(as_stereo(audio), sample_rate)


def true_peak_dbtp(audio: np.ndarray) -> float:
    """True peak in dBTP, from a 4x oversampled estimate (-inf for digital silence)."""
    x = as_stereo(audio)
    sample_peak = float(np.abs(x).max(initial=0.0))
    # Where the cheap bound stays under the sample peak the true peak cannot be.
    peak = float(true_peak_envelope(x, floor=sample_peak).max(initial=0.0))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write 24-bit PCM WAV atomically: a temporary file beside `path`, then os.replace.

    A failure leaves neither a half-written `path` nor the temporary file. Samples are clipped
    to [-1, 1] (libsndfile would wrap them around); audio over 4 GiB is written as RF64.
    """
    path = Path(path)
    data = np.asarray(audio)
    if data.ndim not in (1, 2):
        raise ValueError(f"audio must have shape (n,) or (n, channels), got {data.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError("audio contains NaN or infinite samples")
    data = np.clip(data, -1.0, 1.0)
    channels = 1 if data.ndim == 1 else data.shape[1]
    container = "RF64" if data.shape[0] * channels * 3 > _WAV_LIMIT_BYTES else "WAV"
    # Not tempfile.mkstemp: it creates the file 0600 and the WAV would keep that mode; a
    # plain O_EXCL create honours the user's umask like any other output.
    tmp_name = str(path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp_name, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "w+b") as f:
            with soundfile.SoundFile(
                f,
                mode="w",
                samplerate=sample_rate,
                channels=channels,
                subtype="PCM_24",
                format=container,
            ) as wav:
                wav.write(data)
            f.flush()
            os.fsync(f.fileno())  # the data must be on disk before the rename makes it visible
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# Building blocks


def as_stereo(audio: np.ndarray) -> np.ndarray:
    """float64 (n, 2): mono (n,) or (n, 1) is copied to both channels."""
    x = _check_audio(np.asarray(audio, dtype=np.float64))
    if x.ndim == 1:
        x = x[:, None]
    return np.repeat(x, 2, axis=1) if x.shape[1] == 1 else x


def _check_audio(a: np.ndarray) -> np.ndarray:
    if not (a.ndim == 1 or a.ndim == 2 and a.shape[1] in (1, 2)):
        raise ValueError(f"audio must have shape (n,), (n, 1) or (n, 2), got {a.shape}")
    if not np.issubdtype(a.dtype, np.floating) and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"audio must be numeric, got {a.dtype}")
    if a.size and not np.isfinite(a.sum(dtype=np.float64)):  # one pass, no boolean temporary
        raise ValueError("audio contains NaN or infinite samples")
    return a


def fade_out(audio: np.ndarray, sample_rate: int, fade_out_s: float) -> np.ndarray:
    """Equal-power (quarter-cosine) fade to zero over the last `fade_out_s`, at most a quarter
    of the clip, in place. The last sample is exactly 0, so the file ends without a click."""
    n = min(round(fade_out_s * sample_rate), int(len(audio) * FADE_MAX_FRACTION))
    if n <= 0:
        return audio
    curve = np.cos(0.5 * np.pi * np.arange(1, n + 1) / n)
    curve[-1] = 0.0  # cos(pi/2) is 6e-17, not 0
    audio[-n:] *= curve.reshape((n,) + (1,) * (audio.ndim - 1))
    return audio


def true_peak_envelope(audio: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Per-sample true-peak estimate (n,): the largest |value| over both channels of the
    4x oversampled signal between this sample and the next.

    Exact wherever it can exceed `floor`; elsewhere an upper bound that is <= `floor`. The
    bound (a chunk's sample peak, with its neighbours', times the interpolation filter's L1
    gain) is cheap, so only loud passages are oversampled: a limiter needs exact values only
    near its ceiling, and a file's true peak only where the bound passes its sample peak.
    """
    x = as_stereo(audio)
    n = len(x)
    sample_peak = np.maximum(np.abs(x[:, 0]), np.abs(x[:, 1]))  # .max(axis=1) is 15x slower
    chunks = -(-n // _TP_CHUNK)
    padded = np.zeros(chunks * _TP_CHUNK)
    padded[:n] = sample_peak
    chunk_peak = np.pad(padded.reshape(chunks, _TP_CHUNK).max(axis=1), 1)
    # The filter reaches 10 samples each way, well inside one neighbouring chunk.
    bound = _L1_GAIN * np.maximum(np.maximum(chunk_peak[:-2], chunk_peak[1:-1]), chunk_peak[2:])
    env = np.repeat(bound, _TP_CHUNK)[:n]
    for begin, end in _runs(np.flatnonzero(bound > floor), n):
        env[begin:end] = np.maximum(sample_peak[begin:end], _interpolated_peak(x, begin, end))
    return env


def limiter_gain(envelope: np.ndarray, sample_rate: int, ceiling: float) -> np.ndarray:
    """Per-sample gain (<= 1) that keeps `envelope * gain` at or under `ceiling`.

    Works at a 1 ms control rate: the gain each block needs, a look-ahead minimum followed by
    a trailing mean (a smooth ramp that reaches every peak's gain before the peak, never
    above it), an exponential release, and a linear interpolation back to samples that
    never exceeds a block's own requirement.
    """
    n = len(envelope)
    if n == 0 or float(envelope.max()) <= ceiling:
        return np.ones(n)
    hop = limiter_hop(sample_rate)
    curve = limiter_curve(block_peaks(envelope, hop), sample_rate, ceiling)
    return curve_gain(curve, hop, 0, n)


def limiter_hop(sample_rate: int) -> int:
    """Samples per control block of the limiter (1 ms)."""
    return max(1, round(sample_rate * LIMITER_HOP_S))


def block_peaks(envelope: np.ndarray, hop: int) -> np.ndarray:
    """The largest envelope value in each `hop`-sample block (the last one zero-padded)."""
    blocks = -(-len(envelope) // hop)
    padded = np.zeros(blocks * hop)
    padded[: len(envelope)] = envelope
    return padded.reshape(blocks, hop).max(axis=1)


def limiter_curve(
    block_peak: np.ndarray, sample_rate: int, ceiling: float, segment: int = 1 << 16
) -> np.ndarray:
    """The limiter's linear gain at the centre of each control block (see `limiter_gain`),
    from each block's peak; `curve_gain` turns it into per-sample gains for any range.

    Worked out `segment` blocks at a time with the context each step needs (the look-ahead,
    the ramp, the running maximum of the release, a neighbour each side), so that a 2-hour
    reel's 7.2 million blocks need only the input and two output-sized arrays; the result is
    the same for any segment size.
    """
    n = len(block_peak)
    attack = max(1, round(LIMITER_ATTACK_S / LIMITER_HOP_S))
    tau = LIMITER_RELEASE_S / LIMITER_HOP_S
    gain_db = np.empty(n)
    running = -np.inf  # max_{j<k}(log(-ramp[j]) + j/tau), carried across segments
    for b in range(0, n, segment):
        e = min(b + segment, n)
        lo, hi = b - attack, e + attack
        need = np.zeros(hi - lo)  # 0 dB (no reduction) beyond either end
        src_lo, src_hi = max(lo, 0), min(hi, n)
        peak = np.maximum(block_peak[src_lo:src_hi], 1e-12)
        need[src_lo - lo : src_hi - lo] = np.minimum(0.0, 20.0 * np.log10(ceiling / peak))
        # Look-ahead minimum for blocks lo..e-1, then a trailing mean over attack + 1 of them.
        ahead = sliding_window_view(need, attack + 1).min(axis=1)
        ahead[: max(0, -lo)] = 0.0  # before the first block: no reduction
        ramp = sliding_window_view(ahead, attack + 1).mean(axis=1)
        ramp = np.minimum(ramp, need[attack : attack + e - b])  # float rounding in the mean
        # Exponential release of the reduction: y[k] = min(ramp[k], y[k-1] * a), a =
        # exp(-1/tau). Closed form y[k] = -exp(max_{j<=k}(log(-ramp[j]) + j/tau) - k/tau), in
        # logs so that a^-j cannot overflow on long timelines.
        k = np.arange(b, e) / tau
        with np.errstate(divide="ignore"):  # log(0) = -inf where no reduction is needed
            depth = np.log(-ramp) + k
        np.maximum.accumulate(depth, out=depth)
        np.maximum(depth, running, out=depth)
        running = float(depth[-1])
        gain_db[b:e] = -np.exp(depth - k)

    # Anchor each block centre at the minimum of it and its neighbours, so interpolating
    # between centres stays under every block's own need.
    curve = np.empty(n)
    for b in range(0, n, segment):
        e = min(b + segment, n)
        edged = np.concatenate(
            (
                gain_db[max(b - 1, 0) : b] if b else gain_db[:1],
                gain_db[b:e],
                gain_db[e : e + 1] if e < n else gain_db[n - 1 :],
            )
        )
        anchors = np.minimum(np.minimum(edged[:-2], edged[1:-1]), edged[2:])
        curve[b:e] = 10.0 ** (anchors / 20.0)
    return curve


def curve_gain(curve: np.ndarray, hop: int, begin: int, end: int) -> np.ndarray:
    """Per-sample gains for samples [begin, end): linear between control-block centres
    (held flat before the first centre and after the last), as over the whole signal."""
    first = max(0, begin // hop - 1)
    last = min(len(curve), -(-end // hop) + 1)
    centres = np.arange(first, last) * hop + (hop - 1) / 2.0
    return np.interp(np.arange(begin, end), centres, curve[first:last])


# --------------------------------------------------------------------------------------------
# Internals


def _prepare(audio: np.ndarray, sample_rate: int, n_samples: int, fade_out_s: float) -> np.ndarray:
    """float64 (n_samples, 2), faded out: the one copy master and finish_stem work on
    (converted straight into place; a float32 render is never copied twice)."""
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    a = _check_audio(np.asarray(audio))
    out = np.zeros((n_samples, 2))
    kept = min(len(a), n_samples)
    out[:kept] = a[:kept] if a.ndim == 2 else a[:kept, None]  # mono goes to both channels
    return fade_out(out, sample_rate, fade_out_s)


def _loudness(x: np.ndarray, sample_rate: int) -> float:
    if len(x) <= LOUDNESS_BLOCK_S * sample_rate:
        return math.nan
    value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(x))
    return -math.inf if math.isnan(value) else value


def _runs(chunks: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Sample ranges covering the given chunk indices, consecutive chunks merged and split
    at _TP_RUN samples (big enough for an efficient matrix product, small in memory)."""
    runs: list[tuple[int, int]] = []
    for c in chunks:
        begin, end = int(c) * _TP_CHUNK, min(n, (int(c) + 1) * _TP_CHUNK)
        if runs and runs[-1][1] == begin and end - runs[-1][0] <= _TP_RUN:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((begin, end))
    return runs


def _interpolated_peak(x: np.ndarray, begin: int, end: int) -> np.ndarray:
    """max |value| of the three interpolated points after each sample in [begin, end), both
    channels: per channel and phase, one correlation of the samples with the phase filter
    (numpy's direct correlation is ~3x faster than a matrix product over copied windows)."""
    taps = len(_PHASE_MATRIX)
    lo, hi = begin + _PHASE_DELAY - (taps - 1), end + _PHASE_DELAY
    src_lo, src_hi = max(0, lo), min(hi, len(x))
    peak = np.zeros(end - begin)
    for channel in range(2):
        segment = np.zeros(hi - lo)
        segment[src_lo - lo : src_hi - lo] = x[src_lo:src_hi, channel]  # zeros beyond the ends
        for phase in range(_PHASE_MATRIX.shape[1]):
            values = np.correlate(segment, _PHASE_MATRIX[:, phase], mode="valid")
            np.maximum(peak, np.abs(values), out=peak)
    return peak


def _phase_filters() -> tuple[np.ndarray, int]:
    """The 4x interpolator's three fractional-delay phases as a (taps, 3) matrix, and their
    common delay.

    Same Kaiser-windowed sinc as scipy's resample_poly(x, 4, 1); phase 0 is the original
    samples. Oversampled value 4j+p is sum_m f_p[m] x[j + delay - m]: the window
    x[j + delay - taps + 1 : j + delay + 1] times f_p reversed.
    """
    half = 10 * OVERSAMPLE
    h = firwin(2 * half + 1, 1.0 / OVERSAMPLE, window=("kaiser", 5.0)) * OVERSAMPLE
    phases, delays = [], set()
    for p in range(1, OVERSAMPLE):
        centre = p + half
        delays.add(centre // OVERSAMPLE)
        phases.append(h[centre % OVERSAMPLE :: OVERSAMPLE][::-1])
    if len(delays) != 1 or len({len(f) for f in phases}) != 1:
        raise AssertionError("the interpolator's phases must share length and delay")
    return np.stack(phases, axis=1), delays.pop()


_PHASE_MATRIX, _PHASE_DELAY = _phase_filters()
_L1_GAIN = float(np.abs(_PHASE_MATRIX).sum(axis=0).max())


def _db_to_gain(db: float) -> float:
    return 10.0 ** (db / 20.0)
