"""The visible picture of a timeline as a list of spans, from which cuts and scenes follow.

Rules (docs/timeline-rules.md, "What counts as a cut"):
- the visible picture at a frame is the topmost enabled video track with a non-gap item there;
- nested stacks and tracks count by what they show: the nested composition is trimmed to the
  item's source range, padded with gap to the item's duration, and audio inside is ignored;
- adjacent spans of the same media with continuous source time (through edits) are one span;
- a transition puts the cut at its edit point (OTIO items abut there; the transition overlaps).

`flatten_stack` from OTIO is not used because it does not descend into nested stacks and
works on whole items, while we need frame-accurate, rate-converted spans.

All positions are integer frames at the timeline rate.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction

import opentimelineio as otio

from emsync_core.timeline.edit import Transition
from emsync_core.timeline.timebase import frames_exact, to_frames, to_seconds

VIDEO = otio.schema.TrackKind.Video
AUDIO = otio.schema.TrackKind.Audio
# An EDL comment naming the event's media file (Avid, Resolve); the adapter keeps it as text.
_SOURCE_FILE = re.compile(r"^\s*SOURCE FILE\s*:?\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Span:
    """Frames [start, end) showing one clip (or nothing, when `clip` is None)."""

    start: int
    end: int
    clip: otio.schema.Clip | None = None
    key: tuple[str, ...] | None = None  # media identity of `clip` (see media_key)
    src: Fraction = Fraction(0)  # source time of `clip`, in seconds, at frame `start`
    speed: Fraction = Fraction(0)  # source seconds per timeline frame
    transition: Transition | None = None  # a transition whose edit point is `start`

    def part(self, start: int, end: int) -> Span:
        """The frames [start, end) of this span (source time advanced to match)."""
        if start == self.start:
            return self if end == self.end else self._with(start, end, self.src, self.transition)
        return self._with(start, end, self.src + (start - self.start) * self.speed, None)

    def moved(self, offset: int) -> Span:
        transition = self.transition
        if transition is not None:
            transition = _shift_transition(transition, lambda f: f + offset)
        return self._with(self.start + offset, self.end + offset, self.src, transition)

    def _with(self, start: int, end: int, src: Fraction, transition: Transition | None) -> Span:
        # direct construction: dataclasses.replace is slow on 5,000-cut timelines
        return Span(start, end, self.clip, self.key, src, self.speed, transition)


def _shift_transition(transition: Transition, to_frame) -> Transition:
    return replace(
        transition,
        cut=to_frame(transition.cut),
        start=to_frame(transition.start),
        end=to_frame(transition.end),
    )


# --------------------------------------------------------------------------- entry point


def visible_spans(
    timeline: otio.schema.Timeline, rate: Fraction, duration: int
) -> tuple[list[Span], str | None]:
    """Spans covering [0, duration) and, when the picture came from audio, the audio track name.

    A timeline with no video clips at all falls back to its first audio track's edit points.
    """
    stack = timeline.tracks
    layers = [_top_track_spans(t, rate, VIDEO) for t in _enabled_tracks(stack, VIDEO)]
    audio_track = None
    if not any(_has_clip(layer) for layer in layers):
        audio = next(
            (t for t in _enabled_tracks(stack, AUDIO) if any(_clips(t))),
            None,
        )
        if audio is not None:
            layers = [_top_track_spans(audio, rate, AUDIO)]
            audio_track = audio.name or "A1"
    content = composite(layers, max((s[-1].end for s in layers if s), default=0))
    start = to_frames(stack.source_range.start_time, rate) if stack.source_range else 0
    return merge_through_edits(window(content, start, duration), rate), audio_track


def _enabled_tracks(stack: otio.schema.Stack, kind: str) -> list[otio.schema.Track]:
    return [t for t in stack if isinstance(t, otio.schema.Track) and t.enabled and t.kind == kind]


def _clips(track: otio.schema.Track) -> Iterable[otio.schema.Clip]:
    return (c for c in track.find_clips() if c.enabled)


def _has_clip(spans: list[Span]) -> bool:
    return any(s.clip is not None for s in spans)


def _top_track_spans(track: otio.schema.Track, rate: Fraction, kind: str) -> list[Span]:
    """A top-level track's spans in timeline frames."""
    spans = track_spans(track, rate, kind)
    if track.source_range is None:
        return spans
    start = to_frames(track.source_range.start_time, rate)
    length = to_frames(track.source_range.duration, rate)
    # The CMX 3600 adapter stores the EDL's record start as a *negative* track start
    # (OpenTimelineIO issues #346, #1385); the clips still begin at the first frame.
    return window(spans, max(start, 0), length)


# --------------------------------------------------------------------------- tracks and items


def track_spans(track: otio.schema.Track, rate: Fraction, kind: str = VIDEO) -> list[Span]:
    """The spans of a track's children laid end to end, from its frame 0 (before any trim)."""
    spans: list[Span] = []
    pos = 0
    pending: Transition | None = None
    for child in track:
        if isinstance(child, otio.schema.Transition):
            # Items abut at the edit point; the transition overlaps both sides of it.
            pending = Transition(
                cut=pos,
                start=pos - to_frames(child.in_offset, rate),
                end=pos + to_frames(child.out_offset, rate),
                kind=child.transition_type or "SMPTE_Dissolve",
            )
            continue
        length = to_frames(child.duration(), rate)
        if length <= 0:
            continue
        item = item_spans(child, pos, length, rate, kind)
        if pending is not None:
            first = item[0]
            item[0] = Span(
                first.start, first.end, first.clip, first.key, first.src, first.speed, pending
            )
            pending = None
        spans.extend(item)
        pos += length
    return spans


def item_spans(
    item: otio.core.Composable, pos: int, length: int, rate: Fraction, kind: str
) -> list[Span]:
    """What one item of a track shows over its `length` frames, placed at frame `pos`."""
    end = pos + length
    if not getattr(item, "enabled", True):
        return [Span(pos, end)]
    if isinstance(item, otio.schema.Clip):
        source = to_seconds(item.trimmed_range().start_time)
        return [Span(pos, end, item, media_key(item), source, time_scalar(item) / rate)]
    if isinstance(item, otio.schema.Track) and item.kind != kind:
        return [Span(pos, end)]  # audio inside a compound clip shows nothing
    if isinstance(item, otio.core.Composition):
        content = _composition_spans(item, rate, kind)
        start = frames_exact(item.trimmed_range().start_time, rate)
        return [s.moved(pos) for s in window(content, start, length, time_scalar(item))]
    return [Span(pos, end)]  # gaps, and item types we do not know


def _composition_spans(comp: otio.core.Composition, rate: Fraction, kind: str) -> list[Span]:
    if isinstance(comp, otio.schema.Track):
        return track_spans(comp, rate, kind)
    layers = []
    for child in comp:  # a stack: children are layers, bottom first, all starting at 0
        if isinstance(child, otio.schema.Track):
            if not child.enabled or child.kind != kind:
                continue
            spans = track_spans(child, rate, kind)
            if child.source_range is not None:
                spans = window(
                    spans,
                    frames_exact(child.source_range.start_time, rate),
                    to_frames(child.source_range.duration, rate),
                )
            layers.append(spans)
        elif isinstance(child, otio.core.Item):
            length = to_frames(child.duration(), rate)
            layers.append(item_spans(child, 0, length, rate, kind) if length > 0 else [])
    return composite(layers, max((s[-1].end for s in layers if s), default=0))


def time_scalar(item: otio.core.Item) -> Fraction | int:
    """Playback speed from linear time warps (a freeze frame is speed 0)."""
    effects = item.effects
    scalar = 1
    # Indexing, not iterating: ending an iteration over OTIO's list wrappers costs ~15 us.
    for i in range(len(effects)):
        if isinstance(effects[i], otio.schema.LinearTimeWarp):
            scalar *= Fraction(effects[i].time_scalar)
    return scalar


# --------------------------------------------------------------------------- span algebra


def window(
    spans: list[Span], start: Fraction | int, length: int, scalar: Fraction | int = 1
) -> list[Span]:
    """Frames `start`.. of `spans` played at `scalar` speed, fitted to exactly `length` frames.

    Output frame f shows content time start + f * scalar; what the content does not cover
    (before, after, between) is gap. A scalar of 0 (freeze frame) holds the frame at `start`.
    """
    if length <= 0:
        return []
    if scalar <= 0:
        held = next((s for s in spans if s.start <= start < s.end), None)
        if held is None or held.clip is None:
            return [Span(0, length)]
        src = held.src + (start - held.start) * held.speed
        return [Span(0, length, held.clip, held.key, src, Fraction(0))]

    def to_output(t: Fraction | int) -> int:
        """The first output frame whose content time reaches t."""
        f = t - start if scalar == 1 else (t - start) / scalar
        return min(max(math.ceil(f), 0), length)

    out: list[Span] = []
    pos = 0
    for span in spans:
        a, b = to_output(span.start), to_output(span.end)
        if b <= a:
            continue
        if a > pos:
            out.append(Span(pos, a))
        out.append(_placed(span, a, b, start, scalar, to_output))
        pos = b
    if pos < length:
        out.append(Span(pos, length))
    return out


def _placed(span: Span, a: int, b: int, start, scalar, to_output) -> Span:
    """`span` shown over output frames [a, b) of a window that begins at content time `start`."""
    first = start + a * scalar  # the content time output frame a shows
    src = span.src if first == span.start else span.src + (first - span.start) * span.speed
    transition = span.transition if span.start >= start else None  # its edit point is shown
    if transition is not None:
        transition = _shift_transition(transition, to_output)
    return Span(a, b, span.clip, span.key, src, span.speed * scalar, transition)


def composite(layers: list[list[Span]], length: int) -> list[Span]:
    """Layers (bottom first) composited over [0, length): the topmost clip wins at each frame."""
    if not layers or length <= 0:
        return [Span(0, length)] if length > 0 else []
    if len(layers) == 1:
        return window(layers[0], 0, length)
    edges = sorted(
        {0, length} | {e for layer in layers for s in layer for e in (s.start, s.end) if e < length}
    )
    cursor = [0] * len(layers)
    out: list[Span] = []
    for a, b in zip(edges, edges[1:], strict=False):
        shown = gap = None
        for li in reversed(range(len(layers))):
            layer, i = layers[li], cursor[li]
            while i < len(layer) and layer[i].end <= a:
                i += 1
            cursor[li] = i
            if i < len(layer) and layer[i].start <= a:
                if layer[i].clip is not None:
                    shown = layer[i]
                    break
                gap = gap or layer[i]  # keeps a fade-to-black transition on the gap
        top = shown or gap
        out.append(top.part(a, b) if top is not None else Span(a, b))
    return out


def merge_through_edits(spans: list[Span], rate: Fraction) -> list[Span]:
    """Join neighbours that look like one shot: gap after gap, or a through edit."""
    tolerance = Fraction(1, 2) / rate  # half a frame, in seconds
    out: list[Span] = []
    for span in spans:
        if out and _continues(out[-1], span, tolerance):
            out[-1] = out[-1].part(out[-1].start, span.end)
        else:
            out.append(span)
    return out


def _continues(a: Span, b: Span, tolerance: Fraction) -> bool:
    """Whether `b` carries on `a`'s shot with nothing changing on screen (a through edit).

    Never across a transition (a dissolve is a deliberate edit even within one shot), and for
    EDL reels only when no clip name or source file says the two events are different media
    (CMX 3600 truncates reel names to 8 characters, so two camera files can share one).
    """
    if b.transition is not None:
        return False
    if a.key is None or b.key is None:
        return a.key is b.key  # gap after gap
    if a.key[0] == "reel" and b.key[0] == "reel":
        if a.key[1] != b.key[1] or not _same_details(a.key[2:], b.key[2:]):
            return False
    elif a.key != b.key:
        return False
    if a.key[0] == "generator" and a.key[1] == "black":
        return True  # black into black: the picture cannot change, whatever the source time
    return abs(a.src + (a.end - a.start) * a.speed - b.src) <= tolerance


def _same_details(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Clip name and source file of two EDL events: each that both events state must agree
    (an event without a comment says nothing either way)."""
    return all(x == y for x, y in zip(a, b, strict=True) if x and y)


# --------------------------------------------------------------------------- media identity


def media_key(clip: otio.schema.Clip) -> tuple[str, ...]:
    """What identifies a clip's media, for telling a through edit from a cut."""
    ref = clip.media_reference
    if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
        return ("url", ref.target_url)
    if isinstance(ref, otio.schema.ImageSequenceReference) and ref.target_url_base:
        return ("sequence", ref.abstract_target_url("#"))
    metadata = clip.metadata
    # len() first: a lookup in OTIO's metadata wrapper costs ~20 us even when it is empty
    cmx = metadata.get("cmx_3600", {}) if len(metadata) else {}
    if isinstance(ref, otio.schema.GeneratorReference):
        if ref.generator_kind == "black" and cmx:
            return ("generator", "black")  # EDL BL events: all black is one picture
        return ("generator", ref.generator_kind, clip.name, repr(ref.parameters))
    # EDL events without a file: the tape/reel name, and the clip name and source file where
    # comments give them (`* FROM CLIP NAME:`, `* SOURCE FILE:`), since the reel name may be
    # truncated. Without a FROM CLIP NAME the adapter names the clip by its event number.
    reel = cmx.get("reel")
    if not reel:
        return ("name", clip.name)
    name = "" if clip.name.strip().isdigit() else clip.name.strip()
    return ("reel", str(reel), name.casefold(), _source_file(cmx).casefold())


def _source_file(cmx) -> str:
    for comment in cmx.get("comments", ()):
        match = _SOURCE_FILE.match(str(comment))
        if match:
            return match.group(1).strip()
    return ""


def media_path(clip: otio.schema.Clip) -> str | None:
    """A clip's media as a file path (file:// URLs decoded), or the URL as given."""
    ref = clip.media_reference
    if isinstance(ref, otio.schema.ExternalReference):
        url = ref.target_url
    elif isinstance(ref, otio.schema.ImageSequenceReference) and ref.target_url_base:
        url = ref.abstract_target_url("#" * max(ref.frame_zero_padding, 1))
    else:
        return None
    return file_url_to_path(url) if url else None


def file_url_to_path(url: str) -> str:
    """file:///a/b.mov -> /a/b.mov, file://localhost/D%3a/x.mov -> D:/x.mov; others unchanged."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme.lower() != "file":
        return url
    path = urllib.parse.unquote(parsed.path)
    if parsed.netloc and parsed.netloc.lower() != "localhost":
        return f"//{parsed.netloc}{path}"  # a network share
    if len(path) >= 3 and path[0] == "/" and path[2] == ":" and path[1].isalpha():
        return path[1:]  # a Windows drive letter: /D:/media -> D:/media
    return path


def source_offset_s(clip: otio.schema.Clip, src: Fraction) -> float:
    """Source time `src` measured from the media's first frame, when the media says where
    that is (its available range); otherwise the clip's own source time (e.g. EDL timecode)."""
    ref = clip.media_reference
    available = getattr(ref, "available_range", None) if ref is not None else None
    if available is not None:
        src -= to_seconds(available.start_time)
    return float(src)
