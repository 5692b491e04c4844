"""EMSYNC: Generate Score - DaVinci Resolve menu script (Workspace > Scripts > Generate Score).

Scores the current timeline and puts the music on an "EMSYNC Score" audio track. This file
only finds bridge.py and hands it Resolve's objects; it needs nothing beyond the standard
library, because it runs in Resolve's own Python. Installed by `emsync install-resolve`.
"""

import json
import os
import sys

# `emsync install-resolve` replaces None with the path of the config it wrote.
EMSYNC_CONFIG = None


def _config_file():
    if os.environ.get("EMSYNC_CONFIG"):
        return os.environ["EMSYNC_CONFIG"]
    return EMSYNC_CONFIG


def _plugin_dir(config_file):
    """resolve_plugin/ of the EMSYNC checkout: from the config, else beside this file."""
    candidates = []
    try:
        with open(config_file, encoding="utf-8") as handle:
            repo = json.load(handle).get("repo")
        if repo:
            candidates.append(os.path.join(repo, "resolve_plugin"))
    except (OSError, TypeError, ValueError, AttributeError):
        pass
    here = globals().get("__file__")  # Resolve may not define it; fine when run from the repo
    if here:
        candidates.append(os.path.dirname(os.path.abspath(here)))
    for folder in candidates:
        if os.path.isfile(os.path.join(folder, "bridge.py")):
            return folder
    return None


def _resolve_objects():
    """Resolve's injected globals inside the app; scriptapp() when run from outside."""
    g = globals()
    app = g.get("resolve")
    if app is None:
        try:
            import DaVinciResolveScript as dvr

            app = dvr.scriptapp("Resolve")
        except ImportError:
            app = None
    fu = g.get("fusion")
    if fu is None and app is not None:
        try:
            fu = app.Fusion()
        except Exception:  # noqa: BLE001 - any failure just means "no dialog"
            fu = None
    return app, fu, g.get("bmd")


def run():
    config_file = _config_file()
    folder = _plugin_dir(config_file)
    if folder is None:
        print(
            "EMSYNC: cannot find bridge.py. Run '.venv/bin/emsync install-resolve' in the "
            "EMSYNC folder, then restart Resolve.",
            file=sys.stderr,
        )
        return 2
    if folder not in sys.path:
        sys.path.insert(0, folder)
    for name in ("bridge", "dialog"):  # pick up an updated checkout without restarting Resolve
        sys.modules.pop(name, None)
    import bridge

    app, fu, bmd_module = _resolve_objects()
    return bridge.main(app, fu, bmd_module, config_file)


EXIT_CODE = run()
