# ruff: noqa: E501 (Markdown rows and prose)
"""JSON lines of the harness -> docs/music-eval.md (tables, the decision) and piano rolls.

Everything in the document below the title comes from the rows; rerun
`python -m emsync_core.eval report ROWS.jsonl...` after any run (the document names the files).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pretty_midi

from . import distance, edits
from .engines import SETTINGS, base_name
from .measures import THRESHOLDS, lift
from .pianoroll import figure

DENSITY_RATIO = 1.5  # arousal -1 -> +1 must raise new pitches/s this much (per seed)
COMPLETE = 30  # acceptance (18 + 6) and suite (6) scores a setting needs to be eligible
DECISION_PARTS = ("accept", "suite")  # the edits the decision reads (degeneration, distance)
# The sweeps it reads for the mood response, pooled: the seen ones and, where a setting has
# them, the unseen ones, which no candidate was chosen on.
DECISION_SWEEPS = ("sweep", "unseen_sweep")

NOTES = {
    "reference": "held-out music21 pieces (chorales, madrigals)",
    "arranger": "rule-based engine",
    "transformer-plain": "paper sampling (T 1.3, top-p 0.6, repetition penalty); rows of the weights shipped until 2026-12-07 (music21 only)",
    "transformer-plain@frame-ft5-1500": "the weights shipped 2026-12-07, sessions 10-13 (frame-ft5), paper sampling",
    "transformer-plain-unconstrained@frame-ft5-1500": "frame-ft5, cuts left to the model",
    "transformer-plain@weights": "frame-ft5 as decoded since 2026-12-07 session 11 (a new context at a key change), on an Intel Xeon: int8 rounds otherwise than on the EPYC of the frame-ft5 rows",
    "transformer-plain@offmode-ft1-1500": "the weights shipped 2026-12-07, session 14 (offmode-ft1: training windows heard in the other mode left out), paper sampling, Intel Xeon",
    "transformer-plain-unconstrained@offmode-ft1-1500": "offmode-ft1, cuts left to the model",
    "transformer-plain@margin-ft1-1500": "the weights shipped since 2026-12-07 session 15 (margin-ft1: also windows leaning toward their own mode by less than 0.1 left out), paper sampling, Intel Xeon",
    "transformer-plain-unconstrained@margin-ft1-1500": "margin-ft1, cuts left to the model",
    "transformer-levers": "old default: guidance 3, key bias 4, pace bias 2 (pace removed since)",
    "transformer-guidance-keybias": "guidance 3, key bias 4",
    "transformer-guidance": "guidance 3 only",
    "transformer-keybias": "key bias 4 only",
    "transformer-pace": "pace bias 2 only (removed since)",
    "transformer-plain-noguard": "plain without the repetition penalty",
    "transformer-plain-unconstrained": "plain, cuts left to the model (weights shipped until 2026-12-07)",
    "transformer-guidance-keybias-unconstrained": "guidance 3, key bias 4, cuts left to the model",
}


def load_rows(paths: Iterable[Path]) -> list[dict]:
    rows = []
    for path in paths:
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


def _fmt(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def _order(settings: Iterable[str]) -> list[str]:
    known = list(NOTES)
    return sorted(set(settings), key=lambda s: (known.index(s) if s in known else 99, s))


def mood_response(rows: list[dict], parts: tuple[str, ...] = ("sweep",)) -> dict[str, dict]:
    """Per setting: per-seed mode and density responses of the sweeps in `parts` ("sweep",
    and "unseen_sweep": the same sweeps on edits nothing was checked against)."""
    out: dict[str, dict] = {}
    by = defaultdict(lambda: defaultdict(dict))  # setting -> (axis, (part, seed)) -> level -> row
    for r in rows:
        if r["part"] in parts:
            level = r["valence"] if r["sweep"] == "valence" else r["arousal"]
            by[r["setting"]][(r["sweep"], (r["part"], r["seed"]))][level] = r
    for setting, series in by.items():
        seeds = sorted({seed for _, seed in series})
        mode_up = dens_up = 0
        mode_levels, dens_levels = defaultdict(list), defaultdict(list)
        ratios, moves = [], []
        for seed in seeds:
            v = series.get(("valence", seed), {})
            a = series.get(("arousal", seed), {})
            if v:
                lo, hi = v[min(v)]["mode"], v[max(v)]["mode"]
                moves.append(hi - lo)
                mode_up += hi > lo
                for level, r in v.items():
                    mode_levels[level].append(r["mode"])
            if a:
                lo, hi = a[min(a)]["new_pitches_per_s"], a[max(a)]["new_pitches_per_s"]
                ratios.append(hi / max(lo, 1e-6))
                dens_up += hi >= DENSITY_RATIO * lo
                for level, r in a.items():
                    dens_levels[level].append(r["new_pitches_per_s"])
        out[setting] = {
            "seeds": len(seeds),
            "mode_up": mode_up,
            "density_up": dens_up,
            "mode_moves": moves,
            "density_ratios": ratios,
            "mode_by_level": {k: float(np.mean(v)) for k, v in sorted(mode_levels.items())},
            "density_by_level": {k: float(np.mean(v)) for k, v in sorted(dens_levels.items())},
        }
    return out


def distances(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Overlapped area per feature for every setting's excerpts against the reference, on
    the acceptance and suite edits only: the edits every setting has scored (a setting with
    unseen or sweep rows as well would otherwise be measured on other music)."""

    def feats(rs: list[dict]) -> list[dict[str, np.ndarray]]:
        return [{k: np.array(v) for k, v in f.items()} for r in rs for f in r["excerpt_features"]]

    reference = feats([r for r in rows if r["setting"] == "reference"])
    out = {"reference": distance.reference_ceiling(reference)} if reference else {}
    for setting in _order(r["setting"] for r in rows):
        if setting == "reference":
            continue
        generated = feats(
            [r for r in rows if r["setting"] == setting and r["part"] in DECISION_PARTS]
        )
        if generated and reference:
            out[setting] = distance.distance_to_reference(generated, reference)
    return out


def decide(
    rows: list[dict], moods: dict[str, dict], dist: dict[str, dict]
) -> tuple[str, list[str]]:
    """The decision rule of the document, applied to the constrained settings that can run."""
    lines = []
    candidates = []
    for setting in _order(r["setting"] for r in rows):
        rs = [r for r in rows if r["setting"] == setting and r["part"] in DECISION_PARTS]
        if setting == "reference" or not rs or not rs[0]["settings"].get("constrained", True):
            continue
        bad = sum(bool(r["degenerate"]) for r in rs)
        if base_name(setting) not in SETTINGS:  # its options were removed from the code
            lines.append(f"- {setting}: {bad}/{len(rs)} degenerate (no longer runnable)")
            continue
        if bad:
            lines.append(f"- {setting}: out at step 1, {bad} of {len(rs)} scores degenerate")
            continue
        if len(rs) < COMPLETE:
            lines.append(f"- {setting}: not eligible, only {len(rs)} of {COMPLETE} scores run")
            continue
        m = moods.get(setting, {})
        # A share of the seeds, so that a setting swept on more seeds is not favoured.
        mood_score = min(m.get("mode_up", 0), m.get("density_up", 0)) / max(m.get("seeds", 0), 1)
        oa = dist.get(setting, {}).get("mean", math.nan)
        lines.append(
            f"- {setting}: no degenerate score in {len(rs)}; mood response "
            f"{m.get('mode_up', 0)}/{m.get('seeds', 0)} seeds toward major, "
            f"{m.get('density_up', 0)}/{m.get('seeds', 0)} seeds >= {DENSITY_RATIO}x new pitches"
            f" (share {_fmt(mood_score)}); overlapped area {_fmt(oa)}"
        )
        candidates.append((mood_score, 0 if math.isnan(oa) else oa, setting))
    winner = max(candidates)[2] if candidates else ""
    return winner, lines


def _rolls(rows: list[dict], base: Path, img: Path) -> list[str]:
    """One figure per setting: three acceptance scores and the first minute of the 3-minute
    and 10-minute edits. Returns the Markdown lines that show them."""
    lines = []
    suite = {e.name: e for e in edits.suite(0)}
    for setting in _order(r["setting"] for r in rows):
        if setting == "reference":
            continue
        rs = {
            (r["part"], r["edit"], r["label"], r["seed"]): r
            for r in rows
            if r["setting"] == setting
        }
        wanted = [
            ("accept", "short_30s", "sadness", 0),
            ("accept", "short_30s", "joy", 1),
            ("accept", "short_30s", "anger", 2),
            ("accept", "reel_3min", "fear", 0),
            ("suite", "reel_3min", "mixed", 0),
            ("suite", "reel_10min", "mixed", 0),
        ]
        panels = []
        for key in wanted:
            r = rs.get(key)
            if r is None or not (base / r["midi"]).exists():
                continue
            edit = suite[key[1]] if key[0] == "suite" else None
            if edit is None:
                edit = edits.short_edit(0) if key[1] == "short_30s" else edits.reel_3min(0)
            midi = pretty_midi.PrettyMIDI(str(base / r["midi"]))
            verdict = "; ".join(r["degenerate"]) if r["degenerate"] else "not degenerate"
            title = f"{setting} | {key[1]} {key[2]} seed {key[3]} | {verdict}"
            panels.append((midi, edit.cuts_s, edit.hits_s, title))
        if panels:
            path = img / f"music_eval_{setting}.png"
            figure(panels, path, span=(0.0, 60.0))
            lines.append(f"![{setting}](img/{path.name})")
            lines.append("")
    return lines


def write_report(paths: list[Path], doc: Path, img: Path) -> None:
    rows = load_rows(paths)
    base = paths[0].parent
    settings = _order(r["setting"] for r in rows)
    moods = mood_response(rows, DECISION_SWEEPS)
    dist = distances(rows)
    winner, decision = decide(rows, moods, dist)
    out: list[str] = []
    w = out.append

    w("# Music evaluation: the harness, its measures and which engine is the default")
    w("")
    names = " ".join(path.name for path in paths)
    w(f"Generated by `python -m emsync_core.eval report` from these rows files in {base}: {names}")
    w("(the harness's JSON lines, `python -m emsync_core.eval music`); do not edit by hand.")
    by_setting = defaultdict(set)
    for r in rows:
        by_setting[r["setting"]].add(f"{r['commit']} on {r['date']} ({r['machine']})")
    w("Rows (`benchmarks/results/music/*.jsonl`) come from: ")
    w("")
    for s in settings:
        w(f"- {s}: " + "; ".join(sorted(by_setting[s])))
    w("")
    w(INTRO)
    w("")
    w("## Decision")
    w("")
    w(RULE)
    w("")
    out.extend(decision)
    w("")
    if winner:
        w(f"**Outcome: the default engine is `{winner}`.**")
    else:
        w(
            "**Outcome: no setting is eligible; the default engine cannot be chosen from these rows.**"
        )
    w("")

    w("## Degeneration")
    w("")
    w("Scores with any statistic over its threshold, per part (acceptance: the 30-s, 5-shot edit")
    w("x 6 emotions x 3 seeds and the 3-minute edit x 6 emotions; suite: the mixed-mood edits;")
    w("sweep: the mood sweeps; unseen: 20 more 30-s edits and 5 more 3-minute edits x 6 emotions")
    w("and 5 more suites, from edit seeds (5000 on) that no engine change was checked against),")
    w("then medians over all of a setting's scores.")
    w("")
    stat_names = [
        "longest_restrike_run",
        "share_in_long_runs",
        "longest_no_new_pitch_s",
        "longest_no_onset_s",
        "longest_same_pcs_s",
        "top_frozen_share",
        "bass_frozen_share",
    ]
    w(
        "| setting | what | accept 30 s | accept 3 min | suite | sweep | unseen | "
        + " | ".join(stat_names)
        + " |"
    )
    w("| --- | --- | --- | --- | --- | --- | --- | " + " | ".join("---" for _ in stat_names) + " |")
    for s in settings:
        rs = [r for r in rows if r["setting"] == s]

        def count(part: str, edit: str | None = None, rs: list[dict] = rs) -> str:
            sel = [r for r in rs if r["part"] == part and (edit is None or r["edit"] == edit)]
            return f"{sum(bool(r['degenerate']) for r in sel)}/{len(sel)}" if sel else "-"

        med = [_fmt(float(np.nanmedian([r["degeneration"][k] for r in rs])), 2) for k in stat_names]
        parts = (
            ["-", "-", "-", "-", "-"]
            if s == "reference"
            else [
                count("accept", "short_30s"),
                count("accept", "reel_3min"),
                count("suite"),
                count("sweep"),
                count("unseen"),
            ]
        )
        if s == "reference":
            parts[0] = f"{sum(bool(r['degenerate']) for r in rs)}/{len(rs)} pieces"
        w(f"| {s} | {NOTES.get(s, '')} | " + " | ".join(parts) + " | " + " | ".join(med) + " |")
    w("")
    w("Degeneration over time (medians; head = first 8 s, rest = after):")
    w("")
    w(
        "| setting | share in runs of 8+ head / rest | top frozen head / rest | bass frozen head / rest |"
    )
    w("| --- | --- | --- | --- |")
    for s in settings:
        rs = [r["degeneration"] for r in rows if r["setting"] == s]

        def hr(name: str, rs: list[dict] = rs) -> str:
            h = np.nanmedian([d[f"{name}_head"] for d in rs])
            t = np.nanmedian([d[f"{name}_rest"] for d in rs])
            return f"{_fmt(float(h))} / {_fmt(float(t))}"

        w(
            f"| {s} | {hr('share_in_long_runs')} | {hr('top_frozen_share')} | {hr('bass_frozen_share')} |"
        )
    w("")
    reasons = defaultdict(lambda: defaultdict(int))
    for r in rows:
        for d in r["degenerate"]:
            reasons[r["setting"]][d.split(" ")[0]] += 1
    if reasons:
        w("Which thresholds the degenerate scores crossed (counts over all parts):")
        w("")
        for s in _order(reasons):
            w(f"- {s}: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons[s].items())))
        w("")

    w("## Thresholds")
    w("")
    w(THRESHOLD_TEXT)
    w("")
    ref = [r["degeneration"] for r in rows if r["setting"] == "reference"]
    w("| statistic | threshold | reference median | reference max |")
    w("| --- | --- | --- | --- |")
    for name, limit in THRESHOLDS.items():
        vals = [d[name] for d in ref]
        w(
            f"| {name} | {limit:g} | {_fmt(float(np.nanmedian(vals)) if vals else math.nan)} | "
            f"{_fmt(float(np.nanmax(vals)) if vals else math.nan)} |"
        )
    w("")

    w("## Distance to real music (overlapped area, 1 = as close as the reference to itself)")
    w("")
    w("| setting | " + " | ".join(distance.FEATURES) + " | mean |")
    w("| --- | " + " | ".join("---" for _ in distance.FEATURES) + " | --- |")
    for s, d in dist.items():
        label = "reference (half vs half: the ceiling)" if s == "reference" else s
        w(
            f"| {label} | "
            + " | ".join(_fmt(d[f]) for f in distance.FEATURES)
            + f" | {_fmt(d['mean'])} |"
        )
    w("")

    w("## Cuts: new harmonies at cuts against control times (suite edits)")
    w("")
    w(CONTRAST_TEXT)
    w("")
    w("| setting | cuts | new harmony within 250 ms of a cut | at control times | lift |")
    w("| --- | --- | --- | --- | --- |")
    for s in settings:
        part = "reference" if s == "reference" else "suite"
        rs = [r for r in rows if r["setting"] == s and r["part"] == part]
        if not rs:
            continue
        n = sum(r["contrast"]["n_cuts"] for r in rs)
        at_c = sum(
            r["contrast"]["new_harmony_at_cuts"] * r["contrast"]["n_cuts"] for r in rs
        ) / max(n, 1)
        controls = [r["contrast"]["new_harmony_at_controls"] for r in rs]
        at_x = float(np.nanmean(controls))
        w(f"| {s} | {int(n)} | {_fmt(at_c)} | {_fmt(at_x)} | {_fmt(lift(at_c, at_x))}x |")
    w("")

    w("## Mood response per seed (sweeps, one mood in every shot of a 30-s edit)")
    w("")
    w(MOOD_TEXT)
    w("")
    w(
        "| setting | seeds | toward major (V -1 -> +1) | mode by valence level | new pitches/s >= 1.5x (A -1 -> +1) | new pitches/s by arousal level |"
    )
    w("| --- | --- | --- | --- | --- | --- |")
    seen, unseen = mood_response(rows), mood_response(rows, ("unseen_sweep",))
    for label, table in (("", seen), (" (unseen edits)", unseen)):
        for s in _order(table):
            m = table[s]
            modes = ", ".join(f"{_fmt(v)}" for v in m["mode_by_level"].values())
            dens = ", ".join(f"{_fmt(v, 1)}" for v in m["density_by_level"].values())
            w(
                f"| {s}{label} | {m['seeds']} | {m['mode_up']}/{m['seeds']} | {modes} | {m['density_up']}/{m['seeds']} (min {_fmt(min(m['density_ratios'], default=math.nan))}x) | {dens} |"
            )
    w("")

    w("## Instruments (share of the time each layer sounds, mean over acceptance and suite scores)")
    w("")
    for s in settings:
        rs = [
            r for r in rows if r["setting"] == s and r["part"] in ("accept", "suite", "reference")
        ]
        layers = defaultdict(list)
        for r in rs:
            for k, v in r["activity"].items():
                layers[k].append(v)
        if layers:
            share = ", ".join(f"{k} {sum(v) / len(rs):.2f}" for k, v in sorted(layers.items()))
            w(f"- {s}: {share}")
    w("")

    w("## Piano rolls (first 60 s; cuts solid, hits dashed)")
    w("")
    w("Looked at before the numbers above were believed; see the notes under each.")
    w("")
    out.extend(_rolls(rows, base, img))
    w(LOOKED)
    doc.write_text("\n".join(out) + "\n")


INTRO = """One harness (`emsync_core/eval/`) scores seeded test edits with each engine setting and
measures the MIDI itself, never what an engine says it did. The edits look like real ones
(`emsync_core/eval/edits.py`): lognormal shot lengths (Cutting et al. 2010) from 0.5 s to 60 s,
dialogue in 2-8 s shots, a montage of 0.5-3 s shots with the mood changing at every cut, a 60-s
single take with two `hit` markers, a 3-minute and a 10-minute edit with moods held over scenes
of several shots, and the old 5-s grid as one case among many. The reference is real music the
transformer never trained on: the held-out (validation) pieces of its music21 corpus. Each row
records the commit it was made at: a row describes its engine as it was at that commit."""

RULE = """The rule, applied in this order to every constrained setting that can run:
1. **No degenerate score** on the acceptance and suite edits (thresholds below). A setting with
   any degenerate score is out.
2. **Mood response**: the smaller of (the share of seeds whose mode moves toward major from
   valence -1 to +1) and (the share of seeds whose new-pitch density rises at least 1.5x from
   arousal -1 to +1), over the sweeps and the unseen sweeps together. Higher wins. Shares, not
   counts, so that more seeds do not win by number; the unseen sweeps count because candidate
   weights were chosen on the sweeps' seeds.
3. **Distance to real music**: mean overlapped area. Higher wins."""

THRESHOLD_TEXT = """A score is degenerate when any statistic exceeds its threshold. Definitions (times in seconds,
pitched notes only; an *onset* is an instrument's notes starting within 10 ms):
- `longest_restrike_run`: the longest run of consecutive onsets of one instrument with exactly
  the same pitches (one note or chord struck again and again);
- `share_in_long_runs`: the share of all onsets that sit in such runs of 8 or more;
- `longest_no_new_pitch_s`: the longest span in which no instrument strikes a pitch that was not
  in its previous onset (only held notes and re-strikes);
- `longest_no_onset_s`: the longest span without any onset;
- `longest_same_pcs_s`: the longest span over which the set of sounding pitch classes does not
  change (50 ms grid);
- `top_frozen_share` / `bass_frozen_share`: the share of 4-s windows (hop 2 s) in which the
  highest / lowest sounding pitch takes fewer than 3 distinct values (a silent window counts).
Each is also reported for the first 8 s against the rest, since degeneration was seen to set in
after about 8 s. Calibration: every reference piece passes every threshold, and the margins
above the reference maxima are set by looking at piano rolls: two bars of pumping eighths
(16 re-strikes) is music, a bass re-struck 40+ times is not; a slow underscore holds its bass
for a bar (4 s at 60 bpm), so the bass may be frozen in up to 3/4 of the windows before it is a
drone; a chord held unchanged for 12 s spans more than two slow bars."""

CONTRAST_TEXT = """A *new harmony* is an attack (all instruments, within 10 ms) of three or more pitch classes
whose sounding set differs from the set just before it. The rate within 250 ms of the cuts
(and hits) is compared with the rate within 250 ms of random control times at least 1 s from
any cut (two per cut, seeded). A texture that changes harmony everywhere scores a lift near 1
however often it "hits" a cut; music that anticipates cuts scores well above 1. For the
reference, the piece's own chord changes (2+ beats) stand in for cuts."""

MOOD_TEXT = """Each seed is a different 30-s, 5-shot edit with one mood in every shot (rows marked "unseen
edits": the same sweeps on edits from seeds 5100 on, which no change was checked against); valence steps over
-1, -0.5, 0, 0.5, 1 at arousal 0, and arousal over the same levels at valence 0. Mode is the
best major minus the best minor Krumhansl key correlation of the pitch-class durations. Density
counts only onsets of new pitches (a pitch not in the instrument's previous onset), so
re-striking a note cannot raise it."""

LOOKED = """What the pictures showed when these rows were made (looked at, 2026-12-06):
- `transformer-levers` (the default until this harness): after the first bars one bass note
  re-struck every ~0.1 s (the thick blue bars) under string chords held from cut to cut: the
  failure the degeneration counts report. `transformer-keybias` alone: a high string note held
  across several cuts (the frozen top voice).
- `transformer-plain` and `transformer-guidance`: bass and strings moving like chorale voices,
  harmony changing every beat or two whether or not a cut comes (hence a lift near 1); the forced
  cut chord is one chord among many. On the 3-minute disgust edit the plain model thins out to
  the forced cut chords alone over its last 30 s (the one degenerate score).
- `arranger`: a pad chord per shot (or per two bars in long shots) with a new one on every cut,
  a walking bass in calm scenes and a pulsing one in driving scenes, ostinato and theme above,
  percussion only in aroused scenes; calm stretches are sparse but keep moving.
- `transformer-plain@margin-ft1-1500` (the weights shipped since 2026-12-07 session 15,
  looked at then): as offmode-ft1 below; the 3-minute joy reel has plucks, strings and drums,
  the sadness reel strings, keys and bass without drums, a chord on every cut; at valence +1
  the least major sweep score (-0.34) goes I V and then stays on iii (minor, then major).
- `transformer-plain@offmode-ft1-1500` (the weights shipped 2026-12-07, session 14,
  looked at then): as frame-ft5 below; the 3-minute reels hold a texture per scene with a
  chord on every cut, drums in the aroused scenes of joy and none in sadness; at arousal +1 a
  plucked ostinato and drums over moving chords.
- `transformer-plain@frame-ft5-1500` (the weights shipped 2026-12-07, sessions 10-13, looked at
  2026-12-07): sadness a string pad changing chord at each cut over a slow keys line and a low
  bass; joy strings, plucks and winds over a bass figure; anger a bass in eighths with drums
  and keys stabs; the 3- and 10-minute reels hold a texture per scene and change chord on
  every cut. Unconstrained, its chords move at or next to the cuts by themselves.
"""
