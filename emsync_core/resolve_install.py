"""`emsync install-resolve`: put Generate Score into Resolve's per-user Scripts/Utility menu.

Copies the menu script resolve_plugin/"Generate Score.py" (with the config path written into
it, since Resolve may not tell a script where it lives) and writes the config holding the venv
interpreter and the folder that holds resolve_plugin/ and emsync_core/defaults.py, which is how
the script, running in Resolve's own Python, finds bridge.py, the shared names and our venv.
The plugin's files are read here as files, never imported: the core does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path, PurePath, PureWindowsPath

from emsync_core import defaults

MENU_SCRIPT = "Generate Score.py"
REPO_DIR = Path(__file__).resolve().parent.parent  # holds emsync_core/ and resolve_plugin/
PLUGIN_DIR = REPO_DIR / "resolve_plugin"
# Utility: listed under Workspace > Scripts on every page. Earlier versions installed into
# Edit (Edit page only); an old copy there is removed so the menu does not list it twice.
MENU_FOLDER, OLD_MENU_FOLDERS = "Utility", ("Edit",)


def scripts_root(
    system: str | None = None, env: dict | None = None, home: str | PurePath | None = None
) -> PurePath:
    """Per-user `.../Fusion/Scripts`, from Resolve's scripting README 21.1
    (nle-integration.md, section 1.1; older READMEs doubled "Roaming" on Windows, a typo)."""
    system = system or platform.system()
    env = os.environ if env is None else env
    if system == "Windows":
        home = PureWindowsPath(str(home)) if home is not None else PureWindowsPath(Path.home())
        appdata = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        return PureWindowsPath(
            appdata, "Blackmagic Design", "DaVinci Resolve", "Support", "Fusion", "Scripts"
        )
    home = Path(home) if home is not None else Path.home()
    if system == "Darwin":
        return (
            home / "Library" / "Application Support" / "Blackmagic Design" / "DaVinci Resolve"
            / "Fusion" / "Scripts"
        )  # fmt: skip
    return home / ".local" / "share" / "DaVinciResolve" / "Fusion" / "Scripts"


def scripts_dir(
    system: str | None = None, env: dict | None = None, home: str | PurePath | None = None
) -> PurePath:
    """Where the menu script goes: `.../Fusion/Scripts/Utility`."""
    return scripts_root(system, env, home) / MENU_FOLDER


def menu_script_text(config_file: PurePath) -> str:
    """The menu script with the config path baked in."""
    text = (PLUGIN_DIR / MENU_SCRIPT).read_text(encoding="utf-8")
    marker = "EMSYNC_CONFIG = None"
    if marker not in text:
        raise RuntimeError(f"{MENU_SCRIPT} lacks the line '{marker}'")
    return text.replace(marker, f"EMSYNC_CONFIG = {str(config_file)!r}", 1)


def load_config(path: PurePath) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def config_data(python: str, repo: Path = REPO_DIR, old: dict | None = None) -> dict:
    data = dict(old or {})  # keep saved dialog defaults across reinstalls
    data.update({"python": python, "repo": str(repo)})
    return data


def venv_python() -> str:
    """The interpreter running this command: the venv's when run as .venv/bin/emsync."""
    return sys.executable


def _launchd_env(name: str) -> str:
    """A variable as GUI apps on macOS see it (they ignore shell exports)."""
    try:
        out = subprocess.run(
            ["launchctl", "getenv", name], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def macos_python_warning(
    launchd_env: Callable[[str], str] = _launchd_env,
    exists: Callable[[str], bool] = os.path.exists,
    prefix: str | None = None,
) -> str | None:
    """The one-line remedy when Resolve before 21.1 will not find a Python 3 on this Mac.

    Resolve 18-21.0 on macOS look for Python 3 only in PYTHON3HOME (which needs bin/python3
    and lib/libpython3.X.dylib under it) or at /usr/local/bin/python3 (nle-integration.md 1.3,
    [MCP#143], [MCP#182]); a Homebrew, uv or conda Python is in neither place, and then the
    menu item silently never appears. 21.1 and later bring their own Python.
    """
    home = launchd_env("PYTHON3HOME")
    if home and exists(os.path.join(home, "bin", "python3")):
        return None
    if exists("/usr/local/bin/python3"):
        return None
    prefix = prefix or sys.base_prefix
    suggestion = prefix if exists(os.path.join(prefix, "bin", "python3")) else "<prefix>"
    return (
        "warning: Resolve before 21.1 finds Python 3 on macOS only in PYTHON3HOME or at "
        "/usr/local/bin/python3, and neither is set up here, so Generate Score would not "
        f"appear: run 'launchctl setenv PYTHON3HOME \"{suggestion}\"' (a folder with "
        "bin/python3 and lib/libpython3.X.dylib) or install Python 3 from python.org, then "
        "restart Resolve."
    )


def install(target: PurePath, config_file: PurePath, python: str, dry_run: bool) -> list[str]:
    """Install (or refresh) the menu script and config; the lines saying what was done.

    Pure paths so a dry run can show another OS's paths; they become real ones only to write.
    """
    verb = "would write" if dry_run else "wrote"
    script = target / MENU_SCRIPT
    done = [f"{verb} menu script {script}", f"{verb} config {config_file} (python: {python})"]
    for old in OLD_MENU_FOLDERS:
        stale = target.parent / old / MENU_SCRIPT
        if Path(stale).is_file():
            done.append(f"{'would remove' if dry_run else 'removed'} old copy {stale}")
            if not dry_run:
                Path(stale).unlink()
    if not dry_run:
        config = config_data(python, old=load_config(config_file))
        Path(target).mkdir(parents=True, exist_ok=True)
        Path(script).write_text(menu_script_text(config_file), encoding="utf-8")
        Path(config_file).parent.mkdir(parents=True, exist_ok=True)
        Path(config_file).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return done


def uninstall(target: PurePath, config_file: PurePath, dry_run: bool) -> list[str]:
    verb = "would remove" if dry_run else "removed"
    done = []
    scripts = [target / MENU_SCRIPT] + [target.parent / d / MENU_SCRIPT for d in OLD_MENU_FOLDERS]
    for path in (*scripts, config_file):
        if Path(path).exists():
            if not dry_run:
                Path(path).unlink()
            done.append(f"{verb} {path}")
        elif path in (scripts[0], config_file):
            done.append(f"nothing to remove at {path}")
    return done


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be done, change nothing"
    )
    p.add_argument("--uninstall", action="store_true", help="remove the menu script and config")
    p.add_argument(
        "--scripts-dir", type=Path, help="install into this folder instead of the per-user one"
    )


def run(args: argparse.Namespace) -> int:
    system = platform.system()
    target = Path(args.scripts_dir) if args.scripts_dir else scripts_dir(system)
    config_file = defaults.config_path(system)
    if args.uninstall:
        lines = uninstall(target, config_file, args.dry_run)
    else:
        python = venv_python()
        lines = install(target, config_file, python, args.dry_run)
        if sys.prefix == sys.base_prefix:
            lines.append(
                f"warning: {python} is not a virtual environment; run this as .venv/bin/emsync "
                "so Resolve uses the EMSYNC venv"
            )
        if system == "Darwin":
            warning = macos_python_warning()
            if warning:
                lines.append(warning)
    for line in lines:
        print(line)
    if not args.uninstall:
        print(
            "Next: restart DaVinci Resolve, open a timeline and choose Workspace > Scripts > "
            "Generate Score (any page). Resolve Free 21.1+ lists no Python scripts: use "
            "'emsync score' and File > Import > Timeline instead, see docs/editors.md."
        )
    return 0
