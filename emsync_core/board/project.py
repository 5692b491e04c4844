"""The opened project: its input, scenes, the moods the editor set, locks and settings.

The board owns one hidden work folder per input, `<input dir>/.<stem>.emsync-board/`, holding
`score/` (what `emsync score` writes there, re-rolls included), `board.json` (the editor's
choices, so a board reopened on the same input picks up where it left off), `moods.json`
(the per-scene `--emotion` file) and `thumbs/`. The user's own export folder is only ever
written by Export.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from ..emotion.mapping import EKMAN6, EMOTION_VA
from ..emotion.overrides import marker_mood, scene_at
from ..errors import EmsyncError
from ..timeline import Edit
from ..video.frames import VIDEO_SUFFIXES


@dataclass
class SceneView:
    """One scene as the page shows it."""

    index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    timecode: str
    end_timecode: str
    name: str
    media_path: str | None
    marker_mood: dict | None = None  # a mood marker on the timeline (it wins over the page)
    analysed: dict | None = None  # from `emsync analyze`: valence, arousal, probs, confidence
    offline: bool | None = None  # None: not looked for yet


@dataclass
class Choices:
    """What the editor chose on the page; saved as board.json in the work folder."""

    moods: dict[str, dict] = field(default_factory=dict)  # scene index -> {"emotion"} or V/A
    locked: list[int] = field(default_factory=list)
    engine: str = "arranger"
    ensemble: str | None = None
    seed: int = 0
    preview: bool = False

    @classmethod
    def load(cls, path: Path) -> Choices:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        except (OSError, ValueError, TypeError):
            return cls()


@dataclass
class Project:
    input: Path
    media_root: Path | None
    rate: Fraction
    duration_frames: int
    start_timecode: str
    name: str
    cuts: list[int]
    hits: list[int]
    scenes: list[SceneView]
    warnings: list[str]
    choices: Choices
    edit: Edit | None = None  # None for a raw video
    _sources: list | None = field(default=None, repr=False)

    @property
    def folder(self) -> Path:
        """The project folder: everything the board serves lies inside it."""
        return self.input.parent

    @property
    def work(self) -> Path:
        return self.folder / f".{self.input.stem}.emsync-board"

    @property
    def out(self) -> Path:
        """Where the board's own `emsync score` runs write (never the user's export folder)."""
        return self.work / "score"

    @property
    def is_video(self) -> bool:
        return self.input.suffix.lower() in VIDEO_SUFFIXES

    def default_export(self) -> Path:
        return self.folder / f"{self.input.stem}.emsync"

    def seconds(self, frame: int) -> float:
        return float(Fraction(frame) / self.rate)

    def source_of(self, index: int) -> tuple[str, float, float] | None:
        """Scene `index`'s media file and the span of it the scene shows, or None offline."""
        scene = self.scenes[index]
        if self.edit is None:  # a raw video: timeline time is the file's time
            return str(self.input), scene.start_s, scene.end_s
        if self._sources is None:
            from ..video.frames import MediaError, resolve_scene_sources

            try:
                self._sources = resolve_scene_sources(self.edit, None, self.media_root)
            except MediaError:
                self._sources = [None] * len(self.scenes)
        found = self._sources[index]
        if found is None:
            return None
        return found.path, found.start_s, found.end_s

    def save_choices(self) -> None:
        self.work.mkdir(exist_ok=True)
        _write_atomic(self.work / "board.json", json.dumps(asdict(self.choices), indent=2))

    def emotion_file(self) -> Path | None:
        """The per-scene `--emotion` file for the moods set on the page (None if none)."""
        if not self.choices.moods:
            return None
        entries = [self.choices.moods.get(str(s.index)) for s in self.scenes]
        doc = [_spec_entry(e) for e in entries]
        path = self.work / "moods.json"
        self.work.mkdir(exist_ok=True)
        _write_atomic(path, json.dumps(doc))
        return path

    def emotion_spec(self, index: int) -> str | None:
        """Scene `index`'s page mood as one `--emotion` value, or None if not set."""
        entry = _spec_entry(self.choices.moods.get(str(index)))
        if entry is None:
            return None
        if isinstance(entry, str):
            return entry
        return f"{entry['valence']:.3f},{entry['arousal']:.3f}"

    def to_json(self) -> dict:
        return {
            "input": str(self.input),
            "folder": str(self.folder),
            "name": self.name,
            "is_video": self.is_video,
            "rate": float(self.rate),
            "duration_frames": self.duration_frames,
            "duration_s": self.seconds(self.duration_frames),
            "start_timecode": self.start_timecode,
            "cuts": [{"frame": f, "seconds": self.seconds(f)} for f in self.cuts],
            "hits": [{"frame": f, "seconds": self.seconds(f)} for f in self.hits],
            "scenes": [asdict(s) for s in self.scenes],
            "warnings": self.warnings,
            "choices": asdict(self.choices),
            "default_export": str(self.default_export()),
        }


def set_mood(project: Project, index: int, mood: dict | None) -> None:
    """Record a page mood for a scene: {"emotion": name}, {"valence", "arousal"} or None."""
    if not 0 <= index < len(project.scenes):
        raise EmsyncError(f"There is no scene {index}; the timeline has {len(project.scenes)}.")
    if mood is None:
        project.choices.moods.pop(str(index), None)
    elif "emotion" in mood:
        if mood["emotion"] not in EKMAN6:
            raise EmsyncError(
                f"'{mood['emotion']}' is not an Ekman-6 emotion ({', '.join(EKMAN6)})."
            )
        project.choices.moods[str(index)] = {"emotion": mood["emotion"]}
    else:
        try:
            v, a = float(mood["valence"]), float(mood["arousal"])
        except (KeyError, TypeError, ValueError):
            raise EmsyncError("A mood needs an emotion name or valence and arousal.") from None
        if not (-1 <= v <= 1 and -1 <= a <= 1):
            raise EmsyncError("Valence and arousal must lie between -1 and 1.")
        project.choices.moods[str(index)] = {"valence": round(v, 3), "arousal": round(a, 3)}
    project.save_choices()


def open_timeline(path: Path, media_root: Path | None = None) -> Project:
    """Read a timeline (or probe a video, whose scenes come from `emsync analyze`)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmsyncError(f"'{path}' does not exist or is not a file. Check the path.")
    path = path.resolve()
    if media_root is not None and not Path(media_root).is_dir():
        raise EmsyncError(f"The media folder '{media_root}' does not exist.")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return _open_video(path, media_root)
    from ..timeline import read

    edit = read(path)
    return _project(path, media_root, edit)


def _open_video(path: Path, media_root: Path | None) -> Project:
    """A raw video: one scene until the analysis job finds its cuts (`apply_video_scenes`)."""
    from ..timeline.timebase import exact_rate
    from ..video.frames import probe

    info = probe(path)
    rate = exact_rate(info.fps)
    duration = round(Fraction(info.duration_s).limit_denominator(10**6) * rate)
    if duration <= 0:
        raise EmsyncError(f"The video '{path}' has no frames to score.")
    project = Project(
        input=path,
        media_root=media_root,
        rate=rate,
        duration_frames=duration,
        start_timecode="00:00:00:00",
        name=path.stem,
        cuts=[],
        hits=[],
        scenes=[],
        warnings=[],
        choices=Choices(),
    )
    project.scenes = [_scene_view(project, 0, 0, duration, path.name, str(path))]
    _restore(project)
    return project


def apply_video_scenes(project: Project, spans: list[tuple[float, float]]) -> None:
    """For a raw video: the scenes `emsync analyze` detected (as `emsync score` will)."""
    cuts = sorted({round(Fraction(t0).limit_denominator(10**6) * project.rate) for t0, _ in spans})
    cuts = [c for c in cuts if 0 < c < project.duration_frames]
    bounds = [0, *cuts, project.duration_frames]
    project.cuts = cuts
    project.scenes = [
        _scene_view(project, i, a, b, f"{project.input.name} #{i + 1}", str(project.input))
        for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]


def _project(path: Path, media_root: Path | None, edit: Edit) -> Project:
    project = Project(
        input=path,
        media_root=media_root,
        rate=edit.rate,
        duration_frames=edit.duration,
        start_timecode=edit.start_timecode,
        name=edit.name,
        cuts=list(edit.cuts),
        hits=list(edit.hit_frames),
        scenes=[],
        warnings=list(edit.warnings),
        choices=Choices(),
        edit=edit,
    )
    project.scenes = [
        _scene_view(project, s.index, s.start, s.end, s.name, s.media_path) for s in edit.scenes
    ]
    for marker in edit.markers:
        mood = marker_mood(marker)
        index = scene_at(edit, marker.frame) if mood is not None else None
        if index is not None:
            project.scenes[index].marker_mood = {
                "valence": mood.valence,
                "arousal": mood.arousal,
                "text": marker.name or marker.note,
            }
    _restore(project)
    return project


def _scene_view(
    project: Project, index: int, start: int, end: int, name: str, media: str | None
) -> SceneView:
    return SceneView(
        index=index,
        start_frame=start,
        end_frame=end,
        start_s=project.seconds(start),
        end_s=project.seconds(end),
        timecode=_timecode(project, start),
        end_timecode=_timecode(project, end),
        name=name or f"Scene {index + 1}",
        media_path=media,
    )


def _timecode(project: Project, frame: int) -> str:
    """Record timecode (non-drop) of `frame`, from the timeline's start timecode."""
    fps = round(float(project.rate))
    h, m, s, f = (int(x) for x in project.start_timecode.replace(";", ":").split(":"))
    total = ((h * 60 + m) * 60 + s) * fps + f + frame
    f = total % fps
    s = total // fps
    return f"{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}"


def _restore(project: Project) -> None:
    """The editor's choices from a previous session on this input, if any."""
    project.choices = Choices.load(project.work / "board.json")
    n = len(project.scenes)
    project.choices.locked = [i for i in project.choices.locked if 0 <= i < n]


def _spec_entry(entry: dict | None) -> str | dict | None:
    if entry is None:
        return None
    if "emotion" in entry:
        return entry["emotion"]
    return {"valence": entry["valence"], "arousal": entry["arousal"]}


def ekman_va(name: str) -> tuple[float, float]:
    return EMOTION_VA[name]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
