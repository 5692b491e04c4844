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


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    """A small training corpus made from arranger scores (no music21 parsing: fast)."""
    from emsync_core.music.arranger import arrange
    from emsync_core.music.corpus import build_corpus
    from emsync_core.music.plan import plan_score

    folder = tmp_path_factory.mktemp("midi")
    for i in range(6):
        plan = plan_score(
            [(0.0, 5.0 + i % 3), (5.0 + i % 3, 12.0)], [(0.6 - 0.2 * i, 0.3), (-0.4, -0.2)], i
        )
        arrange(plan, i).midi.write(str(folder / f"piece{i}.mid"))
    out = tmp_path_factory.mktemp("corpus")
    build_corpus([str(folder)], out, workers=1, val_percent=40.0, progress=False)
    return out
