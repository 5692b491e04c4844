"""Synthetic H.264 + AAC test videos with known cuts and known "moods" (tests, benchmarks).

Each segment is one shot with its own look (brightness, saturation, hue), motion (a textured
pattern moving at `speed` pixels per frame plus moving shapes) and sound (silence, a quiet
tone, loud percussive noise bursts at `onsets_per_s`, or a speech-like band-limited babble).
Everything is drawn from a seeded generator, so a file is the same on every run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np


@dataclass(frozen=True)
class Segment:
    seconds: float
    brightness: float = 0.5  # 0..1, mean value of the picture
    saturation: float = 0.5  # 0..1
    hue: float = 20.0  # OpenCV hue, 0..180 (0 red, 30 yellow, 60 green, 110 blue)
    speed: float = 0.0  # pixels per frame of pattern motion (at 320 px width)
    contrast: float = 0.25  # texture amplitude, 0..1
    audio: str = "tone"  # "silence", "tone", "bursts", "speech"
    loudness_db: float = -30.0  # RMS dBFS of the audio
    onsets_per_s: float = 0.0
    face: bool = False  # paste `write_video(face=...)` into the middle of every frame


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    small = rng.random((h // 8 + 2, w // 8 + 2)).astype(np.float32)
    return cv2.resize(small, (w * 2, h * 2), interpolation=cv2.INTER_CUBIC)


def _picture(seg: Segment, tex: np.ndarray, i: int, w: int, h: int, scale: float) -> np.ndarray:
    off = int(round(seg.speed * scale * i))
    ox = off % w
    oy = (off // 2) % h
    t = tex[oy : oy + h, ox : ox + w]
    val = np.clip(seg.brightness + seg.contrast * (t - 0.5) * 2, 0, 1)
    sat = np.full_like(val, seg.saturation)
    hue = np.full_like(val, seg.hue) + 10 * (t - 0.5)
    hsv = np.dstack([np.mod(hue, 180), sat * 255, val * 255]).astype(np.uint8)
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    if seg.speed > 0:
        cx = int((w / 2 + seg.speed * scale * 3 * i) % w)
        cy = int(h / 2 + h / 4 * np.sin(i * 0.3))
        c = (255, 255, 255) if seg.brightness < 0.5 else (20, 20, 20)
        cv2.circle(img, (cx, cy), max(4, h // 8), c, -1)
    return img


def _audio(seg: Segment, n: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / rate
    if seg.audio == "silence":
        return np.zeros(n, np.float32)
    if seg.audio == "tone":
        x = np.sin(2 * np.pi * 220 * t) + 0.3 * np.sin(2 * np.pi * 330 * t)
    elif seg.audio == "bursts":
        x = 0.15 * rng.standard_normal(n)
        period = max(1, int(rate / max(seg.onsets_per_s, 0.1)))
        decay = np.exp(-np.arange(period) / (0.04 * rate))
        env = np.tile(decay, n // period + 1)[:n]
        x = x + env * rng.standard_normal(n) * 3
        x = x + 0.5 * np.sin(2 * np.pi * 110 * t)
    elif seg.audio == "speech":
        # Voiced babble: a 120-200 Hz pulse train through formant-like band-pass filters,
        # switched on and off at a syllable rate of ~4 Hz.
        f0 = 150 + 30 * np.sin(2 * np.pi * 0.7 * t)
        phase = np.cumsum(f0 / rate)
        pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64)
        from scipy.signal import butter, sosfilt

        x = np.zeros(n)
        for lo, hi in ((500, 900), (1100, 1700), (2300, 2900)):
            sos = butter(2, [lo, hi], btype="band", fs=rate, output="sos")
            x += sosfilt(sos, pulses)
        syll = (np.sin(2 * np.pi * 4 * t + rng.random() * 6) > -0.2).astype(np.float64)
        x = x * np.convolve(syll, np.ones(160) / 160, mode="same")
    else:
        raise ValueError(f"unknown audio kind {seg.audio}")
    rms = float(np.sqrt(np.mean(x**2))) or 1.0
    x = x / rms * 10 ** (seg.loudness_db / 20)
    return np.clip(x, -1, 1).astype(np.float32)


def write_video(
    path: str | os.PathLike,
    segments: list[Segment],
    width: int = 320,
    height: int = 180,
    fps: int = 25,
    audio_rate: int = 44_100,
    seed: int = 0,
    audio: bool = True,
    gop: int = 250,
    face: np.ndarray | None = None,
) -> list[float]:
    """Write an H.264 (+ AAC) MP4; returns the cut times (seconds) between segments.
    `face`: an RGB picture (e.g. a portrait) pasted, square and 70 % of the frame height,
    into the middle of every frame of the segments with `face=True`."""
    rng = np.random.default_rng(seed)
    container = av.open(str(path), "w")
    vs = container.add_stream("libx264", rate=fps)
    vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
    vs.options = {"preset": "ultrafast", "g": str(gop), "crf": "23"}
    ast = None
    if audio:
        ast = container.add_stream("aac", rate=audio_rate)
        ast.layout = "mono"
    scale = width / 320
    cuts: list[float] = []
    frame_no = 0
    sound: list[np.ndarray] = []
    for k, seg in enumerate(segments):
        n = int(round(seg.seconds * fps))
        if k:
            cuts.append(frame_no / fps)
        tex = _texture(rng, height, width)
        patch = None
        if seg.face:
            if face is None:
                raise ValueError("a segment asks for a face but write_video got no face picture")
            side = int(height * 0.7)
            patch = cv2.resize(
                np.asarray(face, np.uint8), (side, side), interpolation=cv2.INTER_AREA
            )
        for i in range(n):
            img = _picture(seg, tex, i, width, height, scale)
            if patch is not None:
                y0, x0 = (height - patch.shape[0]) // 2, (width - patch.shape[1]) // 2
                img[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]] = patch
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(p)
            frame_no += 1
        if audio:
            sound.append(_audio(seg, int(round(n / fps * audio_rate)), audio_rate, rng))
    for p in vs.encode():
        container.mux(p)
    if ast is not None:
        pcm = np.concatenate(sound)
        block = 1024
        for start in range(0, len(pcm), block):
            chunk = pcm[start : start + block][None, :]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), "fltp", "mono")
            frame.sample_rate = audio_rate
            frame.pts = start
            for p in ast.encode(frame):
                container.mux(p)
        for p in ast.encode():
            container.mux(p)
    container.close()
    return cuts


# Two moods that every analyser should tell apart.
EXCITED = Segment(
    3.0,
    brightness=0.75,
    saturation=0.85,
    hue=15,
    speed=12,
    contrast=0.3,
    audio="bursts",
    loudness_db=-14,
    onsets_per_s=5,
)
GLOOMY = Segment(
    3.0, brightness=0.15, saturation=0.1, hue=110, speed=0, contrast=0.05, audio="tone",
    loudness_db=-42,
)  # fmt: skip


def with_b_frames(
    src: str | os.PathLike, dst: str | os.PathLike, gop: int = 50, scenecut: bool = False
) -> None:
    """Re-encode `src` as H.264 with 3 B-frames in a fixed pattern (B-pyramid) and a keyframe
    every `gop` frames. Without `scenecut` x264 puts no I-frame at the cuts, so they fall
    wherever the pattern puts them, on B-frames too (what skipping non-reference frames must
    survive)."""
    params = (
        f"bframes=3:b-adapt=0:b-pyramid=normal:keyint={gop}:min-keyint={gop}"
        f":scenecut={40 * scenecut}"
    )
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ivs = inp.streams.video[0]
        rate = int(round(float(ivs.average_rate)))
        vs = out.add_stream("libx264", rate=rate)
        vs.width, vs.height = ivs.codec_context.width, ivs.codec_context.height
        vs.pix_fmt = "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "20", "x264-params": params}
        for i, frame in enumerate(inp.decode(ivs)):
            f = av.VideoFrame.from_ndarray(frame.to_ndarray(format="yuv420p"), format="yuv420p")
            f.pts, f.time_base = i, Fraction(1, rate)
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
