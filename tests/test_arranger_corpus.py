"""Arranger scores as a training source: realistic edits, exact labels, the builder reads them."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from emsync_core.music import arranger_corpus, corpus, events, labels, sidecar
from emsync_core.music.model import ModelConfig
from emsync_core.music.train import TrainConfig, WindowSampler


def test_random_edits_look_like_real_ones_and_are_seeded():
    edits = [arranger_corpus.random_edit(random.Random(i), f"e{i}") for i in range(40)]
    again = arranger_corpus.random_edit(random.Random(7), "e7")
    assert again == edits[7]
    shots = [b - a for e in edits for a, b in e.shots_s]
    # Lognormal shots: most are a few seconds, a few are montage flashes or long takes.
    assert min(shots) >= 0.5 - 1e-9 and max(shots) <= 60.0 + 1e-9
    assert 2.0 < float(np.median(shots)) < 6.0
    assert any(s < 1.5 for s in shots) and any(s > 20 for s in shots)
    for e in edits:
        assert arranger_corpus.MIN_SCORE_S - 1 <= e.duration_s <= arranger_corpus.MAX_SCORE_S + 1
        assert all(abs(t * 24 - round(t * 24)) < 1e-6 for t in e.cuts_s)  # on the frame grid
        assert len(e.moods) == len(e.cuts_s) + 1
        assert all(-1 <= v <= 1 and -1 <= a <= 1 for v, a in e.moods)
    # Moods are held over scenes of several shots, and they cover the whole square.
    moods = [m for e in edits for m in e.moods]
    assert len(set(moods)) < len(moods) / 2
    v, a = np.array(moods).T
    assert v.min() < -0.6 and v.max() > 0.6 and a.min() < -0.6 and a.max() > 0.6


def test_scores_carry_exact_labels_and_the_builder_keeps_each_windows_key(tmp_path):
    src, out = tmp_path / "arranger", tmp_path / "corpus"
    info = arranger_corpus.build_arranger(src, hours=0.05, seed=5, workers=1, log=lambda m: None)
    assert info["scores"] >= 1 and info["written_now"] == info["scores"]
    mid, side = arranger_corpus.song_paths(src, 0)
    doc = json.loads(side.read_text())
    known = sidecar.read(mid)
    assert known is not None and known.source == "arranger"
    # Every cut and every planned chord start is a `<CHORD>` boundary.
    assert all(round(t, 4) in set(known.boundaries_s) for t in doc["hard_boundaries_s"])
    assert known.boundaries_s[0] == 0.0
    for w in doc["windows"]:
        assert w["mode"] == ("major" if w["key"].split()[1] in {"major", "mixolydian"} else "minor")
    corpus.build_corpus([str(src)], out, workers=1, shard_size=8, progress=False)
    built = corpus.Corpus(out)
    piece = next(p for p in built if p["path"] == str(mid))
    assert piece["source"] == "arranger"
    assert piece["n_boundaries"] == len(known.boundaries_s)
    # Each window's key is the section's own (the plan modulates), not the piece's tonic.
    expected = [labels.key_index(w["tonic"], w["mode"]) for w in doc["windows"]]
    assert piece["window_keys"] == expected
    assert [tuple(x) for x in piece["window_labels"]] == [
        (w["valence"], w["arousal"]) for w in doc["windows"]
    ]
    # The `<CHORD>` tokens sit at the boundaries.
    tokens = built.tokens(piece)
    times = events.token_times(tokens)[tokens == events.CHORD] * events.STEP_S
    assert len(times) == len({round(t / events.STEP_S) for t in known.boundaries_s})
    # Resuming writes nothing new.
    again = arranger_corpus.build_arranger(src, hours=0.05, seed=5, workers=1, log=lambda m: None)
    assert again["written_now"] == 0


def test_mix_weights_cap_several_sources_at_once():
    pieces = [
        {"n_tokens": 158, "source": "mma"},
        {"n_tokens": 18, "source": "music21"},
        {"n_tokens": 42, "source": "arranger"},
    ]
    # Capping MMA alone would lift the arranger past its cap: both end at theirs.
    w = corpus.mix_weights(pieces, {"mma": 0.3, "arranger": 0.4})
    assert w.tolist() == pytest.approx([0.3, 0.3, 0.4])
    w = corpus.mix_weights(pieces, {"mma": 0.3, "arranger": 0.6})
    assert w.tolist() == pytest.approx([0.3, 0.7 * 18 / 60, 0.7 * 42 / 60])


def test_the_key_is_withheld_at_its_own_rate(tmp_path):
    src, out = tmp_path / "arranger", tmp_path / "corpus"
    arranger_corpus.build_arranger(src, hours=0.05, seed=2, workers=1, log=lambda m: None)
    corpus.build_corpus([str(src)], out, workers=1, shard_size=8, val_percent=0, progress=False)
    built = corpus.Corpus(out)

    def null_share(key_drop: float) -> float:
        cfg = TrainConfig(
            seq_len=64, key_drop=key_drop, model=ModelConfig(key_condition=True, block_size=128)
        )
        sampler = WindowSampler(built, "train", cfg, np.random.default_rng(0))
        keys = np.concatenate([sampler.batch(16, train=True)["key"].numpy() for _ in range(8)])
        return float(np.mean(keys == labels.NULL_KEY))

    assert null_share(0.0) == 0.0
    assert 0.35 < null_share(0.5) < 0.65
    assert TrainConfig.from_dict({"cond_drop": 0.1}).key_drop == 0.1  # older runs resume as run


def test_build_arranger_runs_from_emsync_train(tmp_path, capsys):
    from emsync_core import cli

    out = tmp_path / "arr"
    argv = ["train", "--build-arranger", str(out), "--arranger-hours", "0.02", "--seed", "4"]
    assert cli.main([*argv, "--workers", "1"]) == 0
    assert "arranger corpus: 1 scores" in capsys.readouterr().out
    assert sidecar.read(arranger_corpus.song_paths(out, 0)[0]).source == "arranger"
    assert cli.main([*argv, "--build-corpus", "music21"]) == 2  # one or the other
    assert cli.main(["train", "--build-arranger", str(out), "--arranger-hours", "0"]) == 2
