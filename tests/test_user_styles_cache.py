"""A warm inference function serves many users' styles: each one's model file is downloaded into /tmp, which
holds 512 MB. The files of styles it no longer keeps are removed, and the rest stay within a byte budget."""

import boto3
from apicommon.userstyles import new_job_id, style_id_of
from moto import mock_aws
from styles import UserStyles

MB = 1024 * 1024


class DownloadingRegistry:
    """What StyleRegistry.from_s3 leaves in /tmp: the style's model file in its own cache folder."""

    def __init__(self, job_id, folder, size):
        self.style_id = style_id_of(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.style_id}.onnx").write_bytes(b"\0" * size)

    def list_styles(self):
        return [{"id": self.style_id}]


def cache_of(tmp_path, size=MB, **limits):
    cache = tmp_path / "user-styles"
    styles = UserStyles(lambda job_id: DownloadingRegistry(job_id, cache / job_id, size), lambda job_id: True,
                        cache_dir=cache)
    for name, value in limits.items():
        setattr(styles, name, value)
    return styles, cache


def used(cache):
    folders = [f for f in cache.iterdir()]
    return len(folders), sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())


def test_four_hundred_styles_leave_only_the_kept_ones_on_disk(tmp_path):
    styles, cache = cache_of(tmp_path)
    jobs = [new_job_id() for _ in range(400)]
    for job_id in jobs:
        assert styles.registry(style_id_of(job_id)) is not None
    count, size = used(cache)
    assert count == UserStyles.MAX_KEPT and size == UserStyles.MAX_KEPT * MB
    assert sorted(f.name for f in cache.iterdir()) == sorted(jobs[-UserStyles.MAX_KEPT:])  # the latest


def test_big_files_are_held_to_the_byte_budget_least_recently_used_first(tmp_path):
    styles, cache = cache_of(tmp_path, size=3 * MB, MAX_CACHE_BYTES=10 * MB)
    first, *others = [new_job_id() for _ in range(6)]
    styles.registry(style_id_of(first))
    for job_id in others:
        styles.registry(style_id_of(job_id))
        styles.registry(style_id_of(first))  # used again each time: the most recently used, so kept
    count, size = used(cache)
    assert size <= 10 * MB and count == 3 and (cache / first).is_dir()


def test_a_deleted_style_loses_its_files(tmp_path):
    styles, cache = cache_of(tmp_path)
    job_id = new_job_id()
    styles.registry(style_id_of(job_id))
    styles.forget(style_id_of(job_id))
    assert not (cache / job_id).exists()


def test_on_aws_the_cache_folder_is_the_one_it_trims(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("USER_STYLES_DIR", raising=False)
    monkeypatch.setenv("USER_STYLES_BUCKET", "styles")
    monkeypatch.setenv("USER_STYLES_CACHE_DIR", str(tmp_path / "cache"))
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="styles")
        assert UserStyles.from_env()._cache_dir == tmp_path / "cache"
