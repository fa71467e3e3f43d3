"""Upload what the SageMaker training jobs of users' styles read, to the stack's styles bucket:

    training/source.tar.gz   training/, export/, stylecore, train_style.py and requirements.txt: the
                             prebuilt PyTorch container runs train_style.py from it (pip installs requirements.txt)
    training/wheels/         the wheels requirements.txt installs: the jobs run without network
                             (EnableNetworkIsolation), so pip reads only this channel (--no-index)
    training/assets/         bundled.onnx (the fp32 multi-style network a new style starts from), vgg16-caffe.pth
                             (make vgg-weights) and sample.jpg (the photo the previews show)
    training/photos/         the photos styles train on (COCO train2014, or ../shared/assets/photos/train)

    python scripts/publish_training.py --bucket STYLES_BUCKET --photos DIR [--base-network models/bundled.onnx]
        [--wheels DIR | --python-version 3.11]
"""

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"training": ROOT / "training", "export": ROOT / "export", "stylecore": ROOT / "stylecore"}
ENTRY = b"import sys\n\nfrom training.job import main\n\nsys.exit(main())\n"  # the job: training/job.py
# What the container lacks (it has torch, torchvision, numpy, pillow): the exporter's and the core's packages.
PACKAGES = ["onnx>=1.16", "onnxruntime>=1.18", "tqdm>=4.66"]
WHEELS_CHANNEL = "/opt/ml/input/data/wheels"  # stylejobs/sagemaker.py's channel `wheels` (training/wheels/)
# The toolkit runs `pip install -r requirements.txt`: from the wheels channel alone, since the job has no network.
REQUIREMENTS = "\n".join(["--no-index", f"--find-links {WHEELS_CHANNEL}", *PACKAGES, ""]).encode()


def source_archive() -> bytes:
    """The job's source as a tar.gz (no caches), with the SageMaker entry script at its root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, folder in SOURCES.items():
            for path in sorted(folder.rglob("*.py")):
                tar.add(path, arcname=f"{name}/{path.relative_to(folder)}")
        for name, data in (("train_style.py", ENTRY), ("requirements.txt", REQUIREMENTS)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def download_wheels(folder: Path, python_version: str) -> Path:
    """PACKAGES and their dependencies as wheels for the training image (Ubuntu 22.04, x86_64)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--implementation",
                    "cp", "--platform", "manylinux_2_28_x86_64", "--python-version", python_version, "--dest",
                    str(folder), *PACKAGES], check=True)
    return folder


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bucket", required=True, help="the stack's StylesBucketName output")
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--base-network", type=Path, default=ROOT / "models" / "bundled.onnx")
    p.add_argument("--vgg-weights", type=Path, default=ROOT / "weights" / "vgg16-caffe.pth")
    p.add_argument("--sample-photo", type=Path, default=ROOT / "sample_gallery" / "chelsea.jpg")
    p.add_argument("--wheels", type=Path, help="a folder of the wheels of PACKAGES and their dependencies for the "
                   "training image (default: pip downloads them for --python-version on manylinux x86_64)")
    p.add_argument("--python-version", default="3.11", help="the training image's Python (its tag's pyNNN)")
    args = p.parse_args(argv)
    for path in (args.photos, args.base_network, args.vgg_weights, args.sample_photo, args.wheels):
        if path is not None and not path.exists():
            print(f"publish_training: not found: {path}", file=sys.stderr)
            return 2
    import boto3

    s3 = boto3.client("s3")
    with tempfile.TemporaryDirectory() as folder:
        wheels = args.wheels or download_wheels(Path(folder), args.python_version)
        published = sorted(wheels.glob("*.whl"))
        for path in published:
            s3.upload_file(str(path), args.bucket, f"training/wheels/{path.name}")
    s3.put_object(Bucket=args.bucket, Key="training/source.tar.gz", Body=source_archive())
    for path, name in ((args.base_network, "bundled.onnx"), (args.vgg_weights, "vgg16-caffe.pth"),
                       (args.sample_photo, "sample.jpg")):
        s3.upload_file(str(path), args.bucket, f"training/assets/{name}")
    photos = [p for p in sorted(args.photos.rglob("*")) if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    for path in photos:
        s3.upload_file(str(path), args.bucket, f"training/photos/{path.relative_to(args.photos)}")
    print(f"publish_training: source, {len(published)} wheels, 3 assets and {len(photos)} photos in "
          f"s3://{args.bucket}/training/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
