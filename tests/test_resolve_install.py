"""`emsync install-resolve`: per-OS paths, dry run, idempotent install and uninstall."""

from __future__ import annotations

import argparse
import json
import runpy
from pathlib import Path, PureWindowsPath

import pytest
from fake_resolve import FakeResolve

from resolve_plugin import bridge, install


def parse(argv):
    p = argparse.ArgumentParser()
    install.configure_parser(p)
    return p.parse_args(argv)


def test_scripts_dir_per_os():
    win = install.scripts_dir("Windows", {"APPDATA": r"C:\Users\ed\AppData\Roaming"})
    assert str(win) == (
        r"C:\Users\ed\AppData\Roaming\Blackmagic Design\DaVinci Resolve\Support\Fusion\Scripts\Edit"
    )
    mac = install.scripts_dir("Darwin", {}, "/Users/ed")
    resolve_dir = "/Users/ed/Library/Application Support/Blackmagic Design/DaVinci Resolve"
    assert str(mac) == resolve_dir + "/Fusion/Scripts/Edit"
    linux = install.scripts_dir("Linux", {}, "/home/ed")
    assert str(linux) == "/home/ed/.local/share/DaVinciResolve/Fusion/Scripts/Edit"


def test_config_path_per_os():
    assert bridge.config_path("Windows", {"APPDATA": r"C:\R"}) == PureWindowsPath(
        r"C:\R\EMSYNC\config.json"
    )
    assert str(bridge.config_path("Darwin", {}, "/Users/ed")).endswith(
        "Library/Application Support/EMSYNC/config.json"
    )
    assert str(bridge.config_path("Linux", {"XDG_CONFIG_HOME": "/x"})) == "/x/emsync/config.json"
    assert str(bridge.config_path("Linux", {}, "/home/ed")) == "/home/ed/.config/emsync/config.json"


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("Windows", r"C:\AD\Blackmagic Design\DaVinci Resolve\Support\Fusion\Scripts\Edit"),
        ("Darwin", "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"),
        ("Linux", ".local/share/DaVinciResolve/Fusion/Scripts/Edit"),
    ],
)
def test_dry_run_prints_paths_and_writes_nothing(system, expected, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(install.platform, "system", lambda: system)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("APPDATA", r"C:\AD")
    monkeypatch.delenv("EMSYNC_CONFIG", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert install.run(parse(["--dry-run"])) == 0
    out = capsys.readouterr().out
    assert expected in out and "Generate Score.py" in out
    assert "Workspace > Scripts > Generate Score" in out
    assert list(tmp_path.iterdir()) == []


def test_install_is_idempotent_and_uninstalls(tmp_path, monkeypatch, capsys):
    scripts = tmp_path / "Scripts" / "Edit"
    config = tmp_path / "cfg" / "config.json"
    monkeypatch.setenv("EMSYNC_CONFIG", str(config))
    args = parse(["--scripts-dir", str(scripts)])
    assert install.run(args) == 0
    bridge.save_defaults(bridge.Options(emotion="fear", seed=3), config)
    assert install.run(args) == 0  # again: same files, saved defaults kept
    assert sorted(p.name for p in scripts.iterdir()) == ["Generate Score.py"]
    data = json.loads(config.read_text())
    assert data["repo"] == str(install.REPO_DIR) and Path(data["python"]).is_file()
    assert data["defaults"]["emotion"] == "fear"
    text = (scripts / "Generate Score.py").read_text()
    assert f"EMSYNC_CONFIG = {str(config)!r}" in text

    # the installed copy finds bridge.py through the config; no project open -> exit 2
    monkeypatch.delenv("EMSYNC_CONFIG")
    monkeypatch.setenv("EMSYNC_HEADLESS", "1")
    resolve = FakeResolve()
    g = runpy.run_path(str(scripts / "Generate Score.py"), init_globals={"resolve": resolve})
    assert g["EXIT_CODE"] == 2
    assert "No project is open" in capsys.readouterr().err

    monkeypatch.setenv("EMSYNC_CONFIG", str(config))
    assert install.run(parse(["--scripts-dir", str(scripts), "--uninstall"])) == 0
    assert not (scripts / "Generate Score.py").exists() and not config.exists()
    assert install.run(parse(["--scripts-dir", str(scripts), "--uninstall"])) == 0
    assert "nothing to remove" in capsys.readouterr().out
