"""Publish the built web app (frontend/dist) to a deployed stack's private site bucket, with the
config.json that points it at the stack's API, then invalidate CloudFront so visitors get it.

    make frontend-build
    .venv/bin/python scripts/publish_frontend.py [--stack fast-neural-style] [--region eu-west-1]

The bucket, distribution and API URL come from the stack's outputs (SiteBucketName,
SiteDistributionId, ApiUrl); --bucket, --distribution-id and --api-url override them.
Hashed assets (assets/*) are cached for a year; index.html and config.json are always revalidated,
so a publish takes effect at once. Files in the bucket that the build no longer has are removed.
"""

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path

try:
    import boto3
except ImportError:  # the serving core does not need it; `make dev` or `pip install boto3` brings it
    sys.exit("publish_frontend needs boto3: pip install boto3 (or run `make dev` once for .venv)")

REPO = Path(__file__).resolve().parents[1]
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Types mimetypes does not know on every system, and the ones browsers are strict about.
CONTENT_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html",
                 ".json": "application/json", ".svg": "image/svg+xml", ".woff2": "font/woff2", ".woff": "font/woff"}


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def stack_outputs(cloudformation, stack: str) -> dict:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def publish(dist: Path, bucket: str, api_url: str, s3, cloudfront=None, distribution_id: str | None = None,
            echo=print, auth: dict | None = None) -> dict:
    """Upload the build and config.json, delete what the build dropped, invalidate; returns a summary. `auth`
    ({"domain", "clientId"}: a stack with TrainingEnabled) lets the app sign users in for the training routes."""
    dist = Path(dist)
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist}/index.html not found: run `make frontend-build` first")
    files = sorted(p for p in dist.rglob("*") if p.is_file() and p.name != "config.json")
    keys = set()
    # Assets first, index.html last: a visitor never gets an index.html whose assets are not there yet.
    for path in sorted(files, key=lambda p: p.name == "index.html"):
        key = path.relative_to(dist).as_posix()
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type(path), "CacheControl": cache})
        keys.add(key)
    config = json.dumps({"apiBaseUrl": api_url.rstrip("/"), **({"auth": auth} if auth else {})}, indent=2) + "\n"
    s3.put_object(Bucket=bucket, Key="config.json", Body=config.encode(), ContentType="application/json",
                  CacheControl=REVALIDATE)
    keys.add("config.json")

    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [item["Key"] for item in page.get("Contents", []) if item["Key"] not in keys]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]]})

    invalidation = None
    if cloudfront and distribution_id:
        invalidation = cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={"Paths": {"Quantity": 3, "Items": ["/", "/index.html", "/config.json"]},
                               "CallerReference": f"publish-{time.time_ns()}"},
        )["Invalidation"]["Id"]
    echo(f"published {len(keys)} files to s3://{bucket} (removed {len(stale)} stale); apiBaseUrl={api_url}"
         + (f"; CloudFront invalidation {invalidation}" if invalidation else ""))
    return {"uploaded": sorted(keys), "deleted": stale, "invalidation": invalidation}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stack", default="fast-neural-style", help="the CloudFormation stack (samconfig.toml's name)")
    p.add_argument("--region", help="default: the AWS CLI/SDK configuration")
    p.add_argument("--dist", default=str(REPO / "frontend" / "dist"), help="the built app")
    p.add_argument("--bucket", help="instead of the stack's SiteBucketName output")
    p.add_argument("--distribution-id", help="instead of the stack's SiteDistributionId output")
    p.add_argument("--api-url", help="instead of the stack's ApiUrl output")
    args = p.parse_args(argv)

    session = boto3.Session(region_name=args.region)
    bucket, distribution_id, api_url = args.bucket, args.distribution_id, args.api_url
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    bucket = bucket or outputs.get("SiteBucketName")
    distribution_id = distribution_id or outputs.get("SiteDistributionId")
    api_url = api_url or outputs.get("ApiUrl")
    auth = {"domain": outputs["AuthDomain"], "clientId": outputs["UserPoolClientId"]} \
        if "AuthDomain" in outputs and "UserPoolClientId" in outputs else None
    if not (bucket and api_url):
        print("error: no site bucket or API URL (stack outputs SiteBucketName / ApiUrl, or --bucket / --api-url)",
              file=sys.stderr)
        return 2
    publish(Path(args.dist), bucket, api_url, session.client("s3"), session.client("cloudfront"), distribution_id,
            auth=auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
