"""Training corpus: MIDI / music21 scores -> token shards on disk, with labels and a manifest.

Sources (`emsync train --build-corpus SRC... --out DIR`):

- `music21` or `music21:bach,monteverdi`: sub-corpora of the corpus inside the music21 wheel
  (offline). `MUSIC21_SUBCORPORA` lists the default ones and docs/corpus.md their licences.
- a folder (searched recursively for .mid/.midi) or a single MIDI file. A MIDI file with a
  label sidecar (`song.json` next to `song.mid`, `sidecar.FORMAT`; the MMA corpus writes one
  per song) gets its `<CHORD>` boundaries and its valence/arousal/mode from it instead of
  from chord recognition and the proxy labels. `--build-mma OUT` (`mma_corpus.py`) and
  `--build-arranger OUT` (`arranger_corpus.py`) write such folders.

Labels per window: every record also holds `windows` (token index where each window starts,
with its known labels or its raw proxy features; 8 bars per window, or the sidecar's
sections), and `Corpus.labels_at(piece, token)` gives the labels of the window a token is in.

Pipeline. The main process lists the files and hashes their bytes (duplicates by content are
dropped, the first path in sorted order kept), then cuts the list, in content-hash order, into
shards of `shard_size` files. Worker processes each build one shard: parse, map parts to
instrument groups, recognise chords, encode tokens with `<CHORD>` at the boundaries, compute
raw label features. A shard is `shard_NNNNN.npy` (uint16 tokens of its pieces, concatenated)
plus `shard_NNNNN.json` (one record per file: offset, length, split, features, or why it was
skipped), written to temporary names and renamed, JSON last, so an interrupted build leaves no
half shard; a re-run skips every shard whose JSON exists with the same file list. Only one
shard per worker is ever in memory, so the folder size does not matter. Finally labels are
fitted (`labels.LabelScaler` on the training pieces) and `manifest.json` is written.

The split is by piece and deterministic: a piece is in validation when the first 8 hex digits
of its content hash, as a number, are below `val_percent`% of 2^32, independent of the other
files, of their order and of the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import EmsyncError
from . import arranger_corpus, chords, events, labels, mma_corpus, sidecar
from .events import BASS, STRINGS, Note, Piece

FORMAT_VERSION = 2  # 2: per-window labels and sidecar labels in the records
MIDI_SUFFIXES = {".mid", ".midi"}
MAX_MIDI_BYTES = 4 * 1024 * 1024  # a few Lakh files are huge and pathological; skip them

# music21 sub-corpora: (folder, file suffixes). Multi-voice works with public-domain music and
# encodings distributed with music21 without a non-commercial clause; see docs/corpus.md.
MUSIC21_SUBCORPORA: dict[str, tuple[str, ...]] = {
    "bach": (".mxl", ".xml"),  # 4-part chorales
    "monteverdi": (".mxl",),  # 5-part madrigals (the .rntxt files are analyses, not music)
    "beethoven": (".mxl",),  # string quartets
    "haydn": (".mxl",),  # string quartets
    "mozart": (".mxl",),  # string quartets and a sonata
}


@dataclass(frozen=True)
class Item:
    """One source file: how to read it and its content hash."""

    kind: str  # "midi" or "music21"
    path: str
    sha1: str

    @property
    def split(self) -> str:
        return split_of(self.sha1, _VAL_PERCENT)


_VAL_PERCENT = 5.0


def split_of(sha1: str, val_percent: float) -> str:
    return "val" if int(sha1[:8], 16) < val_percent / 100 * 2**32 else "train"


# ---------------------------------------------------------------------------------------
# Reading pieces


def piece_from_music21(score) -> Piece:  # noqa: ANN001 (music21 stream; imported lazily)
    """Notes, beats and downbeats of a music21 score.

    Parts become instrument groups by role, not by their (often missing or placeholder)
    program: with three or more parts the lowest one is BASS and the others STRINGS, the
    string-section-plus-bass texture a chorale, madrigal or quartet turns into in a score.
    """
    parts = list(score.parts) or [score]
    seconds = _seconds_map(score)
    part_notes: list[list[Note]] = []
    for part in parts:
        notes = []
        for n in part.flatten().stripTies().notes:
            ql = float(n.quarterLength)
            if ql <= 0:
                continue  # grace notes
            start = seconds(float(n.offset))
            end = seconds(float(n.offset) + ql)
            velocity = n.volume.velocity if n.volume.velocity is not None else 80
            for p in n.pitches:
                pitch = events.fold_pitch(int(p.midi))
                notes.append(Note(STRINGS, pitch, start, end, int(velocity)))
        if notes:
            part_notes.append(notes)
    if len(part_notes) >= 3:
        lowest = min(
            range(len(part_notes)), key=lambda i: np.mean([n.pitch for n in part_notes[i]])
        )
        part_notes[lowest] = [
            Note(BASS, n.pitch, n.start, n.end, n.velocity) for n in part_notes[lowest]
        ]
    notes = [n for ns in part_notes for n in ns]
    beats, downbeats = _music21_grid(parts[0], seconds)
    return Piece(notes, beats, downbeats)


def _seconds_map(score):  # noqa: ANN001, ANN202
    """Quarter-length offset -> seconds, following the score's metronome marks."""
    bounds = score.flatten().metronomeMarkBoundaries()
    starts = [float(b[0]) for b in bounds]
    spq = [float(b[2].secondsPerQuarter()) for b in bounds]
    cumulative = [0.0]
    for i in range(1, len(bounds)):
        cumulative.append(cumulative[-1] + (starts[i] - starts[i - 1]) * spq[i - 1])

    def seconds(ql: float) -> float:
        i = max(int(np.searchsorted(starts, ql, side="right")) - 1, 0)
        return cumulative[i] + (ql - starts[i]) * spq[i]

    return seconds


def _music21_grid(part, seconds) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Beat and downbeat times from the measures; a pickup measure counts back from its end."""
    beats: list[float] = []
    downbeats: list[float] = []
    ts = None
    for index, m in enumerate(part.getElementsByClass("Measure")):
        ts = m.timeSignature or ts
        if ts is None:
            from music21 import meter

            ts = meter.TimeSignature("4/4")
        bar = float(ts.barDuration.quarterLength)
        beat = float(ts.beatDuration.quarterLength)
        actual = float(m.duration.quarterLength) or bar
        phase = bar - actual if index == 0 and actual < bar - 1e-6 else 0.0
        if phase == 0.0:
            downbeats.append(seconds(float(m.offset)))
        k = int(np.ceil(phase / beat - 1e-9))
        while k * beat - phase < actual - 1e-9:
            beats.append(seconds(float(m.offset) + k * beat - phase))
            k += 1
    return np.asarray(beats), np.asarray(downbeats)


def load_piece(item: Item) -> Piece:
    if item.kind == "music21":
        from music21 import converter

        return piece_from_music21(converter.parse(item.path, forceSource=True))
    import pretty_midi

    return events.piece_from_midi(pretty_midi.PrettyMIDI(item.path))


# ---------------------------------------------------------------------------------------
# Listing sources


def music21_root() -> Path:
    import music21.corpus

    return Path(music21.corpus.__file__).parent


def list_sources(sources: Sequence[str]) -> tuple[list[Item], int]:
    """(unique items in content-hash order, number of duplicates dropped)."""
    candidates: list[tuple[str, Path]] = []
    for source in sources:
        if source == "music21" or source.startswith("music21:"):
            names = source.split(":", 1)[1].split(",") if ":" in source else MUSIC21_SUBCORPORA
            for name in names:
                if name not in MUSIC21_SUBCORPORA:
                    raise EmsyncError(
                        f"unknown music21 sub-corpus {name!r}; choose from "
                        f"{', '.join(MUSIC21_SUBCORPORA)}"
                    )
                folder = music21_root() / name
                suffixes = MUSIC21_SUBCORPORA[name]
                files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes)
                candidates.extend(("music21", p) for p in files)
            continue
        path = Path(source)
        if path.is_file():
            candidates.append(("midi", path))
        elif path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file()
            )
            candidates.extend(("midi", p) for p in files)
        else:
            raise EmsyncError(
                f"corpus source {source!r} is neither a folder, a MIDI file nor "
                "'music21[:sub,corpora]'"
            )
    seen: set[str] = set()
    items: list[Item] = []
    duplicates = 0
    for kind, path in candidates:
        content = path.read_bytes()
        label_file = sidecar.path_for(path)
        if kind == "midi" and label_file.is_file():
            content += label_file.read_bytes()  # new labels -> new hash -> the shard rebuilds
        digest = hashlib.sha1(content).hexdigest()
        if digest in seen:
            duplicates += 1
            continue
        seen.add(digest)
        items.append(Item(kind, str(path), digest))
    # Shards take files in hash order, so slow files (long quartets) spread over all shards
    # instead of piling into the last one and leaving the other workers idle.
    items.sort(key=lambda item: item.sha1)
    return items, duplicates


# ---------------------------------------------------------------------------------------
# Building shards


def process_item(item: Item, val_percent: float) -> tuple[np.ndarray | None, dict]:
    """Tokens and the record for one file; broken or empty files get a record and no tokens."""
    record: dict = {"path": item.path, "kind": item.kind, "sha1": item.sha1}
    if item.kind == "midi" and os.path.getsize(item.path) > MAX_MIDI_BYTES:
        record["status"] = "too_large"
        return None, record
    try:
        piece = load_piece(item)
    except Exception as exc:  # any parser failure means a broken file: skip and count it
        record["status"] = "broken"
        record["error"] = f"{type(exc).__name__}: {exc}"[:200]
        return None, record
    if not piece.notes:
        record["status"] = "empty"
        return None, record
    spans = chords.recognize(piece)
    known = sidecar.read(item.path) if item.kind == "midi" else None
    if known is not None:
        # The chart is known: power-chord grooves have no third and recognition finds nothing.
        bounds = [t for t in known.boundaries_s if t < piece.duration]
    else:
        bounds = chords.boundaries(spans)
    tokens = events.encode(piece, bounds)
    raw = labels.raw_features(piece, spans)
    if known is not None:
        record["source"] = known.source
        record["known"] = {
            "valence": known.valence,
            "arousal": known.arousal,
            "mode": known.mode,
            "tonic": known.tonic,
        }
    else:
        record["source"] = item.kind
    record["windows"] = _windows(piece, spans, tokens, known)
    group_notes = np.bincount([n.group for n in piece.notes], minlength=len(events.GROUPS))
    record.update(
        status="ok",
        split=split_of(item.sha1, val_percent),
        duration_s=round(piece.duration, 3),
        n_tokens=int(tokens.size),
        groups=[events.GROUPS[g] for g in piece.groups],
        group_notes=[int(c) for c in group_notes],
        n_chords=len(spans),
        n_boundaries=len(bounds),
        raw=raw.as_dict(),
    )
    return tokens, record


def _windows(
    piece: Piece, spans: list[chords.ChordSpan], tokens: np.ndarray, known: sidecar.Sidecar | None
) -> list[dict]:
    """Per-window labels with the token index where each window starts (see module doc)."""
    steps = events.token_times(tokens)

    def token_at(t: float) -> int:
        return int(np.searchsorted(steps, round(t / events.STEP_S), side="left"))

    if known is not None:
        return [
            {
                "token": token_at(w.start_s),
                "start_s": w.start_s,
                "valence": w.valence,
                "arousal": w.arousal,
                "mode": w.mode,
                **({"tonic": w.tonic} if w.tonic is not None else {}),
            }
            for w in known.windows
            if w.start_s < piece.duration
        ]
    edges = labels.window_edges(piece)
    feats = labels.window_features(piece, spans, edges)
    return [
        {"token": token_at(t), "start_s": round(float(t), 3), "raw": f.as_dict()}
        for t, f in zip(edges[:-1], feats, strict=True)
    ]


def mix_weights(pieces: Sequence[dict], max_share: dict[str, float]) -> np.ndarray:
    """Sampling weights (sum 1) proportional to tokens, with each capped source (e.g.
    {"mma": 0.7}) scaled down to at most its share of the total and the others sharing the
    rest in proportion; grooves are loops, so the MMA songs should not drown the real music
    (docs/corpus.md)."""
    tokens = np.array([p["n_tokens"] for p in pieces], dtype=float)
    sources = np.array([p.get("source") for p in pieces], dtype=object)
    share = {s: tokens[sources == s].sum() / tokens.sum() for s in set(sources)}
    fixed: dict[str, float] = {}
    # Capping one source raises the others' shares, which may push another over its cap.
    while True:
        rest = 1 - sum(fixed.values())
        free = sum(v for s, v in share.items() if s not in fixed)
        over = [
            s
            for s in share
            if s not in fixed
            and s in max_share
            and free > 0
            and share[s] / free * rest > max_share[s]
        ]
        if not over:
            break
        fixed.update({s: max_share[s] for s in over})
    scale = {s: fixed[s] / v if s in fixed else rest / free for s, v in share.items() if v > 0}
    weights = tokens / tokens.sum() * np.array([scale.get(s, 0.0) for s in sources])
    return weights / weights.sum()


def _digest(items: Sequence[Item], val_percent: float) -> str:
    h = hashlib.sha1(f"v{FORMAT_VERSION}:{val_percent}".encode())
    for item in items:
        h.update(f"{item.kind}:{item.path}:{item.sha1}\n".encode())
    return h.hexdigest()


def build_shard(job: tuple[Path, int, list[Item], float]) -> tuple[int, bool]:
    """Write shard `index` unless an identical one is already there. (index, built?)"""
    out, index, items, val_percent = job
    meta_path = out / f"shard_{index:05d}.json"
    digest = _digest(items, val_percent)
    if meta_path.exists():
        try:
            if json.loads(meta_path.read_text())["digest"] == digest:
                return index, False
        except (ValueError, KeyError):
            pass  # unreadable: rebuild it
    chunks: list[np.ndarray] = []
    records: list[dict] = []
    offset = 0
    for item in items:
        tokens, record = process_item(item, val_percent)
        if tokens is not None:
            record["offset"] = offset
            offset += tokens.size
            chunks.append(tokens)
        records.append(record)
    data = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.uint16)
    tmp = out / f".shard_{index:05d}.npy.tmp"
    with open(tmp, "wb") as fh:
        np.save(fh, data)
    os.replace(tmp, out / f"shard_{index:05d}.npy")
    tmp = out / f".shard_{index:05d}.json.tmp"
    tmp.write_text(json.dumps({"digest": digest, "n_tokens": int(data.size), "pieces": records}))
    os.replace(tmp, meta_path)
    return index, True


def build_corpus(
    sources: Sequence[str],
    out: Path,
    workers: int = 2,
    shard_size: int = 32,
    val_percent: float = 5.0,
    progress: bool | None = None,
) -> dict:
    """Build (or finish) the corpus in `out`; returns the manifest."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    show = sys.stderr.isatty() if progress is None else progress
    items, duplicates = list_sources(sources)
    shards = [items[i : i + shard_size] for i in range(0, len(items), shard_size)]
    jobs = [(out, i, shard, val_percent) for i, shard in enumerate(shards)]
    built = 0
    bar = tqdm(total=len(jobs), disable=not show, file=sys.stderr, desc="corpus shards")
    if workers > 1 and len(jobs) > 1:
        # fork: workers inherit the imported modules instead of re-importing music21 each.
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(workers, len(jobs)), maxtasksperchild=8) as pool:
            for _, did in pool.imap_unordered(build_shard, jobs):
                built += did
                bar.update(1)
            # Leaving the `with` would terminate (SIGTERM) the idle workers, and the CLI's
            # signal handler would print a traceback for each: let them end on their own.
            pool.close()
            pool.join()
    else:
        for job in jobs:
            built += build_shard(job)[1]
            bar.update(1)
    bar.close()
    # Remove shards left over from a previous build with more files.
    for stale in out.glob("shard_*.*"):
        if int(stale.stem.split("_")[1]) >= len(jobs):
            stale.unlink()
    manifest = _write_manifest(out, len(jobs), duplicates, val_percent)
    manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    manifest["shards_built"] = built
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _write_manifest(out: Path, n_shards: int, duplicates: int, val_percent: float) -> dict:
    counts = {"ok": 0, "broken": 0, "empty": 0, "too_large": 0, "duplicate": duplicates}
    train_features = []
    shards = []
    totals = {"train": [0, 0, 0.0], "val": [0, 0, 0.0]}  # pieces, tokens, seconds
    for index in range(n_shards):
        meta = json.loads((out / f"shard_{index:05d}.json").read_text())
        shards.append({"file": f"shard_{index:05d}.npy", "n_tokens": meta["n_tokens"]})
        for rec in meta["pieces"]:
            counts[rec["status"]] += 1
            if rec["status"] != "ok":
                continue
            total = totals[rec["split"]]
            total[0] += 1
            total[1] += rec["n_tokens"]
            total[2] += rec["duration_s"]
            if rec["split"] == "train":
                train_features.append(_raw(rec))
    scaler = labels.LabelScaler.fit(train_features)
    return {
        "format_version": FORMAT_VERSION,
        "vocab_size": events.VOCAB_SIZE,
        "groups": list(events.GROUPS),
        "step_s": events.STEP_S,
        "val_percent": val_percent,
        "counts": counts,
        "splits": {
            k: {"pieces": v[0], "tokens": v[1], "hours": round(v[2] / 3600, 3)}
            for k, v in totals.items()
        },
        "label_scaler": scaler.to_json(),
        "shards": shards,
    }


def _raw(rec: dict) -> labels.RawFeatures:
    return labels.RawFeatures(**rec["raw"])


# ---------------------------------------------------------------------------------------
# Reading a built corpus


def _piece_key(rec: dict) -> int:
    """The piece's key index (`labels.key_index`): the generator's when it wrote one, else
    the key profile's best match over the whole piece (its tonic under a known mode in
    corpora built before sidecars kept the tonic)."""
    known = rec.get("known")
    detected = labels.parse_key(rec["raw"]["key"])
    if not known:
        return detected
    tonic = known.get("tonic")
    if tonic is None:
        tonic = detected % 12 if detected != labels.NULL_KEY else None
    return labels.NULL_KEY if tonic is None else labels.key_index(int(tonic), known["mode"])


def _window_key(rec: dict, window: dict) -> int:
    """A window's key index: its own known key (a generator that modulates writes one), the
    piece's tonic in the window's known mode, else the key profile's best match over the
    window; NULL_KEY for a window without notes."""
    if "tonic" in window:
        return labels.key_index(int(window["tonic"]), window["mode"])
    if "raw" not in window:
        if rec["key"] == labels.NULL_KEY:
            return labels.NULL_KEY
        return labels.key_index(rec["key"] % 12, window["mode"])
    if window["raw"]["density"] <= 0:
        return labels.NULL_KEY
    return labels.parse_key(window["raw"]["key"])


class Corpus:
    """A built corpus: pieces with labels, tokens read lazily from memory-mapped shards."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.manifest = json.loads((self.root / "manifest.json").read_text())
        self.scaler = labels.LabelScaler.from_json(self.manifest["label_scaler"])
        self.pieces: list[dict] = []
        for index, shard in enumerate(self.manifest["shards"]):
            meta = json.loads((self.root / shard["file"]).with_suffix(".json").read_text())
            for rec in meta["pieces"]:
                if rec["status"] == "ok":
                    raw = _raw(rec)
                    rec["shard"] = index
                    known = rec.get("known")
                    rec["valence"] = known["valence"] if known else self.scaler.valence(raw)
                    rec["arousal"] = known["arousal"] if known else self.scaler.arousal(raw)
                    windows = rec.get("windows") or []
                    rec["window_tokens"] = np.array([w["token"] for w in windows], dtype=int)
                    rec["window_labels"] = [self._window_labels(w) for w in windows]
                    rec["key"] = _piece_key(rec)
                    rec["window_keys"] = [_window_key(rec, w) for w in windows]
                    self.pieces.append(rec)
        self._maps: dict[int, np.ndarray] = {}

    def _window_labels(self, window: dict) -> tuple[float, float]:
        if "raw" in window:
            raw = labels.RawFeatures(**window["raw"])
            return self.scaler.valence(raw), self.scaler.arousal(raw)
        return float(window["valence"]), float(window["arousal"])

    def labels_at(self, piece: dict, token: int) -> tuple[float, float]:
        """(valence, arousal) of the window that token index `token` of `piece` falls in;
        the piece's own labels when it has no windows (corpora built before version 2)."""
        starts = piece.get("window_tokens")
        if starts is None or len(starts) == 0:
            return float(piece["valence"]), float(piece["arousal"])
        i = max(int(np.searchsorted(starts, token, side="right")) - 1, 0)
        return piece["window_labels"][i]

    def split(self, name: str) -> list[dict]:
        return [p for p in self.pieces if p["split"] == name]

    def tokens(self, piece: dict) -> np.ndarray:
        index = piece["shard"]
        if index not in self._maps:
            self._maps[index] = np.load(
                self.root / self.manifest["shards"][index]["file"], mmap_mode="r"
            )
        return self._maps[index][piece["offset"] : piece["offset"] + piece["n_tokens"]]

    def __iter__(self) -> Iterator[dict]:
        return iter(self.pieces)


def random_augment(
    tokens: np.ndarray,
    rng: np.random.Generator,
    max_transpose: int = 3,
    stretch: tuple[float, float] = (0.9, 1.1),
) -> tuple[np.ndarray, int, float]:
    """On-the-fly augmentation for training (paper: `max_transpose=3`): the tokens, the
    transposition in semitones (the key label moves with it) and the tempo stretch (times
    in the window move with it)."""
    shift = int(rng.integers(-max_transpose, max_transpose + 1))
    factor = float(rng.uniform(*stretch))
    return events.augment(tokens, shift, factor), shift, factor


# ---------------------------------------------------------------------------------------
# Command line (wired into `emsync train` by cli.py)


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--build-corpus",
        nargs="+",
        metavar="SRC",
        help="build a training corpus from MIDI folders/files and/or 'music21' "
        f"(or 'music21:{','.join(MUSIC21_SUBCORPORA)}')",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="with --build-corpus: the corpus folder (re-running finishes or reuses it); "
        "with --corpus: the training run folder",
    )
    p.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes to use"
    )
    p.add_argument("--shard-size", type=int, default=32, help="files per shard")
    mma_corpus.configure_parser(p)
    arranger_corpus.configure_parser(p)
    p.add_argument(
        "--val-percent", type=float, default=5.0, help="share of pieces held out for validation"
    )


def run(args: argparse.Namespace) -> int:
    if getattr(args, "build_mma", None) is not None:
        if args.build_corpus:
            raise EmsyncError("give either --build-mma OUT or --build-corpus SRC..., not both")
        return mma_corpus.run(args)
    if getattr(args, "build_arranger", None) is not None:
        if args.build_corpus:
            raise EmsyncError("give either --build-arranger OUT or --build-corpus SRC..., not both")
        return arranger_corpus.run(args)
    if not args.build_corpus:
        raise EmsyncError("nothing to do: give --build-corpus SRC... --out DIR")
    if args.out is None:
        raise EmsyncError("--build-corpus needs --out DIR (where the shards go)")
    if args.workers < 1 or args.shard_size < 1 or not 0 <= args.val_percent < 100:
        raise EmsyncError("--workers and --shard-size must be >= 1, --val-percent in [0, 100)")
    manifest = build_corpus(
        args.build_corpus,
        args.out,
        workers=args.workers,
        shard_size=args.shard_size,
        val_percent=args.val_percent,
    )
    c, s = manifest["counts"], manifest["splits"]
    print(
        f"corpus: {c['ok']} pieces ({s['train']['pieces']} train, {s['val']['pieces']} val), "
        f"{s['train']['tokens'] + s['val']['tokens']} tokens, "
        f"{s['train']['hours'] + s['val']['hours']:.2f} h; skipped {c['broken']} broken, "
        f"{c['empty']} empty, {c['too_large']} too large, {c['duplicate']} duplicates; "
        f"{manifest['shards_built']}/{len(manifest['shards'])} shards built in "
        f"{manifest['build_seconds']:.1f} s -> {args.out}"
    )
    return 0
