"""Upload what the SageMaker training jobs of users' styles read, to the stack's styles bucket:

    training/source.tar.gz   training/, export/, stylecore, train_style.py and requirements.txt: the
                             prebuilt PyTorch container runs train_style.py from it (pip installs requirements.txt)
    training/assets/         bundled.onnx (the fp32 multi-style network a new style starts from), vgg16-caffe.pth
                             (make vgg-weights) and sample.jpg (the photo the previews show)
    training/photos/         the photos styles train on (COCO train2014, or ../shared/assets/photos/train)

    python scripts/publish_training.py --bucket STYLES_BUCKET --photos DIR [--base-network models/bundled.onnx]
"""

import argparse
import io
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"training": ROOT / "training", "export": ROOT / "export", "stylecore": ROOT / "stylecore"}
ENTRY = b"import sys\n\nfrom training.job import main\n\nsys.exit(main())\n"  # the job: training/job.py
# What the container lacks (it has torch, torchvision, numpy, pillow): the exporter's and the core's packages.
REQUIREMENTS = b"onnx>=1.16\nonnxruntime>=1.18\ntqdm>=4.66\n"


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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bucket", required=True, help="the stack's StylesBucketName output")
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--base-network", type=Path, default=ROOT / "models" / "bundled.onnx")
    p.add_argument("--vgg-weights", type=Path, default=ROOT / "weights" / "vgg16-caffe.pth")
    p.add_argument("--sample-photo", type=Path, default=ROOT / "sample_gallery" / "chelsea.jpg")
    args = p.parse_args(argv)
    for path in (args.photos, args.base_network, args.vgg_weights, args.sample_photo):
        if not path.exists():
            print(f"publish_training: not found: {path}", file=sys.stderr)
            return 2
    import boto3

    s3 = boto3.client("s3")
    s3.put_object(Bucket=args.bucket, Key="training/source.tar.gz", Body=source_archive())
    for path, name in ((args.base_network, "bundled.onnx"), (args.vgg_weights, "vgg16-caffe.pth"),
                       (args.sample_photo, "sample.jpg")):
        s3.upload_file(str(path), args.bucket, f"training/assets/{name}")
    photos = [p for p in sorted(args.photos.rglob("*")) if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    for path in photos:
        s3.upload_file(str(path), args.bucket, f"training/photos/{path.relative_to(args.photos)}")
    print(f"publish_training: source, 3 assets and {len(photos)} photos in s3://{args.bucket}/training/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
