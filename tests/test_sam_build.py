"""The real template through the real SAM CLI (validate, lint, build), and the runtime contract: the build
output (function + layers) run under the Lambda Runtime Interface Emulator with python3.12 and awslambdaric,
as Lambda would run it, invoked with the events/ files.

`make test` installs the tools: SAM CLI in .venv-sam, and .venv-lambda (python3.12, awslambdaric, boto3:
what the Lambda runtime provides). PYTHON312, SAM_CLI and LAMBDA_PYTHON override where they are.
"""

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from api_helpers import ROOT, assert_contract, image_bytes
from stylecore import StyleRegistry
from stylecore.modelfiles import STEADY_VARIANT, card_filename, model_filename
from templates import TEMPLATE

SAM = Path(os.environ.get("SAM_CLI", ROOT / ".venv-sam" / "bin" / "sam"))
LAMBDA_PYTHON = Path(os.environ.get("LAMBDA_PYTHON", ROOT / ".venv-lambda" / "bin" / "python"))
RIE = "aws-lambda-rie-x86_64"
LAMBDA_LIMIT_UNZIPPED = 250 * 1024 * 1024  # function and all its layers together
# The nested stacks' templates (stacks/, waf.yaml), as the main template names them.
NESTED_TEMPLATES = sorted(resource["Properties"]["Location"] for resource in TEMPLATE["Resources"].values()
                          if resource["Type"] == "AWS::Serverless::Application")


def python312() -> str:
    """A python3.12 that runs (a pyenv shim on PATH may not: it answers for the selected version only)."""
    candidates = [os.environ.get("PYTHON312"), *sorted(glob.glob(os.path.expanduser(
        "~/.pyenv/versions/3.12.*/bin/python3.12")), reverse=True), shutil.which("python3.12")]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 12))"],
                          capture_output=True).returncode == 0:
            return candidate
    raise AssertionError("sam build needs python3.12 on PATH (or `sam build --use-container`); set PYTHON312")


def sam(*args, cwd=ROOT, timeout=600) -> subprocess.CompletedProcess:
    assert SAM.exists(), f"{SAM} is missing: `make test` installs the SAM CLI into .venv-sam"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1",
           "PATH": f"{Path(python312()).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([str(SAM), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"sam {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sam") / "build"
    sam("build", "--build-dir", str(out), "--cache-dir", str(ROOT / ".cache" / "sam-build"), "--cached")
    return out


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def test_template_validates_and_lints():
    assert "is a valid SAM Template" in sam("validate").stdout
    assert "is a valid SAM Template" in sam("validate", "--lint").stdout


@pytest.mark.parametrize("nested", NESTED_TEMPLATES)
def test_each_nested_template_validates_and_lints(nested):
    assert "is a valid SAM Template" in sam("validate", "--lint", "--template", nested).stdout


# CloudFormation refuses a template whose resources depend on each other in a loop ("Circular dependency
# between resources"), and neither `sam validate` nor its lint says so. The graph is the one CloudFormation
# builds from the transformed template: Ref, Fn::GetAtt, the names in Fn::Sub, and DependsOn, whatever the
# conditions (both branches of an Fn::If count). A nested stack is one resource of its parent's graph.
TRANSLATE = """
import json, sys
from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse

class NoManagedPolicies:  # offline: the templates name managed policies by their ARNs
    def load(self):
        return {}

print(json.dumps({path: yaml_parse(SamTemplateValidator(yaml_parse(open(path).read()), NoManagedPolicies(),
                                                        region="us-east-1").get_translated_template_if_valid())
                  for path in sys.argv[1:]}))
"""


def translated(*paths: str) -> dict[str, dict]:
    """Each template as CloudFormation gets it: through the SAM translator, in the SAM CLI's environment."""
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([str(SAM.parent / "python"), "-c", TRANSLATE, *paths], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def names_used(node) -> set[str]:
    """The logical ids and parameters an expression names (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
    if isinstance(node, list):
        return set().union(*map(names_used, node))
    if not isinstance(node, dict):
        return set()
    found = set()
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(value[0] if isinstance(value, list) else value.split(".")[0])
        elif key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else value
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)} - set(variables)
            found |= names_used(variables)
        else:
            found |= names_used(value)
    return found


def dependency_cycles(template: dict) -> list[list[str]]:
    """The resources that depend on each other in a loop, each loop as its resources (Tarjan's algorithm)."""
    resources = template.get("Resources", {})
    graph = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn", [])
        named = names_used({key: value for key, value in resource.items() if key != "DependsOn"})
        graph[name] = sorted((named | set([depends] if isinstance(depends, str) else depends)) & set(resources))
    index, low, stack, cycles = {}, {}, [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_dependency_cycles_are_found():
    loop = {"Resources": {"Api": {"Properties": {"Cors": {"Fn::Sub": "https://${Site.DomainName}"}}},
                          "Site": {"Properties": {"Origin": {"Ref": "Api"}}},
                          "Alone": {"DependsOn": "Api", "Properties": {"X": {"Fn::GetAtt": ["Api", "Arn"]}}}}}
    assert dependency_cycles(loop) == [["Api", "Site"]]
    loop["Resources"]["Site"]["Properties"]["Origin"] = {"Ref": "AWS::Region"}
    assert dependency_cycles(loop) == []


def test_no_template_has_a_dependency_cycle():
    templates = translated("template.yaml", *NESTED_TEMPLATES)
    assert set(templates) == {"template.yaml", *NESTED_TEMPLATES}
    assert {name: dependency_cycles(template) for name, template in templates.items()} == \
        {name: [] for name in templates}


def test_build_has_every_part_within_lambdas_size_limit(build_dir):
    assert (build_dir / "InferenceFunction" / "app.py").is_file()
    assert (build_dir / "StyleCoreLayer" / "python" / "stylecore" / "__init__.py").is_file()
    assert (build_dir / "GalleryFunction" / "app.py").is_file()
    # the training stack's functions build into its own folder (stacks/training.yaml)
    assert sorted(p.name for p in (build_dir / "Training" / "JobsAuthorizerFunction").iterdir()) == ["app.py"]
    assert (build_dir / "CommonLayer" / "python" / "apicommon" / "http.py").is_file()
    runtime = build_dir / "RuntimeLayer" / "python"
    for package in ("numpy", "onnxruntime", "PIL"):
        assert (runtime / package).is_dir()
    assert glob.glob(str(runtime / "onnxruntime" / "capi" / "*cpython-312-x86_64-linux-gnu.so"))
    # What is served and nothing else: each network's card, the file the registry serves for it, and the one it
    # paints a video's frames with (its steady variant, where it has one).
    registry = StyleRegistry.from_dir(ROOT / "models")
    registry.preferred_variant = "halfres"  # the template's ModelsVariant default
    networks = {registry.network_of(style["id"]) for style in registry.list_styles()}
    served = {name for network in networks for name in (card_filename(network), *(
        model_filename(network, variant) for variant in (registry.served_variant(network),
                                                         registry.moving_variant(network))))}
    assert networks and sorted(p.name for p in (build_dir / "ModelsLayer" / "models").iterdir()) == sorted(served)
    assert model_filename("bundled", STEADY_VARIANT) in served, "the bundled network's steady file is shipped"
    total = sum(folder_size(build_dir / part) for part in
                ("InferenceFunction", "RuntimeLayer", "CommonLayer", "StyleCoreLayer", "ModelsLayer"))
    assert total < LAMBDA_LIMIT_UNZIPPED, f"the inference function unzips to {total / 2**20:.0f} MB"
    # The video stack's functions and its PyAV layer build into its own folder (stacks/video.yaml). Each video
    # function takes every layer (PyAV's FFmpeg, onnxruntime, the models): the largest function of the stack.
    video = build_dir / "Video"
    for function in ("VideoFunction", "VideoPlanFunction", "VideoChunkFunction", "VideoJoinFunction",
                     "VideoFailFunction"):
        assert (video / function / "steps.py").is_file() and (video / function / "videojobs").is_dir(), function
    assert glob.glob(str(video / "VideoLayer" / "python" / "av" / "_core*.so"))
    total = folder_size(video / "VideoChunkFunction") + sum(folder_size(part) for part in (
        video / "VideoLayer", build_dir / "RuntimeLayer", build_dir / "CommonLayer", build_dir / "StyleCoreLayer",
        build_dir / "ModelsLayer"))
    assert total < LAMBDA_LIMIT_UNZIPPED, f"the video chunk function unzips to {total / 2**20:.0f} MB"


def test_runtime_layer_builds_for_arm64(tmp_path):
    out = tmp_path / "arm"
    sam("build", "RuntimeLayer", "--build-dir", str(out), "--cache-dir", str(ROOT / ".cache" / "sam-build-arm64"),
        "--cached", "--parameter-overrides", "Architecture=arm64")
    extension = glob.glob(str(out / "RuntimeLayer" / "python" / "numpy" / "_core" / "_multiarray_umath*.so"))[0]
    header = Path(extension).read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183  # EM_AARCH64


# ------------------------------------------------------------------------------- the runtime contract
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatedFunction:
    """A function of the build output under the Runtime Interface Emulator: its code folder as the task root,
    its layers' python/ folders on PYTHONPATH (where /opt/python would be), the runtime's own python."""

    def __init__(self, build_dir: Path, function: str, layers: list[str], env: dict, log_path: Path):
        assert LAMBDA_PYTHON.exists(), f"{LAMBDA_PYTHON} is missing: `make test` makes it (python3.12, awslambdaric)"
        rie = _samcli_dir() / "local" / "rapid" / RIE
        task_root = build_dir / function
        self.port = free_port()
        environment = {
            "PATH": "/usr/bin:/bin", "HOME": str(log_path.parent), "LAMBDA_TASK_ROOT": str(task_root),
            "PYTHONPATH": os.pathsep.join([str(task_root)] + [str(build_dir / layer / "python") for layer in layers]),
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_LAMBDA_FUNCTION_TIMEOUT": "29",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008", "AWS_LAMBDA_FUNCTION_NAME": function, **env,
        }
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [str(rie), "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
             "--runtime-api-address", f"127.0.0.1:{free_port()}",
             str(LAMBDA_PYTHON), "-m", "awslambdaric", "app.handler"],
            cwd=task_root, env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the emulator did not start")

    def invoke(self, event: dict) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations",
                                         data=json.dumps(event).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def _samcli_dir() -> Path:
    """The samcli package inside the SAM CLI's environment (the emulator binary ships in it)."""
    return Path(glob.glob(str(SAM.parent.parent / "lib" / "python3*" / "site-packages" / "samcli"))[0])


def event(name: str) -> dict:
    loaded = json.loads((ROOT / "events" / name).read_text())
    if loaded.get("body"):
        loaded["body"] = loaded["body"].replace('"great_wave"', '"test_a"')
    return loaded


def check(response: dict, path: str, method: str, status: int) -> dict | None:
    body = json.loads(response["body"]) if response.get("body") else None
    assert response["statusCode"] == status, response
    assert_contract(path, method, response["statusCode"], response["headers"], body)
    return body


@pytest.fixture(scope="module")
def local_s3():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="gallery")
    s3.put_object(Bucket="gallery", Key="gallery/astronaut.jpg", Body=image_bytes(40, 30))
    yield endpoint
    server.stop()


def test_inference_function_runs_under_the_emulator(build_dir, onnx_models_dir, local_s3, tmp_path):
    function = EmulatedFunction(build_dir, "InferenceFunction", ["RuntimeLayer", "CommonLayer", "StyleCoreLayer"], {
        "MODELS_DIR": str(onnx_models_dir), "GALLERY_BUCKET": "gallery", "GALLERY_PREFIX": "gallery/",
        "AWS_ENDPOINT_URL_S3": local_s3}, tmp_path / "inference.log")
    try:
        styles = check(function.invoke(event("get_styles.json")), "/styles", "GET", 200)
        assert [style["id"] for style in styles["styles"]] == ["test_a", "test_b"]
        result = check(function.invoke(event("post_stylize.json")), "/stylize", "POST", 200)
        assert result["format"] == "jpeg" and result["width"] == 96
        check(function.invoke(event("post_stylize_gallery.json")), "/stylize", "POST", 200)
        check(function.invoke(event("rest_v1_post_stylize.json")), "/stylize", "POST", 200)
        check(function.invoke(event("options_stylize.json")), "/stylize", "OPTIONS", 204)
        bad = event("post_stylize.json")
        bad["body"] = json.dumps({"image": "%%%", "style": "test_a"})
        assert check(function.invoke(bad), "/stylize", "POST", 400)["error"]["code"] == "invalid_base64"
    finally:
        function.stop()
    log = (tmp_path / "inference.log").read_text()
    assert '"message":"init"' in log and "Traceback" not in log, log


def test_gallery_function_runs_under_the_emulator(build_dir, local_s3, tmp_path):
    function = EmulatedFunction(build_dir, "GalleryFunction", ["CommonLayer"], {
        "GALLERY_BUCKET": "gallery", "GALLERY_PREFIX": "gallery/", "AWS_ENDPOINT_URL_S3": local_s3},
        tmp_path / "gallery.log")
    try:
        listing = check(function.invoke(event("get_gallery.json")), "/gallery", "GET", 200)
        assert [item["key"] for item in listing["images"]] == ["gallery/astronaut.jpg"]
        image = check(function.invoke(event("post_gallery.json")), "/gallery", "POST", 200)
        assert image["size"] == len(image_bytes(40, 30))
    finally:
        function.stop()


def test_video_function_runs_under_the_emulator_with_pyav(build_dir, local_s3, tmp_path):
    """The video function's init imports PyAV from the video layer (its modules stripped by layers/video/Makefile)
    under the Lambda runtime's python3.12, with the other layers; GET /videos/limits answers."""
    video = build_dir / "Video"
    function = EmulatedFunction(video, "VideoFunction", [
        "VideoLayer", "../RuntimeLayer", "../CommonLayer", "../StyleCoreLayer"], {
        "MODELS_DIR": str(ROOT / "models"), "VIDEOS_BUCKET": "videos", "VIDEOS_ENGINE": "stepfunctions",
        "VIDEOS_AUTH": "jwt", "AWS_ENDPOINT_URL_S3": local_s3,
        "VIDEOS_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:fns-video"},
        tmp_path / "video.log")
    try:
        limits = check(function.invoke(event("get_video_limits.json")), "/videos/limits", "GET", 200)
        assert limits["max_bytes"] > 0 and "video/mp4" in limits["content_types"]
    finally:
        function.stop()
    log = (tmp_path / "video.log").read_text()
    assert "Traceback" not in log, log
    # the layer's FFmpeg encodes what the join step writes: H.264 and AAC in MP4
    script = ("import av, io, numpy; b = io.BytesIO(); c = av.open(b, 'w', format='mp4'); "
              "s = c.add_stream('libx264', rate=12); s.width, s.height, s.pix_fmt = 64, 48, 'yuv420p'; "
              "a = c.add_stream('aac', rate=48000); "
              "[c.mux(s.encode(av.VideoFrame.from_ndarray(numpy.zeros((48, 64, 3), numpy.uint8), format='rgb24'))) "
              "for _ in range(3)]; c.mux(s.encode()); c.close(); print(len(b.getvalue()))")
    layers = [video / "VideoLayer" / "python", build_dir / "RuntimeLayer" / "python"]
    result = subprocess.run([str(LAMBDA_PYTHON), "-c", script], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join(map(str, layers))})
    assert result.returncode == 0 and int(result.stdout) > 0, result.stderr


def test_the_training_routes_authorizer_runs_under_the_emulator(build_dir, tmp_path):
    """The Lambda runtime's bare python3.12 verifies a token against a JWKS it fetches over HTTP."""
    import http.server
    import threading

    from cryptography.hazmat.primitives.asymmetric import rsa
    from test_training_auth import CLIENT, USER, jwk, token

    key = {"pool": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    body = json.dumps({"keys": [jwk(key["pool"], "pool")]}).encode()

    class Jwks(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/pool/.well-known/jwks.json" else 404)
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{server.server_port}/pool"
    function = EmulatedFunction(build_dir / "Training", "JobsAuthorizerFunction", [], {
        "ORIGIN_SECRET": "s3cret", "USER_POOL_ISSUER": issuer, "USER_POOL_CLIENT_ID": CLIENT},
        tmp_path / "authorizer.log")
    try:
        def authorize(secret):
            headers = {"x-origin-verify": secret, "authorization": f"Bearer {token(key, iss=issuer)}"}
            return function.invoke({"version": "2.0", "type": "REQUEST", "routeKey": "GET /jobs", "headers": headers})

        assert authorize("s3cret") == {"isAuthorized": True, "context": {"sub": USER}}
        assert authorize("wrong") == {"isAuthorized": False}
    finally:
        function.stop()
        server.shutdown()
