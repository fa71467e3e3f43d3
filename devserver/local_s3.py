"""A local S3 (moto's server on a free port) with a gallery bucket seeded from a folder of photos."""

import logging
import shutil
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


class LocalS3:
    def __init__(self, host: str = "127.0.0.1"):
        self._server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per S3 request on the console
        self.endpoint = None

    def start(self) -> "LocalS3":
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def create_bucket(self, bucket: str) -> None:
        """A bucket that browsers may upload to (presigned POSTs) and play from (presigned GETs), as the
        videos bucket's CORS rule allows on AWS."""
        s3 = boto3.client("s3", endpoint_url=self.endpoint)
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
            "AllowedMethods": ["GET", "POST", "HEAD"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 600}]})

    def save_bucket(self, bucket: str, folder: Path) -> int:
        """Every object of the bucket into the folder (replaced whole, so it never mixes two runs): moto keeps
        objects in memory, and what users made should outlive a restart. How many objects."""
        s3 = boto3.client("s3", endpoint_url=self.endpoint)
        folder = Path(folder)
        partial = folder.with_name(folder.name + ".saving")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        count = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                target = partial / item["Key"]
                if not target.resolve().is_relative_to(partial.resolve()):
                    continue  # a key with ".." is no path of ours
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(target))
                count += 1
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
        return count

    def restore_bucket(self, bucket: str, folder: Path) -> int:
        """The objects save_bucket kept, back into the bucket; how many."""
        s3 = boto3.client("s3", endpoint_url=self.endpoint)
        folder, count = Path(folder), 0
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                s3.upload_file(str(path), bucket, path.relative_to(folder).as_posix())
                count += 1
        return count

    def seed_gallery(self, bucket: str, prefix: str, folder: Path) -> int:
        """Create the bucket and upload the folder's images under the prefix; how many went up."""
        s3 = boto3.client("s3", endpoint_url=self.endpoint)
        s3.create_bucket(Bucket=bucket)
        count = 0
        for path in sorted(Path(folder).glob("*")):
            content_type = CONTENT_TYPES.get(path.suffix.lower())
            if content_type and path.is_file():
                s3.put_object(Bucket=bucket, Key=prefix + path.name, Body=path.read_bytes(), ContentType=content_type)
                count += 1
        return count
