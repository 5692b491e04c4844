"""Defaults of `emsync score` that the CLI and `pipeline.ScoreOptions` share.

A module of its own so the CLI can build its parser without importing the pipeline (which
takes seconds to import). The Resolve plugin runs inside Resolve without this package and
repeats ENGINE; a test keeps them equal.
"""

ENGINE = "transformer"  # or "arranger": instant, for drafts
GUIDANCE = 3.0  # transformer: classifier-free guidance on the mood (1 = off)
KEY_BIAS = 4.0  # transformer: lean to each scene's planned key, nats (0 = off)
PACE_BIAS = 2.0  # transformer: tilt time shifts by arousal, nats per doubling (0 = off)
