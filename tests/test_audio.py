"""Rendering (FluidSynth) and mastering: real audio, checked by measurement."""

from __future__ import annotations

import os
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile
from scipy.signal import resample_poly

from emsync_core.audio.master import (
    fade_out,
    finish_stem,
    loudness_lufs,
    master,
    true_peak_dbtp,
    write_wav,
)
from emsync_core.audio.render import (
    DEFAULT_SOUNDFONT,
    assign_channels,
    render,
    render_stems,
    stem_names,
)
from emsync_core.errors import RenderError

SR = 48000


def _fluidsynth_missing() -> str | None:
    try:
        import fluidsynth  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"libfluidsynth unavailable ({exc}); sudo apt-get install libfluidsynth3"
    return None


needs_fluidsynth = pytest.mark.skipif(
    _fluidsynth_missing() is not None, reason=str(_fluidsynth_missing())
)


# --------------------------------------------------------------------------------------------
# Helpers


def _instrument(name: str, program: int, pitches: list[int], step: float, *, drum=False):
    inst = pretty_midi.Instrument(program=program, is_drum=drum, name=name)
    for k, pitch in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(96, pitch, k * step, k * step + step * 0.9))
    return inst


def _band_score() -> pretty_midi.PrettyMIDI:
    """Piano, bass, strings and drums for three seconds."""
    pm = pretty_midi.PrettyMIDI()
    pm.instruments = [
        _instrument("Piano", 0, [60, 64, 67, 72, 67, 64] * 2, 0.25),
        _instrument("Bass", 33, [36, 43, 36, 43], 0.75),
        _instrument("Strings", 48, [55, 60], 1.5),
        _instrument("Drums", 0, [36, 42, 38, 42] * 3, 0.25, drum=True),
    ]
    pm.instruments[2].control_changes.append(pretty_midi.ControlChange(11, 100, 0.0))
    return pm


def _generated_score(seconds: float, seed: int = 0) -> pretty_midi.PrettyMIDI:
    """Five random-walk parts, including drums, for speed measurements."""
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI()
    parts = [("piano", 0, 60, 0.25), ("bass", 33, 36, 0.5), ("strings", 48, 64, 2.0)]
    parts += [("flute", 73, 72, 0.5), ("drums", 0, 36, 0.25)]
    for name, program, base, step in parts:
        count = int(seconds / step)
        if name == "drums":
            pitches = rng.choice([36, 38, 42, 46], count).tolist()
        else:
            pitches = (base + rng.choice([0, 2, 4, 5, 7, 9, 11, 12], count)).tolist()
        pm.instruments.append(_instrument(name, program, pitches, step, drum=name == "drums"))
    return pm


def _single_note(start: float, program: int = 0, pitch: int = 60) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes.append(pretty_midi.Note(110, pitch, start, start + 0.5))
    pm.instruments = [inst]
    return pm


def _onset(audio: np.ndarray) -> int:
    """First sample above -60 dB relative to the buffer's peak."""
    level = np.abs(audio).max(axis=1)
    return int(np.argmax(level > level.max() * 1e-3))


def _reference_true_peak_db(audio: np.ndarray) -> float:
    """Independent 4x oversampled true peak, straight from scipy."""
    up = resample_poly(np.asarray(audio, dtype=np.float64), 4, 1, axis=0)
    return 20 * np.log10(max(np.abs(up).max(), np.abs(audio).max()))


def _band_spectrum(audio: np.ndarray) -> np.ndarray:
    x = audio.mean(axis=1) * np.hanning(len(audio))
    mag = np.abs(np.fft.rfft(x))
    freq = np.fft.rfftfreq(len(x), 1 / SR)
    edges = np.geomspace(50, 16000, 49)
    bands = np.array(
        [
            mag[(freq >= lo) & (freq < hi)].sum()
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    return bands / np.linalg.norm(bands)


@pytest.fixture(scope="module")
def band_mix() -> np.ndarray:
    return render(_band_score(), n_samples=4 * SR)


# --------------------------------------------------------------------------------------------
# Rendering


@needs_fluidsynth
def test_render_is_nonsilent_stereo_of_the_requested_length(band_mix):
    assert band_mix.shape == (4 * SR, 2)
    assert band_mix.dtype == np.float32
    assert np.all(np.isfinite(band_mix))
    rms = np.sqrt((band_mix.astype(np.float64) ** 2).mean(axis=0))
    assert np.all(rms > 1e-3), rms
    assert not np.allclose(band_mix[:, 0], band_mix[:, 1])  # reverb makes it really stereo


@needs_fluidsynth
def test_default_length_is_midi_end_plus_release_tail():
    pm = _band_score()
    audio = render(pm)
    assert len(audio) == round((pm.get_end_time() + 2.0) * SR)


@needs_fluidsynth
@pytest.mark.parametrize("n", [1, 63, 65, 100_001, round(Fraction(1001, 30000) * 1799 * SR)])
def test_render_length_is_exact_for_awkward_sizes(n):
    assert render(_single_note(0.0), n_samples=n).shape == (n, 2)


@needs_fluidsynth
def test_note_at_one_second_starts_at_sample_48000():
    audio = render(_single_note(1.0), n_samples=2 * SR)
    onset = _onset(audio)
    assert SR <= onset <= SR + int(0.003 * SR), onset
    assert np.abs(audio[: SR - 32]).max() < 1e-5  # silence before it (FluidSynth's floor ~1e-8)


@needs_fluidsynth
def test_event_timing_is_within_half_a_synth_block():
    reference = _onset(render(_single_note(0.5), n_samples=SR))
    # 0.5 s is on FluidSynth's 64-sample grid, so a shift by whole blocks is exact ...
    assert _onset(render(_single_note(0.5 + 640 / SR), n_samples=SR)) - reference == 640
    # ... and an off-grid time lands on the nearest block boundary (+-32 samples).
    for offset in (1, 20, 31, 33, 50, 63):
        shifted = _onset(render(_single_note(0.5 + offset / SR), n_samples=SR))
        assert abs(shifted - reference - offset) <= 32, (offset, shifted - reference)


@needs_fluidsynth
def test_different_programs_give_different_spectra():
    def melody(program: int) -> np.ndarray:
        pm = pretty_midi.PrettyMIDI()
        pm.instruments = [_instrument("m", program, [60, 64, 67, 72], 0.5)]
        return _band_spectrum(render(pm, n_samples=2 * SR))

    piano, violin, flute = melody(0), melody(40), melody(73)
    assert piano @ melody(0) > 0.9999  # deterministic
    for a, b in ((piano, violin), (piano, flute), (violin, flute)):
        assert a @ b < 0.95


@needs_fluidsynth
def test_controllers_and_pitch_bend_reach_the_synth():
    def with_events(ccs=(), bend=None) -> np.ndarray:
        pm = _single_note(0.1)
        pm.instruments[0].control_changes = [pretty_midi.ControlChange(n, v, 0.0) for n, v in ccs]
        if bend is not None:
            pm.instruments[0].pitch_bends = [pretty_midi.PitchBend(bend, 0.0)]
        return render(pm, n_samples=SR // 2).astype(np.float64)

    plain = with_events()
    assert np.abs(with_events([(7, 0)])).max() < 1e-5 * np.abs(plain).max() + 1e-6  # volume 0
    left = with_events([(10, 0)])  # pan hard left
    assert np.sqrt((left[:, 0] ** 2).mean()) > 3 * np.sqrt((left[:, 1] ** 2).mean())
    bent = with_events(bend=8191)  # +2 semitones changes the waveform, not just its level
    assert np.corrcoef(bent[:, 0], plain[:, 0])[0, 1] < 0.5


@needs_fluidsynth
def test_stems_one_per_instrument_and_sum_to_the_mix(band_mix):
    pm = _band_score()
    stems = render_stems(pm, n_samples=4 * SR)
    assert list(stems) == ["piano", "bass", "strings", "drums"]
    assert all(s.shape == band_mix.shape and s.dtype == np.float32 for s in stems.values())
    assert all(np.abs(s).max() > 1e-3 for s in stems.values())
    total = sum(s.astype(np.float64) for s in stems.values())
    correlation = np.corrcoef(total.ravel(), band_mix.ravel())[0, 1]
    assert correlation > 0.999, correlation


def test_stem_names_are_unique_and_filename_safe():
    insts = [
        pretty_midi.Instrument(0, name="Piano"),
        pretty_midi.Instrument(0, name="piano"),
        pretty_midi.Instrument(40, name=""),
        pretty_midi.Instrument(0, is_drum=True, name="  "),
        pretty_midi.Instrument(48, name="Strings / Hi: <ens>"),
        pretty_midi.Instrument(1, name="CON"),
    ]
    names = stem_names(insts)
    assert names == ["piano", "piano_2", "violin", "drums", "strings_hi_ens", "con_stem"]


def test_channels_put_drums_on_channel_9_and_refuse_a_17th_part():
    melodic = [pretty_midi.Instrument(p) for p in range(15)]
    drums = pretty_midi.Instrument(0, is_drum=True)
    setups = assign_channels([drums, *melodic])
    assert (setups[0].channel, setups[0].bank) == (9, 128)
    assert sorted(s.channel for s in setups) == list(range(16))
    with pytest.raises(RenderError, match="16 MIDI channels"):
        assign_channels([*melodic, pretty_midi.Instrument(15)])


# --------------------------------------------------------------------------------------------
# Errors


def _render_error(soundfont: Path) -> str:
    with pytest.raises(RenderError) as info:
        render(_single_note(0.0), soundfont=soundfont, n_samples=100)
    return str(info.value)


def test_missing_soundfont_is_a_render_error(tmp_path):
    message = _render_error(tmp_path / "nope.sf2")
    assert "nope.sf2" in message and "--soundfont" in message


def test_junk_sf2_is_a_render_error(tmp_path):
    junk = tmp_path / "junk.sf2"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    assert "junk.sf2" in _render_error(junk)


@needs_fluidsynth
def test_soundfont_rejected_by_fluidsynth_is_a_render_error(tmp_path):
    # A valid-looking header gets past our check; FluidSynth's sfload then fails.
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"RIFF" + (100).to_bytes(4, "little") + b"sfbk" + bytes(100))
    assert "could not load" in _render_error(fake)


def test_wrong_extension_is_a_render_error(tmp_path):
    other = tmp_path / "font.txt"
    other.write_bytes(DEFAULT_SOUNDFONT.read_bytes()[:64])
    assert ".sf2 or .sf3" in _render_error(other)


def test_env_var_overrides_the_bundled_soundfont(tmp_path, monkeypatch):
    monkeypatch.setenv("EMSYNC_SOUNDFONT", str(tmp_path / "from_env.sf3"))
    with pytest.raises(RenderError, match="from_env.sf3"):
        render(_single_note(0.0), n_samples=100)


def test_missing_libfluidsynth_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "fluidsynth":
            raise ImportError("Couldn't find the FluidSynth library.")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(RenderError, match="apt-get install --no-install-recommends libfluidsynth3"):
        render(_single_note(0.0), n_samples=100)


# --------------------------------------------------------------------------------------------
# Mastering


@needs_fluidsynth
@pytest.mark.parametrize(("target", "ceiling"), [(-16.0, -1.0), (-23.0, -1.0), (-12.0, -1.0)])
def test_master_hits_loudness_target_under_the_true_peak_ceiling(band_mix, target, ceiling):
    out, gain = master(band_mix, SR, len(band_mix), target_lufs=target, ceiling_dbtp=ceiling)
    assert out.shape == band_mix.shape and out.dtype == np.float32
    assert abs(loudness_lufs(out, SR) - target) <= 0.5
    assert _reference_true_peak_db(out) <= ceiling + 0.1
    assert gain > 0


def test_master_limits_peaky_audio_instead_of_missing_the_target():
    # Clicks over a quiet tone: peak-to-loudness ratio ~30 dB, far beyond 15 dB headroom.
    t = np.arange(5 * SR) / SR
    audio = np.stack([0.02 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1)
    audio[:: SR // 4] = 0.9
    out, _ = master(audio, SR, len(audio))
    assert abs(loudness_lufs(out, SR) + 16.0) <= 0.5
    assert _reference_true_peak_db(out) <= -1.0 + 0.1


def test_true_peak_matches_scipy_oversampling():
    rng = np.random.default_rng(1)
    audio = rng.standard_normal((SR, 2)) * 0.1
    audio[1000:1003] = [[0.9, -0.9], [-0.9, 0.9], [0.9, -0.9]]  # inter-sample overshoot
    assert true_peak_dbtp(audio) == pytest.approx(_reference_true_peak_db(audio), abs=0.02)
    assert true_peak_dbtp(audio) > 20 * np.log10(0.9) + 0.5


@pytest.mark.parametrize(
    "seconds", [Fraction(1001, 30000) * 1799, Fraction(1001, 24000) * 2, Fraction(7, 3)]
)
@pytest.mark.parametrize("source_s", [1.0, 3.0])
def test_master_output_has_exactly_n_samples(seconds, source_s):
    n = round(seconds * SR)
    rng = np.random.default_rng(2)
    audio = (rng.standard_normal((int(source_s * SR), 2)) * 0.1).astype(np.float32)
    out, _ = master(audio, SR, n)
    assert out.shape == (n, 2)
    assert out[-1].tolist() == [0.0, 0.0]  # faded to silence, no click


def test_silence_in_silence_out():
    for n in (0, 100, SR // 10, 3 * SR):
        out, gain = master(np.zeros((n, 2), np.float32), SR, n)
        assert out.shape == (n, 2) and not out.any() and gain == 1.0


def test_short_audio_skips_loudness_but_keeps_the_ceiling():
    t = np.arange(SR // 5) / SR  # 0.2 s, shorter than the 0.4 s loudness block
    audio = np.stack([1.2 * np.sin(2 * np.pi * 1000 * t)] * 2, axis=1)
    out, gain = master(audio, SR, len(audio))
    assert gain < 1.0
    assert _reference_true_peak_db(out) <= -1.0 + 0.1
    assert np.isnan(loudness_lufs(out, SR))


def test_fade_out_is_short_for_very_short_clips():
    ones = np.ones((1000, 2))
    faded = fade_out(ones.copy(), SR, 1.0)
    assert np.all(faded[:750] == 1.0)  # at most a quarter of the clip
    assert np.all(np.diff(faded[750:, 0]) <= 0) and faded[-1, 0] == 0.0


def test_finish_stem_matches_the_mix_gain_and_length():
    rng = np.random.default_rng(3)
    stem = rng.standard_normal((2 * SR, 2)) * 0.01
    out = finish_stem(stem, SR, 3 * SR, gain=2.0)
    assert out.shape == (3 * SR, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[: SR // 2], 2.0 * stem[: SR // 2], atol=1e-6)
    loud = finish_stem(stem * 50, SR, 2 * SR, gain=4.0)
    assert _reference_true_peak_db(loud) <= -1.0 + 0.1


# --------------------------------------------------------------------------------------------
# WAV output


def test_write_wav_round_trips_24_bit_48k_stereo(tmp_path):
    rng = np.random.default_rng(4)
    audio = (rng.uniform(-0.9, 0.9, (SR // 2, 2))).astype(np.float32)
    path = tmp_path / "score.wav"
    write_wav(path, audio, SR)
    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.format) == (
        48000,
        2,
        "PCM_24",
        "WAV",
    )
    back, rate = soundfile.read(str(path), dtype="float64")
    assert rate == SR and back.shape == audio.shape
    assert np.abs(back - audio).max() <= 2.0**-23 * 1.01
    assert [p.name for p in tmp_path.iterdir()] == ["score.wav"]  # no temporary left


def test_write_wav_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "score.wav"
    write_wav(path, np.zeros((100, 2)), SR)
    before = path.read_bytes()

    def broken_write(self, data):
        raise OSError("disk full")

    monkeypatch.setattr(soundfile.SoundFile, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_wav(path, np.full((SR, 2), 0.5), SR)
    assert path.read_bytes() == before  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["score.wav"]
    with pytest.raises(ValueError, match="NaN"):
        write_wav(tmp_path / "nan.wav", np.full((10, 2), np.nan), SR)
    assert not (tmp_path / "nan.wav").exists()


def test_write_wav_respects_umask(tmp_path):
    path = tmp_path / "score.wav"
    old = os.umask(0o022)
    try:
        write_wav(path, np.zeros((10, 2)), SR)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------------------------
# Speed (printed, never asserted: timings depend on the machine)


@needs_fluidsynth
def test_measure_render_speed(capsys):
    pm = _generated_score(60.0)
    start = time.perf_counter()
    audio = render(pm, n_samples=60 * SR)
    render_s = time.perf_counter() - start
    start = time.perf_counter()
    master(audio, SR, len(audio))
    master_s = time.perf_counter() - start
    with capsys.disabled():
        print(
            f"\n60 s, 5 instruments: render {render_s:.2f} s ({60 / render_s:.0f}x real time), "
            f"master {master_s:.2f} s ({60 / master_s:.0f}x real time)"
        )
    assert audio.shape == (60 * SR, 2)
