"""stacks/video.yaml keeps its promises: off unless VideoEnabled (and only with training), a private bucket whose
files last a day, the video routes behind the training stack's authorizer, least-privilege policies for the video
function, the workflow's four steps and the state machine, and a workflow that is a Distributed Map over the
plan's chunks with every step's failure recorded. tests/test_video_workflow.py runs the workflow's definition
through the steps' handlers; `sam validate --lint` (tests/test_sam_build.py) checks the syntax."""

import pytest
from templates import RESOURCES, TEMPLATE, TRAINING, VIDEO, VIDEO_STACK, as_list, grants, passes_its_own, resources_of

FUNCTIONS = {name: r["Properties"] for name, r in VIDEO["Resources"].items()
             if r["Type"] == "AWS::Serverless::Function"}
STEPS = {"steps.plan": "VideoPlanFunction", "steps.stylize_chunk": "VideoChunkFunction",
         "steps.join": "VideoJoinFunction", "steps.fail": "VideoFailFunction"}
STATE_MACHINE = VIDEO["Resources"]["VideoStateMachine"]["Properties"]
DEFINITION = STATE_MACHINE["Definition"]


def statements(resource: str) -> list[dict]:
    return [s for policy in VIDEO["Resources"][resource]["Properties"]["Policies"] for s in policy["Statement"]]


def allowed(resource: str, action: str, key: str) -> bool:
    """Whether the function or state machine may `action` the videos bucket's object `key`."""
    return grants(statements(resource), action, "${VideosBucket.Arn}/" + key)


# ---------------------------------------------------------------------------------------- the switch
def test_video_is_off_unless_turned_on_and_needs_training():
    parameter = TEMPLATE["Parameters"]["VideoEnabled"]
    assert parameter["Default"] == "false" and "TrainingEnabled" in parameter["Description"]
    assert VIDEO_STACK["Type"] == "AWS::Serverless::Application" and VIDEO_STACK["Condition"] == "VideoOn"
    # the condition holds only with training, and asking for video without it is refused, not silently ignored
    assert TEMPLATE["Conditions"]["VideoOn"] == {"Fn::And": [{"Fn::Equals": [{"Ref": "VideoEnabled"}, "true"]},
                                                             {"Fn::Condition": "TrainingOn"}]}
    rule = TEMPLATE["Rules"]["VideoNeedsTraining"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "VideoEnabled"}, "true"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "TrainingEnabled"}, "true"]}
    assert passes_its_own(VIDEO_STACK)
    passed = VIDEO_STACK["Properties"]["Parameters"]
    assert set(passed) == {name for name, spec in VIDEO["Parameters"].items() if "Default" not in spec} | {
        "VideoMaxConcurrency", "VideoChunkFrames", "VideoMaxActivePerUser", "VideoMaxMinutesPerDay"}
    for name in ("VideoMaxConcurrency", "VideoChunkFrames", "VideoMaxActivePerUser", "VideoMaxMinutesPerDay"):
        assert TEMPLATE["Parameters"][name]["Default"] == VIDEO["Parameters"][name]["Default"], name
    # the training stack's authorizer, which it outputs for this stack
    assert TRAINING["Outputs"]["JobsAuthorizer"]["Value"] == {"Ref": "JobsAuthorizer"}
    assert passed["JobsAuthorizer"] == {"Ref": "JobsAuthorizer"}  # Training.Outputs.JobsAuthorizer, inlined


def test_the_functions_get_their_settings_and_the_models_and_video_layers():
    env = VIDEO["Globals"]["Function"]["Environment"]["Variables"]
    assert env["VIDEOS_BUCKET"] == {"Ref": "VideosBucket"}
    assert (env["VIDEOS_ENGINE"], env["VIDEOS_AUTH"], env["MODELS_DIR"]) == ("stepfunctions", "jwt", "/opt/models")
    assert env["VIDEOS_MAX_ACTIVE"] == {"Ref": "VideoMaxActivePerUser"}
    assert env["VIDEOS_MAX_MINUTES_PER_DAY"] == {"Ref": "VideoMaxMinutesPerDay"}
    assert env["VIDEOS_CHUNK_FRAMES"] == {"Ref": "VideoChunkFrames"}
    assert env["ALLOWED_ORIGIN"] == {"Fn::If": ["HasCorsOrigin", {"Ref": "CorsOrigin"}, {"Ref": "AWS::NoValue"}]}
    assert VIDEO_STACK["Properties"]["Parameters"]["CorsOrigin"] == {"Ref": "AllowedOrigin"}
    assert VIDEO["Globals"]["Function"]["Layers"] == [
        {"Ref": name} for name in ("CommonLayer", "RuntimeLayer", "StyleCoreLayer", "ModelsLayer", "VideoLayer")]
    layer = VIDEO["Resources"]["VideoLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile" and layer["Properties"]["ContentUri"] == "../layers/video/"
    assert {p["Handler"] for p in FUNCTIONS.values()} == {"app.handler", *STEPS}
    assert {STEPS.get(p["Handler"], "VideoFunction") for p in FUNCTIONS.values()} == set(FUNCTIONS)
    # only the API function starts the workflow; the steps run inside it
    api = FUNCTIONS["VideoFunction"]
    assert api["Environment"]["Variables"] == {"VIDEOS_STATE_MACHINE_ARN": {"Ref": "VideoStateMachine"}}
    assert all("Environment" not in FUNCTIONS[name] for name in STEPS.values())
    assert api["Timeout"] < 30  # the HTTP API gives up at 30 s
    chunk = FUNCTIONS["VideoChunkFunction"]
    assert chunk["Timeout"] == 900 and chunk["MemorySize"] >= 3008 and chunk["EphemeralStorage"]["Size"] >= 4096
    join = FUNCTIONS["VideoJoinFunction"]
    assert join["Timeout"] == 900 and join["EphemeralStorage"]["Size"] >= 4096
    for properties in FUNCTIONS.values():  # each its own log group, kept LogRetentionDays
        group = properties["LoggingConfig"]["LogGroup"]["Ref"]
        assert VIDEO["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# ------------------------------------------------------------------------------------------ the bucket
def test_the_videos_bucket_keeps_nothing_for_more_than_a_day_and_lets_only_the_site_upload_from_a_browser():
    bucket = VIDEO["Resources"]["VideosBucket"]["Properties"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Prefix"] == "videos/" and rule["ExpirationInDays"] == 1
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "VersioningConfiguration" not in bucket  # expired means gone
    (cors,) = bucket["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == [{"Ref": "SiteOrigin"},
                                      {"Fn::If": ["HasCorsOrigin", {"Ref": "CorsOrigin"}, {"Ref": "AWS::NoValue"}]}]
    site = {"Fn::Sub": "https://${SiteDistribution.DomainName}"}
    assert VIDEO_STACK["Properties"]["Parameters"]["SiteOrigin"] == site
    assert set(cors["AllowedMethods"]) == {"POST", "GET", "HEAD"}  # no PUT, no DELETE from a browser
    # the main stack names it: unique per stack (its id's UUID), lower case, within S3's 63 characters
    name = VIDEO_STACK["Properties"]["Parameters"]["VideosBucketName"]
    uuid = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    assert name == {"Fn::Join": ["-", ["fns-videos", uuid]]}
    assert len("fns-videos-") + 36 <= 63
    assert TEMPLATE["Outputs"]["VideosBucketName"]["Condition"] == "VideoOn"
    assert VIDEO["Outputs"]["VideosBucketRegionalDomainName"]["Value"] == {
        "Fn::GetAtt": "VideosBucket.RegionalDomainName"}


# ---------------------------------------------------------------------------------- least privilege
def test_no_s3_or_states_action_on_every_resource():
    for name in (*FUNCTIONS, "VideoStateMachine"):
        for statement in statements(name):
            actions = as_list(statement["Action"])
            assert all("*" not in action for action in actions), (name, actions)
            if any(action.split(":")[0] in ("s3", "states", "lambda") for action in actions):
                assert "*" not in resources_of(statement), (name, statement)
                assert all(r.startswith(("${VideosBucket.Arn}", "${Video", "arn:${AWS::Partition}:states:"))
                           for r in resources_of(statement)), (name, statement)
            else:  # the state machine's log delivery, which has no resource-level permission
                assert name == "VideoStateMachine" and all(a.startswith("logs:") for a in actions), (name, actions)
            if statement.get("Action") == "s3:ListBucket":
                assert statement["Condition"] == {"StringLike": {"s3:prefix": "videos/*"}}


def test_only_the_state_machine_invokes_the_steps_and_only_the_api_function_starts_it():
    for name in FUNCTIONS:
        actions = {a for s in statements(name) for a in as_list(s["Action"])}
        assert not any(a.startswith("lambda:") for a in actions), name  # no function invokes another
        if name != "VideoFunction":
            assert not any(a.startswith("states:") for a in actions), name
    states = [s for s in statements("VideoFunction") if s["Action"] != "s3:ListBucket"
              and as_list(s["Action"])[0].startswith("states:")]
    assert {a for s in states for a in as_list(s["Action"])} == {
        "states:StartExecution", "states:StopExecution", "states:DescribeExecution"}
    for statement in states:  # this state machine and its executions only
        (resource,) = resources_of(statement)
        assert resource == "${VideoStateMachine}" or resource.endswith(":execution:${VideoStateMachine.Name}:*")
    invoke = [s for s in statements("VideoStateMachine") if s["Action"] == "lambda:InvokeFunction"]
    assert sorted(r for s in invoke for r in resources_of(s)) == sorted(
        "${" + name + ".Arn}" for name in STEPS.values())


def test_the_state_machine_may_run_only_its_own_child_executions():
    """What a Distributed Map needs: to start its child executions (of this state machine) and follow them."""
    name = STATE_MACHINE["Name"]["Fn::Sub"]
    granted = {a: resources_of(s) for s in statements("VideoStateMachine") for a in as_list(s["Action"])}
    assert granted["states:StartExecution"] == [f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}"
                                                f":stateMachine:{name}"]
    for action in ("states:DescribeExecution", "states:StopExecution"):
        assert granted[action] == [f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}"
                                   f":execution:{name}/*"]
    assert not any(a.startswith("s3:") for a in granted)


@pytest.mark.parametrize("key, writers", [
    ("videos/sub/vid.json", {"VideoFunction", "VideoPlanFunction", "VideoJoinFunction", "VideoFailFunction"}),
    ("videos/sub/vid/source", {"VideoFunction"}),  # the presigned POST's key, signed by the API function
    ("videos/sub/vid/chunks/00001.mp4", {"VideoFunction", "VideoChunkFunction"}),
    ("videos/sub/vid/progress/00001", {"VideoFunction", "VideoChunkFunction"}),
    ("videos/sub/vid/preview.jpg", {"VideoFunction", "VideoChunkFunction"}),
    ("videos/sub/vid/result.mp4", {"VideoFunction", "VideoJoinFunction"}),
    ("videos/_active/3", {"VideoFunction"}),  # quota slots: the API function alone
    ("videos/sub/_active/1", {"VideoFunction"}),
    ("videos/sub/_minutes/2026-01-01", {"VideoFunction"}),
    ("elsewhere/vid.json", set()),
    ("vid.json", set()),
])
def test_each_function_writes_only_the_keys_of_its_step(key, writers):
    assert {name for name in FUNCTIONS if allowed(name, "s3:PutObject", key)} == writers


def test_the_chunk_function_writes_no_record_and_deletes_nothing():
    for key in ("videos/sub/vid.json", "videos/other/vid.json", "videos/sub/vid/result.mp4", "records/sub/vid.json",
                "videos/_active/1", "videos/sub/_minutes/2026-01-01"):
        assert not allowed("VideoChunkFunction", "s3:PutObject", key), key
        assert not allowed("VideoChunkFunction", "s3:DeleteObject", key), key
    assert allowed("VideoChunkFunction", "s3:GetObject", "videos/sub/vid/source")
    for name in FUNCTIONS:  # nothing outside videos/
        assert not allowed(name, "s3:GetObject", "other/key") and not allowed(name, "s3:PutObject", "other/key")


# ------------------------------------------------------------------------------------------ the routes
def test_the_video_routes_reach_the_video_function_behind_the_training_authorizer():
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in VIDEO["Resources"].values()
              if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert set(routes) == {"ANY /videos", "ANY /videos/limits", "ANY /videos/{id}", "ANY /videos/{id}/start"}
    for route in routes.values():
        assert route["ApiId"] == {"Ref": "StyleApi"} and route["AuthorizationType"] == "CUSTOM"
        assert route["AuthorizerId"] == {"Ref": "JobsAuthorizer"}  # no route bypasses CloudFront or sign-in
    integration = VIDEO["Resources"]["VideoIntegration"]["Properties"]
    assert integration["IntegrationUri"] == {"Fn::GetAtt": "VideoFunction.Arn"}
    permission = VIDEO["Resources"]["VideoInvokePermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "VideoFunction"}
    assert permission["Principal"] == "apigateway.amazonaws.com"


# ---------------------------------------------------------------------------------------- the workflow
def tasks(states: dict) -> dict:
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


def function_of(task: dict) -> str:
    return task["Parameters"]["FunctionName"]["Fn::GetAtt"].removesuffix(".Arn")


def test_the_workflow_is_a_distributed_map_over_the_plans_chunks():
    assert STATE_MACHINE["Type"] == "STANDARD"
    states = DEFINITION["States"]
    plan = states[DEFINITION["StartAt"]]
    assert function_of(plan) == "VideoPlanFunction"
    stylize = states[plan["Next"]]
    assert stylize["Type"] == "Map" and stylize["ItemsPath"] == "$.chunks"
    assert stylize["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert stylize["ItemSelector"] == {"id.$": "$.id", "owner.$": "$.owner", "chunk.$": "$$.Map.Item.Value"}
    (chunk,) = stylize["ItemProcessor"]["States"].values()
    assert function_of(chunk) == "VideoChunkFunction" and chunk["End"] is True
    join = states[stylize["Next"]]
    assert function_of(join) == "VideoJoinFunction" and join["End"] is True
    # the plan's chunks reach the Map; the Map's own results are dropped, its input goes on to Join
    assert plan["ResultSelector"]["chunks.$"] == "$.Payload.chunks" and stylize["ResultPath"] is None
    assert "TimeoutSeconds" in DEFINITION


def test_the_maps_concurrency_is_the_parameter():
    """MaxConcurrency must be a number, which no substitution gives: the plan's output carries the parameter, turned
    into a number by States.StringToJson, and the Map reads it with MaxConcurrencyPath."""
    states = DEFINITION["States"]
    stylize = next(state for state in states.values() if state["Type"] == "Map")
    assert "MaxConcurrency" not in stylize and stylize["MaxConcurrencyPath"] == "$.max_concurrency"
    plan = states[DEFINITION["StartAt"]]
    assert plan["ResultSelector"]["max_concurrency.$"] == {
        "Fn::Sub": "States.StringToJson('${VideoMaxConcurrency}')"}
    assert VIDEO_STACK["Properties"]["Parameters"]["VideoMaxConcurrency"] == {"Ref": "VideoMaxConcurrency"}


def test_every_step_retries_lambdas_transient_errors_and_records_any_failure():
    states = DEFINITION["States"]
    fail = states["RecordFailure"]
    assert function_of(fail) == "VideoFailFunction"
    assert fail["Parameters"]["Payload"] == {"id.$": "$.id", "owner.$": "$.owner", "error.$": "$.error"}
    assert states[fail["Next"]]["Type"] == "Fail"
    inner = tasks(next(s for s in states.values() if s["Type"] == "Map")["ItemProcessor"]["States"])
    for name, state in {**tasks(states), **inner}.items():
        (retry,) = state["Retry"]
        assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.AWSLambdaException",
                "Lambda.SdkClientException"} <= set(retry["ErrorEquals"]), name
        assert "States.ALL" not in retry["ErrorEquals"]  # a step's own error is not retried
    for name, state in states.items():  # each step of the workflow, the Map too, catches every error
        if state["Type"] in ("Task", "Map"):
            (catch,) = state["Catch"]
            assert catch["ErrorEquals"] == ["States.ALL"], name
            if name == "RecordFailure":  # not even the failure could be recorded: the execution fails
                assert states[catch["Next"]]["Type"] == "Fail"
            else:
                assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}


def test_the_workflows_failures_and_starts_and_its_functions_errors_raise_alarms():
    alarms = {name: r["Properties"] for name, r in VIDEO["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(alarms) == {"VideoExecutionsFailedAlarm", "VideoFunctionErrorsAlarm", "VideoExecutionsStartedAlarm"}
    failed = {q["MetricStat"]["Metric"]["MetricName"] for q in alarms["VideoExecutionsFailedAlarm"]["Metrics"]
              if "MetricStat" in q}
    assert failed == {"ExecutionsFailed", "ExecutionsTimedOut"}
    errors = {q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
              for q in alarms["VideoFunctionErrorsAlarm"]["Metrics"] if "MetricStat" in q}
    assert errors == set(FUNCTIONS)
    started = alarms["VideoExecutionsStartedAlarm"]
    assert (started["MetricName"], started["Period"], started["Statistic"]) == ("ExecutionsStarted", 3600, "Sum")
    assert started["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "VideoStateMachine"}}]
    assert started["Threshold"] == {"Ref": "VideoStartsPerHourAlarm"}
    assert RESOURCES["VideoStateMachineLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
