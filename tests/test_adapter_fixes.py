"""The fixes to OTIO's FCP 7 XML and FCPXML adapters (emsync_core/timeline/adapter_fixes.py)."""

from __future__ import annotations

import importlib.util

import opentimelineio as otio
import pytest

from emsync_core.timeline import adapter_fixes

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
def test_fcp7_lookup_memo_changes_nothing(timeline_fixtures, name):
    adapter_fixes.install()
    text = (timeline_fixtures / name).read_text(encoding="utf-8")
    patched = otio.adapters.read_from_string(text, adapter_name="fcp_xml")
    original = _pristine_fcp_xml().read_from_string(text)
    assert otio.adapters.write_to_string(patched) == otio.adapters.write_to_string(original)


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
