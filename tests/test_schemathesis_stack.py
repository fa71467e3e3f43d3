"""A third-party fuzzer against the live local stack: schemathesis, generating requests from openapi.yaml (valid
and invalid ones, and methods the contract does not list), for a bounded time. No server errors; statuses,
content types, headers and bodies as documented."""

import os
import subprocess
import sys
from pathlib import Path

from api_helpers import ROOT
from test_devserver_stack import stack  # noqa: F401 - the fixture: python -m devserver on the test models

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "unsupported_method"]
# Fuzzing repeats until this is spent (the suite must stay under 20 minutes).
MAX_SECONDS = int(os.environ.get("SCHEMATHESIS_SECONDS", 90))


def test_schemathesis_finds_nothing_against_the_local_stack(stack, tmp_path):  # noqa: F811
    command = [str(Path(sys.executable).parent / "schemathesis"), "run", str(ROOT / "openapi.yaml"),
               "--url", f"{stack}/api", "--checks", ",".join(CHECKS), "--max-time", str(MAX_SECONDS),
               "--max-examples", "40", "--suppress-health-check", "all", "--seed", "15", "--workers", "1",
               "--header", "Content-Type: application/json",
               "--report", "junit", "--report-dir", str(tmp_path)]
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"}
    run = subprocess.run(command, capture_output=True, text=True, timeout=MAX_SECONDS * 4, env=env, cwd=tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20_000:]
    assert "listStyles" in output or "/styles" in output  # it did test the routes
    # "mostly rejected generated data" stays for POST /stylize (random base64 is rarely an image: the contract
    # cannot say more than that `image` is base64) and GET /gallery (a random cursor is rarely one the API gave).
