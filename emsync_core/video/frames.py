"""Media access for emotion analysis: one streaming PyAV pass per media file.

The pass decodes every video frame (H.264 cannot be decoded at reduced size, and seeking to
sample re-decodes from the last keyframe) but only
touches a small thumbnail of each: the Y/U/V planes are sliced, never converted at full size.
From the thumbnails it keeps, per frame, a motion value (mean absolute luma difference to the
previous frame) and optionally feeds a cut detector; every `1 / sample_fps` seconds it keeps a
small RGB sample (or whatever `frame_fn` reduces it to). The audio track is decoded in the same
demux loop to mono float32 with `av.AudioResampler` (no system ffmpeg). Memory is bounded by
the thumbnails in flight plus, for the analysed span, 4 bytes per decoded frame, the samples
(reduced by `frame_fn` to a few numbers each) and the mono audio (64 KB per second at 16 kHz).

Speed: the H.264/HEVC deblocking (loop) filter is skipped (`skip_loop_filter=all`): it is a
large share of decoding time and only smooths block edges, which the ~160 px thumbnails, the
400 px face detection and 64 px face crops do not see (benchmarks/bench_analyze.py measures the
gain and the change it makes to the moods). `fast_decode=False` turns it back on.

Skipping non-reference frames (`skip_nonref=True`, H.264 and HEVC only): no other frame is
predicted from a non-reference picture (most B-frames), so libavcodec can leave them undecoded
(`skip_frame=NONREF`, switched per packet) and the others still decode exactly as before. In
the benchmark's camera-like H.264 (x264, up to 3 B-frames) that is 25-45 % of the frames and
30-40 % of the decoding time, depending on how many B-frames the encoder chose.
What the pass keeps is sampled, so it does not need every frame: around each instant a colour
sample or a face reading is due, a short run of PROBE_FRAMES consecutive frames is decoded in
full, so samples and faces come from the very frames a full decode would use, and motion (mean
|dY| between consecutive frames) is measured exactly on those runs (~8 values a second instead
of every frame: the scene's mean is estimated from a subsample, not approximated from frames
further apart, whose difference grows with the gap in no fixed way). Frame-exact cuts need
every frame; `video.scenes.analyse_pass` recovers them by decoding only the neighbourhood of
each candidate cut in full. Which frames were skipped is read from the NAL headers of each
packet (`skipped_times`), so `decoded_share` still measures damage, not the skipping.

Damaged media: a packet the decoder rejects is counted and skipped, not fatal; every span
reports how many frames it should have had and how many were decoded (`decoded_share`), so a
scene whose mood rests on too few frames can be marked as such.

Times are seconds from the video stream's first timestamp (audio uses the same origin, so
picture and sound stay in sync).
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np

from ..errors import EmsyncError

AUDIO_RATE = 16_000
SAMPLE_FPS = 2.0
# Frames decoded in full around each due sample/face reading when non-reference frames are
# skipped: from one frame before the due time to PROBE_FRAMES - 1 after it (module docstring).
PROBE_FRAMES = 5
# ... and around each intra-coded picture, where encoders put scene cuts (x264's scenecut and
# most hardware encoders start a shot with an I-frame): from INTRA_MARGIN frames before the
# reference frame shown before it to INTRA_MARGIN after it, what AdaptiveDetector needs to
# place a cut on the I-frame itself (its window: 2 frames on each side). Packets are read
# LOOKAHEAD ahead so that the B-frames before an I-frame, which come first in decoding order,
# are known to be near one.
INTRA_MARGIN = 2
LOOKAHEAD = 16
THUMB_WIDTH = 160
# libavcodec's frame threads. Its automatic count (cores + 1) left the 2 cores of the
# benchmark machine idle a fifth of the time, waiting on frames in flight; twice the cores
# decoded 1080p H.264 5-8 % faster there (benchmarks/results/analyze.md). At most 16, as
# libavcodec's own limit for the automatic count.
DECODE_THREADS = min(16, 2 * (os.cpu_count() or 1))
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".mxf", ".mts", ".m2ts", ".ts"}


class MediaError(EmsyncError):
    """A video file is missing or cannot be decoded."""


class FaceObserver(Protocol):
    """What `collect` needs of a face analyser (emotion.face.FaceAnalyzer is one)."""

    period: float  # seconds between observed frames

    def observe(self, t: float, gray: Callable[[], np.ndarray], moved: float) -> None: ...

    def results(self) -> tuple[Sequence[float], Sequence[object]]: ...


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration_s: float
    fps: float
    width: int
    height: int
    has_audio: bool
    timecode_s: float = 0.0  # the start timecode tag of the video stream, in seconds


@dataclass
class MediaSamples:
    """What one pass over [start_s, end_s) of a media file keeps."""

    info: MediaInfo
    start_s: float
    end_s: float
    frame_times: np.ndarray  # every decoded frame in the span (float64 seconds)
    motion: np.ndarray  # per frame, mean |dY| / 255 to the previous frame (0 for the first)
    sample_times: np.ndarray  # the sampled frames' times
    samples: list  # one entry per sampled frame: RGB thumbnail or frame_fn(RGB)
    audio: np.ndarray  # mono float32 at `audio_rate`, starting at `audio_start_s`
    audio_rate: int = AUDIO_RATE
    audio_start_s: float = 0.0
    cuts: list[float] = field(default_factory=list)  # cut times when a detector was given
    face_times: np.ndarray = field(default_factory=lambda: np.zeros(0))  # face-sampled frames
    faces: list = field(default_factory=list)  # what face_fn reported per face-sampled frame
    decode_errors: int = 0  # packets the decoder rejected in the whole pass
    # non-reference frames deliberately left undecoded (collect(skip_nonref=True))
    skipped_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # None: one motion value per frame_times entry. Otherwise the frames `motion` is known for
    # (those whose previous frame was decoded too; skip_nonref).
    motion_times: np.ndarray | None = None

    @property
    def expected_frames(self) -> float:
        """Frames [start_s, end_s) should hold at the stream's frame rate (only the part inside
        the file: a span past its end is short media, not damage), less those skipped on
        purpose."""
        end = min(self.end_s, self.info.duration_s) if self.info.duration_s > 0 else self.end_s
        return max(0.0, (end - self.start_s) * self.info.fps - len(self.skipped_times))

    @property
    def decoded_share(self) -> float:
        """Decoded frames / expected frames, at most 1 (1 for an empty span)."""
        expected = self.expected_frames
        if expected < 1:
            return 1.0
        return min(1.0, len(self.frame_times) / expected)

    def window(self, t0: float, t1: float) -> MediaSamples:
        """The part of these samples inside [t0, t1), same shape (views, no copies of audio)."""
        fm = (self.frame_times >= t0) & (self.frame_times < t1)
        mt = self.frame_times if self.motion_times is None else self.motion_times
        mm = (mt >= t0) & (mt < t1)
        sm = (self.sample_times >= t0) & (self.sample_times < t1)
        a0 = max(0, round((t0 - self.audio_start_s) * self.audio_rate))
        a1 = max(a0, round((t1 - self.audio_start_s) * self.audio_rate))
        idx = np.flatnonzero(sm)
        fsel = (self.face_times >= t0) & (self.face_times < t1)
        return MediaSamples(
            info=self.info,
            start_s=t0,
            end_s=t1,
            frame_times=self.frame_times[fm],
            motion=self.motion[mm],
            sample_times=self.sample_times[sm],
            samples=[self.samples[i] for i in idx],
            audio=self.audio[a0:a1],
            audio_rate=self.audio_rate,
            audio_start_s=self.audio_start_s + a0 / self.audio_rate,
            cuts=[c for c in self.cuts if t0 < c < t1],
            face_times=self.face_times[fsel],
            faces=[self.faces[i] for i in np.flatnonzero(fsel)],
            decode_errors=self.decode_errors,
            skipped_times=self.skipped_times[
                (self.skipped_times >= t0) & (self.skipped_times < t1)
            ],
            motion_times=None if self.motion_times is None else self.motion_times[mm],
        )


def probe(path: str | os.PathLike) -> MediaInfo:
    """Duration, rate, size and audio presence, read from the container headers only."""
    try:
        with av.open(str(path)) as container:
            return _info(container, str(path))
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"Cannot read the video '{path}': {exc}.") from None


def _info(container, path: str) -> MediaInfo:
    if not container.streams.video:
        raise MediaError(f"'{path}' has no video stream.")
    vs = container.streams.video[0]
    fps = float(vs.average_rate or vs.guessed_rate or 25)
    if vs.duration is not None and vs.time_base is not None:
        duration = float(vs.duration * vs.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = float(vs.frames / fps) if vs.frames else 0.0
    tc = vs.metadata.get("timecode") or container.metadata.get("timecode") or ""
    return MediaInfo(
        path=path,
        duration_s=duration,
        fps=fps,
        width=vs.codec_context.width,
        height=vs.codec_context.height,
        has_audio=bool(container.streams.audio),
        timecode_s=_timecode_seconds(tc, fps),
    )


def _timecode_seconds(tc: str, fps: float) -> float:
    parts = tc.replace(";", ":").split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return 0.0
    h, m, s, f = (int(p) for p in parts)
    return h * 3600 + m * 60 + s + f / max(1.0, round(fps))


def _thumb_step(width: int, thumb_width: int) -> int:
    step = max(2, int(round(width / thumb_width)))
    return step + (step % 2)  # even, so chroma planes (half size) slice on the same grid


# H.264 nal_unit_type of coded slices (1: non-IDR, 5: IDR); a picture is a reference when any of
# its slices has nal_ref_idc > 0. HEVC: VCL types 0-31, the even ones up to 14 (TRAIL_N, TSA_N,
# STSA_N, RADL_N, RASL_N, RSV_VCL_N10/12/14) are sub-layer non-reference pictures.
_H264_SLICES = (1, 5)
SKIPPABLE_CODECS = ("h264", "hevc")


def nal_length_size(codec: str, extradata: bytes | None) -> int:
    """Bytes of the NAL length prefix in this stream's packets (MP4/MOV/MKV: avcC / hvcC
    extradata), or 0 for Annex B start codes (MPEG-TS, raw streams)."""
    if not extradata or extradata[0] != 1:
        return 0
    if codec == "h264" and len(extradata) > 4:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) > 21:
        return (extradata[21] & 3) + 1
    return 0


def _nal_starts(data: bytes, length_size: int) -> Iterator[int]:
    """Offsets of the NAL unit headers in one packet."""
    n = len(data)
    if length_size:
        i = 0
        while i + length_size < n:
            size = int.from_bytes(data[i : i + length_size], "big")
            i += length_size
            if size <= 0:
                return
            yield i
            i += size
        return
    i = data.find(b"\x00\x00\x01")
    while 0 <= i < n - 3:
        yield i + 3
        i = data.find(b"\x00\x00\x01", i + 3)


def _ue(bits: str, pos: int) -> tuple[int, int]:
    """One Exp-Golomb code from a bit string: (value, next position)."""
    zeros = 0
    while pos + zeros < len(bits) and bits[pos + zeros] == "0":
        zeros += 1
    end = pos + 2 * zeros + 1
    if end > len(bits):
        raise ValueError("truncated Exp-Golomb code")
    return int(bits[pos + zeros : end], 2) - 1, end


def is_intra(data: bytes, codec: str, length_size: int) -> bool:
    """Whether the picture in this packet is intra-coded: an H.264 IDR or I slice (slice_type
    read from the slice header), an HEVC IRAP picture (IDR, CRA, BLA)."""
    for i in _nal_starts(data, length_size):
        b = data[i]
        if codec == "h264":
            kind = b & 0x1F
            if kind == 5:
                return True
            if kind == 1:
                head = data[i + 1 : i + 9].replace(b"\x00\x00\x03", b"\x00\x00")
                bits = "".join(f"{x:08b}" for x in head)
                try:
                    _, pos = _ue(bits, 0)  # first_mb_in_slice
                    slice_type, _ = _ue(bits, pos)
                except ValueError:
                    return False
                return slice_type % 5 == 2
        else:
            kind = (b >> 1) & 0x3F
            if kind < 32:  # the first coded slice decides
                return 16 <= kind <= 23
    return False


def is_reference(data: bytes, codec: str, length_size: int) -> bool:
    """Whether the picture in this packet may be a reference for others (True when unsure:
    counting a skipped frame as expected only makes `decoded_share` more cautious)."""
    vcl = False
    for i in _nal_starts(data, length_size):
        b = data[i]
        if codec == "h264":
            kind = b & 0x1F
            if kind in _H264_SLICES:
                vcl = True
                if (b & 0x60) or kind == 5:
                    return True
        else:
            kind = (b >> 1) & 0x3F
            if kind < 32:
                vcl = True
                if kind > 14 or kind % 2:
                    return True
    return not vcl


def _plane(plane) -> np.ndarray:
    return np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]


def thumbnail(frame: av.VideoFrame, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(BGR thumbnail, luma thumbnail) by slicing the decoded planes (~0.2 ms at 1080p)."""
    if frame.format.name in ("yuv420p", "yuvj420p"):
        y = _plane(frame.planes[0])[::step, ::step]
        u = _plane(frame.planes[1])[:: step // 2, :: step // 2]
        v = _plane(frame.planes[2])[:: step // 2, :: step // 2]
        h, w = min(y.shape[0], u.shape[0]), min(y.shape[1], u.shape[1])
        y = np.ascontiguousarray(y[:h, :w])
        ycrcb = np.dstack([y, v[:h, :w], u[:h, :w]])
        return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR), y
    w = max(2, frame.width // step)
    h = max(2, frame.height // step)
    bgr = frame.to_ndarray(format="bgr24", width=w, height=h)
    return bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


@dataclass
class _Event:
    kind: str  # "video", "audio", "skip" (a non-reference frame left undecoded) or "end"
    t: float
    bgr: np.ndarray | None = None
    luma: np.ndarray | None = None
    audio: np.ndarray | None = None
    frame: av.VideoFrame | None = None  # the decoded frame (valid until the next event)
    errors: int = 0  # packets rejected by the decoder so far


def full_gray(frame: av.VideoFrame) -> np.ndarray:
    """The frame's full-resolution luma as a uint8 array, upright as a player shows it (a view
    of the Y plane for 4:2:0). Phones store portrait video sideways with a rotation flag; the
    face detector only finds upright faces, so the flag is applied here."""
    if frame.format.name in ("yuv420p", "yuvj420p", "nv12"):
        gray = _plane(frame.planes[0])
    else:
        gray = frame.to_ndarray(format="gray")
    # `rotation`: degrees the display matrix turns the frame counterclockwise, as np.rot90.
    turns = round((frame.rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(gray, turns)) if turns else gray


def configure_decoder(vs, fast_decode: bool) -> None:  # noqa: ANN001 (a PyAV VideoStream)
    """The analysis' decoder settings, before the first packet: DECODE_THREADS frame threads
    and, with `fast_decode`, no deblocking filter (module docstring)."""
    vs.thread_type = "AUTO"
    vs.thread_count = DECODE_THREADS
    if fast_decode:
        vs.codec_context.options = {"skip_loop_filter": "all"}


def stream_media(
    path: str | os.PathLike,
    start_s: float = 0.0,
    end_s: float | None = None,
    thumb_width: int = THUMB_WIDTH,
    audio_rate: int = AUDIO_RATE,
    audio: bool = True,
    fast_decode: bool = True,
    skip_nonref: bool = False,
    keep: Callable[[float], bool] | None = None,
    intra_runs: bool = False,
) -> Iterator[_Event]:
    """One demux/decode pass, no seeking: thumbnails of every video frame and mono audio
    chunks inside [start_s, end_s). Stops decoding once both streams are past `end_s`.
    A packet the decoder rejects is skipped and counted (`_Event.errors`).
    `skip_nonref` (H.264/HEVC; ignored for other codecs): non-reference frames are not decoded
    unless `keep(t)` says so for their presentation time `t` or (`intra_runs`, for cut
    detection) they are next to an I-frame; each one left out is reported as a "skip" event at
    `t` instead (module docstring)."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"Cannot open the video '{path}': {exc}.") from None
    with container:
        info = _info(container, str(path))
        vs = container.streams.video[0]
        configure_decoder(vs, fast_decode)
        codec = vs.codec_context.name
        length_size = -1  # -1: every frame is decoded
        if skip_nonref and codec in SKIPPABLE_CODECS:
            length_size = nal_length_size(codec, vs.codec_context.extradata)
        skipping = False
        frame_s = 1.0 / max(info.fps, 1e-6)
        refs: deque[float] = deque(maxlen=LOOKAHEAD)  # times of reference frames read so far
        intra: deque[tuple[float, float]] = deque(maxlen=LOOKAHEAD)  # (from, to) around I-frames

        def near_intra(t: float) -> bool:
            return any(a <= t <= b for a, b in intra)

        def read_ahead(packet) -> None:
            if length_size < 0 or packet.stream is not vs or not packet.size:
                return
            if packet.pts is None:
                return
            data = bytes(packet)
            if not is_reference(data, codec, length_size):
                return
            t = float(packet.pts * vs.time_base) - origin
            if is_intra(data, codec, length_size):
                before = max((r for r in refs if r < t), default=t)
                margin = (INTRA_MARGIN + 0.01) * frame_s
                intra.append((before - margin, t + margin))
            refs.append(t)

        streams = [vs]
        ast = container.streams.audio[0] if (audio and container.streams.audio) else None
        resampler = None
        if ast is not None:
            streams.append(ast)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=audio_rate)
        origin = float(vs.start_time * vs.time_base) if vs.start_time is not None else 0.0
        step = _thumb_step(info.width, thumb_width)
        end = float("inf") if end_s is None else end_s
        video_done = False
        audio_done = ast is None
        n_video = 0
        errors = 0
        audio_pos: float | None = None
        try:
            packets = container.demux(streams)
            if length_size >= 0 and intra_runs:
                packets = _lookahead(packets, LOOKAHEAD, read_ahead)
            for packet in packets:
                if packet.stream is vs:
                    if video_done:
                        continue
                    if length_size >= 0 and packet.pts is not None and packet.size:
                        # libavcodec reads skip_frame when the packet is sent (also with frame
                        # threads), so it can change from one packet to the next.
                        # A reference frame decodes either way, so only a non-reference one
                        # decides the setting.
                        t = float(packet.pts * vs.time_base) - origin
                        skip = False
                        if not is_reference(bytes(packet), codec, length_size):
                            skip = not near_intra(t) and (keep is None or not keep(t))
                            if skip != skipping:
                                vs.codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
                                skipping = skip
                        if skip and start_s <= t < end:
                            yield _Event("skip", t, errors=errors)
                    try:
                        decoded = packet.decode()
                    except av.FFmpegError:
                        errors += 1  # damaged packet: counted, and the pass goes on
                        continue
                    for frame in decoded:
                        t = (
                            frame.time - origin
                            if frame.time is not None
                            else n_video / max(info.fps, 1e-6)
                        )
                        n_video += 1
                        if t >= end:
                            video_done = True
                            break
                        if t < start_s:
                            continue
                        bgr, luma = thumbnail(frame, step)
                        yield _Event("video", t, bgr=bgr, luma=luma, frame=frame, errors=errors)
                else:
                    if audio_done:
                        continue
                    try:
                        decoded = packet.decode()
                    except av.FFmpegError:
                        continue  # a damaged audio packet: a short hole, filled with silence
                    for frame in decoded:
                        for out in resampler.resample(frame):
                            chunk, t = _audio_chunk(out, origin, audio_pos, audio_rate)
                            audio_pos = t + len(chunk) / audio_rate
                            if t >= end:
                                audio_done = True
                                break
                            yield _Event("audio", t, audio=chunk)
                if video_done and audio_done:
                    break
            if resampler is not None and not audio_done:
                for out in resampler.resample(None):
                    chunk, t = _audio_chunk(out, origin, audio_pos, audio_rate)
                    audio_pos = t + len(chunk) / audio_rate
                    yield _Event("audio", t, audio=chunk)
        except av.FFmpegError as exc:
            raise MediaError(f"Decoding '{path}' failed: {exc}.") from None
        if errors and not n_video:
            raise MediaError(
                f"No frame of '{path}' could be decoded ({errors} damaged packets). The file is "
                "damaged or in a format this build cannot decode; re-export or re-encode it."
            )
        yield _Event("end", end if end != float("inf") else 0.0, errors=errors)


def _lookahead(packets, depth: int, read: Callable) -> Iterator:
    """The packets in order, each one yielded once `depth` more have been read (and shown to
    `read`)."""
    buf: deque = deque()
    for packet in packets:
        read(packet)
        buf.append(packet)
        if len(buf) > depth:
            yield buf.popleft()
    yield from buf


def _audio_chunk(frame, origin: float, pos: float | None, rate: int) -> tuple[np.ndarray, float]:
    data = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    if pos is None:
        t = (float(frame.pts * frame.time_base) - origin) if frame.pts is not None else 0.0
    else:
        t = pos  # resampled frames are contiguous; counting samples avoids pts rounding drift
    return data, t


def collect(
    path: str | os.PathLike,
    start_s: float = 0.0,
    end_s: float | None = None,
    sample_fps: float = SAMPLE_FPS,
    thumb_width: int = THUMB_WIDTH,
    frame_fn: Callable[[np.ndarray], object] | None = None,
    cut_detector: Callable[[int, np.ndarray], list[int]] | None = None,
    audio_rate: int = AUDIO_RATE,
    face_fn: FaceObserver | None = None,
    fast_decode: bool = True,
    skip_nonref: bool = False,
    intra_runs: bool = False,
) -> MediaSamples:
    """Run one pass and keep motion per frame, a sample every 1/sample_fps s, the audio and
    (with `cut_detector(frame_index, bgr) -> [cut frame indices]`) the cut times.

    `skip_nonref=True` decodes, of H.264/HEVC, the reference frames and a run of PROBE_FRAMES
    frames around each due sample or face reading (module docstring): samples and faces see
    the frames a full decode would give them; `motion` then holds only the frames whose
    previous frame was decoded too (`motion_times`); the cut detector sees only the decoded
    frames (its cuts are not frame-exact: scenes.analyse_pass refines them); the skipped
    frames' times are kept in `skipped_times`. `intra_runs` also decodes the frames around
    I-frames in full (for cut detection: scenes.analyse_pass).

    `frame_fn(rgb)` reduces each sampled RGB thumbnail (e.g. to colour statistics) so memory
    does not grow with picture size; without it the thumbnails themselves are kept.
    `face_fn` (e.g. emotion.face.FaceAnalyzer) is shown one frame every `face_fn.period`
    seconds with how much the picture moved since the previous one (the largest per-frame
    motion in between), and a function returning that frame's full-resolution luma (a view
    valid only during the call), so it decodes nothing extra and can skip still frames; its
    results are kept in `faces` / `face_times`.
    """
    info = probe(path)
    frame_times: list[float] = []
    motion: list[float] = []
    sample_times: list[float] = []
    samples: list = []
    audio_chunks: list[np.ndarray] = []
    audio_start: float | None = None
    audio_expected: float | None = None
    cuts: list[float] = []
    prev: np.ndarray | None = None
    next_sample = start_s
    period = 1.0 / sample_fps
    next_face = start_s
    moved = 0.0
    errors = 0
    skipped: list[float] = []
    motion_times: list[float] = []
    last_due = [start_s, start_s]  # the due times of the last sample and face reading
    frame_s = 1.0 / max(info.fps, 1e-6)
    face_period = face_fn.period if face_fn is not None else period

    def keep(t: float) -> bool:
        """Whether a non-reference frame at `t` is in the run around a due sample or face
        reading: the last one (its run goes on after it was taken) or the next ones. Packets
        arrive a few frames ahead of the decoded pictures, so the next due times may not have
        moved on yet: the grid after them counts too."""
        lo, hi = frame_s * 1.01, frame_s * (PROBE_FRAMES - 1.01)
        for due, step in ((next_sample, period), (next_face, face_period)):
            k = max(0, math.floor((t - due + lo) / step))
            if -lo <= t - (due + k * step) <= hi:
                return True
        return any(-lo <= t - due <= hi for due in last_due)

    stream = stream_media(
        path,
        start_s,
        end_s,
        thumb_width,
        audio_rate,
        fast_decode=fast_decode,
        skip_nonref=skip_nonref,
        keep=keep if skip_nonref else None,
        intra_runs=intra_runs,
    )
    for ev in stream:
        errors = ev.errors or errors
        if ev.kind == "end":
            continue
        if ev.kind == "skip":
            skipped.append(ev.t)
            continue
        if ev.kind == "video":
            index = len(frame_times)
            luma = ev.luma
            diff = 0.0 if prev is None else float(cv2.absdiff(luma, prev).mean()) / 255.0
            # What a face observer needs is how much the picture changed since its last look.
            moved = max(moved, diff)
            if not skip_nonref:
                motion.append(diff)
            elif not frame_times or round((ev.t - frame_times[-1]) / frame_s) <= 1:
                motion.append(diff)  # the previous frame was decoded: an exact value
                motion_times.append(ev.t)
            frame_times.append(ev.t)
            prev = luma
            if cut_detector is not None:
                for k in cut_detector(index, ev.bgr):
                    if 0 < k < len(frame_times):
                        cuts.append(frame_times[k])
            if ev.t + 1e-6 >= next_sample:
                rgb = cv2.cvtColor(ev.bgr, cv2.COLOR_BGR2RGB)
                sample_times.append(ev.t)
                samples.append(frame_fn(rgb) if frame_fn else rgb)
                last_due[0] = next_sample
                next_sample = max(next_sample + period, ev.t + period * 0.5)
            if face_fn is not None and ev.t + 1e-6 >= next_face:
                face_fn.observe(ev.t, lambda f=ev.frame: full_gray(f), moved)
                moved = 0.0
                last_due[1] = next_face
                next_face = max(next_face + face_fn.period, ev.t + face_fn.period * 0.5)
        else:
            chunk = ev.audio
            t = ev.t
            if t < start_s:
                skip = round((start_s - t) * audio_rate)
                if skip >= len(chunk):
                    continue
                chunk, t = chunk[skip:], start_s
            if audio_start is None:
                audio_start = t
                audio_expected = t
            gap = round((t - audio_expected) * audio_rate)
            if gap > 0:  # a hole in the audio stream: keep the timeline with silence
                audio_chunks.append(np.zeros(gap, np.float32))
            audio_chunks.append(chunk.copy())
            audio_expected = t + len(chunk) / audio_rate
    audio = np.concatenate(audio_chunks) if audio_chunks else np.zeros(0, np.float32)
    if end_s is not None and audio_start is not None:
        audio = audio[: max(0, round((end_s - audio_start) * audio_rate))]
    last = frame_times[-1] + 1.0 / max(info.fps, 1e-6) if frame_times else start_s
    face_times, faces = face_fn.results() if face_fn is not None else ([], [])
    return MediaSamples(
        info=info,
        start_s=start_s,
        end_s=end_s if end_s is not None else max(last, info.duration_s),
        frame_times=np.asarray(frame_times, np.float64),
        motion=np.asarray(motion, np.float32),
        sample_times=np.asarray(sample_times, np.float64),
        samples=samples,
        audio=audio,
        audio_rate=audio_rate,
        audio_start_s=audio_start if audio_start is not None else start_s,
        cuts=sorted(cuts),
        face_times=np.asarray(face_times, np.float64),
        faces=list(faces),
        decode_errors=errors,
        skipped_times=np.asarray(sorted(skipped), np.float64),
        motion_times=np.asarray(motion_times, np.float64) if skip_nonref else None,
    )


def iter_sampled_frames(
    path: str | os.PathLike, sample_fps: float = SAMPLE_FPS, thumb_width: int = THUMB_WIDTH
) -> Iterator[tuple[float, np.ndarray]]:
    """(time, small RGB frame) every 1/sample_fps seconds, streaming, video only."""
    next_sample = 0.0
    period = 1.0 / sample_fps
    for ev in stream_media(path, thumb_width=thumb_width, audio=False):
        if ev.kind == "video" and ev.t + 1e-6 >= next_sample:
            next_sample = max(next_sample + period, ev.t + period * 0.5)
            yield ev.t, cv2.cvtColor(ev.bgr, cv2.COLOR_BGR2RGB)


def decode_audio(path: str | os.PathLike, audio_rate: int = AUDIO_RATE) -> np.ndarray:
    """The whole audio track as mono float32 (empty when there is none)."""
    chunks = [ev.audio for ev in stream_media(path, audio_rate=audio_rate) if ev.kind == "audio"]
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


# -- timelines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SceneSource:
    """Where one scene's pictures and sound are: [start_s, end_s) of `path`."""

    path: str
    start_s: float
    end_s: float


def resolve_scene_sources(
    edit, video: str | os.PathLike | None = None, media_root: str | os.PathLike | None = None
) -> list[SceneSource | None]:
    """Per scene, the media span to analyse, or None where the media cannot be found.

    With `video`, that one file holds the whole timeline at timeline time (frame 0 = 0 s).
    Otherwise each scene's `media_path` from `source_start_s` is used; a missing file is looked
    up by name under `media_root` (recursively) to relink moved media. A source time past the
    file's end is retried relative to the file's start timecode (camera files often start at
    01:00:00:00).
    """
    out: list[SceneSource | None] = []
    if video is not None:
        v = str(video)
        if not Path(v).is_file():
            raise MediaError(f"The video '{video}' does not exist.")
        for scene in edit.scenes:
            out.append(SceneSource(v, edit.seconds(scene.start), edit.seconds(scene.end)))
        return out
    index = _index_root(media_root) if media_root is not None else {}
    infos: dict[str, MediaInfo | None] = {}
    for scene in edit.scenes:
        path = _find_media(scene.media_path, index)
        if path is None:
            out.append(None)
            continue
        if path not in infos:
            try:
                infos[path] = probe(path)
            except MediaError:
                infos[path] = None
        info = infos[path]
        if info is None:
            out.append(None)
            continue
        length = float(Fraction(scene.end - scene.start) / edit.rate)
        start = scene.source_start_s or 0.0
        if start >= info.duration_s and info.timecode_s and start >= info.timecode_s:
            start -= info.timecode_s
        if start >= info.duration_s:
            out.append(None)
            continue
        out.append(SceneSource(path, start, min(start + length, info.duration_s + 1e-3)))
    return out


def _index_root(root: str | os.PathLike) -> dict[str, str]:
    found: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            found.setdefault(name.lower(), os.path.join(dirpath, name))
    return found


def _find_media(media_path: str | None, index: dict[str, str]) -> str | None:
    if not media_path:
        return None
    p = media_path
    if p.startswith("file://"):
        from urllib.parse import unquote, urlparse

        p = unquote(urlparse(p).path)
    if index:
        hit = index.get(Path(p.replace("\\", "/")).name.lower())
        if hit:
            return hit
    return p if Path(p).is_file() else None


def collect_sources(
    sources: Sequence[SceneSource | None],
    sample_fps: float = SAMPLE_FPS,
    frame_fn: Callable[[np.ndarray], object] | None = None,
    face_fn: FaceObserver | None = None,
    skip_nonref: bool = True,
) -> list[MediaSamples | None]:
    """Per-scene samples with one pass per media file over the span its scenes need. The
    timeline gives the cuts, so nothing here needs every frame: non-reference frames are not
    decoded (`skip_nonref`, module docstring)."""
    by_path: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        if src is not None:
            by_path.setdefault(src.path, []).append(i)
    result: list[MediaSamples | None] = [None] * len(sources)
    for path, idxs in by_path.items():
        t0 = min(sources[i].start_s for i in idxs)
        t1 = max(sources[i].end_s for i in idxs)
        whole = collect(
            path,
            t0,
            t1,
            sample_fps=sample_fps,
            frame_fn=frame_fn,
            face_fn=face_fn,
            skip_nonref=skip_nonref,
        )
        for i in idxs:
            result[i] = whole.window(sources[i].start_s, sources[i].end_s)
    return result


def scene_samples(
    edit,
    video: str | os.PathLike | None = None,
    media_root: str | os.PathLike | None = None,
    sample_fps: float = SAMPLE_FPS,
    frame_fn: Callable[[np.ndarray], object] | None = None,
    face_fn: FaceObserver | None = None,
) -> list[MediaSamples | None]:
    """For each scene of `edit`, its sampled frames, motion and audio (None: media missing)."""
    sources = resolve_scene_sources(edit, video, media_root)
    return collect_sources(sources, sample_fps, frame_fn, face_fn)
