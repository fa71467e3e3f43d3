"""template.yaml keeps its promises: python3.12, private encrypted buckets, least-privilege policies, every
route of openapi.yaml wired, throttling, the outputs the scripts read. (`sam validate --lint` checks syntax.)"""

import pytest
import yaml
from api_helpers import OPENAPI, ROOT


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) as their long forms."""


def _intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)
TEMPLATE = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
RESOURCES = TEMPLATE["Resources"]


def statements(function: str) -> list[dict]:
    found = []
    for policy in RESOURCES[function]["Properties"]["Policies"]:
        for statement in policy["Statement"]:
            if "Fn::If" in statement:  # a conditional statement: check its "true" branch
                statement = statement["Fn::If"][1]
            found.append(statement)
    return found


def test_functions_run_python312_with_the_shared_layer():
    assert TEMPLATE["Globals"]["Function"]["Runtime"] == "python3.12"
    assert TEMPLATE["Globals"]["Function"]["Layers"] == [{"Ref": "CommonLayer"}]
    functions = [r for r in RESOURCES.values() if r["Type"] == "AWS::Serverless::Function"]
    assert len(functions) == 2 and all("Runtime" not in f["Properties"] for f in functions)
    layers = RESOURCES["InferenceFunction"]["Properties"]["Layers"]
    assert {"Ref": "RuntimeLayer"} in layers and {"Ref": "ModelsLayer"} in layers
    assert RESOURCES["RuntimeLayer"]["Metadata"]["BuildArchitecture"] == {"Ref": "Architecture"}


@pytest.mark.parametrize("bucket", ["GalleryBucket", "SiteBucket"])
def test_buckets_are_private_encrypted_and_tls_only(bucket):
    properties = RESOURCES[bucket]["Properties"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    policy = next(r for r in RESOURCES.values() if r["Type"] == "AWS::S3::BucketPolicy"
                  and r["Properties"]["Bucket"] == {"Ref": bucket})
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert all(s["Principal"] != "*" for s in allows)


def test_site_is_served_only_through_cloudfront_origin_access_control():
    policy = RESOURCES["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "cloudfront.amazonaws.com"} and policy["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in policy["Condition"]["StringEquals"]
    config = RESOURCES["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert config["Origins"][0]["OriginAccessControlId"] == {"Fn::GetAtt": "SiteOriginAccessControl.Id"}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


@pytest.mark.parametrize("function", ["GalleryFunction", "InferenceFunction"])
def test_functions_may_only_read_their_prefixes(function):
    for statement in statements(function):
        assert statement["Effect"] == "Allow"
        assert statement["Action"] in ("s3:GetObject", "s3:ListBucket"), statement
        if statement["Action"] == "s3:GetObject":  # objects under a prefix, never the whole bucket
            resource = statement["Resource"]["Fn::Sub"]
            assert resource.startswith("${GalleryBucket.Arn}/${") and resource.endswith("Prefix}*")
        else:  # listing limited to a prefix
            assert statement["Resource"] == {"Fn::GetAtt": "GalleryBucket.Arn"}
            assert "s3:prefix" in statement["Condition"]["StringLike"]
    gallery = statements("GalleryFunction")
    assert {s["Resource"]["Fn::Sub"] for s in gallery if s["Action"] == "s3:GetObject"} == \
        {"${GalleryBucket.Arn}/${GalleryPrefix}*"}


def test_every_contract_route_reaches_a_function_and_the_api_is_throttled():
    routes = {}
    for name, resource in RESOURCES.items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                routes[event["Properties"]["Path"]] = (name, event["Properties"]["Method"])
    assert set(routes) == set(OPENAPI["paths"])
    assert all(method == "ANY" for _, method in routes.values())  # wrong methods get the handler's 405
    api = RESOURCES["StyleApi"]["Properties"]
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    assert "AllowOrigins" in api["CorsConfiguration"]


def test_reserved_concurrency_memory_and_timeouts_are_set():
    inference = RESOURCES["InferenceFunction"]["Properties"]
    assert inference["ReservedConcurrentExecutions"]["Fn::If"][1] == {"Ref": "InferenceReservedConcurrency"}
    assert inference["MemorySize"] == {"Ref": "InferenceMemorySize"}
    assert inference["Timeout"] < 30  # the HTTP API gives up at 30 s
    assert RESOURCES["GalleryFunction"]["Properties"]["Timeout"] < 30


def test_outputs_the_scripts_and_readme_use():
    wanted = {"ApiUrl", "GalleryBucketName", "SiteUrl", "SiteBucketName", "SiteDistributionId"}
    assert wanted <= set(TEMPLATE["Outputs"])


def test_the_apis_cors_is_the_one_apicommon_defines():
    """On AWS the HTTP API's CorsConfiguration applies (it overrides the functions' headers); locally apicommon's."""
    from apicommon import http

    cors = RESOURCES["StyleApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowHeaders"] == [name.lower() for name in http.CORS_ALLOW_HEADERS]
    assert cors["ExposeHeaders"] == [name.lower() for name in http.CORS_EXPOSE_HEADERS]
    assert cors["MaxAge"] == http.CORS_MAX_AGE_S
    assert set(cors["AllowMethods"]) == {method.upper() for operations in OPENAPI["paths"].values()
                                         for method in operations}
    # the functions' ALLOWED_ORIGIN (what apicommon sends) is the origin the API allows
    assert cors["AllowOrigins"] == [TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["ALLOWED_ORIGIN"]]
