"""Moods the user states instead of the analyser: `--emotion` and timeline markers.

Precedence, lowest to highest: default < video analysis < `--emotion` < marker. A marker
overrides the scene it falls in (from its frame to the next cut).

Markers are written by people in a hurry, among editorial notes, so they never stop a run:
a mood marker (`emotion: ...`, `mood: ...` or `va: ...` in its name or note) accepts the
Ekman-6 names, common synonyms (happy, sad, angry, scared, calm, tense, ...) and V,A; one that
still cannot be read is named in a warning with its timecode and its scene keeps the mood it
would have had without it. Two mood markers in one scene: the later one wins, with a warning.
`--emotion` on the command line accepts the same words but fails loudly on anything else,
since the user is there to fix it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import EmotionSpecError
from ..timeline.edit import Edit, Marker
from .mapping import CLASSES, DEFAULT_VA, EKMAN6, SceneMood, mood_from_emotion

_MARKER_RE = re.compile(r"^\s*(emotion|mood|va)\s*[:=]\s*(.+?)\s*$", re.IGNORECASE)

# Everyday mood words. Those that are an Ekman-6 emotion by another name map to it; the rest
# (calm, tense, ...) have no Ekman-6 class, so they are placed on the valence/arousal plane
# directly, between the Ekman coordinates of mapping.EMOTION_VA by the circumplex's logic
# (calm: pleasant and low arousal; tense: unpleasant and aroused). These placements are
# judgement, not measurement.
SYNONYMS: dict[str, str | tuple[float, float]] = {
    "happy": "joy",
    "happiness": "joy",
    "joyful": "joy",
    "cheerful": "joy",
    "sad": "sadness",
    "sorrow": "sadness",
    "grief": "sadness",
    "angry": "anger",
    "mad": "anger",
    "rage": "anger",
    "furious": "anger",
    "scared": "fear",
    "afraid": "fear",
    "fearful": "fear",
    "frightened": "fear",
    "terror": "fear",
    "horror": "fear",
    "scary": "fear",
    "disgusted": "disgust",
    "surprised": "surprise",
    "shock": "surprise",
    "shocked": "surprise",
    "calm": (0.4, -0.6),
    "peaceful": (0.4, -0.6),
    "serene": (0.4, -0.6),
    "relaxed": (0.4, -0.6),
    "tense": (-0.4, 0.6),
    "tension": (-0.4, 0.6),
    "suspense": (-0.4, 0.6),
    "suspenseful": (-0.4, 0.6),
    "anxious": (-0.4, 0.6),
    "nervous": (-0.4, 0.6),
    "melancholy": (-0.5, -0.5),
    "melancholic": (-0.5, -0.5),
    "somber": (-0.5, -0.5),
    "sombre": (-0.5, -0.5),
    "gloomy": (-0.5, -0.5),
    "romantic": (0.6, -0.2),
    "tender": (0.6, -0.2),
    "love": (0.6, -0.2),
    "excited": (0.6, 0.8),
    "exciting": (0.6, 0.8),
    "energetic": (0.6, 0.8),
    "triumphant": (0.7, 0.6),
    "epic": (0.5, 0.7),
    "hopeful": (0.6, 0.1),
    "uplifting": (0.6, 0.2),
    "playful": (0.7, 0.4),
    "funny": (0.7, 0.4),
    "dark": (-0.6, 0.3),
    "ominous": (-0.6, 0.3),
    "eerie": (-0.5, 0.2),
    "mysterious": (-0.2, 0.2),
    "bored": (-0.3, -0.7),
    "tired": (-0.2, -0.8),
}


def parse_emotion_spec(spec: str, source: str = "cli") -> SceneMood:
    """One mood from an Ekman-6 name or a `V,A` pair in [-1, 1]."""
    text = spec.strip().lower()
    if text in CLASSES:
        return mood_from_emotion(text, source)
    synonym = SYNONYMS.get(text)
    if isinstance(synonym, str):
        return mood_from_emotion(synonym, source)
    if synonym is not None:
        return SceneMood(*synonym, source)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2:
        try:
            v, a = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            if not (-1 <= v <= 1 and -1 <= a <= 1):
                raise EmotionSpecError(
                    f"Emotion '{spec}': valence and arousal must both lie in [-1, 1]. "
                    "Example: --emotion=-0.5,0.2 (valence -0.5, arousal 0.2)."
                )
            return SceneMood(v, a, source)
    raise EmotionSpecError(
        f"Emotion '{spec}' is not understood. Use one of {', '.join(EKMAN6)} (or a common "
        "word for a mood such as happy, sad, angry, scared, calm, tense), or "
        "valence,arousal in [-1, 1] such as --emotion=-0.5,0.2, or a JSON file of "
        "per-scene values."
    )


def load_emotion_json(path: Path, n_scenes: int) -> list[SceneMood | None]:
    """Per-scene moods from a JSON file.

    Accepted shapes: a list with one entry per scene (an emotion name, "V,A", [V, A],
    {"emotion": name}, {"valence": v, "arousal": a}, or null to leave a scene alone), or an
    object {"scenes": [...]} holding such a list.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EmotionSpecError(
            f"Cannot read the emotion file '{path}': {exc}. It must be JSON: a list with one "
            'entry per scene, e.g. ["joy", "-0.5,0.2", {"valence": 0.3, "arousal": -0.1}].'
        ) from None
    if isinstance(data, dict):
        data = data.get("scenes")
    if not isinstance(data, list):
        raise EmotionSpecError(
            f"The emotion file '{path}' must hold a list of per-scene values "
            '(or {"scenes": [...]}).'
        )
    if len(data) != n_scenes:
        raise EmotionSpecError(
            f"The emotion file '{path}' has {len(data)} entries but the timeline has "
            f"{n_scenes} scenes. Give one entry per scene (null keeps a scene's own mood); "
            "`emsync cuts INPUT` lists the scenes."
        )
    return [_json_entry(entry, path, i) for i, entry in enumerate(data)]


def _json_entry(entry: object, path: Path, index: int) -> SceneMood | None:
    where = f"'{path}', scene {index}"
    if entry is None:
        return None
    if isinstance(entry, str):
        return _with_context(entry, where, "json")
    if isinstance(entry, list) and len(entry) == 2:
        return _with_context(f"{entry[0]},{entry[1]}", where, "json")
    if isinstance(entry, dict):
        if "emotion" in entry:
            return _with_context(str(entry["emotion"]), where, "json")
        if "valence" in entry and "arousal" in entry:
            return _with_context(f"{entry['valence']},{entry['arousal']}", where, "json")
    raise EmotionSpecError(
        f"Emotion file {where}: '{entry}' is not an emotion name, 'V,A', [V, A], "
        '{"emotion": NAME} or {"valence": V, "arousal": A}.'
    )


def _with_context(spec: str, where: str, source: str) -> SceneMood:
    try:
        return parse_emotion_spec(spec, source)
    except EmotionSpecError as exc:
        raise EmotionSpecError(f"{where}: {exc}") from None


def mood_marker_text(marker: Marker) -> str | None:
    """What a mood marker asks for ('joy' from `emotion: joy`), or None for other markers."""
    for text in (marker.name, marker.note):
        match = _MARKER_RE.match(text or "")
        if match:
            return match.group(2)
    return None


def marker_mood(marker: Marker) -> SceneMood | None:
    """The mood a marker asks for, or None when it is not a mood marker or cannot be read
    (`marker_warnings` says which)."""
    text = mood_marker_text(marker)
    if text is None:
        return None
    try:
        return parse_emotion_spec(text, "marker")
    except EmotionSpecError:
        return None


def marker_warnings(edit: Edit) -> list[str]:
    """What the user should hear about the mood markers: those that could not be read, and
    scenes with more than one (the later one wins)."""
    warnings: list[str] = []
    winners: dict[int, list[Marker]] = {}
    for marker in edit.markers:
        text = mood_marker_text(marker)
        if text is None:
            continue
        index = scene_at(edit, marker.frame)
        where = f"'{marker.name or marker.note}' at {edit.timecode(marker.frame)}"
        if marker_mood(marker) is None:
            scene = f"scene {index}" if index is not None else "no scene"
            warnings.append(
                f"The mood marker {where} is not understood ('{text}' is not an emotion, a "
                "common mood word or V,A); it was ignored and "
                f"{scene} keeps the mood it has without it. Accepted: "
                f"{', '.join(EKMAN6)}, happy, sad, angry, scared, calm, tense, ... or "
                "'va: 0.4,-0.2'."
            )
        elif index is not None:
            winners.setdefault(index, []).append(marker)
    for index, markers in winners.items():
        if len(markers) > 1:
            listed = ", ".join(f"'{m.name or m.note}' at {edit.timecode(m.frame)}" for m in markers)
            last = markers[-1]
            warnings.append(
                f"Scene {index} has {len(markers)} mood markers ({listed}); the later one, "
                f"'{last.name or last.note}', sets its mood."
            )
    return warnings


def resolve_moods(
    edit: Edit,
    analysed: list[SceneMood] | None = None,
    emotion: str | None = None,
) -> list[SceneMood]:
    """One mood per scene, applying the precedence default < video < --emotion < marker."""
    n = len(edit.scenes)
    moods = list(analysed) if analysed else [SceneMood(*DEFAULT_VA, "default")] * n
    if emotion:
        if Path(emotion).suffix.lower() == ".json":
            path = Path(emotion)
            if not path.is_file():
                raise EmotionSpecError(
                    f"The emotion file '{emotion}' does not exist. Give a JSON file of "
                    "per-scene values, an Ekman-6 name, or V,A."
                )
            per_scene = load_emotion_json(path, n)
            moods = [m if m is not None else old for m, old in zip(per_scene, moods, strict=True)]
        else:
            moods = [parse_emotion_spec(emotion)] * n
    for marker in edit.markers:
        mood = marker_mood(marker)
        if mood is None:
            continue
        index = scene_at(edit, marker.frame)
        if index is not None:
            moods[index] = mood
    return moods


def scene_at(edit: Edit, frame: int) -> int | None:
    """Index of the scene holding `frame`, or None outside the timeline."""
    for scene in edit.scenes:
        if scene.start <= frame < scene.end:
            return scene.index
    return None
