"""template.yaml's site: cross-origin isolated (COOP/COEP, for WebAssembly threads) on every path, the web app's
Content-Security-Policy (the local stack's, from one file), and the model files for on-device stylizing served
from the gallery bucket's models/ keys, readable by CloudFront only."""

import re

from api_helpers import ROOT
from templates import EDGE, EDGE_STACK, RESOURCES, VIDEO, VIDEO_STACK

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


def test_the_site_sends_the_one_content_security_policy_the_local_stack_sends():
    """frontend/content-security-policy.txt is the policy; the CloudFront response headers carry it with its
    {gallery}, {auth} and {videos} as the edge stack's parameters, which the main stack fills."""
    policy = RESOURCES["SiteResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert csp["Override"] is True  # the site's own, whatever its origins send
    text = csp["ContentSecurityPolicy"]["Fn::Sub"]
    assert set(re.findall(r"\$\{([^}]*)\}", text)) == {"GalleryOrigins", "AuthOrigin", "VideoOrigins"}
    as_file = text.replace("${GalleryOrigins}", "{gallery}").replace("${AuthOrigin}", "{auth}").replace(
        "${VideoOrigins}", "{videos}")
    one_file = (ROOT / "frontend" / "content-security-policy.txt").read_text()
    assert " ".join(as_file.split()) == " ".join(one_file.split())
    assert len(text) < 1500  # CloudFront takes at most 1783 characters, with the origins filled in
    passed = EDGE_STACK["Properties"]["Parameters"]
    assert set(EDGE["Parameters"]) >= {"GalleryOrigins", "AuthOrigin", "VideoOrigins"}
    assert passed["GalleryOrigins"] == {"Fn::Sub": "https://${GalleryBucket.RegionalDomainName} "
                                                   "https://${GalleryBucket}.s3.amazonaws.com"}
    assert passed["AuthOrigin"] == {"Fn::If": ["TrainingOn", {
        "Fn::Sub": "https://*.auth.${AWS::Region}.amazoncognito.com"}, ""]}
    # the videos bucket by the name the video stack gives it, on S3's regional and global endpoints, as the gallery's
    condition, sub, otherwise = passed["VideoOrigins"]["Fn::If"]
    origins, names = sub["Fn::Sub"]
    assert (condition, otherwise) == ("VideoOn", "")
    assert origins == "https://${Name}.s3.${AWS::Region}.amazonaws.com https://${Name}.s3.amazonaws.com"
    assert names == {"Name": VIDEO_STACK["Properties"]["Parameters"]["VideosBucketName"]}
    assert VIDEO["Resources"]["VideosBucket"]["Properties"]["BucketName"] == {"Ref": "VideosBucketName"}


def test_the_local_stack_sends_the_same_file():
    from devserver.gateway import CSP_FILE, content_security_policy

    assert CSP_FILE == ROOT / "frontend" / "content-security-policy.txt"
    assert content_security_policy(gallery="G", auth="A", videos="V", report=False) == " ".join(
        CSP_FILE.read_text().replace("{gallery}", "G").replace("{auth}", "A").replace("{videos}", "V").split())
