"""What a clip may be, and the sizes the work is cut into: written once, read by the handler, the workflow's
steps, the local worker and (through GET /videos/limits) the web app."""

MAX_BYTES = 200_000_000  # the upload's size: a minute of 4K phone video is about 350 MB, of 1080p about 130 MB
MAX_DURATION_S = 60.0
MAX_SIZE = 1280  # the result's longest side: 720p stays 720p, anything larger comes down to it
MIN_SIZE = 16
MAX_FPS = 30.0  # faster clips are brought down to it, dropping frames evenly
# The types a browser gives phone clips (a .mov is video/quicktime), and what the API accepts for upload.
CONTENT_TYPES = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm"}
MAX_FILENAME = 255

CHUNK_FRAMES = 48  # frames per chunk of work: about 20 s of one Lambda at 720p, small enough to spread widely
UPLOAD_EXPIRES_S = 3600  # the presigned POST's lifetime; a job whose upload never came is failed after it
RESULT_URL_EXPIRES_S = 3600
MAX_ACTIVE_PER_USER = 2  # videos uploading, queued or running at once
MAX_MINUTES_PER_DAY = 10.0  # minutes of video a user may start in a UTC day
MAX_ACTIVE_STACK = 20  # videos in progress for the whole stack: a bound on what a burst can cost

# The result: H.264 (plays in every browser) at a quality where the style's strokes survive, AAC sound.
VIDEO_CODEC, VIDEO_CRF, VIDEO_PRESET = "libx264", 18, "veryfast"
AUDIO_CODEC, AUDIO_RATE, AUDIO_BITRATE = "aac", 48_000, 128_000


def as_dict() -> dict:
    """The limits a client checks before uploading (GET /videos/limits)."""
    return {"max_bytes": MAX_BYTES, "max_duration_s": MAX_DURATION_S, "max_size": MAX_SIZE, "max_fps": MAX_FPS,
            "content_types": list(CONTENT_TYPES), "extensions": sorted(set(CONTENT_TYPES.values()))}
