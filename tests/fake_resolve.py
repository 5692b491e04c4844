"""A fake DaVinci Resolve scripting API, written from nle-integration.md section 5 and the
API changelogs (not from bridge.py): absolute frames from 01:00:00:00, endFrame exclusive
except on 19.1, overlapping clips silently dropped, DeleteClips only on the Edit page,
UIManager missing on Free 19.1+ (and touching it opens a modal after which every call fails),
failures as False/None/[]. Per version, as documented:

- below 20.2.2, an audio-only append (mediaType 2) is checked against the number of *video*
  tracks: trackIndex above it places nothing (20.2.2 changelog);
- 20.0 to 20.3.1, an append with no media-pool clip selected places nothing (20.3.2 changelog);
- 21.1 answers settings and clip frame rates as numbers, has GetSettings() and takes
  ImportMedia([{"FilePath": ...}]) (21.1 README);
- mixed clip/timeline rates: the source range is converted by flooring (one frame short);
- ImportMedia can come back empty while a file settles (`empty_imports` calls);
- the OTIO export names tracks by position ("Video 1", "Audio 2"), not by their names in the
  timeline, and writes media as plain paths (assumed from Resolve's own exports; unverified).

Timeline.Export writes real OTIO / FCP7 XML / EDL files with opentimelineio, so the bridge's
subprocess really scores them.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import opentimelineio as otio
import soundfile

_ids = itertools.count(1)
EXACT = {"23.976": 24000 / 1001, "29.97": 30000 / 1001, "59.94": 60000 / 1001}


def tc_to_frame(tc: str, rate_text: str, drop: bool) -> int:
    """Timecode to frame at the nominal integer rate; drop-frame counting for DF."""
    nominal = round(float(rate_text))
    h, m, s, f = (int(x) for x in tc.replace(";", ":").split(":"))
    frames = ((h * 60 + m) * 60 + s) * nominal + f
    if drop:
        dropped = 2 if nominal == 30 else 4
        minutes = h * 60 + m
        frames -= dropped * (minutes - minutes // 10)
    return frames


class _Guarded:
    """Every API object fails (returns the failure value) while the upsell modal is open."""

    resolve: FakeResolve

    def _blocked(self) -> bool:
        return self.resolve.modal_open


class FakeMediaPoolItem(_Guarded):
    def __init__(self, resolve, path: Path, fps_text: str, frames: int):
        self.resolve, self.path, self.id = resolve, Path(path), f"mpi-{next(_ids)}"
        self.props = {
            "File Path": str(path),
            "Clip Name": Path(path).name,
            "FPS": fps_text,
            "Frames": str(frames),
        }

    def GetName(self):
        return None if self._blocked() else self.props["Clip Name"]

    def GetClipProperty(self, name=None):
        if self._blocked():
            return None
        props = dict(self.props, FPS=self.resolve.rate_value(self.props["FPS"]))
        return props if name is None else props.get(name, "")

    def GetMediaId(self):
        return self.id

    def GetUniqueId(self):
        return self.id

    @property
    def frames(self) -> int:
        return int(self.props["Frames"])


class FakeFolder(_Guarded):
    def __init__(self, resolve, name: str):
        self.resolve, self.name, self.subfolders, self.clips = resolve, name, [], []

    def GetName(self):
        return None if self._blocked() else self.name

    def GetSubFolderList(self):
        return [] if self._blocked() else list(self.subfolders)

    def GetClipList(self):
        return [] if self._blocked() else list(self.clips)


class FakeTimelineItem(_Guarded):
    def __init__(self, resolve, media: FakeMediaPoolItem | None, start: int, duration: int, left=0):
        self.resolve, self.media, self.start, self.duration, self.left = (
            resolve,
            media,
            start,
            duration,
            left,
        )
        self.id = f"item-{next(_ids)}"
        self.name = media.props["Clip Name"] if media else "clip"

    @property
    def end(self) -> int:
        return self.start + self.duration

    def GetStart(self, subframe_precision=False):
        return self.start

    def GetEnd(self, subframe_precision=False):
        return self.end

    def GetDuration(self, subframe_precision=False):
        return self.duration

    def GetLeftOffset(self, subframe_precision=False):
        return self.left

    def GetMediaPoolItem(self):
        return self.media

    def GetName(self):
        return self.name

    def GetUniqueId(self):
        return self.id

    def GetTrackTypeAndIndex(self):
        timeline = self.resolve.project_manager.project.current_timeline
        for kind, tracks in timeline.tracks.items():
            for n, track in enumerate(tracks, start=1):
                if any(i is self for i in track.items):
                    return [kind, n]
        return None  # a ghost: returned but never placed


class FakeTrack:
    def __init__(self, name: str, subtype: str = ""):
        self.name, self.subtype, self.items = name, subtype, []


class FakeTimeline(_Guarded):
    def __init__(self, resolve, name, rate_text="24", drop_frame=False, start_tc="01:00:00:00"):
        self.resolve, self.name, self.rate_text, self.drop_frame = (
            resolve,
            name,
            rate_text,
            drop_frame,
        )
        self.start = tc_to_frame(start_tc, rate_text, drop_frame)
        self.tracks = {"video": [FakeTrack("Video 1")], "audio": [FakeTrack("Audio 1", "stereo")]}
        self.tracks["subtitle"] = []
        self.markers: dict[float, dict] = {}
        self.fail_export = False

    # -- test helpers (not API)
    def add_clip(self, kind: str, index: int, media, offset: int, duration: int):
        item = FakeTimelineItem(self.resolve, media, self.start + offset, duration, 0)
        self.tracks[kind][index - 1].items.append(item)
        return item

    def snapshot(self) -> dict:
        """Everything observable, to check that nothing else changed."""
        return {
            kind: [
                (t.name, t.subtype, [(i.id, i.start, i.duration, i.left) for i in t.items])
                for t in tracks
            ]
            for kind, tracks in self.tracks.items()
        } | {"markers": dict(self.markers), "start": self.start}

    # -- API
    def GetName(self):
        return None if self._blocked() else self.name

    def GetStartFrame(self):
        return self.start

    def GetEndFrame(self):
        ends = [i.end for tracks in self.tracks.values() for t in tracks for i in t.items]
        return max(ends, default=self.start)

    def GetSetting(self, name=None):
        settings = {
            "timelineFrameRate": self.resolve.rate_value(self.rate_text),
            "timelineDropFrameTimecode": "1" if self.drop_frame else "0",
        }
        if self._blocked():
            return ""
        return settings if name is None else settings.get(name, "")

    def GetSettings(self):
        if self.resolve.version < (21, 1):
            raise AttributeError("GetSettings")  # not in the API before 21.1
        return self.GetSetting()

    def GetTrackCount(self, kind):
        return 0 if self._blocked() else len(self.tracks.get(kind, []))

    def _track(self, kind, index) -> FakeTrack | None:
        tracks = self.tracks.get(kind, [])
        if not isinstance(index, int) or not 1 <= index <= len(tracks):
            return None
        return tracks[index - 1]

    def GetItemListInTrack(self, kind, index):
        track = None if self._blocked() else self._track(kind, index)
        return list(track.items) if track else []

    def GetTrackName(self, kind, index):
        track = None if self._blocked() else self._track(kind, index)
        return track.name if track else ""

    def SetTrackName(self, kind, index, name):
        track = None if self._blocked() else self._track(kind, index)
        if not track or not name:
            return False
        track.name = name
        return True

    def AddTrack(self, kind, sub_track_type=None):
        if self._blocked() or kind not in self.tracks:
            return False
        if kind == "audio" and not sub_track_type and self.resolve.version < (19, 0):
            return False  # 18.5: the audio sub-type argument is required
        if isinstance(sub_track_type, dict):
            sub_track_type = sub_track_type.get("audioType", "mono")
        tracks = self.tracks[kind]
        default = {"video": "Video", "audio": "Audio", "subtitle": "Subtitle"}[kind]
        tracks.append(FakeTrack(f"{default} {len(tracks) + 1}", sub_track_type or "mono"))
        return True

    def DeleteTrack(self, kind, index):
        if self._blocked() or self.resolve.version < (18, 5) or not self._track(kind, index):
            return False
        del self.tracks[kind][index - 1]
        return True

    def DeleteClips(self, items, ripple=False):
        if self._blocked() or self.resolve.page != "edit" or not items:
            return False
        ids = {i.id for i in items}
        for tracks in self.tracks.values():
            for track in tracks:
                track.items = [i for i in track.items if i.id not in ids]
        return True

    def GetMarkers(self):
        return {} if self._blocked() else dict(self.markers)

    def AddMarker(self, frame, color, name, note, duration, custom_data=""):
        if self._blocked() or float(frame) in self.markers:
            return False
        self.markers[float(frame)] = {
            "color": color,
            "duration": duration,
            "note": note,
            "name": name,
            "customData": custom_data,
        }
        return True

    def Export(self, file_name, export_type, export_subtype=None):
        r = self.resolve
        if self._blocked() or self.fail_export or not isinstance(export_type, int):
            return False
        if export_type not in r.export_types.values():
            return False
        if export_type == r.export_types["EXPORT_EDL"] and export_subtype not in r.edl_subtypes:
            return False
        rate = EXACT.get(self.rate_text, float(self.rate_text))
        tl = self._to_otio(rate)
        kind = next(k for k, v in r.export_types.items() if v == export_type)
        adapter = {"EXPORT_OTIO": "otio_json", "EXPORT_FCP_7_XML": "fcp_xml"}.get(kind)
        if kind == "EXPORT_EDL":
            adapter = "cmx_3600"
            tl.tracks[:] = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video][:1]
        if adapter is None:
            return False  # other types are not needed by these tests
        otio.adapters.write_to_file(tl, file_name, adapter_name=adapter)
        return True

    def _to_otio(self, rate: float) -> otio.schema.Timeline:
        tl = otio.schema.Timeline(name=self.name)
        tl.global_start_time = otio.opentime.RationalTime(self.start, rate)
        for kind, otio_kind in (("video", "Video"), ("audio", "Audio")):
            for n, track in enumerate(self.tracks[kind], start=1):
                out = otio.schema.Track(name=f"{otio_kind} {n}", kind=otio_kind)
                pos = self.start
                for item in sorted(track.items, key=lambda i: i.start):
                    if item.start > pos:
                        out.append(
                            otio.schema.Gap(
                                duration=otio.opentime.RationalTime(item.start - pos, rate)
                            )
                        )
                    path = item.media.path if item.media else Path(f"/media/{item.id}.mov")
                    length = item.media.frames if item.media else item.left + item.duration
                    ref = otio.schema.ExternalReference(
                        target_url=str(path),
                        available_range=otio.opentime.TimeRange(
                            otio.opentime.RationalTime(0, rate),
                            otio.opentime.RationalTime(length, rate),
                        ),
                    )
                    span = otio.opentime.TimeRange(
                        otio.opentime.RationalTime(item.left, rate),
                        otio.opentime.RationalTime(item.duration, rate),
                    )
                    out.append(
                        otio.schema.Clip(name=item.name, media_reference=ref, source_range=span)
                    )
                    pos = item.end
                tl.tracks.append(out)
        for frame, m in sorted(self.markers.items()):
            tl.tracks.markers.append(
                otio.schema.Marker(
                    name=m["name"],
                    marked_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(frame, rate),
                        otio.opentime.RationalTime(max(1, m["duration"]), rate),
                    ),
                    metadata={"Resolve_OTIO": {"Note": m["note"]}},
                )
            )
        return tl


class FakeMediaPool(_Guarded):
    def __init__(self, resolve, project):
        self.resolve, self.project = resolve, project
        self.root = FakeFolder(resolve, "Master")
        self.current = self.root
        self.selected: list[FakeMediaPoolItem] = []

    def GetRootFolder(self):
        return None if self._blocked() else self.root

    def GetCurrentFolder(self):
        return None if self._blocked() else self.current

    def SetCurrentFolder(self, folder):
        if self._blocked() or not isinstance(folder, FakeFolder):
            return False
        self.current = folder
        return True

    def AddSubFolder(self, parent, name):
        if self._blocked() or not isinstance(parent, FakeFolder):
            return None
        folder = FakeFolder(self.resolve, name)
        parent.subfolders.append(folder)
        return folder

    def SetSelectedClip(self, item):
        if self._blocked() or not isinstance(item, FakeMediaPoolItem):
            return False
        self.selected = [item]
        return True

    def GetSelectedClips(self):
        return [] if self._blocked() else list(self.selected)

    def ImportMedia(self, paths):
        r = self.resolve
        if self._blocked() or not isinstance(paths, list):
            return []
        r.import_calls.append(paths)
        if r.empty_imports > 0:  # the file is still settling
            r.empty_imports -= 1
            return []
        fps = self.project.settings["timelineFrameRate"]
        made = []
        for entry in paths:
            if isinstance(entry, dict):  # the clip-info form (the only one not deprecated in 21.1)
                entry = entry.get("FilePath")
            if not isinstance(entry, str) or not Path(entry).is_file():
                continue  # missing paths are omitted
            # a WAV's clip FPS is frozen to the project rate at import
            frames = round(soundfile.info(entry).duration * EXACT.get(fps, float(fps)))
            item = FakeMediaPoolItem(r, Path(entry), fps, frames)
            self.current.clips.append(item)
            made.append(item)
        return made

    def AppendToTimeline(self, infos):
        timeline = self.project.current_timeline
        r = self.resolve
        if self._blocked() or timeline is None or not isinstance(infos, list) or r.refuse_appends:
            return []
        if (20, 0) <= r.version < (20, 3, 2) and not self.selected:
            return []  # fixed in 20.3.2: failed with no media-pool clip selected
        placed = []
        for info in infos:
            media = info.get("mediaPoolItem") if isinstance(info, dict) else None
            if not isinstance(media, FakeMediaPoolItem):
                continue
            first, last = int(info.get("startFrame", 0)), int(info.get("endFrame", media.frames))
            frames = last - first + (0 if r.end_exclusive else 1)
            frames = min(frames, media.frames - first)  # cannot run past the media
            # source frames are in the clip's rate; mixed rates are converted by flooring
            clip_fps = EXACT.get(media.props["FPS"], float(media.props["FPS"]))
            tl_fps = EXACT.get(timeline.rate_text, float(timeline.rate_text))
            duration = math.floor(frames * tl_fps / clip_fps + 1e-9)
            kind = "audio" if info.get("mediaType") == 2 else "video"
            index = int(info.get("trackIndex", 1)) if r.version >= (18, 5) else 1
            if kind == "audio" and r.version < (20, 2, 2) and index > len(timeline.tracks["video"]):
                continue  # fixed in 20.2.2: checked against the number of video tracks
            track = timeline._track(kind, index)
            if track is None or duration <= 0:
                continue
            end_of_track = max((i.end for i in track.items), default=timeline.start)
            record = (
                int(info.get("recordFrame", end_of_track)) if r.version >= (18, 5) else end_of_track
            )
            if any(record < i.end and i.start < record + duration for i in track.items):
                placed.append(FakeTimelineItem(r, media, record, duration, first))  # a ghost
                placed[-1].id = ""  # returned but never placed: empty unique id
                continue
            item = FakeTimelineItem(r, media, record, duration, first)
            track.items.append(item)
            placed.append(item)
        return placed


class FakeProject(_Guarded):
    def __init__(self, resolve, name="Untitled Project", rate_text="24"):
        self.resolve, self.name = resolve, name
        self.settings = {"timelineFrameRate": rate_text}
        self.timelines: list[FakeTimeline] = []
        self.current_timeline: FakeTimeline | None = None
        self.media_pool = FakeMediaPool(resolve, self)

    def add_timeline(self, name="Timeline 1", rate_text=None, drop_frame=False) -> FakeTimeline:
        tl = FakeTimeline(
            self.resolve, name, rate_text or self.settings["timelineFrameRate"], drop_frame
        )
        self.timelines.append(tl)
        self.current_timeline = tl
        return tl

    def GetName(self):
        return None if self._blocked() else self.name

    def GetCurrentTimeline(self):
        return None if self._blocked() else self.current_timeline

    def GetMediaPool(self):
        return None if self._blocked() else self.media_pool

    def GetTimelineCount(self):
        return len(self.timelines)

    def GetTimelineByIndex(self, i):
        return self.timelines[i - 1] if 1 <= i <= len(self.timelines) else None

    def GetSetting(self, name=None):
        if self._blocked():
            return ""
        settings = {k: self.resolve.rate_value(v) for k, v in self.settings.items()}
        return settings if name is None else settings.get(name, "")

    def GetSettings(self):
        if self.resolve.version < (21, 1):
            raise AttributeError("GetSettings")
        return self.GetSetting()

    def SaveProject(self):
        return not self._blocked() and self.name != "Untitled Project"


class FakeProjectManager(_Guarded):
    def __init__(self, resolve):
        self.resolve, self.project = resolve, None

    def GetCurrentProject(self):
        return None if self._blocked() else self.project


class FakeUIManager:
    """Records the window; tests drive it through FakeDispatcher.on_run."""

    def __getattr__(self, element):
        def make(*args):
            props = next((a for a in args if isinstance(a, dict)), {})
            children = next((a for a in args if isinstance(a, list)), [])
            return FakeWidget(element, props, children)

        return make


class FakeWidget:
    def __init__(self, element, props, children):
        self.element, self.children, self.items = element, children, []
        self.ID = props.get("ID")
        self.Text = props.get("Text", "")
        self.Value = props.get("Value", 0)
        self.CurrentIndex = 0

    def AddItems(self, items):
        self.items += list(items)

    @property
    def CurrentText(self):
        return self.items[self.CurrentIndex] if self.items else ""

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


class _Handlers:
    def __init__(self):
        self.__dict__["table"] = {}

    def __getattr__(self, widget_id):
        table = self.__dict__["table"]
        outer = self

        class Slot:
            def __setattr__(self, event, fn):
                table[(widget_id, event)] = fn

            def __getattr__(self, event):
                return table.get((widget_id, event))

        del outer
        return Slot()


class FakeWindow:
    def __init__(self, props, root):
        self.props, self.root, self.On, self.shown = props, root, _Handlers(), False

    def GetItems(self):
        return {w.ID: w for w in self.root.walk() if w.ID}

    def fire(self, widget_id, event="Clicked"):
        self.On.__dict__["table"][(widget_id, event)]({})

    def Show(self):
        self.shown = True

    def Hide(self):
        self.shown = False


class FakeDispatcher:
    def __init__(self, on_run):
        self.on_run, self.window, self.running = on_run, None, False

    def AddWindow(self, props, root):
        self.window = FakeWindow(props, root)
        return self.window

    def RunLoop(self):
        self.running = True
        self.on_run(self.window)  # the test plays the user, then closes the window

    def ExitLoop(self):
        self.running = False


class FakeBmd:
    def __init__(self, on_run):
        self.on_run, self.dispatchers = on_run, []

    def UIDispatcher(self, ui):
        d = FakeDispatcher(self.on_run)
        self.dispatchers.append(d)
        return d


class FakeFusion:
    def __init__(self, resolve):
        self.resolve = resolve

    @property
    def UIManager(self):
        r = self.resolve
        if not r.studio and r.version >= (19, 1):
            r.modal_open = True  # the "You've reached a limitation" upsell
            return None
        return FakeUIManager()


class FakeResolve:
    def __init__(self, version=(21, 0, 2, 0, ""), studio=True, end_exclusive=None):
        self.version_list = list(version)
        self.version = tuple(version[:3])  # (major, minor, patch): fixes land in patches
        self.studio = studio
        # endFrame was inclusive on 19.1.x only
        self.end_exclusive = self.version[:2] != (19, 1) if end_exclusive is None else end_exclusive
        self.empty_imports = 0  # ImportMedia calls that come back empty first
        self.import_calls: list = []
        self.refuse_appends = False  # AppendToTimeline places nothing (a modal, say)
        self.page = "media"
        self.modal_open = False
        self.project_manager = FakeProjectManager(self)
        names = ["EXPORT_AAF", "EXPORT_DRT", "EXPORT_EDL", "EXPORT_FCP_7_XML", "EXPORT_FCPXML_1_10"]
        if self.version >= (18, 5):
            names.append("EXPORT_OTIO")
        self.export_types = {n: 100 + i for i, n in enumerate(names)}
        subtypes = [
            "EXPORT_NONE",
            "EXPORT_AAF_NEW",
            "EXPORT_AAF_EXISTING",
            "EXPORT_CDL",
            "EXPORT_SDL",
        ]
        self.subtypes = {n: 200 + i for i, n in enumerate(subtypes)}
        self.edl_subtypes = {self.subtypes[n] for n in ("EXPORT_NONE", "EXPORT_CDL", "EXPORT_SDL")}
        for n, v in (self.export_types | self.subtypes).items():
            setattr(self, n, v)

    def __getattr__(self, name):
        return None  # unknown constants come back empty, like the real object

    def rate_value(self, text):
        """Frame rates as text ("23.976") before 21.1, as numbers from 21.1 on."""
        if self.version < (21, 1):
            return text
        value = float(text)
        return int(value) if value.is_integer() else value

    def new_project(self, name="Film", rate_text="24") -> FakeProject:
        self.project_manager.project = FakeProject(self, name, rate_text)
        return self.project_manager.project

    def GetProductName(self):
        return "DaVinci Resolve Studio" if self.studio else "DaVinci Resolve"

    def GetVersion(self):
        return list(self.version_list)

    def GetVersionString(self):
        return ".".join(str(x) for x in self.version_list[:3])

    def GetProjectManager(self):
        return None if self.modal_open else self.project_manager

    def OpenPage(self, name):
        if self.modal_open:
            return False
        self.page = name
        return True

    def GetCurrentPage(self):
        return self.page

    def Fusion(self):
        return FakeFusion(self)
