"""Export: the board's current score into a folder the user names, as `emsync score` writes it.

The work folder's files are copied as they are (score.mid, score.wav, stems/, report.json,
report.txt, preview.mp4) and the scored timelines are written again for the new place, so they
point at the exported score.wav, not at the board's hidden work folder. The A/B excerpts in
takes/ stay behind: they are for auditioning. Built in a hidden sibling and moved into place in
one step, like every `emsync score` output: an interrupted export leaves nothing half-written.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

from .. import output_folder
from ..errors import EmsyncError, OutputError
from .project import Project

LEFT_BEHIND = {"takes"}


class Exists(OutputError):
    """The export folder exists and the user has not confirmed replacing it."""


def export(project: Project, target: str | Path, replace: bool = False) -> Path:
    src = project.out
    if not (src / "report.json").is_file():
        raise EmsyncError("There is no score to export yet: press Generate first.")
    out = Path(target).expanduser()
    if not out.is_absolute():
        out = project.folder / out
    out = out.absolute()
    work = project.work.resolve()
    if (
        out.resolve() == work
        or out.resolve().is_relative_to(work)
        or work.is_relative_to(out.resolve())
    ):
        raise OutputError(
            f"'{out}' is the board's own work folder (or holds it); choose another folder."
        )
    if out.exists() and not replace:
        raise Exists(f"The folder '{out}' already exists. Replace it?")
    output_folder.check_target(out, force=replace)
    with output_folder.locked(out), output_folder.Staging(out, replace) as staging:
        for item in src.iterdir():
            if item.name in LEFT_BEHIND or item.name.startswith("."):
                continue
            if item.name.startswith(f"{project.input.stem}.scored"):
                continue  # written again below, pointing at the exported score.wav
            if item.is_dir():
                shutil.copytree(item, staging / item.name)
            else:
                shutil.copy2(item, staging / item.name)
        _write_timelines(project, src, out, staging)
    return out


def _write_timelines(project: Project, src: Path, out: Path, staging: Path) -> None:
    from ..pipeline import timeline_suffix
    from ..timeline import read_with_timeline
    from ..timeline.write import write_scored
    from .media import report

    path = project.input
    if project.is_video:
        from ..timeline.build import video_timeline

        doc = report(src) or {}
        cuts = [c["frame"] for c in doc.get("cuts", [])]
        rate = Fraction(doc.get("rate_exact", str(project.rate)))
        edit, timeline = video_timeline(path, int(doc["duration_frames"]), rate, cuts)
    else:
        edit, timeline = read_with_timeline(path)
    has_wav = (staging / "score.wav").is_file()
    write_scored(
        edit,
        out / "score.wav",
        staging / f"{path.stem}.scored{timeline_suffix(path)}",
        timeline=timeline,
        audio_file=staging / "score.wav" if has_wav else None,
        media_dir=out,
        audio_rendered=has_wav,
    )
