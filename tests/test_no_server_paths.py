"""Server paths never reach a user: not in the metadata of their style's model file (which they download), not
in its card, not in a failed job's error. The project's own styles keep theirs, as their training record."""

import json

import onnx
import pytest
import torch
from apicommon.store import LocalStore
from apicommon.userstyles import USER_STYLE_PREFIX, new_job_id
from stylecore.modelfiles import USER_STYLE_PREFIX as STYLECORE_USER_PREFIX
from stylecore.modelfiles import without_paths
from stylejobs.jobs import FAILED, Job
from stylejobs.service import JobService
from synthetic import styled_test_transformer, synthetic_photo

from export.exporter import ExportRequest, export_model

SECRET = "/srv/fns-secret-7f3a"


@pytest.mark.parametrize(("text", "shown"), [
    (f"training stopped with status 1: FileNotFoundError: [Errno 2] No such file: '{SECRET}/jobs/x/painting.png'",
     "training stopped with status 1: FileNotFoundError: [Errno 2] No such file: 'painting.png'"),
    ('AlgorithmError: File "/opt/ml/code/train_style.py", line 3', 'AlgorithmError: File "train_style.py", line 3'),
    ("output s3://styles-bucket/jobs/x/run/model.onnx", "output model.onnx"),
    ("~/weights/vgg.pth and ../shared/photos (val)", "vgg.pth and photos (val)"),
    ("bf16/fp32 at 1/2 resolution: a / b", "bf16/fp32 at 1/2 resolution: a / b"),  # no paths: as they were
    ("data:image/jpeg;base64,ab/cd+/ef==", "data:image/jpeg;base64,ab/cd+/ef=="),
])
def test_paths_and_urls_are_cut_to_their_last_part(text, shown):
    assert without_paths(text) == shown
    assert without_paths({"a": [text, 3, None]}) == {"a": [shown, 3, None]}


def test_both_layers_name_users_styles_alike():
    assert USER_STYLE_PREFIX == STYLECORE_USER_PREFIX


def export(tmp_path, style_id):
    folder = tmp_path / SECRET.strip("/")
    folder.mkdir(parents=True)
    painting = folder / "painting.png"
    synthetic_photo(64, 48, seed=5).save(painting)
    run = folder / "run"
    run.mkdir()
    (run / "training_summary.json").write_text(json.dumps({
        "steps": 10, "dataset": {"path": f"{SECRET}/photos/train", "images": 8},
        "hyperparameters": {"init_from": f"{SECRET}/jobs/x/run/base_network.onnx", "lr": 0.01},
        "loss_network": {"source": f"{SECRET}/weights/vgg16-caffe.pth"},
        "style_image": {"file": "painting.png"}}))
    torch.save({"model": styled_test_transformer(3).state_dict(), "step": 10,
                "config": {"style_image": str(painting), "vgg_weights": f"{SECRET}/weights/vgg16-caffe.pth",
                           "dataset": f"{SECRET}/photos/train"}}, run / "final.pth")
    out = run / "model" / f"{style_id}.onnx"
    out.parent.mkdir()
    card = export_model(ExportRequest(checkpoint=str(run / "final.pth"), out=str(out), name="Mine",
                                      parity_sizes=((32, 32),)), echo=lambda *args: None)
    metadata = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    return metadata, out.with_suffix(".json").read_text(), card


def test_a_users_style_file_and_card_name_no_server_path(tmp_path):
    metadata, card_text, card = export(tmp_path, f"{USER_STYLE_PREFIX}{new_job_id()}")
    summary = json.loads(metadata["training_summary"])
    assert summary["dataset"]["path"] == "train" and summary["hyperparameters"]["init_from"] == "base_network.onnx"
    for text in (json.dumps(metadata), card_text):
        assert SECRET.strip("/") not in text and str(tmp_path) not in text
    assert card["training"]["loss_network"]["source"] == "vgg16-caffe.pth"


def test_the_projects_own_styles_keep_their_record(tmp_path):
    metadata, _, _ = export(tmp_path, "great_wave")
    assert json.loads(metadata["training_summary"])["dataset"]["path"] == f"{SECRET}/photos/train"


class NoEngine:
    def refresh(self, job):
        return False


def test_a_failed_jobs_error_names_no_server_path(tmp_path):
    service = JobService(LocalStore(tmp_path / "jobs"), NoEngine())
    job = Job(id=new_job_id(), owner="local", name="Mine", total_steps=10)
    job.finish(FAILED, f"training stopped with status 1: OSError: cannot read '{tmp_path}/jobs/photos/a.jpg'")
    service.save(job)
    shown = service.view(service.get("local", job.id), detail=False)
    assert shown["error"] == "training stopped with status 1: OSError: cannot read 'a.jpg'"
    assert str(tmp_path) not in json.dumps(shown)
