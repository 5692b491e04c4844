"""What the core (CLI, pipeline, timeline writers) and the Resolve plugin share: defaults of
`emsync score`, the engine and emotion names, the score track's name, and where the plugin's
config lives.

This is the one place to change any of them. It is standard library only and imports nothing
from EMSYNC, for two reasons: the CLI builds its parser from it without importing the pipeline
(which takes seconds), and the Resolve plugin (resolve_plugin/bridge.py) runs inside Resolve's
own Python, where this package is not installed, and loads this very file by its path in the
checkout. Keep it that way: no third-party imports, no package-relative imports, Python 3.7
syntax (Resolve 18-21.0 run whatever Python 3 the user has).
"""

import os
from pathlib import Path, PurePath, PureWindowsPath

ENGINES = ("transformer", "arranger")  # the EMSYNC model (experimental); the rule-based one
# The default engine, chosen by the music-quality harness's rule (docs/music-eval.md): the
# transformer still writes degenerate scores on realistic edits, the arranger does not.
ENGINE = "arranger"

EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise")  # Ekman's six
SCORE_TRACK = "EMSYNC Score"  # the audio track (and clip) that holds the score


def config_path(system=None, env=None, home=None) -> PurePath:
    """The Resolve plugin's per-user config file, which `emsync install-resolve` writes and
    the plugin reads (EMSYNC_CONFIG overrides). Pure paths, so another OS's can be shown."""
    env = os.environ if env is None else env
    if env.get("EMSYNC_CONFIG"):
        return Path(env["EMSYNC_CONFIG"])
    if system is None:
        import platform

        system = platform.system()
    if system == "Windows":
        home = PureWindowsPath(str(home)) if home is not None else PureWindowsPath(Path.home())
        base = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        return PureWindowsPath(base, "EMSYNC", "config.json")
    home = Path(home) if home is not None else Path.home()
    if system == "Darwin":
        return home / "Library" / "Application Support" / "EMSYNC" / "config.json"
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return base / "emsync" / "config.json"
