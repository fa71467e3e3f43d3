"""Users' own styles on AWS, against moto: the jobs handler behind its authorizer starts a
SageMaker training job (image, hyperparameters, inputs and output paths, stopping condition, managed spot),
reads its progress and preview from the styles bucket, cancels it, and the inference function serves the
finished style by its id. Every response is checked against openapi.yaml."""

import base64
import json
import re

import boto3
import pytest
from api_helpers import OPENAPI, ROOT, assert_contract, http_event, image_bytes, invoke, load_handler
from moto import mock_aws

BUCKET = "styles-bucket"
ROLE = "arn:aws:iam::123456789012:role/training"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311-cu124-ubuntu22.04-sagemaker"


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    env = {"JOBS_ENGINE": "sagemaker", "JOBS_AUTH": "jwt", "STYLES_BUCKET": BUCKET, "TRAINING_ROLE_ARN": ROLE,
           "TRAINING_IMAGE": IMAGE, "TRAINING_MAX_RUNTIME_S": "3600", "TRAINING_MAX_STEPS": "5000",
           "TRAINING_JOB_PREFIX": "stack-style-", "JOBS_MAX_ACTIVE": "1", "JOBS_MAX_STORED": "2"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield load_handler("lambda_jobs")


def call(jobs, method, path, body=None, user="alice", template=None, documented_as=None):
    event = http_event(method, path, body)
    if user:
        event["requestContext"]["authorizer"] = {"lambda": {"sub": user}}  # JobsAuthorizer's context
    status, headers, payload = invoke(jobs, event)
    assert_contract(template or path, documented_as or method, status, headers, payload)
    return status, payload


def painting(width=96, height=80):
    import base64

    return base64.b64encode(image_bytes(width, height, "PNG", seed=3)).decode()


def training_job(name):
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends["123456789012"]["us-east-1"].training_jobs[name]


def set_status(jobs, job_id, status, secondary):
    job = training_job(f"stack-style-{job_id}")
    job.training_job_status, job.secondary_status = status, secondary


def test_post_styles_starts_a_managed_spot_training_job(aws):
    status, job = call(aws, "POST", "/styles", {"name": "My painting", "image": painting()})
    assert status == 202 and job["state"] == "queued" and job["progress"]["total_steps"] == 5000  # the ceiling
    described = boto3.client("sagemaker").describe_training_job(TrainingJobName=f"stack-style-{job['id']}")
    assert described["RoleArn"] == ROLE
    assert described["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    hp = {key: json.loads(value) for key, value in described["HyperParameters"].items()}  # JSON, as the SDK's
    assert hp["sagemaker_program"] == "train_style.py"
    # the source comes in through the code channel: the job has no network to fetch it with
    assert hp["sagemaker_submit_directory"] == "/opt/ml/input/data/code/source.tar.gz"
    assert hp["style-id"] == f"user-{job['id']}" and "name" not in hp
    assert hp["name-b64"] == base64.urlsafe_b64encode(b"My painting").decode().rstrip("=")
    assert hp["max-steps"] == "5000" and hp["phases"] == "500@128,9500@256" and hp["gpus"] == "auto"
    assert hp["base-network"] == "/opt/ml/input/data/assets/bundled.onnx" and hp["run"] == "/opt/ml/checkpoints"
    assert hp["vgg-weights"] == "/opt/ml/input/data/assets/vgg16-caffe.pth"  # not torchvision's download
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in described["InputDataConfig"]}
    assert channels == {"code": f"s3://{BUCKET}/training/source.tar.gz",
                        "photos": f"s3://{BUCKET}/training/photos/", "assets": f"s3://{BUCKET}/training/assets/",
                        "wheels": f"s3://{BUCKET}/training/wheels/",
                        "painting": f"s3://{BUCKET}/jobs/{job['id']}/input/"}  # this job's own inputs only
    assert described["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/jobs/{job['id']}/output/"
    assert described["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    assert described["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    request = aws.SERVICE.engine.request(aws.SERVICE.load("alice", job["id"]))  # what moto does not keep
    assert request["EnableNetworkIsolation"] is True
    assert request["EnableManagedSpotTraining"] is True
    assert request["StoppingCondition"]["MaxWaitTimeInSeconds"] >= 3600
    assert request["CheckpointConfig"] == {"S3Uri": f"s3://{BUCKET}/jobs/{job['id']}/run/",
                                           "LocalPath": "/opt/ml/checkpoints"}
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=f"jobs/{job['id']}/input/painting.png")["Body"].read()
    assert stored.startswith(b"\x89PNG")


def test_progress_preview_and_the_finished_style_in_stylize(aws, onnx_models_dir, monkeypatch, tmp_path):
    _, job = call(aws, "POST", "/styles", {"name": "Mine", "image": painting()})
    job_id, s3 = job["id"], boto3.client("s3")
    set_status(aws, job_id, "InProgress", "Training")
    metrics = [{"step": step, "total": 9.0 - step / 100, "content": 1.0, "style": 2.0, "tv": 0.1,
                "images_per_s": 160.0} for step in (250, 500)]
    s3.put_object(Bucket=BUCKET, Key=f"jobs/{job_id}/run/metrics.jsonl",
                  Body="".join(json.dumps(m) + "\n" for m in metrics).encode())
    for step in (250, 500):
        s3.put_object(Bucket=BUCKET, Key=f"jobs/{job_id}/run/samples/step_{step:06d}.jpg", Body=image_bytes(64, 32))
    status, running = call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")
    assert running["state"] == "running" and running["progress"]["step"] == 500
    assert running["progress"]["losses"]["total"] == pytest.approx(4.0)
    assert running["progress"]["eta_s"] == pytest.approx((5000 - 500) * 16 / 160.0)
    assert running["preview"]["step"] == 500 and running["preview"]["image"].startswith("data:image/jpeg;base64,")

    # The job's exporter writes the style to its run's model/ prefix; SageMaker reports it completed.
    style_id = f"user-{job_id}"
    export_style(style_id, tmp_path)
    for path in (tmp_path / "model").iterdir():
        s3.put_object(Bucket=BUCKET, Key=f"jobs/{job_id}/run/model/{path.name}", Body=path.read_bytes())
    set_status(aws, job_id, "Completed", "Completed")
    _, done = call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")
    assert done["state"] == "done" and done["style"] == style_id
    # Its model file for the device, read from the bucket for its owner only.
    exported = (tmp_path / "model" / f"{style_id}.onnx").read_bytes()
    assert done["model"]["bytes"] == len(exported) and done["model"]["url"] == f"/jobs/{job_id}/model"
    status, onnx_file = call(aws, "GET", f"/jobs/{job_id}/model", template="/jobs/{id}/model")
    assert status == 200 and onnx_file == exported
    assert call(aws, "GET", f"/jobs/{job_id}/model", user="bob", template="/jobs/{id}/model")[0] == 404
    _, listing = call(aws, "GET", "/jobs")
    assert [j["style"] for j in listing["jobs"]] == [style_id]
    assert call(aws, "GET", "/jobs", user="bob")[1] == {"jobs": []}  # not listed to others

    monkeypatch.setenv("MODELS_DIR", str(onnx_models_dir))
    monkeypatch.setenv("USER_STYLES_BUCKET", BUCKET)
    monkeypatch.setenv("USER_STYLES_CACHE_DIR", str(tmp_path / "cache"))
    inference = load_handler("lambda_inference")
    status, headers, body = invoke(inference, http_event("POST", "/stylize", {"image": painting(40, 30),
                                                                               "style": style_id}))
    assert_contract("/stylize", "POST", status, headers, body)
    assert status == 200 and body["style"] == style_id and body["width"] == 40
    _, _, styles = invoke(inference, http_event("GET", "/styles"))
    assert style_id not in {s["id"] for s in styles["styles"]}  # private: never listed
    assert call(aws, "DELETE", f"/styles/{style_id}", template="/styles/{id}")[0] == 204
    status, _, body = invoke(inference, http_event("POST", "/stylize", {"image": painting(40, 30), "style": style_id}))
    assert status == 404 and body["error"]["code"] == "unknown_style"  # deleted: gone at once
    assert call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")[0] == 404


def export_style(style_id, folder):
    import torch
    from synthetic import styled_test_transformer, synthetic_photo

    from export.exporter import ExportRequest, export_model

    (folder / "model").mkdir()
    synthetic_photo(64, 48, seed=5).save(folder / "painting.png")
    torch.save({"model": styled_test_transformer(3).state_dict(), "step": 10,
                "config": {"style_image": str(folder / "painting.png"), "vgg_weights": "random"}}, folder / "final.pth")
    export_model(ExportRequest(checkpoint=str(folder / "final.pth"), out=str(folder / "model" / f"{style_id}.onnx"),
                               name="Mine", parity_sizes=((32, 32),)), echo=lambda *args: None)


def test_cancel_a_running_job_then_errors_for_a_job_that_is_not_running(aws, monkeypatch):
    _, job = call(aws, "POST", "/styles", {"name": "Stop me", "image": painting()})
    job_id = job["id"]
    set_status(aws, job_id, "InProgress", "Training")
    stopped = []

    def stop_training_job(TrainingJobName):  # moto has no StopTrainingJob: SageMaker's effect, by hand
        stopped.append(TrainingJobName)
        set_status(aws, job_id, "Stopping", "Stopping")

    monkeypatch.setattr(aws.SERVICE.engine.sagemaker, "stop_training_job", stop_training_job)
    status, body = call(aws, "DELETE", f"/styles/user-{job_id}", template="/styles/{id}")
    assert status == 409 and body["error"]["code"] == "job_running"
    status, cancelling = call(aws, "DELETE", f"/jobs/{job_id}", template="/jobs/{id}")
    assert status == 200 and cancelling["cancel_requested"] and stopped == [f"stack-style-{job_id}"]
    set_status(aws, job_id, "Stopped", "Stopped")
    assert call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")[1]["state"] == "cancelled"
    status, body = call(aws, "DELETE", f"/jobs/{job_id}", template="/jobs/{id}")
    assert status == 409 and body["error"]["code"] == "job_not_running"


def test_a_failed_or_timed_out_job_says_why(aws):
    _, job = call(aws, "POST", "/styles", {"name": "Too long", "image": painting()})
    set_status(aws, job["id"], "Stopped", "MaxRuntimeExceeded")
    _, failed = call(aws, "GET", f"/jobs/{job['id']}", template="/jobs/{id}")
    assert failed["state"] == "failed" and "MaxRuntimeExceeded" in failed["error"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"name": "x", "image": "%%%"}, 400, "invalid_base64"),
    ({"name": "x", "image": "aGVsbG8gd29ybGQ="}, 400, "invalid_image"),  # "hello world"
    ({"name": "x"}, 400, "invalid_request"),
    ({"name": "", "image": "AAAA"}, 400, "invalid_request"),
    ({"name": "x" * 61, "image": "AAAA"}, 400, "invalid_request"),
    ({"name": "x", "image": "AAAA", "steps": 5}, 400, "invalid_request"),
    ([1, 2], 400, "invalid_json"),
])
def test_bad_requests_are_clear_4xx(aws, body, status, code):
    got, payload = call(aws, "POST", "/styles", body)
    assert (got, payload["error"]["code"]) == (status, code)


def test_a_painting_too_small_to_learn_from_is_400(aws):
    status, body = call(aws, "POST", "/styles", {"name": "Tiny", "image": painting(40, 30)})
    assert status == 400 and body["error"]["code"] == "invalid_image" and "64 pixels" in body["error"]["message"]


def test_every_refusal_of_the_jobs_has_its_status_in_the_handler(aws):
    """stylejobs refuses with a code only; the handler alone gives each code its HTTP status."""
    codes = {"invalid_image", "image_too_large"}  # the painting's decoding errors, passed on by their code
    for source in (ROOT / "lambda_jobs" / "stylejobs").glob("*.py"):
        codes |= set(re.findall(r'JobError\(\s*"([a-z_]+)"', source.read_text()))
    assert {"unknown_job", "training_unavailable"} <= codes <= set(aws.JOB_ERROR_STATUS)


def test_the_caller_is_only_the_one_jobs_authorizer_passes(aws):
    event = http_event("GET", "/jobs")
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "alice"}, "scopes": None}}  # not its own
    status, _, body = invoke(aws, event)
    assert status == 401 and body["error"]["code"] == "unauthorized"


def test_sign_in_quota_and_other_users_jobs(aws):
    status, body = call(aws, "POST", "/styles", {"name": "x", "image": painting()}, user=None)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert call(aws, "GET", "/jobs", user=None)[0] == 401
    _, first = call(aws, "POST", "/styles", {"name": "One", "image": painting()})
    set_status(aws, first["id"], "InProgress", "Starting")
    assert call(aws, "GET", f"/jobs/{first['id']}", template="/jobs/{id}")[1]["state"] == "queued"
    status, body = call(aws, "POST", "/styles", {"name": "Two", "image": painting()})
    assert status == 429 and body["error"]["code"] == "too_many_jobs"  # one running at a time
    set_status(aws, first["id"], "Completed", "Completed")
    assert call(aws, "POST", "/styles", {"name": "Two", "image": painting()})[0] == 202
    set_status(aws, call(aws, "GET", "/jobs")[1]["jobs"][1]["id"], "Completed", "Completed")
    status, body = call(aws, "POST", "/styles", {"name": "Three", "image": painting()})
    assert status == 429 and "styles and jobs" in body["error"]["message"]  # two kept, the most
    for path in (f"/jobs/{first['id']}", "/jobs/" + "a" * 26, "/jobs/..%2Fusers"):
        status, body = call(aws, "GET", path, user="bob", template="/jobs/{id}")
        assert status == 404 and body["error"]["code"] == "unknown_job"  # another's job is as unknown as none


def test_unknown_methods_are_405_and_preflights_204(aws):
    status, body = call(aws, "PUT", "/jobs", documented_as="GET")  # 405 is documented with each operation
    assert status == 405 and body["error"]["code"] == "method_not_allowed"
    assert call(aws, "PATCH", "/jobs/" + "a" * 26, template="/jobs/{id}", documented_as="GET")[0] == 405
    assert call(aws, "OPTIONS", "/jobs/" + "a" * 26, template="/jobs/{id}")[0] == 204
    assert set(OPENAPI["paths"]["/jobs/{id}"]) == {"get", "delete", "options"}


def test_the_published_source_runs_the_job_entry_point(aws, tmp_path):
    """What scripts/publish_training.py uploads: the container's entry script imports training.job, and the
    archive holds the trainer, the exporter and the core they import."""
    import importlib.util
    import io
    import tarfile

    from stylejobs.jobs import Job

    spec = importlib.util.spec_from_file_location("publish_training", ROOT / "scripts" / "publish_training.py")
    publish = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(publish)
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(image_bytes(32, 32))
    assets = [tmp_path / name for name in ("bundled.onnx", "vgg.pth", "sample.jpg")]
    for path in assets:
        path.write_bytes(b"x")
    wheels = tmp_path / "wheels"  # what pip downloads for the image otherwise (the tests stay offline)
    wheels.mkdir()
    (wheels / "onnx-1.17.0-cp311-cp311-manylinux_2_17_x86_64.whl").write_bytes(b"x")
    assert publish.main(["--bucket", BUCKET, "--photos", str(photos), "--base-network", str(assets[0]),
                         "--vgg-weights", str(assets[1]), "--sample-photo", str(assets[2]),
                         "--wheels", str(wheels)]) == 0
    s3 = boto3.client("s3")
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="training/")["Contents"]}
    assert keys == {"training/source.tar.gz", "training/assets/bundled.onnx", "training/assets/vgg16-caffe.pth",
                    "training/assets/sample.jpg", "training/photos/a.jpg",
                    "training/wheels/onnx-1.17.0-cp311-cp311-manylinux_2_17_x86_64.whl"}
    # the channels a job reads are where publishing puts them; its pip reads the wheels channel alone
    request = aws.SERVICE.engine.request(Job(id="a" * 26, owner="alice", name="x", total_steps=1))
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]}
    for channel in ("code", "photos", "assets", "wheels"):
        prefix = channels[channel].removeprefix(f"s3://{BUCKET}/")
        assert any(key.startswith(prefix) for key in keys), channel
    assert json.loads(request["HyperParameters"]["sagemaker_submit_directory"]) == \
        "/opt/ml/input/data/code/" + channels["code"].rpartition("/")[2]
    archive = s3.get_object(Bucket=BUCKET, Key="training/source.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path / "code", filter="data")
    assert {"train_style.py", "requirements.txt", "training/train.py", "export/exporter.py",
            "stylecore/modelfiles.py", "training/job.py"} <= names
    requirements = (tmp_path / "code" / "requirements.txt").read_text().splitlines()
    assert requirements[:2] == ["--no-index", "--find-links /opt/ml/input/data/wheels"]  # no index: no network
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "train_style.py", "--help"], cwd=tmp_path / "code", capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and "--phases" in result.stdout


# ------------------------------------------------------------------ quotas that hold, failures that clean up
@pytest.fixture
def atomic_s3_writes(monkeypatch):
    """S3 decides a conditional write (If-None-Match, If-Match) and the write as one step; moto checks, then
    writes, and threads can interleave between the two. One lock around moto's PutObject makes it S3's. And the
    training jobs run until a test says otherwise."""
    import threading

    from moto.s3.responses import S3Response

    lock, put_object = threading.Lock(), S3Response.put_object

    def atomic_put_object(self, *args, **kwargs):
        with lock:
            return put_object(self, *args, **kwargs)

    monkeypatch.setattr(S3Response, "put_object", atomic_put_object)
    # moto's training jobs are Completed as soon as they are made, which would free their slots at once
    from moto.sagemaker.models import FakeTrainingJob

    made = FakeTrainingJob.__init__

    def in_progress(self, *args, **kwargs):
        made(self, *args, **kwargs)
        self.training_job_status, self.secondary_status = "InProgress", "Starting"

    monkeypatch.setattr(FakeTrainingJob, "__init__", in_progress)


def post_together(handlers, users, names=None):
    """One POST /styles per handler (each its own Lambda instance), all at once: their statuses and bodies."""
    import threading

    barrier, results = threading.Barrier(len(handlers)), [None] * len(handlers)
    image = painting()

    def post(i):
        barrier.wait()
        results[i] = call(handlers[i], "POST", "/styles", {"name": f"Race {i}", "image": image}, user=users[i])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(handlers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def records(prefix="users/"):
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return [item["Key"] for item in listed if item["Key"].endswith(".json")]


def test_simultaneous_posts_of_one_user_get_exactly_the_quota(aws, atomic_s3_writes):
    handlers = [aws] + [load_handler("lambda_jobs") for _ in range(7)]  # JOBS_MAX_ACTIVE=1
    results = post_together(handlers, ["alice"] * 8)
    accepted = [body for status, body in results if status == 202]
    refused = [body for status, body in results if status != 202]
    assert len(accepted) == 1 and len(records("users/alice/")) == 1
    assert {(body["error"]["code"], "1 jobs queued or running" in body["error"]["message"]) for body in refused} \
        == {("too_many_jobs", True)}
    assert [status for status, _ in results].count(429) == 7
    # Once that job has ended its slot is free again.
    set_status(aws, accepted[0]["id"], "Completed", "Completed")
    assert call(aws, "POST", "/styles", {"name": "Next", "image": painting()})[0] == 202


def test_the_stack_trains_at_most_its_cap_whoever_asks(aws, atomic_s3_writes, monkeypatch):
    monkeypatch.setenv("JOBS_MAX_TRAINING", "3")
    handlers = [load_handler("lambda_jobs") for _ in range(6)]
    results = post_together(handlers, [f"user{i}" for i in range(6)])
    statuses = sorted(status for status, _ in results)
    assert statuses == [202, 202, 202, 503, 503, 503]
    assert {body["error"]["code"] for status, body in results if status == 503} == {"training_busy"}
    assert len(records()) == 3


def test_a_job_whose_request_was_cut_off_frees_its_slots(aws):
    """A request that saved its record and died before CreateTrainingJob (the function's timeout): its record
    fails after a while, and its slot is free."""
    import time as clock

    _, job = call(aws, "POST", "/styles", {"name": "Cut off", "image": painting()})
    record = json.loads(aws.SERVICE.store.get(f"users/alice/{job['id']}.json"))
    record.update(engine={}, created_at=clock.time() - 3600)  # as saved before the training job was made
    aws.SERVICE.store.put(f"users/alice/{job['id']}.json", json.dumps(record).encode())
    assert call(aws, "POST", "/styles", {"name": "Again", "image": painting()})[0] == 202
    _, listed = call(aws, "GET", "/jobs")
    assert [(j["name"], j["state"]) for j in listed["jobs"]][0] == ("Cut off", "failed")
    assert [j["name"] for j in listed["jobs"]] == ["Cut off", "Again"]


@pytest.mark.parametrize(("error", "status", "code"), [
    ("ValidationException", 502, "training_not_started"),
    ("AccessDeniedException", 502, "training_not_started"),
    ("ThrottlingException", 503, "training_unavailable"),
    ("ResourceLimitExceeded", 503, "training_unavailable"),
    ("unreachable", 503, "training_unavailable"),
])
def test_a_job_sagemaker_will_not_start_is_a_clear_error_and_leaves_nothing(aws, monkeypatch, error, status, code):
    from apicommon.slots import holder_of
    from botocore.exceptions import ClientError, EndpointConnectionError

    sagemaker = aws.SERVICE.engine.sagemaker

    def refuse(**request):
        if error == "unreachable":
            raise EndpointConnectionError(endpoint_url="https://api.sagemaker.us-east-1.amazonaws.com")
        exception = getattr(sagemaker.exceptions, error, ClientError)
        raise exception({"Error": {"Code": error, "Message": f"arn:aws:iam::123456789012:role/x {error}"}},
                        "CreateTrainingJob")

    monkeypatch.setattr(sagemaker, "create_training_job", refuse)
    got, body = call(aws, "POST", "/styles", {"name": "Refused", "image": painting()})
    assert (got, body["error"]["code"]) == (status, code) and "arn:" not in body["error"]["message"]
    s3 = boto3.client("s3")
    left = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert records() == [] and all("/_active/" in key for key in left)  # no record, painting or run
    assert all(holder_of(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()) is None for key in left)  # released
    monkeypatch.undo()  # SageMaker works again: the slot the failed request took is free
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    assert call(aws, "POST", "/styles", {"name": "Again", "image": painting()})[0] == 202


def test_a_job_deleted_while_the_jobs_are_listed_is_left_out(aws, monkeypatch):
    _, job = call(aws, "POST", "/styles", {"name": "Gone", "image": painting()})
    set_status(aws, job["id"], "Completed", "Completed")
    store, listing = aws.SERVICE.store, aws.SERVICE.store.list

    def list_then_delete(prefix):  # another request deletes the style between the listing and the read
        keys = listing(prefix)
        store.delete(f"users/alice/{job['id']}.json")
        return keys

    monkeypatch.setattr(store, "list", list_then_delete)
    assert call(aws, "GET", "/jobs") == (200, {"jobs": []})


def test_a_cancelled_job_is_deleted_only_once_its_instance_has_stopped(aws, monkeypatch):
    _, job = call(aws, "POST", "/styles", {"name": "Stop me", "image": painting()})
    job_id = job["id"]
    set_status(aws, job_id, "InProgress", "Training")
    monkeypatch.setattr(aws.SERVICE.engine.sagemaker, "stop_training_job",
                        lambda TrainingJobName: set_status(aws, job_id, "Stopping", "Stopping"))
    assert call(aws, "DELETE", f"/jobs/{job_id}", template="/jobs/{id}")[0] == 200
    _, stopping = call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")
    assert stopping["state"] == "running" and stopping["cancel_requested"]
    status, body = call(aws, "DELETE", f"/styles/user-{job_id}", template="/styles/{id}")
    assert status == 409 and body["error"]["code"] == "job_stopping" and "still stopping" in body["error"]["message"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=f"jobs/{job_id}/run/metrics.jsonl", Body=b"{}\n")  # last words
    set_status(aws, job_id, "Stopped", "Stopped")
    assert call(aws, "DELETE", f"/styles/user-{job_id}", template="/styles/{id}")[0] == 204
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"jobs/{job_id}/").get("KeyCount") == 0


@pytest.mark.parametrize("name", ["-rf", "  --help", "a\x00b", "lone \ud800 surrogate", "tab\there", "two\nlines",
                                  "\u202eright to left", "bell\x07"])
def test_names_that_cannot_be_a_style_name_are_400(aws, name):
    status, body = call(aws, "POST", "/styles", {"name": name, "image": painting()})
    assert status == 400 and body["error"]["code"] == "invalid_request" and "'name'" in body["error"]["message"]
    assert records() == []


@pytest.mark.parametrize("name", ["My painting", "Monet's garden", 'The "blue" one', "富士山", "Ölgemälde",
                                  "null", "[1]", "1984", "  trimmed  ", "a-b", "🎨 mine"])
def test_ordinary_names_of_any_script_are_accepted(aws, name):
    status, job = call(aws, "POST", "/styles", {"name": name, "image": painting()})
    assert status == 202 and job["name"] == name.strip()


# ------------------------------------------------------------------------ no user text reaches a shell
# The prebuilt containers' toolkit runs the hyperparameters as one /bin/sh line (tests/sagemaker_launcher.py).
# Names a user may give (check_name takes them), hostile and ordinary alike; "\u05c14" encodes to 14E0, which a
# JSON decoder reads as the number 14.0 unless the hyperparameter is JSON text.
NAMES = ["My painting", "Monet's garden", 'The "blue" one', "a$(touch INJECTED)", "a`touch INJECTED`",
         "x;touch INJECTED;#", "x && touch INJECTED", "$HOME", "* glob ?", "a > INJECTED", "a\\b", "null", "[1]",
         "1984", "true", "{}", "富士山", "Ölgemälde", "🎨 mine", "\u05c14", "a" * 60]
# ... and text the API refuses (check_name), which the launch must carry all the same
REFUSED_NAMES = ["-rf", "--help", "tab\there", "two\nlines", "carriage\rreturn", "nul\x00in it", " padded "]
ARGV_PROGRAM = "import json, sys\nprint(json.dumps(sys.argv[1:]))\n"


def launched(hyperparameters, folder):
    """The arguments the container's shell gives the entry point, which prints them: (argv, stderr)."""
    from sagemaker_launcher import launch

    (folder / "train_style.py").write_text(ARGV_PROGRAM)
    result = launch(hyperparameters, "train_style.py", cwd=folder)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["train_style.py"]  # nothing the shell made
    return json.loads(result.stdout)


def check_the_launch(request, name, folder):
    from training import job as training_job_module

    hyperparameters = request["HyperParameters"]
    argv = launched(hyperparameters, folder)
    sent = {key: json.loads(value) for key, value in hyperparameters.items() if not key.startswith("sagemaker_")}
    assert len(argv) == 2 * len(sent)
    assert dict(zip(argv[::2], argv[1::2], strict=True)) == {f"--{key}": value for key, value in sent.items()}
    args = training_job_module.parse_args(argv)  # what training/job.py makes of them
    assert args.name == name and args.style_id.startswith("user-") and args.phases == "500@128,9500@256"


@pytest.mark.parametrize("name", NAMES)
def test_the_container_starts_the_job_with_the_name_as_it_was_given(aws, name, tmp_path):
    status, job = call(aws, "POST", "/styles", {"name": name, "image": painting()})
    assert status == 202 and job["name"] == name
    described = boto3.client("sagemaker").describe_training_job(TrainingJobName=f"stack-style-{job['id']}")
    check_the_launch(described, name, tmp_path)


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_the_launch_carries_any_text_the_api_refuses_too(aws, name, tmp_path):
    from stylejobs.jobs import Job

    job = Job(id="a" * 26, owner="alice", name=name, total_steps=1)
    check_the_launch(aws.SERVICE.engine.request(job), name, tmp_path)


def test_the_request_refuses_a_setting_the_shell_would_read(aws):
    from stylejobs.jobs import Job
    from stylejobs.sagemaker import SageMakerSettings

    engine = aws.SERVICE.engine
    engine.settings = SageMakerSettings(**{**engine.settings.__dict__, "source_key": "training/my source.tar.gz"})
    with pytest.raises(ValueError, match="sagemaker_submit_directory"):
        engine.request(Job(id="a" * 26, owner="alice", name="x", total_steps=1))


def test_each_training_job_started_is_logged_as_the_metric_its_alarm_watches(aws, capsys):
    from stylejobs.sagemaker import METRICS_NAMESPACE, STARTED_METRIC
    from templates import RESOURCES

    capsys.readouterr()
    assert call(aws, "POST", "/styles", {"name": "Counted", "image": painting()})[0] == 202
    assert call(aws, "POST", "/styles", {"name": "", "image": painting()})[0] == 400
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert len(lines) == 1  # one job started, none for the refused request
    (emitted,) = lines
    (directive,) = emitted["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == METRICS_NAMESPACE and directive["Metrics"] == [{"Name": STARTED_METRIC,
                                                                                     "Unit": "Count"}]
    assert emitted[STARTED_METRIC] == 1 and emitted["JobNamePrefix"] == "stack-style-"
    assert all(emitted[name] for names in directive["Dimensions"] for name in names)
    alarm = RESOURCES["TrainingJobsStartedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (METRICS_NAMESPACE, STARTED_METRIC)
    # the dimension the function logs is the prefix its template gives it
    env = RESOURCES["JobsFunction"]["Properties"]["Environment"]["Variables"]
    assert alarm["Dimensions"] == [{"Name": name, "Value": env["TRAINING_JOB_PREFIX"]}
                                   for names in directive["Dimensions"] for name in names]


def test_the_stacks_cap_on_training_jobs_comes_from_its_template():
    from stylejobs.jobs import Quota
    from templates import RESOURCES

    env = RESOURCES["JobsFunction"]["Properties"]["Environment"]["Variables"]
    assert int(env["JOBS_MAX_TRAINING"]) == Quota.stack_active  # the local stack's default is the same number


# ------------------------------------------------------------------------------- "Use it now" on AWS
def stop_by_hand(aws, monkeypatch, job_id):
    """moto has no StopTrainingJob: SageMaker's effect (Stopping), by hand; the names it was called with."""
    stopped = []

    def stop_training_job(TrainingJobName):
        stopped.append(TrainingJobName)
        set_status(aws, job_id, "Stopping", "Stopping")

    monkeypatch.setattr(aws.SERVICE.engine.sagemaker, "stop_training_job", stop_training_job)
    return stopped


def a_checkpoint(job_id):
    boto3.client("s3").put_object(Bucket=BUCKET, Key=f"jobs/{job_id}/run/checkpoints/step_000500.pth", Body=b"x")


def model_artifact(job_id, style_id, folder, step=500):
    """The model.tar.gz SageMaker uploads from the model folder of a Stopped job: the style the training job
    exported on SIGTERM (training/job.py, --on-stop export), its card saying from which step."""
    import io
    import tarfile

    export_style(style_id, folder)
    card = json.loads((folder / "model" / f"{style_id}.json").read_text())
    card["training"]["steps"] = step
    (folder / "model" / f"{style_id}.json").write_text(json.dumps(card))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted((folder / "model").iterdir()):
            tar.add(path, arcname=path.name)
        tar.addfile(tarfile.TarInfo("../outside.json"), io.BytesIO(b""))  # never unpacked: not the style's
    key = f"jobs/{job_id}/output/stack-style-{job_id}/output/model.tar.gz"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())
    return (folder / "model" / f"{style_id}.onnx").read_bytes()


def finish(aws, job_id, user="alice"):
    return call(aws, "POST", f"/jobs/{job_id}/finish", user=user, template="/jobs/{id}/finish")


def test_a_stopped_job_asked_to_finish_is_done_with_the_style_it_exported(aws, monkeypatch, tmp_path):
    _, job = call(aws, "POST", "/styles", {"name": "Now", "image": painting()})
    job_id, style_id = job["id"], f"user-{job['id']}"
    hp = json.loads(boto3.client("sagemaker").describe_training_job(
        TrainingJobName=f"stack-style-{job_id}")["HyperParameters"]["on-stop"])
    assert hp == "export"  # the container cannot be told why it stops: it exports on every stop
    set_status(aws, job_id, "InProgress", "Training")
    stopped = stop_by_hand(aws, monkeypatch, job_id)
    status, body = finish(aws, job_id)
    assert status == 409 and body["error"]["code"] == "no_checkpoint_yet" and stopped == []
    a_checkpoint(job_id)
    assert call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")[1]["progress"]["checkpoint_step"] == 500
    status, body = finish(aws, job_id, user="bob")
    assert status == 404 and body["error"]["code"] == "unknown_job" and stopped == []  # not bob's job

    status, finishing = finish(aws, job_id)
    assert status == 202 and finishing["finish_requested"] and finishing["state"] == "running"
    assert finish(aws, job_id)[1]["finish_requested"] and stopped == [f"stack-style-{job_id}"]  # stopped once
    status, body = call(aws, "DELETE", f"/styles/{style_id}", template="/styles/{id}")
    assert status == 409 and body["error"]["code"] == "job_stopping"  # its instance still writes
    exported = model_artifact(job_id, style_id, tmp_path)
    set_status(aws, job_id, "Stopped", "Stopped")
    _, done = call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")
    assert done["state"] == "done" and done["style"] == style_id and done["finished_early_at_step"] == 500
    assert done["model"]["bytes"] == len(exported)
    assert call(aws, "GET", f"/jobs/{job_id}/model", template="/jobs/{id}/model")[1] == exported
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"jobs/{job_id}/")["Contents"]
    assert not any("outside" in item["Key"] for item in listed)
    status, again = finish(aws, job_id)
    assert status == 202 and again["state"] == "done" and stopped == [f"stack-style-{job_id}"]


def test_a_stopped_job_that_was_cancelled_is_cancelled_even_with_a_model(aws, monkeypatch, tmp_path):
    _, job = call(aws, "POST", "/styles", {"name": "Discard", "image": painting()})
    job_id = job["id"]
    set_status(aws, job_id, "InProgress", "Training")
    stop_by_hand(aws, monkeypatch, job_id)
    a_checkpoint(job_id)
    assert finish(aws, job_id)[1]["finish_requested"]
    assert call(aws, "DELETE", f"/jobs/{job_id}", template="/jobs/{id}")[1]["cancel_requested"]  # cancel wins
    model_artifact(job_id, f"user-{job_id}", tmp_path)  # every stop exports: a cancel discards it
    set_status(aws, job_id, "Stopped", "Stopped")
    _, cancelled = call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")
    assert cancelled["state"] == "cancelled" and cancelled["style"] is None and cancelled["model"] is None


def test_a_finish_that_could_not_save_the_style_in_time_fails_and_says_so(aws, monkeypatch):
    _, job = call(aws, "POST", "/styles", {"name": "Late", "image": painting()})
    job_id = job["id"]
    set_status(aws, job_id, "InProgress", "Training")
    stop_by_hand(aws, monkeypatch, job_id)
    a_checkpoint(job_id)
    finish(aws, job_id)
    set_status(aws, job_id, "Stopped", "Stopped")  # killed before its export was written: no artifact
    _, failed = call(aws, "GET", f"/jobs/{job_id}", template="/jobs/{id}")
    assert failed["state"] == "failed" and "before it could save" in failed["error"]


def test_a_queued_job_cannot_be_finished(aws):
    _, job = call(aws, "POST", "/styles", {"name": "Waiting", "image": painting()})
    set_status(aws, job["id"], "InProgress", "Starting")
    status, body = finish(aws, job["id"])
    assert status == 409 and body["error"]["code"] == "job_not_running"
