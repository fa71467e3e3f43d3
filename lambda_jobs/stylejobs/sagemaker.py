"""The AWS engine: each job is a SageMaker training job in a prebuilt PyTorch training container, with the
project's own trainer and exporter as its source (no image to build).

    source     channel `code`: s3://BUCKET/training/source.tar.gz (training/, export/, stylecore,
               train_style.py and requirements.txt; scripts/publish_training.py makes and uploads it, with the
               inputs below), which the toolkit unpacks from the channel as the SDK's network-isolated jobs do
    inputs     channel `photos` (training/photos/), `assets` (training/assets/: the base network, the VGG16
               weights, the preview photo), `wheels` (training/wheels/: what requirements.txt installs, offline),
               `painting` (the job's own input prefix, jobs/<id>/input/)
    outputs    CheckpointConfig -> jobs/<id>/run/ (SageMaker copies /opt/ml/checkpoints there as it changes:
               metrics.jsonl, samples/, checkpoints/, and at the end model/), OutputDataConfig -> jobs/<id>/output/
    isolation  EnableNetworkIsolation: the container has no network and no AWS credentials; SageMaker itself
               brings the channels in and takes the run folder out
    cost       managed spot (EnableManagedSpotTraining, MaxWaitTimeInSeconds), MaxRuntimeInSeconds, --max-steps

The hyperparameters are JSON-encoded (as the SageMaker SDK does: the toolkit JSON-decodes each one), and each
is a word the shell reads as itself: the prebuilt containers' toolkit (sagemaker-training 4.x) joins them into
one line and runs it with /bin/sh. The style's name travels as base64url (stylejobs.jobs.name_token).

Finishing early ("Use it now") and cancelling both stop the training job (StopTrainingJob: SIGTERM, then 120 s
before SIGKILL), which cannot tell the container why; so the training job exports its furthest checkpoint on
every stop (--on-stop export) into its model folder, which SageMaker uploads even for a Stopped job, and the record
decides: a Stopped job whose owner asked to finish is done with that style (copied from the artifact to the run's
model/ prefix, where the style is served from); one cancelled is cancelled.

A job's state is its training job's status; its progress and preview are read from its run prefix. Each job
started is logged as a CloudWatch embedded metric (STARTED_METRIC), which an alarm of stacks/training.yaml
watches.
"""

import io
import json
import logging
import os
import re
import tarfile
import time
from dataclasses import dataclass

from apicommon.userstyles import job_prefix, model_prefix, run_prefix, style_id_of

from .jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, JobError, Schedule, job_arguments, parse_phases

CONTAINER_INPUT = "/opt/ml/input/data"  # channel NAME's files are in CONTAINER_INPUT/NAME/
CONTAINER_RUN = "/opt/ml/checkpoints"
ENTRY_SCRIPT = "train_style.py"  # in the source archive: runs training/job.py
# What the trainer logs at each logged step ("metrics {...}", the line it appends to metrics.jsonl):
# SageMaker reads the total loss out of the job's log with this.
METRIC_DEFINITIONS = [{"Name": "loss", "Regex": r'"total": ([0-9.e+-]+)'}]
ASSETS = {"base_network": "bundled.onnx", "vgg_weights": "vgg16-caffe.pth", "sample_image": "sample.jpg"}
# SecondaryStatus values of an InProgress job that is training (the others wait: starting, downloading, a spot
# interruption waiting for capacity)
TRAINING_NOW = ("Training", "Uploading")
LOG = logging.getLogger(__name__)
# CreateTrainingJob errors that say "not now" rather than "not like this"
RETRY_LATER = ("ThrottlingException", "ServiceUnavailable", "InternalFailure", "InternalServerError",
               "RequestLimitExceeded", "ResourceInUse")
START_GRACE_S = 300  # a queued record with no training job this long after it was made lost its request
# What /bin/sh reads as one word, itself: shlex.quote's safe characters. Every hyperparameter's name and value
# is one (the request is refused before it is sent otherwise).
SHELL_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
# The embedded metric format line the jobs function logs for each training job it starts (Lambda's log group
# turns it into a metric; no PutMetricData call, no permission): stacks/training.yaml's TrainingJobsStartedAlarm.
METRICS_NAMESPACE = "FastNeuralStyle/Training"
STARTED_METRIC = "TrainingJobsStarted"


@dataclass(frozen=True)
class SageMakerSettings:
    bucket: str
    role_arn: str
    image: str  # a prebuilt PyTorch training image (ECR), e.g. ...pytorch-training:2.5.1-gpu-py311-...
    instance_type: str = "ml.g4dn.xlarge"
    max_runtime_s: int = 3600
    max_wait_s: int = 7200  # spot: the longest to wait for capacity plus run (>= max_runtime_s)
    max_steps: int = 40000
    spot: bool = True
    source_key: str = "training/source.tar.gz"
    photos_prefix: str = "training/photos/"
    assets_prefix: str = "training/assets/"
    wheels_prefix: str = "training/wheels/"  # the packages requirements.txt names, installed offline
    job_name_prefix: str = "style-"

    @classmethod
    def from_env(cls) -> "SageMakerSettings":
        env = os.environ
        return cls(bucket=env["STYLES_BUCKET"], role_arn=env["TRAINING_ROLE_ARN"], image=env["TRAINING_IMAGE"],
                   instance_type=env.get("TRAINING_INSTANCE_TYPE", cls.instance_type),
                   max_runtime_s=int(env.get("TRAINING_MAX_RUNTIME_S", cls.max_runtime_s)),
                   max_wait_s=int(env.get("TRAINING_MAX_WAIT_S", cls.max_wait_s)),
                   max_steps=int(env.get("TRAINING_MAX_STEPS", cls.max_steps)),
                   spot=env.get("TRAINING_SPOT", "true").lower() == "true",
                   job_name_prefix=env.get("TRAINING_JOB_PREFIX", cls.job_name_prefix))


# The full-quality schedule on a GPU: the paper's budget (40,000 steps of 4 images at 256 px), as 10,000 steps
# of 16, after a short phase of small crops; fp16 autocast on the GPU's tensor cores.
GPU_SCHEDULE = Schedule(phases=((500, 128), (9500, 256)), batch_size=16, sample_every=250, checkpoint_every=500,
                        sample_size=384)


class SageMakerEngine:
    kind = "sagemaker"

    def __init__(self, settings: SageMakerSettings, schedule: Schedule = GPU_SCHEDULE, sagemaker_client=None,
                 store=None):
        if sagemaker_client is None:
            import boto3

            sagemaker_client = boto3.client("sagemaker")
        self.settings, self.schedule, self.sagemaker = settings, schedule, sagemaker_client
        self.store = store  # the styles bucket: where a finished-early job's style is put

    def check_available(self):
        pass

    @property
    def total_steps(self) -> int:
        return min(self.schedule.total_steps, self.settings.max_steps)

    def job_name(self, job: Job) -> str:
        return f"{self.settings.job_name_prefix}{job.id}"  # <= 63 characters: [a-zA-Z0-9-]

    def request(self, job: Job) -> dict:
        """The CreateTrainingJob request for a job."""
        s, schedule = self.settings, self.schedule
        s3 = f"s3://{s.bucket}/"
        assets = f"{CONTAINER_INPUT}/assets/"
        arguments = {
            # the SageMaker training toolkit unpacks the code channel's archive and runs ENTRY_SCRIPT from it with
            # the others as --name value
            "sagemaker_program": ENTRY_SCRIPT,
            "sagemaker_submit_directory": f"{CONTAINER_INPUT}/code/{s.source_key.rpartition('/')[2]}",
            **job_arguments(schedule, painting=f"{CONTAINER_INPUT}/painting/painting.png",
                            dataset=f"{CONTAINER_INPUT}/photos", run=CONTAINER_RUN, style_id=style_id_of(job.id),
                            name=job.name, max_steps=self.total_steps, base_network=assets + ASSETS["base_network"],
                            vgg_weights=assets + ASSETS["vgg_weights"], sample_image=assets + ASSETS["sample_image"],
                            gpus="auto", device="cuda", precision="fp16", workers=4, on_stop="export"),
        }
        unsafe = sorted(key for key, value in arguments.items() if not (SHELL_WORD.fullmatch(key)
                                                                         and SHELL_WORD.fullmatch(value)))
        if unsafe:  # a path or setting of this deployment, never a user's text (that is name-b64)
            raise ValueError(f"hyperparameters the container's shell would not read as themselves: {unsafe}")
        hyperparameters = {key: json.dumps(value) for key, value in arguments.items()}

        def channel(name, key_prefix, distribution="FullyReplicated"):
            return {"ChannelName": name, "InputMode": "File", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": s3 + key_prefix, "S3DataDistributionType": distribution}}}

        request = {
            "TrainingJobName": self.job_name(job),
            "RoleArn": s.role_arn,
            "AlgorithmSpecification": {"TrainingImage": s.image, "TrainingInputMode": "File",
                                       "EnableSageMakerMetricsTimeSeries": True,
                                       "MetricDefinitions": METRIC_DEFINITIONS},
            "HyperParameters": hyperparameters,
            "InputDataConfig": [channel("code", s.source_key), channel("photos", s.photos_prefix),
                                channel("assets", s.assets_prefix), channel("wheels", s.wheels_prefix),
                                channel("painting", job_prefix(job.id) + "input/")],
            "OutputDataConfig": {"S3OutputPath": f"{s3}jobs/{job.id}/output/"},
            "CheckpointConfig": {"S3Uri": s3 + run_prefix(job.id), "LocalPath": CONTAINER_RUN},
            "ResourceConfig": {"InstanceType": s.instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": s.max_runtime_s},
            "EnableManagedSpotTraining": s.spot,
            # what runs in the container cannot reach any network, nor has it AWS credentials: whatever it was
            # made to do, it can only read its channels and write its run folder
            "EnableNetworkIsolation": True,
            "Tags": [{"Key": "fast-neural-style:job", "Value": job.id}],
        }
        if s.spot:
            request["StoppingCondition"]["MaxWaitTimeInSeconds"] = max(s.max_wait_s, s.max_runtime_s)
        return request

    def submit(self, job: Job) -> None:
        from botocore.exceptions import BotoCoreError

        try:
            self.sagemaker.create_training_job(**self.request(job))
        except self.sagemaker.exceptions.ResourceLimitExceeded:
            raise JobError("training_unavailable", "The training service is at its limit of jobs for this "
                           "deployment; try again later.") from None
        except self.sagemaker.exceptions.ClientError as error:
            # Every refusal is a clear error (the service cleans up the job): busy or down is worth a retry; any
            # other (a role, an image, a setting of this deployment) needs its operator. AWS's own message is
            # logged, not returned: it names the deployment's resources.
            code = error.response.get("Error", {}).get("Code", "")
            LOG.warning("CreateTrainingJob refused job %s: %s", job.id, error)
            if code in RETRY_LATER:
                raise JobError("training_unavailable", "The training service is busy or unavailable; try again "
                               "later.") from error
            raise JobError("training_not_started", f"The training service refused to start the job ({code}); "
                           "try again later, or tell this site's operator.") from error
        except BotoCoreError as error:  # not reached, or no answer
            raise JobError("training_unavailable", "The training service could not be reached; try again "
                           "later.") from error
        job.engine = {"kind": self.kind, "name": self.job_name(job)}
        print(json.dumps(started_metric(self.settings.job_name_prefix)), flush=True)

    def refresh(self, job: Job) -> bool:
        """Bring the job's state in line with its training job's status; whether it changed."""
        if not job.engine.get("name"):
            if job.state == QUEUED and time.time() - job.created_at > START_GRACE_S:
                # its request saved the record and was cut off before starting a training job: it never will
                job.finish(FAILED, "the training job was never started; start it again")
                return True
            return False
        described = self.sagemaker.describe_training_job(TrainingJobName=job.engine["name"])
        status, secondary = described["TrainingJobStatus"], described.get("SecondaryStatus", "")
        before = (job.state, job.error)
        if status == "InProgress":
            job.state = RUNNING if secondary in TRAINING_NOW else QUEUED
            if job.state == RUNNING and not job.started_at:
                start = described.get("TrainingStartTime")
                job.started_at = start.timestamp() if start else None
        elif status == "Completed":
            job.finish(DONE)
        elif status == "Failed":
            job.finish(FAILED, described.get("FailureReason", "the training job failed")[:300])
        elif status == "Stopped":  # not while Stopping: the instance still writes to the job's run prefix
            self.settle_stopped(job, described)
        return (job.state, job.error) != before

    def settle_stopped(self, job: Job, described: dict) -> None:
        secondary = described.get("SecondaryStatus", "")
        if job.finish_requested and not job.cancel_requested:
            card = self.collect_style(job, described)
            if card:
                job.finished_from(card)
            else:
                job.finish(FAILED, "the training job stopped before it could save what it had learned")
        elif secondary in ("MaxRuntimeExceeded", "MaxWaitTimeExceeded"):
            job.finish(FAILED, f"the training job ran out of time ({secondary})")
        else:
            job.finish(CANCELLED)

    def collect_style(self, job: Job, described: dict) -> dict | None:
        """A stopped job's style in its run's model/ prefix, and its card: unpacked there from the model artifact
        (model.tar.gz, which only the export after this stop writes), else what the checkpoint folder's copy put
        there (the export may have been copied out before the instance stopped)."""
        prefix, style_id = model_prefix(job.id), style_id_of(job.id)
        card = self.unpack_artifact(job, described, prefix, style_id) or self.store.get(f"{prefix}{style_id}.json")
        return json.loads(card) if card else None

    def unpack_artifact(self, job: Job, described: dict, prefix: str, style_id: str) -> bytes | None:
        key = self.artifact_key(job, described)
        archive = key and self.store.get(key)
        if not archive:
            return None
        wanted = {f"{style_id}.onnx", f"{style_id}.json"}  # nothing else from the archive, under no other name
        files = {}
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            for member in tar.getmembers():
                name = member.name.removeprefix("./")
                if member.isfile() and name in wanted:
                    files[name] = tar.extractfile(member).read()
        if set(files) != wanted:
            return None
        self.store.put(prefix + f"{style_id}.onnx", files[f"{style_id}.onnx"], "application/octet-stream")
        self.store.put(prefix + f"{style_id}.json", files[f"{style_id}.json"], "application/json")
        return files[f"{style_id}.json"]

    def artifact_key(self, job: Job, described: dict) -> str | None:
        """The model artifact's key in the styles bucket, which only this job's output prefix may hold."""
        uri = (described.get("ModelArtifacts") or {}).get("S3ModelArtifacts") or \
            f"s3://{self.settings.bucket}/jobs/{job.id}/output/{self.job_name(job)}/output/model.tar.gz"
        head = f"s3://{self.settings.bucket}/"
        key = uri[len(head):] if uri.startswith(head) else None
        return key if key and key.startswith(f"jobs/{job.id}/output/") else None

    def finish(self, job: Job) -> None:
        self.cancel(job)  # the same stop: the record says it is a finish (settle_stopped)

    def cancel(self, job: Job) -> None:
        try:
            self.sagemaker.stop_training_job(TrainingJobName=job.engine["name"])
        except self.sagemaker.exceptions.ClientError as error:  # already stopping or ended: its state says so
            if error.response.get("Error", {}).get("Code") != "ValidationException":
                raise


def started_metric(job_name_prefix: str) -> dict:
    """The embedded metric format record of one training job started, by the stack's job name prefix (each
    stack's alarm watches its own)."""
    return {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
        "Namespace": METRICS_NAMESPACE, "Dimensions": [["JobNamePrefix"]],
        "Metrics": [{"Name": STARTED_METRIC, "Unit": "Count"}]}]},
        "JobNamePrefix": job_name_prefix, STARTED_METRIC: 1}


def check_phases(text: str) -> Schedule:
    """A schedule from TRAINING_PHASES (e.g. 500@128,9500@256), else the GPU default."""
    return Schedule(**{**GPU_SCHEDULE.__dict__, "phases": parse_phases(text)}) if text else GPU_SCHEDULE
