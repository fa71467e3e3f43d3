"""Shared fixtures: small synthetic images made by the tests themselves; and a guard that the tests write nothing
into the checkout's jobs folder."""

import warnings

import pytest
from checkout import CHECKOUT_JOBS, checkout_jobs
from synthetic import styled_test_transformer, synthetic_photo


@pytest.fixture(scope="session", autouse=True)
def _tests_leave_no_jobs_in_the_checkout():
    """Every test writes only to its own temporary folders: a test stack started without --jobs-dir wrote its jobs
    where the developer's `make dev` then listed them as their own."""
    before = checkout_jobs()
    yield
    added = sorted(str(path.relative_to(CHECKOUT_JOBS.parent.parent)) for path in checkout_jobs() - before)
    if added:
        pytest.fail(f"the tests wrote into the checkout's runs/jobs (pass a temporary --jobs-dir): {added[:10]}",
                    pytrace=False)


@pytest.fixture
def photo_dir(tmp_path):
    """Eight small photos in a nested folder, as COCO-like datasets are searched recursively."""
    root = tmp_path / "photos"
    (root / "nested").mkdir(parents=True)
    for i in range(8):
        folder = root if i % 2 else root / "nested"
        synthetic_photo(40 + 4 * i, 36 + 2 * i, seed=i).save(folder / f"photo_{i}.jpg", quality=95)
    return root


@pytest.fixture
def style_image(tmp_path):
    path = tmp_path / "style.png"
    synthetic_photo(64, 48, seed=99).save(path)
    return path


@pytest.fixture(autouse=True)
def _quiet_random_vgg_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="VGG16 loss network with RANDOM weights")
        yield


# ------------------------------------------------------------------ ONNX models for the serving tests

@pytest.fixture(scope="session")
def onnx_models_dir(tmp_path_factory):
    """A models folder with two small ONNX models ("test_a", "test_b") and their model cards, made by our exporter."""
    import torch

    from export.exporter import ExportRequest, export_model

    root = tmp_path_factory.mktemp("onnx_models")
    models = root / "models"
    models.mkdir()
    painting = root / "painting.png"
    synthetic_photo(96, 64, seed=7).save(painting)
    for style_id, seed, artist in (("test_a", 1, "Test Painter A"), ("test_b", 2, "Test Painter B")):
        checkpoint = root / f"{style_id}.pth"
        torch.save({"model": styled_test_transformer(seed).state_dict(),
                    "config": {"style_image": str(painting), "vgg_weights": "random", "style_size": 64},
                    "step": 0}, checkpoint)
        export_model(ExportRequest(checkpoint=str(checkpoint), out=str(models / f"{style_id}.onnx"),
                                   name=f"Test style {style_id[-1].upper()}", artist=artist, year="1900",
                                   style_license="public domain", parity_sizes=((32, 32), (21, 37))),
                     echo=lambda *args: None)
    return models
