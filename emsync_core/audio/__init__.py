"""Audio: `render` (FluidSynth, SoundFont) turns a score into audio, `master` makes it a
deliverable (exact length, fades, loudness, true peak, atomic WAV).

Import from the submodules (`from emsync_core.audio.render import render`): re-exporting
`render` here would shadow the `render` module itself.
"""
