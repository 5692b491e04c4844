"""Read a timeline file (anything OpenTimelineIO reads) into an `Edit`.

`load_otio` turns a file into one OpenTimelineIO `Timeline` (choosing among several, fixing up
EDLs, turning every adapter failure into a `TimelineError`); `edit_from_timeline` reduces that
timeline to the plain `Edit` the scorer needs, following docs/timeline-rules.md ("What counts
as a cut").
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import replace
from fractions import Fraction
from itertools import islice
from pathlib import Path

import opentimelineio as otio

from emsync_core.errors import TimelineError
from emsync_core.timeline import adapter_fixes, edl, fcpxml, formats
from emsync_core.timeline.edit import Edit, Scene
from emsync_core.timeline.markers import collect_markers
from emsync_core.timeline.picture import Span, media_path, source_offset_s, visible_spans
from emsync_core.timeline.timebase import DROP_FRAME_KEY, exact_rate, timecode, to_frames

# How many items to look at when a timeline does not state its rate.
_RATE_SAMPLE = 500

PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------- public API


def read(path: PathLike, rate: float | None = None, timeline: str | None = None) -> Edit:
    """The `Edit` of the timeline in `path` (the one named `timeline`, default the first).

    `rate` is the frame rate for formats that do not store one (EDL, ALE); other formats
    keep their own rate and a differing `rate` only produces a warning.
    """
    return read_with_timeline(path, rate, timeline)[0]


def read_with_timeline(
    path: PathLike, rate: float | None = None, timeline: str | None = None
) -> tuple[Edit, otio.schema.Timeline]:
    """`read`, also returning the OTIO timeline it came from (for writing the score back)."""
    chosen, warnings, others = load_otio(path, rate=rate, timeline=timeline)
    edit = edit_from_timeline(
        chosen, source_path=str(path), warnings=warnings, other_timelines=others
    )
    fmt, _ = formats.detect(Path(path))
    if rate is not None and fmt.rate_argument is None and exact_rate(float(rate)) != edit.rate:
        note = (
            f"{Path(path).name}: the timeline is {_fps(edit.rate)} fps as stored in the file; "
            f"the requested rate {float(rate):g} fps applies only to EDL and ALE files and "
            "was ignored."
        )
        edit = replace(edit, warnings=(*edit.warnings, note))
    return edit, chosen


def load_otio(
    path: PathLike, rate: float | None = None, timeline: str | None = None
) -> tuple[otio.schema.Timeline, list[str], list[str]]:
    """Load `path` with OpenTimelineIO: (chosen timeline, warnings, names of the others).

    Raises `TimelineError` for a missing, unsupported, unreadable or timeline-less file and
    for an unknown `timeline` name.
    """
    p = Path(path)
    if rate is not None and not float(rate) > 0:
        raise TimelineError(f"The frame rate must be a positive number of fps, not {rate}.")
    if not p.exists():
        raise TimelineError(f"{p}: no such file. Check the path and the file name.")
    if p.is_dir() and p.suffix.lower() not in formats.FORMATS:  # .otiod/.fcpxmld are folders
        raise TimelineError(
            f"'{p}' is a folder, not a timeline file. Give the timeline file inside it "
            f"({', '.join(formats.supported_extensions())})."
        )
    fmt, target = formats.detect(p)
    if fmt.adapter == "cmx_3600":
        result, warnings = _read_edl(p, rate)
    else:
        result, warnings = _read_with_adapter(p, target, fmt, rate), []
    timelines = _timelines_in(result)
    if not timelines:
        timelines = [_timeline_from_clip_list(result, p, warnings)]
    chosen, others = _choose(timelines, timeline, p)
    if others and timeline is None:
        warnings.append(
            f"{p.name} holds {len(timelines)} timelines; scoring the first, "
            f"'{chosen.name}'. Choose another with --timeline: "
            f"{', '.join(repr(n) for n in others)}."
        )
    return chosen, warnings, others


def edit_from_timeline(
    timeline: otio.schema.Timeline,
    *,
    source_path: str | None = None,
    warnings: list[str] | tuple[str, ...] = (),
    other_timelines: list[str] | tuple[str, ...] = (),
) -> Edit:
    """Reduce an OpenTimelineIO timeline to an `Edit` (cuts, scenes, markers, transitions)."""
    label = Path(source_path).name if source_path else f"timeline '{timeline.name}'"
    rate = timeline_rate(timeline)
    try:
        duration = to_frames(timeline.tracks.duration(), rate)
        if duration <= 0:
            raise TimelineError(
                f"{source_path or label}: the timeline '{timeline.name}' is empty (it has no "
                "clips, or they add up to zero frames). Export a timeline with picture on it."
            )
        spans, audio_track = visible_spans(timeline, rate, duration)
        record_start = _record_start(timeline, rate)
        markers = collect_markers(timeline, rate, duration, record_start)
    except RecursionError as exc:
        raise TimelineError(
            f"{source_path or label}: the timeline is nested too deeply (compound clips inside "
            "compound clips, thousands of levels) to be read. Flatten the nesting in the "
            "editing software and export again."
        ) from exc
    except (otio.exceptions.OTIOError, ValueError, ZeroDivisionError, TypeError) as exc:
        # e.g. a clip with no length at all, or an item with a frame rate of 0
        raise TimelineError(
            f"{source_path or label}: the timeline cannot be interpreted ({exc}). Re-export it "
            "from the editing software, or try another format (OTIO, EDL, FCP 7 XML)."
        ) from exc
    notes = list(warnings)
    if audio_track is not None:
        notes.append(
            f"{label} has no video clips; the cuts are the edit points of its first audio "
            f"track '{audio_track}'."
        )
    scenes = tuple(_scene(i, s) for i, s in enumerate(spans))
    return Edit(
        name=timeline.name or (Path(source_path).stem if source_path else ""),
        rate=rate,
        duration=duration,
        cuts=tuple(s.start for s in spans[1:]),
        scenes=scenes,
        start_timecode=timecode(record_start, rate, timeline.metadata.get(DROP_FRAME_KEY)),
        markers=tuple(markers),
        transitions=tuple(s.transition for s in spans[1:] if s.transition is not None),
        media_paths=tuple(dict.fromkeys(s.media_path for s in scenes if s.media_path)),
        source_path=source_path,
        warnings=tuple(notes),
        other_timelines=tuple(other_timelines),
    )


def timeline_rate(timeline: otio.schema.Timeline) -> Fraction:
    """The timeline's frame rate: its start time's rate, else the commonest item rate."""
    start = timeline.global_start_time
    if start is not None and start.rate > 1:
        return exact_rate(start.rate)
    items = (
        child
        for track in timeline.tracks
        if isinstance(track, otio.core.Composition)
        for child in track
        if isinstance(child, otio.core.Item)
    )
    rates = Counter(_item_rate(item) for item in islice(items, _RATE_SAMPLE))
    usable = [(n, r) for r, n in rates.items() if r is not None and r > 1]
    if usable:  # rate 1 is the placeholder of empty items; 0 and below are nonsense
        return exact_rate(max(usable)[1])
    return Fraction(24)


def _item_rate(item: otio.core.Item) -> float | None:
    try:
        return item.duration().rate
    except otio.exceptions.OTIOError:
        return None  # a clip with no range at all; reported when the edit is built


# --------------------------------------------------------------------------- loading


def _read_with_adapter(
    p: Path, target: Path, fmt: formats.Format, rate: float | None
) -> otio.core.SerializableObject:
    kwargs = {fmt.rate_argument: float(rate)} if rate is not None and fmt.rate_argument else {}
    adapter_fixes.install()
    try:
        text = _recoded(target) if fmt.adapter in _TEXT_ADAPTERS else None
        if fmt.adapter == "fcpx_xml":  # read by EMSYNC itself: see fcpxml.py for why
            return fcpxml.read_fcpxml(document_text(target))
        if text is not None:
            return otio.adapters.read_from_string(text, adapter_name=fmt.adapter, **kwargs)
        return otio.adapters.read_from_file(str(target), adapter_name=fmt.adapter, **kwargs)
    except otio.exceptions.UnsupportedSchemaError as exc:
        raise TimelineError(_newer_otio_message(p, exc)) from exc
    except Exception as exc:  # adapters raise anything at all on malformed input
        raise TimelineError(_unreadable_message(p, fmt, exc)) from exc


# Text formats whose adapters only read UTF-8 files: others are decoded here first.
_TEXT_ADAPTERS = {"otio_json", "fcp_xml", "fcpx_xml", "xges", "ale"}
_XML_DECLARED = re.compile(rb"""^<\?xml[^>]*encoding=["']([A-Za-z0-9_.:-]+)["']""")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def document_text(p: Path) -> str:
    """A text timeline file as Unicode (UTF-16, Latin-1 and declared encodings decoded)."""
    text = _recoded(p)
    return text if text is not None else p.read_text(encoding="utf-8")


def _recoded(p: Path) -> str | None:
    """The text of a file that is not plain UTF-8 (UTF-16 with a BOM, Latin-1, an XML
    declared encoding), decoded; None for a UTF-8 file, which the adapter reads itself."""
    try:
        raw = p.read_bytes()
    except OSError:
        return None  # the adapter reports it
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16", errors="replace")
    elif raw.startswith(b"\xef\xbb\xbf"):
        text = raw[3:].decode("utf-8", errors="replace")
    else:
        try:
            raw.decode("utf-8")
            return None
        except UnicodeDecodeError:
            pass
        declared = _XML_DECLARED.match(raw)
        encoding = declared.group(1).decode("ascii") if declared else "latin-1"
        try:
            text = raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            text = raw.decode("latin-1")
    # The text is now Unicode: an XML declaration naming another encoding would mislead.
    return _XML_DECLARATION.sub('<?xml version="1.0" encoding="UTF-8"?>', text, count=1)


def _read_edl(p: Path, rate: float | None) -> tuple[otio.schema.Timeline, list[str]]:
    fmt = formats.FORMATS[".edl"]
    text = _edl_text(p)
    edl_rate, warnings = edl.frame_rate(text, rate, p.name)
    text, fixes = edl.trust_record_side(text, edl_rate, p.name)
    warnings += fixes
    try:
        return _parse_edl(text, edl_rate, strict=True), warnings
    except Exception as exc:
        if "Overlapping record in" not in str(exc):
            raise TimelineError(_unreadable_message(p, fmt, exc)) from exc
    # Events that overlap on the record side: the adapter can shift them after each other.
    warnings.append(
        f"{p.name}: some events overlap on the record side; each was moved to start where the "
        "previous one ends."
    )
    try:
        return _parse_edl(text, edl_rate, strict=False), warnings
    except Exception as exc:
        raise TimelineError(_unreadable_message(p, fmt, exc)) from exc


def _parse_edl(text: str, rate: Fraction, strict: bool) -> otio.schema.Timeline:
    timeline = _parse_edl_text(text, rate, strict)
    fcm = re.search(r"^\s*FCM:\s*(NON-DROP|DROP)\s+FRAME", text, re.IGNORECASE | re.MULTILINE)
    if fcm:  # the EDL's own word on how its timecodes count
        timeline.metadata[DROP_FRAME_KEY] = fcm.group(1).upper() == "DROP"
    return timeline


def _parse_edl_text(text: str, rate: Fraction, strict: bool) -> otio.schema.Timeline:
    return otio.adapters.read_from_string(
        text, adapter_name="cmx_3600", rate=float(rate), ignore_timecode_mismatch=not strict
    )


def _edl_text(p: Path) -> str:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise TimelineError(f"{p}: cannot be read ({exc.strerror or exc}).") from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")  # Windows tools' "Unicode" text
    if b"\x00" in raw:
        raise TimelineError(
            f"{p}: this is not a text file, so it is not a CMX 3600 EDL. Export the EDL again "
            "from the editing software."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # older Avid EDLs: clip names in a legacy code page


def _timelines_in(result: otio.core.SerializableObject) -> list[otio.schema.Timeline]:
    """Every timeline in a file, in file order (FCPXML libraries nest them in collections)."""
    if isinstance(result, otio.schema.Timeline):
        return [result]
    if isinstance(result, otio.schema.SerializableCollection):
        return [t for child in result for t in _timelines_in(child)]
    return []


def _timeline_from_clip_list(
    result: otio.core.SerializableObject, p: Path, warnings: list[str]
) -> otio.schema.Timeline:
    """A clip list (an ALE, a bin) laid end to end, since there is no edit to follow."""
    clips = list(result.find_clips()) if hasattr(result, "find_clips") else []
    if isinstance(result, otio.schema.Clip):
        clips = [result]
    if not clips:
        raise TimelineError(
            f"{p}: the file holds no timeline and no clips. Export a timeline (sequence) "
            "rather than a bin or a project."
        )
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for clip in clips:
        track.append(clip.deepcopy())
    warnings.append(
        f"{p.name} is a list of {len(clips)} clips, not an edited timeline; the clips were "
        "laid end to end in file order."
    )
    return otio.schema.Timeline(name=getattr(result, "name", "") or p.stem, tracks=[track])


def _choose(
    timelines: list[otio.schema.Timeline], wanted: str | None, p: Path
) -> tuple[otio.schema.Timeline, list[str]]:
    names = [t.name for t in timelines]
    if wanted is None:
        index = 0
    elif wanted in names:
        index = names.index(wanted)
    else:
        folded = [i for i, n in enumerate(names) if n.casefold() == wanted.casefold()]
        if len(folded) != 1:
            raise TimelineError(
                f"{p}: there is no timeline named '{wanted}'. The file holds: "
                f"{', '.join(repr(n) for n in names)}. Pass one of these names with --timeline."
            )
        index = folded[0]
    return timelines[index], names[:index] + names[index + 1 :]


# --------------------------------------------------------------------------- the Edit


def _scene(index: int, span: Span) -> Scene:
    clip = span.clip
    if clip is None:
        return Scene(index=index, start=span.start, end=span.end)
    return Scene(
        index=index,
        start=span.start,
        end=span.end,
        name=clip.name,
        media_path=media_path(clip),
        source_start_s=source_offset_s(clip, span.src),
    )


def _record_start(timeline: otio.schema.Timeline, rate: Fraction) -> int:
    """The timeline's first frame as a frame count, for the start timecode."""
    if timeline.global_start_time is not None:
        return to_frames(timeline.global_start_time, rate)
    for track in timeline.tracks:
        sr = getattr(track, "source_range", None)
        if sr is not None and sr.start_time.value < 0:
            # The CMX 3600 adapter stores the EDL's record start as a negative track start.
            return -to_frames(sr.start_time, rate)
    return 0


def _fps(rate: Fraction) -> str:
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- messages


def _unreadable_message(p: Path, fmt: formats.Format, exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"{p}: cannot be read as {fmt.label} ({detail[:300]}). The file may be damaged, "
        "truncated, or not really that format; export the timeline again from the editing "
        f"software. Supported extensions: {', '.join(formats.supported_extensions())}."
    )


def _newer_otio_message(p: Path, exc: BaseException) -> str:
    newer = _newer_schemas(p)
    what = f"it uses {', '.join(newer)}, " if newer else ""
    return (
        f"{p}: written by a newer OpenTimelineIO than the installed {otio.__version__} "
        f"({what}which this version cannot read: {exc}). Export it again for OpenTimelineIO "
        f"{otio.__version__} or older, or export an EDL or FCP 7 XML instead."
    )


def _newer_schemas(p: Path) -> list[str]:
    """Schema versions in an .otio file that are newer than the installed OTIO knows."""
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    known = otio.core.type_version_map()
    used = set(re.findall(r'"OTIO_SCHEMA"\s*:\s*"(\w+)\.(\d+)"', text))
    return sorted(f"{name}.{v}" for name, v in used if name in known and int(v) > known[name])
