"""Score the test edits with each setting and write one JSON line per score.

The parts, each a list of (edit, seed) jobs:
- `accept`: the acceptance runs: the 30-s, 5-shot edit with each Ekman emotion in every shot,
  three seeds each, and the 3-minute edit with each emotion (seed 0);
- `suite`: the mixed-mood edits of `edits.suite` (5-s grid, montage, a 60-s take, dialogue,
  3 and 10 minutes), seed 0;
- `sweep`: the mood response: the 30-s edit (a different one per seed) with one mood
  everywhere, valence stepped over -1..+1 at arousal 0 and arousal over -1..+1 at valence 0;
- `unseen` and `unseen_sweep`: more edits of the acceptance and suite kinds, and the same
  sweeps, from edit seeds (5000 on) that no engine or training change was checked against.

Each row holds commit, date, machine, the setting, edit, mood and seed, the degeneration
statistics, cut contrast, mode and new-pitch density, instrument activity and the distance
features of its excerpts; the MIDI goes beside the rows for the piano rolls.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pretty_midi

from ..emotion.mapping import EKMAN6
from ..music.harmony import MAJOR_LIKE, NOTE_NAMES
from . import distance, edits, measures
from .engines import SETTINGS, Setting, compose, with_weights
from .reference import reference_pieces

LEVELS = (-1.0, -0.5, 0.0, 0.5, 1.0)
UNSEEN = 5000  # first edit seed of the "unseen" part
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Job:
    part: str
    edit: edits.TestEdit
    seed: int
    sweep: str = ""  # "valence" / "arousal" for sweep jobs
    edit_seed: int = 0  # the seed the edit was made from

    @property
    def label(self) -> str:
        """The edit's one mood, or "mixed"."""
        return self.edit.labels[0] if len(set(self.edit.labels)) == 1 else "mixed"

    def key(self, setting: str) -> tuple:
        """What makes a score the same one again (a resumed run skips it)."""
        return (
            setting,
            self.part,
            self.edit.name,
            self.label,
            self.seed,
            self.sweep,
            self.edit_seed,
        )


def _row_key(r: dict) -> tuple:
    return (
        r["setting"],
        r["part"],
        r["edit"],
        r["label"],
        r["seed"],
        r.get("sweep", ""),
        r.get("edit_seed", 0),
    )


def jobs(parts: list[str], sweep_seeds: int, accept_seeds: int = 3) -> Iterator[Job]:
    if "accept" in parts or "accept_short" in parts:
        for emotion in EKMAN6:
            for seed in range(accept_seeds):
                yield Job("accept", edits.one_mood(edits.short_edit(0), emotion), seed)
    if "accept" in parts:
        for emotion in EKMAN6:
            yield Job("accept", edits.one_mood(edits.reel_3min(0), emotion), 0)
    if "unseen" in parts:
        # More edits of the same kinds from seeds no engine change was ever checked against
        # (the arranger was last tuned looking at edit seeds 1-30 and 1000-1399).
        for k in range(UNSEEN, UNSEEN + 20):
            for emotion in EKMAN6:
                yield Job("unseen", edits.one_mood(edits.short_edit(k), emotion), 0, edit_seed=k)
        for k in range(UNSEEN, UNSEEN + 5):
            for emotion in EKMAN6:
                yield Job("unseen", edits.one_mood(edits.reel_3min(k), emotion), 0, edit_seed=k)
            for edit in edits.suite(k):
                yield Job("unseen", edit, 0, edit_seed=k)
    if "suite" in parts:
        for edit in edits.suite(0):
            yield Job("suite", edit, 0)
    if "sweep" in parts:
        yield from _sweeps("sweep", 100, sweep_seeds)
    if "unseen_sweep" in parts:
        yield from _sweeps("unseen_sweep", UNSEEN + 100, sweep_seeds)


def _sweeps(part: str, first_edit_seed: int, seeds: int) -> Iterator[Job]:
    """One 30-s edit per seed, valence then arousal stepped over LEVELS. The `sweep` part's
    rows record edit seed 0, as they always have (their keys and file names stay valid)."""
    for seed in range(seeds):
        edit_seed = first_edit_seed + seed
        base = edits.short_edit(edit_seed)
        recorded = 0 if part == "sweep" else edit_seed
        for axis in ("valence", "arousal"):
            for level in LEVELS:
                va = f"{level},0" if axis == "valence" else f"0,{level}"
                yield Job(part, edits.one_mood(base, va), seed, axis, edit_seed=recorded)


def machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def commit() -> str:
    """The checkout's commit, "+dirty" when tracked files differ from it."""
    try:
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        return _git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def measure(
    midi: pretty_midi.PrettyMIDI, duration: float, cuts: tuple[float, ...], seed: int
) -> dict:
    """Every per-score measure of the harness."""
    stats = measures.degeneration(midi, duration)
    row = {
        "degeneration": stats,
        "degenerate": measures.degenerate_reasons(stats),
        "contrast": measures.cut_contrast(midi, cuts, duration, seed),
        "mode": measures.major_minus_minor(midi),
        "new_pitches_per_s": measures.new_pitches_per_second(midi, duration),
        "activity": measures.activity(midi, duration),
        "excerpt_features": [
            {k: v.tolist() for k, v in distance.features(notes).items()}
            for notes in distance.excerpts(midi, duration)
        ],
    }
    return row


def score_job(setting: Setting, job: Job, midi_dir: Path) -> dict:
    plan = job.edit.plan(job.seed)
    started = time.perf_counter()
    score = compose(setting, plan, job.seed)
    seconds = time.perf_counter() - started
    label = job.label
    edit_seed = f"_e{job.edit_seed}" if job.part.startswith("unseen") else ""
    name = f"{job.part}_{job.edit.name}{edit_seed}_{label.replace(',', '_')}_s{job.seed}.mid"
    midi_dir.mkdir(parents=True, exist_ok=True)
    score.midi.write(str(midi_dir / name))
    # measure the file as written, as a user's DAW would read it
    midi = pretty_midi.PrettyMIDI(str(midi_dir / name))
    boundaries = tuple(sorted(set(job.edit.cuts_s) | set(job.edit.hits_s)))
    row = {
        "setting": setting.name,
        "settings": setting.as_dict(),
        "part": job.part,
        "edit": job.edit.name,
        "label": label,
        "sweep": job.sweep,
        "edit_seed": job.edit_seed,
        "valence": job.edit.moods[0][0] if label != "mixed" else None,
        "arousal": job.edit.moods[0][1] if label != "mixed" else None,
        "seed": job.seed,
        "duration_s": job.edit.duration_s,
        "n_cuts": len(job.edit.cuts_s),
        "n_hits": len(job.edit.hits_s),
        "generate_s": round(seconds, 3),
        "midi": f"midi/{midi_dir.name}/{name}",
    }
    row.update(measure(midi, job.edit.duration_s, boundaries, job.seed))
    keys = {(s.key.tonic, s.key.mode) for s in plan.scenes}
    if len(keys) == 1:  # one key asked for: is it the key heard? (transformer diagnostics)
        ((tonic, mode),) = keys
        row["planned_key"] = f"{NOTE_NAMES[tonic]} {mode}"
        row["planned_key_rank"] = measures.key_rank(midi, tonic, mode not in MAJOR_LIKE)
    return row


def reference_rows(cache: Path) -> Iterator[dict]:
    for piece in reference_pieces(cache):
        row = {
            "setting": "reference",
            "settings": {"name": "reference", "engine": "music21 held-out pieces"},
            "part": "reference",
            "edit": piece.name,
            "label": "",
            "seed": 0,
            "duration_s": piece.duration_s,
            "n_cuts": len(piece.chord_changes_s),
            "midi": "",
        }
        # the piece's own chord changes stand in for cuts
        row.update(measure(piece.midi, piece.duration_s, piece.chord_changes_s, 0))
        yield row


def run(
    settings: list[str],
    parts: list[str],
    out: Path,
    sweep_seeds: int,
    cache: Path,
    quiet: bool,
    weights: Path | None = None,
) -> int:
    """Append rows for every (setting, job) to `out` (JSON lines); skip rows already there.
    `weights`: the transformer settings run a candidate model from that folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add(_row_key(r))
    stamp = {"commit": commit(), "date": datetime.date.today().isoformat(), "machine": machine()}
    chosen = [SETTINGS[s] for s in settings if s != "reference"]
    if weights is not None:
        chosen = [with_weights(s, str(weights)) if s.engine == "transformer" else s for s in chosen]
    todo = [(s, j) for s in chosen for j in jobs(parts, sweep_seeds)]
    written = 0
    with out.open("a") as f:
        if "reference" in settings and ("reference", "reference") not in {d[:2] for d in done}:
            for row in reference_rows(cache):
                f.write(json.dumps({**stamp, **row}) + "\n")
                written += 1
        for k, (setting, job) in enumerate(todo):
            if job.key(setting.name) in done:
                continue
            row = score_job(setting, job, out.parent / "midi" / setting.name)
            f.write(json.dumps({**stamp, **row}) + "\n")
            f.flush()
            written += 1
            if not quiet:
                flag = "DEGENERATE " + "; ".join(row["degenerate"]) if row["degenerate"] else "ok"
                print(
                    f"[{k + 1}/{len(todo)}] {setting.name} {job.part} {job.edit.name} {job.label} "
                    f"s{job.seed}: {row['generate_s']:.1f} s, {flag}",
                    file=sys.stderr,
                    flush=True,
                )
    return written
