"""The fixes to OTIO's FCP 7 XML and FCPXML adapters (emsync_core/timeline/adapter_fixes.py)."""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from emsync_core.timeline import adapter_fixes, read

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "timelines"
pytestmark = pytest.mark.filterwarnings("ignore")


def _pristine_fcp_xml():
    """A second, unpatched copy of the FCP 7 XML adapter module."""
    path = otio.adapters.from_name("fcp_xml").module_abs_path()
    spec = importlib.util.spec_from_file_location("opentimelineio.adapters.pristine_fcp_xml", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name", ["premiere_example.xml", "premiere_generators.xml", "hiero_xml_export.xml"]
)
def test_fcp7_lookup_memo_changes_nothing(name):
    adapter_fixes.install()
    text = (FIXTURES / name).read_text(encoding="utf-8")
    patched = otio.adapters.read_from_string(text, adapter_name="fcp_xml")
    original = _pristine_fcp_xml().read_from_string(text)
    assert otio.adapters.write_to_string(patched) == otio.adapters.write_to_string(original)


def _fcpxml(frame_duration: str, frames: list[int], per_second: int) -> str:
    """An FCPXML 1.9 project as Final Cut Pro writes it: one spine of asset clips."""
    num, den = (int(x) for x in frame_duration.removesuffix("s").split("/"))

    def t(n: int) -> str:
        return f"{n * num}/{den}s" if n else "0s"

    clips, offset = [], 0
    for i, n in enumerate(frames):
        clips.append(
            f'<asset-clip ref="a{i % 2}" offset="{t(offset)}" name="c{i}" '
            f'start="{t(10 * i)}" duration="{t(n)}" format="f1"/>'
        )
        offset += n
    assets = "".join(
        f'<asset id="a{i}" name="m{i}" start="0s" duration="{t(per_second * 600)}" '
        f'hasVideo="1" format="f1" src="file:///media/m{i}.mov"/>'
        for i in range(2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n<fcpxml version="1.9">'
        f'<resources><format id="f1" name="FFVideoFormat1080p" frameDuration="{frame_duration}"'
        f' width="1920" height="1080"/>{assets}</resources>'
        '<library><event name="E"><project name="P">'
        f'<sequence format="f1" duration="{t(offset)}" tcStart="0s" tcFormat="NDF">'
        f"<spine>{''.join(clips)}</spine></sequence></project></event></library></fcpxml>"
    )


@pytest.mark.parametrize(
    ("frame_duration", "rate", "per_second"),
    [
        ("1001/24000s", Fraction(24000, 1001), 24),
        ("1001/30000s", Fraction(30000, 1001), 30),
        ("1001/60000s", Fraction(60000, 1001), 60),
        ("100/2400s", Fraction(24), 24),
        ("100/2500s", Fraction(25), 25),
    ],
)
def test_fcpxml_exact_rates(tmp_path, frame_duration, rate, per_second):
    # Upstream read 1001/24000s as 23 fps and truncated frame counts (OTIO issue #903).
    lengths = [37, 1, 250, 12, 4001]
    path = tmp_path / "p.fcpxml"
    path.write_text(_fcpxml(frame_duration, lengths, per_second), encoding="utf-8")
    edit = read(path)
    assert edit.rate == rate
    assert edit.cuts == (37, 38, 288, 300)
    assert edit.duration == sum(lengths)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (23.976, "1001/24000s"),
        (24000 / 1001, "1001/24000s"),
        (29.97, "1001/30000s"),
        (24, "100/2400s"),
        (25.0, "100/2500s"),
        (48, "100/4800s"),
        (59.94, "1001/60000s"),
        (12.5, "2/25s"),
    ],
)
def test_frame_duration_as_final_cut_writes_it(rate, expected):
    assert adapter_fixes.frame_duration(rate) == expected
