"""How a prebuilt SageMaker PyTorch training container starts a job's entry point from its hyperparameters, step
for step as sagemaker-training 4.8.1 (the training toolkit those containers carry) does it. The package itself is
not installed for the tests: it builds a C extension and pulls in gevent, paramiko, scipy, protobuf and a pinned
inotify_simple, for the few lines mirrored here.

    environment.read_hyperparameters   each value json.loads'd, kept as it is when that fails
    environment.Environment.__init__   mapping.split_by_criteria: the sagemaker_* ones are the toolkit's own
    mapping.to_cmd_args / _decode      sorted keys, "--key" ("-k" for one letter), str(value) ("" for None,
                                       "k=v,k=v" for a dict)
    process.ProcessRunner._create_command  a Python program: [python, entry point, *args]
    process.check_error(capture_error=True) -> create -> run_async
                                       " ".join(cmd), then asyncio.create_subprocess_shell: /bin/sh -c LINE
                                       (sagemaker_pytorch_container's training.py passes capture_error=True)

Toolkit 5.x runs the same list without a shell; the jobs must not depend on which toolkit an image has.
"""

import json
import subprocess
import sys

SAGEMAKER_PREFIX = "sagemaker_"  # params.SAGEMAKER_PREFIX


def read_hyperparameters(hyperparameters: dict) -> dict:
    """environment.read_hyperparameters, on the request's HyperParameters (hyperparameters.json's content)."""
    decoded = {}
    for key, value in hyperparameters.items():
        try:
            value = json.loads(value)
        except (ValueError, TypeError):
            pass
        decoded[key] = value
    return decoded


def _decode(obj) -> str:
    if obj is None:
        return ""
    if isinstance(obj, bytes):
        return obj.decode("latin1")
    return str(obj)


def to_cmd_args(mapping: dict) -> list:
    """mapping.to_cmd_args."""
    keys = sorted(mapping)

    def arg_name(obj):
        string = _decode(obj)
        return (f"--{string}" if len(string) > 1 else f"-{string}") if string else ""

    def arg_value(value):
        if hasattr(value, "items"):
            return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
        return _decode(value)

    return [word for key in keys for word in (arg_name(key), arg_value(mapping[key]))]


def user_hyperparameters(hyperparameters: dict) -> dict:
    """What Environment keeps as the user's hyperparameters: all but the sagemaker_* ones."""
    return {key: value for key, value in read_hyperparameters(hyperparameters).items()
            if not key.startswith(SAGEMAKER_PREFIX)}


def shell_line(hyperparameters: dict, entry_point: str, python: str = sys.executable) -> str:
    """The line run_async hands to the shell for a Python program entry point."""
    command = [python, entry_point] + to_cmd_args(user_hyperparameters(hyperparameters))
    return " ".join(command)


def launch(hyperparameters: dict, entry_point: str, cwd) -> subprocess.CompletedProcess:
    """Run the entry point as the container does: the joined line through /bin/sh -c."""
    return subprocess.run(["/bin/sh", "-c", shell_line(hyperparameters, entry_point)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)
