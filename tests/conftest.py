from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMELINE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "timelines"


@pytest.fixture(scope="session")
def timeline_fixtures() -> Path:
    """Real-world timeline files (tests/fixtures/timelines; licences in its README)."""
    if not TIMELINE_FIXTURES.is_dir():
        pytest.fail(f"timeline fixtures not found at {TIMELINE_FIXTURES}")
    return TIMELINE_FIXTURES


@pytest.fixture(autouse=True)
def _no_user_emotion_head(tmp_path_factory, monkeypatch):
    """Tests never pick up a head fitted by `emsync train-emotion` on the developer's machine."""
    monkeypatch.setenv("EMSYNC_EMOTION_HEAD", str(tmp_path_factory.getbasetemp() / "no-head.json"))
