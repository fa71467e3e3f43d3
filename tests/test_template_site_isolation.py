"""template.yaml's site: cross-origin isolated (COOP/COEP, for WebAssembly threads) on every path, and the
model files for on-device stylizing served from the gallery bucket's models/ keys, readable by CloudFront only."""

from templates import RESOURCES

DISTRIBUTION = RESOURCES["SiteDistribution"]["Properties"]["DistributionConfig"]


def test_every_behaviour_sends_coop_and_coep():
    policy = RESOURCES["SiteResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = {item["Header"]: item["Value"] for item in policy["CustomHeadersConfig"]["Items"]}
    assert headers == {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "credentialless"}
    assert policy["SecurityHeadersConfig"]["ContentTypeOptions"]["Override"] is True  # the managed policy's, kept
    behaviours = [DISTRIBUTION["DefaultCacheBehavior"], *DISTRIBUTION["CacheBehaviors"]]
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "SiteResponseHeadersPolicy"} for b in behaviours)


def test_model_files_come_from_the_gallery_buckets_models_prefix_through_cloudfront():
    origins = {origin["Id"]: origin for origin in DISTRIBUTION["Origins"]}
    (models,) = [b for b in DISTRIBUTION["CacheBehaviors"] if b["PathPattern"] == "models/*"]
    assert origins[models["TargetOriginId"]]["DomainName"] == {"Fn::GetAtt": "GalleryBucket.RegionalDomainName"}
    assert models["AllowedMethods"] == ["GET", "HEAD"]
    statements = RESOURCES["GalleryBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    reads = [s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert {s["Action"] for s in reads} == {"s3:GetObject", "s3:ListBucket"}
    (get,) = [s for s in reads if s["Action"] == "s3:GetObject"]
    assert get["Resource"] == {"Fn::Sub": "${GalleryBucket.Arn}/models/*"}  # never the gallery's photos
    assert all("AWS:SourceArn" in s["Condition"]["StringEquals"] for s in reads)
