"""`python -m devserver`: the web app and its API on one local port, with a local S3 gallery.

    python -m devserver [--port 8000] [--models models/] [--static frontend/dist] [--gallery sample_gallery/]
                        [--jobs-dir runs/jobs] [--training-photos DIR] [--base-network FILE] [--vgg-weights FILE]

It prints the URL, then serves until Ctrl-C or SIGTERM, and stops the local S3 with it. Users' own styles
(POST /styles, /jobs) train one at a time on this machine's CPU, in a worker that runs the project's trainer
and exporter as a subprocess; the jobs live in --jobs-dir and carry on after a restart. Videos (POST /videos) are
stylized by a worker in this process; the local S3 holds them, kept in --jobs-dir/videos between runs.
"""

import argparse
import importlib.util
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_PHOTOS = ROOT.parent / "shared" / "assets" / "photos" / "train"
GALLERY_BUCKET = "fast-neural-style-gallery"
GALLERY_PREFIX = "gallery/"
VIDEOS_BUCKET = "fast-neural-style-videos"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m devserver", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)), help="default: $PORT or 8000")
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (this machine only)")
    parser.add_argument("--models", type=Path, default=ROOT / "models", help="folder of <style>.json + <style>.onnx")
    parser.add_argument("--static", type=Path, default=ROOT / "frontend" / "dist", help="the built web app")
    parser.add_argument("--gallery", type=Path, default=ROOT / "sample_gallery", help="photos for the local gallery")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="another page that may call the API, e.g. http://localhost:5174 (default: only the "
                             "stack's own pages and the dev web app's, http://localhost:5173)")
    jobs = parser.add_argument_group("training users' styles (POST /styles)")
    jobs.add_argument("--jobs-dir", type=Path, default=ROOT / "runs" / "jobs", help="the jobs' records and runs")
    jobs.add_argument("--training-photos", type=Path, default=SHARED_PHOTOS if SHARED_PHOTOS.is_dir() else None,
                      help="the photos a style trains on (default: ../shared/assets/photos/train, else --gallery)")
    jobs.add_argument("--base-network", default=first_file(ROOT / "models" / "bundled.onnx") or "none",
                      help="the fp32 multi-style network whose shared weights a new style starts from, or none "
                           "(default: models/bundled.onnx if there)")
    jobs.add_argument("--vgg-weights", default=first_file(ROOT / "weights" / "vgg16-caffe.pth") or "torchvision",
                      help="the loss network's weights (default: weights/vgg16-caffe.pth from make vgg-weights)")
    jobs.add_argument("--training-phases", default="", help="STEPS@CROP,... (default: stylejobs.jobs.Schedule)")
    return parser.parse_args(argv)


def videos_folder(args) -> Path:
    """Where the videos bucket is kept between runs of the local stack: beside the training jobs."""
    return args.jobs_dir / "videos"


def first_file(path: Path) -> str | None:
    return str(path) if path.is_file() else None


def load_function(folder: str, name: str):
    """A Lambda handler from its code folder, as Lambda loads it (both are called app.py)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.handler


def check_models(models: Path) -> bool:
    """False (with a message) without a models folder; a warning when it holds no styles."""
    if not models.is_dir():
        print(f"devserver: no models folder {models}", file=sys.stderr)
        return False
    if not any(models.glob("*.onnx")) or not any(models.glob("*.json")):
        print(f"devserver: WARNING: {models} has no models (STYLE.json cards with their .onnx files), "
              "so there are no styles to apply.\n"
              "  Train and export one (README: 'Training a style'), or pass --models DIR.", file=sys.stderr, flush=True)
    return True


def lambda_environment(args, s3_endpoint: str):
    """What Lambda gives the functions: their code folder and the layers on sys.path (the checkout's root for the
    stylecore layer), their environment. The credentials are moto's dummies, so nothing here can reach a real
    AWS account."""
    sys.path[:0] = [str(ROOT / "lambda_inference"), str(ROOT), str(ROOT / "layers" / "common" / "python"),
                    str(ROOT / "lambda_jobs"), str(ROOT / "lambda_video")]
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "MODELS_DIR": str(args.models.resolve()), "GALLERY_BUCKET": GALLERY_BUCKET,
        "GALLERY_PREFIX": GALLERY_PREFIX,
        "MODELS_VARIANT": os.environ.get("MODELS_VARIANT", "halfres"),  # as the template's default
        # users' own styles: the local engine, no sign-in, the finished styles served from the jobs folder
        "JOBS_ENGINE": "local", "JOBS_AUTH": "none", "JOBS_DIR": str(args.jobs_dir.resolve()),
        "USER_STYLES_DIR": str(args.jobs_dir.resolve()),
        "TRAINING_PHOTOS": str((args.training_photos or args.gallery).resolve()),
        "TRAINING_BASE_NETWORK": args.base_network, "TRAINING_VGG_WEIGHTS": args.vgg_weights,
        "TRAINING_SAMPLE_PHOTO": first_file(args.gallery.resolve() / "chelsea.jpg") or "",
        "TRAINING_PHASES": args.training_phases,
        # videos: the local S3, a worker in this process, no sign-in
        "VIDEOS_BUCKET": VIDEOS_BUCKET, "VIDEOS_ENGINE": "local", "VIDEOS_AUTH": "none",
    })


def routes() -> dict:
    """Each route's function (its name in the template, and the handler module), as API Gateway maps them."""
    inference = load_function("lambda_inference", "inference_app")
    gallery = load_function("lambda_gallery", "gallery_app")
    jobs = load_function("lambda_jobs", "jobs_app")  # starts the local training worker
    videos = load_function("lambda_video", "video_app")  # starts the local video worker
    return {"/styles": ("InferenceFunction", inference), "/stylize": ("InferenceFunction", inference),
            "/gallery": ("GalleryFunction", gallery), "POST /styles": ("JobsFunction", jobs),
            "/styles/{id}": ("JobsFunction", jobs), "/jobs": ("JobsFunction", jobs),
            "/jobs/{id}": ("JobsFunction", jobs), "/jobs/{id}/model": ("JobsFunction", jobs),
            "/jobs/{id}/finish": ("JobsFunction", jobs),
            **{route: ("VideoFunction", videos) for route in ("/videos", "/videos/limits", "/videos/{id}",
                                                              "/videos/{id}/start")}}


def serve(args, s3) -> int:
    from devserver.gateway import DEV_APP_ORIGINS, Gateway, content_security_policy

    photos = s3.seed_gallery(GALLERY_BUCKET, GALLERY_PREFIX, args.gallery)
    s3.create_bucket(VIDEOS_BUCKET)
    s3.restore_bucket(VIDEOS_BUCKET, videos_folder(args))  # the videos of the last run, kept by main at its end
    try:
        server = Gateway((args.host, args.port), routes(), args.static, args.models,
                         allowed_origins=[*DEV_APP_ORIGINS, *args.allow_origin],
                         csp=content_security_policy(gallery=s3.endpoint, videos=s3.endpoint))
    except OSError as error:
        print(f"devserver: cannot listen on {args.host}:{args.port} ({error.strerror}); "
              "pick another port: PORT=8001 make dev, or --port 8001", file=sys.stderr)
        return 1
    url = f"http://{args.host}:{server.server_address[1]}"
    os.environ["ALLOWED_ORIGIN"] = server.own_origin  # the handlers' CORS origin: never `*`
    app = "the web app" if (args.static / "index.html").is_file() else f"no web app ({args.static} not built)"
    print(f"Fast neural style, local stack: {url}/  ({app})\n"
          f"  API {url}/api  (models: {args.models}; gallery: {photos} photos in local S3 {s3.endpoint})\n"
          "  Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("devserver: stopped", flush=True)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops it as Ctrl-C does, at any moment
    if not check_models(args.models):
        return 2
    from devserver.local_s3 import LocalS3

    s3 = LocalS3(args.host).start()
    try:
        lambda_environment(args, s3.endpoint)
        return serve(args, s3)
    finally:
        if "jobs_app" in sys.modules:  # a running job stops with a checkpoint, and resumes at the next start
            sys.modules["jobs_app"].SERVICE.engine.stop()
        if "video_app" in sys.modules:  # a running video stops between chunks, and resumes at the next start
            sys.modules["video_app"].SERVICE.engine.stop()
            s3.save_bucket(VIDEOS_BUCKET, videos_folder(args))
        s3.stop()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # stopped while starting: everything started is stopped by main's finally
        sys.exit(130)
