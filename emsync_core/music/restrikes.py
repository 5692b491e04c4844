"""Stuck stretches of training music: one instrument striking the same notes on and on.

The harness calls a score degenerate when an instrument strikes exactly the same pitches more
than 16 times in a row, or when a quarter of its onsets sit in runs of 8 or more
(`eval.measures.THRESHOLDS`, calibrated on real music in docs/music-eval.md). The MMA grooves
do this themselves: a strummed chord held for three bars, a one-note ostinato under a vamp.
Measured with the harness on 30-s excerpts of the drums corpus, 28 % of them cross those lines
(docs/training.md), and a model trained on them learns the loop without the song around it.
So the windows of a corpus piece that cross the same lines are left out of training, and so
are the windows whose top voice is frozen (the harness's `top_frozen_share`: a voicing held
or re-voiced under changing chords, which re-strikes nothing exactly; 16 % of the MMA windows
and 5 % of music21's, `docs/training.md`).

The measure is the harness's, read from tokens instead of MIDI: onsets are grouped per
instrument group (notes starting within 10 ms are one onset), and a run is a sequence of
onsets with identical pitch sets. Drums do not count, as in the harness. Read from tokens
because training windows are token ranges: each onset keeps the index of its first NOTE_ON,
which the harness's MIDI (seconds, one instrument per group) no longer has.
`tests/test_restrikes.py` checks that the runs equal the harness's on the decoded MIDI.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ..eval import measures
from ..eval.measures import ONSET_TOLERANCE_S, RUN_LONG, THRESHOLDS
from . import events

_TOLERANCE_STEPS = int(ONSET_TOLERANCE_S / events.STEP_S)  # 10 ms -> 1 step of 8 ms
LONGEST_RUN = int(THRESHOLDS["longest_restrike_run"])
LONG_RUN_SHARE = THRESHOLDS["share_in_long_runs"]
TOP_FROZEN_SHARE = THRESHOLDS["top_frozen_share"]


def onset_runs(tokens: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(token index, run length) of every pitched onset, in token order. The run length is
    the length of the whole run of identical onsets the onset belongs to."""
    tokens = np.asarray(tokens, dtype=np.int64)
    times = events.token_times(tokens)
    on = np.flatnonzero((tokens >= events.NOTE_ON_BASE) & (tokens < events.NOTE_OFF_BASE))
    index = tokens[on] - events.NOTE_ON_BASE
    groups, pitches = index // events.N_PITCHES, index % events.N_PITCHES
    onset_at: list[int] = []
    run_id: list[int] = []
    n_runs = 0
    for group in np.unique(groups):
        if group == events.DRUMS:
            continue
        mine = np.flatnonzero(groups == group)
        start_time, first, pitch_set = -(10**9), -1, set()
        previous: frozenset[int] | None = None
        onsets: list[tuple[int, frozenset[int]]] = []
        for i in mine.tolist():
            t = int(times[on[i]])
            if t - start_time > _TOLERANCE_STEPS:
                if first >= 0:
                    onsets.append((first, frozenset(pitch_set)))
                start_time, first, pitch_set = t, int(on[i]), set()
            pitch_set.add(int(pitches[i]))
        if first >= 0:
            onsets.append((first, frozenset(pitch_set)))
        for at, pitch_set_ in onsets:
            if pitch_set_ != previous:
                n_runs += 1
            onset_at.append(at)
            run_id.append(n_runs - 1)
            previous = pitch_set_
    if not onset_at:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    run_ids = np.asarray(run_id)
    lengths = np.bincount(run_ids)[run_ids]
    order = np.argsort(np.asarray(onset_at), kind="stable")
    return np.asarray(onset_at)[order], lengths[order]


def stuck_windows(
    tokens: Sequence[int] | np.ndarray, window_starts: Sequence[int], frozen_top: bool = True
) -> np.ndarray:
    """One flag per window (window i holds tokens [starts[i], starts[i + 1]), the first also
    those before it; no starts: the whole piece is one window): True where the window holds
    an onset of a run longer than the harness allows, where more than its share of the
    window's onsets sit in runs of RUN_LONG or more, or (`frozen_top`) where its top voice is
    frozen (`frozen_top_windows`)."""
    at, length = onset_runs(tokens)
    starts = np.asarray(window_starts, dtype=np.int64)
    if starts.size == 0:
        starts = np.zeros(1, dtype=np.int64)
    window = np.clip(np.searchsorted(starts, at, side="right") - 1, 0, None)
    n = starts.size
    too_long = np.bincount(window, weights=length > LONGEST_RUN, minlength=n) > 0
    in_long = np.bincount(window, weights=length >= RUN_LONG, minlength=n)
    total = np.bincount(window, minlength=n)
    share = np.divide(in_long, total, out=np.zeros(n), where=total > 0)
    stuck = too_long | (share > LONG_RUN_SHARE)
    return stuck | frozen_top_windows(tokens, starts) if frozen_top else stuck


def frozen_top_windows(tokens: Sequence[int] | np.ndarray, window_starts: np.ndarray) -> np.ndarray:
    """One flag per window (as `stuck_windows`): True where the top voice is frozen as the
    harness defines it: in more than half of the 4-s stretches (hop 2 s) inside the window,
    the highest sounding pitch takes fewer than 3 distinct values. A strummed voicing held for
    bars under changing chords does this without re-striking exactly the same notes.

    Read from the MIDI the tokens decode to, with the harness's own grid and windows
    (`measures.top_voice`, `measures.frozen_share`), so the definition is the harness's."""
    tokens = np.asarray(tokens, dtype=np.int64)
    times = events.token_times(tokens) * events.STEP_S
    duration = float(times[-1]) if times.size else 0.0
    voice = measures.top_voice(events.to_midi(events.decode_events(tokens)), duration)
    edges = [float(times[s]) if s < times.size else duration for s in window_starts.tolist()]
    edges = [0.0, *edges[1:], duration]
    shares = [measures.frozen_share(voice, lo, hi) for lo, hi in itertools.pairwise(edges)]
    # nan (a window shorter than one 4-s stretch) is not frozen: nan > x is False
    return np.asarray(shares, dtype=float) > TOP_FROZEN_SHARE
