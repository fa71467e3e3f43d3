"""videojobs.media on clips the tests make: the result's timeline, size and rotation, and chunks joined into
one file that is the same as the clip stylized in one piece."""

import fractions

import av
import numpy as np
import pytest
from synthetic import panning_clip
from videojobs import media


def frames_of(path) -> list:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24").astype(np.int16) for frame in container.decode(video=0)]


def invert(rgb):
    return 255 - rgb


@pytest.mark.parametrize("chunk_frames", [5, 7, 100])
def test_chunks_joined_are_the_clip_frame_for_frame_with_its_sound(tmp_path, chunk_frames):
    source = tmp_path / "clip.mp4"
    panning_clip(source, seconds=2.0, fps=12, size=(96, 64))
    plan = media.plan_of(media.probe(source, source.stat().st_size))
    chunks = []
    for chunk in media.chunks_of(plan.frames, chunk_frames):
        chunks.append(tmp_path / f"chunk{chunk['index']}.mp4")
        media.stylize_range(source, plan, chunk["start"], chunk["end"], invert, chunks[-1])
    facts = media.join(chunks, source, plan, tmp_path / "out.mp4")
    assert facts == {"frames": 24, "duration_s": 2.0, "width": 96, "height": 64, "fps": 12.0, "has_audio": True}
    read_back = media.facts(tmp_path / "out.mp4")
    assert (read_back["frames"], read_back["has_audio"], read_back["codec"]) == (24, True, "h264")
    original, result = frames_of(source), frames_of(tmp_path / "out.mp4")
    errors = [np.abs((255 - a) - b).mean() for a, b in zip(original, result, strict=True)]
    assert max(errors) < 6  # each frame is its own source frame, inverted (x264's loss aside), in order
    shifted = [np.abs((255 - a) - b).mean() for a, b in zip(original[1:], result, strict=False)]
    assert min(shifted) > max(errors)  # and not its neighbour


def test_a_variable_rate_clip_maps_to_a_constant_rate_timeline(tmp_path):
    """Frames at 0, 0.1, 0.3, 0.35, 0.4 s (a phone's variable rate): the result at 10 fps shows, at each
    1/10 s, the latest frame shown by then."""
    path = tmp_path / "vfr.mp4"
    times = [0.0, 0.1, 0.3, 0.35, 0.4]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=20)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for n, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 40 * (n + 1), np.uint8), "rgb24")
            frame.pts, frame.time_base = round(t * 1000), fractions.Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    plan = media.Plan(frames=5, fps=fractions.Fraction(10), width=32, height=32)
    shown = [int(rgb.mean()) for rgb in media.frames_at(path, plan, 0, 5)]
    levels = [40, 80, 80, 120, 200]  # t=0: frame 0; 0.1: 1; 0.2: still 1; 0.3: 2; 0.4: 4 (0.35 was passed by)
    assert all(abs(a - b) <= 4 for a, b in zip(shown, levels, strict=True)), shown


def test_a_phones_rotation_is_applied_and_the_sides_follow(tmp_path):
    path = tmp_path / "rotated.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(90)
        for n in range(3):
            rgb = np.zeros((32, 64, 3), np.uint8)
            rgb[:, :16] = 255  # a white band on the left of the stored frame
            frame = av.VideoFrame.from_ndarray(rgb, "rgb24")
            frame.pts = n
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    source = media.probe(path, 1)
    assert (source.width, source.height, source.rotation) == (32, 64, 90)
    plan = media.plan_of(source)
    rgb = next(iter(media.frames_at(path, plan, 0, 1)))
    assert rgb.shape == (64, 32, 3)
    assert rgb[-16:].mean() > 200 and rgb[:-16].mean() < 60  # turned a quarter counterclockwise: band at the bottom


@pytest.mark.parametrize(("measured", "rate"), [(11.998, "12"), (29.97, "30000/1001"), (29.997, "30"),
                                                (23.976, "24000/1001"), (17.3, "173/10")])
def test_rates_snap_to_the_usual_ones_only_when_near(measured, rate):
    assert str(media.common_rate(measured)) == rate


def test_sizes_come_down_to_the_limit_with_even_sides_never_up():
    def plan(width, height, max_size=1280):
        return media.plan_of(media.Source(1, 10.0, width, height, 60.0, False), max_size)
    assert (plan(1920, 1080).width, plan(1920, 1080).height, plan(1920, 1080).fps) == (1280, 720, 30)
    assert (plan(640, 360).width, plan(640, 360).height) == (640, 360)
    assert (plan(101, 51, 50).width, plan(101, 51, 50).height) == (50, 26)
    assert plan(1920, 1080).frames == 300


def test_chunks_cover_every_frame_once():
    chunks = media.chunks_of(100, 48)
    assert [(c["start"], c["end"]) for c in chunks] == [(0, 48), (48, 96), (96, 100)]
