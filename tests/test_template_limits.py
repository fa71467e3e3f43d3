"""What an anonymous caller can spend: template.yaml's per-client rate limit (WAF on the CloudFront
distribution, waf.yaml), the API reachable only through it, per-route throttles, the inference function's
reserved concurrency, the alarms and the budget; and the worst case in dollars per day that docs/aws-costs.md
states, recomputed from the template's defaults. `sam validate --lint` (tests/test_sam_build.py) checks the syntax."""

import json
import math
import os
import re
import shutil
import subprocess

import jsonschema
import pytest
import yaml
from api_helpers import OPENAPI, ROOT
from apicommon.http import MAX_BODY_BYTES, MAX_RESPONSE_BYTES
from templates import (
    ALARMS,
    ALARMS_STACK,
    RESOURCES,
    TEMPLATE,
    TRAINING,
    TRAINING_STACK,
    VIDEO,
    VIDEO_STACK,
    CfnLoader,
    passes_its_own,
)

WAF = yaml.load((ROOT / "waf.yaml").read_text(), Loader=CfnLoader)
WEB_ACL = WAF["Resources"]["WebAcl"]["Properties"]
PARAMETERS = TEMPLATE["Parameters"]
DISTRIBUTION = RESOURCES["SiteDistribution"]["Properties"]["DistributionConfig"]
API = RESOURCES["StyleApi"]["Properties"]
SECRET = {"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecret}}}"}


def default(name: str):
    return PARAMETERS[name]["Default"]


def api_behaviour() -> dict:
    return next(b for b in DISTRIBUTION["CacheBehaviors"] if b["PathPattern"] == "api/*")


def sam_routes() -> dict[str, str]:
    """Route key ("ANY /stylize") -> function, for the routes SAM makes from the functions' HttpApi events."""
    return {f'{event["Properties"]["Method"]} {event["Properties"]["Path"]}': name
            for name, resource in RESOURCES.items()
            for event in resource.get("Properties", {}).get("Events", {}).values() if event["Type"] == "HttpApi"}


# ------------------------------------------------------------------------------------- per client: WAF
def rate_rules() -> dict[str, dict]:
    return {rule["Name"]: rule for rule in WEB_ACL["Rules"]}


def test_the_web_acl_limits_each_client_ip_per_5_minutes_on_cloudfront():
    assert WEB_ACL["Scope"] == "CLOUDFRONT" and WEB_ACL["DefaultAction"] == {"Allow": {}}
    rules = rate_rules()
    assert set(rules) == {"stylize-per-client", "requests-per-client"}
    for rule in rules.values():
        statement = rule["Statement"]["RateBasedStatement"]
        assert statement["AggregateKeyType"] == "IP" and statement["EvaluationWindowSec"] == 300
    assert rules["stylize-per-client"]["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "StylizeRateLimitPer5Min"}
    overall = rules["requests-per-client"]["Statement"]["RateBasedStatement"]
    assert overall["Limit"] == {"Ref": "RateLimitPer5Min"} and "ScopeDownStatement" not in overall  # site too
    # inference is what costs: its own limit is the lower one
    assert WAF["Parameters"]["StylizeRateLimitPer5Min"]["Default"] < WAF["Parameters"]["RateLimitPer5Min"]["Default"]


def test_the_stylize_limit_counts_every_spelling_of_the_stylize_path_cloudfront_sends_to_the_api():
    match = rate_rules()["stylize-per-client"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    match = match["ByteMatchStatement"]
    assert match["FieldToMatch"] == {"UriPath": {}} and match["PositionalConstraint"] == "STARTS_WITH"
    assert [t["Type"] for t in sorted(match["TextTransformations"], key=lambda t: t["Priority"])] == \
        ["URL_DECODE", "LOWERCASE"]
    # the path as the viewer sends it: the API's cache behaviour's prefix, then the contract's route
    prefix = "/" + api_behaviour()["PathPattern"].rstrip("*")
    assert match["SearchString"] == prefix + "stylize" and "/stylize" in OPENAPI["paths"]
    assert "ANY /stylize" in sam_routes()


def test_over_the_limit_a_client_gets_429_with_the_contracts_error_body():
    bodies = WEB_ACL["CustomResponseBodies"]
    for rule in rate_rules().values():
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        assert bodies[response["CustomResponseBodyKey"]]["ContentType"] == "APPLICATION_JSON"
        headers = {h["Name"].lower(): h["Value"] for h in response["ResponseHeaders"]}
        assert int(headers["retry-after"]) == 300  # the rate-based window
        body = json.loads(bodies[response["CustomResponseBodyKey"]]["Content"])
        assert body["error"]["code"] == "rate_limited"
        jsonschema.validate(body, OPENAPI["components"]["schemas"]["Error"])  # rate_limited is in the enum


def test_the_stack_makes_the_web_acl_in_us_east_1_and_takes_one_elsewhere():
    firewall = RESOURCES["EdgeFirewall"]
    assert firewall["Type"] == "AWS::Serverless::Application" and firewall["Properties"]["Location"] == "waf.yaml"
    assert firewall["Condition"] == "MakeWebAcl"
    # every limit of waf.yaml is passed from the stack's own parameter of that name, with the same default
    passed = firewall["Properties"]["Parameters"]
    assert passed == {name: {"Ref": name} for name in WAF["Parameters"]}
    assert all(default(name) == spec["Default"] for name, spec in WAF["Parameters"].items())
    conditions = TEMPLATE["Conditions"]
    assert {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]} in conditions["MakeWebAcl"]["Fn::And"]
    assert DISTRIBUTION["WebACLId"]["Fn::If"][:2] == ["MakeWebAcl", {"Fn::GetAtt": "EdgeFirewall.Outputs.WebAclArn"}]
    assert DISTRIBUTION["WebACLId"]["Fn::If"][2]["Fn::If"][:2] == ["HasWebAclArn", {"Ref": "WebAclArn"}]
    # outside us-east-1 the stack refuses to deploy until given a WebACL (or an explicit none)
    rule = TEMPLATE["Rules"]["PerClientLimitOutsideUsEast1"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebAclArn"}, ""]}]}
    assert WAF["Rules"]["CloudFrontScopeLivesInUsEast1"]["Assertions"][0]["Assert"] == \
        {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


@pytest.mark.parametrize("value, accepted", [
    ("", True), ("none", True),
    ("arn:aws:wafv2:us-east-1:123456789012:global/webacl/fns-per-client/0c1d2e3f-aaaa-bbbb-cccc-111122223333", True),
    ("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/0c1d", False),  # a regional WebACL: not for CloudFront
    ("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/0c1d", False),
    ("0c1d2e3f-aaaa-bbbb-cccc-111122223333", False),  # a WAF Classic id
])
def test_the_web_acl_parameter_takes_only_a_cloudfront_web_acl(value, accepted):
    assert bool(re.fullmatch(PARAMETERS["WebAclArn"]["AllowedPattern"], value)) is accepted


# ----------------------------------------------------------------- only CloudFront reaches the API
def test_cloudfront_forwards_api_to_the_http_api_uncached_with_the_secret_header():
    behaviour = api_behaviour()
    origin = next(o for o in DISTRIBUTION["Origins"] if o["Id"] == behaviour["TargetOriginId"])
    assert origin["DomainName"]["Fn::Sub"].startswith("${StyleApi}.execute-api.")
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginReadTimeout"] > 30  # API Gateway's own 30 s answers first
    assert origin["OriginCustomHeaders"] == [{"HeaderName": "x-origin-verify", "HeaderValue": SECRET}]
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # managed CachingDisabled
    assert {"POST", "OPTIONS", "DELETE"} <= set(behaviour["AllowedMethods"])
    assert behaviour["FunctionAssociations"] == [{"EventType": "viewer-request", "FunctionARN": {
        "Fn::GetAtt": "ApiPathFunction.FunctionMetadata.FunctionARN"}}]
    assert TEMPLATE["Outputs"]["ApiUrl"]["Value"] == {"Fn::Sub": "https://${SiteDistribution.DomainName}/api"}


def test_every_route_sam_makes_needs_the_header_cloudfront_adds():
    auth = API["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["FunctionArn"] == {"Fn::GetAtt": "OriginVerifyFunction.Arn"}
    assert authorizer["Identity"]["Headers"] == ["x-origin-verify"]  # missing: 401 from API Gateway, no call
    assert authorizer["EnableSimpleResponses"] is True and authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
    for name, resource in RESOURCES.items():  # no route opts out of the default authorizer
        for event in resource.get("Properties", {}).get("Events", {}).values():
            assert "Auth" not in event["Properties"], name
    function = RESOURCES["OriginVerifyFunction"]["Properties"]
    assert function["Environment"]["Variables"]["ORIGIN_SECRET"] == SECRET  # the value CloudFront sends
    permission = RESOURCES["OriginVerifyInvokePermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "OriginVerifyFunction"}
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${StyleApi}/authorizers/*")


@pytest.fixture
def authorizer(monkeypatch):
    monkeypatch.setenv("ORIGIN_SECRET", "s3cret-from-secrets-manager")
    namespace = {}
    exec(RESOURCES["OriginVerifyFunction"]["Properties"]["Code"]["ZipFile"], namespace)  # the deployed code
    return namespace["handler"]


@pytest.mark.parametrize("headers, allowed", [
    ({"x-origin-verify": "s3cret-from-secrets-manager"}, True),
    ({"x-origin-verify": "s3cret-from-secrets-manage"}, False),
    ({"x-origin-verify": "s3cret-from-secrets-managerX"}, False),
    ({"x-origin-verify": ""}, False),
    ({"x-origin-verify": "S3CRET-FROM-SECRETS-MANAGER"}, False),
    ({"x-other": "s3cret-from-secrets-manager"}, False),
    ({}, False),
    (None, False),
])
def test_the_authorizer_admits_only_the_secret(authorizer, headers, allowed):
    assert authorizer({"version": "2.0", "type": "REQUEST", "headers": headers}, None) == {"isAuthorized": allowed}


def test_the_edge_function_strips_api_from_the_path_as_the_http_api_routes_it():
    node = shutil.which("node")
    assert node, "node (the front end's toolchain) runs the CloudFront Function's code"
    code = RESOURCES["ApiPathFunction"]["Properties"]["FunctionCode"]
    uris = ["/api/stylize", "/api/gallery", "/api/styles", "/api/", "/api/jobs/abc"]
    # a viewer-request function returns the request to forward
    script = code + f"\nconsole.log(JSON.stringify({json.dumps(uris)}.map(u => handler({{request: {{uri: u}}}}).uri)))"
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(result.stdout) == ["/stylize", "/gallery", "/styles", "/", "/jobs/abc"]
    for route in ("/stylize", "/gallery", "/styles"):
        assert route in OPENAPI["paths"]


# ----------------------------------------------------------------------- throttles, concurrency
def test_stylize_and_gallery_have_their_own_lower_throttles():
    settings = API["RouteSettings"]
    assert set(settings) == {"ANY /stylize", "ANY /gallery"} and set(settings) <= set(sam_routes())
    for route, prefix in (("ANY /stylize", "Stylize"), ("ANY /gallery", "Gallery")):
        assert settings[route] == {"ThrottlingRateLimit": {"Ref": f"{prefix}RateLimit"},
                                   "ThrottlingBurstLimit": {"Ref": f"{prefix}BurstLimit"}}
    for kind in ("Rate", "Burst"):  # the default route settings (/styles) are the highest
        assert 0 < default(f"Stylize{kind}Limit") < default(f"Gallery{kind}Limit") < default(f"Api{kind}Limit")


def test_the_inference_function_has_a_reserved_concurrency_by_default():
    assert default("InferenceReservedConcurrency") > 0
    assert TEMPLATE["Conditions"]["HasReservedConcurrency"] == \
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "InferenceReservedConcurrency"}, -1]}]}
    reserved = RESOURCES["InferenceFunction"]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"]
    assert reserved[:2] == ["HasReservedConcurrency", {"Ref": "InferenceReservedConcurrency"}]


# ------------------------------------------------------------------------------- alarms, budget
def always_there_functions() -> dict[str, dict]:
    """The main stack's unconditional functions (the training stack's exist only when TrainingOn)."""
    return {name: r["Properties"] for name, r in TEMPLATE["Resources"].items()
            if r["Type"] == "AWS::Serverless::Function" and "Condition" not in r}


def alarm_metrics(alarm: str, metric: str) -> dict[str, str]:
    """Function name -> the id of its `metric` in the alarm's metric math."""
    found = {}
    for query in RESOURCES[alarm]["Properties"]["Metrics"]:
        stat = query.get("MetricStat", {}).get("Metric", {})
        if stat.get("MetricName") == metric:
            assert stat["Namespace"] == "AWS/Lambda" and query["ReturnData"] is False
            found[stat["Dimensions"][0]["Value"]["Ref"]] = query["Id"]
    return found


def returned_expression(alarm: str) -> str:
    returned = [q for q in RESOURCES[alarm]["Properties"]["Metrics"] if q.get("ReturnData", True)]
    assert len(returned) == 1  # an alarm watches exactly one series
    return returned[0]["Expression"]


@pytest.mark.parametrize("alarm, metric", [("FunctionErrorsAlarm", "Errors"), ("FunctionThrottlesAlarm", "Throttles")])
def test_any_error_or_throttle_of_either_function_raises_an_alarm(alarm, metric):
    ids = alarm_metrics(alarm, metric)
    assert set(ids) == set(always_there_functions())
    summed = re.fullmatch(r"SUM\(\[(.+)\]\)", returned_expression(alarm)).group(1).split(", ")
    assert sorted(summed) == sorted(ids.values())
    properties = RESOURCES[alarm]["Properties"]
    assert properties["Threshold"] == 1 and properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_a_run_near_either_functions_own_timeout_raises_an_alarm():
    ids = alarm_metrics("FunctionDurationAlarm", "Duration")
    functions = always_there_functions()
    assert set(ids) == set(functions)
    queries = {q["Id"]: q for q in RESOURCES["FunctionDurationAlarm"]["Properties"]["Metrics"]}
    shares = re.fullmatch(r"MAX\(\[(.+)\]\)", returned_expression("FunctionDurationAlarm")).group(1).split(", ")
    divided = {}
    for share in shares:
        metric_id, divisor = queries[share]["Expression"].split(" / ")
        divided[metric_id] = int(divisor)
    for name, metric_id in ids.items():  # each function against its own Timeout, in ms
        assert divided[metric_id] == functions[name]["Timeout"] * 1000, name
        assert queries[metric_id]["MetricStat"]["Stat"] == "Maximum"
    assert 0.5 <= RESOURCES["FunctionDurationAlarm"]["Properties"]["Threshold"] < 1


def test_every_alarm_notifies_the_topic_and_the_topic_mails_the_given_address():
    alarms = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert {"FunctionErrorsAlarm", "FunctionThrottlesAlarm", "FunctionDurationAlarm", "ApiServerErrorsAlarm"} <= \
        set(alarms)
    for name, alarm in alarms.items():
        # the training and video stacks' alarms notify the topic the main stack passes them as AlarmTopicArn
        nested = name in TRAINING["Resources"] or name in VIDEO["Resources"]
        topic = {"Ref": "AlarmTopicArn"} if nested else {"Ref": "AlarmTopic"}
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name
    for stack in (TRAINING_STACK, VIDEO_STACK):
        assert stack["Properties"]["Parameters"]["AlarmTopicArn"] == {"Fn::GetAtt": "Alarms.Outputs.AlarmTopicArn"}
    assert alarms["ApiServerErrorsAlarm"]["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "StyleApi"}}]
    subscription = RESOURCES["AlarmTopic"]["Properties"]["Subscription"]["Fn::If"]
    assert subscription[:2] == ["HasAlarmEmail", [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]]
    # the alarms live in their nested stack, given the functions, the API and the settings of the same names
    assert passes_its_own(ALARMS_STACK) and "Condition" not in ALARMS_STACK
    assert ALARMS["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert ALARMS["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    assert TEMPLATE["Outputs"]["AlarmTopicArn"]["Value"] == {"Fn::GetAtt": "Alarms.Outputs.AlarmTopicArn"}


def test_any_error_of_the_jobs_function_or_its_authorizer_raises_an_alarm():
    ids = alarm_metrics("TrainingFunctionErrorsAlarm", "Errors")
    functions = {name for name, r in TRAINING["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(ids) == functions == {"JobsFunction", "JobsAuthorizerFunction"}
    summed = re.fullmatch(r"SUM\(\[(.+)\]\)", returned_expression("TrainingFunctionErrorsAlarm")).group(1).split(", ")
    assert sorted(summed) == sorted(ids.values())
    properties = RESOURCES["TrainingFunctionErrorsAlarm"]["Properties"]
    assert properties["Threshold"] == 1 and properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_more_training_jobs_started_in_an_hour_than_the_stacks_cap_runs_raises_an_alarm():
    """The metric is the one the jobs function logs (test_jobs_aws checks the two are the same)."""
    alarm = RESOURCES["TrainingJobsStartedAlarm"]["Properties"]
    env = RESOURCES["JobsFunction"]["Properties"]["Environment"]["Variables"]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 3600, 1)
    # at most JOBS_MAX_TRAINING at once, each up to TrainingMaxRuntimeSeconds (an hour by default)
    assert alarm["Threshold"] == 2 * int(env["JOBS_MAX_TRAINING"]) * 3600 // default("TrainingMaxRuntimeSeconds")
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Dimensions"] == [{"Name": "JobNamePrefix", "Value": env["TRAINING_JOB_PREFIX"]}]


def test_the_budget_is_a_parameter_and_alerts_through_the_topic():
    budget = RESOURCES["MonthlyBudget"]
    assert budget["Condition"] == "HasBudget" and default("MonthlyBudgetUsd") > 0
    assert ALARMS["Conditions"]["HasBudget"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "MonthlyBudgetUsd"}, 0]}]}
    properties = budget["Properties"]
    assert properties["Budget"]["BudgetLimit"] == {"Amount": {"Ref": "MonthlyBudgetUsd"}, "Unit": "USD"}
    assert properties["Budget"]["BudgetType"] == "COST" and properties["Budget"]["TimeUnit"] == "MONTHLY"
    kinds = set()
    for notification in properties["NotificationsWithSubscribers"]:
        assert notification["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": "AlarmTopic"}}]
        kinds.add(notification["Notification"]["NotificationType"])
    assert kinds == {"ACTUAL", "FORECASTED"}
    # AWS Budgets may publish to the topic (else the budget cannot be created), before the budget is made
    statement = RESOURCES["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "budgets.amazonaws.com"} and statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "AlarmTopic"} and budget["DependsOn"] == "AlarmTopicPolicy"


# ---------------------------------------------------------------------- the worst case, in dollars
# us-east-1 list prices (x86_64 Lambda), the ones docs/aws-costs.md states.
LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_PER_MILLION, API_PER_MILLION, CLOUDFRONT_PER_MILLION, WAF_PER_MILLION, CF_FUNCTION_PER_MILLION = \
    0.20, 1.00, 1.00, 0.60, 0.10
WAF_PER_MONTH = 5 + 2 * 1  # the WebACL and its two rules
EGRESS_PER_GB, TO_ORIGIN_PER_GB = 0.085, 0.020  # CloudFront to the internet, and viewer uploads to the origin
API_METERING_UNIT = 512 * 1024  # an HTTP API call is metered per 512 KB (request and response counted here)
STYLES_RESPONSE_BYTES = 65_000  # GET /styles with the bundled styles (measured)
DAY = 86_400


def worst_case_per_day() -> dict[str, float]:
    """Every route at its throttle all day, every answer at the response cap, the inference function at its
    reserved concurrency all day, the gallery function at its timeout."""
    stylize, gallery, styles = default("StylizeRateLimit"), default("GalleryRateLimit"), default("ApiRateLimit")
    gallery_function = RESOURCES["GalleryFunction"]["Properties"]
    calls = (stylize + gallery + styles) * DAY / 1e6
    metered = (stylize * math.ceil((MAX_BODY_BYTES + MAX_RESPONSE_BYTES) / API_METERING_UNIT)
               + gallery * math.ceil(MAX_RESPONSE_BYTES / API_METERING_UNIT) + styles) * DAY / 1e6
    return {
        "inference compute": default("InferenceReservedConcurrency") * default("InferenceMemorySize") / 1024
        * DAY * LAMBDA_GB_SECOND,
        "gallery compute": gallery * gallery_function["Timeout"] * gallery_function["MemorySize"] / 1024
        * DAY * LAMBDA_GB_SECOND,
        "stylize egress": stylize * DAY * MAX_RESPONSE_BYTES / 1e9 * EGRESS_PER_GB,
        "gallery egress": gallery * DAY * MAX_RESPONSE_BYTES / 1e9 * EGRESS_PER_GB,
        "styles egress": styles * DAY * STYLES_RESPONSE_BYTES / 1e9 * EGRESS_PER_GB,
        "uploads": stylize * DAY * MAX_BODY_BYTES / 1e9 * TO_ORIGIN_PER_GB,
        "requests": metered * API_PER_MILLION + calls * (CLOUDFRONT_PER_MILLION + WAF_PER_MILLION
                                                        + LAMBDA_PER_MILLION + CF_FUNCTION_PER_MILLION)
        + WAF_PER_MONTH / 30,
    }


def test_the_cost_page_states_the_worst_case_of_the_templates_defaults():
    section = (ROOT / "docs" / "aws-costs.md").read_text()
    costs = worst_case_per_day()
    for item, dollars in costs.items():
        assert f"${dollars:,.2f}" in section, (item, f"${dollars:,.2f}")
    assert f"${sum(costs.values()):,.0f} a day" in section
    for price in ("0.0000166667", "us-east-1", "4,000,000"):
        assert price in section
    assert os.path.exists(ROOT / "waf.yaml") and "waf.yaml" in section
