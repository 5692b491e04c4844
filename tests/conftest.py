from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def timeline_fixtures() -> Path:
    """The shared real-world timeline files: ../shared/fixtures/timelines beside the repo."""
    folder = REPO_ROOT.parent / "shared" / "fixtures" / "timelines"
    if not folder.is_dir():
        pytest.fail(f"timeline fixtures not found at {folder}: check out shared/ beside the repo")
    return folder


@pytest.fixture(autouse=True)
def _no_user_emotion_head(tmp_path_factory, monkeypatch):
    """Tests never pick up a head fitted by `emsync train-emotion` on the developer's machine."""
    monkeypatch.setenv("EMSYNC_EMOTION_HEAD", str(tmp_path_factory.getbasetemp() / "no-head.json"))
