"""scripts/publish_frontend.py against moto's S3, CloudFront and CloudFormation."""

import importlib.util
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"


def load_publisher():
    spec = importlib.util.spec_from_file_location("publish_frontend", REPO / "scripts" / "publish_frontend.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def dist(tmp_path):
    """A build as Vite lays it out, with the public/ config.json that publishing must replace."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><script src=./assets/index-abc123.js></script>")
    (root / "assets" / "index-abc123.js").write_text("console.log('app')")
    (root / "assets" / "index-def456.css").write_text("body{}")
    (root / "assets" / "inter-latin.woff2").write_bytes(b"wOF2\x00")
    (root / "favicon.svg").write_text("<svg/>")
    (root / "config.json").write_text('{"apiBaseUrl": "/api"}')
    return root


def make_distribution(cloudfront, bucket):
    config = {
        "CallerReference": "test", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": f"{bucket}.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                 "TrustedSigners": {"Enabled": False, "Quantity": 0}},
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


@mock_aws
def test_publish_uploads_the_build_with_cache_rules_and_config(dist):
    s3 = boto3.client("s3", region_name=REGION)
    cloudfront = boto3.client("cloudfront", region_name=REGION)
    s3.create_bucket(Bucket="site")
    s3.put_object(Bucket="site", Key="assets/index-old999.js", Body=b"old build")
    distribution_id = make_distribution(cloudfront, "site")

    summary = load_publisher().publish(dist, "site", "https://abc.execute-api.us-east-1.amazonaws.com/", s3,
                                       cloudfront, distribution_id, echo=lambda *a: None)

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"]}
    assert keys == {"index.html", "favicon.svg", "config.json", "assets/index-abc123.js", "assets/index-def456.css",
                    "assets/inter-latin.woff2"}
    assert summary["deleted"] == ["assets/index-old999.js"]
    config = s3.get_object(Bucket="site", Key="config.json")
    assert json.loads(config["Body"].read()) == {"apiBaseUrl": "https://abc.execute-api.us-east-1.amazonaws.com"}
    assert config["CacheControl"] == "no-cache"
    expected = {"index.html": ("text/html", "no-cache"),
                "assets/index-abc123.js": ("text/javascript", "public, max-age=31536000, immutable"),
                "assets/index-def456.css": ("text/css", "public, max-age=31536000, immutable"),
                "assets/inter-latin.woff2": ("font/woff2", "public, max-age=31536000, immutable"),
                "favicon.svg": ("image/svg+xml", "no-cache")}
    for key, (content_type, cache) in expected.items():
        head = s3.head_object(Bucket="site", Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache), key
    invalidation = cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["invalidation"])
    assert set(invalidation["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]) == {"/", "/index.html",
                                                                                       "/config.json"}


@mock_aws
def test_main_reads_bucket_and_api_url_from_the_stack_outputs(dist):
    template = {
        "Resources": {"SiteBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
                    "ApiUrl": {"Value": "https://xyz.execute-api.us-east-1.amazonaws.com"},
                    "AuthDomain": {"Value": "https://fns-1.auth.us-east-1.amazoncognito.com"},
                    "UserPoolClientId": {"Value": "client123"}},
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="fns", TemplateBody=json.dumps(template))
    publisher = load_publisher()
    assert publisher.main(["--stack", "fns", "--region", REGION, "--dist", str(dist)]) == 0
    bucket = publisher.stack_outputs(cloudformation, "fns")["SiteBucketName"]
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key="config.json")["Body"].read()
    assert json.loads(body) == {"apiBaseUrl": "https://xyz.execute-api.us-east-1.amazonaws.com",
                                "auth": {"domain": "https://fns-1.auth.us-east-1.amazoncognito.com",
                                         "clientId": "client123"}}


def test_publish_refuses_a_missing_build(tmp_path):
    with pytest.raises(SystemExit, match="make frontend-build"):
        load_publisher().publish(tmp_path, "site", "https://api", s3=None)
