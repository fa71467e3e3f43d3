"""Ids that name files, keys and records are matched whole: `^...$` with re.match or re.search also accepts the
id followed by a newline (`$` matches before a final "\n"), which then reaches a key or a file name."""

import pytest
from apicommon.userstyles import is_job_id, job_id_of, new_job_id
from stylecore.modelfiles import is_style_id, is_variant

from devserver.gateway import MODEL_FILE

JOB = new_job_id()


@pytest.mark.parametrize("suffix", ["", "\n", "\r\n", " ", "\x00", "/"])
def test_ids_with_anything_after_them_are_refused(suffix):
    valid = suffix == ""
    assert is_job_id(JOB + suffix) is valid
    assert (job_id_of(f"user-{JOB}{suffix}") is not None) is valid
    assert is_style_id("great_wave" + suffix) is valid
    assert is_variant("int8" + suffix) is valid
    assert (MODEL_FILE.fullmatch("great_wave.int8.onnx" + suffix) is not None) is valid


def test_an_owner_with_a_trailing_newline_is_no_caller(monkeypatch, tmp_path):
    """The jobs handler takes its caller from the authorizer's context only when the whole `sub` is an owner id."""
    from api_helpers import http_event, load_handler

    for name, value in {"JOBS_ENGINE": "local", "JOBS_AUTH": "jwt", "JOBS_DIR": str(tmp_path / "jobs"),
                        "TRAINING_PHOTOS": str(tmp_path), "TRAINER_PYTHON": "none"}.items():
        monkeypatch.setenv(name, value)
    jobs = load_handler("lambda_jobs")
    try:
        from apicommon.http import parse_event

        for sub, caller in (("alice", "alice"), ("alice\n", None), ("alice\nbob", None)):
            event = http_event("GET", "/jobs")
            event["requestContext"]["authorizer"] = {"lambda": {"sub": sub}}
            assert jobs.caller_of(parse_event(event, None)) == caller
    finally:
        jobs.SERVICE.engine.stop(timeout=5)
