"""Clips in and out, through PyAV (the FFmpeg bindings; its wheel carries its own FFmpeg build, libx264 with it).

    probe(path)                         what a clip is (or a VideoError that says what is wrong with it)
    plan_of(source, max_size)           the result's frames, rate and size
    stylize_range(path, plan, a, b, paint, out)   frames a..b-1: decoded, painted, encoded as one chunk
    join(chunks, source_path, plan, out)          the chunks' packets as one MP4, with the clip's sound as AAC

The result's timeline is constant-rate: frame k shows the clip as it was at k / fps, the latest source frame at
that moment (phones record at a variable rate; above MAX_FPS frames are dropped evenly). Each chunk is encoded
on its own, with the same settings, so that joining them copies packets and decodes nothing; every chunk
starts on a key frame.
"""

import fractions
import math
from dataclasses import asdict, dataclass

import av
import numpy as np

from . import limits


class VideoError(Exception):
    """A clip that cannot be used; `code` for programs (invalid_video, video_too_long, ...), the message for
    people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Source:
    bytes: int
    duration_s: float
    width: int  # as displayed (a phone's rotation applied)
    height: int
    fps: float
    has_audio: bool
    rotation: int = 0  # degrees counterclockwise that the clip's display matrix turns its frames

    def public(self) -> dict:
        fields = asdict(self)
        fields.pop("rotation")
        return fields


@dataclass
class Plan:
    frames: int
    fps: fractions.Fraction
    width: int
    height: int
    rotation: int = 0

    def as_record(self) -> dict:
        return {"frames": self.frames, "fps": [self.fps.numerator, self.fps.denominator], "width": self.width,
                "height": self.height, "rotation": self.rotation}

    @classmethod
    def from_record(cls, data: dict) -> "Plan":
        return cls(data["frames"], fractions.Fraction(*data["fps"]), data["width"], data["height"],
                   data.get("rotation", 0))


NOT_A_VIDEO = "This file is not a video this service can read: send an MP4, MOV or WebM clip."


def probe(path, size_bytes: int) -> Source:
    """The clip's facts, read from its container and every video packet (so that a truncated file is found
    here, not half-way through the work), and its first frame decoded."""
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        raise VideoError("invalid_video", NOT_A_VIDEO) from None
    with container:
        if not container.streams.video:
            raise VideoError("invalid_video", "This file has no video stream (is it a sound file?).")
        stream = container.streams.video[0]
        times = packet_times(container, stream)
        if stream.frames and len(times) < stream.frames:
            raise VideoError("invalid_video", f"The clip is cut short: it declares {stream.frames} frames, "
                             f"the file holds {len(times)}. Upload the whole file again.")
        container.seek(0)
        first = first_frame(container, stream)
        has_audio = bool(container.streams.audio)
    span = times[-1] - times[0]
    fps = (len(times) - 1) / span if len(times) > 1 and span > 0 else float(stream.average_rate or limits.MAX_FPS)
    rotation = int(getattr(first, "rotation", 0) or 0) % 360
    width, height = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
    return Source(size_bytes, round(span + 1 / fps, 3), width, height, round(fps, 3), has_audio, rotation)


def packet_times(container, stream) -> list:
    """The video packets' presentation times in seconds, sorted; a VideoError when there are none."""
    times = []
    try:
        for packet in container.demux(stream):
            if packet.size and packet.pts is not None:
                times.append(float(packet.pts * packet.time_base))
    except av.FFmpegError:
        raise VideoError("invalid_video", "The clip is damaged or cut short: its frames cannot be read to the "
                         "end. Upload the whole file again.") from None
    if not times:
        raise VideoError("invalid_video", "The clip has no frames.")
    return sorted(times)


def first_frame(container, stream):
    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError:
        pass
    raise VideoError("invalid_video", "The clip's frames cannot be decoded: " + NOT_A_VIDEO)


def check_limits(source: Source) -> None:
    if source.bytes > limits.MAX_BYTES:
        raise VideoError("video_too_large", f"The clip is {source.bytes / 1e6:.0f} MB; at most "
                         f"{limits.MAX_BYTES / 1e6:.0f} MB.")
    if source.duration_s > limits.MAX_DURATION_S + 0.5:  # a container's rounding is not the user's fault
        raise VideoError("video_too_long", f"The clip is {source.duration_s:.0f} s long; at most "
                         f"{limits.MAX_DURATION_S:.0f} s. Trim it first.")


def plan_of(source: Source, max_size: int = limits.MAX_SIZE) -> Plan:
    """The result: the clip's rate up to MAX_FPS, its size scaled down to max_size (never up), even sides for
    H.264's 4:2:0."""
    fps = common_rate(min(source.fps, limits.MAX_FPS))
    scale = min(1.0, max_size / max(source.width, source.height))
    width, height = (max(2, 2 * round(side * scale / 2)) for side in (source.width, source.height))
    frames = max(1, round(source.duration_s * fps))
    return Plan(frames, fps, width, height, source.rotation)


def common_rate(fps: float) -> fractions.Fraction:
    """The usual rate nearest a measured one (WebM's millisecond times make 30 fps measure 29.997), else the
    measured one."""
    usual = [fractions.Fraction(round(fps)), fractions.Fraction(round(fps * 1.001) * 1000, 1001)]
    nearest = min((rate for rate in usual if rate), key=lambda rate: abs(float(rate) - fps), default=None)
    if nearest is not None and abs(float(nearest) - fps) / fps < 0.002:
        return nearest
    return fractions.Fraction(fps).limit_denominator(1001)


def chunks_of(frames: int, chunk_frames: int = limits.CHUNK_FRAMES) -> list:
    """[{index, start, end}]: frames start..end-1 of the result, in order."""
    count = math.ceil(frames / chunk_frames)
    return [{"index": n, "start": n * chunk_frames, "end": min(frames, (n + 1) * chunk_frames)}
            for n in range(count)]


def frames_at(path, plan: Plan, start: int, end: int):
    """The result's frames start..end-1 as RGB arrays of the plan's size: for frame k, the latest source frame
    shown at k / fps (a quarter frame early counts as on time: containers round their timestamps)."""
    tolerance = 0.25 / plan.fps
    t0 = first_time(path)
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start > 0:
            container.seek(int((t0 + float(start / plan.fps)) / stream.time_base), stream=stream, backward=True)
        current, k = None, start
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * frame.time_base) - t0
            while k < end and t > k / plan.fps + tolerance and current is not None:
                yield current
                k += 1
            if k >= end:
                return
            if t <= k / plan.fps + tolerance:
                current = to_rgb(frame, plan)
        while k < end and current is not None:  # the last frame holds to the end
            yield current
            k += 1


def first_time(path) -> float:
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is not None:
                return float(frame.pts * frame.time_base)
    return 0.0


def to_rgb(frame, plan: Plan) -> np.ndarray:
    turned = plan.rotation in (90, 270)
    width, height = (plan.height, plan.width) if turned else (plan.width, plan.height)
    rgb = frame.reformat(width, height, format="rgb24", interpolation="AREA").to_ndarray()
    return np.ascontiguousarray(np.rot90(rgb, plan.rotation // 90)) if plan.rotation else rgb


def video_stream(container, plan: Plan):
    stream = container.add_stream(limits.VIDEO_CODEC, rate=plan.fps)
    stream.width, stream.height, stream.pix_fmt = plan.width, plan.height, "yuv420p"
    stream.options = {"crf": str(limits.VIDEO_CRF), "preset": limits.VIDEO_PRESET}
    stream.codec_context.time_base = 1 / plan.fps
    return stream


def stylize_range(path, plan: Plan, start: int, end: int, paint, out_path, on_frame=None) -> int:
    """Frames start..end-1, each through `paint` (RGB -> RGB), encoded as one MP4 chunk at out_path; how many.
    on_frame(done, rgb) after each frame (progress, a preview; raise there to stop)."""
    done = 0
    with av.open(str(out_path), "w", format="mp4") as container:
        stream = video_stream(container, plan)
        for rgb in frames_at(path, plan, start, end):
            painted = paint(rgb)
            frame = av.VideoFrame.from_ndarray(painted, format="rgb24")
            frame.pts = done
            container.mux(stream.encode(frame))
            done += 1
            if on_frame is not None:
                on_frame(done, painted)
        container.mux(stream.encode())
    if done != end - start:
        raise VideoError("invalid_video", f"The clip ended early: frames {start} to {end - 1} were asked for, "
                         f"{done} could be read.")
    return done


def join(chunk_paths: list, source_path, plan: Plan, out_path) -> dict:
    """The chunks' video packets, in order, as one MP4 (moov first, so that it plays while it downloads), with
    the clip's sound re-encoded as AAC, cut to the video's length and interleaved with it; the result's facts."""
    with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        with av.open(str(chunk_paths[0])) as first:
            video = out.add_stream_from_template(first.streams.video[0])
        sound = encoded_audio(source_path, out, float(plan.frames / plan.fps))
        offset = 0
        for chunk_path in chunk_paths:
            offset += copy_packets(chunk_path, video, out, offset, sound)
        for packet in sound:
            out.mux(packet)
    if offset != plan.frames:
        raise VideoError("invalid_video", f"The stylized chunks hold {offset} frames, not {plan.frames}.")
    return {"frames": offset, "duration_s": round(float(offset / plan.fps), 3), "width": plan.width,
            "height": plan.height, "fps": round(float(plan.fps), 3), "has_audio": sound is not NO_SOUND}


class _NoSound(list):
    pass


NO_SOUND = _NoSound()


def copy_packets(chunk_path, video, out, offset: int, sound: list) -> int:
    """A chunk's packets shifted by `offset` frames, each after the sound packets that come before it; how many
    frames the chunk holds."""
    frames = 0
    with av.open(str(chunk_path)) as chunk:
        stream = chunk.streams.video[0]
        step = round(1 / (stream.average_rate * stream.time_base))  # one frame in the chunk's time base
        for packet in chunk.demux(stream):
            if packet.dts is None:
                continue
            packet.pts += offset * step
            packet.dts += offset * step
            while sound and sound[0].dts * sound[0].time_base <= packet.dts * stream.time_base:
                out.mux(sound.pop(0))
            packet.stream = video
            out.mux(packet)
            frames += 1
    return frames


def encoded_audio(source_path, out, seconds: float) -> list:
    """The clip's first sound stream as AAC packets of a new stream of `out`, up to `seconds`; NO_SOUND for a
    clip without one."""
    with av.open(str(source_path), metadata_errors="ignore") as source:
        if not source.streams.audio:
            return NO_SOUND
        sound = out.add_stream(limits.AUDIO_CODEC, rate=limits.AUDIO_RATE, layout="stereo")
        sound.bit_rate = limits.AUDIO_BITRATE
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=limits.AUDIO_RATE)
        packets, written, last = [], 0, int(seconds * limits.AUDIO_RATE)
        try:
            for frame in source.decode(source.streams.audio[0]):
                for part in resampler.resample(frame):
                    keep = min(part.samples, last - written)
                    if keep <= 0:
                        break
                    part = trimmed(part, keep, written)
                    packets.extend(sound.encode(part))
                    written += keep
        except av.FFmpegError:
            pass  # damaged sound after the frames checked out: keep what decoded
        packets.extend(sound.encode())
    return packets


def trimmed(frame, samples: int, at: int):
    """The frame's first `samples`, timed from the result's start (`at` samples in)."""
    data = frame.to_ndarray()[:, :samples]
    part = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout="stereo")
    part.sample_rate, part.pts, part.time_base = frame.sample_rate, at, fractions.Fraction(1, frame.sample_rate)
    return part


def facts(path) -> dict:
    """A finished file's facts, read back by decoding it to the end (what a test or a player sees)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return {"frames": frames, "width": stream.codec_context.width, "height": stream.codec_context.height,
                "fps": float(stream.average_rate), "duration_s": container.duration / 1e6 if container.duration
                else None, "has_audio": bool(container.streams.audio), "codec": stream.codec_context.name}
