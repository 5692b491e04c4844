"""Which OpenTimelineIO adapter reads which file: one table, plus a sniff for FCPXML in `.xml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emsync_core.errors import TimelineError


@dataclass(frozen=True)
class Format:
    adapter: str  # OpenTimelineIO adapter name
    label: str  # what the user calls it, for messages
    rate_argument: str | None = None  # adapter keyword for the frame rate, when the file has none
    # Extension the scored timeline is written back as (see write.py): the format itself when
    # its OTIO writer keeps picture, audio and markers; else FCP 7 XML, which every editor
    # that exports the input format can import (or the reason below is reported).
    write_as: str = ".xml"
    write_note: str = ""


# Extension -> format. Only formats OTIO can *read* with the installed plugins.
_EDL_NOTE = "the CMX 3600 EDL writer drops audio tracks, so the score cannot travel in an EDL"
_ALE_NOTE = "an ALE is a clip list, not a timeline, so it cannot hold the score track"
_BUNDLE_NOTE = "the bundle comes back as one .fcpxml file, which Final Cut Pro imports the same way"

FORMATS: dict[str, Format] = {
    ".otio": Format("otio_json", "OpenTimelineIO", write_as=".otio"),
    ".otioz": Format("otioz", "OpenTimelineIO zip bundle", write_as=".otioz"),
    ".otiod": Format("otiod", "OpenTimelineIO directory bundle", write_as=".otiod"),
    ".edl": Format("cmx_3600", "CMX 3600 EDL", "rate", write_note=_EDL_NOTE),
    ".xml": Format("fcp_xml", "Final Cut Pro 7 XML", write_as=".xml"),
    ".fcpxml": Format("fcpx_xml", "Final Cut Pro X XML", write_as=".fcpxml"),
    ".fcpxmld": Format("fcpx_xml", "Final Cut Pro X XML bundle", None, ".fcpxml", _BUNDLE_NOTE),
    ".aaf": Format("AAF", "AAF", write_as=".aaf"),
    ".ale": Format("ale", "Avid Log Exchange", "fps", write_note=_ALE_NOTE),
    ".xges": Format("xges", "GStreamer Editing Services", write_as=".xges"),
}

# Some tools (DaVinci Resolve among them) write FCPXML with a plain `.xml` extension.
_FCPX_SNIFF_BYTES = 4096


def supported_extensions() -> list[str]:
    return sorted(FORMATS)


def detect(path: Path) -> tuple[Format, Path]:
    """The format of `path` and the file the adapter should open (bundles hold one inside)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise TimelineError(
            f"{path}: '{path.suffix or '(no extension)'}' is not a timeline format EMSYNC can "
            f"read. Export the timeline as one of: {', '.join(supported_extensions())} "
            "(OpenTimelineIO, EDL, FCP 7 XML or FCPXML work with every major editor)."
        )
    if path.suffix.lower() == ".fcpxmld":
        # An FCPXML bundle is a folder whose timeline lives in Info.fcpxml.
        return fmt, path / "Info.fcpxml"
    if fmt.adapter == "fcp_xml" and _looks_like_fcpxml(path):
        return FORMATS[".fcpxml"], path
    return fmt, path


def _looks_like_fcpxml(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(_FCPX_SNIFF_BYTES)
    except OSError:
        return False  # reading the file properly will report the problem
    return b"<fcpxml" in head
