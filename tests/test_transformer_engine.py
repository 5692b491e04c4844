"""The shipped transformer weights load and drive `emsync score --engine transformer`."""

from __future__ import annotations

import dataclasses
import json

import opentimelineio as otio
import pretty_midi

from emsync_core.music.model import EmsyncTransformer
from emsync_core.pipeline import WEIGHTS_DIR, ScoreOptions, score
from emsync_core.timeline.build import timeline_from_cuts


def test_shipped_weights_are_a_small_safetensors_model():
    model = EmsyncTransformer.load(WEIGHTS_DIR)
    assert model.n_params() < 20_000_000
    assert (WEIGHTS_DIR / "model.safetensors").stat().st_size < 40 * 2**20
    assert (WEIGHTS_DIR / "MODEL_CARD.md").is_file()


def test_score_with_the_transformer_lands_a_chord_on_every_cut(tmp_path):
    path = tmp_path / "short.otio"
    markers = [(1, "emotion: joy"), (130, "emotion: sadness")]
    timeline = timeline_from_cuts([50, 130, 170], 216, 24.0, "short", markers=markers)
    otio.adapters.write_to_file(timeline, str(path))
    options = ScoreOptions(out=tmp_path / "out", engine="transformer", seed=1, render=False)
    result = score(path, options)
    report = json.loads((result.out_dir / "report.json").read_text())
    assert report["engine"] == "transformer"
    assert [c["frame"] for c in report["cuts"]] == [50, 130, 170]
    assert all(c["error_ms"] < 1.0 and c["new_harmony"] for c in report["cuts"])
    # No note rings over a cut, and no note the model forgot to release drones on. (The file's
    # tempo map is whole microseconds per beat, so a note on a cut reads back within 0.1 ms.)
    midi = pretty_midi.PrettyMIDI(str(result.out_dir / "score.mid"))
    cuts = [c["seconds"] for c in report["cuts"]]
    for inst in midi.instruments:
        for n in inst.notes:
            assert not any(n.start < c - 1e-4 and n.end > c + 1e-4 for c in cuts), n
            assert n.end - n.start <= 8.0 + 1e-6


def test_score_with_other_weights_uses_them_and_says_so(tmp_path):
    import pytest
    import torch

    from emsync_core.errors import EmsyncError
    from emsync_core.music.model import ModelConfig

    path = tmp_path / "short.otio"
    timeline = timeline_from_cuts([40], 96, 24.0, "short", markers=[(1, "emotion: fear")])
    otio.adapters.write_to_file(timeline, str(path))
    torch.manual_seed(0)
    run = tmp_path / "run"
    EmsyncTransformer(ModelConfig(n_layer=1, n_head=2, d_model=16)).save(run)

    def notes(out: str, weights=None) -> list[tuple[int, float]]:
        options = ScoreOptions(out=tmp_path / out, engine="transformer", render=False)
        result = score(path, dataclasses.replace(options, weights=weights))
        report = json.loads((result.out_dir / "report.json").read_text())
        assert report["weights"] == (str(run.resolve()) if weights else None)
        midi = pretty_midi.PrettyMIDI(str(result.out_dir / "score.mid"))
        return sorted((n.pitch, round(n.start, 3)) for i in midi.instruments for n in i.notes)

    # An untrained model writes other notes than the shipped one, from the same seed.
    assert notes("a", run) != notes("b")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EmsyncError, match="model.json"):
        score(path, ScoreOptions(out=tmp_path / "c", engine="transformer", weights=empty))
