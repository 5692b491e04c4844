"""A small preview movie of the edit with the score under it (`preview.mp4`).

The picture is conformed from the edit's own media: each scene's footage is found by the same
rule mood analysis uses (`frames.resolve_scene_sources`: `video=` one file holding the whole
timeline, else each clip's media path, relinked by name under `media_root`), and every output
frame shows the source frame on screen at that instant, so a source at another frame rate is
sampled, not stretched. A scene whose media cannot be found or decoded becomes a slate: a dark
card with the clip name and the running record timecode.

Video is H.264 (libx264, yuv420p, every 2 s a keyframe so a browser can scrub) at the
timeline's exact rate, audio is AAC stereo at 48 kHz: score.wav, optionally with the
original sound of each scene mixed under it at `original_audio_db`.

Streaming: each media file is decoded forward from one seek per scene (none when the next
scene continues where the last one stopped, as with `video=`), only the frames shown are
scaled (by swscale, never at full size in numpy), and audio is read frame by frame, so memory
does not grow with the length of the timeline.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Generic, TypeVar

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from ..errors import EmsyncError, OutputError
from ..timeline.edit import Edit, Scene  # not ..timeline: that imports OTIO
from .frames import MediaError, SceneSource, probe, resolve_scene_sources

AUDIO_RATE = 48_000
VIDEO_CODEC = "libx264"
AUDIO_CODEC = "aac"
_OPEN_FILES = 4  # readers kept open: an A/B interview cut alternates between two files
_CONTINUE_S = 2.0  # a scene starting this little after the last one decodes on, no seek
_SLATE_BGR = (34, 28, 24)

T = TypeVar("T")


@dataclass(frozen=True)
class PreviewInfo:
    path: Path
    width: int
    height: int
    frames: int
    duration_s: float
    slates: int  # scenes shown as slates (media offline or undecodable)
    video_codec: str
    audio_codec: str


def write_preview(
    edit: Edit,
    score_wav: Path,
    out: Path,
    *,
    video: Path | None = None,
    media_root: Path | None = None,
    width: int = 640,
    original_audio_db: float | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> PreviewInfo:
    """Write `out` (MP4, H.264 + AAC): the edit's picture conformed from its media, `width`
    pixels wide, with `score_wav` under it and, when `original_audio_db` is given, the
    original sound at that gain (e.g. -18). `on_progress(fraction)` hears how far it is.

    The movie is built in a hidden file beside `out` and renamed into place at the end;
    any failure or interrupt removes it."""
    score_wav, out = Path(score_wav), Path(out)
    _check_score(score_wav)
    if edit.duration <= 0:
        raise EmsyncError(f"The timeline '{edit.name}' is empty; there is nothing to preview.")
    if width < 16:
        raise EmsyncError(f"The preview width must be at least 16 pixels, not {width}.")
    if not out.parent.is_dir():
        raise OutputError(f"Cannot write the preview: the folder '{out.parent}' does not exist.")
    width -= width % 2  # H.264 4:2:0 needs even dimensions
    sources = resolve_scene_sources(edit, video, media_root)
    height = _height(sources, width)
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        slates = _encode(
            edit, sources, score_wav, tmp, width, height, original_audio_db, on_progress
        )
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return PreviewInfo(
        path=out,
        width=width,
        height=height,
        frames=edit.duration,
        duration_s=edit.duration_s,
        slates=slates,
        video_codec="h264",
        audio_codec=AUDIO_CODEC,
    )


def _check_score(path: Path) -> None:
    if not path.is_file():
        raise EmsyncError(f"The score '{path}' does not exist; render it first (score.wav).")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise EmsyncError(f"The score '{path}' has no audio in it.")
    except (av.FFmpegError, OSError) as exc:
        raise EmsyncError(f"The score '{path}' cannot be read as audio: {exc}.") from None


def _height(sources: list[SceneSource | None], width: int) -> int:
    """Even height for `width` at the first reachable footage's aspect (16:9 when none is)."""
    aspect = Fraction(9, 16)
    for src in sources:
        if src is None:
            continue
        try:
            info = probe(src.path)
        except MediaError:
            continue
        if info.width and info.height:
            aspect = Fraction(info.height, info.width)
            break
    return max(2, round(width * aspect / 2) * 2)


def _encode(
    edit: Edit,
    sources: list[SceneSource | None],
    score_wav: Path,
    tmp: Path,
    width: int,
    height: int,
    original_db: float | None,
    on_progress: Callable[[float], None] | None,
) -> int:
    rate = Fraction(edit.rate)
    # faststart puts the index first, so a browser starts playing before the file has loaded.
    container = av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"})
    videos: _Cache[_VideoReader] = _Cache(lambda p: _VideoReader(p, width, height))
    sounds: _Cache[_AudioReader] = _Cache(lambda p: _AudioReader(p, _video_origin(p)))
    score: _AudioReader | None = None
    gain = None if original_db is None else 10 ** (original_db / 20)
    slates = 0
    done = False
    try:
        score = _AudioReader(str(score_wav), 0.0)
        vs = container.add_stream(VIDEO_CODEC, rate=rate)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "24", "g": str(max(1, round(2 * rate)))}
        ast = container.add_stream(AUDIO_CODEC, rate=AUDIO_RATE)
        ast.layout = "stereo"
        step = max(1, edit.duration // 100)
        n = 0
        for scene, src in _spans(edit, sources):
            pictures = _scene_frames(videos, src, scene.frames, rate)
            sound = None
            if gain is not None and src is not None:
                sound = sounds.get(src.path)
                if sound is not None:
                    sound.start(src.start_s)
            slate = None
            for picture in pictures:
                if picture is None:
                    if slate is None:
                        slate = _Slate(edit, scene, width, height)
                    picture = slate.frame(n)
                # A decoded frame carries its source's time base, which encode() would
                # rescale `pts` from; the timeline's frame number is meant.
                picture.pts, picture.time_base = n, 1 / rate
                container.mux(vs.encode(picture))
                n += 1
                # Audio follows picture frame by frame, so the muxer interleaves and the
                # original sound is read only while its scene is on screen.
                a0, a1 = _sample(n - 1, rate), _sample(n, rate)
                pcm = score.read(a1 - a0)
                if sound is not None:
                    pcm = np.clip(pcm + gain * sound.read(a1 - a0), -1.0, 1.0)
                container.mux(ast.encode(_audio_frame(pcm, a0)))
                if on_progress is not None and n % step == 0 and n < edit.duration:
                    on_progress(n / edit.duration)
            slates += slate is not None
        container.mux(vs.encode())
        container.mux(ast.encode())
        container.close()  # writes the index: a failure here must fail the preview
        done = True
    finally:
        videos.close()
        sounds.close()
        if score is not None:
            score.close()
        if not done:
            with contextlib.suppress(av.FFmpegError):  # the temporary file goes anyway
                container.close()
    if on_progress is not None:
        on_progress(1.0)
    return slates


def _spans(
    edit: Edit, sources: list[SceneSource | None]
) -> Iterator[tuple[Scene, SceneSource | None]]:
    """The scenes with their sources, clipped so that they fill [0, duration) exactly once: the
    movie must be as long as the timeline whatever the scene list holds."""
    n = 0
    for scene, src in zip(edit.scenes, sources, strict=True):
        start, end = max(scene.start, n), min(scene.end, edit.duration)
        if end <= start:
            continue
        if start > n:
            yield Scene(-1, n, start), None  # a hole between scenes: a slate
        if src is not None and start > scene.start:
            src = replace(src, start_s=src.start_s + edit.seconds(start - scene.start))
        yield replace(scene, start=start, end=end), src
        n = end
    if n < edit.duration:
        yield Scene(-1, n, edit.duration), None


def _sample(frame: int, rate: Fraction) -> int:
    """The first audio sample of timeline frame `frame` (exact, so the track ends on the
    timeline's last sample)."""
    return round(Fraction(frame * AUDIO_RATE) / rate)


def _audio_frame(pcm: np.ndarray, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm, np.float32), "fltp", "stereo")
    frame.sample_rate = AUDIO_RATE
    frame.pts = pts
    return frame


def _scene_frames(
    videos: _Cache[_VideoReader], src: SceneSource | None, count: int, rate: Fraction
) -> Iterator[av.VideoFrame | None]:
    """`count` frames for one scene; None where there is no picture (slate)."""
    reader = videos.get(src.path) if src is not None else None
    if reader is None:
        return iter([None] * count)
    return reader.frames(src.start_s, count, rate)


class _Cache(Generic[T]):
    """The last few opened readers by path; one that cannot be opened is remembered as None."""

    def __init__(self, make: Callable[[str], T]) -> None:
        self._make = make
        self._open: OrderedDict[str, T | None] = OrderedDict()

    def get(self, path: str) -> T | None:
        if path in self._open:
            self._open.move_to_end(path)
            return self._open[path]
        try:
            reader = self._make(path)
        except (av.FFmpegError, OSError, MediaError):
            reader = None
        self._open[path] = reader
        while len(self._open) > _OPEN_FILES:
            _, old = self._open.popitem(last=False)
            if old is not None:
                old.close()
        return reader

    def close(self) -> None:
        while self._open:
            _, reader = self._open.popitem()
            if reader is not None:
                reader.close()


def _video_origin(path: str) -> float:
    """Media times count from the video stream's first timestamp (as in frames.py), so the
    original sound lines up with the picture."""
    with av.open(path) as container:
        if not container.streams.video:
            return 0.0
        vs = container.streams.video[0]
        return float(vs.start_time * vs.time_base) if vs.start_time is not None else 0.0


class _VideoReader:
    """One media file's picture, decoded forward; keeps its place between scenes."""

    def __init__(self, path: str, width: int, height: int) -> None:
        self.container = av.open(path)
        if not self.container.streams.video:
            self.container.close()
            raise MediaError(f"'{path}' has no video stream.")
        self.vs = self.container.streams.video[0]
        self.vs.thread_type = "AUTO"
        # The deblocking filter is a large share of decoding and its effect vanishes when a
        # 1080p frame is scaled to 640 px (same trade as frames.stream_media).
        self.vs.codec_context.options = {"skip_loop_filter": "all"}
        tb = self.vs.time_base
        self.origin = float(self.vs.start_time * tb) if self.vs.start_time is not None else 0.0
        fps = float(self.vs.average_rate or self.vs.guessed_rate or 25)
        # A frame whose pts is one tick late (rounded to the stream's time base) is still the
        # one on screen; more than that and the previous frame is.
        self.tolerance = min(0.1 / fps, float(tb) + 1e-6)
        self.size = (width, height)
        # Anamorphic footage: pixels are not square and the display width differs.
        self.sar = self.vs.sample_aspect_ratio or Fraction(1)
        self.reformatter = VideoReformatter()
        self.decoded: Iterator[tuple[float, av.VideoFrame]] | None = None
        self.current: tuple[float, av.VideoFrame] | None = None  # on screen at the last target
        self.ahead: tuple[float, av.VideoFrame] | None = None  # the next decoded frame
        self.shown: tuple[av.VideoFrame, av.VideoFrame] | None = None  # (decoded, scaled)

    def frames(self, start_s: float, count: int, rate: Fraction) -> Iterator[av.VideoFrame | None]:
        here = self.current[0] if self.current is not None else None
        if here is None or not (here - self.tolerance <= start_s < here + _CONTINUE_S):
            self._seek(start_s)
        for j in range(count):
            target = start_s + float(Fraction(j) / rate) + self.tolerance
            # Advance to the last frame starting by `target`; before the first frame and after
            # the last one the nearest frame is held.
            while self.ahead is not None and (self.current is None or self.ahead[0] <= target):
                self.current = self.ahead
                self.ahead = next(self.decoded, None)
            yield self._scaled() if self.current is not None else None

    def _seek(self, start_s: float) -> None:
        try:
            offset = int((self.origin + start_s) / self.vs.time_base)
            self.container.seek(offset, stream=self.vs, backward=True)
        except av.FFmpegError:
            self.container.seek(0)  # some files cannot seek: decode from the start instead
        self.decoded = self._decode()
        self.current = None
        self.ahead = next(self.decoded, None)

    def _decode(self) -> Iterator[tuple[float, av.VideoFrame]]:
        packets = self.container.demux(self.vs)
        while True:
            try:
                frames = next(packets).decode()
            except StopIteration:
                return
            except av.FFmpegError:
                continue  # a damaged packet (or a truncated file): the last picture is held
            for frame in frames:
                if frame.time is not None:
                    yield frame.time - self.origin, frame

    def _scaled(self) -> av.VideoFrame:
        t, frame = self.current
        if self.shown is None or self.shown[0] is not frame:
            self.shown = (frame, _fit(self.reformatter, frame, self.sar, *self.size))
        return self.shown[1]

    def close(self) -> None:
        self.decoded = self.current = self.ahead = self.shown = None
        self.container.close()


def _fit(
    reformatter: VideoReformatter, frame: av.VideoFrame, sar: Fraction, width: int, height: int
) -> av.VideoFrame:
    """`frame` scaled to width x height by swscale; other aspects (and phone footage stored
    sideways) are fitted inside with black bars."""
    turns = round((frame.rotation or 0) / 90) % 4
    shown_w, shown_h = float(frame.width * sar), float(frame.height)
    if turns % 2:
        shown_w, shown_h = shown_h, shown_w
    if not turns and abs(shown_w / shown_h - width / height) < 0.01 * width / height:
        return reformatter.reformat(frame, width, height, "yuv420p", interpolation="AREA")
    scale = min(width / shown_w, height / shown_h)
    fw, fh = max(2, round(shown_w * scale)), max(2, round(shown_h * scale))
    if turns % 2:
        fw, fh = fh, fw
    rgb = reformatter.reformat(frame, fw, fh, "rgb24", interpolation="AREA").to_ndarray()
    rgb = np.rot90(rgb, turns)
    canvas = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - rgb.shape[0]) // 2, (width - rgb.shape[1]) // 2
    canvas[y0 : y0 + rgb.shape[0], x0 : x0 + rgb.shape[1]] = rgb
    return av.VideoFrame.from_ndarray(canvas, format="rgb24")


class _AudioReader:
    """A file's first audio track as 48 kHz stereo float32, read forward from `start`."""

    def __init__(self, path: str, origin: float) -> None:
        self.container = av.open(path)
        if not self.container.streams.audio:
            self.container.close()
            raise MediaError(f"'{path}' has no audio.")
        self.stream = self.container.streams.audio[0]
        self.origin = origin
        self.pos = 0.0  # media time of the next sample `read` returns
        self.buffer: list[np.ndarray] = []
        self.buffered = 0
        self._restart(0.0, seek=False)

    def start(self, t: float) -> None:
        """Read on from media time `t` (seeks unless `t` is where reading stopped)."""
        if abs(t - self.pos) > 2 / AUDIO_RATE:  # rounding of frame edges to whole samples
            self._restart(t, seek=True)

    def read(self, n: int) -> np.ndarray:
        """The next `n` samples as (2, n); silence past the end of the file."""
        while self.buffered < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                self._push(np.zeros((2, n - self.buffered), np.float32))
                break
            self._push(chunk)
        data = np.concatenate(self.buffer, axis=1) if len(self.buffer) > 1 else self.buffer[0]
        out, rest = data[:, :n], data[:, n:]
        self.buffer, self.buffered = ([rest], rest.shape[1]) if rest.shape[1] else ([], 0)
        self.pos += n / AUDIO_RATE
        return out

    def _push(self, chunk: np.ndarray) -> None:
        self.buffer.append(chunk)
        self.buffered += chunk.shape[1]

    def _restart(self, t: float, seek: bool) -> None:
        if seek:
            try:
                offset = int((self.origin + t) / self.stream.time_base)
                self.container.seek(offset, stream=self.stream, backward=True)
            except av.FFmpegError:
                self.container.seek(0)
        self.buffer, self.buffered, self.pos = [], 0, t
        self.chunks = self._decode(t)

    def _decode(self, start: float) -> Iterator[np.ndarray]:
        """Resampled chunks from exactly `start` on: earlier samples cut, silence first when
        the sound begins later. After the first frame samples are counted, not timed, as in
        frames.stream_media (resampled frames are contiguous; pts would drift by rounding)."""
        at: int | None = None  # where the next resampled chunk begins, in samples from `start`
        done = 0  # samples yielded so far
        for frame in self._resampled():
            if at is None:
                t = float(frame.pts * frame.time_base) if frame.pts is not None else self.origin
                at = round((t - self.origin - start) * AUDIO_RATE)
            pcm = frame.to_ndarray().copy()  # a view of a buffer the resampler reuses
            if pcm.shape[0] == 1:
                # Mono at full level on both sides (swresample would take 3 dB off each).
                pcm = np.repeat(pcm, 2, axis=0)
            if at > done:
                yield np.zeros((2, at - done), np.float32)
                done = at
            skip = done - at
            if skip < pcm.shape[1]:
                yield pcm[:, skip:]
                done += pcm.shape[1] - skip
            at += pcm.shape[1]

    def _resampled(self) -> Iterator[av.AudioFrame]:
        layout = "mono" if self.stream.channels == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=AUDIO_RATE)
        for packet in self.container.demux(self.stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue  # a damaged packet: its sound is skipped
            for frame in frames:
                yield from resampler.resample(frame)
        yield from resampler.resample(None)

    def close(self) -> None:
        self.chunks = None
        self.container.close()


class _Slate:
    """A dark card for a scene without picture: clip name, media name, running timecode."""

    def __init__(self, edit: Edit, scene: Scene, width: int, height: int) -> None:
        self.edit = edit
        self.scale = width / 640
        card = np.empty((height, width, 3), np.uint8)
        card[:] = _SLATE_BGR
        media = Path(str(scene.media_path).replace("\\", "/")).name if scene.media_path else ""
        name = scene.name or media or (f"Scene {scene.index + 1}" if scene.index >= 0 else "Gap")
        s = self.scale
        label = "MEDIA OFFLINE" if scene.media_path else "NO MEDIA"
        self._text(card, label, 0.30, 0.55 * s, (120, 120, 140), 1)
        self._text(card, name, 0.45, 1.0 * s, (235, 235, 235), 2)
        if media and media != name:
            self._text(card, media, 0.57, 0.5 * s, (170, 170, 170), 1)
        span = f"{edit.timecode(scene.start)} - {edit.timecode(scene.end)}"
        self._text(card, span, 0.66, 0.5 * s, (170, 170, 170), 1)
        self.card = card

    def frame(self, n: int) -> av.VideoFrame:
        picture = self.card.copy()
        self._text(picture, self.edit.timecode(n), 0.85, 0.9 * self.scale, (235, 235, 235), 2)
        return av.VideoFrame.from_ndarray(picture, format="bgr24")

    def _text(
        self, img: np.ndarray, text: str, y_frac: float, size: float, colour: tuple, weight: int
    ) -> None:
        font = cv2.FONT_HERSHEY_SIMPLEX
        weight = max(1, round(weight * self.scale))
        w = img.shape[1]
        while len(text) > 4 and cv2.getTextSize(text, font, size, weight)[0][0] > 0.9 * w:
            text = text[:-4] + "..."  # a long clip name is cut, never drawn off the card
        (tw, th), _ = cv2.getTextSize(text, font, size, weight)
        org = ((w - tw) // 2, int(img.shape[0] * y_frac) + th // 2)
        cv2.putText(img, text, org, font, size, colour, weight, cv2.LINE_AA)
