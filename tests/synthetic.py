"""What the tests make for themselves, shared by many modules: photo-like images and a transformer network
whose output spans the pixel range. Fixtures built on them are in conftest.py."""

import numpy as np
from PIL import Image


def synthetic_photo(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like image: smooth gradients, a few rectangles and some noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([
        128 + 100 * np.sin(x / (5 + 10 * rng.random()) + rng.random() * 6),
        128 + 100 * np.cos(y / (5 + 10 * rng.random()) + rng.random() * 6),
        255 * (x + y) / (width + height),
    ], axis=-1)
    for _ in range(3):
        x0, y0 = rng.integers(0, width // 2), rng.integers(0, height // 2)
        image[y0:y0 + height // 3, x0:x0 + width // 3] = rng.integers(0, 255, 3)
    image += rng.normal(0, 8, image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def styled_test_transformer(seed: int):
    """A TransformerNet with fixed random weights whose output spans the pixel range.

    A freshly initialised network returns values near 0 (a black image once clamped), which would
    hide colour, strength and tiling bugs; scaling the last convolution and centring it on grey
    gives a varied, photo-dependent output.
    """
    import torch

    from training.model import TransformerNet

    torch.manual_seed(seed)
    net = TransformerNet().eval()
    with torch.no_grad():
        net.conv_out.conv.weight.mul_(40.0)
        net.conv_out.conv.bias.fill_(128.0)
    return net


def panning_clip(path, seconds: float = 2.0, fps: int = 12, size: tuple = (160, 96), audio: bool = True,
                 seed: int = 0, pan_px: int = 2) -> None:
    """A clip as a phone would make one, made with PyAV: a window panning across a photo-like image by `pan_px`
    pixels a frame, and (with `audio`) a 440 Hz tone; MP4 (H.264 + AAC), MOV or WebM (VP9 + Opus) by the
    suffix."""
    import fractions

    import av

    width, height = size
    frames = max(1, round(seconds * fps))
    scene = np.asarray(synthetic_photo(width + pan_px * frames + 1, height, seed))
    webm = str(path).endswith(".webm")
    with av.open(str(path), "w") as container:
        video = container.add_stream("libvpx-vp9" if webm else "libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("libopus" if webm else "aac", rate=48000, layout="stereo") if audio else None
        for n in range(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(scene[:, n * pan_px:n * pan_px + width]), "rgb24")
            frame.pts = n
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if sound is not None:
            rate, samples = 48000, int(48000 * frames / fps)
            t = np.arange(samples) / rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, samples, 960):
                part = np.stack([tone[start:start + 960]] * 2)
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(part), format="fltp", layout="stereo")
                frame.sample_rate, frame.pts, frame.time_base = rate, start, fractions.Fraction(1, rate)
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
