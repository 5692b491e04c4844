"""MMA's groove libraries: what is installed, what each groove sounds like, which ones to use.

`inventory` runs `mma -Djs FILE` (MMA's JSON dump of a library file's grooves) over every
library file; `measure` renders each main groove for 4 bars at 120 bpm over the chart
C C Am Am and reads the MIDI back; `curate` applies the rules below to both. The rules are
plain functions of the records so a test can check them on a hand-written inventory.

Measured curation rules (mma-corpus.md section 2; numbers from the measurement render):

- drums-only: the zoom library (drum-machine patterns) and any groove whose tracks are all
  DRUM tracks teach nothing about harmony;
- density: onsets per second per active instrument group at 120 bpm above 20 (the 10th-90th
  percentile over families is 2.9-9.9; kara/happyshuffle plays 46);
- too many tracks: more than 8 pitched MIDI tracks (happyshuffle-like stacks of organs);
- wrong register: a BASS-group track whose median pitch is above MIDI 60, or another pitched
  track with its median below 36 or above 96 (an organ comping in MIDI 23-33);
- no recognisable chord: `chords.recognize` finds the charted chord (C, then Am) for less
  than half the chord time. Power-chord grooves (root and fifth, no third) fail this; their
  `<CHORD>` boundaries would otherwise come from the chart while the notes say nothing.

Some grooves play their bass track with a guitar or organ voice (bossa, salsa, hymn), which
EMSYNC would file under GUITAR or KEYS; when a groove has no real bass voice, `force_bass`
names the tracks the song writer re-voices to AcousticBass.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import EmsyncError

LIB_DIR = Path("/usr/share/mma/lib")
DRUM_ONLY_LIBS = {"zoom"}
DROP_FAMILIES = {"stdlib/metronome", "stdlib/metronome3", "stdlib/metronome6"}
DROP_FAMILIES |= {"stdlib/metronome68", "stdlib/none"}
MAX_DENSITY = 20.0  # onsets/s/group at 120 bpm
MAX_PITCHED_TRACKS = 8
MIN_CHORD_SHARE = 0.5
BASS_VOICES = {
    "AcousticBass", "FingeredBass", "PickedBass", "FretlessBass", "SlapBass1", "SlapBass2",
    "SynthBass1", "SynthBass2", "ContraBass", "Tuba", "Timpani",
}  # fmt: skip
MEASURE_CHART = ("C", "C", "Am", "Am")
# The cached inventory's layout: 2 added `Measure.density_pitched` (the density of a groove
# with its drum tracks switched off, for songs that leave the kit out) and a seeded
# measurement render; an older cache is measured again.
INVENTORY_FORMAT = 2

# Typical tempo range and pairing style of a family, from words in its file name (first match
# wins; library files almost never set a tempo). Ranges from mma-corpus.md section 2.
TEMPO_RULES: tuple[tuple[str, tuple[int, int], str], ...] = (
    (r"lullaby|slow", (56, 76), "hymn"),
    (r"hymn|spiritual|ballad|ambient", (64, 88), "hymn"),
    (r"march", (104, 124), "hymn"),
    (r"waltz|68|12", (90, 140), "hymn"),
    (r"bebop|quickstep|bluegrass|fastswing|fastjazz", (170, 220), "jazz"),
    (r"salsa|mambo|ska|metal|merengue|polka", (140, 180), "vamp"),
    (r"blues|boogie|boggie|shuffle", (90, 130), "blues"),
    (r"swing|jazz|bigband|basie|dixie|foxtrot|ragtime|charleston|showtune|broadway|softshoe",
     (110, 160), "jazz"),
    (r"bossa|samba|rhumba|beguine|bolero|tango|chacha|son|latin|calypso", (100, 140), "jazz"),
    (r"funk|rb|soul|hiphop|strut", (88, 112), "vamp"),
    (r"dance|trance|disco|techno|house|euro", (120, 132), "vamp"),
    (r"rock|pop|beat|twist|folk|country|western|zydeco|jive", (96, 132), "pop"),
)  # fmt: skip
DEFAULT_TEMPO = ((90, 130), "pop")


@dataclass(frozen=True)
class Track:
    name: str  # MMA track name, e.g. "BASS-9", "CHORD-SUS", "DRUM-KICK"
    voice: str  # first voice of its sequence

    @property
    def kind(self) -> str:
        return self.name.split("-")[0].upper()


@dataclass(frozen=True)
class Groove:
    lib: str
    file: str
    name: str
    size: int  # sequence length in bars
    beats: int  # MMA `Time`: beats per bar
    tracks: tuple[Track, ...]

    @property
    def family(self) -> str:
        return f"{self.lib}/{self.file}"

    @property
    def ref(self) -> str:
        """The extended groove name MMA accepts anywhere (no clashes between libraries)."""
        return f"{self.lib}/{self.file}:{self.name}"

    @property
    def role(self) -> str:
        return role_of(self.name)

    @property
    def drums_only(self) -> bool:
        return all(t.kind == "DRUM" for t in self.tracks)

    @property
    def has_drums(self) -> bool:
        """MMA DRUM tracks render on the drum channel (EMSYNC's DRUMS group); checked against
        the measurement renders: no curated main groove differs."""
        return any(t.kind == "DRUM" for t in self.tracks)

    @property
    def force_bass(self) -> tuple[str, ...]:
        """Bass/walk tracks to re-voice: only when no bass track already has a bass voice."""
        low = [t for t in self.tracks if t.kind in ("BASS", "WALK")]
        if any(t.voice in BASS_VOICES for t in low):
            return ()
        return tuple(t.name for t in low)


@dataclass(frozen=True)
class Measure:
    """What the 4-bar render at 120 bpm showed (see the module docstring)."""

    density: float  # onsets per second per active group
    pitched_tracks: int
    groups: tuple[str, ...]
    medians: dict[str, float] = field(default_factory=dict)  # track name -> median pitch
    track_groups: dict[str, str] = field(default_factory=dict)  # track name -> EMSYNC group
    chord_share: float = 0.0  # share of chord time recognised as the charted chord
    # The same count without the drum channel: pitched onsets/s per pitched group (what a
    # section renders when the song switches its DRUM tracks off). None in old caches.
    density_pitched: float | None = None


def role_of(name: str) -> str:
    low = name.lower()
    if "intro" in low:
        return "intro"
    if re.search(r"end(ing)?[a-z]?\d*$", low):
        return "end"
    if "fill" in low or "break" in low:
        return "fill"
    return "main"


def tempo_and_style(family: str) -> tuple[tuple[int, int], str]:
    name = family.split("/")[-1].lower()
    for pattern, tempo, style in TEMPO_RULES:
        if re.search(pattern, name):
            return tempo, style
    return DEFAULT_TEMPO


# ---------------------------------------------------------------------------------------
# Inventory


def mma_version() -> str:
    try:
        out = subprocess.run(["mma", "-v"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise EmsyncError(
            "`mma` is not installed; it is a build-time tool for the MMA corpus. "
            "Run scripts/setup-training.sh (apt-get install mma) and try again."
        ) from None
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "unknown"


def _beats_of(text: str) -> int:
    m = re.search(r"^\s*Time\s+(\d+)", text, flags=re.MULTILINE | re.IGNORECASE)
    return int(m.group(1)) if m else 4


def parse_dump(lib: str, path: Path, dump: str) -> list[Groove]:
    """Grooves of one library file from its `mma -Djs` output."""
    start = dump.find("[")
    if start < 0:
        return []
    beats = _beats_of(path.read_text(errors="replace"))
    grooves = []
    for g in json.loads(dump[start:]):
        tracks = tuple(Track(t["track"], (t.get("voice") or ["?"])[0]) for t in g.get("tracks", []))
        grooves.append(Groove(lib, path.stem, g["groove"], int(g.get("size", 1)), beats, tracks))
    return grooves


def dump_file(job: tuple[str, str]) -> list[Groove]:
    lib, path = job
    out = subprocess.run(["mma", "-Djs", path], capture_output=True, text=True, timeout=120)
    seen: set[str] = set()
    unique = []
    for g in parse_dump(lib, Path(path), out.stdout):
        if g.name.lower() not in seen:  # a few files define a variant twice
            seen.add(g.name.lower())
            unique.append(g)
    return unique


def library_files(root: Path = LIB_DIR) -> list[tuple[str, str]]:
    return [
        (lib.name, str(f))
        for lib in sorted(p for p in root.iterdir() if p.is_dir())
        for f in sorted(lib.glob("*.mma"))
    ]


# ---------------------------------------------------------------------------------------
# Measurement


def measure_song(groove: Groove) -> str:
    # A fixed RndSeed: without one, MMA's random skips and velocities differ per run, and two
    # inventories of the same install kept 900 vs 897 main grooves (borderline registers and
    # chord shares).
    lines = ["RndSeed 1", "Tempo 120", f"Groove {groove.ref}"]
    lines += [f"{t} Voice AcousticBass" for t in groove.force_bass]
    return "\n".join(lines + list(MEASURE_CHART)) + "\n"


def measure(groove: Groove) -> Measure | None:
    """Render 4 bars at 120 bpm and measure them; None when MMA produced no notes."""
    import pretty_midi

    from . import chords, events

    with tempfile.TemporaryDirectory(prefix="emsync-mma-") as tmp:
        song = Path(tmp) / "m.mma"
        song.write_text(measure_song(groove))
        mid = Path(tmp) / "m.mid"
        subprocess.run(
            ["mma", "-w", "-xNOCREDIT", str(song), "-f", str(mid)],
            capture_output=True,
            timeout=120,
            cwd=tmp,
        )
        if not mid.exists():
            return None
        midi = pretty_midi.PrettyMIDI(str(mid))
    piece = events.piece_from_midi(midi)
    if not piece.notes:
        return None
    seconds = 4 * groove.beats * 0.5
    groups = piece.groups
    pitched = [n for n in piece.notes if n.group != events.DRUMS]
    pitched_groups = [g for g in groups if g != events.DRUMS]
    medians, track_groups = {}, {}
    for inst in midi.instruments:
        if inst.is_drum or not inst.notes:
            continue
        group = events.group_of(inst.program, False)
        track_groups[inst.name.upper()] = events.GROUPS[group] if group is not None else "-"
        medians[inst.name.upper()] = float(np.median([n.pitch for n in inst.notes]))
    # The charted chord per half: C over bars 1-2, Am over bars 3-4.
    half = seconds / 2
    want = [(0, {"maj", "maj7", "dom7"}), (9, {"min", "min7"})]
    spans = chords.recognize(piece, beats=np.arange(0, seconds, 0.5))
    good = total = 0.0
    for s in spans:
        for index, (root, qualities) in enumerate(want):
            lo, hi = index * half, (index + 1) * half
            overlap = max(0.0, min(s.end, hi) - max(s.start, lo))
            total += overlap
            good += overlap if (s.root == root and s.quality in qualities) else 0.0
    return Measure(
        density=round(len(piece.notes) / seconds / len(groups), 3),
        pitched_tracks=sum(1 for i in midi.instruments if not i.is_drum and i.notes),
        groups=tuple(events.GROUPS[g] for g in groups),
        medians=medians,
        track_groups=track_groups,
        chord_share=round(good / seconds, 3),
        density_pitched=round(len(pitched) / seconds / max(len(pitched_groups), 1), 3),
    )


# ---------------------------------------------------------------------------------------
# Curation


def drop_reason(groove: Groove, m: Measure | None) -> str | None:
    """Why a groove is left out, or None to keep it. Non-main grooves need no measure."""
    if groove.lib in DRUM_ONLY_LIBS:
        return "drums-only library"
    if groove.family in DROP_FAMILIES:
        return "metronome/none"
    if groove.drums_only:
        return "drums only"
    if groove.role != "main":
        return None
    if m is None:
        return "renders no notes"
    if m.density > MAX_DENSITY:
        return f"density {m.density:.1f} > {MAX_DENSITY:.0f} onsets/s/group"
    if m.pitched_tracks > MAX_PITCHED_TRACKS:
        return f"{m.pitched_tracks} pitched tracks > {MAX_PITCHED_TRACKS}"
    for track, median in m.medians.items():
        group = m.track_groups.get(track)
        if group == "BASS" and median > 60:
            return f"wrong register: bass track {track} at median pitch {median:.0f}"
        if group != "BASS" and not 36 <= median <= 96:
            return f"wrong register: {track} at median pitch {median:.0f}"
    if m.chord_share < MIN_CHORD_SHARE:
        return f"no recognisable chord ({m.chord_share:.0%} of the charted chord time)"
    return None


@dataclass(frozen=True)
class Family:
    """One library file's usable grooves, by role."""

    name: str  # lib/file
    beats: int
    mains: tuple[Groove, ...]
    intros: tuple[Groove, ...]
    fills: tuple[Groove, ...]
    ends: tuple[Groove, ...]
    density: dict[str, float]  # main groove ref -> density at 120 bpm
    tempo: tuple[int, int]
    style: str
    # main groove ref -> density at 120 bpm with the DRUM tracks off (= `density` for a
    # groove without drums); empty in hand-made families, see `density_without_drums`.
    density_pitched: dict[str, float] = field(default_factory=dict)

    @property
    def has_drums(self) -> bool:
        return any(g.has_drums for g in self.mains)

    def density_without_drums(self, ref: str) -> float:
        return self.density_pitched.get(ref, self.density[ref])


def curate(
    grooves: Iterable[Groove], measures: dict[str, Measure | None]
) -> tuple[list[Family], dict[str, str]]:
    """(families with at least one kept main groove, dropped groove ref -> reason)."""
    dropped: dict[str, str] = {}
    by_family: dict[str, list[Groove]] = {}
    for g in grooves:
        reason = drop_reason(g, measures.get(g.ref))
        if reason:
            dropped[g.ref] = reason
        else:
            by_family.setdefault(g.family, []).append(g)
    families = []
    for name, gs in sorted(by_family.items()):
        mains = tuple(g for g in gs if g.role == "main" and g.beats == gs[0].beats)
        if not mains:
            for g in gs:
                dropped[g.ref] = "no usable main groove in its family"
            continue
        tempo, style = tempo_and_style(name)
        families.append(
            Family(
                name=name,
                beats=mains[0].beats,
                mains=mains,
                intros=tuple(g for g in gs if g.role == "intro"),
                fills=tuple(g for g in gs if g.role == "fill"),
                ends=tuple(g for g in gs if g.role == "end"),
                density={g.ref: measures[g.ref].density for g in mains},  # type: ignore[union-attr]
                tempo=tempo,
                style=style,
                density_pitched={
                    g.ref: m.density_pitched
                    for g in mains
                    if (m := measures[g.ref]) is not None and m.density_pitched is not None
                },
            )
        )
    return families, dropped


# ---------------------------------------------------------------------------------------
# (De)serialising the inventory cache


def groove_to_json(g: Groove) -> dict:
    return {**asdict(g), "tracks": [[t.name, t.voice] for t in g.tracks]}


def groove_from_json(d: dict) -> Groove:
    tracks = tuple(Track(n, v) for n, v in d["tracks"])
    return Groove(d["lib"], d["file"], d["name"], d["size"], d["beats"], tracks)


def measure_from_json(d: dict | None) -> Measure | None:
    if d is None:
        return None
    return Measure(**{**d, "groups": tuple(d["groups"])})


def build_inventory(workers: int, log: callable = print) -> dict:  # type: ignore[valid-type]
    """Dump and measure every library groove (about 2 minutes on 2 cores)."""
    import multiprocessing

    version = mma_version()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(max(1, workers)) as pool:
        grooves = [g for gs in pool.map(dump_file, library_files()) for g in gs]
        todo = [
            g
            for g in grooves
            if g.role == "main"
            and g.lib not in DRUM_ONLY_LIBS
            and g.family not in DROP_FAMILIES
            and not g.drums_only
        ]
        log(f"mma inventory: {len(grooves)} grooves, measuring {len(todo)} main grooves")
        results = pool.map(measure, todo, chunksize=8)
        pool.close()  # a terminated idle worker would print a traceback (cli signal handler)
        pool.join()
    measures = {g.ref: m for g, m in zip(todo, results, strict=True)}
    return {
        "format": INVENTORY_FORMAT,
        "mma_version": version,
        "grooves": [groove_to_json(g) for g in grooves],
        "measures": {k: (asdict(m) if m else None) for k, m in measures.items()},
    }


def load_inventory(data: dict) -> tuple[list[Groove], dict[str, Measure | None]]:
    grooves = [groove_from_json(d) for d in data["grooves"]]
    measures = {k: measure_from_json(v) for k, v in data["measures"].items()}
    return grooves, measures


def summary(families: Sequence[Family], dropped: dict[str, str]) -> dict:
    reasons: dict[str, int] = {}
    for r in dropped.values():
        key = r.split(":")[0].split(" (")[0]
        key = re.sub(r"[\d.]+", "N", key)
        reasons[key] = reasons.get(key, 0) + 1
    return {
        "families": len(families),
        "main_grooves": sum(len(f.mains) for f in families),
        "dropped": reasons,
    }
