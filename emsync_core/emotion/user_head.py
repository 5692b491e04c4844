"""Where a head fitted by `emsync train-emotion` lives, and loading it at run time.

`emsync score` and `emsync analyze` use the user's fitted head when there is one. This module
is the run-time side of that contract; the fitting command (`train_emotion.py`) writes to the
same path, so run-time code never imports the command module.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import EmsyncError
from .classify import EmotionHead

HEAD_ENV = "EMSYNC_EMOTION_HEAD"


def user_head_path() -> Path:
    """Where a fitted head lives: $EMSYNC_EMOTION_HEAD, else the per-user config folder."""
    if os.environ.get(HEAD_ENV):
        return Path(os.environ[HEAD_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "emsync" / "emotion_head.json"


def load_user_head() -> EmotionHead | None:
    """The user's fitted head if there is one, else None (the default head is used)."""
    path = user_head_path()
    if not path.is_file():
        return None
    try:
        return EmotionHead.from_json(path)
    except (OSError, ValueError, KeyError) as exc:
        raise EmsyncError(
            f"The fitted emotion weights '{path}' cannot be used ({exc}). Run "
            "`emsync train-emotion FOLDER` again, or delete the file to use the defaults."
        ) from None
