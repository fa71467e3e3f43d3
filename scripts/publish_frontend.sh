#!/usr/bin/env bash
# Build the web app and publish it, with its config.json, to the deployed stack's site bucket behind
# CloudFront. Arguments go to scripts/publish_frontend.py (--stack, --region, --api-url, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory frontend-build
python=.venv/bin/python
[ -x "$python" ] || python=python3
exec "$python" scripts/publish_frontend.py "$@"
