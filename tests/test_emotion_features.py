"""Per-scene features on signals and pictures with known properties."""

import numpy as np
import pytest

from emsync_core.emotion.features import audio_features, cut_context, frame_stats

RATE = 16000
T = np.arange(3 * RATE) / RATE


def _solid(rgb) -> np.ndarray:
    return np.full((90, 160, 3), rgb, np.uint8)


def test_frame_stats_colours():
    names = ("brightness", "contrast", "low_key", "saturation", "colourfulness", "warmth")
    black = dict(zip(names, frame_stats(_solid((0, 0, 0))), strict=True))
    assert black["brightness"] == 0 and black["low_key"] == 1 and black["saturation"] == 0
    red = dict(zip(names, frame_stats(_solid((230, 30, 20))), strict=True))
    blue = dict(zip(names, frame_stats(_solid((20, 40, 230))), strict=True))
    grey = dict(zip(names, frame_stats(_solid((128, 128, 128))), strict=True))
    assert red["warmth"] == pytest.approx(1) and blue["warmth"] == pytest.approx(-1)
    assert red["saturation"] > 0.85 and grey["saturation"] == 0
    assert grey["colourfulness"] == 0 and red["colourfulness"] > 0.5
    assert grey["brightness"] == pytest.approx(128 / 255, abs=1e-3) and grey["contrast"] == 0
    stripes = _solid((0, 0, 0))
    stripes[:, ::2] = 255
    assert frame_stats(stripes)[1] == pytest.approx(0.5, abs=0.01)


def test_loudness_and_centroid():
    tone = (0.1 * np.sin(2 * np.pi * 440 * T)).astype(np.float32)
    f = audio_features(tone, RATE)
    assert f["loudness_dbfs"] == pytest.approx(-23.01, abs=0.05)
    assert f["spectral_centroid_hz"] == pytest.approx(440, rel=0.1)
    assert f["onset_rate"] == 0 and f["speech"] == 0 and f["loudness_range_db"] < 0.5
    high = audio_features((0.1 * np.sin(2 * np.pi * 3000 * T)).astype(np.float32), RATE)
    assert high["spectral_centroid_hz"] == pytest.approx(3000, rel=0.1)
    silent = audio_features(np.zeros(RATE, np.float32), RATE)
    assert silent["loudness_dbfs"] == -80 and silent["onset_rate"] == 0
    assert audio_features(np.zeros(100, np.float32), RATE) is None


@pytest.mark.parametrize("rate_per_s", [1, 3, 6])
def test_onset_rate_counts_hits(rate_per_s):
    rng = np.random.default_rng(0)
    x = 0.01 * rng.standard_normal(len(T))
    period = RATE // rate_per_s
    for start in range(RATE // 10, len(T), period):
        n = min(2000, len(T) - start)
        x[start : start + n] += 0.5 * rng.standard_normal(n) * np.exp(-np.arange(n) / 400)
    f = audio_features(x.astype(np.float32), RATE)
    assert f["onset_rate"] == pytest.approx(rate_per_s, abs=0.7)


def test_speech_presence():
    from emsync_core.video.synth import Segment, _audio

    rng = np.random.default_rng(1)
    speech = _audio(Segment(3, audio="speech", loudness_db=-24), 3 * RATE, RATE, rng)
    noise = (0.05 * rng.standard_normal(3 * RATE)).astype(np.float32)
    music = _audio(Segment(3, audio="bursts", loudness_db=-20, onsets_per_s=4), 3 * RATE, RATE, rng)
    assert audio_features(speech, RATE)["speech"] > 0.6
    assert audio_features(noise, RATE)["speech"] < 0.2
    assert audio_features(music, RATE)["speech"] < 0.2


def test_cut_context():
    cuts = [2.0, 4.0, 6.0, 40.0]
    c = cut_context(2.0, 4.0, cuts, 60.0)
    assert c["shot_length_s"] == 2.0
    # cuts within +-15 s of 3 s (window 0..18 s): 2, 4, 6 -> 3 per 18 s
    assert c["cut_rate_per_min"] == pytest.approx(10.0)
    long_shot = cut_context(0.0, 10.0, [5.0], 10.0)  # a detected cut inside the scene
    assert long_shot["shot_length_s"] == 5.0


def test_voice_pitch_and_spectral_flux():
    from emsync_core.video.synth import Segment, _audio

    rng = np.random.default_rng(2)
    speech = audio_features(
        _audio(Segment(3, audio="speech", loudness_db=-24), 3 * RATE, RATE, rng), RATE
    )
    assert speech["speech_pitch_hz"] == pytest.approx(150, rel=0.15)  # synth: 150 +- 30 Hz
    tone = audio_features((0.1 * np.sin(2 * np.pi * 440 * T)).astype(np.float32), RATE)
    assert tone["speech_pitch_hz"] is None  # no speech, no pitch
    bursts = _audio(Segment(3, audio="bursts", loudness_db=-20, onsets_per_s=5), 3 * RATE, RATE,
                    rng)  # fmt: skip
    assert audio_features(bursts, RATE)["spectral_flux"] > 5 * tone["spectral_flux"]


def test_motion_variation():
    from emsync_core.emotion.features import picture_features
    from emsync_core.video.frames import MediaInfo, MediaSamples

    info = MediaInfo("x", 2.0, 25.0, 160, 90, False)

    def samples(motion):
        n = len(motion)
        times = np.arange(n) / 25
        frame = [np.zeros(6, np.float32)]
        quiet = np.zeros(0, np.float32)
        return MediaSamples(info, 0.0, n / 25, times, np.asarray(motion, np.float32),
                            np.zeros(1), frame, quiet)  # fmt: skip

    steady = picture_features(samples([0.0] + [0.03] * 49))
    jerky = picture_features(samples([0.0] + [0.0, 0.06] * 24 + [0.0]))
    assert steady["motion"] == pytest.approx(jerky["motion"], abs=0.002)  # same mean motion
    assert steady["motion_var"] == pytest.approx(0.0, abs=1e-6) and jerky["motion_var"] > 0.05
