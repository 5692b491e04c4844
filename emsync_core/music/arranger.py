"""The rule-based engine: a film underscore from a `ScorePlan`, fast and deterministic.

It is the baseline the transformer must beat, so it tries to sound like a composer's sketch:
functional harmony with phrase cadences, voice-led strings, a bass line, an ostinato whose
density follows arousal, a recurring theme, percussion when the scene drives, and an accented
new chord exactly on every cut (the rule-based twin of the paper's `<CHORD>`).

Two passes: `choose_chords` decides the harmony for every segment (a span between two
boundaries), then `arrange` writes each layer over those segments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pretty_midi

from .harmony import MAJOR_LIKE, Chord, Key, nearest_pitch, voice_chord
from .plan import ScenePlan, ScorePlan
from .score import ChordEvent, Score, add_cut_lyrics, new_midi, set_beat_grid

# Degree-to-degree tendencies of common-practice harmony (weights, not probabilities).
# Major leans lightly on vi: a walk that returns to it often is heard as the relative minor.
_MAJOR_NEXT = {
    1: {4: 3, 5: 3, 6: 1, 2: 2, 3: 1},
    2: {5: 5, 4: 1},
    3: {6: 2, 4: 3},
    4: {5: 4, 1: 3, 2: 2},
    5: {1: 8, 6: 1, 4: 1},
    6: {4: 4, 2: 3, 5: 1, 3: 1},
}
# Minor progressions stay near i, iv and V: leaning on III, VI and VII would sound like the
# relative major, and the walk never goes to VII (its natural seventh, heard against V's
# raised one, blurs the mode).
_MINOR_NEXT = {
    1: {4: 3, 5: 3, 6: 2},
    3: {6: 2, 4: 3},
    4: {5: 4, 1: 3},
    5: {1: 6, 6: 2},
    6: {4: 3, 5: 3},
}

# Ostinato shapes, as indices into the chord's voicing (low to high).
_SHAPES = ((0, 1, 2, 3), (0, 1, 2, 3, 2, 1), (0, 2, 1, 2), (0, 3, 1, 3, 2, 3))

DRUM_KICK, DRUM_SNARE, DRUM_FLOOR_TOM, DRUM_LOW_TOM, DRUM_CRASH = 36, 38, 41, 45, 49


@dataclass(frozen=True)
class Segment:
    """A span between two consecutive boundaries, with the harmony chosen for it."""

    start_s: float
    end_s: float
    beats: int
    scene: ScenePlan
    hard: bool
    chord: Chord

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Palette:
    """General MIDI programs per layer, picked by the scene's quadrant of valence/arousal."""

    pad: int
    bass: int
    ostinato: int
    melody: int


def palette_for(valence: float, arousal: float) -> Palette:
    if arousal >= 0:
        if valence >= 0:  # bright and lively: strings, plucked bass, harp, flute
            return Palette(pad=48, bass=32, ostinato=46, melody=73)
        # tense: tremolo strings, plucked bass, driving piano, horn
        return Palette(pad=44, bass=32, ostinato=0, melody=60)
    if valence >= 0:  # tender: slow strings, contrabass, harp, clarinet
        return Palette(pad=49, bass=43, ostinato=46, melody=71)
    return Palette(pad=49, bass=43, ostinato=0, melody=42)  # sad: piano and cello


def activity(arousal: float) -> int:
    """Rhythmic activity level 0 (sustained) to 3 (driving sixteenths)."""
    if arousal < -0.4:
        return 0
    if arousal < 0.1:
        return 1
    if arousal < 0.5:
        return 2
    return 3


# ---------------------------------------------------------------------------------------
# Pass 1: harmony


@dataclass(frozen=True)
class Context:
    """The music around a re-rolled excerpt, which stays as it was: the chord (and its key)
    sounding before the excerpt's first cut, and the chord the cut after it brings."""

    before: tuple[Chord, Key] | None = None
    after: Chord | None = None


def choose_chords(
    plan: ScorePlan, rng: random.Random, context: Context | None = None
) -> list[Segment]:
    """A chord for every segment; a new chord at every cut; a cadence to the tonic at the end
    (or, inside a score, a last chord whose root differs from the chord after the excerpt)."""
    context = context or Context()
    segments: list[Segment] = []
    previous, previous_key = context.before or (None, None)
    for scene in plan.scenes:
        starts = scene.chord_starts_s
        ends = (*starts[1:], scene.end_s)
        degree = None
        for i, (start, end, beats) in enumerate(zip(starts, ends, scene.chord_beats, strict=True)):
            hard = i == 0
            key = scene.key
            if hard and key != previous_key:
                degree = 1  # a new key is established by its tonic
            else:
                # Phrases of four chords close on the dominant; so, often, does the last chord
                # before a cut, which then resolves onto the cut.
                phrase_end = not hard and (
                    (i + 1) % 4 == 0 or (i == len(starts) - 1 and rng.random() < 0.6)
                )
                degree = _next_degree(rng, key, degree or 1, phrase_end)
            chord = key.degree(degree, seventh=_wants_seventh(rng, degree, scene))
            # A cut needs a new harmony, not a recoloured one: the root must move.
            if previous and (chord == previous or (hard and chord.root == previous.root)):
                chord = _different_chord(key, previous)
                degree = _degree_of(key, chord) or degree
            segments.append(Segment(start, end, beats, scene, hard, chord))
            previous, previous_key = chord, key
    if context.after is None:
        return _cadence(segments)
    return _lead_into(segments, context.after)


def _weighted(rng: random.Random, weights: dict[int, int]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _next_degree(rng: random.Random, key: Key, degree: int, phrase_end: bool) -> int:
    table = _MAJOR_NEXT if key.mode in MAJOR_LIKE else _MINOR_NEXT
    if phrase_end and degree != 5:
        return 5  # half cadence closes the phrase
    return _weighted(rng, table.get(degree, table[1]))


def _wants_seventh(rng: random.Random, degree: int, scene: ScenePlan) -> bool:
    if degree == 5:
        return rng.random() < 0.5
    # Lush major sevenths and minor sevenths suit warm, calm scenes.
    return scene.valence > 0.3 and scene.arousal < 0 and rng.random() < 0.3


def _different_chord(key: Key, previous: Chord) -> Chord:
    """The most stable diatonic chord whose root differs from `previous`."""
    for degree in (1, 4, 6, 5, 2, 3):
        chord = key.degree(degree)
        if chord.quality != "dim" and chord.root != previous.root:
            return chord
    return key.degree(4)


def _degree_of(key: Key, chord: Chord) -> int | None:
    for d in range(1, 8):
        if key.degree(d).root == chord.root:
            return d
    return None


def _cadence(segments: list[Segment]) -> list[Segment]:
    """End on the tonic, approached by the dominant (or, when a cut rules that out, plagally)."""
    if not segments:
        return segments
    last = segments[-1]
    tonic = last.scene.key.degree(1)
    segments[-1] = _with_chord(last, tonic)
    if len(segments) < 2:
        return segments
    before = segments[-2]
    if before.chord.root != tonic.root and last.hard:
        return segments  # the last cut already brings a new chord; leave its approach alone
    key = before.scene.key
    earlier = segments[-3].chord if len(segments) > 2 else None
    for candidate in (key.degree(5, seventh=True), key.degree(4), key.degree(2)):
        clashes = before.hard and earlier is not None and candidate.root == earlier.root
        if candidate.root != tonic.root and not clashes:
            segments[-2] = _with_chord(before, candidate)
            break
    return segments


def _lead_into(segments: list[Segment], after: Chord) -> list[Segment]:
    """The cut after the excerpt must bring a new harmony: its last chord's root moves away
    from the chord that follows, and from the chord before it."""
    last = segments[-1]
    if last.chord.root != after.root:
        return segments
    avoid = {after.root} | ({segments[-2].chord.root} if len(segments) > 1 else set())
    key = last.scene.key
    for degree in (5, 4, 6, 2, 1, 3):
        chord = key.degree(degree)
        if chord.quality != "dim" and chord.root not in avoid:
            segments[-1] = _with_chord(last, chord)
            break
    return segments


def _with_chord(segment: Segment, chord: Chord) -> Segment:
    return Segment(
        segment.start_s, segment.end_s, segment.beats, segment.scene, segment.hard, chord
    )


# ---------------------------------------------------------------------------------------
# Pass 2: layers


class _Band:
    """The MIDI instruments, created on first use: one per (layer, program)."""

    MIX = {"pad": (100, 64), "bass": (100, 64), "ostinato": (82, 40), "melody": (92, 88)}

    def __init__(self, midi: pretty_midi.PrettyMIDI) -> None:
        self.midi = midi
        self.instruments: dict[tuple[str, int], pretty_midi.Instrument] = {}

    def get(self, layer: str, program: int) -> pretty_midi.Instrument:
        if (layer, program) not in self.instruments:
            name = f"{layer} - {pretty_midi.program_to_instrument_name(program)}"
            inst = pretty_midi.Instrument(program=program, name=name)
            volume, pan = self.MIX.get(layer, (100, 64))
            for number, value in ((7, volume), (10, pan), (91, 50), (11, 100)):
                inst.control_changes.append(pretty_midi.ControlChange(number, value, 0.0))
            self.instruments[(layer, program)] = inst
            self.midi.instruments.append(inst)
        return self.instruments[(layer, program)]

    def drums(self) -> pretty_midi.Instrument:
        if ("drums", 0) not in self.instruments:
            inst = pretty_midi.Instrument(program=0, is_drum=True, name="percussion")
            inst.control_changes.append(pretty_midi.ControlChange(7, 90, 0.0))
            self.instruments[("drums", 0)] = inst
            self.midi.instruments.append(inst)
        return self.instruments[("drums", 0)]


def _note(inst: pretty_midi.Instrument, pitch: int, start: float, end: float, vel: int) -> None:
    if end - start < 0.005:
        return
    vel = max(1, min(127, int(vel)))
    inst.notes.append(pretty_midi.Note(velocity=vel, pitch=int(pitch), start=start, end=end))


def _dynamics(arousal: float) -> int:
    """Base MIDI velocity: soft (~45) for calm scenes up to ~95 for the most aroused."""
    return int(70 + 25 * arousal)


def arrange(plan: ScorePlan, seed: int | None = None, context: Context | None = None) -> Score:
    """Write the full score for `plan`. Same plan and seed, same MIDI, note for note.

    `context`: `plan` is an excerpt of a longer score (a re-rolled scene) between the given
    chords; see `Context`."""
    seed = plan.seed if seed is None else seed
    rng = random.Random(seed)
    segments = choose_chords(plan, rng, context)
    midi = new_midi()
    band = _Band(midi)
    theme = _make_theme(rng)
    pad_voicing: tuple[int, ...] | None = None
    bass_pitch = 40
    shape = _SHAPES[0]
    phrase_count = 0
    for i, seg in enumerate(segments):
        scene = seg.scene
        palette = palette_for(scene.valence, scene.arousal)
        nxt = segments[i + 1] if i + 1 < len(segments) else None
        is_last = nxt is None
        if seg.hard:
            shape = rng.choice(_SHAPES)
        low, high = (48, 72) if scene.arousal < 0 else (53, 77)
        pad_voicing = voice_chord(seg.chord, pad_voicing, low, high)
        bass_pitch = nearest_pitch(seg.chord.root, bass_pitch, 31, 50)
        accent = 22 if seg.hard else 0
        base = _dynamics(scene.arousal)

        pad = band.get("pad", palette.pad)
        for pitch in pad_voicing:
            _note(pad, pitch, seg.start_s, seg.end_s, base - 5 + accent)
        if nxt is not None and nxt.hard:
            _swell(pad, seg, rising=nxt.scene.arousal >= scene.arousal)

        next_root = nxt.chord.root if nxt is not None else None
        _bass(band.get("bass", palette.bass), seg, bass_pitch, base + accent, next_root)
        if seg.length_s >= 0.25:
            voicing = voice_chord(seg.chord, None, 57, 84)
            _ostinato(band.get("ostinato", palette.ostinato), seg, voicing, shape, base, is_last)
        if seg.beats >= 4 and seg.length_s >= 1.5:
            variant = phrase_count % 4
            phrase_count += 1
            _melody(band.get("melody", palette.melody), seg, theme, variant, base, is_last)
        _percussion(band, seg, nxt)

    for inst in midi.instruments:
        inst.notes.sort(key=lambda n: (n.start, n.pitch))
        inst.control_changes.sort(key=lambda c: c.time)
    chords = tuple(
        ChordEvent(s.start_s, s.end_s, s.chord.symbol, s.scene.key.name, s.hard, s.scene.index)
        for s in segments
    )
    add_cut_lyrics(midi, chords)
    set_beat_grid(midi, [s.end_s for s in plan.scenes], [s.beats for s in plan.scenes])
    return Score(midi=midi, chords=chords, engine="arranger", seed=seed)


def _swell(pad: pretty_midi.Instrument, seg: Segment, rising: bool) -> None:
    """Expression ramp over the last beats before a cut: the music leans into the cut."""
    span = min(2 * seg.scene.beat_s, 0.4 * seg.length_s)
    if span < 0.2:
        return
    start = seg.end_s - span
    first, last = (90, 124) if rising else (100, 70)
    steps = 8
    for k in range(steps + 1):
        value = round(first + (last - first) * k / steps)
        pad.control_changes.append(pretty_midi.ControlChange(11, value, start + span * k / steps))
    pad.control_changes.append(pretty_midi.ControlChange(11, 100, seg.end_s))


def _bass(
    inst: pretty_midi.Instrument, seg: Segment, root: int, vel: int, next_root: int | None
) -> None:
    """The bass line of one segment. Calm scenes walk in half notes (root, fifth, octave or
    third) and lead into the next chord by the scale step below its root; driving ones pulse on the
    root in quarters or eighths. A held root under a whole slow chord was measured as a
    frozen voice (docs/music-eval.md): slow music still moves its bass once a bar or more."""
    level = activity(seg.scene.arousal)
    beat = seg.scene.beat_s
    if seg.length_s < 2 * beat:
        _note(inst, root, seg.start_s, seg.end_s, vel)
        return
    fifth = root + 7 if root + 7 <= 55 else root - 5
    if level <= 1:
        upper = (
            root + 12
            if root + 12 <= 55
            else nearest_pitch(seg.chord.pitch_classes[1], root, 28, 55)
        )
        walk = (root, fifth, upper, fifth)
        approach = next_root is not None and seg.beats >= 3
        body_end = seg.end_s - beat if approach else seg.end_s
        slots = max(1, round((body_end - seg.start_s) / (2 * beat)))
        for k in range(slots):
            start = seg.start_s + 2 * k * beat
            end = body_end if k == slots - 1 else start + 2 * beat
            _note(inst, walk[k % len(walk)], start, end - 0.05 * beat, vel if k == 0 else vel - 8)
        if approach:  # the scale step below the next root, on the last beat: the bass leads in
            target = nearest_pitch(next_root, walk[(slots - 1) % len(walk)], 30, 56)
            scale = seg.scene.key.scale
            step = target - 1 if (target - 1) % 12 in scale else target - 2
            _note(inst, step, body_end, seg.end_s - 0.05 * beat, vel - 8)
        return
    step = beat if level == 2 else beat / 2
    t, k = seg.start_s, 0
    while t < seg.end_s - 1e-6:
        end = min(t + step * 0.9, seg.end_s)
        pitch = root if k % 4 != 3 else (root + 12 if k % 8 == 3 else fifth)
        _note(inst, pitch, t, end, vel if k == 0 else vel - 12 - (k % 2) * 6)
        t, k = seg.start_s + (k + 1) * step, k + 1


def _ostinato(
    inst: pretty_midi.Instrument,
    seg: Segment,
    voicing: tuple[int, ...],
    shape: tuple[int, ...],
    base: int,
    is_last: bool,
) -> None:
    level = activity(seg.scene.arousal)
    per_beat = (1, 2, 2, 4)[level]
    step = seg.scene.beat_s / per_beat
    end_s = seg.end_s if not is_last else min(seg.end_s, seg.start_s + 2 * seg.scene.beat_s)
    t, k = seg.start_s, 0
    while t < end_s - 1e-6:
        pitch = voicing[shape[k % len(shape)] % len(voicing)]
        length = step * 0.95
        on_beat = k % per_beat == 0
        vel = base - 14 + (10 if on_beat else 0) + (15 if k == 0 and seg.hard else 0)
        _note(inst, pitch, t, min(t + length, seg.end_s), vel)
        t, k = seg.start_s + (k + 1) * step, k + 1


def _make_theme(rng: random.Random) -> list[tuple[float, float, int]]:
    """A two-bar motif: (onset in beats, length in beats, scale steps from the last note)."""
    rhythms = (
        [(0, 1.5), (1.5, 0.5), (2, 2), (4, 1), (5, 1), (6, 2)],
        [(0.5, 0.5), (1, 1), (2, 1), (3, 1), (4, 3)],
        [(0, 2), (2, 1), (3, 1), (4, 2), (6, 2)],
        [(0, 1), (1, 0.5), (1.5, 0.5), (2, 2), (4, 1), (5, 3)],
    )
    rhythm = rng.choice(rhythms)
    steps = [0] + [rng.choice((-2, -1, -1, 1, 1, 2, 3)) for _ in rhythm[1:]]
    return [(on, length, step) for (on, length), step in zip(rhythm, steps, strict=True)]


def _melody(
    inst: pretty_midi.Instrument,
    seg: Segment,
    theme: list[tuple[float, float, int]],
    variant: int,
    base: int,
    is_last: bool,
) -> None:
    """The theme, fitted to the segment's chord and key.

    Variants keep it recognisable but not looped: 0 as written, 1 inverted, 2 starting a
    third higher, 3 in augmentation when the scene is calm. Strong beats take chord tones.
    """
    scene = seg.scene
    scale = sorted(scene.key.scale)
    centre = (
        76 if scene.arousal < 0.3 else 79
    )  # above the pad (which reaches 72-77): the tune is the top voice
    pitch = nearest_pitch(seg.chord.pitch_classes[(variant == 2) * 1], centre, 60, 91)
    # augmentation only where the beat is quick: at calm tempi it held one tune note 4-8 s
    stretch = 2.0 if (variant == 3 and scene.arousal < 0 and scene.beat_s < 0.75) else 1.0
    sign = -1 if variant == 1 else 1
    available = seg.beats - 0.5  # leave a breath before the next boundary
    notes: list[tuple[float, float, int]] = []
    for onset, length, step in theme:
        onset, length = onset * stretch, length * stretch
        if onset >= available:
            break
        previous = pitch
        pitch = _scale_step(pitch, sign * step, scale)
        if onset == int(onset):  # strong beat: snap to a chord tone
            pitch = nearest_pitch(_nearest_pc(pitch, seg.chord.pitch_classes), pitch, 60, 91)
            if pitch == previous and notes and step:
                # snapping undid the theme's step: take the next chord tone its way instead,
                # or the tune sits on one note (the harness's frozen top voice)
                pitch = _next_chord_tone(pitch, sign * step, seg.chord.pitch_classes)
        notes.append((onset, min(length, available - onset), pitch))
    if is_last and notes:  # the final phrase comes home to the tonic
        onset, length, pitch = notes[-1]
        notes[-1] = (onset, available - onset, nearest_pitch(scene.key.tonic, pitch, 60, 91))
    for onset, length, pitch in notes:
        start = seg.start_s + onset * scene.beat_s
        _note(inst, pitch, start, start + length * scene.beat_s * 0.98, base - 2)


def _next_chord_tone(pitch: int, direction: int, pcs: tuple[int, ...]) -> int:
    """The nearest chord tone above (`direction` > 0) or below `pitch`, within 60-91."""
    step = 1 if direction > 0 else -1
    if not 60 <= pitch + step <= 91:
        step = -step
    candidate = pitch + step
    while candidate % 12 not in pcs and 60 <= candidate + step <= 91:
        candidate += step
    return candidate if candidate % 12 in pcs else pitch


def _scale_step(pitch: int, steps: int, scale: list[int]) -> int:
    """Move `steps` scale degrees from `pitch` (snapping to the scale first)."""
    pc = pitch % 12
    if pc not in scale:
        pitch -= 1 if (pc - 1) % 12 in scale else -1
    for _ in range(abs(steps)):
        pitch += 1 if steps > 0 else -1
        while pitch % 12 not in scale:
            pitch += 1 if steps > 0 else -1
    return max(60, min(91, pitch))


def _nearest_pc(pitch: int, pcs: tuple[int, ...]) -> int:
    return min(pcs, key=lambda pc: min((pitch - pc) % 12, (pc - pitch) % 12))


def _percussion(band: _Band, seg: Segment, nxt: Segment | None) -> None:
    """Crash and timpani on driving cuts, a pulse in driving scenes, a snare roll into the cut."""
    scene = seg.scene
    a = scene.arousal
    if a < 0.3:
        return
    drums = band.drums()
    beat = scene.beat_s
    if seg.hard:
        _note(drums, DRUM_CRASH, seg.start_s, seg.start_s + min(1.5, seg.length_s), 70 + 40 * a)
        if scene.valence < 0:
            timpani = band.get("timpani", 47)
            root = nearest_pitch(seg.chord.root, 45, 40, 52)
            _note(timpani, root, seg.start_s, min(seg.end_s, seg.start_s + beat), 100)
    step = beat if a < 0.6 else beat / 2
    t, k = seg.start_s, 0
    while t < seg.end_s - 1e-6:
        pitch = DRUM_KICK if k % 2 == 0 else (DRUM_FLOOR_TOM if a < 0.6 else DRUM_LOW_TOM)
        _note(drums, pitch, t, min(t + 0.1, seg.end_s), 60 + 30 * a - (k % 2) * 10)
        t, k = seg.start_s + (k + 1) * step, k + 1
    if nxt is not None and nxt.hard and nxt.scene.arousal >= 0.3 and seg.length_s > 2 * beat:
        roll = beat / 4
        t = seg.end_s - beat
        k = 0
        while t < seg.end_s - roll / 2:
            _note(drums, DRUM_SNARE, t, t + roll * 0.8, 50 + 12 * k)
            t, k = seg.end_s - beat + (k + 1) * roll, k + 1
