"""Corpus builder: bad files, duplicates, split, shards on disk, resume, reader, CLI hooks."""

from __future__ import annotations

import argparse
import json
import shutil

import numpy as np
import pretty_midi
import pytest

from emsync_core.errors import EmsyncError
from emsync_core.music import chords as ch
from emsync_core.music import corpus as cp
from emsync_core.music import events as ev
from emsync_core.music.arranger import arrange
from emsync_core.music.plan import plan_score


def write_folder(root, n_good: int = 9):
    """n_good distinct arranger scores in nested folders, plus broken, empty and duplicate files."""
    paths = []
    for i in range(n_good):
        plan = plan_score([(0.0, 4.0 + i % 3), (4.0 + i % 3, 9.0)], [(0.5, 0.3), (-0.4, -0.6)], i)
        path = root / f"set{i % 3}" / f"piece{i}.MID"
        path.parent.mkdir(parents=True, exist_ok=True)
        arrange(plan).midi.write(str(path))
        paths.append(path)
    shutil.copy(paths[0], root / "set1" / "copy_of_piece0.midi")  # duplicate by content
    (root / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (root / "set2").mkdir(exist_ok=True)
    (root / "set2" / "not_midi.mid").write_text("hello")
    pretty_midi.PrettyMIDI().write(str(root / "empty.mid"))
    (root / "notes.txt").write_text("ignored: not a MIDI suffix")
    return paths


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    paths = write_folder(src)
    out = tmp_path_factory.mktemp("corpus")
    manifest = cp.build_corpus([str(src)], out, workers=2, shard_size=4, val_percent=30)
    return src, paths, out, manifest


def test_bad_files_are_skipped_and_counted(built):
    _, _, _, manifest = built
    assert manifest["counts"] == {
        "ok": 9, "broken": 2, "empty": 1, "too_large": 0, "duplicate": 1,
    }  # fmt: skip
    assert len(manifest["shards"]) == 3  # 12 unique files, 4 per shard
    assert manifest["vocab_size"] == ev.VOCAB_SIZE
    assert manifest["shards_built"] == 3


def test_shards_hold_exactly_the_encoded_pieces(built):
    _, paths, out, _ = built
    corpus = cp.Corpus(out)
    assert len(corpus.pieces) == 9
    by_path = {p["path"]: p for p in corpus}
    for path in paths[:3]:
        piece = ev.piece_from_midi(pretty_midi.PrettyMIDI(str(path)))
        expected = ev.encode(piece, ch.boundaries(ch.recognize(piece)))
        assert np.array_equal(corpus.tokens(by_path[str(path)]), expected)
    for p in corpus:
        assert -1 <= p["valence"] <= 1 and -1 <= p["arousal"] <= 1
        assert p["n_boundaries"] > 0 and p["groups"]
    # Each feature is scaled over the training pieces: their extremes land on -1 and 1.
    density = [p["raw"]["density"] for p in corpus.split("train")]
    assert corpus.scaler.ranges["density"](min(density)) == -1.0
    assert corpus.scaler.ranges["density"](max(density)) == 1.0


def test_split_is_by_content_hash_and_deterministic(built):
    _, _, out, manifest = built
    corpus = cp.Corpus(out)
    for p in corpus:
        assert p["split"] == cp.split_of(p["sha1"], 30)
    assert manifest["splits"]["train"]["pieces"] + manifest["splits"]["val"]["pieces"] == 9
    assert cp.split_of("0" * 40, 5) == "val" and cp.split_of("f" * 40, 5) == "train"


def test_rerun_skips_finished_shards_and_rebuilds_missing_ones(built, tmp_path):
    src, _, out, manifest = built
    copy = tmp_path / "corpus"
    shutil.copytree(out, copy)
    (copy / "shard_00001.json").unlink()  # as if interrupted before this shard finished
    again = cp.build_corpus([str(src)], copy, workers=1, shard_size=4, val_percent=30)
    assert again["shards_built"] == 1
    assert again["counts"] == manifest["counts"] and again["splits"] == manifest["splits"]
    assert np.array_equal(np.load(copy / "shard_00001.npy"), np.load(out / "shard_00001.npy"))
    # Different settings change every shard's digest, so all are rebuilt.
    third = cp.build_corpus([str(src)], copy, workers=1, shard_size=4, val_percent=50)
    assert third["shards_built"] == 3


def test_cli_hooks_build_and_report(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    write_folder(src, n_good=2)
    parser = argparse.ArgumentParser()
    cp.configure_parser(parser)
    args = parser.parse_args(["--build-corpus", str(src), "--out", str(tmp_path / "c")])
    assert cp.run(args) == 0
    printed = capsys.readouterr().out
    assert "corpus: 2 pieces" in printed and "2 broken" in printed and "1 duplicates" in printed
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["counts"]["ok"] == 2
    with pytest.raises(EmsyncError, match="neither a folder"):
        cp.run(
            parser.parse_args(
                ["--build-corpus", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]
            )
        )
    with pytest.raises(EmsyncError, match="--out"):
        cp.run(parser.parse_args(["--build-corpus", str(src)]))
    with pytest.raises(EmsyncError, match="sub-corpus"):
        cp.list_sources(["music21:palestrina"])


def test_music21_sources_are_listed_offline_and_parse():
    pytest.importorskip("music21")
    items, duplicates = cp.list_sources(["music21:monteverdi"])
    assert len(items) == 49 and duplicates == 0
    assert all(i.kind == "music21" and i.path.endswith(".mxl") for i in items)
    tokens, record = cp.process_item(items[0], 5.0)
    assert record["status"] == "ok" and record["groups"] == ["BASS", "STRINGS"]
    assert record["n_boundaries"] > 10 and tokens.size == record["n_tokens"]


def test_random_augment_is_seeded():
    plan = plan_score([(0.0, 6.0)], [(0.2, 0.1)], 0)
    piece = ev.piece_from_midi(arrange(plan).midi)
    tokens = ev.encode(piece, ch.boundaries(ch.recognize(piece)))
    a, shift_a, stretch_a = cp.random_augment(tokens, np.random.default_rng(7))
    b, shift_b, stretch_b = cp.random_augment(tokens, np.random.default_rng(7))
    assert np.array_equal(a, b) and shift_a == shift_b and stretch_a == stretch_b
    assert 0.9 <= stretch_a <= 1.1
    assert (a == ev.CHORD).sum() == (tokens == ev.CHORD).sum()
