"""EMSYNC: scores a film edit with music that follows its moods and changes chord on every cut."""

import contextlib
import io

__version__ = "0.1.0"

# pyfluidsynth prints "'fluidsynth' was found at ..." to stdout on import whenever the CI
# environment variable is set, and pretty_midi imports it. That line would corrupt machine-
# readable output such as `emsync cuts --json`, so the first import happens here, silenced.
# A failed import is not cached, so the renderer still reports a missing libfluidsynth itself.
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(ImportError, OSError):
    import fluidsynth  # noqa: F401
