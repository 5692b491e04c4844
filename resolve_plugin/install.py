"""`emsync install-resolve`: put Generate Score into Resolve's per-user Scripts/Edit menu.

Copies the menu script (with the config path written into it, since Resolve may not tell a
script where it lives) and writes the config holding the venv interpreter and the checkout,
which is how the script, running in Resolve's Python, finds bridge.py and our venv.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path, PurePath, PureWindowsPath

from resolve_plugin import bridge

MENU_SCRIPT = "Generate Score.py"
PLUGIN_DIR = Path(__file__).resolve().parent
REPO_DIR = PLUGIN_DIR.parent


def scripts_dir(
    system: str | None = None, env: dict | None = None, home: str | PurePath | None = None
) -> PurePath:
    """Per-user `.../Fusion/Scripts/Edit` (Edit: the script shows on the Edit page's menu).

    Paths from Resolve's scripting README 21.1 (nle-integration.md, section 1.1); the
    README's older doubled "Roaming" on Windows is a typo fixed in 21.1.
    """
    system = system or platform.system()
    env = os.environ if env is None else env
    if system == "Windows":
        home = PureWindowsPath(str(home)) if home is not None else PureWindowsPath(Path.home())
        appdata = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        return PureWindowsPath(
            appdata, "Blackmagic Design", "DaVinci Resolve", "Support", "Fusion", "Scripts", "Edit"
        )
    home = Path(home) if home is not None else Path.home()
    if system == "Darwin":
        return (
            home / "Library" / "Application Support" / "Blackmagic Design" / "DaVinci Resolve"
            / "Fusion" / "Scripts" / "Edit"
        )  # fmt: skip
    return home / ".local" / "share" / "DaVinciResolve" / "Fusion" / "Scripts" / "Edit"


def menu_script_text(config_file: PurePath) -> str:
    """The menu script with the config path baked in."""
    text = (PLUGIN_DIR / MENU_SCRIPT).read_text(encoding="utf-8")
    marker = "EMSYNC_CONFIG = None"
    if marker not in text:
        raise RuntimeError(f"{MENU_SCRIPT} lacks the line '{marker}'")
    return text.replace(marker, f"EMSYNC_CONFIG = {str(config_file)!r}", 1)


def config_data(python: str, repo: Path = REPO_DIR, old: dict | None = None) -> dict:
    data = dict(old or {})  # keep saved dialog defaults across reinstalls
    data.update({"python": python, "repo": str(repo)})
    return data


def venv_python() -> str:
    """The interpreter running this command: the venv's when run as .venv/bin/emsync."""
    return sys.executable


def install(target: PurePath, config_file: PurePath, python: str, dry_run: bool) -> list[str]:
    """Install (or refresh) the menu script and config; the lines saying what was done.

    Pure paths so a dry run can show another OS's paths; they become real ones only to write.
    """
    verb = "would write" if dry_run else "wrote"
    script = target / MENU_SCRIPT
    done = [f"{verb} menu script {script}", f"{verb} config {config_file} (python: {python})"]
    if not dry_run:
        config = config_data(python, old=bridge.load_config(Path(config_file)))
        Path(target).mkdir(parents=True, exist_ok=True)
        Path(script).write_text(menu_script_text(config_file), encoding="utf-8")
        Path(config_file).parent.mkdir(parents=True, exist_ok=True)
        Path(config_file).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return done


def uninstall(target: PurePath, config_file: PurePath, dry_run: bool) -> list[str]:
    verb = "would remove" if dry_run else "removed"
    done = []
    for path in (target / MENU_SCRIPT, config_file):
        if Path(path).exists():
            if not dry_run:
                Path(path).unlink()
            done.append(f"{verb} {path}")
        else:
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
    config_file = bridge.config_path(system)
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
    for line in lines:
        print(line)
    if not args.uninstall:
        print(
            "Next: restart DaVinci Resolve, open a timeline on the Edit page and choose "
            "Workspace > Scripts > Generate Score. (Resolve Free 21.1+ lists no Python scripts: "
            "use 'emsync score' and File > Import > Timeline instead, see docs/editors.md.)"
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m resolve_plugin.install")
    configure_parser(parser)
    sys.exit(run(parser.parse_args()))
