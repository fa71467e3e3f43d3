"""Where a caller finds models when it is given no folder: one home for that default.

MODELS_DIR (the variable the Lambda and the local stack already read, see StyleRegistry.from_env) when it
is set, else the bundled models: the `models/` folder of the checkout this package lives in (the project
installs itself editable, so that is this repository's models/, wherever the command is run from).
"""

import os
from pathlib import Path

MODELS_ENV = "MODELS_DIR"
BUNDLED_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def default_models_dir() -> tuple[Path, str]:
    """(folder, where that folder came from, for messages)."""
    configured = os.environ.get(MODELS_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().absolute(), f"from {MODELS_ENV}"
    return BUNDLED_MODELS_DIR, "the bundled models"
