"""Issue 15: windows of training music where an instrument re-strikes the same notes as the
harness calls stuck are found from the tokens with the harness's own definition, and left out
of training."""

import numpy as np
import pretty_midi

from emsync_core.eval import measures
from emsync_core.music import events, restrikes, train
from emsync_core.music.corpus import Corpus


def _midi(parts: list[tuple[int, bool, list[tuple[float, list[int]]]]]) -> pretty_midi.PrettyMIDI:
    """Instruments (program, is_drum, [(onset s, pitches)]); every note lasts 0.2 s."""
    midi = pretty_midi.PrettyMIDI()
    for program, is_drum, onsets in parts:
        inst = pretty_midi.Instrument(program, is_drum=is_drum)
        for t, pitches in onsets:
            inst.notes += [pretty_midi.Note(90, p, t, t + 0.2) for p in pitches]
        midi.instruments.append(inst)
    return midi


def _tokens(midi: pretty_midi.PrettyMIDI) -> np.ndarray:
    return events.encode(events.piece_from_midi(midi), bars=False)


def test_runs_match_the_harness_on_the_same_music():
    rng = np.random.default_rng(0)
    chords = [[60, 64, 67], [62, 65, 69], [57, 60, 64]]
    keys = [
        (t * 0.25, chords[int(rng.integers(3))] if rng.random() < 0.3 else [60, 64, 67])
        for t in range(80)
    ]
    bass = [(t * 0.5, [36 + int(rng.integers(2)) * 7]) for t in range(40)]
    # A strummed guitar: the chord's notes one 8-ms step apart are still one onset.
    guitar = [(t * 0.5 + d * 0.008, [52 + 4 * d]) for t in range(40) for d in range(2)]
    tokens = _tokens(_midi([(0, False, keys), (33, False, bass), (25, False, guitar)]))
    _, lengths = restrikes.onset_runs(tokens)
    # The harness reads the MIDI the tokens decode to, as it reads a generated score.
    harness = measures._runs(measures.onsets(events.to_midi(events.decode_events(tokens))))
    expected = sorted(len(r) for r in harness for _ in r)
    assert sorted(lengths.tolist()) == expected
    assert max(lengths) == max(len(r) for r in harness)


def test_a_chord_struck_twenty_times_is_stuck_and_changing_chords_are_not():
    stuck = _midi([(0, False, [(t * 0.25, [60, 64, 67]) for t in range(20)])])
    # Three chords in turn: the top voice moves too (two would count as a frozen top voice).
    chords = [[60, 64, 67], [62, 65, 69], [57, 60, 64]]
    moving = _midi([(0, False, [(t * 0.25, chords[t % 3]) for t in range(20)])])
    assert restrikes.stuck_windows(_tokens(stuck), []).tolist() == [True]
    assert restrikes.stuck_windows(_tokens(moving), []).tolist() == [False]


def test_drums_do_not_count():
    hats = _midi(
        [
            (0, True, [(t * 0.125, [42]) for t in range(64)]),
            (0, False, [(t * 0.5, [60 + t % 5]) for t in range(16)]),
        ]
    )
    assert restrikes.stuck_windows(_tokens(hats), []).tolist() == [False]


def test_only_the_window_holding_the_run_is_flagged():
    # Eight seconds of changing notes, then one note struck 24 times.
    midi = _midi(
        [
            (
                0,
                False,
                [(t * 0.5, [60 + t % 7]) for t in range(16)]
                + [(8 + t * 0.25, [72]) for t in range(24)],
            )
        ]
    )
    tokens = _tokens(midi)
    second = int(np.searchsorted(events.token_times(tokens), round(8 / events.STEP_S)))
    assert restrikes.stuck_windows(tokens, [0, second]).tolist() == [False, True]


def test_a_frozen_top_voice_is_stuck_as_the_harness_says():
    # Chords change every half second under a top note held for 12 s: nothing is re-struck,
    # but the top voice is frozen; the same chords under a moving melody are fine.
    chords = [[48, 52, 55], [50, 53, 57], [45, 48, 52], [47, 50, 55]]
    below = [(t * 0.5, chords[t % 4]) for t in range(24)]
    held = _midi([(0, False, below), (73, False, [])])
    held.instruments[1].notes.append(pretty_midi.Note(90, 79, 0.0, 12.0))
    melody = _midi([(0, False, below), (73, False, [(t * 0.5, [72 + t % 5]) for t in range(24)])])
    for midi, frozen in ((held, True), (melody, False)):
        tokens = _tokens(midi)
        stats = measures.degeneration(events.to_midi(events.decode_events(tokens)), 12.0)
        assert (stats["top_frozen_share"] > measures.THRESHOLDS["top_frozen_share"]) is frozen
        assert restrikes.stuck_windows(tokens, []).tolist() == [frozen]
        assert restrikes.stuck_windows(tokens, [], frozen_top=False).tolist() == [False]


def _share_touching_stuck(corpus: Corpus, skip: bool) -> float:
    """Share of 200 drawn windows reaching into a labelled window flagged stuck, with the
    pieces cut into labelled windows of 40 tokens and every third one flagged."""
    cfg = train.TrainConfig(seq_len=48, augment=False, start_prob=0.0, skip_stuck=skip)
    sampler = train.WindowSampler(corpus, "train", cfg, np.random.default_rng(0))
    flags = {}
    for i, piece in enumerate(sampler.pieces):
        piece["window_tokens"] = np.arange(0, piece["n_tokens"], 40)
        n = len(piece["window_tokens"])
        piece["window_labels"] = [(piece["valence"], piece["arousal"])] * n
        piece["window_keys"] = [piece["key"]] * n
        flags[i] = np.arange(n) % 3 == 2
    sampler._stuck.update(flags)
    draws, draw = [], sampler._draw
    sampler._draw = lambda: draws.append(draw()) or draws[-1]  # see what window() drew
    touched = 0
    for _ in range(200):
        sampler.window(train=True)
        index, _, start, prefix = draws[-1]
        piece = sampler.pieces[index]
        overlap = train._overlaps(piece, start, start + cfg.seq_len - len(prefix))
        touched += bool(flags[index][overlap > 0].any())
    return touched / 200


def test_the_sampler_leaves_stuck_windows_out(corpus_dir):
    corpus = Corpus(corpus_dir)
    assert _share_touching_stuck(corpus, skip=False) > 0.3
    assert _share_touching_stuck(corpus, skip=True) < 0.05
    # Runs saved before the filter resume on the windows they trained on.
    old = train.TrainConfig.from_dict({"seq_len": 48})
    assert old.skip_stuck is False and old.skip_frozen_top is False
    assert train.TrainConfig().skip_stuck is True and train.TrainConfig().skip_frozen_top
