"""openapi.yaml is a sound contract, and the code raises no error the contract does not document."""

import re

import jsonschema
import stylecore
from api_helpers import OPENAPI, ROOT

ERROR_CODES = set(OPENAPI["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])


def all_refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from all_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_refs(value)


def test_every_ref_resolves_and_every_schema_is_valid_json_schema():
    for ref in all_refs(OPENAPI):
        target = OPENAPI
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
    for schema in OPENAPI["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_operation_documents_its_errors_with_the_error_body():
    for path, operations in OPENAPI["paths"].items():
        for method, operation in operations.items():
            if method == "options":
                assert list(operation["responses"]) == ["204"]
                continue
            assert "405" in operation["responses"], f"{method} {path}"
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and "content" in response:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path} {status}"


def test_the_code_raises_only_documented_error_codes():
    sources = [ROOT / "lambda_inference" / "app.py", ROOT / "lambda_gallery" / "app.py",
               ROOT / "lambda_jobs" / "app.py", ROOT / "devserver" / "gateway.py",
               *(ROOT / "layers" / "common" / "python" / "apicommon").glob("*.py"),
               *(ROOT / "lambda_jobs" / "stylejobs").glob("*.py")]
    raised = set()
    for source in sources:
        text = source.read_text()
        raised |= set(re.findall(r"(?:ApiError|JobError|_error|error_body)\(\s*(?:\d{3},\s*)?\"([a-z_]+)\"", text))
    raised |= {cls.code for cls in (stylecore.InvalidImage, stylecore.ImageTooLarge, stylecore.UnknownStyle,
                                    stylecore.InvalidParameter)}
    assert {"invalid_json", "invalid_key", "payload_too_large", "internal_error", "too_many_jobs"} <= raised  # found
    assert raised <= ERROR_CODES, f"undocumented error codes: {raised - ERROR_CODES}"


def test_the_request_schema_matches_what_the_handler_takes():
    request = OPENAPI["components"]["schemas"]["StylizeRequest"]
    validator = jsonschema.Draft202012Validator(request)
    assert validator.is_valid({"image": "abc", "style": "x"})
    assert validator.is_valid({"gallery_key": "gallery/a.jpg", "style": "x", "max_size": 2048})
    assert not validator.is_valid({"image": "abc", "gallery_key": "gallery/a.jpg", "style": "x"})
    assert not validator.is_valid({"image": "abc", "style": "x", "max_size": 2049})
    # That the handler takes exactly the documented max_size range: test_handler_inference.py checks it.
