"""Per-scene features for the emotion classifier (numpy/scipy/OpenCV only, no downloads).

Picture (on the ~160 px samples, 2 per second): brightness and its spread (contrast), the
fraction of dark pixels (low-key lighting), saturation, colourfulness (Hasler & Suesstrunk
2003), warmth (saturation-weighted warm minus cool hue share). Motion: mean absolute luma
difference between consecutive decoded frames (cuts and flashes clipped). Editing: shot length
and the cut rate in a +-15 s neighbourhood. Sound: RMS loudness (dBFS), its spread over
100 ms frames (sudden stingers), spectral centroid, spectral-flux onset rate, and a crude
speech-presence share (voiced-band energy with syllable-rate modulation), the spectral flux,
and the median voice pitch where there is speech. Motion variation: mean change of the motion
from frame to frame. Faces (face.py, from the same pass, 2 frames per second): share of those
frames with a face and the mean expression probabilities of the two largest faces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
from scipy.signal import find_peaks, medfilt

from ..video.frames import MediaSamples
from .face import FACE_FEATURES, face_features

FEATURES = (
    "brightness",
    "contrast",
    "low_key",
    "saturation",
    "colourfulness",
    "warmth",
    "motion",
    "motion_var",
    "shot_length_s",
    "cut_rate_per_min",
    "loudness_dbfs",
    "loudness_range_db",
    "spectral_centroid_hz",
    "onset_rate",
    "spectral_flux",
    "speech",
    "speech_pitch_hz",
    *FACE_FEATURES,
)

FRAME_STATS = ("brightness", "contrast", "low_key", "saturation", "colourfulness", "warmth")
SILENCE_DB = -80.0
SPEECH_FOR_PITCH = 0.15  # speech share from which a scene's voice pitch is measured
PITCH_MIN_HZ, PITCH_MAX_HZ = 70.0, 400.0
CUT_WINDOW_S = 15.0


def frame_stats(rgb: np.ndarray) -> np.ndarray:
    """Colour statistics of one small RGB frame, in FRAME_STATS order (float32)."""
    img = rgb.astype(np.float32)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    luma = (0.299 * r + 0.587 * g + 0.114 * b) / 255.0
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hue = hsv[..., 0].astype(np.float32) * 2.0  # degrees
    sat = hsv[..., 1].astype(np.float32) / 255.0
    rg = r - g
    yb = 0.5 * (r + g) - b
    colourful = (
        math.sqrt(float(rg.std()) ** 2 + float(yb.std()) ** 2)
        + 0.3 * math.sqrt(float(rg.mean()) ** 2 + float(yb.mean()) ** 2)
    ) / 100.0
    warm = (hue < 75) | (hue >= 330)  # reds, oranges, yellows
    cool = (hue >= 165) & (hue < 285)  # cyans, blues
    weight = float(sat.sum()) + 1e-6
    warmth = (float(sat[warm].sum()) - float(sat[cool].sum())) / weight
    return np.array(
        [
            float(luma.mean()),
            float(luma.std()),
            float((luma < 0.15).mean()),
            float(sat.mean()),
            colourful,
            warmth,
        ],
        np.float32,
    )


def picture_features(samples: MediaSamples) -> dict[str, float] | None:
    if not samples.samples:
        return None
    stats = np.stack([np.asarray(s, np.float32) for s in samples.samples])
    means = stats.mean(axis=0)
    out = {name: float(v) for name, v in zip(FRAME_STATS, means, strict=True)}
    m = samples.motion[1:] if len(samples.motion) > 1 else samples.motion
    clipped = np.clip(m, 0, 0.15)
    out["motion"] = float(clipped.mean()) if len(m) else 0.0
    # Frame-to-frame variation of motion: shake, sudden moves, flicker (steady pans score low).
    # Only between neighbouring frames: with non-reference frames skipped, motion is known on
    # short runs of frames, and the jump from one run to the next is not a frame-to-frame change.
    steps = np.abs(np.diff(clipped))
    if samples.motion_times is not None and steps.size:
        times = samples.motion_times[1:] if len(samples.motion) > 1 else samples.motion_times
        steps = steps[np.diff(times) <= 1.5 / (samples.info.fps or 25.0)]
    out["motion_var"] = float(steps.mean()) if steps.size else 0.0
    return out


def audio_features(audio: np.ndarray, rate: int) -> dict[str, float] | None:
    """Loudness, loudness range, spectral centroid, onset rate and speech share of a clip."""
    n_fft, hop = 1024, 512
    if len(audio) < n_fft:
        return None
    x = audio.astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-5))
    total = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    loud = 20 * math.log10(total) if total > 1e-4 else SILENCE_DB
    if loud <= -70:
        return {
            "loudness_dbfs": loud,
            "loudness_range_db": 0.0,
            "spectral_centroid_hz": 0.0,
            "onset_rate": 0.0,
            "spectral_flux": 0.0,
            "speech": 0.0,
            "speech_pitch_hz": None,
        }
    spec = np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1))
    freqs = np.fft.rfftfreq(n_fft, 1 / rate)
    power = spec**2
    energy = power.sum(axis=1) + 1e-12
    centroid = (power * freqs).sum(axis=1) / energy
    active = db > max(db.max() - 40, -70)
    centroid_hz = float(np.average(centroid[active], weights=energy[active]))
    # Loudness range: spread of 100 ms levels among active frames (P90 - P10).
    per = max(1, int(round(0.1 * rate / hop)))
    blocks = db[: len(db) // per * per].reshape(-1, per).mean(axis=1) if len(db) >= per else db
    blocks = blocks[blocks > -70]
    loud_range = float(np.percentile(blocks, 90) - np.percentile(blocks, 10)) if len(blocks) else 0
    # Onsets: half-wave rectified spectral flux (mean dB rise per bin) over a median baseline,
    # at least 2 dB above it so steady tones and stationary noise give none.
    logmag = 20 * np.log10(spec + 1e-4)
    flux = np.maximum(np.diff(logmag, axis=0), 0).mean(axis=1)
    seconds = len(x) / rate
    # Spectral flux: mean dB rise per bin and per 32 ms frame over the active frames.
    act = active[1:]
    spectral_flux = float(flux[act].mean()) if act.any() else 0.0
    if len(flux) > 3:
        base = medfilt(flux, kernel_size=max(3, min(len(flux) // 2 * 2 - 1, 15)))
        delta = max(0.5 * float(np.std(flux)), 2.0)
        dist = max(1, int(0.08 * rate / hop))
        peaks, _ = find_peaks(flux, height=base + delta, distance=dist)
        peaks = peaks[active[1:][peaks]]
        onset_rate = len(peaks) / seconds
    else:
        onset_rate = 0.0
    # Speech: frames whose energy sits mostly in 250-3500 Hz, not noise-like (flatness), in
    # 1-s windows whose voiced-band envelope fluctuates at syllable rate (2-8 Hz).
    band = (freqs >= 250) & (freqs <= 3500)
    ratio = power[:, band].sum(axis=1) / energy
    flat = np.exp(np.mean(np.log(power + 1e-12), axis=1)) / (np.mean(power, axis=1) + 1e-12)
    voiced = active & (ratio > 0.6) & (flat < 0.2) & (db > -55)
    speech = _syllabic_share(power[:, band].sum(axis=1), voiced, rate / hop)
    pitch = _median_pitch(power, voiced, rate) if speech >= SPEECH_FOR_PITCH else None
    return {
        "loudness_dbfs": loud,
        "loudness_range_db": loud_range,
        "spectral_centroid_hz": centroid_hz,
        "onset_rate": onset_rate,
        "spectral_flux": spectral_flux,
        "speech": speech,
        "speech_pitch_hz": pitch,
    }


def _median_pitch(power: np.ndarray, voiced: np.ndarray, rate: int) -> float | None:
    """Median fundamental (Hz, 70-400) of the voiced frames: the autocorrelation of each frame
    is the inverse FFT of its power spectrum; the strongest lag in the voice range wins where
    it holds at least 30 % of the frame's energy (periodic, not noise)."""
    idx = np.flatnonzero(voiced)
    if len(idx) < 5:
        return None
    idx = idx[:: max(1, len(idx) // 200)]  # at most ~200 frames: the median does not need more
    ac = np.fft.irfft(power[idx], axis=1)
    lo, hi = int(rate / PITCH_MAX_HZ), int(rate / PITCH_MIN_HZ)
    lags = ac[:, lo : hi + 1]
    best = lags.argmax(axis=1)
    strength = lags[np.arange(len(idx)), best] / np.maximum(ac[:, 0], 1e-12)
    ok = strength > 0.3
    if ok.sum() < 3:
        return None
    return float(np.median(rate / (best[ok] + lo)))


def _syllabic_share(band_energy: np.ndarray, voiced: np.ndarray, frame_rate: float) -> float:
    win = int(round(frame_rate))  # ~1 s
    if len(band_energy) < win or win < 8:
        return float(voiced.mean()) if len(voiced) else 0.0
    hits = 0
    count = 0
    freqs = np.fft.rfftfreq(win, 1 / frame_rate)
    syl = (freqs >= 2) & (freqs <= 8)
    for start in range(0, len(band_energy) - win + 1, win // 2):
        count += 1
        seg = band_energy[start : start + win]
        v = voiced[start : start + win]
        if v.mean() < 0.3:
            continue
        env = np.log(seg + 1e-9)
        env = env - env.mean()
        if env.std() < 0.7:  # under ~3 dB of level swing: a held note, not syllables
            continue
        mod = np.abs(np.fft.rfft(env)) ** 2
        if mod[syl].sum() > 0.4 * mod[1:].sum():
            hits += 1
    return hits / count if count else 0.0


def cut_context(
    start_s: float, end_s: float, cuts: Sequence[float], total_s: float
) -> dict[str, float]:
    """Shot length and cut rate (cuts per minute within +-15 s of the scene's middle)."""
    mid = 0.5 * (start_s + end_s)
    lo, hi = max(0.0, mid - CUT_WINDOW_S), min(total_s, mid + CUT_WINDOW_S)
    span = max(hi - lo, end_s - start_s, 1e-3)
    inside = [c for c in cuts if start_s < c < end_s]
    shots = len(inside) + 1
    near = sum(1 for c in cuts if lo <= c <= hi)
    return {
        "shot_length_s": (end_s - start_s) / shots,
        "cut_rate_per_min": 60.0 * max(near, shots - 1) / span,
    }


def scene_features(
    samples: MediaSamples | None,
    start_s: float,
    end_s: float,
    cuts: Sequence[float],
    total_s: float,
) -> dict[str, float | None]:
    """All FEATURES for one scene; picture/audio entries are None where there is no data."""
    out: dict[str, float | None] = dict.fromkeys(FEATURES)
    out.update(cut_context(start_s, end_s, cuts, total_s))
    if samples is not None:
        pic = picture_features(samples)
        if pic:
            out.update(pic)
        aud = audio_features(samples.audio, samples.audio_rate)
        if aud:
            out.update(aud)
        if len(samples.face_times):
            out.update(face_features(samples.faces))
    return out
