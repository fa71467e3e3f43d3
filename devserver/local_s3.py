"""A local S3 (moto's server on a free port) with a gallery bucket seeded from a folder of photos."""

import logging
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
