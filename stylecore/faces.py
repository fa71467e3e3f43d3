"""Protect faces: the strength lowered inside detected faces, so that a portrait keeps its people recognisable.

The detector is OpenCV's Viola-Jones Haar cascade for frontal faces (haarcascade_frontalface_default.xml), which
ships inside the opencv-python-headless 4.x wheel (cv2.data.haarcascades; OpenCV 5 moved the cascades out of its
main package): it installs from PyPI and nothing is downloaded at run time. It is optional (the `faces` extra):
the wheel unzips to about 170 MB, which does not fit beside onnxruntime and numpy within Lambda's 250 MB, so
faces are protected by the `stylize` command and the local stack, and the Lambda answers that it cannot.

What it misses: profiles and faces turned away by more than about 30 degrees, faces tilted by more than about
15 degrees, faces under MIN_FACE_SIDE pixels at DETECT_SIDE (about 2.5% of the photo's long side: a crowd's
faces), and dark, blurred or half-hidden faces; now and then it takes a patch of texture for a face.
"""

import numpy as np
from PIL import Image

from .errors import InvalidParameter

FACE_STYLE = 0.3  # the fraction of the strength left inside a face
DETECT_SIDE = 1024  # faces are looked for in the photo scaled to this long side: the cascade's cost is per pixel
MIN_FACE_SIDE = 24  # the cascade's own window
CASCADE_FILE = "haarcascade_frontalface_default.xml"
# A detected box covers brows to mouth; the protected ellipse reaches past it to the hair and chin, and fades out
# over FADE of its radius so that no edge shows where the style comes back.
ELLIPSE_SCALE = (0.6, 0.75)
FADE = 0.3

_cascade = None


def load_cascade():
    """The frontal-face cascade, loaded once; InvalidParameter where OpenCV (with its cascades) is not installed."""
    global _cascade
    if _cascade is None:
        try:
            import cv2

            cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE_FILE)
        except (ImportError, AttributeError):
            cascade = None
        if cascade is None or cascade.empty():
            raise InvalidParameter("protect_faces needs OpenCV's face detector (opencv-python-headless 4.x: pip "
                                   "install 'fast-neural-style[faces]'), which this server does not have")
        _cascade = cascade
    return _cascade


def face_boxes(rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of each frontal face found in (H, W, 3) uint8 pixels, in their coordinates."""
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    gray = Image.fromarray(rgb).convert("L")
    if scale < 1.0:
        gray = gray.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR)
    found = load_cascade().detectMultiScale(cv2.equalizeHist(np.asarray(gray)), scaleFactor=1.1, minNeighbors=5,
                                            minSize=(MIN_FACE_SIDE, MIN_FACE_SIDE))
    return [tuple(float(v) / scale for v in box) for box in found]


def face_weight(rgb: np.ndarray) -> np.ndarray | None:
    """(H, W) float32: FACE_STYLE inside each detected face, 1 away from faces, a soft edge between; None when
    there is no face."""
    boxes = face_boxes(rgb)
    if not boxes:
        return None
    height, width = rgb.shape[:2]
    protection = np.zeros((height, width), np.float32)
    reach = 1.0 + FADE
    for x, y, w, h in boxes:
        cx, cy, ax, ay = x + w / 2, y + h / 2, w * ELLIPSE_SCALE[0], h * ELLIPSE_SCALE[1]
        x0, x1 = max(0, int(cx - reach * ax)), min(width, int(cx + reach * ax) + 1)
        y0, y1 = max(0, int(cy - reach * ay)), min(height, int(cy + reach * ay) + 1)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        distance = np.sqrt(((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2)
        inside = np.clip((reach - distance) / FADE, 0.0, 1.0)
        protection[y0:y1, x0:x1] = np.maximum(protection[y0:y1, x0:x1], inside)
    return 1.0 - (1.0 - FACE_STYLE) * protection
