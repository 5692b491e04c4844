"""Mastering from disk in chunks gives the in-memory master's result, within rounding.

The in-memory `master`/`finish_stem` are the reference (tests/test_audio.py checks their
guarantees by measurement); here the streamed versions run on the same input, with small
chunks so that many chunk boundaries fall inside loud passages, and are compared to them
sample by sample and by the same measurements.
"""

from __future__ import annotations

import numpy as np
import pretty_midi
import pyloudnorm
import pytest
import soundfile
from scipy.signal import resample_poly

from emsync_core.audio import master_stream as ms
from emsync_core.audio.master import finish_stem, loudness_lufs, master
from emsync_core.audio.render import render, render_chunks, render_stems, stem_chunks
from emsync_core.audio.stream import ArrayAudio, LoudnessMeter, RawWriter

SR = 48000


def true_peak_db(audio):
    up = resample_poly(np.asarray(audio, dtype=np.float64), 4, 1, axis=0)
    return 20 * np.log10(max(np.abs(up).max(), np.abs(audio).max()))


def peaky(seconds: float, seed: int = 0) -> np.ndarray:
    """A quiet tone with loud clicks: needs the limiter and a re-aim of the gain."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    audio = np.stack([0.02 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1)
    audio += rng.standard_normal(audio.shape) * 0.002
    audio[rng.integers(0, len(audio), int(seconds * 4))] = 0.9
    return audio


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 12288 samples (0.26 s): many boundaries, each one a chance to differ."""
    monkeypatch.setattr(ms, "chunk_size", lambda sample_rate, hop: 12288)


def test_loudness_meter_is_pyloudnorm_in_chunks():
    rng = np.random.default_rng(4)
    for n in (SR // 2 + 7, 3 * SR + 17, 11 * SR):
        x = rng.standard_normal((n, 2)) * 0.05 * np.linspace(0, 1, n)[:, None] ** 3
        meter = LoudnessMeter(SR, n)
        for begin in range(0, n, 5000):  # a chunk size unrelated to the 4800-sample step
            meter.feed(x[begin : begin + 5000])
        assert meter.integrated() == pytest.approx(
            pyloudnorm.Meter(SR).integrated_loudness(x), abs=1e-9
        )


@pytest.mark.parametrize("seconds", [0.2, 5.0, 9.37])
def test_master_file_equals_master_in_memory(tmp_path, seconds):
    audio = peaky(seconds) * (3.0 if seconds < 0.4 else 1.0)  # the short one is over 0 dBFS
    n = len(audio) - 123  # cut, as the timeline length does
    expected, gain = master(audio, SR, n)
    out = tmp_path / "score.wav"
    result = ms.master_file(ArrayAudio(audio), out, SR, n)
    written, rate = soundfile.read(out, dtype="float64", always_2d=True)
    assert rate == SR and written.shape == (n, 2)
    assert soundfile.info(out).subtype == "PCM_24"
    assert result.gain == pytest.approx(gain, rel=1e-9)
    np.testing.assert_allclose(written, expected, atol=2.0**-22)  # 24-bit rounding
    assert true_peak_db(written) <= -1.0 + 0.1
    if seconds > 0.4:
        assert abs(loudness_lufs(written, SR) + 16.0) <= 0.1
        assert result.loudness_lufs == pytest.approx(loudness_lufs(written, SR), abs=0.01)


def test_master_file_silence(tmp_path):
    out = tmp_path / "s.wav"
    result = ms.master_file(ArrayAudio(np.zeros((SR, 2))), out, SR, 2 * SR)
    written, _ = soundfile.read(out, always_2d=True)
    assert written.shape == (2 * SR, 2) and not written.any() and result.gain == 1.0


def test_finish_stem_file_equals_finish_stem(tmp_path):
    stem = peaky(4.0, seed=5) * 4  # passes the ceiling alone at gain 2
    expected = finish_stem(stem, SR, 3 * SR, gain=2.0)
    out = tmp_path / "stem.wav"
    ms.finish_stem_file(ArrayAudio(stem), out, SR, 3 * SR, gain=2.0)
    written, _ = soundfile.read(out, dtype="float64", always_2d=True)
    np.testing.assert_allclose(written, expected, atol=2.0**-22)
    assert true_peak_db(written) <= -1.0 + 0.1


def test_raw_file_round_trip_and_chunked_stems(tmp_path):
    pm = pretty_midi.PrettyMIDI()
    for program, drum in ((0, False), (48, False), (0, True)):
        inst = pretty_midi.Instrument(program, is_drum=drum, name=f"p{program}{drum}")
        for k in range(30):
            pitch = 36 + k % 10 if drum else 60 + k % 12
            inst.notes.append(pretty_midi.Note(90, pitch, k * 0.37, k * 0.37 + 0.5))
        pm.instruments.append(inst)
    n = 13 * SR + 5
    whole = render_stems(pm, n_samples=n)
    writers = {name: RawWriter(tmp_path / f"{name}.f32") for name in whole}
    for _, chunks in stem_chunks(pm, n_samples=n, chunk=12288):
        for name, chunk in chunks.items():
            writers[name].write(chunk)
    for name, writer in writers.items():
        raw = writer.close()
        assert raw.frames == n
        np.testing.assert_array_equal(raw.read(-10, n + 10)[10:-10], whole[name])
        assert not raw.read(-10, 0).any() and not raw.read(n, n + 10).any()

    mix = np.concatenate([part for _, part in render_chunks(pm, n_samples=n, chunk=12288)])
    np.testing.assert_array_equal(mix, render(pm, n_samples=n))


def test_limiter_curve_is_the_same_in_any_segment_size():
    from emsync_core.audio.master import limiter_curve

    rng = np.random.default_rng(6)
    peaks = np.abs(rng.standard_normal(20_011)) * rng.choice([0.2, 3.0], 20_011, p=[0.995, 0.005])
    whole = limiter_curve(peaks, SR, 0.89, segment=len(peaks))
    assert whole.min() < 0.5 and whole.max() > 0.999  # it limits, and lets go
    for segment in (1, 6, 7, 4096):
        np.testing.assert_allclose(
            limiter_curve(peaks, SR, 0.89, segment=segment), whole, rtol=1e-12
        )
