"""Issue 15, training that uses whatever compute there is: exact resume, the wall-clock budget,
SIGTERM, progress lines for logs, per-window labels, the token subset and the GPU script's
CPU path."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from emsync_core.music import train
from emsync_core.music.corpus import Corpus
from emsync_core.music.model import EmsyncTransformer, ModelConfig, load_safetensors
from emsync_core.music.subset import SubsetCorpus, export_subset

ROOT = Path(__file__).resolve().parents[1]


def _cfg(**kw) -> train.TrainConfig:
    model = ModelConfig(
        n_layer=2, n_head=2, d_model=32, block_size=66, positions="rotary", note_off_at_cap=True
    )
    base = dict(
        steps=6, batch_size=2, seq_len=64, warmup=2, lr=2e-3, eval_every=3, ckpt_every=3,
        eval_batches=1, model=model,
    )  # fmt: skip
    base.update(kw)
    return train.TrainConfig(**base)


def _same_weights(a: Path, b: Path) -> None:
    for name in ("model.safetensors", "optimizer.safetensors"):
        x, _ = load_safetensors(a / "checkpoint" / name)
        y, _ = load_safetensors(b / "checkpoint" / name)
        assert x.keys() == y.keys()
        for key in x:
            assert torch.equal(x[key], y[key]), (name, key)


def _losses(run: Path) -> list[float]:
    return [h["loss"] for h in json.loads((run / "log.json").read_text()) if "loss" in h]


def test_resume_and_the_time_budget_continue_bit_for_bit(corpus_dir, tmp_path):
    straight = train.train(corpus_dir, tmp_path / "a", _cfg(), progress=False)
    assert straight["stopped"] == "steps"
    # 3 steps, then 3 more with --resume.
    train.train(corpus_dir, tmp_path / "b", _cfg(steps=3), progress=False)
    resumed = train.train(corpus_dir, tmp_path / "b", _cfg(), resume=True, progress=False)
    assert resumed["last_loss"] == straight["last_loss"]
    assert _losses(tmp_path / "b") == _losses(tmp_path / "a")
    _same_weights(tmp_path / "a", tmp_path / "b")
    # A budget spent after the first step: checkpoint there, stop, resume to the end.
    first = train.train(corpus_dir, tmp_path / "c", _cfg(), progress=False, hours=1e-9)
    assert first["stopped"] == "budget" and first["step"] == 1
    state = json.loads((tmp_path / "c" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 1  # checkpointed although ckpt_every is 3
    train.train(corpus_dir, tmp_path / "c", _cfg(), resume=True, progress=False)
    assert _losses(tmp_path / "c") == _losses(tmp_path / "a")
    _same_weights(tmp_path / "a", tmp_path / "c")


def test_sigterm_checkpoints_and_stops(corpus_dir, tmp_path, monkeypatch):
    batch = train.WindowSampler.batch
    calls = []

    def batch_then_term(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # during step 2, as a scheduler would
            os.kill(os.getpid(), signal.SIGTERM)
        return batch(self, *args, **kwargs)

    monkeypatch.setattr(train.WindowSampler, "batch", batch_then_term)
    before = signal.getsignal(signal.SIGTERM)
    summary = train.train(corpus_dir, tmp_path / "run", _cfg(eval_every=100), progress=False)
    assert summary["stopped"] == "SIGTERM" and summary["step"] == 2
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 2
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_progress_lines_without_a_terminal(corpus_dir, tmp_path, capsys):
    train.train(corpus_dir, tmp_path / "run", _cfg(steps=2), progress=False, log_every_s=0)
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("step ")]
    assert len(lines) == 2
    assert "step 2/2 (100.0 %)" in lines[-1] and "tokens/s" in lines[-1] and "left" in lines[-1]


def test_window_labels_take_the_windows_of_the_piece():
    piece = {"valence": 0.5, "arousal": -0.5, "n_tokens": 300}
    assert train.window_labels(piece, 0, 100) == (0.5, -0.5)  # an old corpus: the piece's
    piece["window_tokens"] = np.array([0, 100, 200])
    piece["window_labels"] = [(-1.0, 0.0), (1.0, 1.0), (float("nan"), 0.2)]
    assert train.window_labels(piece, 0, 100) == (-1.0, 0.0)
    assert train.window_labels(piece, 150, 250) == pytest.approx((0.75, 0.6))  # NaN -> 0.5
    assert train.window_labels(piece, 50, 150) == pytest.approx((0.0, 0.5))
    # By majority: the section with most of the tokens, not a blend of moods.
    assert train.window_labels(piece, 60, 200, majority=True) == (1.0, 1.0)
    assert train.window_labels(piece, 0, 90, majority=True) == (-1.0, 0.0)
    assert train.window_labels(piece, 190, 300, majority=True) == pytest.approx((0.5, 0.2))
    piece["window_tokens"] = np.array([20, 100])  # tokens before the first window: its label
    piece["window_labels"] = [(-1.0, 0.0), (1.0, 1.0)]
    assert train.window_labels(piece, 0, 50) == (-1.0, 0.0)


def test_the_sampler_conditions_on_window_labels(corpus_dir):
    corpus = Corpus(corpus_dir)
    cfg = _cfg(start_prob=1.0, augment=False)  # every window from the piece start
    for piece in corpus.split("train"):
        piece["window_tokens"] = np.array([0])
        piece["window_labels"] = [(0.25, -0.75)]
    sampler = train.WindowSampler(corpus, "train", cfg, np.random.default_rng(0))
    assert sampler.window(True)[2:4] == (0.25, -0.75)


def test_export_subset_round_trip_and_training_on_it(corpus_dir, tmp_path):
    corpus = Corpus(corpus_dir)
    total = sum(p["n_tokens"] for p in corpus.pieces)
    info = export_subset(corpus_dir, tmp_path / "subset.npz", total, seed=1)
    sub = SubsetCorpus(tmp_path / "subset.npz")
    assert info["tokens"] == sum(p["n_tokens"] for p in sub.pieces) == total
    assert {p["split"] for p in sub.pieces} == {"train", "val"}
    by_tokens = {corpus.tokens(p).tobytes(): p for p in corpus.pieces}
    for p in sub.pieces:  # every piece comes back with its tokens and labels
        q = by_tokens[sub.tokens(p).tobytes()]
        assert (p["split"], p["groups"], p["valence"], p["arousal"]) == (
            q["split"], q["groups"], q["valence"], q["arousal"]
        )  # fmt: skip
        if "window_tokens" in q:
            assert np.array_equal(p["window_tokens"], q["window_tokens"])
            assert np.allclose(p["window_labels"], q["window_labels"])
    small = export_subset(corpus_dir, tmp_path / "small.npz", total // 3, seed=1)
    assert small["tokens"] < total and small["bytes"] < info["bytes"]
    summary = train.train(tmp_path / "subset.npz", tmp_path / "run", _cfg(steps=2), progress=False)
    assert summary["step"] == 2
    assert EmsyncTransformer.load(tmp_path / "run").config.positions == "rotary"


def test_the_gpu_script_runs_on_cpu_and_continues_with_resume(corpus_dir, tmp_path):
    export_subset(corpus_dir, tmp_path / "subset.npz", 10**9)
    tiny = ["--layers", "1", "--heads", "2", "--d-model", "32", "--seq-len", "33"]
    tiny += ["--batch-size", "2", "--eval-every", "2", "--threads", "1", "--steps", "1000"]
    env = {**os.environ, "OUT": str(tmp_path / "out"), "MINUTES": "0.002", "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "train_gpu.sh"), str(tmp_path / "subset.npz"), *tiny],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    run = tmp_path / "out" / "run"
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert 1 <= state["step"] < 1000 and "budget" in done.stdout
    assert (run / "checkpoint" / "optimizer.safetensors").exists()
    assert (tmp_path / "out" / "train.log").exists()
    # Continued on CPU from its checkpoint, a few steps further.
    cfg = train.TrainConfig.from_dict({**state["train_config"], "steps": state["step"] + 2})
    again = train.train(tmp_path / "subset.npz", run, cfg, resume=True, progress=False)
    assert again["step"] == state["step"] + 2 and again["stopped"] == "steps"
