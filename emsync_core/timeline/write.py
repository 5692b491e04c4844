"""Put the score back on the timeline: the input plus an "EMSYNC Score" audio track.

`add_score_track` adds the track to an OTIO timeline; `write_scored` writes the scored timeline
in the input's own format where an OpenTimelineIO writer can carry it (see `formats.FORMATS`,
`write_as`), checks the written file by reading it back, and falls back to FCP 7 XML (and, in
the last resort, to the `.otio` alone) with a message saying why.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PureWindowsPath

import opentimelineio as otio

from emsync_core import defaults
from emsync_core.errors import OutputError, TimelineError
from emsync_core.timeline import adapter_fixes, fcp7, fcpxml, formats
from emsync_core.timeline.edit import Edit

SCORE_TRACK = defaults.SCORE_TRACK

# Writer per extension written: OTIO adapter name, label, adapter keyword arguments.
_WRITERS: dict[str, tuple[str, str, dict]] = {
    ".otio": ("otio_json", "OpenTimelineIO", {}),
    ".otioz": ("otioz", "OpenTimelineIO zip bundle", {}),
    ".otiod": ("otiod", "OpenTimelineIO directory bundle", {}),
    ".xml": ("fcp_xml", "Final Cut Pro 7 XML", {}),
    ".fcpxml": ("fcpx_xml", "Final Cut Pro X XML", {}),
    ".xges": ("xges", "GStreamer Editing Services", {}),
    ".aaf": ("AAF", "AAF", {"use_empty_mob_ids": True}),
}
_FALLBACK = ".xml"  # FCP 7 XML: Premiere, Resolve, Avid (via tools) and FCP (via tools) read it


@dataclass(frozen=True)
class WavFormat:
    """What the score WAV is, for formats that describe the media they point to."""

    sample_rate: int = 48000
    channels: int = 2
    bits: int = 24


# What audio/master.py writes (48 kHz, stereo, PCM_24), when the file is not there to read.
SCORE_WAV = WavFormat()


def wav_format(path: Path | str | None) -> WavFormat:
    """The format of the WAV at `path`, read from its header; SCORE_WAV when unreadable."""
    if path is None or not Path(path).is_file():
        return SCORE_WAV
    try:
        import soundfile

        info = soundfile.info(str(path))
    except Exception:  # soundfile raises its own error types on files it cannot parse
        return SCORE_WAV
    bits = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "PCM_U8": 8}
    return WavFormat(info.samplerate, info.channels, bits.get(info.subtype, 24))


@dataclass(frozen=True)
class Written:
    """What `write_scored` wrote: the files (main format first), its label, and why it differs."""

    files: tuple[Path, ...]
    format: str
    messages: tuple[str, ...] = ()


def add_score_track(
    timeline: otio.schema.Timeline,
    audio_path: Path | str,
    duration_frames: int,
    rate: Fraction,
    *,
    target_url: str | None = None,
) -> otio.schema.Timeline:
    """A copy of `timeline` with the score on a new audio track from frame 0.

    A score track left by an earlier run is replaced, so re-scoring never stacks tracks.
    `target_url` overrides the reference (e.g. a relative path); default: `audio_path` as an
    absolute file URL.
    """
    scored = copy.deepcopy(timeline)
    for track in list(scored.tracks):
        if _is_score_track(track):
            scored.tracks.remove(track)
    span = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, float(rate)),
        otio.opentime.RationalTime(duration_frames, float(rate)),
    )
    reference = otio.schema.ExternalReference(
        target_url=target_url or Path(audio_path).resolve().as_uri(), available_range=span
    )
    track = otio.schema.Track(name=SCORE_TRACK, kind=otio.schema.TrackKind.Audio)
    track.append(otio.schema.Clip(name=SCORE_TRACK, media_reference=reference, source_range=span))
    scored.tracks.append(track)
    return scored


def _is_score_track(track: otio.core.Composable) -> bool:
    """An audio track EMSYNC added: by name, or (FCP XML and FCPXML drop track names) holding
    nothing but clips named "EMSYNC Score"."""
    if not isinstance(track, otio.schema.Track) or track.kind != otio.schema.TrackKind.Audio:
        return False
    if track.name == SCORE_TRACK:
        return True
    names = {c.name for c in track if isinstance(c, otio.schema.Clip)}
    return names == {SCORE_TRACK}


def write_otio(timeline: otio.schema.Timeline, path: Path) -> None:
    _atomic(path, lambda tmp: otio.adapters.write_to_file(timeline, str(tmp), "otio_json"))


def write_scored(
    edit: Edit,
    audio_path: Path | str,
    out_path: Path | str,
    fmt: str | None = None,
    relative_media: bool = False,
    *,
    timeline: otio.schema.Timeline | None = None,
    audio_file: Path | str | None = None,
    media_dir: Path | str | None = None,
    also_otio: bool = True,
    audio_rendered: bool = True,
) -> Written:
    """Write `edit`'s timeline plus the score track, in the input's own format where possible.

    - `audio_path`: where the score WAV will be when the user opens the timeline.
    - `out_path`: the file to write; when the format has to change (EDL input, a writer that
      fails), its extension is replaced and a message says why.
    - `fmt`: an extension (".xml", "fcpxml", ...) to write instead of the input's format.
    - `relative_media`: media paths relative to `media_dir` (default: `out_path`'s folder,
      i.e. where the file will live), for a portable folder; default absolute file URLs.
    - `timeline`: the OTIO timeline `edit` came from; default: `edit.source_path` is read again.
    - `audio_file`: where the WAV is now, if not yet at `audio_path` (bundles copy it).
    - `also_otio`: also write `<stem>.otio` beside it (unless that is the main format).
    - `audio_rendered`: False when no WAV was rendered (--no-render); a message then says
      that the timelines point to a file that does not exist yet.

    Every file is written to a temporary name and moved into place, so a failure leaves no
    partial file. Raises `OutputError` only when not even the `.otio` can be written.
    """
    out_path = Path(out_path)
    audio_path = Path(audio_path)
    media_dir = Path(media_dir) if media_dir is not None else out_path.parent
    source = Path(edit.source_path) if edit.source_path else None
    if timeline is None:
        timeline = _reload(edit, source)
    wanted, messages = _target(edit, source, fmt)
    # Written files must read back as the timeline handed in; for a raw video that is not
    # `edit` (its cuts were detected from the picture and the timeline holds one clip).
    reference = _edit_of(timeline, edit)

    prepared = copy.deepcopy(timeline)
    base = source.parent if source is not None else Path.cwd()
    style = _url_style(prepared)
    messages += _fix_media(prepared, base, media_dir if relative_media else None)
    score_url = (
        _relative_url(audio_path, media_dir)
        if relative_media
        else _in_style(audio_path.resolve(), style)
    )
    wav = wav_format(audio_file if audio_file is not None else audio_path)
    scored = add_score_track(prepared, audio_path, edit.duration, edit.rate, target_url=score_url)

    document = _source_document(source, wanted)  # read once: the fallback never uses it
    if relative_media and document is not None:
        messages.append(
            f"The {_WRITERS[wanted][1]} file is your input with the score added: its media URLs "
            "stay as they were and the score's is absolute (Final Cut Pro resolves no others); "
            "the .otio has the relative paths."
        )
    stem = out_path.name[: -len(out_path.suffix)] if out_path.suffix else out_path.name
    written: list[Path] = []
    main_label = "OpenTimelineIO"
    problems: list[str] = []
    for ext in dict.fromkeys((wanted, _FALLBACK)):
        target = out_path.with_name(stem + ext)
        in_place = document if ext == wanted else None
        problem = _try_write(
            scored, target, ext, reference, (audio_path, audio_file, score_url), in_place, wav
        )
        if problem is None:
            written.append(target)
            main_label = _WRITERS[ext][1]
            if problems:
                messages.append(
                    f"Wrote the scored timeline as {main_label} ({target.name}) instead of "
                    f"{_WRITERS[wanted][1]}: {problems[0]}."
                )
            break
        problems.append(problem)
    else:
        messages.append(
            f"The scored timeline could not be written as {_WRITERS[wanted][1]} "
            f"({'; '.join(problems)}); use the .otio file, or import score.wav at the "
            "timeline's first frame."
        )
    if also_otio and wanted != ".otio" and not (written and written[0].suffix == ".otio"):
        otio_path = out_path.with_name(stem + ".otio")
        try:
            write_otio(scored, otio_path)
        except Exception as exc:
            raise OutputError(f"Cannot write '{otio_path}': {exc}.") from exc
        written.append(otio_path)
    if not written:
        raise OutputError(f"Cannot write the scored timeline '{out_path}'. " + " ".join(messages))
    if not audio_rendered:
        messages.append(
            f"No score was rendered (--no-render), so {', '.join(p.name for p in written)} "
            f"point to '{audio_path}', which does not exist yet: score again without "
            "--no-render before opening them in an editor."
        )
    return Written(tuple(written), main_label, tuple(messages))


# --------------------------------------------------------------------------- choosing


def _reload(edit: Edit, source: Path | None) -> otio.schema.Timeline:
    from emsync_core.timeline.read import load_otio  # read imports nothing from here

    if source is None:
        raise TimelineError(
            "write_scored needs the OTIO timeline (timeline=...) for an Edit not read from a file."
        )
    name = edit.name if edit.other_timelines else None
    return load_otio(source, rate=float(edit.rate), timeline=name)[0]


def _target(edit: Edit, source: Path | None, fmt: str | None) -> tuple[str, list[str]]:
    if fmt is not None:
        ext = "." + fmt.lower().lstrip(".")
        by_adapter = {adapter.lower(): e for e, (adapter, _, _) in _WRITERS.items()}
        ext = by_adapter.get(fmt.lower(), ext)
        if ext not in _WRITERS:
            raise OutputError(
                f"Cannot write timelines as '{fmt}'; choose one of {', '.join(sorted(_WRITERS))}."
            )
        return ext, []
    if source is None:
        return ".otio", []
    try:
        input_format, _ = formats.detect(source)
    except TimelineError:
        return ".otio", []
    messages = []
    if input_format.write_note:
        messages.append(
            f"{source.name}: {input_format.write_note}; wrote "
            f"{_WRITERS[input_format.write_as][1]} instead."
        )
    return input_format.write_as, messages


# --------------------------------------------------------------------------- writing


def _try_write(
    scored: otio.schema.Timeline,
    target: Path,
    ext: str,
    edit: Edit,
    audio: tuple[Path, Path | str | None, str],
    document: str | None = None,
    wav: WavFormat = SCORE_WAV,
) -> str | None:
    """Write and verify `target`; None when it worked, else what went wrong (nothing left).
    `document`: the input document in the `ext` format, which gets the score added in place.
    FCP 7 XML without one is OTIO's writer's document of the timeline without the score,
    which then gets the score the same way (a stereo pair of clip items, see fcp7.py)."""
    adapter, _, kwargs = _WRITERS[ext]
    audio_path, audio_file, score_url = audio  # where it will be, where it is, its URL here
    in_place = document is not None or ext == ".xml"
    # Only OTIO's writers need the conformed copy (a deep copy: costly on long timelines).
    timeline = scored if ext == ".otio" or document is not None else _conformed(scored, ext, wav)

    def write(tmp: Path) -> None:
        adapter_fixes.install()
        if in_place:
            text = document
            if text is None:
                unscored = copy.deepcopy(timeline)
                for track in [t for t in unscored.tracks if _is_score_track(t)]:
                    unscored.tracks.remove(track)
                text = otio.adapters.write_to_string(unscored, adapter, **kwargs)
            # In the input's own document the media stay as they were and the score gets an
            # absolute file URL (Final Cut resolves no other); OTIO's document has ours.
            url = Path(audio_path).resolve().as_uri() if document is not None else score_url
            _, add_score, which = _IN_PLACE[ext]
            extra = {"depth": wav.bits} if ext == ".xml" else {}
            text = add_score(
                text,
                url,
                edit.duration,
                sample_rate=wav.sample_rate,
                channels=wav.channels,
                **extra,
                **{which: edit.name},
            )
            tmp.write_text(text, encoding="utf-8")
        elif ext in (".otioz", ".otiod"):
            _write_bundle(timeline, tmp, adapter, audio_path, audio_file)
        elif ext == ".xges":
            text = otio.adapters.write_to_string(timeline, adapter)
            tmp.write_text(_xges_rate(text, edit.rate), encoding="utf-8")
        else:
            otio.adapters.write_to_file(timeline, str(tmp), adapter, **kwargs)
        _verify(tmp, edit)

    try:
        _atomic(target, write)
    except OutputError:
        raise
    except Exception as exc:  # writers raise anything at all on what they cannot express
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"{_WRITERS[ext][1]} writer: {detail[:200]}"
    return None


# Formats written back by adding the score to the input document itself, because OTIO's
# writers rebuild them and lose what OTIO does not hold (fcpxml.py, fcp7.py say what):
# extension -> (input adapter, function, its keyword naming the timeline).
_IN_PLACE = {
    ".fcpxml": ("fcpx_xml", fcpxml.add_score, "project"),
    ".xml": ("fcp_xml", fcp7.add_score, "sequence"),
}


def _source_document(source: Path | None, ext: str) -> str | None:
    """The input document when it goes back out in its own format (see `_IN_PLACE`)."""
    if ext not in _IN_PLACE or source is None:
        return None
    from emsync_core.timeline.read import document_text

    try:
        fmt, target = formats.detect(source)
        return document_text(target) if fmt.adapter == _IN_PLACE[ext][0] else None
    except (TimelineError, OSError, UnicodeDecodeError):
        return None


def _atomic(target: Path, write) -> None:
    """Run `write(tmp)` on a temporary sibling of `target`, then move it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        write(tmp)
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def _edit_of(timeline: otio.schema.Timeline, edit: Edit) -> Edit:
    from emsync_core.timeline.read import edit_from_timeline

    return edit_from_timeline(timeline, source_path=edit.source_path)


def _verify(path: Path, edit: Edit) -> None:
    """Read the written file back: same cuts, same length, score track present."""
    from emsync_core.timeline.read import read_with_timeline

    back, timeline = read_with_timeline(path, rate=float(edit.rate))
    if back.name != edit.name and edit.name in back.other_timelines:
        # A file of several timelines (FCPXML projects): check the one that was scored.
        back, timeline = read_with_timeline(path, rate=float(edit.rate), timeline=edit.name)
    if back.duration != edit.duration or back.cuts != edit.cuts:
        raise ValueError(
            f"read back with different cuts ({len(back.cuts)} cuts, {back.duration} frames "
            f"instead of {len(edit.cuts)} cuts, {edit.duration} frames)"
        )
    if not any(_is_score_track(t) for t in timeline.tracks):
        raise ValueError("the score track was not kept")


def _write_bundle(
    timeline: otio.schema.Timeline,
    tmp: Path,
    adapter: str,
    audio_path: Path,
    audio_file: Path | str | None,
) -> None:
    """otioz/otiod copy every media file into the bundle; missing ones become offline."""
    timeline = copy.deepcopy(timeline)
    if audio_file is not None and Path(audio_file).exists():
        for clip in _score_clips(timeline):
            clip.media_reference.target_url = Path(audio_file).resolve().as_uri()
    policy = otio.adapters.file_bundle_utils.MediaReferencePolicy.MissingIfNotFile
    otio.adapters.write_to_file(timeline, str(tmp), adapter, media_policy=policy)


def _score_clips(timeline: otio.schema.Timeline) -> Iterator[otio.schema.Clip]:
    for track in timeline.tracks:
        if isinstance(track, otio.schema.Track) and track.name == SCORE_TRACK:
            yield from track.find_clips()


def _xges_rate(text: str, rate: Fraction) -> str:
    """The xges writer always declares 30 fps, and its reader then reads every time at 30."""
    return _XGES_30.sub(lambda m: f"{m.group(1)}{rate.numerator}/{rate.denominator}", text)


_XGES_30 = re.compile(r"(framerate\\?=\\?\(fraction\\?\))30/1")


def _conformed(
    timeline: otio.schema.Timeline, ext: str, wav: WavFormat = SCORE_WAV
) -> otio.schema.Timeline:
    """A copy the interchange writers accept: every clip with a source and an available range,
    clips directly in the top stack wrapped in a track of their own."""
    timeline = copy.deepcopy(timeline)
    stack = timeline.tracks
    for i, child in enumerate(list(stack)):
        if not isinstance(child, otio.schema.Track):
            track = otio.schema.Track(name=child.name, kind=otio.schema.TrackKind.Video)
            stack.remove(child)
            track.append(child)
            stack.insert(i, track)
    for clip in timeline.find_clips():
        if clip.source_range is None:
            clip.source_range = clip.trimmed_range()
        ref = clip.media_reference
        if getattr(ref, "available_range", False) is None:
            ref.available_range = clip.source_range
    if timeline.global_start_time is None and ext in (".xml", ".fcpxml"):
        rate = stack.duration().rate
        timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    if ext == ".aaf":
        _describe_dissolves(timeline)
        _describe_score(timeline, wav)
    return timeline


def _describe_score(timeline: otio.schema.Timeline, wav: WavFormat) -> None:
    """The AAF writer describes every audio file as 16-bit mono PCM unless told otherwise
    (its default_descriptor): give it the score WAV's real format, one stereo descriptor,
    as Media Composer writes a stereo file it links to."""
    block = wav.channels * wav.bits // 8
    for clip in _score_clips(timeline):
        clip.media_reference.metadata["AAF"] = {
            "EssenceDescription": {
                "SampleRate": wav.sample_rate,
                "AudioSamplingRate": wav.sample_rate,
                "Channels": wav.channels,
                "QuantizationBits": wav.bits,
                "BlockAlign": block,
                "AverageBPS": block * wav.sample_rate,
            }
        }


# The AAF writer only writes transitions that came from an AAF: it copies their effect
# definition from metadata. Others get a plain dissolve: Avid Media Composer's own video
# dissolve (the definition pyaaf2's tests copy from Avid files) and the AAF standard mono
# audio dissolve. Untested in Avid itself.
_AAF_DISSOLVES = {
    otio.schema.TrackKind.Video: (
        "89d9b67e-5584-302d-9abd-8bd330c46841",
        "VideoDissolve_2",
        "Picture",
    ),
    otio.schema.TrackKind.Audio: (
        "0c3bea41-fc05-11d2-8a29-0050040ef7d2",
        "MonoAudioDissolve",
        "Sound",
    ),
}


def _describe_dissolves(timeline: otio.schema.Timeline) -> None:
    for track in timeline.find_children(descended_from_type=otio.schema.Track):
        identification, name, kind = _AAF_DISSOLVES.get(
            track.kind, _AAF_DISSOLVES[otio.schema.TrackKind.Video]
        )
        for transition in track:
            if not isinstance(transition, otio.schema.Transition) or "AAF" in transition.metadata:
                continue
            transition.metadata["AAF"] = {
                "PointList": [{"Value": 0, "Time": 0}, {"Value": 1, "Time": 1}],
                "OperationGroup": {
                    "Operation": {
                        "Identification": identification,
                        "Name": name,
                        "Description": name,
                        "IsTimeWarp": False,
                        "Bypass": 1,
                        "NumberInputs": 2,
                        "OperationCategory": "OperationCategory_Effect",
                        "DataDefinition": {"Name": kind},
                    }
                },
                "CutPoint": int(transition.in_offset.value),
            }


# --------------------------------------------------------------------------- media paths

_WINDOWS_ABS = re.compile(r"^([a-zA-Z]:[\\/]|\\\\)")


def _fix_media(timeline: otio.schema.Timeline, base: Path, relative_to: Path | None) -> list[str]:
    """Relative media references made absolute (resolved against the input's folder), in the
    style they were written in: a plain path stays a plain path, a file URL a file URL
    (Resolve 20.2 fails on plain paths rewritten as file URLs, OTIO issue tracker); absolute
    ones are left exactly as they were. With `relative_to`, every local one becomes relative
    to it. Returns messages about paths that could not be changed."""
    foreign = 0
    for clip in timeline.find_clips():
        ref = clip.media_reference
        if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
            continue
        path = _local_path(ref.target_url)
        if path is None:
            foreign += relative_to is not None
            continue
        if relative_to:
            ref.target_url = _relative_url(base / path, relative_to)
        elif not path.is_absolute():
            ref.target_url = _in_style((base / path).resolve(), _style(ref.target_url))
    if foreign:
        return [
            f"{foreign} media reference(s) are not paths on this machine (another computer's "
            "drive, or a URL) and were left as they are rather than made relative."
        ]
    return []


def _style(url: str) -> str:
    return "plain" if urllib.parse.urlparse(url).scheme == "" else "file"


def _url_style(timeline: otio.schema.Timeline) -> str:
    """How the timeline writes local media: "plain" paths when all of them are, else "file"."""
    styles = {
        _style(ref.target_url)
        for clip in timeline.find_clips()
        if isinstance(ref := clip.media_reference, otio.schema.ExternalReference)
        and ref.target_url
        and _local_path(ref.target_url) is not None
    }
    return "plain" if styles == {"plain"} else "file"


def _in_style(path: Path, style: str) -> str:
    return str(path) if style == "plain" else path.as_uri()


def _local_path(url: str) -> Path | None:
    """The local path a media URL names, or None for other machines' paths and real URLs."""
    if _WINDOWS_ABS.match(url):
        return None if os.name != "nt" else Path(PureWindowsPath(url))
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "":
        return Path(urllib.parse.unquote(url))
    if parsed.scheme.lower() != "file" or parsed.netloc not in ("", "localhost"):
        return None
    path = urllib.request.url2pathname(parsed.path)
    if _WINDOWS_ABS.match(path.lstrip("/")) and os.name != "nt":
        return None  # file:///D:/media/x.mov written on Windows
    return Path(path)


def _relative_url(path: Path, relative_to: Path) -> str:
    rel = os.path.relpath(Path(path).resolve(), Path(relative_to).resolve())
    return urllib.parse.quote(Path(rel).as_posix())
