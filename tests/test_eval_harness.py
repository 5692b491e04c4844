"""The music-quality harness measures what it says, on music made to show it."""

import itertools
import json

import numpy as np
import pretty_midi
import pytest

from emsync_core.eval import distance, edits, measures
from emsync_core.eval.report import write_report
from emsync_core.eval.run import run


def _midi(notes_by_layer: dict[str, list[tuple[int, float, float]]]) -> pretty_midi.PrettyMIDI:
    midi = pretty_midi.PrettyMIDI()
    for layer, notes in notes_by_layer.items():
        inst = pretty_midi.Instrument(program=0, name=f"{layer} - test")
        inst.notes = [pretty_midi.Note(80, p, s, e) for p, s, e in notes]
        midi.instruments.append(inst)
    return midi


def _moving(duration: float, seed: int = 0) -> pretty_midi.PrettyMIDI:
    """A chorale-like texture: a new chord every 0.5 s, voices moving by step."""
    rng = np.random.default_rng(seed)
    chords = [(48, 52, 55, 60), (45, 52, 57, 60), (50, 53, 57, 62), (43, 50, 55, 59)]
    bass, upper = [], []
    t = 0.0
    while t < duration:
        c = chords[rng.integers(len(chords))]
        bass.append((c[0], t, t + 0.5))
        upper += [(p + int(rng.integers(0, 2)) * 12, t, t + 0.5) for p in c[1:]]
        t += 0.5
    return _midi({"bass": bass, "strings": upper})


def _stuck(duration: float) -> pretty_midi.PrettyMIDI:
    """What the old defaults wrote: one bass note every 0.1 s under a chord held throughout."""
    bass = [(40, t, t + 0.08) for t in np.arange(0, duration, 0.1)]
    return _midi({"bass": bass, "strings": [(p, 0.0, duration) for p in (60, 64, 67)]})


def test_a_re_struck_note_under_a_held_chord_is_degenerate_and_moving_music_is_not():
    stuck = measures.degeneration(_stuck(30.0), 30.0)
    assert stuck["longest_restrike_run"] >= 290
    assert stuck["share_in_long_runs"] > 0.9
    assert stuck["longest_no_new_pitch_s"] > 29 and stuck["longest_same_pcs_s"] > 29
    assert stuck["top_frozen_share"] == 1.0 and stuck["bass_frozen_share"] == 1.0
    reasons = measures.degenerate_reasons(stuck)
    assert any(r.startswith("longest_restrike_run") for r in reasons)
    moving = measures.degeneration(_moving(30.0), 30.0)
    assert measures.degenerate_reasons(moving) == [], moving


def test_degeneration_is_told_for_the_head_and_the_rest():
    midi = _moving(8.0)
    late = _stuck(30.0)
    for inst, extra in zip(midi.instruments, late.instruments, strict=True):
        inst.notes += [n for n in extra.notes if n.start >= 8.0]
    stats = measures.degeneration(midi, 30.0)
    assert stats["share_in_long_runs_head"] == 0.0
    assert stats["share_in_long_runs_rest"] > 0.8


def test_re_striking_adds_onsets_but_no_new_pitches():
    stuck = _stuck(10.0)
    assert measures.new_pitches_per_second(stuck, 10.0) == pytest.approx(4 / 10)
    assert measures.new_pitches_per_second(_moving(10.0), 10.0) > 2.0


def test_cut_contrast_rewards_chords_at_cuts_not_everywhere():
    cuts = [4.0, 9.5, 13.0, 20.0]
    edges = [0.0, *cuts, 24.0]
    at_cuts = _midi(
        {
            "pad": [
                (p + 2 * k, a, b)
                for k, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True))
                for p in (60, 64, 67)
            ]
        }
    )
    c = measures.cut_contrast(at_cuts, cuts, 24.0, seed=1)
    assert c["new_harmony_at_cuts"] == 1.0 and c["new_harmony_at_controls"] == 0.0
    everywhere = measures.cut_contrast(_moving(24.0), cuts, 24.0, seed=1)
    assert everywhere["new_harmony_at_controls"] > 0.5
    assert measures.lift(c["new_harmony_at_cuts"], c["new_harmony_at_controls"]) > 100
    assert (
        measures.lift(everywhere["new_harmony_at_cuts"], everywhere["new_harmony_at_controls"]) < 2
    )


def test_mode_reads_major_and_minor():
    major = _midi({"pad": [(p, 0.0, 4.0) for p in (60, 64, 67)] + [(62, 4, 5), (65, 5, 6)]})
    minor = _midi({"pad": [(p, 0.0, 4.0) for p in (57, 60, 64)] + [(59, 4, 5), (62, 5, 6)]})
    assert measures.major_minus_minor(major) > 0 > measures.major_minus_minor(minor)
    # C major and A minor share their notes; the chord and the scale around it tell them apart
    assert measures.key_rank(major, 0, minor=False) == 0 < measures.key_rank(major, 9, minor=True)
    assert measures.key_rank(minor, 9, minor=True) == 0 < measures.key_rank(minor, 0, minor=False)
    # A span reads only its own stretch: C minor for 4 s, then C major.
    both = _midi(
        {"pad": [(p, 0.0, 4.0) for p in (60, 63, 67)] + [(p, 4.0, 8.0) for p in (60, 64, 67)]}
    )
    assert measures.major_minus_minor(both, (0, 4)) < 0 < measures.major_minus_minor(both, (4, 8))
    assert measures.key_rank(both, 0, minor=True, span=(0, 4)) == 0
    assert measures.key_rank(both, 0, minor=False, span=(4, 8)) == 0


def test_overlapped_area_is_one_for_the_same_music_and_falls_away_from_it():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 200)
    assert distance.overlapped_area(x, rng.normal(0, 1, 200)) > 0.85
    assert distance.overlapped_area(x, rng.normal(5, 1, 200)) < 0.05
    ref = [
        distance.features(n) for s in range(12) for n in distance.excerpts(_moving(40.0, s), 40.0)
    ]
    same = [
        distance.features(n)
        for s in range(12, 20)
        for n in distance.excerpts(_moving(40.0, s), 40.0)
    ]
    stuck = [distance.features(n) for n in distance.excerpts(_stuck(40.0), 40.0)] * 4
    assert (
        distance.distance_to_reference(same, ref)["mean"]
        > distance.distance_to_reference(stuck, ref)["mean"] + 0.3
    )


def test_shot_lengths_fill_their_span_exactly():
    # The last shot ends at the span's end; one left under half a second joins the one before.
    assert edits.fit_total([4.0, 4.0, 4.0], 6.0) == pytest.approx([4.0, 2.0])
    assert edits.fit_total([1.0, 2.0, 0.8], 3.2) == pytest.approx([1.0, 2.2])
    assert edits.fit_total([2.0, 5.0], 2.2) == pytest.approx([2.2])
    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = list(rng.uniform(0.5, 10.0, rng.integers(1, 8)))
        total = float(rng.uniform(0.5, sum(lengths)))
        fitted = edits.fit_total(lengths, total)
        assert sum(fitted) == pytest.approx(total) and fitted == pytest.approx(
            lengths[: len(fitted) - 1] + [fitted[-1]]
        )
        assert len(fitted) == 1 or fitted[-1] >= 0.5 - 1e-9


def test_test_edits_look_like_real_edits_and_are_seeded():
    suite = edits.suite(0)
    assert [e.name for e in suite] == [e.name for e in edits.suite(0)]
    assert edits.suite(0) == suite and edits.suite(1) != suite
    by_name = {e.name: e for e in suite}
    assert by_name["long_take_60s"].cuts_s == () and len(by_name["long_take_60s"].hits_s) == 2
    assert by_name["reel_3min"].duration_s == pytest.approx(180, abs=0.05)
    assert by_name["reel_10min"].duration_s == pytest.approx(600, abs=1)
    montage = by_name["montage_1min"]
    assert all(a != b for a, b in itertools.pairwise(montage.moods))  # a new mood per cut
    for e in suite + [edits.short_edit(0)]:
        shots = np.diff([0.0, *e.cuts_s, e.duration_s])
        assert shots.min() >= 0.5 - 1e-9 and shots.max() <= 60 + 1e-9, e.name
        assert np.allclose(
            np.array(e.cuts_s) * edits.RATE, np.round(np.array(e.cuts_s) * edits.RATE)
        )
    reel = by_name["reel_10min"]
    shots = np.diff([0.0, *reel.cuts_s, reel.duration_s])
    assert np.mean((shots >= 2) & (shots <= 8)) > 0.4 and shots.max() > 15  # many 2-8 s, some long
    assert len(set(reel.moods)) > 2 and len(set(reel.moods)) < len(reel.moods) / 2  # held moods


def test_the_harness_writes_rows_and_a_report_with_its_decision(tmp_path):
    out = tmp_path / "rows.jsonl"
    parts = ["accept", "suite", "sweep"]
    assert run(["arranger"], parts, out, sweep_seeds=2, cache=tmp_path, quiet=True) == 50
    assert run(["arranger"], parts, out, sweep_seeds=2, cache=tmp_path, quiet=True) == 0  # resumes
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["edit"] for r in rows if r["part"] == "suite"} == {e.name for e in edits.suite(0)}
    for r in rows:
        assert r["commit"] and r["date"] and r["machine"] and r["settings"]["engine"] == "arranger"
        assert (tmp_path / r["midi"]).exists() and r["degenerate"] == []
        assert r["contrast"]["new_harmony_at_cuts"] == 1.0 or r["n_cuts"] == 0
    # The arranger plays the key it is given: every sweep score in a major or minor key is
    # heard in it. (A mixolydian scale is a major one from another tonic, heard as that.)
    sweeps = [r for r in rows if r["part"] == "sweep" and "dian" not in r["planned_key"]]
    assert sweeps and all(r["planned_key_rank"] == 0 for r in sweeps), [
        (r["planned_key"], r["planned_key_rank"]) for r in sweeps
    ]
    doc = tmp_path / "music-eval.md"
    write_report([out], doc, tmp_path / "img")
    text = doc.read_text()
    assert "default engine is `arranger`" in text
    assert "8/8" not in text and "2/2 seeds toward major" in text  # the mood sweep was read
    assert (tmp_path / "img" / "music_eval_arranger.png").exists()


def test_the_decision_compares_shares_of_seeds_and_ranks_candidate_weights():
    from emsync_core.eval.report import decide

    def rows(setting: str, degenerate: int = 0) -> list[dict]:
        return [
            {
                "setting": setting,
                "part": "accept",
                "settings": {"constrained": True},
                "degenerate": ["longest_restrike_run 40"] if i < degenerate else [],
            }
            for i in range(30)
        ]

    candidate = "transformer-plain@frame-ft9"
    moods = {
        "arranger": {"seeds": 8, "mode_up": 8, "density_up": 8},
        candidate: {"seeds": 20, "mode_up": 18, "density_up": 19},
    }
    dist = {"arranger": {"mean": 0.64}, candidate: {"mean": 0.67}}
    all_rows = rows("arranger") + rows(candidate)
    winner, lines = decide(all_rows, moods, dist)
    # 18 of 20 seeds is more seeds than 8 of 8 but a smaller share: the arranger wins.
    assert winner == "arranger"
    assert any(candidate in line and "share 0.90" in line for line in lines)
    assert not any("no longer runnable" in line for line in lines)
    # At the same share the distance to real music decides.
    moods[candidate] = {"seeds": 20, "mode_up": 20, "density_up": 20}
    assert decide(all_rows, moods, dist)[0] == candidate
    # One degenerate score puts a setting out whatever its mood response.
    assert decide(rows("arranger") + rows(candidate, 1), moods, dist)[0] == "arranger"
    # Weights under a name the code no longer has are not runnable.
    winner, lines = decide(rows("transformer-gone@x"), {}, {})
    assert winner == "" and "no longer runnable" in lines[0]


def test_unseen_sweeps_are_the_same_sweeps_on_edits_of_their_own():
    from emsync_core.eval.run import UNSEEN, jobs

    seen = list(jobs(["sweep"], sweep_seeds=2))
    unseen = list(jobs(["unseen_sweep"], sweep_seeds=2))
    assert len(seen) == len(unseen) == 2 * 2 * 5
    assert {j.part for j in unseen} == {"unseen_sweep"}
    assert [(j.seed, j.sweep, j.label) for j in seen] == [
        (j.seed, j.sweep, j.label) for j in unseen
    ]
    assert {j.edit_seed for j in unseen} == {UNSEEN + 100, UNSEEN + 101}
    assert {j.edit_seed for j in seen} == {0}  # as the sweep rows have always recorded
    cuts = {tuple(j.edit.cuts_s) for j in seen}
    assert cuts.isdisjoint({tuple(j.edit.cuts_s) for j in unseen})


def test_the_distance_to_real_music_reads_the_decisions_edits_only():
    from emsync_core.eval.report import distances

    def row(setting: str, part: str, midi: pretty_midi.PrettyMIDI) -> dict:
        feats = [distance.features(n) for n in distance.excerpts(midi, 40.0)]
        return {
            "setting": setting,
            "part": part,
            "excerpt_features": [{k: v.tolist() for k, v in f.items()} for f in feats],
        }

    rows = [row("reference", "reference", _moving(40.0, s)) for s in range(8)]
    rows += [row("arranger", "accept", _moving(40.0, s)) for s in range(8, 12)]
    before = distances(rows)["arranger"]["mean"]
    # Sweeps and unseen edits only some settings have must not move the comparison.
    rows += [row("arranger", part, _stuck(40.0)) for part in ("sweep", "unseen", "unseen_sweep")]
    assert distances(rows)["arranger"]["mean"] == before


def test_the_mood_response_pools_seen_and_unseen_sweeps_as_separate_seeds():
    from emsync_core.eval.report import DECISION_SWEEPS, mood_response

    def sweep(part: str, seed: int, modes: tuple[float, float], dens: tuple[float, float]):
        rows = []
        for level, mode, new in ((-1.0, modes[0], dens[0]), (1.0, modes[1], dens[1])):
            common = {"setting": "s", "part": part, "seed": seed}
            rows.append({**common, "sweep": "valence", "valence": level, "arousal": 0.0,
                         "mode": mode, "new_pitches_per_s": 5.0})  # fmt: skip
            rows.append({**common, "sweep": "arousal", "valence": 0.0, "arousal": level,
                         "mode": 0.0, "new_pitches_per_s": new})  # fmt: skip
        return rows

    rows = sweep("sweep", 0, (-0.2, 0.2), (3.0, 9.0)) + sweep("sweep", 1, (-0.2, 0.1), (3, 6))
    # the same seed numbers on unseen edits: one follows valence, one does not
    rows += sweep("unseen_sweep", 0, (-0.1, 0.2), (3, 9)) + sweep(
        "unseen_sweep", 1, (0.1, 0), (3, 4)
    )
    assert mood_response(rows) == mood_response(rows, ("sweep",))  # the seen sweeps by default
    seen = mood_response(rows)["s"]
    assert (seen["seeds"], seen["mode_up"], seen["density_up"]) == (2, 2, 2)
    pooled = mood_response(rows, DECISION_SWEEPS)["s"]
    assert (pooled["seeds"], pooled["mode_up"], pooled["density_up"]) == (4, 3, 3)
