"""A corpus of cost bombs, made here: small files that cost a decoder far more time or memory than their size.

Each maker returns the file's bytes. The tests (test_cost_bombs.py) feed them to the decoder, and
`python tests/cost_bombs.py` prints the time and peak memory each costs (the figures from before the checks are
in test_cost_bombs.py's docstring).
"""

import io
import struct
import threading
import time

from PIL import Image


def _segments(jpeg: bytes):
    """(marker, start, end) of each marker segment of a JPEG, entropy-coded data included in its SOS segment."""
    position = 2
    while position < len(jpeg) - 1:
        marker = jpeg[position + 1]
        if marker == 0xD9:  # EOI
            yield marker, position, position + 2
            return
        length = struct.unpack(">H", jpeg[position + 2:position + 4])[0]
        end = position + 2 + length
        if marker == 0xDA:  # the scan's data runs to the next marker that is not a stuffed 0xFF00 or a restart
            while not (jpeg[end] == 0xFF and jpeg[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
        yield marker, position, end
        position = end


def jpeg_scan_bomb(width: int = 4000, height: int = 4000, repeats: int = 5000) -> bytes:
    """A progressive JPEG whose last scan (an AC refinement over the whole frame, a few bytes of end-of-band
    runs) is repeated `repeats` times: each repeat makes libjpeg walk every block of the frame again."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(buffer, "JPEG", progressive=True, quality=90)
    jpeg = buffer.getvalue()
    scans = [(start, end) for marker, start, end in _segments(jpeg) if marker == 0xDA]
    last_start, last_end = scans[-1]
    return jpeg[:last_end] + jpeg[last_start:last_end] * repeats + jpeg[last_end:]


def tiff_strip_bomb(strips: int = 400_000) -> bytes:
    """An uncompressed 1-pixel-wide grayscale TIFF of `strips` rows, one strip per row: Pillow builds one tile
    per strip (a Python object each) when it opens the file."""
    entries = []
    offsets_at = 8 + 2 + 9 * 12 + 4
    counts_at = offsets_at + 4 * strips
    data_at = counts_at + 2 * strips

    def entry(tag, kind, count, value):  # kind 3 SHORT, 4 LONG; a single SHORT sits left in the 4-byte field
        inline_short = kind == 3 and count == 1
        entries.append(struct.pack("<HHI", tag, kind, count) + struct.pack("<HH" if inline_short else "<I",
                                                                             value, *((0,) if inline_short else ())))
    entry(256, 4, 1, 1)  # ImageWidth
    entry(257, 4, 1, strips)  # ImageLength
    entry(258, 3, 1, 8)  # BitsPerSample
    entry(259, 3, 1, 1)  # Compression: none
    entry(262, 3, 1, 1)  # Photometric: black is zero
    entry(273, 4, strips, offsets_at)  # StripOffsets
    entry(277, 3, 1, 1)  # SamplesPerPixel
    entry(278, 4, 1, 1)  # RowsPerStrip
    entry(279, 3, strips, counts_at)  # StripByteCounts (SHORT)
    ifd = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", 0)
    offsets = struct.pack(f"<{strips}I", *[data_at + i % 256 for i in range(strips)])
    counts = struct.pack(f"<{strips}H", *[1] * strips)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + offsets + counts + bytes(range(256))


def png16_canvas(side: int = 7000) -> bytes:
    """A 16-bit grayscale PNG of side x side flat pixels: a small file, 2 bytes a pixel once decoded."""
    buffer = io.BytesIO()
    Image.new("I;16", (side, side), 1000).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def webp_canvas(side: int = 7000) -> bytes:
    """A lossless WebP of one flat colour with alpha: a few hundred bytes, 4 bytes a pixel once decoded."""
    buffer = io.BytesIO()
    Image.new("RGBA", (side, side), (10, 20, 30, 200)).save(buffer, "WEBP", lossless=True, quality=100, method=6)
    return buffer.getvalue()


def gif_canvas(side: int = 7000) -> bytes:
    """A GIF of one flat colour: LZW makes it tiny, and it decodes to a palette frame, then RGB."""
    buffer = io.BytesIO()
    Image.new("P", (side, side), 3).save(buffer, "GIF")
    return buffer.getvalue()


CORPUS = {"jpeg_scan_bomb": jpeg_scan_bomb, "tiff_strip_bomb": tiff_strip_bomb, "png16_canvas": png16_canvas,
          "webp_canvas": webp_canvas, "gif_canvas": gif_canvas}


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def measure(work) -> tuple[float, int, object]:
    """(seconds, peak resident memory added while `work()` ran, its result or the exception it raised), sampled
    every millisecond by a thread (Pillow and numpy release the GIL while they work)."""
    baseline, peak, done = rss_bytes(), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.001)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        outcome = work()
    except Exception as error:  # noqa: BLE001 - the outcome is reported, whatever it is
        outcome = error
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, max(0, max(peak[0], rss_bytes()) - baseline), outcome


def release_freed_memory() -> None:
    """Ask glibc to give freed heap back and to keep large blocks out of it, so that RSS measures each input."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD: a fixed 1 MiB, so big buffers are mapped and unmapped
    libc.malloc_trim(0)


if __name__ == "__main__":
    import sys

    sys.path[:0] = ["lambda_inference"]
    from stylecore.imaging import decode_image

    release_freed_memory()
    for name, make in CORPUS.items():
        data = make()
        seconds, peak, outcome = measure(lambda: decode_image(data, 1024, 2_100_000))  # noqa: B023
        result = type(outcome).__name__ if isinstance(outcome, Exception) else f"{outcome.width}x{outcome.height}"
        print(f"{name:16} {len(data) / 1e3:9.1f} kB  {seconds:7.2f} s  {peak / 1e6:7.0f} MB  {result}", flush=True)
        release_freed_memory()
