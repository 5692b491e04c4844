"""Section windows: training windows that hold a scene's start, labelled as the new scene,
with the old one as context only, as the decoder re-encodes at a scene change."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emsync_core.music import events, labels
from emsync_core.music.model import EmsyncTransformer, ModelConfig
from emsync_core.music.train import (
    TrainConfig,
    WindowSampler,
    compute_loss,
    heard_in_other_mode,
    leans_major,
    opening_weights,
    section_starts,
)

KEYS = events.GROUPS.index("KEYS")


def _bars(pitches: list[int], n: int) -> list[int]:
    """`n` half-second notes cycling through `pitches`, each after a `<BAR>`."""
    out: list[int] = []
    for i in range(n):
        p = pitches[i % len(pitches)]
        out += [
            events.BAR,
            events.note_on(KEYS, p),
            events.shift_token(62),
            events.note_off(KEYS, p),
        ]
    return out


class _Corpus:
    """Two sections: C major, then A minor from token `cut` with another mood."""

    root = "fake"

    def __init__(self, source: str) -> None:
        first, second = _bars([60, 64, 67], 60), _bars([57, 60, 64], 60)
        self.cut = len(first)
        self._tokens = np.array(first + second, dtype=np.int64)
        self.pieces = [
            {
                "split": "train",
                "source": source,
                "groups": ["KEYS"],
                "n_tokens": len(self._tokens),
                "valence": 0.0,
                "arousal": 0.0,
                "key": labels.key_index(0, "major"),
                "window_tokens": np.array([0, self.cut // 2, self.cut]),
                "window_labels": [(0.8, 0.5), (0.8, 0.5), (-0.7, -0.4)],
                "window_keys": [labels.key_index(0, "major")] * 2 + [labels.key_index(9, "minor")],
            }
        ]

    def split(self, name: str) -> list[dict]:
        return [p for p in self.pieces if p["split"] == name]

    def tokens(self, piece: dict) -> np.ndarray:
        return self._tokens


def _cfg(**kw) -> TrainConfig:
    base = dict(
        seq_len=200,
        skip_stuck=False,
        section_prob=1.0,
        start_weight=3.0,
        start_span_s=1.0,
        model=ModelConfig(key_condition=True, block_size=256, note_off_at_cap=False),
    )
    return TrainConfig(**{**base, **kw})


def test_section_starts_follow_the_plan_not_the_notes():
    fake = _Corpus("arranger")
    piece = fake.pieces[0]
    # The middle window repeats the first one's mood and key: not a section start.
    assert section_starts(piece).tolist() == [0, fake.cut]
    # Detected labels change with every few bars' notes: only the piece start counts.
    assert section_starts({**piece, "source": "music21"}).tolist() == [0]
    assert section_starts({**piece, "window_tokens": np.array([0])}).tolist() == [0]


def test_opening_weights_mask_the_old_section_and_weigh_the_opening():
    cfg = _cfg()
    window = np.array(_bars([60], 8))  # a note every 63 steps (0.5 s)
    times = events.token_times(window)
    w = opening_weights(window, 130, cfg)
    assert (w[times < 130] == 0).all() and (w[times < 130].size > 0)
    opening = (times >= 130) & (times < 130 + 125)  # 1 s of 8 ms steps
    assert (w[opening] == 3.0).all() and (w[times >= 255] == 1.0).all()
    assert (opening_weights(window, None, cfg) == 1).all()
    assert (opening_weights(window, 0, _cfg(start_weight=1.0)) == 1).all()


@pytest.mark.parametrize("augment", [False, True])
def test_section_windows_are_labelled_as_the_new_section(augment):
    fake = _Corpus("arranger")
    sampler = WindowSampler(fake, "train", _cfg(augment=augment), np.random.default_rng(3))
    cut_seen = 0
    for _ in range(60):
        tokens, _offsets, valence, arousal, key, w = sampler.window(train=True)
        if tokens[0] == events.START:  # the piece start: all of it trained, the opening weighed
            assert (valence, arousal) == (0.8, 0.5) and (w[2:] > 0).all()
            assert w[2] == 3.0
            continue
        # The old section is context only (none when the window starts at the cut); the new
        # one is trained, its first second weighed.
        context = w == 0
        cut_seen += int(context.any())
        first = int(np.argmin(context)) if context.any() else 0
        assert not context[first:].any() and w[first] == 3.0
        assert (valence, arousal) == pytest.approx((-0.7, -0.4)) and key // 12 == 1  # A minor
        after = tokens[first:]
        after = after[(after >= events.NOTE_ON_BASE) & (after < events.NOTE_OFF_BASE)]
        pitch = int((after[0] - events.NOTE_ON_BASE) % events.N_PITCHES + events.PITCH_MIN)
        assert pitch % 12 == key % 12  # the new section opens on its tonic (transposed alike)
    assert cut_seen > 10


def test_plain_windows_weigh_every_token_as_before():
    fake = _Corpus("arranger")
    plain = TrainConfig(seq_len=200, skip_stuck=False, model=ModelConfig(block_size=256))
    a = WindowSampler(fake, "train", plain, np.random.default_rng(5)).batch(8, train=True)
    assert (a["weights"] == 1).all()
    # The loss with all-one weights is the loss without them.
    torch.manual_seed(0)
    model = EmsyncTransformer(ModelConfig(n_layer=1, n_head=2, d_model=32, block_size=256)).eval()
    with_w = compute_loss(model, a, 10.0)[0]
    without = compute_loss(model, {k: v for k, v in a.items() if k != "weights"}, 10.0)[0]
    assert torch.equal(with_w, without)


@pytest.mark.parametrize("augment", [False, True])
def test_framed_section_windows_have_their_tonic_on_c(augment):
    fake = _Corpus("arranger")
    cfg = TrainConfig(
        seq_len=200,
        skip_stuck=False,
        section_prob=1.0,
        augment=augment,
        model=ModelConfig(key_condition=True, key_frame=True, block_size=256),
    )
    sampler = WindowSampler(fake, "train", cfg, np.random.default_rng(4))
    for _ in range(30):
        tokens, _, _, _, key, weights = sampler.window(train=True)
        assert key in (labels.key_index(0, "major"), labels.key_index(0, "minor"))
        trained = tokens[weights > 0]
        notes = trained[(trained >= events.NOTE_ON_BASE) & (trained < events.NOTE_OFF_BASE)]
        first = int((notes[0] - events.NOTE_ON_BASE) % events.N_PITCHES + events.PITCH_MIN)
        assert first % 12 == 0  # each section opens on its tonic, now C


def _c_major_and_a_minor() -> tuple[np.ndarray, np.ndarray, int, int]:
    """Eight bars of a C major triad, eight of an A minor one, and their two keys."""
    c_major, a_minor = np.array(_bars([60, 64, 67], 8)), np.array(_bars([57, 60, 64], 8))
    return c_major, a_minor, labels.key_index(0, "major"), labels.key_index(9, "minor")


def test_heard_in_other_mode_reads_the_notes_against_the_key():
    c_major, a_minor, major, minor = _c_major_and_a_minor()
    assert not heard_in_other_mode(c_major, major) and heard_in_other_mode(c_major, minor)
    assert heard_in_other_mode(a_minor, major) and not heard_in_other_mode(a_minor, minor)
    assert not heard_in_other_mode(a_minor, labels.NULL_KEY)
    drums = np.array([events.note_on(events.DRUMS, 38), events.shift_token(50)])
    assert not heard_in_other_mode(drums, major)


def test_a_margin_also_leaves_out_notes_that_barely_say_their_mode():
    c_major, a_minor, major, minor = _c_major_and_a_minor()
    lean = leans_major(c_major)
    assert lean > 0
    assert not heard_in_other_mode(c_major, major, margin=lean - 0.01)
    assert heard_in_other_mode(c_major, major, margin=lean + 0.01)
    lean = -leans_major(a_minor)  # toward minor
    assert not heard_in_other_mode(a_minor, minor, margin=lean - 0.01)
    assert heard_in_other_mode(a_minor, minor, margin=lean + 0.01)


def test_windows_heard_in_the_other_mode_are_not_trained_on():
    """The second section plays A minor under a C major label: with `skip_off_mode` the
    training windows that sit in it are drawn again; validation windows are kept."""
    fake = _Corpus("arranger")
    fake.pieces[0]["window_keys"] = [labels.key_index(0, "major")] * 3
    major = labels.key_index(0, "major")

    def off_mode_windows(cfg: TrainConfig, train: bool) -> int:
        sampler = WindowSampler(fake, "train", cfg, np.random.default_rng(8))
        windows = [sampler.window(train=train) for _ in range(40)]
        return sum(heard_in_other_mode(w[0], major) for w in windows)

    plain = _cfg(section_prob=0.0, augment=False)
    assert off_mode_windows(plain, train=True) > 5
    skipping = _cfg(section_prob=0.0, augment=False, skip_off_mode=True)
    assert off_mode_windows(skipping, train=True) == 0
    assert off_mode_windows(skipping, train=False) > 5
