"""EMSYNC: Generate Score - DaVinci Resolve menu script (Workspace > Scripts > Generate Score).

Scores the current timeline and puts the music on an "EMSYNC Score" audio track. This file
only finds bridge.py and hands it Resolve's objects; it needs nothing beyond the standard
library, because it runs in Resolve's own Python. Installed by `emsync install-resolve`.
It must still parse on old interpreters (Resolve 18 also runs Python 2.7 and 3.6), so that
it can say which Python it needs instead of failing with a syntax error.
"""

from __future__ import print_function  # noqa: UP010 - parse on Python 2.7 to say so

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
        with open(config_file) as handle:
            repo = json.load(handle).get("repo")
        if repo:
            candidates.append(os.path.join(repo, "resolve_plugin"))
    except (IOError, OSError, TypeError, ValueError, AttributeError):  # noqa: UP024 - 2.7
        pass
    here = globals().get("__file__")  # Resolve may not define it; fine when run from the repo
    if here:
        candidates.append(os.path.dirname(os.path.abspath(here)))
    for folder in candidates:
        if os.path.isfile(os.path.join(folder, "bridge.py")):
            return folder
    return None


def _resolve_objects():
    """Resolve's objects: the injected `resolve` global inside the app; else the ones the
    other globals give (`bmd.scriptapp`, Fusion's `app.GetResolve()`); else scriptapp() from
    DaVinciResolveScript (external runs, Studio only)."""
    g = globals()
    app = g.get("resolve")
    bmd = g.get("bmd")
    if app is None and bmd is not None:
        try:
            app = bmd.scriptapp("Resolve")
        except Exception:  # noqa: BLE001 - any failure means "try the next way"
            app = None
    if app is None and g.get("app") is not None:
        try:
            app = g["app"].GetResolve()
        except Exception:  # noqa: BLE001
            app = None
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
    return app, fu, bmd


def run():
    if sys.version_info < (3, 7):  # noqa: UP036 - Resolve runs this with its own Python
        print(
            "EMSYNC: Generate Score needs Python 3.7 or later, but Resolve runs it with Python "
            + sys.version.split()[0]
            + ". Install Python 3 (python.org) and restart Resolve; on macOS see "
            "'emsync install-resolve' for PYTHON3HOME.",
            file=sys.stderr,
        )
        return 2
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
