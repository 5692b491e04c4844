"""User-facing errors.

Every error a user can fix (bad input, missing file, existing output) is an `EmsyncError`.
The CLI prints its message as one paragraph and exits with code 2; anything else is a bug
and exits with code 1.
"""


class EmsyncError(Exception):
    """A problem with the user's input or environment, with a message that says how to fix it."""


class TimelineError(EmsyncError):
    """A timeline file is missing, unreadable, unsupported or empty."""


class EmotionSpecError(EmsyncError):
    """An `--emotion` value, a per-scene JSON file or a marker cannot be understood."""


class OutputError(EmsyncError):
    """The output folder exists (without --force) or cannot be written."""


class RenderError(EmsyncError):
    """FluidSynth or the SoundFont is missing or unusable."""


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived: raised from the signal handler so that every `finally` and
    context manager cleans up on the way out, like KeyboardInterrupt does for Ctrl-C.

    A BaseException, so that `except Exception` around a stage cannot swallow it."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
