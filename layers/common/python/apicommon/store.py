"""Where jobs' records and files live: a local folder or an S3 bucket, behind one small interface (get, put,
a conditional put for atomic claims, list, delete). Keys are relative ("jobs/<id>/run/metrics.jsonl"); each
feature keeps its own layout (users' styles: apicommon.userstyles)."""

import fcntl
import hashlib
import os
import shutil
import threading
from pathlib import Path


class LocalStore:
    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()  # record read-modify-writes: the worker and the request threads

    def path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def tail(self, key: str, size: int) -> bytes | None:
        try:
            with open(self.path(key), "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - size))
                return f.read()
        except FileNotFoundError:
            return None

    def put(self, key: str, data: bytes, content_type: str = "") -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(data)
        os.replace(partial, path)  # a reader never sees half a record

    def get_tagged(self, key: str) -> tuple[bytes, str] | None:
        """(data, a tag that changes with the data), or None: what put_if compares."""
        data = self.get(key)
        return None if data is None else (data, hashlib.sha256(data).hexdigest())

    def put_if(self, key: str, data: bytes, tag: str | None) -> bool:
        """Write `data` only if the key is absent (tag None) or still holds what `tag` (from get_tagged) names;
        whether it was written. A compare-and-swap under a lock file: atomic across the threads and processes
        that share the folder (flock locks each open file, so two threads of one process exclude each other)."""
        with open(self.root / ".claims.lock", "a+b") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            current = self.get_tagged(key)
            if (current[1] if current else None) != tag:
                return False
            self.put(key, data)
            return True

    def list(self, prefix: str) -> list:
        folder = self.path(prefix)
        if not folder.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in folder.rglob("*") if p.is_file()
                      and not p.name.startswith("."))

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix), ignore_errors=True)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def download(self, key: str, path) -> bool:
        """The object into a file (large ones are not held in memory); whether there was one."""
        try:
            shutil.copyfile(self.path(key), path)
        except FileNotFoundError:
            return False
        return True

    def upload(self, path, key: str, content_type: str = "") -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        shutil.copyfile(path, partial)
        os.replace(partial, target)

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None


class S3Store:
    def __init__(self, bucket: str, s3_client=None):
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3")
        self.bucket, self.s3 = bucket, s3_client
        self.lock = threading.RLock()

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def tail(self, key: str, size: int) -> bytes | None:
        """The last `size` bytes (an HTTP range): a long metrics file is not read whole on every poll."""
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=-{size}")["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        except self.s3.exceptions.ClientError as error:  # 416: an empty object
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get_tagged(self, key: str) -> tuple[bytes, str] | None:
        """(data, its ETag), or None: what put_if compares."""
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        return response["Body"].read(), response["ETag"]

    def put_if(self, key: str, data: bytes, tag: str | None) -> bool:
        """Write `data` only if the key is absent (tag None: If-None-Match *) or still has the ETag `tag`
        (If-Match); whether it was written. S3 decides the condition and the write as one step, so of several
        requests racing for one key exactly one wins, whichever function instances they run in."""
        condition = {"IfNoneMatch": "*"} if tag is None else {"IfMatch": tag}
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/json", **condition)
        except self.s3.exceptions.ClientError as error:
            # 412: the condition failed; 409: a concurrent conditional write to the key; 404: If-Match on a key
            # deleted meanwhile. Each means another request got there first.
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict",
                                                               "NoSuchKey", "412", "409", "404"):
                return False
            raise
        return True

    def list(self, prefix: str) -> list:
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    def delete_prefix(self, prefix: str) -> None:
        keys = self.list(prefix)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def download(self, key: str, path) -> bool:
        """The object into a file, in parallel ranged parts (large ones are not held in memory); whether there
        was one."""
        try:
            self.s3.download_file(self.bucket, key, str(path))
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return False
            raise
        return True

    def upload(self, path, key: str, content_type: str = "application/octet-stream") -> None:
        self.s3.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type})

    def size(self, key: str) -> int | None:
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return None
            raise
