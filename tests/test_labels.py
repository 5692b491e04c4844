"""Valence/arousal proxies: direction of each feature and the robust scaling."""

from __future__ import annotations

import numpy as np
import pytest

from emsync_core.music import chords as ch
from emsync_core.music import events as ev
from emsync_core.music import labels as lb


def cadence(third: int, notes_per_beat: int = 1, velocity: int = 80) -> ev.Piece:
    """i/I - iv/IV - V - i/I in A, in quarter notes (or faster repeated notes), major or minor."""
    chords = [
        [45, 57, 57 + third, 64],  # A C#/C E
        [50, 57, 62, 62 + third],  # D F#/F A
        [40, 56, 59, 64],  # E G# B
        [45, 57, 57 + third, 64],
    ]
    notes: list[ev.Note] = []
    step = 0.5 / notes_per_beat
    for c, pitches in enumerate(chords):
        for k in range(4 * notes_per_beat):
            t = c * 2.0 + k * step
            notes += [ev.Note(ev.STRINGS, p, t, t + step, velocity) for p in pitches]
    return ev.Piece(notes, beats=np.arange(0.0, 8.0, 0.5))


def features(piece: ev.Piece) -> lb.RawFeatures:
    return lb.raw_features(piece, ch.recognize(piece))


def test_major_and_minor_are_told_apart():
    major, minor = features(cadence(third=4)), features(cadence(third=3))
    assert major.key == "A major" and minor.key == "A minor"
    assert major.mode > 0 > minor.mode
    assert major.chord_quality == pytest.approx(1.0)  # A, D, E, A: all major
    assert minor.chord_quality == pytest.approx(-0.5)  # Am, Dm, Am dark; E bright


def test_density_and_velocity_raise_arousal_features():
    calm = features(cadence(third=4, notes_per_beat=1, velocity=50))
    busy = features(cadence(third=4, notes_per_beat=4, velocity=110))
    assert busy.density == pytest.approx(4 * calm.density)
    assert calm.density == pytest.approx(4 * 16 / 8.0)  # 64 notes, 8 s, one group
    assert (calm.velocity, busy.velocity) == (50, 110)


def test_density_is_per_instrument_group():
    one = cadence(third=4)
    split = ev.Piece(
        [
            ev.Note(ev.BASS if n.pitch < 48 else ev.STRINGS, n.pitch, n.start, n.end)
            for n in one.notes
        ],
        beats=one.beats,
    )
    assert features(split).density == pytest.approx(features(one).density / 2)


def test_robust_range_ignores_outliers_and_maps_to_unit_interval():
    rng = np.random.default_rng(0)
    values = list(rng.normal(5.0, 1.0, 500)) + [1000.0, -1000.0]
    r = lb.RobustRange.fit(values)
    assert 1.0 < r.low < 3.0 and 7.0 < r.high < 9.0  # the two outliers did not stretch it
    assert r(r.low) == -1.0 and r(r.high) == 1.0 and r(1000.0) == 1.0
    assert r((r.low + r.high) / 2) == pytest.approx(0.0)
    scaled = np.array([r(v) for v in values])
    assert scaled.min() >= -1 and scaled.max() <= 1


def test_scaler_orders_pieces_and_drops_constant_features():
    pieces = [cadence(third, n, velocity=80) for third in (3, 4) for n in (1, 2, 4)]
    raw = [features(p) for p in pieces]
    scaler = lb.LabelScaler.fit(raw)
    assert not scaler.ranges["velocity"].informative  # all 80: no arousal information
    valence = [scaler.valence(f) for f in raw]
    arousal = [scaler.arousal(f) for f in raw]
    assert max(valence[:3]) < min(valence[3:])  # every minor piece below every major one
    assert arousal[0] < arousal[1] < arousal[2]
    assert min(arousal) == -1.0 and max(arousal) == 1.0
    again = lb.LabelScaler.from_json(scaler.to_json())
    assert [again.arousal(f) for f in raw] == arousal
