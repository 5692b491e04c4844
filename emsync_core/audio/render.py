"""Render a `pretty_midi.PrettyMIDI` score to stereo audio with FluidSynth, offline.

The mix is one synth with the SoundFont loaded once and every instrument on its own MIDI
channel (stems: one fresh synth per stem, see `render_stems`). Events are sent between
`fluid_synth_write_float` calls that write straight into the output buffer: one pass, no audio
driver, no per-instrument synths (`PrettyMIDI.fluidsynth()` builds a synth and reloads the
SoundFont for every instrument, and returns mono).

Timing: FluidSynth applies events at the start of its next internal block (64 samples, 1.33 ms at
48 kHz; sub-block timing is not possible through its API). Each event is therefore sent at the
block boundary nearest to round(t * sample_rate), so an onset lands within half a block
(+-32 samples, 0.67 ms at 48 kHz) of its exact sample, and exactly on it when the time is a
multiple of the block (t = 1.0 s is sample 48000 = 750 blocks).

Output is 32-bit float, not the 16-bit `Synth.get_samples()`: 16-bit output clips at full scale
and carries dither noise that loudness normalisation would then raise; mastering wants headroom.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import pretty_midi

from emsync_core.errors import RenderError

log = logging.getLogger(__name__)

DEFAULT_SOUNDFONT: Path = Path(__file__).resolve().parents[2] / "soundfonts" / "FluidR3Mono_GM.sf3"
SOUNDFONT_ENV = "EMSYNC_SOUNDFONT"
SOUNDFONT_SUFFIXES = (".sf2", ".sf3")

RELEASE_TAIL_S = 2.0  # after the last MIDI event, so release and reverb can ring out
DRUM_CHANNEL = 9  # General MIDI channel 10
MIDI_CHANNELS = 16
MELODIC_CHANNELS = tuple(c for c in range(MIDI_CHANNELS) if c != DRUM_CHANNEL)
DRUM_BANK = 128

# Synth settings. The gain leaves headroom for dense scores (the float output never clips and
# mastering sets the final level). Reverb is a medium hall; chorus is available at a moderate
# level but, as in General MIDI, only where the score asks for it (CC93).
SYNTH_SETTINGS: dict[str, int | float] = {
    "synth.gain": 0.2,
    "synth.polyphony": 512,
    "synth.cpu-cores": 1,  # deterministic mixing order; the caller owns the other core
    "synth.threadsafe-api": 0,  # one thread drives the synth, so skip the per-call mutex
    # Samples are decoded when a preset is first selected: an .sf3 loads in ~0.01 s instead of
    # ~1 s, and only the presets the score uses are decoded (20-70 ms each).
    "synth.dynamic-sample-loading": 1,
    "synth.reverb.active": 1,
    "synth.reverb.room-size": 0.6,
    "synth.reverb.damp": 0.4,
    "synth.reverb.width": 0.8,
    "synth.reverb.level": 0.7,
    "synth.chorus.active": 1,
    "synth.chorus.nr": 3,
    "synth.chorus.level": 1.2,
    "synth.chorus.speed": 0.3,
    "synth.chorus.depth": 8.0,
}

# State every channel starts from, in the mix and in every stem alike, so that a stem sounds
# exactly as its part in the mix. Reverb send 40 is the General MIDI 2 default; FluidSynth's
# own default of 0 renders completely dry.
CC_DATA_MSB, CC_VOLUME, CC_PAN, CC_EXPRESSION = 6, 7, 10, 11
CC_DATA_LSB, CC_SUSTAIN, CC_REVERB, CC_CHORUS = 38, 64, 91, 93
CC_RPN_LSB, CC_RPN_MSB, CC_RESET_ALL = 100, 101, 121
DEFAULT_REVERB_SEND = 40
CHANNEL_PREAMBLE: tuple[tuple[int, int], ...] = (
    (CC_RESET_ALL, 0),  # pitch bend, modulation, expression, sustain, ...
    # Pitch-bend range 2 semitones (RPN 0), then the null RPN so later data entry is inert.
    (CC_RPN_MSB, 0),
    (CC_RPN_LSB, 0),
    (CC_DATA_MSB, 2),
    (CC_DATA_LSB, 0),
    (CC_RPN_MSB, 127),
    (CC_RPN_LSB, 127),
    (CC_VOLUME, 100),
    (CC_PAN, 64),
    (CC_EXPRESSION, 127),
    (CC_SUSTAIN, 0),
    (CC_REVERB, DEFAULT_REVERB_SEND),
    (CC_CHORUS, 0),
)

# Order of events that fall on the same sample: release old notes first (a repeated pitch then
# retriggers cleanly), then controllers and bends, so a new note starts with its new settings.
_NOTE_OFF, _CONTROL, _PITCH_BEND, _NOTE_ON = 0, 1, 2, 3

_INSTALL_HINT = (
    "Install the FluidSynth library with "
    "`sudo apt-get install --no-install-recommends libfluidsynth3` (Debian/Ubuntu; "
    "`brew install fluid-synth` on macOS)"
)


class Event(NamedTuple):
    """One MIDI message at an exact sample; tuples sort into the order FluidSynth needs."""

    sample: int
    order: int
    channel: int
    a: int  # key, controller number or pitch-bend value
    b: int = 0  # velocity or controller value


@dataclass(frozen=True)
class ChannelSetup:
    """Where and with which preset one pretty_midi instrument plays."""

    channel: int
    bank: int
    program: int


# --------------------------------------------------------------------------------------------
# Public API


def resolve_soundfont(soundfont: Path | str | None = None) -> Path:
    """The SoundFont to use: the argument, else $EMSYNC_SOUNDFONT, else the bundled one.

    Checks existence, extension and RIFF/sfbk header, so a bad path fails with a clear message
    before FluidSynth prints its own errors.
    """
    if soundfont is None:
        env = os.environ.get(SOUNDFONT_ENV, "").strip()
        soundfont = env or DEFAULT_SOUNDFONT
    path = Path(soundfont).expanduser()
    if not path.is_file():
        raise RenderError(
            f"SoundFont not found: {path}. Pass an existing .sf2 or .sf3 file with --soundfont "
            f"PATH (or set {SOUNDFONT_ENV}), or restore the bundled {DEFAULT_SOUNDFONT.name} "
            f"in {DEFAULT_SOUNDFONT.parent}."
        )
    if path.suffix.lower() not in SOUNDFONT_SUFFIXES:
        raise RenderError(
            f"{path} is not a SoundFont: the file name must end in .sf2 or .sf3. Pass a "
            f"SoundFont with --soundfont PATH (or set {SOUNDFONT_ENV})."
        )
    if not _has_soundfont_header(path):
        raise RenderError(
            f"{path} is not a valid SoundFont (it does not start with a RIFF 'sfbk' header, "
            "so it is damaged or another format renamed). Pass a working .sf2 or .sf3 file "
            f"with --soundfont PATH (or set {SOUNDFONT_ENV})."
        )
    return path


def render(
    midi: pretty_midi.PrettyMIDI,
    soundfont: Path | None = None,
    sample_rate: int = 48000,
    n_samples: int | None = None,
) -> np.ndarray:
    """Render `midi` to float32 stereo, shape (n, 2).

    `n` is `n_samples` when given (the score is cut or padded with silence), else the end of
    the MIDI plus a 2 s release tail. Raises `RenderError` when FluidSynth or the SoundFont is
    missing or unusable, or when the score has more instruments than MIDI has channels.
    """
    setups = assign_channels(midi.instruments)
    n = _output_length(midi, sample_rate, n_samples)
    events = score_events(midi, setups, sample_rate)
    with _Engine(resolve_soundfont(soundfont), sample_rate) as engine:
        engine.select_programs(setups)
        return engine.render(events, [s.channel for s in setups], n)


def render_chunks(
    midi: pretty_midi.PrettyMIDI,
    soundfont: Path | None = None,
    sample_rate: int = 48000,
    n_samples: int | None = None,
    chunk: int = 98304,
) -> Iterator[tuple[int, np.ndarray]]:
    """`render` a chunk at a time (one synth for the whole score): (first sample, float32
    (m, 2)) for consecutive chunks of `chunk` samples, a multiple of 64."""
    setups = assign_channels(midi.instruments)
    n = _output_length(midi, sample_rate, n_samples)
    events = score_events(midi, setups, sample_rate)
    with _Engine(resolve_soundfont(soundfont), sample_rate) as engine:
        engine.select_programs(setups)
        yield from engine.stream(events, [s.channel for s in setups], n, chunk)


def render_stems(
    midi: pretty_midi.PrettyMIDI,
    soundfont: Path | None = None,
    sample_rate: int = 48000,
    n_samples: int | None = None,
    group: Callable[[pretty_midi.Instrument], str] | None = None,
    on_stem: Callable[[str, int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Render each stem alone: {stem name: float32 (n, 2)}, all of the same length.

    A stem is one instrument (named by `stem_names`), or, with `group`, all instruments that
    share `group(instrument)` (e.g. every program of the "strings" layer). Channels, presets
    and starting controllers are those `render` uses, and each stem starts from a fresh synth
    exactly as the mix does, so the stems add up to the mix (to about -60 dB RMS, reverb
    included): callers that need both can sum the stems instead of rendering twice.
    `on_stem(name, index, total)` is called before each stem, for progress display.

    Why a synth per stem rather than one synth reset between stems: FluidSynth cannot be put
    back into its initial state. `system_reset` leaves the reverb tail ringing and the reverb's
    modulation phase keeps running, so reused-synth stems only correlate ~0.98 with the mix.
    A fresh synth costs ~10 ms (the SoundFont header; with dynamic sample loading only the
    stem's own presets are decoded), so in total this is no slower than one shared synth.
    """
    setups = assign_channels(midi.instruments)
    n = _output_length(midi, sample_rate, n_samples)
    path = resolve_soundfont(soundfont)
    members = _stem_members(midi, group)
    stems: dict[str, np.ndarray] = {}
    for number, (name, indices) in enumerate(members.items()):
        if on_stem is not None:
            on_stem(name, number, len(members))
        chosen = [setups[i] for i in indices]
        events = sorted(
            event
            for i in indices
            for event in _instrument_event_iter(midi.instruments[i], setups[i].channel, sample_rate)
        )
        with _Engine(path, sample_rate) as engine:
            engine.select_programs(chosen)
            stems[name] = engine.render(events, [s.channel for s in chosen], n)
    return stems


def _stem_members(
    midi: pretty_midi.PrettyMIDI, group: Callable[[pretty_midi.Instrument], str] | None
) -> dict[str, list[int]]:
    """{stem name: indices of its instruments}, in the order stems first appear."""
    if group is None:
        names = stem_names(midi.instruments)
    else:
        names = [stem_name(group(inst)) for inst in midi.instruments]
    members: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        members.setdefault(name, []).append(index)
    return members


def stem_chunks(
    midi: pretty_midi.PrettyMIDI,
    soundfont: Path | None = None,
    sample_rate: int = 48000,
    n_samples: int | None = None,
    group: Callable[[pretty_midi.Instrument], str] | None = None,
    chunk: int = 98304,
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """`render_stems` in flat memory: every stem's synth advances together, yielding
    (first sample, {stem name: float32 (m, 2)}) for consecutive chunks of `chunk` samples
    (a multiple of 64). The samples are exactly those `render_stems` returns."""
    setups = assign_channels(midi.instruments)
    n = _output_length(midi, sample_rate, n_samples)
    path = resolve_soundfont(soundfont)
    members = _stem_members(midi, group)
    engines: list[_Engine] = []
    try:
        streams = {}
        for name, indices in members.items():
            chosen = [setups[i] for i in indices]
            events = sorted(
                event
                for i in indices
                for event in _instrument_event_iter(
                    midi.instruments[i], setups[i].channel, sample_rate
                )
            )
            engine = _Engine(path, sample_rate)
            engines.append(engine)
            engine.select_programs(chosen)
            streams[name] = engine.stream(events, [s.channel for s in chosen], n, chunk)
        for begin in range(0, n, chunk):
            yield begin, {name: next(stream)[1] for name, stream in streams.items()}
    finally:
        for engine in engines:
            engine.close()


def assign_channels(instruments: list[pretty_midi.Instrument]) -> list[ChannelSetup]:
    """A MIDI channel, bank and program for each instrument, in order.

    Melodic instruments take channels 0-15 except 9; the first drum kit takes 9 (bank 128)
    and further kits take the remaining free channels.
    """
    melodic = [i for i in instruments if not i.is_drum]
    if len(melodic) > len(MELODIC_CHANNELS):
        raise RenderError(
            f"The score has {len(melodic)} non-drum instruments, but FluidSynth can play at "
            f"most {len(MELODIC_CHANNELS)} (16 MIDI channels, one reserved for drums). Merge "
            "instruments that share a program into one before rendering."
        )
    free = list(MELODIC_CHANNELS[len(melodic) :])
    melodic_channels = iter(MELODIC_CHANNELS)
    drum_channel_used = False
    setups = []
    for inst in instruments:
        program = min(max(int(inst.program), 0), 127)
        if not inst.is_drum:
            setups.append(ChannelSetup(next(melodic_channels), 0, program))
            continue
        if not drum_channel_used:
            drum_channel_used = True
            setups.append(ChannelSetup(DRUM_CHANNEL, DRUM_BANK, program))
        elif free:
            setups.append(ChannelSetup(free.pop(0), DRUM_BANK, program))
        else:
            raise RenderError(
                f"The score has {len(instruments)} instruments, but FluidSynth can play at most "
                f"{MIDI_CHANNELS} at once (one per MIDI channel). Merge the drum parts into one "
                "drum instrument before rendering."
            )
    return setups


def stem_name(label: str) -> str:
    """The file-name-safe stem name for a group label (see `render_stems`' `group`)."""
    return _slug(label) or "instrument"


def stem_names(instruments: list[pretty_midi.Instrument]) -> list[str]:
    """Unique, filename-safe, lower-case names: 'piano', 'strings', 'drums', 'piano_2', ...

    Lower case because macOS and Windows file systems treat 'Piano' and 'piano' as one file.
    """
    names: list[str] = []
    used: set[str] = set()
    for inst in instruments:
        base = _slug(inst.name) or _slug(_default_name(inst)) or "instrument"
        name, k = base, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        names.append(name)
    return names


def score_events(
    midi: pretty_midi.PrettyMIDI, setups: list[ChannelSetup], sample_rate: int
) -> list[Event]:
    """All instruments' events, merged and sorted into the order FluidSynth must get them."""
    events = [
        event
        for inst, setup in zip(midi.instruments, setups, strict=True)
        for event in _instrument_event_iter(inst, setup.channel, sample_rate)
    ]
    events.sort()
    return events


# --------------------------------------------------------------------------------------------
# Events


def _to_sample(t: float, sample_rate: int) -> int:
    # Half-up rounding (Python's round() is half-to-even); events before 0 play at 0.
    return max(0, math.floor(t * sample_rate + 0.5))


def _instrument_event_iter(
    inst: pretty_midi.Instrument, channel: int, sample_rate: int
) -> Iterator[Event]:
    for note in inst.notes:
        if not 0 <= note.pitch <= 127 or note.velocity <= 0:
            continue  # velocity 0 would be a note-off in MIDI; nothing to play
        velocity = min(int(note.velocity), 127)
        start = _to_sample(note.start, sample_rate)
        end = max(_to_sample(note.end, sample_rate), start)
        yield Event(start, _NOTE_ON, channel, int(note.pitch), velocity)
        yield Event(end, _NOTE_OFF, channel, int(note.pitch))
    for cc in inst.control_changes:
        if 0 <= cc.number <= 127:
            value = min(max(int(cc.value), 0), 127)
            yield Event(_to_sample(cc.time, sample_rate), _CONTROL, channel, cc.number, value)
    for bend in inst.pitch_bends:
        value = min(max(int(bend.pitch), -8192), 8191)
        yield Event(_to_sample(bend.time, sample_rate), _PITCH_BEND, channel, value)


def _output_length(midi: pretty_midi.PrettyMIDI, sample_rate: int, n_samples: int | None) -> int:
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if n_samples is not None:
        if n_samples < 0:
            raise ValueError(f"n_samples must be >= 0, got {n_samples}")
        return int(n_samples)
    return _to_sample(midi.get_end_time() + RELEASE_TAIL_S, sample_rate)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:48].strip("_")
    # Windows refuses these as file names whatever the extension.
    if re.fullmatch(r"con|prn|aux|nul|com\d|lpt\d", slug):
        slug += "_stem"
    return slug


def _default_name(inst: pretty_midi.Instrument) -> str:
    if inst.is_drum:
        return "drums"
    return pretty_midi.program_to_instrument_name(min(max(int(inst.program), 0), 127))


def _has_soundfont_header(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[:4] == b"RIFF" and head[8:12] == b"sfbk"


# --------------------------------------------------------------------------------------------
# FluidSynth


def _import_fluidsynth() -> ModuleType:
    """Import pyfluidsynth lazily: it loads libfluidsynth at import time and fails there."""
    try:
        import fluidsynth
    except ModuleNotFoundError as exc:
        if exc.name != "fluidsynth":
            raise
        raise RenderError(
            "The Python package pyfluidsynth is not installed, so the score cannot be rendered. "
            "Install it in this environment with `pip install pyfluidsynth==1.4.0`, and make "
            f"sure the FluidSynth library is present too. {_INSTALL_HINT}."
        ) from exc
    except (ImportError, OSError) as exc:
        raise RenderError(
            f"The FluidSynth library (libfluidsynth) could not be loaded ({exc}), so the score "
            f"cannot be rendered. {_INSTALL_HINT}, then run the command again; use --no-render "
            "to write the MIDI file only."
        ) from exc
    _route_fluidsynth_log(fluidsynth)
    return fluidsynth


@contextlib.contextmanager
def _c_stderr_to_log() -> Iterator[None]:
    """Catch what C libraries print straight to file descriptor 2 while loading a SoundFont
    (libinstpatch's GLib "CRITICAL **" assertions on damaged files) and log it at debug
    level: the user gets our RenderError, which says what to do, not the library's noise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield  # no real descriptor 2 (an embedding host): nothing to catch
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            caught = sink.read().decode("utf-8", "replace").strip()
            if caught:
                log.debug("FluidSynth/libinstpatch printed: %s", caught)


_LOG_CALLBACK_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_log_callback: Any = None  # kept alive for as long as FluidSynth may call it
_recent_errors: list[str] = []


def _route_fluidsynth_log(fluidsynth: ModuleType) -> None:
    """Send FluidSynth's messages to Python logging instead of stderr, keeping recent errors
    so they can go into a RenderError."""
    global _log_callback
    if _log_callback is not None:
        return

    def forward(level: int, message: bytes | None, _data: object) -> None:
        text = (message or b"").decode("utf-8", "replace")
        if level <= 1:
            _recent_errors.append(text)
            del _recent_errors[:-5]
        # Debug only: what matters reaches the user as a RenderError or our own warning.
        log.debug("fluidsynth: %s", text)

    if not hasattr(fluidsynth._fl, "fluid_set_log_function"):
        return
    # Our own prototype: pyfluidsynth's shared function objects stay untouched.
    setter = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int, _LOG_CALLBACK_TYPE, ctypes.c_void_p)(
        ("fluid_set_log_function", fluidsynth._fl)
    )
    _log_callback = _LOG_CALLBACK_TYPE(forward)
    for level in range(5):  # FLUID_PANIC .. FLUID_DBG
        setter(level, _log_callback, None)


_WRITE_FLOAT_TYPE = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_void_p,  # synth
    ctypes.c_int,  # len
    ctypes.c_void_p,  # lout
    ctypes.c_int,  # loff
    ctypes.c_int,  # lincr
    ctypes.c_void_p,  # rout
    ctypes.c_int,  # roff
    ctypes.c_int,  # rincr
)


class _Engine:
    """One FluidSynth synth with the SoundFont loaded, writing float32 stereo into numpy.

    Tracks how many samples the synth has produced, because FluidSynth's block grid is fixed
    from its creation: an event sent after sample `pos` takes effect at the next multiple of
    the block size.
    """

    def __init__(self, soundfont: Path, sample_rate: int) -> None:
        fs = _import_fluidsynth()
        self.soundfont = soundfont
        self.synth = fs.Synth(samplerate=sample_rate, channels=MIDI_CHANNELS, **SYNTH_SETTINGS)
        self._write = _WRITE_FLOAT_TYPE(("fluid_synth_write_float", fs._fl))
        if hasattr(fs._fl, "fluid_synth_get_internal_bufsize"):
            bufsize = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(
                ("fluid_synth_get_internal_bufsize", fs._fl)
            )
            self.block = int(bufsize(self.synth.synth))
        else:
            self.block = 64  # FLUID_BUFSIZE in every FluidSynth 2.x build
        self.pos = 0
        self.sample_rate = sample_rate
        del _recent_errors[:]
        with _c_stderr_to_log():
            self.sfid = self.synth.sfload(str(soundfont))
        if self.sfid < 0:
            detail = _recent_errors[0] if _recent_errors else "FluidSynth gave no reason"
            self.close()
            raise RenderError(
                f"FluidSynth could not load the SoundFont {soundfont} ({detail}). The file is "
                "damaged or not a SoundFont 2/3; pass a working .sf2 or .sf3 file with "
                f"--soundfont PATH (or set {SOUNDFONT_ENV})."
            )

    def __enter__(self) -> _Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.synth is not None:
            self.synth.delete()
            self.synth = None

    def select_programs(self, setups: list[ChannelSetup]) -> None:
        """Select each instrument's preset on its channel (this decodes its samples)."""
        with _c_stderr_to_log():
            for setup in setups:
                self._select(setup)

    def _select(self, setup: ChannelSetup) -> None:
        for bank, program in ((setup.bank, setup.program), (setup.bank, 0)):
            if self.synth.program_select(setup.channel, self.sfid, bank, program) == 0:
                if (bank, program) != (setup.bank, setup.program):
                    log.warning(
                        "SoundFont %s has no preset bank %d program %d; using program %d",
                        self.soundfont.name,
                        setup.bank,
                        setup.program,
                        program,
                    )
                return
        raise RenderError(
            f"The SoundFont {self.soundfont} has no preset for bank {setup.bank} program "
            f"{setup.program} (nor program 0 of that bank). Use a General MIDI SoundFont "
            "with --soundfont PATH."
        )

    def render(self, events: list[Event], channels: list[int], n: int) -> np.ndarray:
        """Play `events` (sorted) into a new (n, 2) float32 buffer; events at or after
        sample n are dropped."""
        out = np.zeros((n, 2), dtype=np.float32)
        whole = max(1, -(-n // self.block)) * self.block  # one chunk: the whole output
        for begin, chunk in self.stream(events, channels, n, whole):
            out[begin : begin + len(chunk)] = chunk
        return out

    def stream(
        self, events: list[Event], channels: list[int], n: int, chunk: int
    ) -> Iterator[tuple[int, np.ndarray]]:
        """`render` a chunk at a time: (first sample, float32 (m, 2)) for consecutive chunks
        of `chunk` samples (a multiple of the synth block; the last may be shorter). The
        samples are the same as one `render` call gives, whatever the chunk size."""
        if chunk % self.block:
            raise ValueError(f"chunk must be a multiple of {self.block} samples, got {chunk}")
        # Sample 0 of the output must sit on FluidSynth's block grid for the timing to hold.
        self._align(np.empty((self.block, 2), dtype=np.float32))
        start = self.pos
        for channel in channels:
            for number, value in CHANNEL_PREAMBLE:
                self.synth.cc(channel, number, value)
        pending = iter(events)
        event = next(pending, None)
        for begin in range(0, n, chunk):
            end = min(begin + chunk, n)
            out = np.zeros((end - begin, 2), dtype=np.float32)
            written = begin
            while event is not None:
                # The synth block boundary nearest to the event's exact sample.
                at = (event.sample + self.block // 2) // self.block * self.block
                if at >= end:
                    break
                if at > written:
                    self._write_into(out, written - begin, at - begin)
                    written = at
                self._send(event)
                event = next(pending, None)
            self._write_into(out, written - begin, end - begin)
            yield begin, out
        assert self.pos - start == n

    def _send(self, event: Event) -> None:
        s = self.synth
        if event.order == _NOTE_ON:
            s.noteon(event.channel, event.a, event.b)
        elif event.order == _NOTE_OFF:
            s.noteoff(event.channel, event.a)
        elif event.order == _CONTROL:
            s.cc(event.channel, event.a, event.b)
        else:
            s.pitch_bend(event.channel, event.a)

    def _align(self, scratch: np.ndarray) -> None:
        rest = -self.pos % self.block
        if rest:
            self._write_into(scratch, 0, rest)

    def _write_into(self, out: np.ndarray, begin: int, end: int) -> None:
        if end <= begin:
            return
        assert out.dtype == np.float32 and out.flags.c_contiguous and out.shape[1] == 2
        address = out.ctypes.data + begin * out.strides[0]
        status = self._write(self.synth.synth, end - begin, address, 0, 2, address, 1, 2)
        if status != 0:
            raise RenderError(
                "FluidSynth failed while rendering audio (fluid_synth_write_float returned "
                f"{status}). Try again; if it persists, reinstall libfluidsynth3."
            )
        self.pos += end - begin
