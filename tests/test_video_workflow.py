"""The video workflow as stacks/video.yaml defines it, run through its steps' handlers: the state machine's
Definition read from the template and interpreted here (Task: the Python handler the function's Handler names,
called with the state's input; Map: its ItemProcessor once per item of its ItemsPath, each with the ItemSelector's
input; Catch: to the state it names; Next and End), over moto's S3 with a clip uploaded as the browser does and
the bundled models. Every S3 call a step makes is held to the IAM policy of its function in the template, so the
least-privilege policies are the ones the code needs."""

import fnmatch
import importlib.util
import json
import re
import sys
import traceback
import uuid

import av
import pytest
import stylecore
from api_helpers import ROOT
from synthetic import panning_clip
from templates import TEMPLATE, VIDEO, VIDEO_STACK

BUCKET = "fns-videos-test"
OWNER = "0c1d2e3f-aaaa-bbbb-cccc-111122223333"  # a Cognito sub
DEFINITION = VIDEO["Resources"]["VideoStateMachine"]["Properties"]["Definition"]
FUNCTIONS = {name: r["Properties"] for name, r in VIDEO["Resources"].items()
             if r["Type"] == "AWS::Serverless::Function"}


def stack_parameter(name: str):
    """A video stack parameter's value with the main stack's defaults (what `sam deploy` gives it unasked)."""
    passed = VIDEO_STACK["Properties"]["Parameters"].get(name)
    if isinstance(passed, dict) and "Ref" in passed and passed["Ref"] in TEMPLATE["Parameters"]:
        return TEMPLATE["Parameters"][passed["Ref"]]["Default"]
    return VIDEO["Parameters"][name]["Default"]


# ----------------------------------------------------------------------------- the S3 calls, held to IAM
ACTIONS = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject",
           "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject",
           "CompleteMultipartUpload": "s3:PutObject", "AbortMultipartUpload": "s3:AbortMultipartUpload",
           "DeleteObject": "s3:DeleteObject", "ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket"}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def resource_text(resource) -> str:
    if isinstance(resource, str):
        return resource
    if "Fn::GetAtt" in resource:
        return "${" + resource["Fn::GetAtt"] + "}"
    return resource["Fn::Sub"] if "Fn::Sub" in resource else "${" + resource["Ref"] + "}"


def permits(function: str, action: str, key: str | None = None, prefix: str | None = None) -> bool:
    """Whether the function's policy in the template allows `action` on the videos bucket's object `key`, or a
    listing of `prefix` (IAM's wildcards, and ListBucket's s3:prefix condition)."""
    for policy in FUNCTIONS[function]["Policies"]:
        for statement in policy["Statement"]:
            if statement["Effect"] != "Allow" or not any(fnmatch.fnmatchcase(action, a)
                                                         for a in as_list(statement["Action"])):
                continue
            resources = [resource_text(r) for r in as_list(statement["Resource"])]
            if action == "s3:ListBucket":
                patterns = as_list(statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix", "*"))
                if "${VideosBucket.Arn}" in resources and any(fnmatch.fnmatchcase(prefix, p) for p in patterns):
                    return True
            elif any(fnmatch.fnmatchcase("${VideosBucket.Arn}/" + key, r) for r in resources):
                return True
    return False


class S3Calls:
    """Every S3 call made while `function` is set, as (function, action, key or prefix); the ones its policy would
    refuse are collected in `refused`."""

    def __init__(self):
        self.function, self.calls, self.refused = None, [], []

    def record(self, operation: str, params: dict):
        if self.function is None or params.get("Bucket") != BUCKET:
            return
        action = ACTIONS.get(operation)
        if operation == "DeleteObjects":
            for item in params["Delete"]["Objects"]:
                self.check("s3:DeleteObject", item["Key"])
        elif operation == "CopyObject":
            self.check("s3:GetObject", params["CopySource"]["Key"])
            self.check("s3:PutObject", params["Key"])
        elif action == "s3:ListBucket":
            self.check(action, prefix=params.get("Prefix", ""))
        elif action is None:
            self.refused.append((self.function, operation, params.get("Key")))  # an action the test cannot judge
        else:
            self.check(action, params["Key"])

    def check(self, action: str, key: str | None = None, prefix: str | None = None):
        self.calls.append((self.function, action, key if key is not None else prefix))
        if not permits(self.function, action, key, prefix):
            self.refused.append(self.calls[-1])


# --------------------------------------------------------------------------------------- the interpreter
class Failed(Exception):
    """A state's error, as Step Functions names it: Error and Cause."""

    def __init__(self, error: str, cause: str):
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


def path_value(path: str, data, context: dict):
    if path == "$":
        return data
    root, rest = (context, path[3:]) if path.startswith("$$.") else (data, path[2:])
    for part in rest.split("."):
        root = root[part]
    return root


def intrinsic(expression: str):
    """The one intrinsic function the definition uses: States.StringToJson('text')."""
    match = re.fullmatch(r"States\.StringToJson\('(.*)'\)", expression)
    assert match, f"{expression}: not an intrinsic the interpreter knows"
    return json.loads(match.group(1))


def template_value(value):
    """The definition's CloudFormation values (SAM makes them DefinitionSubstitutions): Fn::GetAtt F.Arn names
    function F; Fn::Sub takes the stack's parameters."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"].removesuffix(".Arn")
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{(\w+)\}", lambda m: str(stack_parameter(m.group(1))), value["Fn::Sub"])
    return value


def payload(template, data, context: dict):
    """Parameters, ItemSelector and ResultSelector: keys ending in .$ take a path's value or an intrinsic's."""
    if isinstance(template, list):
        return [payload(item, data, context) for item in template]
    if not isinstance(template, dict) or "Fn::GetAtt" in template or "Fn::Sub" in template:
        return template_value(template)
    out = {}
    for key, value in template.items():
        if key.endswith(".$"):
            value = template_value(value)
            out[key[:-2]] = intrinsic(value) if value.startswith("States.") else path_value(value, data, context)
        else:
            out[key] = payload(value, data, context)
    return out


def with_result(data, result, result_path):
    if result_path is None:
        return data
    if result_path == "$":
        return result
    data = dict(data)
    data[result_path.removeprefix("$.")] = result
    return data


class Workflow:
    """The state machine's definition, run in order through the steps' handlers (one Lambda function each)."""

    def __init__(self, handlers: dict, s3: S3Calls):
        self.handlers, self.s3 = handlers, s3
        self.visited, self.map_items, self.max_concurrency = [], [], None

    def invoke(self, function: str, event: dict) -> dict:
        """lambda:invoke as Step Functions calls it: the handler's return is the Payload; a raised exception is
        the task's error, named by its type, with Lambda's error object as the cause."""
        handler = self.handlers[FUNCTIONS[function]["Handler"]]
        self.s3.function = function
        try:
            return {"Payload": json.loads(json.dumps(handler(json.loads(json.dumps(event)), None))),
                    "StatusCode": 200}
        except Exception as error:  # noqa: BLE001 - the task's error, as Lambda reports it
            cause = {"errorMessage": str(error), "errorType": type(error).__name__,
                     "stackTrace": traceback.format_tb(error.__traceback__)}
            raise Failed(type(error).__name__, json.dumps(cause)) from error
        finally:
            self.s3.function = None

    def run(self, machine: dict, data, context: dict | None = None):
        """-> ("succeeded", output) or ("failed", {"Error", "Cause"})."""
        context = context or {}
        name = machine["StartAt"]
        while True:
            state = machine["States"][name]
            self.visited.append(name)
            if state["Type"] == "Fail":
                return "failed", {"Error": path_value(state["ErrorPath"], data, context),
                                  "Cause": path_value(state["CausePath"], data, context)}
            try:
                output = self.step(state, data, context)
            except Failed as error:
                catch = next((c for c in state.get("Catch", []) if "States.ALL" in c["ErrorEquals"]
                              or error.error in c["ErrorEquals"]), None)
                if catch is None:
                    return "failed", {"Error": error.error, "Cause": error.cause}
                data = with_result(data, {"Error": error.error, "Cause": error.cause}, catch.get("ResultPath", "$"))
                name = catch["Next"]
                continue
            data = output
            if state.get("End"):
                return "succeeded", data
            name = state["Next"]

    def step(self, state: dict, data, context: dict):
        if state["Type"] == "Task":
            assert state["Resource"] == "arn:aws:states:::lambda:invoke"
            parameters = payload(state["Parameters"], data, context)
            result = self.invoke(parameters["FunctionName"], parameters["Payload"])
        elif state["Type"] == "Map":
            items = path_value(state["ItemsPath"], data, context)
            self.max_concurrency = path_value(state["MaxConcurrencyPath"], data, context)
            result = []
            for index, item in enumerate(items):
                item_input = payload(state["ItemSelector"], data, {"Map": {"Item": {"Index": index, "Value": item}}})
                self.map_items.append(item_input)
                outcome, output = self.run(state["ItemProcessor"], item_input)
                if outcome == "failed":  # a child execution failed; the Map tolerates none
                    raise Failed("States.ExceedToleratedFailureThreshold",
                                 f"The specified tolerated failure threshold was exceeded: {output['Error']}")
                result.append(output)
        else:
            raise AssertionError(f"{state['Type']}: a state the interpreter does not know")
        if "ResultSelector" in state:
            result = payload(state["ResultSelector"], result, context)
        data = with_result(data, result, state.get("ResultPath", "$"))
        return path_value(state.get("OutputPath", "$"), data, context)


# ------------------------------------------------------------------------------------------- the stage
@pytest.fixture
def aws(monkeypatch):
    """moto's S3 with the videos bucket, the functions' environment as the template sets it, and every S3 call
    recorded."""
    from botocore.client import BaseClient
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    environment = VIDEO["Globals"]["Function"]["Environment"]["Variables"]
    for name, value in environment.items():
        if isinstance(value, str):
            monkeypatch.setenv(name, value)
        elif value == {"Ref": "VideosBucket"}:
            monkeypatch.setenv(name, BUCKET)
        elif "Ref" in value and value["Ref"] in VIDEO["Parameters"]:
            monkeypatch.setenv(name, str(stack_parameter(value["Ref"])))
    monkeypatch.setenv("MODELS_DIR", str(ROOT / "models"))  # /opt/models: the models layer is models/'s files
    s3 = S3Calls()
    original = BaseClient._make_api_call

    def recorded(client, operation, params):
        if client.meta.service_model.service_name == "s3":
            s3.record(operation, params)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    with mock_aws():
        import boto3

        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield s3


def load_steps():
    """lambda_video/steps.py as a fresh module: it makes its S3 client and style registry at import, as at a
    Lambda function's init."""
    name = f"video_steps_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "lambda_video" / "steps.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class RecordedStarts:
    """The Step Functions client the API's engine starts executions with."""

    class exceptions:  # noqa: N801 - boto3's shape
        class ExecutionAlreadyExists(Exception):
            pass

    def __init__(self):
        self.started = []

    def start_execution(self, stateMachineArn, name, input):  # noqa: N803 - boto3's names
        self.started.append({"stateMachineArn": stateMachineArn, "name": name, "input": json.loads(input)})


def started_job(tmp_path, s3: S3Calls, chunk_frames: int, seconds: float = 1.0, fps: int = 8):
    """A video made as the routes make one (videojobs' own recipe): created, its clip uploaded to the presigned
    POST's key, started; the execution's input as the API function starts it."""
    from apicommon.store import S3Store
    from videojobs import jobs
    from videojobs.engines import StepFunctionsEngine
    from videojobs.service import VideoService

    registry = stylecore.StyleRegistry.from_dir(ROOT / "models")
    style = registry.list_styles()[0]["id"]
    clip = tmp_path / "clip.mp4"
    panning_clip(clip, seconds=seconds, fps=fps, size=(64, 48), audio=True)
    starts = RecordedStarts()
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:fns-video"
    store = S3Store(BUCKET)
    service = VideoService(store, StepFunctionsEngine(arn, starts), registry, chunk_frames=chunk_frames)
    s3.function = "VideoFunction"  # what the API function does: held to its policy too
    job, upload = service.create(OWNER, {"style": style}, clip.stat().st_size, "video/mp4", "clip.mp4")
    s3.function = None
    assert upload["fields"]["key"] == jobs.source_key(OWNER, job.id)
    store.upload(clip, upload["fields"]["key"], "video/mp4")  # the browser's POST
    s3.function = "VideoFunction"
    service.start(OWNER, job.id)
    s3.function = None
    (execution,) = starts.started
    assert execution["name"] == job.id and execution["stateMachineArn"] == arn
    return store, job, execution["input"], clip


def handlers_of(steps) -> dict:
    handlers = {}
    for properties in FUNCTIONS.values():
        module, _, function = properties["Handler"].partition(".")
        if module == "steps":
            handlers[properties["Handler"]] = getattr(steps, function)
    return handlers


# ------------------------------------------------------------------------------------------------ tests
def test_a_clip_runs_through_the_workflow_to_a_result_with_its_sound(aws, tmp_path):
    from videojobs import jobs

    store, job, execution_input, clip = started_job(tmp_path, aws, chunk_frames=3)
    assert execution_input == {"id": job.id, "owner": OWNER}
    workflow = Workflow(handlers_of(load_steps()), aws)
    outcome, output = workflow.run(DEFINITION, execution_input)
    assert (outcome, output) == ("succeeded", {"id": job.id, "state": "done"})
    assert workflow.visited == ["Plan", "Stylize", "StylizeChunk", "StylizeChunk", "StylizeChunk", "Join"]
    # the Map ran each chunk of the plan with the ItemSelector's input, at most VideoMaxConcurrency at once
    assert [item["chunk"] for item in workflow.map_items] == [
        {"index": 0, "start": 0, "end": 3}, {"index": 1, "start": 3, "end": 6}, {"index": 2, "start": 6, "end": 8}]
    assert all(item["id"] == job.id and item["owner"] == OWNER for item in workflow.map_items)
    assert workflow.max_concurrency == TEMPLATE["Parameters"]["VideoMaxConcurrency"]["Default"]
    assert isinstance(workflow.max_concurrency, int)  # MaxConcurrencyPath needs a number
    record = json.loads(store.get(jobs.record_key(OWNER, job.id)))
    assert record["state"] == "done", record
    result = tmp_path / "result.mp4"
    assert store.download(jobs.result_key(OWNER, job.id), result)
    with av.open(str(result)) as container:
        assert container.streams.video[0].codec_context.name == "h264" and container.streams.audio
        assert sum(1 for _ in container.decode(video=0)) == 8
    # the working files are gone: the upload and the chunks
    assert store.size(jobs.source_key(OWNER, job.id)) is None
    assert store.list(jobs.prefix(OWNER, job.id) + "chunks/") == []
    # each step touched only what its function's policy allows, and each step did run under its own
    assert aws.refused == []
    assert {function for function, _, _ in aws.calls} == {
        "VideoFunction", "VideoPlanFunction", "VideoChunkFunction", "VideoJoinFunction"}


def test_a_failing_chunk_fails_the_map_and_the_job_through_the_catch(aws, tmp_path):
    from videojobs import jobs

    store, job, execution_input, _ = started_job(tmp_path, aws, chunk_frames=4)
    store.delete(jobs.source_key(OWNER, job.id))  # the clip is gone: no chunk can be made
    workflow = Workflow(handlers_of(load_steps()), aws)
    outcome, error = workflow.run(DEFINITION, execution_input)
    assert outcome == "failed" and error["Error"] == "States.ExceedToleratedFailureThreshold"
    assert workflow.visited == ["Plan", "Stylize", "StylizeChunk", "RecordFailure", "Failed"]
    record = json.loads(store.get(jobs.record_key(OWNER, job.id)))
    assert record["state"] == "failed" and "clip is gone" in record["error"], record  # the chunk's own reason
    assert aws.refused == []
    assert "VideoFailFunction" in {function for function, _, _ in aws.calls}


def test_a_cancelled_video_ends_quietly_at_each_step(aws, tmp_path):
    """DELETE /videos/{id} marks the job cancelled and stops the execution; a step already running ends
    without error and without writing a result."""
    from videojobs import jobs

    store, job, execution_input, _ = started_job(tmp_path, aws, chunk_frames=4)
    record = json.loads(store.get(jobs.record_key(OWNER, job.id)))
    record["state"] = jobs.CANCELLED
    store.put(jobs.record_key(OWNER, job.id), json.dumps(record).encode(), "application/json")
    workflow = Workflow(handlers_of(load_steps()), aws)
    outcome, output = workflow.run(DEFINITION, execution_input)
    assert outcome == "succeeded" and output["id"] == job.id
    assert workflow.visited == ["Plan", "Stylize", "Join"]  # no chunks to stylize
    assert store.size(jobs.result_key(OWNER, job.id)) is None
    assert aws.refused == []


def test_the_stacks_settings_are_the_ones_the_code_reads_with_the_same_defaults():
    """One home per setting: the template's defaults are videojobs.limits', and every variable the template
    sets is one the code reads."""
    from videojobs import limits

    assert TEMPLATE["Parameters"]["VideoChunkFrames"]["Default"] == limits.CHUNK_FRAMES
    assert TEMPLATE["Parameters"]["VideoMaxActivePerUser"]["Default"] == limits.MAX_ACTIVE_PER_USER
    assert TEMPLATE["Parameters"]["VideoMaxMinutesPerDay"]["Default"] == limits.MAX_MINUTES_PER_DAY
    assert VIDEO["Parameters"]["VideoMaxConcurrency"]["Default"] <= limits.MAX_ACTIVE_STACK * 10
    source = "\n".join(path.read_text() for path in (ROOT / "lambda_video").rglob("*.py"))
    set_by_template = set(VIDEO["Globals"]["Function"]["Environment"]["Variables"]) | set(
        FUNCTIONS["VideoFunction"]["Environment"]["Variables"])
    for name in set_by_template - {"ALLOWED_ORIGIN", "MODELS_DIR", "MODELS_VARIANT"}:  # apicommon's and stylecore's
        assert f'"{name}"' in source, name
