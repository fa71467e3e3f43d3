"""template.yaml keeps its promises: python3.12, private encrypted buckets, least-privilege policies, every
route of openapi.yaml wired, throttling, the outputs the scripts read. (`sam validate --lint` checks syntax.)"""

import re

import pytest
from api_helpers import OPENAPI
from templates import RESOURCES, TEMPLATE, TRAINING, TRAINING_STACK, VIDEO, grants, passes_its_own, resources_of


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
    assert TRAINING["Globals"]["Function"]["Runtime"] == "python3.12"  # the training stack's functions too
    assert TRAINING["Globals"]["Function"]["Layers"] == [{"Ref": "CommonLayer"}]
    assert TRAINING_STACK["Properties"]["Parameters"]["CommonLayer"] == {"Ref": "CommonLayer"}
    assert VIDEO["Globals"]["Function"]["Runtime"] == "python3.12"  # and the video stack's
    assert VIDEO["Globals"]["Function"]["Layers"][0] == {"Ref": "CommonLayer"}
    functions = [r for r in RESOURCES.values() if r["Type"] == "AWS::Serverless::Function"]
    # + JobsAuthorizer's, + the video function and the four steps of its workflow
    assert len(functions) == 9 and all("Runtime" not in f["Properties"] for f in functions)
    layers = RESOURCES["InferenceFunction"]["Properties"]["Layers"]
    assert {"Ref": "RuntimeLayer"} in layers and {"Ref": "ModelsLayer"} in layers
    assert RESOURCES["RuntimeLayer"]["Metadata"]["BuildArchitecture"] == {"Ref": "Architecture"}


@pytest.mark.parametrize("bucket", ["GalleryBucket", "SiteBucket", "StylesBucket", "VideosBucket"])
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
            assert (resource.startswith("${GalleryBucket.Arn}/${") and resource.endswith("Prefix}*")) or \
                resource == "${StylesBucket.Arn}/jobs/*/run/model/*"  # users' exported styles only
        else:  # listing limited to a prefix
            assert statement["Resource"] in ({"Fn::GetAtt": "GalleryBucket.Arn"}, {"Fn::GetAtt": "StylesBucket.Arn"})
            assert "s3:prefix" in statement["Condition"]["StringLike"]
    gallery = statements("GalleryFunction")
    assert {s["Resource"]["Fn::Sub"] for s in gallery if s["Action"] == "s3:GetObject"} == \
        {"${GalleryBucket.Arn}/${GalleryPrefix}*"}


def name_of(resource: dict) -> str:
    return next(name for name, candidate in RESOURCES.items() if candidate is resource)


def test_every_contract_route_reaches_a_function_and_the_api_is_throttled():
    routes = {}
    for name, resource in RESOURCES.items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                routes[event["Properties"]["Path"]] = (name, event["Properties"]["Method"])
    # users' own styles and videos: raw routes, on the jobs or the video function, behind the training stack's
    # authorizer (test_training_auth), made by the training or the video stack (TrainingOn, VideoOn only)
    raw = {"training": {}, "video": {}}
    for resource in RESOURCES.values():
        if resource["Type"] == "AWS::ApiGatewayV2::Route":
            method, path = resource["Properties"]["RouteKey"].split(" ")
            stack = "training" if name_of(resource) in TRAINING["Resources"] else "video"
            assert stack == "training" or name_of(resource) in VIDEO["Resources"]
            assert resource["Properties"]["AuthorizationType"] == "CUSTOM"
            assert resource["Properties"]["AuthorizerId"] == {"Ref": "JobsAuthorizer"}
            integration = {"training": "JobsIntegration", "video": "VideoIntegration"}[stack]
            assert resource["Properties"]["Target"] == {"Fn::Sub": "integrations/${" + integration + "}"}
            raw[stack][path] = method
    assert raw["training"] == {"/styles": "POST", "/styles/{id}": "ANY", "/jobs": "ANY", "/jobs/{id}": "ANY",
                               "/jobs/{id}/model": "ANY", "/jobs/{id}/finish": "ANY"}
    assert raw["video"] == {"/videos": "ANY", "/videos/limits": "ANY", "/videos/{id}": "ANY",
                            "/videos/{id}/start": "ANY"}
    assert set(routes) | set(raw["training"]) | set(raw["video"]) == set(OPENAPI["paths"])
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


def test_the_site_calls_the_api_on_its_own_origin_and_no_other_origin_is_allowed_unless_named():
    """The web app's apiBaseUrl is the ApiUrl output, /api on the site's own distribution: same-origin requests,
    which need no CORS. So with AllowedOrigin empty the API allows no origin at all (naming the distribution
    there would also be a dependency cycle, as it names the API); an origin given is the only one allowed, in the
    main stack's and the training stack's functions alike."""
    site = TEMPLATE["Outputs"]["SiteUrl"]["Value"]["Fn::Sub"]
    assert TEMPLATE["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"] == site + "/api"
    assert TEMPLATE["Conditions"]["OriginIsSite"] == {"Fn::Equals": [{"Ref": "AllowedOrigin"}, ""]}
    only_if_named = {"Fn::If": ["OriginIsSite", {"Ref": "AWS::NoValue"}, {"Ref": "AllowedOrigin"}]}
    assert RESOURCES["StyleApi"]["Properties"]["CorsConfiguration"]["AllowOrigins"] == [only_if_named]
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["ALLOWED_ORIGIN"] == only_if_named
    assert TRAINING_STACK["Properties"]["Parameters"]["CorsOrigin"] == {"Ref": "AllowedOrigin"}
    assert TRAINING["Conditions"]["HasCorsOrigin"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CorsOrigin"}, ""]}]}
    assert TRAINING["Globals"]["Function"]["Environment"]["Variables"]["ALLOWED_ORIGIN"] == \
        {"Fn::If": ["HasCorsOrigin", {"Ref": "CorsOrigin"}, {"Ref": "AWS::NoValue"}]}


# ----------------------------------------------------------------------------------- users' own styles
def role_statements(role: str) -> list[dict]:
    return [statement for policy in RESOURCES[role]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]]


STYLES_BUCKET = {"${StylesBucketArn}": "${StylesBucket.Arn}"}  # the training stack's parameter for it


def allowed(statements: list[dict], action: str, key: str) -> bool:
    """Whether an Allow statement grants `action` on the styles bucket's object `key`."""
    return grants(statements, action, "${StylesBucket.Arn}/" + key, STYLES_BUCKET)


def test_training_is_off_unless_the_parameter_turns_it_on():
    assert TEMPLATE["Parameters"]["TrainingEnabled"]["Default"] == "false"
    assert TEMPLATE["Conditions"]["TrainingOn"] == {"Fn::Equals": [{"Ref": "TrainingEnabled"}, "true"]}
    training = ["StylesBucket", "UserPool", "UserPoolClient", "UserPoolDomain", "JobsFunction", "TrainingRole",
                "JobsIntegration", "JobsAuthorizer", "JobsAuthorizerFunction", "JobsAuthorizerInvokePermission",
                "JobsInvokePermission"]
    # the bucket in this template, the rest in the training stack, which is made only when TrainingOn
    assert TRAINING_STACK["Type"] == "AWS::Serverless::Application" and TRAINING_STACK["Condition"] == "TrainingOn"
    assert passes_its_own(TRAINING_STACK)
    for name, spec in TRAINING["Parameters"].items():  # the settings passed on keep their defaults in both
        if "Default" in spec:
            assert TEMPLATE["Parameters"][name]["Default"] == spec["Default"], name
    assert all(RESOURCES[name].get("Condition") == "TrainingOn" or name in TRAINING["Resources"]
               for name in training)
    authorizer = RESOURCES["JobsAuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert authorizer["USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}
    env = RESOURCES["JobsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["JOBS_AUTH"] == "jwt" and env["JOBS_MAX_ACTIVE"] == {"Ref": "TrainingMaxActiveJobsPerUser"}


def test_the_web_app_signs_in_by_the_code_flow_and_comes_back_to_the_site():
    client = RESOURCES["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]  # no implicit flow
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email"}
    site = {"Fn::Sub": "https://${SiteDistribution.DomainName}/"}
    for urls in (client["CallbackURLs"], client["LogoutURLs"]):  # the address the main stack passes as SignInUrl
        assert urls == [{"Ref": "SignInUrl"}]
        assert TRAINING_STACK["Properties"]["Parameters"]["SignInUrl"] == \
            {"Fn::If": ["SignInAtSite", site, {"Fn::Sub": "${AllowedOrigin}/"}]}
    assert TEMPLATE["Outputs"]["AuthDomain"]["Condition"] == "TrainingOn"


def test_a_token_taken_before_sign_out_stops_working_within_minutes():
    client = RESOURCES["UserPoolClient"]["Properties"]
    assert client["EnableTokenRevocation"] is True
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes"}
    assert client["AccessTokenValidity"] <= 15 and client["IdTokenValidity"] <= 15


def test_users_styles_expire_by_a_lifecycle_rule():
    rules = RESOURCES["StylesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = {rule["Prefix"] for rule in rules if rule["ExpirationInDays"] == {"Ref": "StyleRetentionDays"}}
    assert expiring == {"jobs/", "users/"}
    assert "VersioningConfiguration" not in RESOURCES["StylesBucket"]["Properties"]  # expired means gone


def test_the_training_jobs_role_writes_only_its_jobs_run_and_output():
    statements = role_statements("TrainingRole")
    assert RESOURCES["TrainingRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == \
        {"Service": "sagemaker.amazonaws.com"}
    for key in ("jobs/abc/run/metrics.jsonl", "jobs/abc/run/model/user-abc.onnx", "jobs/abc/output/model.tar.gz"):
        assert allowed(statements, "s3:PutObject", key), key
    for key in ("users/someone/abc.json", "jobs/abc/input/painting.png", "training/source.tar.gz",
                "training/assets/bundled.onnx", "models/great_wave.onnx", "gallery/a.jpg", "jobs/abc"):
        assert not allowed(statements, "s3:PutObject", key), key
    # it reads what a job's channels hold (stylejobs/sagemaker.py), and nothing else
    for key in ("training/source.tar.gz", "training/wheels/onnx.whl", "training/assets/bundled.onnx",
                "training/photos/a.jpg", "jobs/abc/input/painting.png", "jobs/abc/run/checkpoints/last.pth"):
        assert allowed(statements, "s3:GetObject", key), key
    for key in ("users/someone/abc.json", "training/other.tar.gz", "models/great_wave.onnx", "gallery/a.jpg",
                "jobs/abc/output/model.tar.gz", "jobs/abc.json"):
        assert not allowed(statements, "s3:GetObject", key), key
    listing = next(s for s in statements if s["Action"] == "s3:ListBucket")
    assert resources_of(listing, STYLES_BUCKET) == ["${StylesBucket.Arn}"]
    assert set(listing["Condition"]["StringLike"]["s3:prefix"]) == {
        "training/source.tar.gz", "training/wheels/*", "training/assets/*", "training/photos/*", "jobs/*/input/*",
        "jobs/*/run/*"}
    for statement in statements:  # no bucket-wide object access: each S3 resource names a prefix of the jobs'
        if any(a.startswith("s3:") and a != "s3:ListBucket" for a in ([statement["Action"]] if isinstance(
                statement["Action"], str) else statement["Action"])):
            assert all(r.startswith(("${StylesBucket.Arn}/training/", "${StylesBucket.Arn}/jobs/*/"))
                       for r in resources_of(statement, STYLES_BUCKET)), statement
    # the training image's own repository, nothing else of its registry
    pull = next(s for s in statements if "ecr:BatchGetImage" in s["Action"])
    arn, names = pull["Resource"]["Fn::Sub"]
    assert arn.endswith(":${Registry}:repository/${Repository}") and set(names) == {"Registry", "Repository"}
    image = TRAINING["Parameters"]["TrainingImage"]
    for text, registry, repository in [
            (image["Default"], "763104351884", "pytorch-training"),
            ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-trainer@sha256:" + "a" * 64, "123456789012",
             "my-trainer")]:
        assert re.fullmatch(image["AllowedPattern"], text), text
        assert {name: evaluate(value, {"TrainingImage": text}) for name, value in names.items()} == \
            {"Registry": registry, "Repository": repository}
    for text in ("763104351884.dkr.ecr.us-east-1.amazonaws.com/a/b:1", "docker.io/pytorch:1", "x"):
        assert not re.fullmatch(image["AllowedPattern"], text), text


def evaluate(value, parameters: dict):
    """Fn::Select, Fn::Split and Ref over parameters, as CloudFormation would."""
    if isinstance(value, str):
        return value
    (function, argument), = value.items()
    if function == "Ref":
        return parameters[argument]
    if function == "Fn::Split":
        return evaluate(argument[1], parameters).split(argument[0])
    if function == "Fn::Select":
        return evaluate(argument[1], parameters)[int(argument[0])]
    raise AssertionError(function)
    for statement in statements:  # nothing but these services, no deletes, no wildcard actions
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(a.split(":")[0] in ("s3", "logs", "cloudwatch", "ecr") and "*" not in a for a in actions)
        assert not any(a in ("s3:DeleteObject", "s3:PutBucketPolicy") for a in actions)
        if "*" in resources_of(statement, STYLES_BUCKET):
            assert actions in (["ecr:GetAuthorizationToken"], ["cloudwatch:PutMetricData"]), actions


def test_the_jobs_function_may_start_stop_and_read_only_this_stacks_training_jobs():
    granted = statements("JobsFunction")
    sagemaker = [s for s in granted if any(a.startswith("sagemaker:") for a in
                                               (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
    actions = {a for s in sagemaker for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert actions == {"sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                       "sagemaker:AddTags"}
    for statement in sagemaker:
        # the main stack's name, passed as StackName (the nested stack's own name is too long for a job's)
        assert resources_of(statement, STYLES_BUCKET)[0].endswith(":training-job/${StackName}-style-*")
    assert TRAINING_STACK["Properties"]["Parameters"]["StackName"] == {"Ref": "AWS::StackName"}
    create = next(s for s in sagemaker if s["Action"] == "sagemaker:CreateTrainingJob")
    assert create["Condition"]["NumericLessThanEquals"] == {"sagemaker:MaxRuntimeInSeconds":
                                                            {"Ref": "TrainingMaxRuntimeSeconds"}}
    assert create["Condition"]["ForAllValues:StringEquals"] == {"sagemaker:InstanceTypes":
                                                                [{"Ref": "TrainingInstanceType"}]}
    assert create["Condition"]["Bool"] == {"sagemaker:NetworkIsolation": "true"}  # as its request asks
    pass_role = next(s for s in granted if s["Action"] == "iam:PassRole")
    assert pass_role["Resource"] == {"Fn::GetAtt": "TrainingRole.Arn"}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    # S3: job records and job files only
    assert allowed(granted, "s3:PutObject", "users/sub/abc.json")
    assert allowed(granted, "s3:GetObject", "jobs/abc/run/metrics.jsonl")
    assert not allowed(granted, "s3:PutObject", "training/source.tar.gz")
