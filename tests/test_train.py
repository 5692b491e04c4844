"""Training: loss falls, checkpoints resume exactly, the CLI options parse."""

import argparse
import json

import numpy as np
import pytest
import torch

from emsync_core.music import events, train
from emsync_core.music.model import EmsyncTransformer, ModelConfig


def _cfg(**kw) -> train.TrainConfig:
    base = dict(
        steps=6,
        batch_size=2,
        seq_len=64,
        warmup=2,
        lr=2e-3,
        eval_every=3,
        ckpt_every=3,
        eval_batches=1,
        model=ModelConfig(n_layer=2, n_head=2, d_model=32, block_size=66, dropout=0.1),
    )
    base.update(kw)
    return train.TrainConfig(**base)


def test_windows_and_weights(corpus_dir):
    from emsync_core.music.corpus import Corpus

    cfg = _cfg()
    sampler = train.WindowSampler(Corpus(corpus_dir), "train", cfg, np.random.default_rng(0))
    batch = sampler.batch(8, True)
    assert batch["tokens"].shape == (8, 64) and batch["offsets"].shape == (8, 64)
    assert set(batch["tokens"][:, 0].tolist()) <= {
        events.START,
        events.LESS_INSTRUMENTS,
        events.MORE_INSTRUMENTS,
    }
    w = train.target_weights(torch.tensor([events.CHORD, events.START, 300, events.PAD]), 10.0)
    assert w.tolist() == [10.0, 0.0, 1.0, 0.0]
    assert train.lr_at(0, cfg) < train.lr_at(1, cfg) == cfg.lr
    assert train.lr_at(cfg.steps, cfg) == pytest.approx(cfg.min_lr)


def test_loss_falls_and_resume_is_exact(corpus_dir, tmp_path):
    torch.manual_seed(0)
    # Straight through: 6 steps, a checkpoint at 3.
    full = train.train(corpus_dir, tmp_path / "a", _cfg(), progress=False)
    history = json.loads((tmp_path / "a" / "log.json").read_text())
    losses = [h["loss"] for h in history if "loss" in h]
    assert len(losses) == 6 and np.isfinite(losses).all()
    # Stopped at 3, then resumed to 6: the same steps 4-6.
    train.train(corpus_dir, tmp_path / "b", _cfg(steps=3), progress=False)
    resumed = train.train(corpus_dir, tmp_path / "b", _cfg(steps=6), resume=True, progress=False)
    assert resumed["step"] == 6
    again = json.loads((tmp_path / "b" / "log.json").read_text())
    assert [h["loss"] for h in again if "loss" in h] == losses
    assert resumed["last_loss"] == full["last_loss"]
    for name in ("model.safetensors", "model.json", "loss.png", "checkpoint/state.json"):
        assert (tmp_path / "a" / name).exists(), name
    model = EmsyncTransformer.load(tmp_path / "a")
    assert model.config.d_model == 32
    with pytest.raises(Exception, match="--resume"):
        train.train(corpus_dir, tmp_path / "a", _cfg(), progress=False)


def test_loss_falls_on_a_tiny_corpus(corpus_dir, tmp_path):
    torch.manual_seed(0)
    cfg = _cfg(steps=40, warmup=5, eval_every=40, ckpt_every=40, augment=False, cond_drop=0.0)
    train.train(corpus_dir, tmp_path / "run", cfg, progress=False)
    history = json.loads((tmp_path / "run" / "log.json").read_text())
    losses = [h["loss"] for h in history if "loss" in h]
    assert np.mean(losses[-5:]) < np.mean(losses[:3]) - 1.0  # nats


def test_cli_options():
    p = argparse.ArgumentParser()
    train.configure_parser(p)
    args = p.parse_args(["--corpus", "c", "--out", "r", "--steps", "5", "--resume"])
    assert args.steps == 5 and args.resume and str(args.corpus) == "c"


def test_bigram_baseline_beats_unigram_on_music(corpus_dir):
    from emsync_core.music.corpus import Corpus

    corpus = Corpus(corpus_dir)
    assert 0 < train.bigram_nll(corpus) < train.unigram_nll(corpus)


def test_resume_without_steps_keeps_the_runs_own_length(corpus_dir, tmp_path):
    import argparse

    p = argparse.ArgumentParser()
    train.configure_parser(p)
    tiny = ["--layers", "1", "--heads", "2", "--d-model", "16", "--seq-len", "32"]
    common = ["--corpus", str(corpus_dir), "--out", str(tmp_path / "run"), "--threads", "1"]
    opts = ["--batch-size", "2", "--eval-every", "2", "--ckpt-every", "2", "--warmup", "1"]
    assert train.run(p.parse_args([*common, *tiny, *opts, "--steps", "2"])) == 0
    assert train.run(p.parse_args([*common, *opts, "--resume"])) == 0
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 2 and state["train_config"]["steps"] == 2


def _tiny_run(corpus_dir, out, *extra: str, init=None) -> int:
    """`emsync train` on the tiny corpus: a one-layer model unless `init` gives the size."""
    p = argparse.ArgumentParser()
    train.configure_parser(p)
    size = [] if init else ["--layers", "1", "--heads", "2", "--d-model", "16"]
    opts = ["--batch-size", "2", "--eval-every", "2", "--ckpt-every", "2", "--warmup", "1"]
    common = ["--corpus", str(corpus_dir), "--out", str(out), "--threads", "1"]
    args = p.parse_args([*common, *size, *opts, *extra])
    args.init = init
    return train.run(args)


def _run_then_init(corpus_dir, tmp_path, seq_len: int, new_seq_len: int, *extra: str):
    """(saved weights, step 0 of a new run from them with windows of `new_seq_len` and the
    options `extra`)."""
    assert _tiny_run(corpus_dir, tmp_path / "a", "--seq-len", str(seq_len), "--steps", "1") == 0
    args = ["--seq-len", str(new_seq_len), "--steps", "0", *extra]
    assert _tiny_run(corpus_dir, tmp_path / "b", *args, init=tmp_path / "a") == 0
    return EmsyncTransformer.load(tmp_path / "a"), EmsyncTransformer.load(tmp_path / "b")


def test_init_starts_a_new_run_from_saved_weights(corpus_dir, tmp_path):
    # The size comes from the weights, whatever the defaults say; step 0 is those weights.
    base, started = _run_then_init(corpus_dir, tmp_path, 32, 32)
    assert started.config == base.config
    for (name, a), (_, b) in zip(
        base.state_dict().items(), started.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    info = json.loads((tmp_path / "b" / "model.json").read_text())
    assert info["train_config"]["init"] == str(tmp_path / "a")
    with pytest.raises(Exception, match="model.json"):
        _tiny_run(corpus_dir, tmp_path / "c", init=tmp_path)


def test_condition_embeddings_get_their_own_learning_rate():
    model = EmsyncTransformer(ModelConfig(n_layer=1, n_head=2, d_model=16, key_condition=True))
    # At the default multiple the groups are as before, so older runs resume as saved.
    assert len(train.make_optimizer(model, _cfg()).param_groups) == 2
    optimizer = train.make_optimizer(model, _cfg(cond_lr_mult=10.0))
    conditions = optimizer.param_groups[2]
    assert conditions["lr_mult"] == 10.0 and conditions["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    held = sorted(names[id(p)] for p in conditions["params"])
    assert "key_profile" in held and "key_emb.weight" in held
    assert all(n.startswith(train.CONDITION_PARAMS) for n in held)
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(names)
    assert train.TrainConfig.from_dict({}).cond_lr_mult == 1.0


def test_torchrun_two_processes_train_and_resume(corpus_dir, tmp_path):
    # The DistributedDataParallel path, on CPU with gloo: what `torchrun` runs on GPUs.
    import subprocess
    import sys

    def torchrun(*extra: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        cmd += ["--nproc_per_node=2", "-m", "emsync_core.music.train"]
        cmd += ["--corpus", str(corpus_dir), "--out", str(tmp_path / "ddp"), "--threads", "1"]
        return subprocess.run(cmd + list(extra), capture_output=True, text=True, timeout=300)

    tiny = ["--batch-size", "2", "--seq-len", "64", "--eval-every", "3", "--ckpt-every", "3"]
    tiny += ["--layers", "1", "--heads", "2", "--d-model", "32"]
    first = torchrun("--steps", "3", *tiny)
    assert first.returncode == 0, first.stderr[-2000:]
    again = torchrun("--steps", "6", "--resume")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "trained to step 6" in again.stdout
    history = json.loads((tmp_path / "ddp" / "log.json").read_text())
    assert [h["step"] for h in history if "loss" in h] == [1, 2, 3, 4, 5, 6]
    assert EmsyncTransformer.load(tmp_path / "ddp").config.d_model == 32


def test_stretch_positions_spreads_the_trained_rows_over_a_longer_window():
    from emsync_core.music.model import N_COND, stretch_positions

    table = torch.randn(40, 4)
    table[N_COND : N_COND + 10] = torch.arange(10.0).unsqueeze(1)  # a ramp 0..9
    out = stretch_positions(table, trained=10, wanted=19)
    assert torch.equal(out[:N_COND], table[:N_COND])  # the condition positions stay
    assert torch.allclose(out[N_COND : N_COND + 19, 0], torch.arange(19.0) / 2)
    assert torch.equal(out[N_COND + 19 :], table[N_COND + 19 :])


def test_init_with_rotary_positions_converts_learned_weights(corpus_dir, tmp_path):
    from emsync_core.music.model import N_COND

    base, rot = _run_then_init(corpus_dir, tmp_path, 16, 30, "--positions", "rotary", "--note-cap")
    assert rot.config.positions == "rotary" and rot.config.note_off_at_cap
    assert rot.context == 29 and not hasattr(rot, "pos_emb")
    converted = rot.state_dict()
    for name, tensor in base.state_dict().items():
        if not name.startswith(("pos_emb", "boundary_emb")):
            assert torch.equal(converted[name], tensor), name
    # The boundary MLP keeps the old one in its first half; the second half is what every
    # trained position row had in common (their mean), whatever the offset.
    signal = torch.tensor([0.0, 2.5, 8.0, float("nan")])
    half = base.config.d_model // 2
    with torch.no_grad():
        out = rot.boundary_emb(signal)
        assert torch.allclose(out[:, :half], base.boundary_emb(signal), atol=1e-6)
        mean = base.pos_emb[N_COND : N_COND + base.context].mean(0)
        assert torch.allclose(out[:, half:], mean.expand(4, -1), atol=1e-6)


def test_init_with_a_longer_window_stretches_the_learned_positions(corpus_dir, tmp_path):
    base, longer = _run_then_init(corpus_dir, tmp_path, 16, 30)
    assert (base.context, longer.context) == (15, 29)
    # Event position 2k of the new window is old position k (the condition rows stay).
    assert torch.allclose(longer.pos_emb[2:31:2], base.pos_emb[2:17], atol=1e-6)
    assert torch.equal(longer.pos_emb[:2], base.pos_emb[:2])
