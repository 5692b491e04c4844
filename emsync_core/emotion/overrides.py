"""Moods the user states instead of the analyser: `--emotion` and timeline markers.

Precedence, lowest to highest: default < video analysis < `--emotion` < marker. A marker
overrides the scene it falls in (from its frame to the next cut).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import EmotionSpecError
from ..timeline.edit import Edit, Marker
from .mapping import CLASSES, DEFAULT_VA, EKMAN6, SceneMood, mood_from_emotion

_MARKER_RE = re.compile(r"^\s*(emotion|va)\s*:\s*(.+?)\s*$", re.IGNORECASE)


def parse_emotion_spec(spec: str, source: str = "cli") -> SceneMood:
    """One mood from an Ekman-6 name or a `V,A` pair in [-1, 1]."""
    text = spec.strip().lower()
    if text in CLASSES:
        return mood_from_emotion(text, source)
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
        f"Emotion '{spec}' is not understood. Use one of {', '.join(EKMAN6)}, "
        "or valence,arousal in [-1, 1] such as --emotion=-0.5,0.2, or a JSON file of "
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


def marker_mood(marker: Marker) -> SceneMood | None:
    """The mood a marker asks for (`emotion: joy` or `va: 0.4,-0.2` in name or note)."""
    for text in (marker.name, marker.note):
        match = _MARKER_RE.match(text or "")
        if not match:
            continue
        # Both forms go through the same parser: "emotion: joy" and "va: 0.4,-0.2".
        return _with_context(match.group(2), f"Marker '{text}' at frame {marker.frame}", "marker")
    return None


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
