"""Everything the Resolve menu script does, with the `resolve` object passed in.

Runs inside Resolve's own Python (3.7 to 3.14, often without pip), so this module uses the
standard library only and never imports the emsync_core package: the heavy work runs in the
project's venv as a subprocess (`emsync score`) and comes back as files. The names and
defaults it shares with the core (engines, emotions, the score track's name, the config path)
come from emsync_core/defaults.py, loaded by its path in the checkout (see `_shared`). Every
Resolve call is checked, because the API reports failure by returning False, None or [] rather
than raising. See docs/editors.md ("known application quirks") for the version-specific
behaviour this works around.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import wave
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath


def _shared():
    """emsync_core/defaults.py: the package's module when it is importable (the venv, tests),
    else the same file loaded by path from the checkout this file lives in (Resolve)."""
    if "emsync_core.defaults" in sys.modules:
        return sys.modules["emsync_core.defaults"]
    path = Path(__file__).resolve().parent.parent / "emsync_core" / "defaults.py"
    spec = importlib.util.spec_from_file_location("_emsync_shared_defaults", str(path))
    if spec is None or not path.is_file():
        raise ImportError(f"EMSYNC's shared defaults are missing: {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shared = _shared()
SCORE_TRACK = shared.SCORE_TRACK
EKMAN = shared.EMOTIONS
ENGINES = shared.ENGINES
BIN_NAME = "EMSYNC"
AUTO_TEXT = (
    "Auto: each scene's mood is read from its footage (picture, sound, faces); timeline "
    "markers ('emotion: joy', 'va: 0.2,-0.4') override it; scenes whose media cannot be "
    "reached get a gentle neutral default."
)
CORE_TIMEOUT_S = 1800


class BridgeError(Exception):
    """A failure the user can act on; str() is the message shown in Resolve."""


@dataclass
class Options:
    emotion: str | None = None  # None: markers, else footage analysis, else the default
    engine: str = shared.ENGINE
    seed: int = 0
    soundfont: str | None = None


@dataclass
class Outcome:
    wav: Path
    out_dir: Path
    track_index: int
    start_frame: int
    duration: int
    export_format: str
    messages: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- configuration


def config_path(
    system: str | None = None, env: dict | None = None, home: str | Path | None = None
) -> PurePath:
    """Per-user config file written by the installer (EMSYNC_CONFIG overrides)."""
    return shared.config_path(system, env, home)


def load_config(path: str | Path | None = None) -> dict:
    """The installer's config ({} when missing or unreadable: callers explain what is needed)."""
    path = Path(path) if path else config_path()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_defaults(options: Options, path: str | Path | None = None) -> None:
    """Remember the dialog's choices: Free 19.1+ has no dialog and runs with these."""
    path = Path(path) if path else config_path()
    config = load_config(path)
    config["defaults"] = asdict(options)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    except OSError:
        pass  # remembering choices is a convenience; never fail a scoring run over it


def saved_options(config: dict) -> Options:
    saved = config.get("defaults") or {}
    try:
        return Options(
            emotion=saved.get("emotion") or None,
            engine=saved.get("engine") or shared.ENGINE,
            seed=int(saved.get("seed") or 0),
            soundfont=saved.get("soundfont") or None,
        )
    except (TypeError, ValueError):
        return Options()


def headless_options(env: dict | None = None, base: Options | None = None) -> Options:
    """Options for EMSYNC_HEADLESS=1 runs, from EMSYNC_EMOTION / _ENGINE / _SEED."""
    env = os.environ if env is None else env
    base = base or Options()
    seed_text = env.get("EMSYNC_SEED", "").strip()
    try:
        seed = int(seed_text) if seed_text else base.seed
    except ValueError:
        raise BridgeError(f"EMSYNC_SEED must be a whole number, not '{seed_text}'.") from None
    return Options(
        emotion=env.get("EMSYNC_EMOTION", "").strip() or base.emotion,
        engine=env.get("EMSYNC_ENGINE", "").strip() or base.engine,
        seed=seed,
        soundfont=env.get("EMSYNC_SOUNDFONT", "").strip() or base.soundfont,
    )


def mood_spec(mode: str, valence: float = 0.0, arousal: float = 0.0) -> str | None:
    """The --emotion value for a dialog choice: 'auto', an Ekman name, or 'va'."""
    mode = mode.strip().lower()
    if mode.startswith("auto"):
        return None
    if mode in EKMAN:
        return mode
    if mode in ("va", "valence/arousal"):
        v, a = (max(-1.0, min(1.0, float(x))) for x in (valence, arousal))
        return f"{v:.2f},{a:.2f}"
    raise BridgeError(f"Unknown mood '{mode}'.")


def find_python(config: dict, env: dict | None = None) -> str:
    """The venv interpreter: EMSYNC_PYTHON, else the installer's config.

    Never sys.executable: inside Resolve that is Resolve itself or fuscript.
    """
    env = os.environ if env is None else env
    candidate = env.get("EMSYNC_PYTHON") or config.get("python")
    if not candidate:
        raise BridgeError(
            "EMSYNC does not know where its Python environment is. Run "
            "'.venv/bin/emsync install-resolve' in the EMSYNC folder (it writes the config), or "
            "set EMSYNC_PYTHON to the venv's python, then restart Resolve."
        )
    if not Path(candidate).is_file():
        raise BridgeError(
            f"The EMSYNC Python '{candidate}' does not exist (moved or deleted venv?). Run "
            "'bash scripts/setup.sh' and then '.venv/bin/emsync install-resolve' again."
        )
    return str(candidate)


# ---------------------------------------------------------------- Resolve facts


def version_of(resolve) -> tuple[int, int, int]:
    """(major, minor, patch): several API fixes landed in patch releases (20.2.2, 20.3.2)."""
    try:
        fields = list(resolve.GetVersion() or [])
    except (TypeError, AttributeError):
        return (0, 0, 0)
    numbers = []
    for value in fields[:3]:
        try:
            numbers.append(int(value))
        except (TypeError, ValueError):
            break
    return tuple((numbers + [0, 0, 0])[:3])


def is_studio(resolve) -> bool:
    return "studio" in str(resolve.GetProductName() or "").lower()


def dialog_available(resolve) -> bool:
    """UIManager exists on Studio and on Free before 19.1.

    Decided from edition and version, never by touching fusion.UIManager: on Free 19.1+
    that opens an upsell modal which makes later API calls fail.
    """
    return is_studio(resolve) or version_of(resolve)[:2] < (19, 1)


def end_frame_inclusive(resolve) -> bool:
    """AppendToTimeline's endFrame behaved inclusive on 19.1.x only (exclusive elsewhere).
    Decided by the version alone: a one-frame miss is never "calibrated" by flipping it."""
    return version_of(resolve)[:2] == (19, 1)


def video_tracks_gate_audio(resolve) -> bool:
    """Before 20.2.2 an audio-only append (mediaType 2) checked trackIndex against the number
    of *video* tracks (20.2.2 changelog): on V1+A1 the score's A2 is refused."""
    return version_of(resolve) < (20, 2, 2)


def append_needs_selection(resolve) -> bool:
    """20.x before 20.3.2: AppendToTimeline failed when no media-pool clip was selected
    (20.3.2 changelog)."""
    return (20, 0, 0) <= version_of(resolve) < (20, 3, 2)


def parse_rate(text: object) -> float | None:
    """'24', '23.976', '29.97 DF', 24, 23.976 (21.1 gives numbers) -> fps; None when unreadable."""
    try:
        value = float(str(text).split()[0])
    except (ValueError, IndexError):
        return None
    return value if value > 0 else None


def setting(resolve, holder, name: str):
    """A project or timeline setting: 21.1's GetSettings() dict first, GetSetting(name) else."""
    if version_of(resolve) >= (21, 1, 0):
        try:
            settings = holder.GetSettings()
        except (AttributeError, TypeError):
            settings = None
        if isinstance(settings, dict) and settings.get(name) not in (None, ""):
            return settings[name]
    return holder.GetSetting(name)


def clip_property(item, name: str):
    """A media-pool item property: the GetClipProperty() dict (21.1's preferred form) first."""
    try:
        props = item.GetClipProperty()
    except (AttributeError, TypeError):
        props = None
    if isinstance(props, dict) and name in props:
        return props[name]
    try:
        return item.GetClipProperty(name)
    except (AttributeError, TypeError):
        return None


def current_timeline(resolve):
    """(project, timeline) or a BridgeError saying what to open."""
    if resolve is None:
        raise BridgeError(
            "Cannot reach DaVinci Resolve. Run Generate Score from Workspace > Scripts inside "
            "Resolve (running it from outside needs Resolve Studio with external scripting on)."
        )
    manager = resolve.GetProjectManager()
    project = manager.GetCurrentProject() if manager else None
    if not project:
        raise BridgeError("No project is open. Open a project and a timeline, then try again.")
    timeline = project.GetCurrentTimeline()
    if not timeline:
        raise BridgeError(
            "No timeline is open. Open the timeline to score in the Edit page, then try again."
        )
    return project, timeline


def find_score_tracks(timeline) -> list[int]:
    count = int(timeline.GetTrackCount("audio") or 0)
    return [i for i in range(1, count + 1) if timeline.GetTrackName("audio", i) == SCORE_TRACK]


def content_duration(timeline, skip_audio: list[int]) -> int:
    """Frames from the timeline start to the end of its last item, ignoring the old score:
    Resolve's own length of the edit, which the scored file must match."""
    start = int(timeline.GetStartFrame())
    end = start
    for kind in ("video", "audio"):
        for index in range(1, int(timeline.GetTrackCount(kind) or 0) + 1):
            if kind == "audio" and index in skip_audio:
                continue
            for item in timeline.GetItemListInTrack(kind, index) or []:
                end = max(end, int(item.GetEnd()))
    return end - start


def score_files(timeline, tracks: list[int]) -> set[str]:
    """The files the old score clips play (normalised), to find them in an export whatever
    Resolve named their track there."""
    found = set()
    for index in tracks:
        for item in timeline.GetItemListInTrack("audio", index) or []:
            media = item.GetMediaPoolItem()
            path = clip_property(media, "File Path") if media else None
            if path:
                found.add(_norm(str(path)))
    return found


def _norm(path_or_url: str) -> str:
    """A media path or file URL as one comparable string."""
    text = path_or_url
    if text.lower().startswith("file:"):
        text = urllib.request.url2pathname(urllib.parse.urlparse(text).path)
    return os.path.normcase(os.path.normpath(text))


# ---------------------------------------------------------------- export and score


def export_timeline(resolve, timeline, folder: Path, old_score: set[str]) -> tuple[Path, str]:
    """Write the timeline to `folder`: OTIO from 18.5, else FCP7 XML, else EDL; the old
    score's tracks are taken out of the file (found by the files they play)."""
    name = _safe_name(timeline.GetName() or "timeline")
    attempts = []
    if version_of(resolve) >= (18, 5, 0):
        attempts.append(("otio", "EXPORT_OTIO", "EXPORT_NONE", ".otio"))
    attempts.append(("fcp7xml", "EXPORT_FCP_7_XML", "EXPORT_NONE", ".xml"))
    attempts.append(("edl", "EXPORT_EDL", "EXPORT_NONE", ".edl"))  # EDL needs a subtype
    for label, kind, subtype, suffix in attempts:
        kind_value, subtype_value = getattr(resolve, kind, None), getattr(resolve, subtype, None)
        if kind_value is None or subtype_value is None:
            continue
        path = folder / (name + suffix)
        if timeline.Export(str(path), kind_value, subtype_value) and path.exists():
            if label == "otio":
                _drop_old_score_otio(path, old_score)
            elif label == "fcp7xml":
                _drop_old_score_xml(path, old_score)
            return path, label
    raise BridgeError(
        "Resolve could not export this timeline (OTIO, FCP7 XML and EDL all failed). Close any "
        "open dialog in Resolve, or export it yourself with File > Export > Timeline and run "
        "'emsync score' on the file."
    )


def _otio_urls(node) -> list[str]:
    """Every media URL under an OTIO JSON node (Clip.1 media_reference or Clip.2's dict)."""
    urls = []
    if isinstance(node, dict):
        if isinstance(node.get("target_url"), str):
            urls.append(node["target_url"])
        for value in node.values():
            urls += _otio_urls(value)
    elif isinstance(node, list):
        for value in node:
            urls += _otio_urls(value)
    return urls


def _is_old_score(name: str, urls: list[str], old_score: set[str]) -> bool:
    if name == SCORE_TRACK:
        return True
    return bool(urls) and all(_norm(u) in old_score for u in urls)


def _drop_old_score_otio(path: Path, old_score: set[str]) -> None:
    """Remove a previous score from an exported OTIO so it cannot set the length.

    The core measures the timeline over all tracks; an old score that outlasts a since-trimmed
    edit would otherwise make the new score too long. Resolve's export need not keep our
    track name, so a track also counts as the old score when every clip on it plays one of
    the old score's files. OTIO JSON is plain JSON, so stdlib will do.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        tracks = doc["tracks"]["children"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    kept = [
        t
        for t in tracks
        if not (
            isinstance(t, dict)
            and t.get("kind") == "Audio"
            and _is_old_score(t.get("name", ""), _otio_urls(t.get("children")), old_score)
        )
    ]
    if len(kept) != len(tracks):
        doc["tracks"]["children"] = kept
        path.write_text(json.dumps(doc, indent=4), encoding="utf-8")


def _drop_old_score_xml(path: Path, old_score: set[str]) -> None:
    """The same for an FCP 7 XML export (Resolve before 18.5)."""
    try:
        tree = ET.parse(str(path))
    except (OSError, ET.ParseError):
        return
    changed = False
    for audio in tree.getroot().iter("audio"):
        for track in audio.findall("track"):
            items = track.findall("clipitem")
            names = {i.findtext("name") for i in items}
            urls = [u.text for u in track.iter("pathurl") if u.text]
            if items and (
                names == {SCORE_TRACK} or (urls and all(_norm(u) in old_score for u in urls))
            ):
                audio.remove(track)
                changed = True
    if changed:
        tree.write(str(path), encoding="utf-8", xml_declaration=True)


def _safe_name(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_ " else "_" for c in str(text)).strip()
    return cleaned[:80] or "timeline"


def child_env(env: dict | None = None) -> dict:
    """The environment for the venv's Python, without Resolve's interpreter settings.

    An inherited PYTHONHOME/PYTHONPATH meant for Resolve's Python breaks a child of another
    version ("SRE module mismatch").
    """
    env = dict(os.environ if env is None else env)
    for key in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__"):
        env.pop(key, None)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def score_command(
    python: str, timeline_file: Path, out_dir: Path, options: Options, rate: float | None
) -> list[str]:
    cmd = [python, "-m", "emsync_core.cli", "score", str(timeline_file), "--out", str(out_dir)]
    cmd += ["--seed", str(int(options.seed)), "--engine", options.engine]
    if options.emotion:
        cmd.append(f"--emotion={options.emotion}")  # '=' so a negative valence is not a flag
    if options.soundfont:
        cmd += ["--soundfont", str(options.soundfont)]
    if rate and timeline_file.suffix.lower() == ".edl":
        cmd += ["--rate", f"{rate:g}"]  # EDLs carry no frame rate
    return cmd


def run_core(cmd: list[str], cwd: str | None = None, timeout: float = CORE_TIMEOUT_S) -> str:
    """Run `emsync score`; its stderr notes on success, its message as BridgeError otherwise."""
    kwargs = {}
    if sys.platform == "win32":
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=child_env(),
            cwd=cwd if cwd and Path(cwd).is_dir() else None,
            timeout=timeout,
            **kwargs,
        )
    except OSError as exc:
        raise BridgeError(f"Could not start the EMSYNC Python '{cmd[0]}': {exc}") from None
    except subprocess.TimeoutExpired:
        raise BridgeError(
            f"emsync score took longer than {timeout:.0f} s and was stopped."
        ) from None
    if proc.returncode == 0:
        return proc.stderr
    if proc.returncode == 2:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        text = " ".join(lines[-3:]) if lines else "bad input"
        raise BridgeError(text.replace("emsync: error: ", "", 1))
    tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
    raise BridgeError(
        f"emsync score failed (exit {proc.returncode}); this is a bug, please report it.\n{tail}"
    )


def wav_frames(path: Path, rate: float) -> float:
    """Length of a WAV in timeline frames (stdlib `wave` reads the core's PCM output)."""
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / handle.getframerate() * rate


# ---------------------------------------------------------------- media pool and timeline


def import_score(resolve, media_pool, wav: Path, tries: int = 5, wait_s: float = 0.5):
    """Import `wav` into the "EMSYNC" bin; the MediaPoolItem."""
    root = media_pool.GetRootFolder()
    if not root:
        raise BridgeError("Resolve did not give access to the media pool.")
    folder = next((f for f in root.GetSubFolderList() or [] if f.GetName() == BIN_NAME), None)
    folder = folder or media_pool.AddSubFolder(root, BIN_NAME)
    if not folder:
        raise BridgeError(f"Could not create the media pool bin '{BIN_NAME}'.")
    previous = media_pool.GetCurrentFolder()
    # ImportMedia lands in the current folder only
    if not media_pool.SetCurrentFolder(folder):
        raise BridgeError(f"Could not open the media pool bin '{BIN_NAME}'.")
    try:
        for attempt in range(tries):
            # may come back empty while the file system settles; retry briefly
            items = _import(resolve, media_pool, wav)
            if items:
                return items[0]
            if attempt + 1 < tries:
                time.sleep(wait_s)
    finally:
        if previous:
            media_pool.SetCurrentFolder(previous)
    raise BridgeError(f"Resolve could not import '{wav}' into the media pool.")


def _import(resolve, media_pool, wav: Path) -> list:
    """21.1 deprecates ImportMedia([paths]) for ImportMedia([{"FilePath": path}])."""
    if version_of(resolve) >= (21, 1, 0):
        items = media_pool.ImportMedia([{"FilePath": str(wav)}]) or []
        if items:
            return list(items)
    return list(media_pool.ImportMedia([str(wav)]) or [])


def _delete_items(resolve, timeline, items: list, what: str) -> None:
    """DeleteClips, checked: it fails outside the Edit page and while a dialog is open."""
    if not items:
        return
    resolve.OpenPage("edit")
    if not timeline.DeleteClips(items, False):
        raise BridgeError(
            f"Resolve refused to delete {what}. Close any open dialog in Resolve, open the "
            "Edit page and try again."
        )


def new_score_track(timeline) -> int:
    """A fresh stereo audio track named "EMSYNC Score" at the end; its index."""
    if not timeline.AddTrack("audio", "stereo"):
        raise BridgeError("Could not add an audio track to the timeline.")
    index = int(timeline.GetTrackCount("audio"))  # AddTrack appends
    if not timeline.SetTrackName("audio", index, SCORE_TRACK):
        timeline.DeleteTrack("audio", index)
        raise BridgeError("Could not name the new audio track.")
    return index


def remove_tracks(resolve, timeline, tracks: list[int]) -> None:
    """Empty and delete the old score tracks (highest index first, so the others keep theirs)."""
    for index in sorted(tracks, reverse=True):
        items = timeline.GetItemListInTrack("audio", index) or []
        _delete_items(resolve, timeline, items, f"the previous score on audio track {index}")
        if timeline.GetItemListInTrack("audio", index) or not timeline.DeleteTrack("audio", index):
            raise BridgeError(
                f"Could not remove the previous score track (audio {index}); the new score is "
                f"on the last audio track. Delete the old one by hand."
            )


def place_clip(resolve, media_pool, timeline, item, index: int, duration: int) -> None:
    """Put `item` on audio track `index` at the timeline start for `duration` frames, and
    check by reading the track back; on failure nothing this call placed is left.

    recordFrame is absolute (0 would put the clip before the timeline). endFrame is exclusive
    except on 19.1 (decided by the version only). With the clip's rate different from the
    timeline's, Resolve floors the converted range: a one-frame miss moves the end frame one
    source frame toward the target and tries again.
    """
    start = int(timeline.GetStartFrame())
    clip_rate = parse_rate(clip_property(item, "FPS"))
    tl_rate = parse_rate(setting(resolve, timeline, "timelineFrameRate"))
    mixed = bool(clip_rate and tl_rate and abs(clip_rate - tl_rate) > 1e-3)
    source_frames = round(duration * clip_rate / tl_rate) if mixed else duration
    inclusive = end_frame_inclusive(resolve)
    if append_needs_selection(resolve):
        media_pool.SetSelectedClip(item)  # checked below, by what the append did
    for attempt in range(2):
        info = {
            "mediaPoolItem": item,
            "startFrame": 0,
            "endFrame": source_frames - 1 if inclusive else source_frames,
            "mediaType": 2,
            "trackIndex": index,
            "recordFrame": start,
        }
        _append(resolve, media_pool, timeline, info, index)
        # the returned list can hold items that were silently dropped: re-list the track
        on_track = timeline.GetItemListInTrack("audio", index) or []
        ours = [p for p in on_track if _media_id(p.GetMediaPoolItem()) == _media_id(item)]
        got = [(int(p.GetStart()), int(p.GetDuration())) for p in ours]
        if got == [(start, duration)] and len(on_track) == 1:
            return
        _delete_items(resolve, timeline, ours, "a misplaced score clip")
        one_off = len(got) == 1 and got[0][0] == start and abs(got[0][1] - duration) == 1
        if attempt == 0 and one_off and mixed:
            source_frames += 1 if got[0][1] < duration else -1
            continue
        raise BridgeError(
            f"Resolve placed the score wrongly: asked for one clip at frame {start} lasting "
            f"{duration} frames on audio track {index}, got {got or 'nothing'}. The score was "
            "not added; please report this with your Resolve version."
        )


def _append(resolve, media_pool, timeline, info: dict, index: int) -> None:
    """AppendToTimeline, working around the pre-20.2.2 video-track check: add empty video
    tracks until there are `index` of them, append, then delete exactly those tracks, and
    anything the call put anywhere but audio track `index`."""
    added = []
    if video_tracks_gate_audio(resolve):
        while int(timeline.GetTrackCount("video") or 0) < index:
            if not timeline.AddTrack("video"):
                break  # the append then fails and says so
            added.append(int(timeline.GetTrackCount("video")))
    try:
        returned = media_pool.AppendToTimeline([info]) or []
        strays = [p for p in returned if _where(p) not in (None, ("audio", index))]
        _delete_items(resolve, timeline, strays, "a clip Resolve placed on the wrong track")
    finally:
        for video in sorted(added, reverse=True):
            items = timeline.GetItemListInTrack("video", video) or []
            _delete_items(resolve, timeline, items, "a clip on a helper video track")
            if not timeline.DeleteTrack("video", video):
                raise BridgeError(
                    f"Could not delete the empty helper video track V{video} EMSYNC added; "
                    "delete it by hand."
                )


def _where(timeline_item) -> tuple[str, int] | None:
    """(track type, index) of a returned item; None for a ghost (never placed)."""
    try:
        if not timeline_item.GetUniqueId():
            return None
        kind, index = timeline_item.GetTrackTypeAndIndex()[:2]
        return str(kind), int(index)
    except (AttributeError, TypeError, ValueError):
        return None


def _media_id(media) -> object:
    if not media:
        return None
    try:
        return media.GetMediaId() or id(media)
    except TypeError:
        return id(media)


# ---------------------------------------------------------------- the whole run


def scores_dir(config: dict, env: dict | None = None) -> Path:
    """Where scores are kept: they must outlive the run, Resolve links to the WAV."""
    env = os.environ if env is None else env
    folder = env.get("EMSYNC_SCORES_DIR") or config.get("scores_dir")
    return Path(folder) if folder else Path.home() / "EMSYNC Scores"


def generate_score(
    resolve,
    options: Options,
    config: dict | None = None,
    status=None,
    env: dict | None = None,
) -> Outcome:
    """Score the current timeline and put the result on its "EMSYNC Score" track.

    The timeline changes only once the new score is placed and checked on a fresh track;
    only then is the old score track removed. Any failure before leaves the timeline as it
    was, old score included.
    """
    config = load_config() if config is None else config
    say = status or (lambda text: None)
    project, timeline = current_timeline(resolve)
    if version_of(resolve) < (18, 5, 0):
        # AppendToTimeline has no trackIndex/recordFrame before 18.5: no exact placement
        raise BridgeError(
            "Generate Score needs DaVinci Resolve 18.5 or later. With this version, run "
            "'emsync score' on an exported timeline and use File > Import > Timeline."
        )
    if options.engine not in ENGINES:
        raise BridgeError(f"Unknown engine '{options.engine}' (available: {', '.join(ENGINES)}).")
    python = find_python(config, env)
    old_tracks = find_score_tracks(timeline)
    duration = content_duration(timeline, old_tracks)
    if duration <= 0:
        raise BridgeError("The timeline is empty: put the edit on it first.")
    rate = parse_rate(setting(resolve, timeline, "timelineFrameRate"))
    if not rate:
        raise BridgeError("Could not read the timeline's frame rate from Resolve.")

    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-seed{int(options.seed)}"
    base = scores_dir(config, env) / _safe_name(project.GetName() or "project")
    out_dir = base / _safe_name(timeline.GetName() or "timeline") / stamp
    with tempfile.TemporaryDirectory(prefix="emsync-export-") as tmp:
        say("Exporting the timeline...")
        old_files = score_files(timeline, old_tracks)
        exported, fmt = export_timeline(resolve, timeline, Path(tmp), old_files)
        say("Composing the score (this can take a minute)...")
        cmd = score_command(python, exported, out_dir, options, rate)
        notes = run_core(cmd, cwd=config.get("repo"))
    wav = out_dir / "score.wav"
    report = _read_report(out_dir / "report.json")
    if not wav.is_file():
        raise BridgeError(f"emsync score finished but wrote no '{wav}'.")
    core_frames = int(report.get("duration_frames") or 0)
    if core_frames != duration:
        raise BridgeError(
            f"The exported timeline is {core_frames} frames long but Resolve shows {duration}; "
            f"the score was not added. Scored files are in '{out_dir}'."
        )
    if abs(wav_frames(wav, rate) - duration) > 0.5:
        raise BridgeError(f"'{wav}' does not last the timeline's {duration} frames.")

    say("Adding the score to the timeline...")
    media_pool = project.GetMediaPool()
    if not media_pool:
        raise BridgeError("Resolve did not give access to the media pool.")
    item = import_score(resolve, media_pool, wav)
    index = new_score_track(timeline)
    try:
        place_clip(resolve, media_pool, timeline, item, index, duration)
    except BridgeError as exc:
        # the old score stays as it was; the fresh track goes
        if not timeline.DeleteTrack("audio", index):
            raise BridgeError(
                f"{exc} The empty audio track {index} made for it could not be removed; "
                "delete it by hand."
            ) from None
        raise
    remove_tracks(resolve, timeline, old_tracks)
    index -= len(old_tracks)  # they were all below the new track
    messages = [ln[6:] for ln in notes.splitlines() if ln.startswith("note: ")]
    return Outcome(
        wav=wav,
        out_dir=out_dir,
        track_index=index,
        start_frame=int(timeline.GetStartFrame()),
        duration=duration,
        export_format=fmt,
        messages=messages,
    )


def _read_report(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BridgeError(f"emsync score finished but '{path}' is missing or unreadable.") from None


def summary(outcome: Outcome) -> str:
    text = (
        f"Score added on audio track {outcome.track_index} '{SCORE_TRACK}' "
        f"({outcome.duration} frames, from the {outcome.export_format} export). "
        f"Files: {outcome.out_dir}"
    )
    if outcome.messages:
        text += "\n" + "\n".join(outcome.messages)
    return text


def main(resolve, fusion=None, bmd=None, config_file: str | None = None) -> int:
    """What the menu script calls: dialog where possible, else saved defaults / environment."""
    config_file = config_file or str(config_path())
    config = load_config(config_file)
    headless = os.environ.get("EMSYNC_HEADLESS", "") == "1"
    defaults = saved_options(config)
    if not headless and resolve is not None and dialog_available(resolve) and fusion and bmd:
        # same folder; imported only when a UI exists (dialog.py imports nothing of ours)
        if __package__:
            from .dialog import run_dialog
        else:
            from dialog import run_dialog

        def generate(fields: dict, status) -> str:
            try:
                options = options_from_fields(**fields)
                save_defaults(options, config_file)
                return summary(generate_score(resolve, options, config, status))
            except BridgeError as exc:
                return f"Error: {exc}"

        run_dialog(fusion, bmd, dialog_form(defaults), generate)
        return 0
    if not headless:
        why = (
            "this Resolve has no script dialogs (Resolve Free 19.1 and later)"
            if resolve is not None and not dialog_available(resolve)
            else "no dialog is available when run outside Resolve's Scripts menu"
        )
        print(
            f"EMSYNC: {why}, so Generate Score uses your saved defaults and the timeline's "
            "mood markers ('emotion: joy', 'va: 0.2,-0.4')."
        )
    try:
        options = headless_options(base=defaults)
        outcome = generate_score(resolve, options, config, status=_print_status)
    except BridgeError as exc:
        print(f"EMSYNC: {exc}", file=sys.stderr)
        return 2
    print("EMSYNC: " + summary(outcome))
    return 0


def _print_status(text: str) -> None:
    print(f"EMSYNC: {text}")


MOOD_CHOICES = (
    ("Auto (markers, else neutral)",) + tuple(e.capitalize() for e in EKMAN) + ("Valence/Arousal",)
)


def dialog_form(defaults: Options) -> dict:
    """What the dialog shows first: the choices and the saved options (see dialog.run_dialog)."""
    form = {
        "moods": MOOD_CHOICES,
        "engines": ENGINES,
        "help": AUTO_TEXT,
        "mood": MOOD_CHOICES[0],
        "valence": 0,
        "arousal": 0,
        "engine": defaults.engine if defaults.engine in ENGINES else shared.ENGINE,
        "seed": str(defaults.seed),
        "soundfont": defaults.soundfont or "",
    }
    emotion = (defaults.emotion or "").strip().lower()
    if emotion in EKMAN:
        form["mood"] = emotion.capitalize()
    elif "," in emotion:
        try:
            v, a = (float(x) for x in emotion.split(","))
        except ValueError:
            return form
        form.update(mood="Valence/Arousal", valence=round(v * 100), arousal=round(a * 100))
    return form


def options_from_fields(
    mood: str, valence: int, arousal: int, engine: str, seed: str, soundfont: str
) -> Options:
    """Dialog fields (sliders -100..100, seed as typed) -> Options; BridgeError on bad input."""
    try:
        seed_value = int(str(seed).strip() or 0)
    except ValueError:
        raise BridgeError(f"The seed must be a whole number, not '{seed}'.") from None
    soundfont = str(soundfont or "").strip()
    if soundfont and not Path(soundfont).is_file():
        raise BridgeError(f"SoundFont '{soundfont}' does not exist.")
    return Options(
        emotion=mood_spec(mood, valence / 100.0, arousal / 100.0),
        engine=engine or shared.ENGINE,
        seed=seed_value,
        soundfont=soundfont or None,
    )
