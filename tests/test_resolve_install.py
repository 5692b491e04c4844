"""`emsync install-resolve`: per-OS paths, dry run, idempotent install and uninstall."""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from pathlib import Path, PureWindowsPath

import pytest
from fake_resolve import FakeResolve

from emsync_core import defaults
from emsync_core import resolve_install as install
from resolve_plugin import bridge


def parse(argv):
    p = argparse.ArgumentParser()
    install.configure_parser(p)
    return p.parse_args(argv)


def test_scripts_dir_per_os():
    win = install.scripts_dir("Windows", {"APPDATA": r"C:\Users\ed\AppData\Roaming"})
    assert str(win) == (
        r"C:\Users\ed\AppData\Roaming\Blackmagic Design\DaVinci Resolve\Support\Fusion"
        r"\Scripts\Utility"
    )
    mac = install.scripts_dir("Darwin", {}, "/Users/ed")
    resolve_dir = "/Users/ed/Library/Application Support/Blackmagic Design/DaVinci Resolve"
    assert str(mac) == resolve_dir + "/Fusion/Scripts/Utility"
    linux = install.scripts_dir("Linux", {}, "/home/ed")
    assert str(linux) == "/home/ed/.local/share/DaVinciResolve/Fusion/Scripts/Utility"


def test_config_path_per_os():
    assert defaults.config_path("Windows", {"APPDATA": r"C:\R"}) == PureWindowsPath(
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
        ("Windows", r"C:\AD\Blackmagic Design\DaVinci Resolve\Support\Fusion\Scripts\Utility"),
        ("Darwin", "Blackmagic Design/DaVinci Resolve/Fusion/Scripts/Utility"),
        ("Linux", ".local/share/DaVinciResolve/Fusion/Scripts/Utility"),
    ],
)
def test_dry_run_prints_paths_and_writes_nothing(system, expected, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(install.platform, "system", lambda: system)
    monkeypatch.setattr(install, "macos_python_warning", lambda: None)
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
    old_copy = tmp_path / "Scripts" / "Edit" / "Generate Score.py"  # where 0.1 installed it
    old_copy.parent.mkdir(parents=True)
    old_copy.write_text("old")
    scripts = tmp_path / "Scripts" / "Utility"
    config = tmp_path / "cfg" / "config.json"
    monkeypatch.setenv("EMSYNC_CONFIG", str(config))
    args = parse(["--scripts-dir", str(scripts)])
    assert install.run(args) == 0
    bridge.save_defaults(bridge.Options(emotion="fear", seed=3), config)
    assert install.run(args) == 0  # again: same files, saved defaults kept
    assert sorted(p.name for p in scripts.iterdir()) == ["Generate Score.py"]
    assert not old_copy.exists()  # listed once in the menu
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


@pytest.mark.parametrize(
    ("python3home", "usr_local", "warned"),
    [
        ("/Library/Frameworks/Python.framework/Versions/3.12", False, False),
        ("", True, False),
        ("", False, True),
        ("/nowhere", False, True),
    ],
)
def test_macos_python_check(python3home, usr_local, warned):
    """Resolve before 21.1 finds Python only via PYTHON3HOME or /usr/local/bin/python3."""
    present = {"/opt/homebrew/opt/python@3.12/bin/python3"}
    if python3home and python3home != "/nowhere":
        present.add(python3home + "/bin/python3")
    if usr_local:
        present.add("/usr/local/bin/python3")
    warning = install.macos_python_warning(
        launchd_env=lambda name: python3home if name == "PYTHON3HOME" else "",
        exists=lambda p: p in present,
        prefix="/opt/homebrew/opt/python@3.12",
    )
    assert (warning is not None) == warned
    if warned:
        assert "launchctl setenv PYTHON3HOME" in warning and "\n" not in warning
        assert '"/opt/homebrew/opt/python@3.12"' in warning  # the remedy names this Python


def test_menu_script_finds_resolve_without_the_global(tmp_path, monkeypatch, capsys):
    """No `resolve` global (some launch paths): bmd.scriptapp("Resolve"), then app.GetResolve()."""
    monkeypatch.setenv("EMSYNC_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.setenv("EMSYNC_HEADLESS", "1")
    script = str(install.PLUGIN_DIR / "Generate Score.py")

    class Bmd:
        def scriptapp(self, name):
            return FakeResolve() if name == "Resolve" else None

    class App:
        def GetResolve(self):
            return FakeResolve()

    for extra in ({"bmd": Bmd()}, {"app": App()}):
        g = runpy.run_path(script, init_globals=extra)
        assert g["EXIT_CODE"] == 2
        assert "No project is open" in capsys.readouterr().err  # it reached Resolve


def test_menu_script_says_which_python_it_needs(monkeypatch, capsys):
    monkeypatch.setattr(sys, "version_info", (3, 6, 15, "final", 0))
    g = runpy.run_path(str(install.PLUGIN_DIR / "Generate Score.py"), init_globals={})
    assert g["EXIT_CODE"] == 2
    assert "needs Python 3.7 or later" in capsys.readouterr().err
