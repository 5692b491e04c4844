"""What the page draws: scene thumbnails, the score's waveform and its piano roll."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

THUMB_WIDTH = 320
WAVE_BUCKETS = 2000


def thumbnail(media: str, start_s: float, end_s: float, out: Path) -> Path | None:
    """A JPEG of the frame in the middle of [start_s, end_s] of `media`, cached at `out`;
    None when the media cannot be decoded there."""
    if out.is_file() and out.stat().st_mtime >= Path(media).stat().st_mtime:
        return out
    import av
    import cv2

    target = (start_s + end_s) / 2
    try:
        with av.open(media) as container:
            stream = container.streams.video[0]
            base = stream.time_base or 1
            start = float(stream.start_time * base) if stream.start_time is not None else 0.0
            container.seek(int(max(0.0, start + target - 1.0) / base), stream=stream)
            image = None
            for frame in container.decode(stream):
                image = frame.to_ndarray(format="bgr24")
                if frame.time is not None and frame.time >= start + target:
                    break
    except (av.error.FFmpegError, IndexError, OSError, ValueError):
        return None
    if image is None:
        return None
    h, w = image.shape[:2]
    image = cv2.resize(image, (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w))))
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 82])
    if not ok:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data.tobytes())
    tmp.replace(out)
    return out


def waveform(wav: Path, buckets: int = WAVE_BUCKETS) -> dict:
    """Per-bucket min and max of the mix (both channels), read in blocks: a long score needs
    no more memory than a short one."""
    import soundfile as sf

    info = sf.info(str(wav))
    per = max(1, -(-info.frames // buckets))
    lows, highs = [], []
    for block in sf.blocks(str(wav), blocksize=per, dtype="float32", always_2d=True):
        mono = block.mean(axis=1)
        lows.append(float(mono.min()))
        highs.append(float(mono.max()))
    return {
        "duration_s": info.frames / info.samplerate,
        "min": [round(x, 4) for x in lows],
        "max": [round(x, 4) for x in highs],
    }


def piano_roll(midi: Path) -> dict:
    """Every note of score.mid (start, end, pitch, layer) and the layers' names."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(midi))
    layers, notes = [], []
    for i, instrument in enumerate(pm.instruments):
        layers.append({"name": instrument.name or f"track {i + 1}", "drum": instrument.is_drum})
        notes += [[round(n.start, 4), round(n.end, 4), n.pitch, i] for n in instrument.notes]
    notes.sort()
    pitches = np.array([n[2] for n in notes]) if notes else np.array([48, 72])
    return {
        "layers": layers,
        "notes": notes,
        "pitch_range": [int(pitches.min()), int(pitches.max())],
        "end_s": round(pm.get_end_time(), 4),
    }


def report(out: Path) -> dict | None:
    try:
        return json.loads((out / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
